"""The ledger's rules under real concurrency (threads, asyncio tasks, two OS processes),
on SQLite and on a real PostgreSQL server, against the sandbox over real HTTP.

Each test counts what reached the sandbox (the counting wrapper around its emulators)
and what the callers were told. These tests fail when the payment row lock, the
(invoice, gateway) claim or the evidence dedup is taken out.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from ledger_support import (
    PLURAL_CREATE,
    Sandbox,
    return_for,
    webhook_for,
)

from payhub_core import AsyncHub, Checkout, Hub, PaymentStatus, hookimpl
from payhub_core.ledger import Change, Payment, Receipt

CALLERS = 50


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.changes: list[Change] = []

    @hookimpl
    def payhub_payment_changed(self, payment: Payment, change: Change) -> None:
        with self.lock:
            self.changes.append(change)


def test_fifty_threads_initiating_one_invoice_send_one_request(
    sandbox: Sandbox, ledger_url: str
) -> None:
    with Hub(sandbox.config(ledger_url)) as hub:
        invoice = sandbox.invoice("THREADS-")
        barrier = threading.Barrier(CALLERS)
        before = sandbox.counter.count("POST", PLURAL_CREATE)

        def one(_: int) -> Checkout:
            barrier.wait()
            return hub.initiate(invoice)

        with ThreadPoolExecutor(CALLERS) as pool:
            checkouts = list(pool.map(one, range(CALLERS)))
        assert sandbox.counter.count("POST", PLURAL_CREATE) - before == 1
        assert len(checkouts) == CALLERS
        assert all(item == checkouts[0] for item in checkouts)
        assert hub.payment(invoice.number).reference == checkouts[0].reference


@pytest.mark.anyio
async def test_fifty_tasks_initiating_one_invoice_send_one_request(
    sandbox: Sandbox, ledger_url: str
) -> None:
    hub = AsyncHub(sandbox.config(ledger_url))
    try:
        invoice = sandbox.invoice("TASKS-")
        before = sandbox.counter.count("POST", PLURAL_CREATE)
        checkouts = await asyncio.gather(*(hub.initiate(invoice) for _ in range(CALLERS)))
        assert sandbox.counter.count("POST", PLURAL_CREATE) - before == 1
        assert all(item == checkouts[0] for item in checkouts)
    finally:
        await hub.aclose()


def _spawn(mode: str, spec: dict[str, Any]) -> subprocess.Popen[str]:
    child = Path(__file__).with_name("ledger_child.py")
    return subprocess.Popen(  # noqa: S603 - this interpreter and our own script
        [sys.executable, str(child), mode, json.dumps(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_of_fifty_callers_send_one_request(
    sandbox: Sandbox, ledger_url: str, tmp_path: Path
) -> None:
    invoice = sandbox.invoice("PROCS-")
    start = tmp_path / "start"
    spec = {
        "config": sandbox.config(ledger_url),
        "invoice": invoice.model_dump(mode="json"),
        "start": str(start),
        "count": CALLERS,
    }
    before = sandbox.counter.count("POST", PLURAL_CREATE)
    children = [_spawn("threads", spec), _spawn("tasks", spec)]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
        start.touch()  # both processes' callers go at once
        outputs = [child.communicate(timeout=120) for child in children]
    finally:
        for child in children:
            child.kill()
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _err in outputs]
    assert [r["errors"] for r in reports] == [[], []], [err[-2000:] for _o, err in outputs]
    checkouts = [Checkout.model_validate_json(item) for r in reports for item in r["checkouts"]]
    assert len(checkouts) == 2 * CALLERS
    assert all(item == checkouts[0] for item in checkouts)
    assert sandbox.counter.count("POST", PLURAL_CREATE) - before == 1


def _race(hub: Hub, deliveries: list[tuple[Any, str]]) -> list[Receipt]:
    barrier = threading.Barrier(len(deliveries))

    def one(delivery: tuple[Any, str]) -> Receipt:
        barrier.wait()
        return hub.receive(delivery[0], source=delivery[1])  # type: ignore[arg-type]

    with ThreadPoolExecutor(len(deliveries)) as pool:
        return list(pool.map(one, deliveries))


def test_a_webhook_delivered_twice_racing_the_return_makes_one_transition(
    sandbox: Sandbox, ledger_url: str
) -> None:
    recorder = Recorder()
    with Hub(sandbox.config(ledger_url), plugins=[recorder]) as hub:
        for _round in range(3):
            invoice = sandbox.invoice("RACE-")
            checkout = hub.initiate(invoice)
            sandbox.approve(checkout.action.url)  # type: ignore[union-attr]
            (webhook,) = sandbox.arrivals("webhook", webhook_for(invoice))
            (back,) = sandbox.arrivals("return", return_for(invoice))
            receipts = _race(
                hub,
                [
                    (webhook.callback, "webhook"),
                    (webhook.callback, "webhook"),
                    (back.callback, "return"),
                ],
            )
            told = [r.change for r in receipts if r.change is not None]
            assert len(told) == 1, told
            assert (told[0].previous, told[0].status) == (PaymentStatus.PENDING, PaymentStatus.PAID)
            assert sorted(r.duplicate for r in receipts[:2]) == [False, True]
            assert all(r.payment.status is PaymentStatus.PAID for r in receipts)
            notified = [c for c in recorder.changes if c.invoice_number == invoice.number]
            assert [c.status for c in notified] == [PaymentStatus.PENDING, PaymentStatus.PAID]
            assert len({c.id for c in notified}) == 2
            assert len(hub.payment(invoice.number).history) == 2


def test_twenty_copies_of_one_webhook_are_one_change_and_nineteen_duplicates(
    sandbox: Sandbox, ledger_url: str
) -> None:
    recorder = Recorder()
    with Hub(sandbox.config(ledger_url), plugins=[recorder]) as hub:
        invoice = sandbox.invoice("DUPS-")
        checkout = hub.initiate(invoice)
        sandbox.approve(checkout.action.url)  # type: ignore[union-attr]
        (webhook,) = sandbox.arrivals("webhook", webhook_for(invoice))
        receipts = _race(hub, [(webhook.callback, "webhook")] * 20)
        assert sum(r.change is not None for r in receipts) == 1
        assert sum(r.duplicate for r in receipts) == 19
        paid = [c for c in recorder.changes if c.status is PaymentStatus.PAID]
        assert len(paid) == 1
