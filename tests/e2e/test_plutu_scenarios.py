"""Plutu sandbox scenarios over real HTTP: each produces the documented typed error or
status through ``Hub``, and nothing that was not approved is reported as paid."""

from __future__ import annotations

import json
from typing import Any

import pytest

from payhub_core import (
    GatewayError,
    GatewayUnavailable,
    OtpChallenge,
    OtpCode,
    PaymentStatus,
    SignatureError,
)
from payhub_core.demo import DemoEnvironment


def test_declined_card_payment_verifies_as_failed(shop: Any) -> None:
    cards = shop("plutu.localbankcards")
    invoice = cards.invoice("DECLINE-")
    cards.approve(invoice)
    result = cards.hub.verify(cards.arrivals("return", invoice)[0].callback, gateway=cards.alias)
    assert result.status is PaymentStatus.FAILED


def test_insufficient_balance_is_a_gateway_error_with_plutus_code(shop: Any) -> None:
    sadad = shop("plutu.sadad")
    invoice = sadad.invoice("NOFUNDS-")
    checkout = sadad.hub.initiate(invoice, gateway=sadad.alias)
    assert isinstance(checkout.action, OtpChallenge)
    with pytest.raises(GatewayError) as caught:
        sadad.hub.verify(
            OtpCode(reference=checkout.action.reference, code=sadad.case.otp_code, invoice=invoice),
            gateway=sadad.alias,
        )
    assert caught.value.code == "INSUFFICIENT_BALANCE"


def test_gateway_500_on_confirm_is_unavailable_with_unknown_outcome(shop: Any) -> None:
    cards = shop("plutu.localbankcards")
    with pytest.raises(GatewayUnavailable) as caught:
        cards.hub.initiate(cards.invoice("ERROR500-"), gateway=cards.alias)
    assert caught.value.http_status == 500
    assert caught.value.outcome_unknown


def test_rate_limit_is_unavailable_and_known_not_done(shop: Any) -> None:
    cards = shop("plutu.mpgs", max_retries=0)
    with pytest.raises(GatewayUnavailable) as caught:
        cards.hub.initiate(cards.invoice("RATELIMIT-"), gateway=cards.alias)
    assert caught.value.http_status == 429
    assert not caught.value.outcome_unknown


def test_answer_slower_than_the_timeout_is_unavailable_with_unknown_outcome(shop: Any) -> None:
    # A timeout well above a quick answer on a loaded machine, well below the 5 s one.
    cards = shop("plutu.localbankcards", timeout=1.5)
    with pytest.raises(GatewayUnavailable) as caught:
        cards.hub.initiate(cards.invoice("SLOW5-"), gateway=cards.alias)
    assert caught.value.outcome_unknown
    assert "unknown" in str(caught.value)


def test_malformed_answer_is_a_clean_payhub_error(shop: Any) -> None:
    cards = shop("plutu.localbankcards")
    with pytest.raises((GatewayError, GatewayUnavailable)):
        cards.hub.initiate(cards.invoice("MALFORMED-"), gateway=cards.alias)


def test_callback_delivered_twice_verifies_to_the_same_transaction(shop: Any) -> None:
    tlync = shop("plutu.tlync")
    invoice = tlync.invoice("TWICE-")
    tlync.approve(invoice)
    deliveries = tlync.arrivals("callback", invoice, count=2)
    assert len(deliveries) == 2
    results = [
        tlync.hub.verify(arrival.callback, gateway=tlync.alias, expected=invoice)
        for arrival in deliveries
    ]
    assert {result.transaction_id for result in results} == {results[0].transaction_id}
    assert all(result.status is PaymentStatus.PAID for result in results)


def test_return_without_callback_is_never_paid(shop: Any) -> None:
    tlync = shop("plutu.tlync")
    invoice = tlync.invoice("NOCALLBACK-")
    tlync.approve(invoice)
    result = tlync.hub.verify(tlync.arrivals("return", invoice)[0].callback, gateway=tlync.alias)
    assert result.status is PaymentStatus.PENDING


def test_wrong_signature_is_refused(shop: Any) -> None:
    cards = shop("plutu.mpgs")
    invoice = cards.invoice("BADSIG-")
    cards.approve(invoice)
    with pytest.raises(SignatureError):
        cards.hub.verify(cards.arrivals("return", invoice)[0].callback, gateway=cards.alias)


def test_sandbox_documents_credentials_codes_and_scenarios(sandbox: DemoEnvironment) -> None:
    import httpx

    info = httpx.get(f"{sandbox.url}/plutu/_sandbox").json()
    assert {"api_key", "access_token", "secret_key", "otp_codes", "scenarios"} <= set(info)
    names = {scenario["name"] for scenario in info["scenarios"]}
    assert {"decline", "insufficient_balance", "gateway_error", "slow", "malformed"} <= names
    assert json.dumps(info)  # plain JSON
