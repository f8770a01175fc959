"""Whole payment lives, initiate -> verify -> capture/cancel -> refund -> status, through
``Hub`` and ``AsyncHub`` alike. Each life is written once as a generator of hub calls and
run by both drivers."""

from __future__ import annotations

import copy
from collections.abc import Callable, Generator
from typing import Any

import pytest
from plural_support import (
    FakePlural,
    card,
    config,
    customer,
    invoice,
    order_event,
    return_callback,
    webhook_callback,
)

from payhub_core import AmountMismatch, Money, PaymentStatus, Redirect, Upi

Call = tuple[str, tuple[Any, ...], dict[str, Any]]
Life = Generator[Call, Any, None]


def hosted_pre_auth_capture_refund(fake: FakePlural) -> Life:
    bill = invoice("INV-LIFE-1", "25.00", capture="manual", customer=customer())
    checkout = yield ("initiate", (bill,), {})
    assert isinstance(checkout.action, Redirect)
    fake.complete(checkout.reference)  # the customer approves on Plural's page
    back = return_callback({"order_id": checkout.reference, "status": "AUTHORIZED"})
    verified = yield ("verify", (back,), {"expected": bill})
    assert verified.status is PaymentStatus.AUTHORIZED
    assert verified.amount == Money("25.00", "INR")
    captured = yield ("capture", (verified.reference,), {"amount": Money("20.00", "INR")})
    assert captured.status is PaymentStatus.PAID
    part = yield ("refund", (verified.reference,), {"amount": Money("5.00", "INR")})
    assert part.status is PaymentStatus.PARTIALLY_REFUNDED
    assert part.amount == Money("5.00", "INR")
    rest = yield ("refund", (verified.reference,), {})
    assert rest.status is PaymentStatus.REFUNDED
    assert rest.amount == Money("15.00", "INR")  # what was captured, less the first refund
    final = yield ("status", (verified.reference,), {})
    assert final.status is PaymentStatus.REFUNDED
    assert final.invoice_number == "INV-LIFE-1"


def hosted_pre_auth_cancel(fake: FakePlural) -> Life:
    bill = invoice("INV-LIFE-2", "99.00", capture="manual")
    checkout = yield ("initiate", (bill,), {})
    fake.complete(checkout.reference)
    event = order_event("ORDER_AUTHORIZED", copy.deepcopy(fake.orders[checkout.reference]))
    verified = yield ("verify", (webhook_callback(event, msg_id="msg_auth"),), {"expected": bill})
    assert verified.status is PaymentStatus.AUTHORIZED
    assert verified.event_id == "msg_auth"
    canceled = yield ("cancel", (checkout.reference,), {})
    assert canceled.status is PaymentStatus.CANCELED
    final = yield ("status", (checkout.reference,), {})
    assert final.status is PaymentStatus.CANCELED


def seamless_card_paid_refunded(fake: FakePlural) -> Life:
    bill = invoice("INV-LIFE-3", "1100.00", payment_method=card())
    checkout = yield ("initiate", (bill,), {})
    assert isinstance(checkout.action, Redirect)
    assert "challenge" in checkout.action.url
    fake.complete(checkout.reference)  # 3-D Secure passed
    event = order_event("ORDER_PROCESSED", copy.deepcopy(fake.orders[checkout.reference]))
    verified = yield ("verify", (webhook_callback(event, msg_id="msg_paid"),), {"expected": bill})
    assert verified.is_paid
    assert (verified.event_id, verified.event_type) == ("msg_paid", "ORDER_PROCESSED")
    refunded = yield ("refund", (checkout.reference,), {})
    assert refunded.status is PaymentStatus.REFUNDED
    refund_order = copy.deepcopy(fake.orders[refunded.transaction_id])
    notice = webhook_callback(order_event("REFUND_PROCESSED", refund_order), msg_id="msg_rf")
    refund_event = yield ("verify", (notice,), {"expected": bill})
    assert refund_event.status is PaymentStatus.REFUNDED
    final = yield ("status", (checkout.reference,), {})
    assert final.status is PaymentStatus.REFUNDED


def seamless_upi_collect_with_mismatch(fake: FakePlural) -> Life:
    bill = invoice("INV-LIFE-4", "10.00", payment_method=Upi(mode="collect", vpa="asha@okbank"))
    checkout = yield ("initiate", (bill,), {})
    assert checkout.action is None  # approval happens in the payer's UPI app
    fake.complete(checkout.reference)
    back = return_callback({"order_id": checkout.reference, "status": "PROCESSED"}, method="GET")
    verified = yield ("verify", (back,), {"expected": bill})
    assert verified.is_paid
    other = invoice("INV-LIFE-4", "10.01")
    mismatch = yield ("verify", (back,), {"expected": other})
    assert isinstance(mismatch, AmountMismatch)
    assert mismatch.field == "amount"
    part = yield ("refund", (checkout.reference,), {"amount": Money("4.00", "INR")})
    assert part.status is PaymentStatus.PARTIALLY_REFUNDED
    final = yield ("status", (checkout.reference,), {})
    assert final.status is PaymentStatus.PARTIALLY_REFUNDED
    assert final.payment_method == "UPI"


LIVES: dict[str, tuple[str, Callable[[FakePlural], Life]]] = {
    "hosted-capture-refund": ("plural.checkout", hosted_pre_auth_capture_refund),
    "hosted-cancel": ("plural.checkout", hosted_pre_auth_cancel),
    "seamless-card": ("plural.seamless", seamless_card_paid_refunded),
    "seamless-upi": ("plural.seamless", seamless_upi_collect_with_mismatch),
}


def drive(hub: Any, life: Life) -> int:
    value: Any = None
    steps = 0
    while True:
        try:
            operation, args, kwargs = life.send(value)
        except StopIteration:
            return steps
        steps += 1
        try:
            value = getattr(hub, operation)(*args, **kwargs)
        except AmountMismatch as mismatch:
            value = mismatch


async def drive_async(hub: Any, life: Life) -> int:
    value: Any = None
    steps = 0
    while True:
        try:
            operation, args, kwargs = life.send(value)
        except StopIteration:
            return steps
        steps += 1
        try:
            value = await getattr(hub, operation)(*args, **kwargs)
        except AmountMismatch as mismatch:
            value = mismatch


def shape(transport: Any) -> list[tuple[str, str]]:
    return [(request.method, request.path) for request in transport.requests]


@pytest.mark.parametrize("name", sorted(LIVES))
def test_life_through_hub(payhub_hub_factory: Any, name: str) -> None:
    adapter, life = LIVES[name]
    fake = FakePlural(list_refunds=True)
    hub, transport = payhub_hub_factory(config(adapter), fake)
    assert drive(hub, life(fake)) >= 4
    assert fake.token_requests == 1
    assert transport.requests


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(LIVES))
async def test_life_through_async_hub(
    payhub_hub_factory: Any, payhub_async_hub_factory: Any, name: str
) -> None:
    adapter, life = LIVES[name]
    fake = FakePlural(list_refunds=True)
    hub, transport = payhub_async_hub_factory(config(adapter), fake)
    async with hub:
        assert await drive_async(hub, life(fake)) >= 4
    assert fake.token_requests == 1
    # One adapter, both worlds: the async life asks Plural exactly what the sync one asks.
    sync_fake = FakePlural(list_refunds=True)
    sync_hub, sync_transport = payhub_hub_factory(config(adapter), sync_fake)
    drive(sync_hub, life(sync_fake))
    assert shape(transport) == shape(sync_transport)
