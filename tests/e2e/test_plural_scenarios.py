"""Plural sandbox scenarios over real HTTP through ``Hub``: each produces the documented
typed error or status, repeated and reordered webhooks stay harmless, and nothing that was
not approved is reported as paid."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from payhub_core import GatewayError, GatewayUnavailable, PaymentStatus
from payhub_core.demo import DemoEnvironment


@pytest.mark.parametrize("prefix", ["DECLINE-", "NOFUNDS-"])
def test_issuer_decline_verifies_as_failed(shop: Any, prefix: str) -> None:
    plural = shop("plural.checkout", evidence="return")
    invoice = plural.invoice(prefix)
    plural.approve(invoice)
    result = plural.hub.verify(plural.arrivals("return", invoice)[0].callback, gateway=plural.alias)
    assert result.status is PaymentStatus.FAILED


def test_gateway_500_on_create_order_is_unavailable_with_unknown_outcome(shop: Any) -> None:
    plural = shop("plural.checkout")
    with pytest.raises(GatewayUnavailable) as caught:
        plural.hub.initiate(plural.invoice("ERROR500-"), gateway=plural.alias)
    assert caught.value.http_status == 500
    assert caught.value.outcome_unknown


def test_rate_limit_is_unavailable_and_known_not_done(shop: Any) -> None:
    plural = shop("plural.checkout", max_retries=0)
    with pytest.raises(GatewayUnavailable) as caught:
        plural.hub.initiate(plural.invoice("RATELIMIT-"), gateway=plural.alias)
    assert caught.value.http_status == 429
    assert not caught.value.outcome_unknown


def test_slow_create_order_is_unavailable_with_unknown_outcome(
    shop: Any, sandbox: DemoEnvironment
) -> None:
    # A timeout well above a quick answer on a loaded machine (the token is fetched with
    # it too), well below the slow one.
    httpx.put(f"{sandbox.url}/plural/_sandbox/config", json={"slow_seconds": 5}).raise_for_status()
    try:
        plural = shop("plural.seamless", timeout=1.5)
        with pytest.raises(GatewayUnavailable) as caught:
            plural.hub.initiate(plural.invoice("SLOW-"), gateway=plural.alias)
        assert caught.value.outcome_unknown
    finally:
        httpx.put(f"{sandbox.url}/plural/_sandbox/config", json={"slow_seconds": 35})


def test_malformed_answer_is_a_clean_payhub_error(shop: Any) -> None:
    plural = shop("plural.checkout")
    with pytest.raises((GatewayError, GatewayUnavailable)):
        plural.hub.initiate(plural.invoice("MALFORMED-"), gateway=plural.alias)


def test_expired_token_is_refreshed_and_the_call_repeated(shop: Any) -> None:
    plural = shop("plural.checkout")
    checkout = plural.hub.initiate(plural.invoice("EXPIRETOKEN-"), gateway=plural.alias)
    assert checkout.reference


def test_webhook_delivered_twice_carries_one_event_id(shop: Any) -> None:
    plural = shop("plural.checkout", evidence="webhook")
    invoice = plural.invoice("DUPWEBHOOK-")
    plural.approve(invoice)
    number = invoice.number.encode()
    plural.sandbox.receiver.wait_for(
        lambda _: (
            sum(
                a.kind == "webhook" and number in a.callback.body
                for a in plural.sandbox.receiver.arrivals
            )
            >= 2
        ),
        timeout=10,
    )
    deliveries = [
        a
        for a in plural.sandbox.receiver.arrivals
        if a.kind == "webhook" and number in a.callback.body
    ]
    assert len(deliveries) == 2
    results = [
        plural.hub.verify(a.callback, gateway=plural.alias, expected=invoice) for a in deliveries
    ]
    assert results[0].event_id
    assert results[0].event_id == results[1].event_id
    assert {result.status for result in results} == {PaymentStatus.PAID}


def test_webhooks_out_of_order_verify_and_status_is_the_authority(shop: Any) -> None:
    plural = shop("plural.checkout", evidence="return")  # manual capture
    invoice = plural.invoice("REORDER-")
    plural.approve(invoice)
    returned = plural.hub.verify(
        plural.arrivals("return", invoice)[0].callback, gateway=plural.alias, expected=invoice
    )
    assert returned.status is PaymentStatus.AUTHORIZED
    plural.hub.capture(returned.reference, gateway=plural.alias)

    number = invoice.number.encode()

    def events() -> list[str]:
        found = []
        for arrival in plural.sandbox.receiver.arrivals:
            if arrival.kind == "webhook" and number in arrival.callback.body:
                found.append(json.loads(arrival.callback.body)["event_type"])
        return found

    plural.sandbox.receiver.wait_for(lambda _: "ORDER_AUTHORIZED" in events(), timeout=10)
    assert events().index("ORDER_PROCESSED") < events().index("ORDER_AUTHORIZED")
    late = next(
        a
        for a in plural.sandbox.receiver.arrivals
        if a.kind == "webhook"
        and b"ORDER_AUTHORIZED" in a.callback.body
        and number in a.callback.body
    )
    assert plural.hub.verify(late.callback, gateway=plural.alias).status is PaymentStatus.AUTHORIZED
    assert plural.hub.status(returned.reference, gateway=plural.alias).status is PaymentStatus.PAID


def test_sandbox_documents_credentials_and_scenarios(sandbox: DemoEnvironment) -> None:
    info = httpx.get(f"{sandbox.url}/plural/_sandbox").json()
    assert {"client_id", "client_secret", "secret_key", "scenarios"} <= set(info)
    assert len(info["scenarios"]) >= 8
