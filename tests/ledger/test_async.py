"""``AsyncHub`` with the ledger (aiosqlite, psycopg's async mode): the same rules as
``Hub``, driven by the same plans."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from ledger_support import Sandbox, return_for, webhook_for

from payhub_core import AsyncHub, GatewayUnavailable, Money, OperationBlocked, PaymentStatus

pytestmark = pytest.mark.anyio


async def test_async_capture_refund_unknown_outcome_and_reconcile(
    sandbox: Sandbox, ledger_url: str
) -> None:
    hub = AsyncHub(sandbox.config(ledger_url))
    try:
        invoice = sandbox.invoice("ASYNC-", manual=True)
        checkout = await hub.initiate(invoice)
        await asyncio.to_thread(sandbox.approve, checkout.action.url)  # type: ignore[union-attr]
        (back,) = sandbox.arrivals("return", return_for(invoice))
        assert (await hub.receive(back.callback)).payment.status is PaymentStatus.AUTHORIZED
        sandbox.counter.lose_answers.add("/capture")
        try:
            with pytest.raises(GatewayUnavailable):
                await hub.capture(checkout.reference)
        finally:
            sandbox.counter.lose_answers.clear()
        with pytest.raises(OperationBlocked):
            await hub.refund(checkout.reference, amount=Money("1.00", "INR"))
        report = await hub.reconcile(older_than=timedelta(0))
        assert invoice.number not in report.needs_operator
        payment = await hub.payment(invoice.number)
        assert (payment.status, payment.unknown_operation) == (PaymentStatus.PAID, False)
        await hub.refund(checkout.reference, amount=Money("9.00", "INR"))
        payment = await hub.payment(invoice.number)
        assert payment.refunded == Money("9.00", "INR")
        assert [c.source for c in payment.history] == [
            "initiate",
            "return",
            "reconcile",
            "refund",
        ]
    finally:
        await hub.aclose()


async def test_async_concurrent_copies_of_a_webhook_make_one_change(
    sandbox: Sandbox, ledger_url: str
) -> None:
    hub = AsyncHub(sandbox.config(ledger_url))
    try:
        invoice = sandbox.invoice("ASYNCDUP-")
        checkout = await hub.initiate(invoice)
        await asyncio.to_thread(sandbox.approve, checkout.action.url)  # type: ignore[union-attr]
        (hook,) = sandbox.arrivals("webhook", webhook_for(invoice))
        receipts = await asyncio.gather(
            *(hub.receive(hook.callback, source="webhook") for _ in range(10))
        )
        assert sum(r.change is not None for r in receipts) == 1
        assert sum(r.duplicate for r in receipts) == 9
    finally:
        await hub.aclose()
