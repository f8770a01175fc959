"""Canaries: the client secret, the secret key, access tokens, the card number and the CVV
never show in logs (DEBUG included), reprs or error messages, even when the gateway echoes
them back."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from canaries import leaks
from plural_support import (
    CARD_NUMBER,
    CLIENT_SECRET,
    CVV,
    SECRET_KEY,
    TOKEN_PREFIX,
    FakePlural,
    adapter_of,
    card,
    config,
    error,
    invoice,
    order_event,
    return_callback,
    webhook_callback,
)

from payhub_core import ConfigurationError, GatewayError, Hub, InvalidRequest, PayhubError
from payhub_plural import PluralSettings
from payhub_plural._orders import payment_body

CANARIES = (CLIENT_SECRET, SECRET_KEY, TOKEN_PREFIX, CARD_NUMBER, CVV)


def assert_clean(text: str) -> None:
    for canary in CANARIES:
        assert not leaks(canary, text), canary
    assert '"cvv"' not in text
    assert "card_number" not in text


def echo_credentials(request: httpx.Request) -> httpx.Response:
    """A gateway that repeats the credentials it was given, and a card number, in its
    error message."""
    token = request.headers.get("authorization", "none").removeprefix("Bearer ")
    return error(
        422,
        "CARD_DECLINED",
        f"token {token} secret {CLIENT_SECRET} key {SECRET_KEY} card {CARD_NUMBER}",
    )


def echo_card(request: httpx.Request) -> httpx.Response:
    """Create Payment answered with the card number and CVV in the message."""
    return error(
        422, "CARD_DECLINED", f"card {CARD_NUMBER} cvv {CVV}", reason=f"{CARD_NUMBER}/{CVV}"
    )


def error_texts(problem: PayhubError) -> list[str]:
    texts = [str(problem), repr(problem), problem.message, *map(str, problem.args)]
    if isinstance(problem, GatewayError):
        texts.append(problem.gateway_message or "")
    return texts


def test_nothing_secret_in_logs_reprs_or_errors(
    payhub_hub_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakePlural()
    hub, transport = payhub_hub_factory(config("plural.seamless"), fake)
    bill = invoice("INV-SECRET", "50.00", capture="manual", payment_method=card())

    checkout = hub.initiate(bill)
    fake.complete(checkout.reference)
    hub.verify(return_callback({"order_id": checkout.reference, "status": "AUTHORIZED"}))
    fake.revoke_tokens()  # a 401 and a refresh, logged
    hub.capture(checkout.reference)
    hub.refund(checkout.reference)
    hub.verify(webhook_callback(order_event("ORDER_PROCESSED", fake.orders[checkout.reference])))

    fake.script("POST", "/payments", echo_card)
    with pytest.raises(GatewayError) as caught:
        hub.initiate(invoice("INV-SECRET-2", "50.00", payment_method=card()))
    fake.script("GET", "/orders/", echo_credentials)
    with pytest.raises(GatewayError) as caught_status:
        hub.status(checkout.reference)
    fake.script("POST", "/token", echo_credentials)
    fake.revoke_tokens()
    adapter_of(hub)._tokens.invalidate(f"{TOKEN_PREFIX}2")
    with pytest.raises(GatewayError) as caught_token:
        hub.status(checkout.reference)

    # The canaries really were on the wire (so their absence below means something).
    wire = "".join(
        r.content.decode() + r.headers.get("authorization", "") for r in transport.requests
    )
    assert CARD_NUMBER in wire
    assert CLIENT_SECRET in wire
    assert TOKEN_PREFIX in wire

    assert caplog.records
    for record in caplog.records:
        assert_clean(record.getMessage())
        assert_clean(repr(record.__dict__))
    for problem in (caught.value, caught_status.value, caught_token.value):
        assert problem.code == "CARD_DECLINED"
        for text in error_texts(problem):
            assert_clean(text)
        assert "**********" in problem.message
    assert "************1881" in caught_status.value.message  # masked the PCI way

    adapter = adapter_of(hub)
    for text in (
        repr(adapter),
        repr(adapter.settings),
        str(adapter.settings),
        repr(adapter._tokens),
        repr(bill),
        str(bill),
        repr(bill.payment_method),
        repr(payment_body(bill)),
        repr(checkout),
    ):
        assert_clean(text)


def test_settings_errors_do_not_quote_secrets() -> None:
    bad_key = "zz-CANARY-not-hex"
    with pytest.raises(ConfigurationError) as caught:
        Hub.from_config(config(secret_key=bad_key))
    assert bad_key not in str(caught.value)
    assert "secret_key" in str(caught.value)

    with pytest.raises(ConfigurationError) as caught:
        Hub.from_config(config(webhook_secret="CANARY%%%", webhook_secret_is_base64=True))
    assert "CANARY" not in str(caught.value)
    assert "Base64" in str(caught.value)


def test_card_problems_do_not_quote_the_card(payhub_hub_factory: Any) -> None:
    hub, _ = payhub_hub_factory(config(), FakePlural())
    with pytest.raises(InvalidRequest) as caught:
        hub.initiate(invoice(payment_method=card()))
    for text in error_texts(caught.value):
        assert_clean(text)


def test_settings_repr() -> None:
    settings = PluralSettings(
        environment="uat",
        client_id="id",
        client_secret=CLIENT_SECRET,
        secret_key=SECRET_KEY,
        webhook_secret="whsec-CANARY",
    )
    for text in (repr(settings), str(settings), str(settings.model_dump())):
        assert_clean(text)
        assert "whsec-CANARY" not in text
