"""The Plural sandbox's fault scenarios with the ledger on: each ends, after ``reconcile``
(and an operator where the gateway cannot say), in the gateway's true state.

Scenarios are triggered by the invoice number's prefix (see docs/sandbox-plural.md)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from ledger_support import PLURAL_CREATE, Sandbox, return_for, webhook_for

from payhub_core import GatewayUnavailable, Hub, OperationBlocked, PaymentStatus

NOW = timedelta(0)


@pytest.fixture
def hub(sandbox: Sandbox, ledger_url: str) -> Iterator[Hub]:
    with Hub(sandbox.config(ledger_url)) as opened:
        yield opened


def test_webhooks_out_of_order_never_take_a_payment_back(sandbox: Sandbox, hub: Hub) -> None:
    httpx.put(f"{sandbox.url}/plural/_sandbox/config", json={"reorder_delay": 1.0}, timeout=5)
    try:
        invoice = sandbox.invoice("REORDER-", manual=True)
        checkout = hub.initiate(invoice)
        sandbox.approve(checkout.action.url)  # type: ignore[union-attr]
        (back,) = sandbox.arrivals("return", return_for(invoice))
        assert hub.receive(back.callback).payment.status is PaymentStatus.AUTHORIZED
        hub.capture(checkout.reference)
        hooks = sandbox.arrivals("webhook", webhook_for(invoice), count=2)
        assert len(hooks) == 2
        # In arrival order: the capture's "paid", then the held-back "authorized".
        late = [hub.receive(arrival.callback, source="webhook") for arrival in hooks]
        assert all(receipt.change is None for receipt in late)
        assert hub.payment(invoice.number).status is PaymentStatus.PAID
    finally:
        httpx.put(f"{sandbox.url}/plural/_sandbox/config", json={"reorder_delay": 3.0}, timeout=5)


def test_a_webhook_the_gateway_sends_twice_is_counted_once(sandbox: Sandbox, hub: Hub) -> None:
    invoice = sandbox.invoice("DUPWEBHOOK-")
    checkout = hub.initiate(invoice)
    sandbox.approve(checkout.action.url)  # type: ignore[union-attr]
    hooks = sandbox.arrivals("webhook", webhook_for(invoice), count=2)
    assert len(hooks) == 2
    receipts = [hub.receive(arrival.callback, source="webhook") for arrival in hooks]
    assert [r.change is not None for r in receipts] == [True, False]
    assert receipts[1].duplicate is True


def test_a_rate_limited_initiate_is_refused_and_may_be_tried_again(
    sandbox: Sandbox, hub: Hub
) -> None:
    invoice = sandbox.invoice("RATELIMIT-")
    before = sandbox.counter.count("POST", PLURAL_CREATE)
    with pytest.raises(GatewayUnavailable) as caught:
        hub.initiate(invoice)
    assert caught.value.outcome_unknown is False
    first = sandbox.counter.count("POST", PLURAL_CREATE) - before
    with pytest.raises(GatewayUnavailable):
        hub.initiate(invoice)  # not blocked: nothing happened at the gateway
    assert sandbox.counter.count("POST", PLURAL_CREATE) - before == 2 * first
    assert hub.payment(invoice.number).attempts[0].state == "refused"


@pytest.mark.parametrize("prefix", ["ERROR500-", "MALFORMED-"])
def test_an_initiate_with_an_unknown_outcome_the_gateway_never_created_reconciles_to_failed(
    sandbox: Sandbox, hub: Hub, prefix: str
) -> None:
    invoice = sandbox.invoice(prefix)
    with pytest.raises(GatewayUnavailable) as caught:
        hub.initiate(invoice)
    assert caught.value.outcome_unknown is True
    sent = sandbox.counter.count("POST", PLURAL_CREATE)
    with pytest.raises(OperationBlocked, match="unknown"):
        hub.initiate(invoice)
    assert sandbox.counter.count("POST", PLURAL_CREATE) == sent  # never re-sent blindly
    report = hub.reconcile(older_than=NOW)
    # Get Order by merchant reference says Plural has no such order: the create never
    # took effect, no money moved, so the attempt failed and a new one may be made.
    assert invoice.number not in report.needs_operator
    assert sandbox.counter.count("POST", PLURAL_CREATE) == sent  # reconcile sends nothing
    payment = hub.payment(invoice.number)
    assert payment.status is PaymentStatus.FAILED
    assert [a.state for a in payment.attempts] == ["refused"]
    assert payment.unknown_operation is False
    assert invoice.number not in hub.reconcile(older_than=NOW).needs_operator


def _plural_order(sandbox: Sandbox, number: str) -> dict[str, Any]:
    """The order the Plural sandbox holds for merchant reference ``number``, looked up
    the way an operator would (Get Order by reference), outside the hub."""
    base = f"{sandbox.url}/plural"
    info = httpx.get(f"{base}/_sandbox", timeout=5).json()
    token = httpx.post(
        f"{base}/api/auth/v1/token",
        json={
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "grant_type": "client_credentials",
        },
        timeout=5,
    ).json()["access_token"]
    answer = httpx.get(
        f"{base}/api/pay/v1/orders/reference/{number}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    answer.raise_for_status()
    order: dict[str, Any] = answer.json()["data"]
    return order


def test_a_slow_initiate_past_the_timeout_is_unknown_blocked_and_never_sent_twice(
    sandbox: Sandbox, ledger_url: str
) -> None:
    config = sandbox.config(ledger_url)
    config["gateways"]["india"].update(timeout=1.0, max_retries=0)
    settings = f"{sandbox.url}/plural/_sandbox/config"
    slow = httpx.get(settings, timeout=5).json()["slow_seconds"]
    httpx.put(settings, json={"slow_seconds": 3}, timeout=5).raise_for_status()
    try:
        with Hub(config) as hub:
            invoice = sandbox.invoice("SLOW-")
            before = sandbox.counter.count("POST", PLURAL_CREATE)
            with pytest.raises(GatewayUnavailable) as caught:
                hub.initiate(invoice)
            assert caught.value.outcome_unknown is True
            assert sandbox.counter.count("POST", PLURAL_CREATE) == before + 1
            payment = hub.payment(invoice.number)
            assert payment.status is PaymentStatus.PENDING
            assert [a.state for a in payment.attempts] == ["unknown"]
            assert payment.unknown_operation is True
            with pytest.raises(OperationBlocked, match="unknown"):
                hub.initiate(invoice)  # never re-sent blindly
            # The gateway did create the order: its answer only came too late.
            assert _plural_order(sandbox, invoice.number)["status"] == "CREATED"
            order = _plural_order(sandbox, invoice.number)
            report = hub.reconcile(older_than=NOW)
            # No order id came back, so reconcile asks Plural by the merchant reference
            # (the invoice number) and stores the order id it finds: settled, not listed.
            assert invoice.number not in report.needs_operator
            assert invoice.number in report.still_pending
            payment = hub.payment(invoice.number)
            assert payment.status is PaymentStatus.PENDING  # an order without a payment
            assert payment.unknown_operation is False
            (attempt,) = payment.attempts
            assert (attempt.state, attempt.reference) == ("open", order["order_id"])
            # The order exists and its checkout answer was lost: never created again.
            with pytest.raises(OperationBlocked, match="checkout"):
                hub.initiate(invoice)
            # From now on reconcile asks by the order id, as for any created payment.
            by_id = f"/api/pay/v1/orders/{order['order_id']}"
            asked = sandbox.counter.count("GET", by_id)
            again = hub.reconcile(older_than=NOW)
            assert sandbox.counter.count("GET", by_id) == asked + 1
            assert invoice.number in again.still_pending
            assert invoice.number not in again.needs_operator
        assert sandbox.counter.count("POST", PLURAL_CREATE) == before + 1  # sent once
    finally:
        httpx.put(settings, json={"slow_seconds": slow}, timeout=5)
