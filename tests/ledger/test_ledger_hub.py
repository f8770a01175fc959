"""The ledger through the hub, on SQLite and on a real PostgreSQL server, against the
sandbox over HTTP: idempotent initiate, evidence recorded once, history, look-ups."""

from __future__ import annotations

from typing import Any

import pytest
from ledger_support import PLURAL_CREATE, Sandbox, return_for

from payhub_core import (
    AsyncHub,
    Callback,
    ConfigurationError,
    Hub,
    InvalidRequest,
    InvoiceConflict,
    Money,
    PaymentNotFound,
    PaymentStatus,
    SignatureError,
    hookimpl,
)
from payhub_core.ledger import Change, Payment


class Recorder:
    """A merchant plugin: remembers every notification."""

    def __init__(self) -> None:
        self.changes: list[Change] = []

    @hookimpl
    def payhub_payment_changed(self, payment: Payment, change: Change) -> None:
        self.changes.append(change)


def paid_by_return(sandbox: Sandbox, hub: Any, invoice: Any) -> Callback:
    checkout = hub.initiate(invoice)
    sandbox.approve(checkout.action.url)
    (arrival,) = sandbox.arrivals("return", return_for(invoice))
    callback: Callback = arrival.callback
    return callback


def test_a_repeated_initiate_sends_one_request_and_returns_the_same_checkout(
    sandbox: Sandbox, ledger_url: str
) -> None:
    with Hub(sandbox.config(ledger_url)) as hub:
        invoice = sandbox.invoice()
        before = sandbox.counter.count("POST", PLURAL_CREATE)
        first = hub.initiate(invoice)
        again = [hub.initiate(invoice) for _ in range(3)]
        assert sandbox.counter.count("POST", PLURAL_CREATE) - before == 1
        assert all(item == first for item in again)
        payment = hub.payment(invoice.number)
        assert payment.reference == first.reference
        assert [(c.previous, c.status, c.source) for c in payment.history] == [
            (None, PaymentStatus.PENDING, "initiate")
        ]


def test_the_same_invoice_number_with_another_amount_is_refused_before_sending(
    sandbox: Sandbox, ledger_url: str
) -> None:
    with Hub(sandbox.config(ledger_url)) as hub:
        invoice = sandbox.invoice()
        hub.initiate(invoice)
        before = sandbox.counter.count("POST", PLURAL_CREATE)
        for other in (Money("1500.00", "INR"), Money("1499.00", "USD")):
            changed = invoice.model_copy(update={"amount": other})
            with pytest.raises(InvoiceConflict) as caught:
                hub.initiate(changed)
            assert isinstance(caught.value, InvalidRequest)
        assert sandbox.counter.count("POST", PLURAL_CREATE) == before


def test_evidence_is_applied_once_and_a_repeat_is_a_duplicate(
    sandbox: Sandbox, ledger_url: str
) -> None:
    recorder = Recorder()
    with Hub(sandbox.config(ledger_url), plugins=[recorder]) as hub:
        invoice = sandbox.invoice()
        callback = paid_by_return(sandbox, hub, invoice)
        first = hub.receive(callback, source="return")
        assert first.duplicate is False
        assert first.change is not None
        assert (first.change.previous, first.change.status) == (
            PaymentStatus.PENDING,
            PaymentStatus.PAID,
        )
        assert first.payment.status is PaymentStatus.PAID
        assert first.payment.captured == invoice.amount
        repeat = hub.receive(callback, source="return")
        assert (repeat.duplicate, repeat.change) == (True, None)
        assert repeat.payment.status is PaymentStatus.PAID
        history = hub.payment(invoice.number).history
        assert [c.source for c in history] == ["initiate", "return"]
        assert history[1].evidence_digest is not None
        assert [c.id for c in recorder.changes] == [c.id for c in history]


def test_tampered_evidence_raises_and_records_nothing(sandbox: Sandbox, ledger_url: str) -> None:
    with Hub(sandbox.config(ledger_url)) as hub:
        invoice = sandbox.invoice()
        callback = paid_by_return(sandbox, hub, invoice)
        tampered = callback.model_copy(
            update={"body": callback.body.replace(b"status=PROCESSED", b"status=FAILED")}
        )
        with pytest.raises(SignatureError):
            hub.receive(tampered, source="return")
        payment = hub.payment(invoice.number)
        assert payment.status is PaymentStatus.PENDING
        assert len(payment.history) == 1


def test_evidence_of_a_payment_the_ledger_does_not_know_is_not_found(
    sandbox: Sandbox, ledger_url: str
) -> None:
    config = sandbox.config(ledger_url)
    plain = {key: value for key, value in config.items() if key != "ledger"}
    invoice = sandbox.invoice()
    with Hub(plain) as outside:
        callback = paid_by_return(sandbox, outside, invoice)
    with Hub(config) as hub:
        with pytest.raises(PaymentNotFound):
            hub.receive(callback, source="return")
        with pytest.raises(PaymentNotFound):
            hub.payment(invoice.number)


def test_payments_lists_by_status(sandbox: Sandbox, ledger_url: str) -> None:
    with Hub(sandbox.config(ledger_url)) as hub:
        paid, waiting = sandbox.invoice(), sandbox.invoice()
        hub.receive(paid_by_return(sandbox, hub, paid))
        hub.initiate(waiting)
        assert [p.invoice_number for p in hub.payments(status="paid")] == [paid.number]
        assert [p.invoice_number for p in hub.payments(status=PaymentStatus.PENDING)] == [
            waiting.number
        ]
        assert {p.invoice_number for p in hub.payments()} == {paid.number, waiting.number}
        with pytest.raises(ValueError, match="status must be one of"):
            hub.payments(status="nearly")


def test_without_a_ledger_the_ledger_methods_say_so(sandbox: Sandbox) -> None:
    with Hub({"gateways": sandbox.gateways(), "default": "india"}) as hub:
        for call in (
            lambda: hub.payment("INV-1"),
            lambda: hub.payments(),
            lambda: hub.reconcile(),
            lambda: hub.resolve("INV-1", status="paid", reason="r", actor="a"),
        ):
            with pytest.raises(ConfigurationError, match=r"no \[ledger\] is configured"):
                call()


def test_a_bad_ledger_table_is_a_configuration_error(sandbox: Sandbox) -> None:
    for table in ({"url": "mysql://x"}, {"url": "sqlite:///x", "busy_timeout": -1}, {}):
        config = {"gateways": sandbox.gateways(), "default": "india", "ledger": table}
        with pytest.raises(ConfigurationError, match=r"\[ledger\]"):
            Hub(config)


@pytest.mark.anyio
async def test_async_hub_initiate_and_receive(sandbox: Sandbox, ledger_url: str) -> None:
    hub = AsyncHub(sandbox.config(ledger_url))
    try:
        invoice = sandbox.invoice()
        before = sandbox.counter.count("POST", PLURAL_CREATE)
        first = await hub.initiate(invoice)
        assert await hub.initiate(invoice) == first
        assert sandbox.counter.count("POST", PLURAL_CREATE) - before == 1
        sandbox.approve(first.action.url)  # type: ignore[union-attr]
        (arrival,) = sandbox.arrivals("return", return_for(invoice))
        receipt = await hub.receive(arrival.callback)
        assert receipt.change is not None
        assert receipt.change.status is PaymentStatus.PAID
        again = await hub.receive(arrival.callback)
        assert again.duplicate
        assert again.change is None
        payment = await hub.payment(invoice.number)
        assert [c.source for c in payment.history] == ["initiate", "return"]
    finally:
        await hub.aclose()


def test_verify_keeps_its_contract_with_a_ledger(sandbox: Sandbox, ledger_url: str) -> None:
    """``verify`` records nothing; with a ledger it checks the stored invoice, and a
    payment the ledger does not know is verified as before."""
    config = sandbox.config(ledger_url)
    plain = {key: value for key, value in config.items() if key != "ledger"}
    with Hub(config) as hub:
        invoice = sandbox.invoice()
        callback = paid_by_return(sandbox, hub, invoice)
        assert hub.verify(callback).status is PaymentStatus.PAID
        assert hub.payment(invoice.number).status is PaymentStatus.PENDING  # not recorded
        other = sandbox.invoice()
        with Hub(plain) as outside:
            unknown = paid_by_return(sandbox, outside, other)
        assert hub.verify(unknown).invoice_number == other.number
