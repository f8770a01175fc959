"""Capture, cancel and refund with the ledger; unknown outcomes; reconcile (Plural's
status query, Plutu's operator list); operator resolution; the notification outbox.

A lost answer is made real: the sandbox handles the request (the money moves) and the
answer is replaced by an HTTP 502, so the hub cannot know what happened.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from ledger_support import Sandbox, return_for, wait_until

from payhub_core import (
    GatewayUnavailable,
    Hub,
    Invoice,
    Money,
    OperationBlocked,
    PaymentStatus,
    hookimpl,
)
from payhub_core.ledger import Change, Payment, _rules
from payhub_core.redaction import scrub

NOW = timedelta(0)
CAPTURE = "/capture"
REFUND_PATH = "/api/pay/v1/refunds/"


@pytest.fixture
def hub(sandbox: Sandbox, ledger_url: str) -> Iterator[Hub]:
    with Hub(sandbox.config(ledger_url)) as opened:
        yield opened
    sandbox.counter.lose_answers.clear()


def authorized(sandbox: Sandbox, hub: Hub, *, manual: bool = True) -> tuple[Invoice, str]:
    invoice = sandbox.invoice("OPS-", manual=manual)
    checkout = hub.initiate(invoice)
    sandbox.approve(checkout.action.url)  # type: ignore[union-attr]
    (arrival,) = sandbox.arrivals("return", return_for(invoice))
    receipt = hub.receive(arrival.callback)
    expected = PaymentStatus.AUTHORIZED if manual else PaymentStatus.PAID
    assert receipt.payment.status is expected
    return invoice, checkout.reference


def sent(sandbox: Sandbox, suffix: str) -> int:
    return sum(n for (_method, path), n in sandbox.counter.hits.items() if suffix in path)


def test_capture_then_partial_refunds_keep_the_money_straight(sandbox: Sandbox, hub: Hub) -> None:
    invoice, reference = authorized(sandbox, hub)
    assert hub.capture(reference).status is PaymentStatus.PAID
    hub.refund(reference, amount=Money("400.00", "INR"))
    payment = hub.payment(invoice.number)
    assert (payment.authorized, payment.captured, payment.refunded) == (
        invoice.amount,
        invoice.amount,
        Money("400.00", "INR"),
    )
    assert payment.status is PaymentStatus.PARTIALLY_REFUNDED
    assert [op.kind for op in payment.operations] == ["capture", "refund"]
    assert all(op.state == "done" for op in payment.operations)
    assert [c.source for c in payment.history] == ["initiate", "return", "capture", "refund"]


def test_operations_that_would_break_an_invariant_are_refused_before_sending(
    sandbox: Sandbox, hub: Hub
) -> None:
    invoice, reference = authorized(sandbox, hub)
    before = dict(sandbox.counter.hits)
    with pytest.raises(OperationBlocked, match="only a paid payment can be refunded"):
        hub.refund(reference, amount=Money("1.00", "INR"))
    with pytest.raises(OperationBlocked, match="more than was authorized"):
        hub.capture(reference, amount=Money("1500.00", "INR"))
    hub.capture(reference)
    with pytest.raises(OperationBlocked, match="only an authorized payment can be captured"):
        hub.capture(reference)
    hub.refund(reference, amount=Money("1000.00", "INR"))
    after_refund = dict(sandbox.counter.hits)
    with pytest.raises(OperationBlocked, match="more than is left to refund"):
        hub.refund(reference, amount=Money("499.01", "INR"))
    with pytest.raises(OperationBlocked, match="canceled"):
        hub.cancel(reference)
    assert dict(sandbox.counter.hits) == after_refund
    assert before != after_refund
    assert hub.payment(invoice.number).refunded == Money("1000.00", "INR")


def test_an_unknown_capture_blocks_money_until_reconcile_finds_it_happened(
    sandbox: Sandbox, hub: Hub
) -> None:
    invoice, reference = authorized(sandbox, hub)
    sandbox.counter.lose_answers.add(CAPTURE)
    with pytest.raises(GatewayUnavailable) as caught:
        hub.capture(reference)
    assert caught.value.outcome_unknown is True
    sandbox.counter.lose_answers.clear()
    payment = hub.payment(invoice.number)
    assert payment.unknown_operation is True
    assert [(op.kind, op.state) for op in payment.operations] == [("capture", "unknown")]
    captures = sent(sandbox, f"{reference}{CAPTURE}")
    for retry in (lambda: hub.capture(reference), lambda: hub.refund(reference)):
        with pytest.raises(OperationBlocked, match="unknown outcome"):
            retry()
    assert sent(sandbox, f"{reference}{CAPTURE}") == captures == 1

    report = hub.reconcile(older_than=NOW)
    assert invoice.number not in report.needs_operator
    assert [c.status for c in report.resolved if c.invoice_number == invoice.number] == [
        PaymentStatus.PAID
    ]
    payment = hub.payment(invoice.number)
    assert (payment.status, payment.unknown_operation) == (PaymentStatus.PAID, False)
    assert [(op.kind, op.state) for op in payment.operations] == [("capture", "done")]
    assert sent(sandbox, f"{reference}{CAPTURE}") == 1  # nothing was sent twice
    hub.refund(reference, amount=Money("1.00", "INR"))  # money moves again


def test_an_unknown_refund_reuses_nothing_and_reconcile_recognises_its_reference(
    sandbox: Sandbox, hub: Hub
) -> None:
    invoice, reference = authorized(sandbox, hub, manual=False)
    sandbox.counter.lose_answers.add(REFUND_PATH)
    with pytest.raises(GatewayUnavailable):
        hub.refund(reference, amount=Money("100.00", "INR"))
    sandbox.counter.lose_answers.clear()
    (operation,) = hub.payment(invoice.number).operations
    assert operation.state == "unknown"
    assert operation.key.startswith("ref-")
    report = hub.reconcile(older_than=NOW)
    payment = hub.payment(invoice.number)
    assert invoice.number not in report.needs_operator, (report, payment.operations)
    assert payment.operations[0].state == "done"
    assert payment.status is PaymentStatus.PARTIALLY_REFUNDED
    assert sent(sandbox, f"{REFUND_PATH}{reference}") == 1


def test_an_unknown_refund_whose_random_bits_look_like_a_card_number_is_still_recognised(
    sandbox: Sandbox, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Random bytes whose plain hex holds a card number (a Luhn-valid run of 13 to 19
    # digits, about one draw in 500): the status answer is scrubbed of card numbers before
    # reconcile reads it, which masked such a key there. Fresh ones each time: the sandbox
    # outlives the test and a refund reference is its idempotency key.
    card_like = os.urandom(16)
    while scrub(card_like.hex()) == card_like.hex():
        card_like = os.urandom(16)
    real_key = _rules.operation_key
    monkeypatch.setattr(_rules, "operation_key", lambda kind, _entropy: real_key(kind, card_like))
    invoice, reference = authorized(sandbox, hub, manual=False)
    sandbox.counter.lose_answers.add(REFUND_PATH)
    with pytest.raises(GatewayUnavailable) as caught:
        hub.refund(reference, amount=Money("100.00", "INR"))
    sandbox.counter.lose_answers.clear()
    (operation,) = hub.payment(invoice.number).operations
    assert operation.key == real_key("refund", card_like)
    assert operation.key in caught.value.message  # the reference to look up, unmasked
    report = hub.reconcile(older_than=NOW)
    assert invoice.number not in report.needs_operator, report
    payment = hub.payment(invoice.number)
    assert payment.operations[0].state == "done"
    assert payment.status is PaymentStatus.PARTIALLY_REFUNDED


def test_the_merchant_reference_is_written_before_sending_and_sent_as_is(
    sandbox: Sandbox, hub: Hub
) -> None:
    invoice, reference = authorized(sandbox, hub)
    hub.capture(reference)
    (operation,) = hub.payment(invoice.number).operations
    import httpx

    order = httpx.get(f"{sandbox.url}/plural/_sandbox/webhooks", timeout=5)
    assert order.status_code == 200
    assert operation.key in order.text  # Plural echoes merchant_capture_reference


def test_reconcile_settles_a_payment_whose_webhook_was_lost(sandbox: Sandbox, hub: Hub) -> None:
    invoice = sandbox.invoice("LOST-")
    checkout = hub.initiate(invoice)
    report = hub.reconcile(older_than=NOW)
    assert invoice.number in report.still_pending
    sandbox.approve(checkout.action.url)  # type: ignore[union-attr]
    report = hub.reconcile(older_than=NOW)  # the return and webhook are never received
    (change,) = [c for c in report.resolved if c.invoice_number == invoice.number]
    assert (change.previous, change.status, change.source) == (
        PaymentStatus.PENDING,
        PaymentStatus.PAID,
        "reconcile",
    )
    assert hub.payment(invoice.number).status is PaymentStatus.PAID


def test_a_gateway_without_status_goes_to_the_operator_who_resolves_it_audited(
    sandbox: Sandbox, hub: Hub
) -> None:
    invoice = sandbox.invoice("PLUTU-", amount="40.00", currency="LYD")
    hub.initiate(invoice, gateway="cards")
    report = hub.reconcile(older_than=NOW)
    assert invoice.number in report.needs_operator
    payment = hub.resolve(
        invoice.number, status="failed", reason="customer abandoned checkout", actor="ops@shop"
    )
    assert payment.status is PaymentStatus.FAILED
    last = payment.history[-1]
    assert (last.source, last.reason, last.actor) == (
        "operator",
        "customer abandoned checkout",
        "ops@shop",
    )
    assert last.at >= payment.history[0].at
    assert invoice.number not in hub.reconcile(older_than=NOW).needs_operator
    paid = hub.resolve(invoice.number, status="paid", reason="bank statement", actor="ops@shop")
    assert paid.status is PaymentStatus.PAID
    with pytest.raises(OperationBlocked, match="never goes back"):
        hub.resolve(invoice.number, status="failed", reason="oops", actor="ops@shop")
    with pytest.raises(ValueError, match="reason and an actor"):
        hub.resolve(invoice.number, status="paid", reason=" ", actor="ops@shop")


class Flaky:
    """A merchant plugin that fails on its first call, then works."""

    def __init__(self) -> None:
        self.calls: list[Change] = []

    @hookimpl
    def payhub_payment_changed(self, payment: Payment, change: Change) -> None:
        self.calls.append(change)
        if len(self.calls) == 1:
            raise RuntimeError("the merchant's mail server is down")


def test_a_failed_notification_stays_in_the_outbox_and_comes_again_with_its_id(
    sandbox: Sandbox, ledger_url: str
) -> None:
    flaky = Flaky()
    with Hub(sandbox.config(ledger_url), plugins=[flaky]) as hub:
        invoice = sandbox.invoice("OUTBOX-")
        hub.initiate(invoice)
        assert len(flaky.calls) == 1  # raised: still pending
        hub.reconcile(older_than=timedelta(days=1))
        assert len(flaky.calls) == 2
        assert flaky.calls[0].id == flaky.calls[1].id
        hub.reconcile(older_than=timedelta(days=1))
        assert len(flaky.calls) == 2  # delivered: never again


def test_a_new_hub_delivers_what_an_earlier_process_left_in_the_outbox(
    sandbox: Sandbox, ledger_url: str
) -> None:
    class Down:
        @hookimpl
        def payhub_payment_changed(self, payment: Payment, change: Change) -> None:
            raise RuntimeError("down")

    seen: list[str] = []

    class Up:
        @hookimpl
        def payhub_payment_changed(self, payment: Payment, change: Change) -> None:
            seen.append(change.id)

    config: dict[str, Any] = sandbox.config(ledger_url)
    invoice = sandbox.invoice("RESTART-")
    with Hub(config, plugins=[Down()]) as first:
        first.initiate(invoice)
        change_id = first.payment(invoice.number).history[0].id
    with Hub(config, plugins=[Up()]) as second:
        second.payments()  # its first use delivers what was left behind
        assert wait_until(lambda: seen == [change_id], timeout=5)


def test_a_customer_who_pays_one_invoice_twice_is_flagged_never_hidden(ledger_url: str) -> None:
    """Two attempts of one invoice, on two gateways, both verified paid. (The sandbox's
    gateways refuse a reused invoice number, so this drives the store directly.)"""
    from payhub_core import Checkout, PaymentResult
    from payhub_core.ledger import LedgerSettings, _ops
    from payhub_core.ledger._store import SyncStore

    store = SyncStore(LedgerSettings.from_table({"url": ledger_url}))
    try:
        invoice = Invoice(number="TWICE-1", amount=Money("40.00", "LYD"))
        ids = {}
        for gateway in ("cards", "wallet"):
            claim = store.run(lambda tx, g=gateway: _ops.claim(tx, invoice, g, g, 60.0))
            assert claim.won
            store.run(
                lambda tx, g=gateway, p=claim.payment_id: _ops.store_checkout(
                    tx, p, g, Checkout(reference=f"{g}-ref")
                )
            )
            ids[gateway] = claim.payment_id
        assert ids["cards"] == ids["wallet"]
        changes = []
        for gateway in ("cards", "wallet"):
            result = PaymentResult(
                status=PaymentStatus.PAID,
                reference=f"{gateway}-ref",
                invoice_number=invoice.number,
                amount=invoice.amount,
            )
            written = store.run(
                lambda tx, g=gateway, r=result: _ops.apply_evidence(
                    tx, ids["cards"], g, f"digest-{g}", r, "return"
                )
            )
            changes.append(written.change)
        assert changes[0] is not None
        assert changes[0].status is PaymentStatus.PAID
        flagged = changes[1]
        assert flagged is not None
        assert flagged.reason is not None
        assert "paid twice" in flagged.reason
        payment = store.run(lambda _tx: _ops.payment_by_number(invoice.number), write=False)
        assert payment.paid_twice is True
        assert payment.captured == invoice.amount  # counted once, flagged, not hidden
    finally:
        store.close()


def test_evidence_for_another_amount_raises_and_stores_nothing(ledger_url: str) -> None:
    """``receive`` checks a verified result against the *stored* invoice, under the lock."""
    from payhub_core import AmountMismatch, Checkout, PaymentResult
    from payhub_core._hub import check_expected
    from payhub_core.ledger import LedgerSettings, _ops
    from payhub_core.ledger._store import SyncStore

    store = SyncStore(LedgerSettings.from_table({"url": ledger_url}))
    try:
        invoice = Invoice(number="AMOUNT-1", amount=Money("40.00", "LYD"))
        claim = store.run(lambda tx: _ops.claim(tx, invoice, "cards", "t", 60.0))
        store.run(
            lambda tx: _ops.store_checkout(tx, claim.payment_id, "cards", Checkout(reference="r"))
        )
        cheaper = PaymentResult(
            status=PaymentStatus.PAID,
            reference="r",
            invoice_number=invoice.number,
            amount=Money("4.00", "LYD"),
        )
        with pytest.raises(AmountMismatch):
            store.run(
                lambda tx: _ops.receive_evidence(
                    tx, "cards", "digest-1", cheaper, "return", check_expected
                )
            )
        payment = store.run(lambda _tx: _ops.payment_by_number(invoice.number), write=False)
        assert payment.status is PaymentStatus.PENDING
        assert len(payment.history) == 1
        right = cheaper.model_copy(update={"amount": invoice.amount})
        written = store.run(  # the same digest was not stored: it is not a duplicate
            lambda tx: _ops.receive_evidence(
                tx, "cards", "digest-1", right, "return", check_expected
            )
        )
        assert written.duplicate is False
        assert written.change is not None
    finally:
        store.close()
