"""Get Order by merchant reference: ``payhub_status`` with ``merchant_reference`` finds
the order an initiate whose answer was lost created (the ledger's ``reconcile`` asks
this way), and says ``NOT_FOUND`` when the create never took effect."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from plural_support import CLIENT_ID, CLIENT_SECRET, SECRET_KEY, FakePlural

from payhub_core import GatewayError, PaymentStatus
from payhub_core.flows import Acquire, Release
from payhub_plural import HostedCheckoutAdapter, PluralSettings

SETTINGS = PluralSettings(
    environment="uat", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, secret_key=SECRET_KEY
)


def drive(flow: Any, fake: FakePlural, sent: list[httpx.Request]) -> Any:
    """Answer the flow's requests from ``fake`` (one caller: locks are no-ops)."""
    value: Any = None
    try:
        while True:
            step = flow.send(value)
            if isinstance(step, (Acquire, Release)):
                value = None
                continue
            sent.append(step)
            value = fake(step)
    except StopIteration as stop:
        return stop.value


def test_status_by_merchant_reference_finds_the_order_and_its_id() -> None:
    fake = FakePlural()
    order_id = fake.add_order(reference="INV-LOST-1", status="CREATED")
    fake.add_order(reference="INV-OTHER", status="PROCESSED")
    sent: list[httpx.Request] = []
    result = drive(HostedCheckoutAdapter(SETTINGS).payhub_status("", "INV-LOST-1"), fake, sent)
    assert result.reference == order_id
    assert result.invoice_number == "INV-LOST-1"
    assert result.status is PaymentStatus.PENDING
    (lookup,) = [r for r in sent if "/token" not in r.url.path]
    assert (lookup.method, lookup.url.path) == (
        "GET",
        "/api/pay/v1/orders/reference/INV-LOST-1",
    )


def test_status_by_merchant_reference_of_an_order_never_created_is_not_found() -> None:
    fake = FakePlural()
    sent: list[httpx.Request] = []
    with pytest.raises(GatewayError) as caught:
        drive(HostedCheckoutAdapter(SETTINGS).payhub_status("", "INV-NEVER"), fake, sent)
    assert caught.value.code == "NOT_FOUND"
    assert caught.value.http_status == 404
    assert all(r.method == "GET" or "/token" in r.url.path for r in sent)  # nothing created


def test_status_by_merchant_reference_is_refused_when_plural_answers_another_order() -> None:
    fake = FakePlural()
    fake.add_order(reference="INV-SOMEONE-ELSE", status="CREATED")
    fake.script(
        "GET",
        "/orders/reference/",
        lambda request: fake._data(next(iter(fake.orders.values()))),
    )
    with pytest.raises(GatewayError, match="another order"):
        drive(HostedCheckoutAdapter(SETTINGS).payhub_status("", "INV-MINE"), fake, [])


def test_status_with_a_gateway_reference_still_asks_by_order_id() -> None:
    fake = FakePlural()
    order_id = fake.add_order(reference="INV-KNOWN", status="PROCESSED")
    sent: list[httpx.Request] = []
    result = drive(HostedCheckoutAdapter(SETTINGS).payhub_status(order_id, None), fake, sent)
    assert result.status is PaymentStatus.PAID
    assert sent[-1].url.path == f"/api/pay/v1/orders/{order_id}"
