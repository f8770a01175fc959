"""Webhooks: Standard Webhooks properties (tolerance, tampering, several signatures) and
what each Plural event becomes."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from plural_support import (
    CLIENT_SECRET,
    FakePlural,
    config,
    invoice,
    order_event,
    webhook_callback,
    webhook_signature,
)

from payhub_core import (
    AmountMismatch,
    Callback,
    MalformedCallback,
    Money,
    PaymentStatus,
    SignatureError,
    UnsupportedOperation,
)
from payhub_plural import ORDER_EVENTS, HostedCheckoutAdapter, PluralSettings, UnsupportedEvent
from payhub_plural._webhooks import read_event

KEY = CLIENT_SECRET.encode()
NOW = 1_728_543_028
ORDER = {
    "order_id": "v1-4405071524-aa-qlAtAf",
    "merchant_order_reference": "INV-1001",
    "type": "CHARGE",
    "status": "PROCESSED",
    "order_amount": {"value": 1100, "currency": "INR"},
    "payments": [{"id": "v1-4405071524-aa-qlAtAf-cc-G", "payment_method": "UPI"}],
}
BODY = json.dumps(order_event("ORDER_PROCESSED", ORDER)).encode()

msg_ids = st.from_regex(r"msg_[A-Za-z0-9]{1,27}", fullmatch=True)
signature_values = st.binary(min_size=32, max_size=32).map(
    lambda digest: base64.b64encode(digest).decode()
)


def delivery(
    body: bytes = BODY, msg_id: str = "msg_1", timestamp: int = NOW, signature: str | None = None
) -> Callback:
    return webhook_callback(body, msg_id=msg_id, timestamp=timestamp, signature=signature)


# -- properties ------------------------------------------------------------------------------


@given(st.integers(min_value=-300, max_value=300), msg_ids)
def test_within_tolerance_is_accepted(offset: int, msg_id: str) -> None:
    event = read_event(delivery(msg_id=msg_id), KEY, tolerance=300, now=NOW + offset)
    assert (event.event_id, event.event_type) == (msg_id, "ORDER_PROCESSED")


@given(st.integers(min_value=301, max_value=10**9), st.booleans())
def test_outside_tolerance_is_rejected(distance: int, future: bool) -> None:
    now = NOW - distance if future else NOW + distance
    with pytest.raises(SignatureError, match="from now"):
        read_event(delivery(), KEY, tolerance=300, now=now)


@given(st.data())
def test_any_tampering_is_rejected(data: Any) -> None:
    part = data.draw(st.sampled_from(["body", "id", "timestamp"]))
    good = webhook_signature(KEY, "msg_1", NOW, BODY)
    body, msg_id, timestamp = BODY, "msg_1", NOW
    if part == "body":
        index = data.draw(st.integers(min_value=0, max_value=len(BODY) - 1))
        flip = data.draw(st.integers(min_value=1, max_value=255))
        body = BODY[:index] + bytes([BODY[index] ^ flip]) + BODY[index + 1 :]
    elif part == "id":
        msg_id = data.draw(msg_ids)
        assume(msg_id != "msg_1")
    else:
        timestamp = NOW + data.draw(st.integers(min_value=-300, max_value=300).filter(bool))
    with pytest.raises(SignatureError):
        read_event(delivery(body, msg_id, timestamp, good), KEY, tolerance=300, now=NOW)


@given(st.lists(signature_values, max_size=5), st.data())
def test_one_matching_signature_among_several_is_enough(others: list[str], data: Any) -> None:
    good = webhook_signature(KEY, "msg_1", NOW, BODY)
    assume(good.removeprefix("v1,") not in others)
    entries = [f"v1,{value}" for value in others]
    entries.insert(data.draw(st.integers(min_value=0, max_value=len(entries))), good)
    header = " ".join(entries)
    assert read_event(delivery(signature=header), KEY, tolerance=300, now=NOW).event_id == "msg_1"
    without = " ".join(entry for entry in entries if entry != good) or "v1,"
    with pytest.raises(SignatureError):
        read_event(delivery(signature=without), KEY, tolerance=300, now=NOW)
    with pytest.raises(SignatureError):
        read_event(delivery(signature=good.replace("v1,", "v2,")), KEY, tolerance=300, now=NOW)


@given(
    st.sampled_from(sorted(ORDER_EVENTS)),
    st.sampled_from(
        ["CREATED", "PENDING", "PROCESSED", "AUTHORIZED", "FAILED", "ATTEMPTED", "CANCELLED"]
    ),
)
def test_order_events_map_by_event_type(event_type: str, order_status: str) -> None:
    """The event names what happened; the order snapshot's status does not override it."""
    adapter = HostedCheckoutAdapter(
        PluralSettings(
            environment="uat", client_id="i", client_secret=CLIENT_SECRET, secret_key="00" * 16
        ),
        clock=lambda: float(NOW),
    )
    body = json.dumps(order_event(event_type, {**ORDER, "status": order_status})).encode()
    flow = adapter.payhub_verify(delivery(body))
    with pytest.raises(StopIteration) as stop:
        next(flow)  # order events need no request
    result = stop.value.value
    assert result.status is ORDER_EVENTS[event_type]
    assert result.event_type == event_type


# -- through the hub ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("ORDER_PROCESSED", PaymentStatus.PAID),
        ("ORDER_AUTHORIZED", PaymentStatus.AUTHORIZED),
        ("ORDER_CANCELLED", PaymentStatus.CANCELED),
        ("ORDER_FAILED", PaymentStatus.FAILED),
        ("PAYMENT_FAILED", PaymentStatus.FAILED),
    ],
)
def test_order_event(payhub_hub_factory: Any, event_type: str, status: PaymentStatus) -> None:
    hub, transport = payhub_hub_factory(config(), lambda request: pytest.fail("sent"))
    payload = order_event(event_type, ORDER)
    result = hub.verify(webhook_callback(payload, msg_id="msg_42"))
    assert result.status is status
    assert result.event_id == "msg_42"
    assert result.event_type == event_type
    assert result.reference == ORDER["order_id"]
    assert result.invoice_number == "INV-1001"
    assert result.amount == Money("11.00", "INR")
    assert result.transaction_id == "v1-4405071524-aa-qlAtAf-cc-G"
    assert result.payment_method == "UPI"
    assert result.raw == payload
    assert transport.requests == []


def test_redelivery_carries_the_same_event_id(payhub_hub_factory: Any) -> None:
    hub, _ = payhub_hub_factory(config(), lambda request: pytest.fail("sent"))
    first = hub.verify(webhook_callback(order_event("ORDER_PROCESSED", ORDER), msg_id="msg_7"))
    again = hub.verify(webhook_callback(order_event("ORDER_PROCESSED", ORDER), msg_id="msg_7"))
    assert first.event_id == again.event_id == "msg_7"


def test_expected_invoice_is_checked(payhub_hub_factory: Any) -> None:
    hub, _ = payhub_hub_factory(config(), lambda request: pytest.fail("sent"))
    callback = webhook_callback(order_event("ORDER_PROCESSED", ORDER))
    assert hub.verify(callback, expected=invoice("INV-1001", "11.00")).is_paid
    with pytest.raises(AmountMismatch) as caught:
        hub.verify(callback, expected=invoice("INV-1001", "12.00"))
    assert caught.value.field == "amount"
    with pytest.raises(AmountMismatch):
        hub.verify(callback, expected=invoice("INV-1002", "11.00"))


def test_default_secret_is_the_client_secret(payhub_hub_factory: Any) -> None:
    hub, _ = payhub_hub_factory(
        config(webhook_secret="whsec-separate"), lambda request: pytest.fail("sent")
    )
    payload = order_event("ORDER_PROCESSED", ORDER)
    with pytest.raises(SignatureError):
        hub.verify(webhook_callback(payload, secret=CLIENT_SECRET))
    assert hub.verify(webhook_callback(payload, secret="whsec-separate")).is_paid


def test_missing_headers_are_signature_errors(payhub_hub_factory: Any) -> None:
    hub, _ = payhub_hub_factory(config(), lambda request: pytest.fail("sent"))
    good = webhook_callback(order_event("ORDER_PROCESSED", ORDER))
    for name in ("webhook-id", "webhook-timestamp"):
        headers = {k: v for k, v in good.headers.items() if k != name}
        with pytest.raises(SignatureError, match=name):
            hub.verify(Callback(method="POST", headers=headers, body=good.body))


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b"[" * 100_000 + b"]" * 100_000,
        json.dumps({"data": ORDER}).encode(),
        json.dumps({"event_type": "ORDER_PROCESSED"}).encode(),
        json.dumps(order_event("ORDER_PROCESSED", {**ORDER, "order_amount": 11.0})).encode(),
        json.dumps(order_event("ORDER_PROCESSED", {**ORDER, "order_id": None})).encode(),
        json.dumps(
            order_event("ORDER_PROCESSED", {**ORDER, "type": "REFUND", "parent_order_id": "v1"})
        ).encode(),
        json.dumps(order_event("REFUND_PROCESSED", ORDER)).encode(),  # no parent_order_id
    ],
)
def test_signed_but_malformed(payhub_hub_factory: Any, body: bytes) -> None:
    hub, _ = payhub_hub_factory(config(), lambda request: pytest.fail("sent"))
    with pytest.raises(MalformedCallback):
        hub.verify(webhook_callback(body))


@pytest.mark.parametrize("event_type", ["CUSTOMER_ACTIVATED", "TOKEN_DEACTIVATED", "NEW_THING"])
def test_events_that_are_not_payments(payhub_hub_factory: Any, event_type: str) -> None:
    hub, _ = payhub_hub_factory(config(), lambda request: pytest.fail("sent"))
    payload = {"event_type": event_type, "data": {"customer_id": "c1"}}
    with pytest.raises(UnsupportedEvent) as caught:
        hub.verify(webhook_callback(payload, msg_id="msg_9"))
    assert isinstance(caught.value, UnsupportedOperation)
    assert (caught.value.event_id, caught.value.event_type) == ("msg_9", event_type)
    forged = webhook_callback(payload, secret="wrong")
    with pytest.raises(SignatureError):
        hub.verify(forged)


@pytest.mark.parametrize(
    ("refund_value", "status"),
    [(500, PaymentStatus.PARTIALLY_REFUNDED), (1100, PaymentStatus.REFUNDED)],
)
def test_refund_processed(
    payhub_hub_factory: Any, refund_value: int, status: PaymentStatus
) -> None:
    fake = FakePlural()
    parent = fake.add_order(reference="INV-1001", value=1100)
    hub, transport = payhub_hub_factory(config(), fake)
    refund_result = hub.refund(parent, amount=Money.from_minor(refund_value, "INR"))
    refund = fake.orders[refund_result.transaction_id]
    result = hub.verify(
        webhook_callback(order_event("REFUND_PROCESSED", refund), msg_id="msg_r"),
        expected=invoice("INV-1001", "11.00"),
    )
    assert result.status is status
    assert result.reference == parent
    assert result.invoice_number == "INV-1001"
    assert result.amount == Money.from_minor(refund_value, "INR")
    assert result.transaction_id == refund["order_id"]
    assert (result.event_id, result.event_type) == ("msg_r", "REFUND_PROCESSED")
    assert result.raw["parent_order"]["order_id"] == parent
    assert transport.paths()[-1] == f"/api/pay/v1/orders/{parent}"


def test_refund_processed_before_the_parent_says_so(payhub_hub_factory: Any) -> None:
    """A lagging parent (still PROCESSED) never turns a refund event into 'paid'."""
    fake = FakePlural()
    parent = fake.add_order()
    hub, _ = payhub_hub_factory(config(), fake)
    refund = {**ORDER, "order_id": f"{parent}-r1", "parent_order_id": parent, "type": "REFUND"}
    result = hub.verify(webhook_callback(order_event("REFUND_PROCESSED", refund)))
    assert result.status is PaymentStatus.PARTIALLY_REFUNDED


def test_refund_failed_reports_the_payment_whole(payhub_hub_factory: Any) -> None:
    fake = FakePlural()
    parent = fake.add_order(reference="INV-1001", value=1100)
    hub, _ = payhub_hub_factory(config(), fake)
    refund = {
        "order_id": f"{parent}-r1",
        "parent_order_id": parent,
        "type": "REFUND",
        "status": "FAILED",
        "order_amount": {"value": 300, "currency": "INR"},
    }
    result = hub.verify(
        webhook_callback(order_event("REFUND_FAILED", refund)),
        expected=invoice("INV-1001", "11.00"),
    )
    assert result.status is PaymentStatus.PAID
    assert result.amount == Money("11.00", "INR")
    assert result.event_type == "REFUND_FAILED"
    assert result.transaction_id == f"{parent}-r1"
