"""``ScriptedBrowser.decide``, the docs' way of playing the customer in the sandbox: it
presses a button and returns the browser's way back to the merchant as a ``Callback``,
without sending it (the docs' shop, ``https://shop.example``, does not exist)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest

from payhub_core import Callback, Hub, Invoice, Money, PaymentStatus
from payhub_core.demo import ScriptedBrowser
from payhub_core.sandbox import SandboxServer, load_emulators

# Nothing listens on port 9 (discard): a browser that called the merchant would fail.
MERCHANT = "http://127.0.0.1:9/shop"


@pytest.fixture(scope="module")
def hub() -> Iterator[Hub]:
    with SandboxServer(load_emulators()) as server:
        config = {
            "gateways": {
                "cards": {
                    "adapter": "plutu.localbankcards",
                    "environment": "sandbox",
                    "base_url": f"{server.url}/plutu",
                    "api_key": "plutu-sandbox-api-key",
                    "access_token": "plutu-sandbox-access-token",
                    "secret_key": "sk_e45a1af1931c6ef84434613f76b53455e1d46433",
                },
                "india": {
                    "adapter": "plural.checkout",
                    "environment": "sandbox",
                    "base_url": f"{server.url}/plural",
                    "client_id": "5a4d1b2c-0b5d-4f5e-9c1e-a17ce30e5a4d",
                    "client_secret": "sbx_plural_client_secret_7f3a9c2e",
                    "secret_key": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                },
            }
        }
        with Hub.from_config(config) as built:
            yield built


def _decide(hub: Hub, gateway: str, invoice: Invoice, button: str) -> Callback:
    checkout = hub.initiate(invoice, gateway=gateway)
    assert checkout.action is not None
    assert hasattr(checkout.action, "url")
    with ScriptedBrowser(MERCHANT) as customer:
        return customer.decide(checkout.action.url, button)


def test_a_redirect_return_is_the_get_the_browser_would_send(hub: Hub) -> None:
    invoice = Invoice(number="DOC-1", amount=Money("5", "LYD"), return_url=f"{MERCHANT}/r?o=1")
    returned = _decide(hub, "cards", invoice, "approve")
    assert returned.method == "GET"
    assert returned.body == b""
    query = parse_qs(returned.query)
    assert query["o"] == ["1"]
    assert query["approved"] == ["1"]
    assert "hashed" in query
    assert hub.verify(returned, gateway="cards", expected=invoice).status is PaymentStatus.PAID


def test_a_declined_payment_comes_back_declined(hub: Hub) -> None:
    invoice = Invoice(number="DOC-2", amount=Money("5", "LYD"), return_url=f"{MERCHANT}/r")
    returned = _decide(hub, "cards", invoice, "decline")
    assert "approved" not in parse_qs(returned.query)
    assert hub.verify(returned, gateway="cards", expected=invoice).status is PaymentStatus.FAILED


def test_a_form_post_return_is_the_form_the_browser_would_post(hub: Hub) -> None:
    invoice = Invoice(number="DOC-3", amount=Money("100", "INR"), return_url=f"{MERCHANT}/r")
    returned = _decide(hub, "india", invoice, "approve")
    assert returned.method == "POST"
    assert returned.headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(returned.body.decode())
    assert form["status"] == ["PROCESSED"]
    assert "signature" in form
    assert hub.verify(returned, gateway="india", expected=invoice).status is PaymentStatus.PAID


def test_a_missing_button_is_a_browser_error(hub: Hub) -> None:
    from payhub_core.demo import BrowserError

    invoice = Invoice(number="DOC-4", amount=Money("5", "LYD"), return_url=f"{MERCHANT}/r")
    checkout = hub.initiate(invoice, gateway="cards")
    assert checkout.action is not None
    assert hasattr(checkout.action, "url")
    with ScriptedBrowser(MERCHANT) as customer, pytest.raises(BrowserError, match="no 'pay'"):
        customer.decide(checkout.action.url, "pay")
