"""The Plural sandbox's fault scenarios with the ledger on: each ends, after ``reconcile``
(and an operator where the gateway cannot say), in the gateway's true state.

Scenarios are triggered by the invoice number's prefix (see docs/sandbox-plural.md)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from ledger_support import PLURAL_CREATE, Sandbox, return_for, wait_until, webhook_for

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
def test_an_initiate_with_an_unknown_outcome_is_blocked_until_an_operator_resolves_it(
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
    assert invoice.number in report.needs_operator
    payment = hub.resolve(
        invoice.number, status="failed", reason="the gateway has no such order", actor="ops"
    )
    assert payment.status is PaymentStatus.FAILED
    assert wait_until(lambda: invoice.number not in hub.reconcile(older_than=NOW).needs_operator)
