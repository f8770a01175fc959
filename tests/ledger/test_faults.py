"""Database faults and a crash: the ledger says ``LedgerUnavailable`` and sends nothing,
and a process killed between the gateway's answer and the commit is settled by
``reconcile`` without sending anything twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from ledger_support import (
    PLURAL_CREATE,
    PostgresServer,
    Sandbox,
    postgres_bin,
    return_for,
)
from sqlalchemy import event
from sqlalchemy.engine import Engine

from payhub_core import (
    Hub,
    Invoice,
    LedgerUnavailable,
    OperationBlocked,
    PaymentNotFound,
    PaymentStatus,
)
from payhub_core.ledger import upgrade

NOW = timedelta(0)


def authorized(sandbox: Sandbox, hub: Hub) -> tuple[str, str]:
    invoice = sandbox.invoice("FAULT-", manual=True)
    checkout = hub.initiate(invoice)
    sandbox.approve(checkout.action.url)  # type: ignore[union-attr]
    (arrival,) = sandbox.arrivals("return", return_for(invoice))
    assert hub.receive(arrival.callback).payment.status is PaymentStatus.AUTHORIZED
    return invoice.number, checkout.reference


def captures(sandbox: Sandbox, reference: str) -> int:
    return sum(
        n for (_m, path), n in sandbox.counter.hits.items() if f"{reference}/capture" in path
    )


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries under /usr/lib/postgresql (make test installs them)")
    server = PostgresServer(bindir).start()
    try:
        yield server
    finally:
        server.destroy()


def test_a_stopped_postgres_server_is_unavailable_and_nothing_is_sent(
    sandbox: Sandbox, own_postgres: PostgresServer
) -> None:
    url = own_postgres.create_database()
    upgrade(url)
    with Hub(sandbox.config(url, connect_timeout=2)) as hub:
        first = sandbox.invoice("PGSTOP-")
        hub.initiate(first)
        own_postgres.stop()
        before = sandbox.counter.count("POST", PLURAL_CREATE)
        with pytest.raises(LedgerUnavailable, match="unreachable") as caught:
            hub.initiate(sandbox.invoice("PGSTOP-"))
        assert "nothing was sent" in str(caught.value)
        with pytest.raises(LedgerUnavailable):
            hub.payment(first.number)
        assert sandbox.counter.count("POST", PLURAL_CREATE) == before
        own_postgres.start()  # back again: the same hub goes on
        assert hub.payment(first.number).status is PaymentStatus.PENDING


class _Blocker:
    """Holds the lock a ledger write needs, from outside the hub."""

    def __init__(self, backend: str, url: str, invoice_number: str) -> None:
        self.backend = backend
        if backend == "sqlite":
            self.connection: Any = sqlite3.connect(
                url.removeprefix("sqlite:///"), isolation_level=None
            )
            self.connection.execute("BEGIN IMMEDIATE")
        else:
            import psycopg

            dsn = url.replace("postgresql+psycopg://", "postgresql://")
            self.connection = psycopg.connect(dsn)
            self.connection.execute(
                "SELECT id FROM payhub_payments WHERE invoice_number = %s FOR UPDATE",
                (invoice_number,),
            )

    def release(self) -> None:
        self.connection.rollback()
        self.connection.close()


def test_a_lock_held_past_the_timeout_is_unavailable_and_nothing_is_sent(
    sandbox: Sandbox, ledger_url: str, backend: str
) -> None:
    config = sandbox.config(ledger_url, busy_timeout=0.3, lock_timeout=0.3)
    with Hub(config) as hub:
        number, reference = authorized(sandbox, hub)
        blocker = _Blocker(backend, ledger_url, number)
        try:
            with pytest.raises(LedgerUnavailable, match="locked past its timeout"):
                hub.capture(reference)
        finally:
            blocker.release()
        assert captures(sandbox, reference) == 0
        assert hub.payment(number).operations == ()
        assert hub.capture(reference).status is PaymentStatus.PAID  # released: it goes


def test_a_read_only_sqlite_file_is_unavailable_for_writes_and_nothing_is_sent(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "ledger.sqlite3"
    upgrade(f"sqlite:///{path}")
    with Hub(sandbox.config(f"sqlite:///{path}")) as writer:
        existing = sandbox.invoice("RO-")
        writer.initiate(existing)
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    before = sandbox.counter.count("POST", PLURAL_CREATE)
    with Hub(sandbox.config(read_only)) as hub:
        with pytest.raises(LedgerUnavailable, match="read-only"):
            hub.initiate(sandbox.invoice("RO-"))
        assert sandbox.counter.count("POST", PLURAL_CREATE) == before
        assert hub.payment(existing.number).status is PaymentStatus.PENDING


def test_a_process_killed_between_the_answer_and_the_commit_is_reconciled_without_resending(
    sandbox: Sandbox, ledger_url: str
) -> None:
    config = sandbox.config(ledger_url)
    with Hub(config) as hub:
        number, reference = authorized(sandbox, hub)
    child = subprocess.Popen(  # noqa: S603 - this interpreter and our own script
        [
            sys.executable,
            str(Path(__file__).with_name("ledger_child.py")),
            "crash",
            json.dumps({"config": config, "reference": reference}),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line == "answered", child.stderr.read() if child.stderr else ""
        os.kill(child.pid, signal.SIGKILL)  # the gateway captured; the ledger never heard
    finally:
        child.kill()
        child.communicate()
    assert captures(sandbox, reference) == 1
    with Hub(config) as hub:
        payment = hub.payment(number)
        assert payment.status is PaymentStatus.AUTHORIZED
        assert [(op.kind, op.state) for op in payment.operations] == [("capture", "sending")]
        with pytest.raises(OperationBlocked):
            hub.capture(reference)  # never re-sent blindly
        report = hub.reconcile(older_than=NOW)
        assert number not in report.needs_operator
        payment = hub.payment(number)
        assert payment.status is PaymentStatus.PAID
        assert [(op.kind, op.state) for op in payment.operations] == [("capture", "done")]
        assert payment.unknown_operation is False
    assert captures(sandbox, reference) == 1  # nothing was sent twice


class _LockAfterCapture(httpx.HTTPTransport):
    """Real HTTP; once the gateway has answered a capture, the ledger's lock is taken from
    outside, so the write that records the answer fails."""

    def __init__(self, backend: str, url: str, invoice_number: str) -> None:
        super().__init__()
        self._lock = (backend, url, invoice_number)
        self.blocker: _Blocker | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/capture") and self.blocker is None:
            self.blocker = _Blocker(*self._lock)
        return response


def test_a_database_lost_after_the_gateway_answered_does_not_claim_nothing_was_sent(
    sandbox: Sandbox, ledger_url: str, backend: str
) -> None:
    config = sandbox.config(ledger_url, busy_timeout=0.3, lock_timeout=0.3)
    with Hub(config) as setup:
        number, reference = authorized(sandbox, setup)
    transport = _LockAfterCapture(backend, ledger_url, number)
    with Hub(config, transport=transport) as hub:
        try:
            with pytest.raises(LedgerUnavailable) as caught:
                hub.capture(reference)
        finally:
            assert transport.blocker is not None
            transport.blocker.release()
        message = str(caught.value)
        assert "nothing was sent" not in message
        assert "answer is not recorded" in message
        assert "payhub reconcile" in message
        assert captures(sandbox, reference) == 1
        hub.reconcile(older_than=NOW)
        assert hub.payment(number).status is PaymentStatus.PAID
        assert captures(sandbox, reference) == 1  # settled from the gateway, not sent again


class _PageCap:
    """SQLite's own ``SQLITE_FULL``: every connection the hub takes from its pool to
    ``path`` gets ``PRAGMA max_page_count`` (``None``: SQLite's default, no cap), so the
    database file cannot grow past ``pages`` while a cap is set."""

    UNCAPPED = 1073741823  # SQLite's default maximum page count

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.pages: int | None = None

    def __call__(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        files = [row[2] for row in dbapi_connection.execute("PRAGMA database_list")]
        if self.path in files:
            limit = self.UNCAPPED if self.pages is None else self.pages
            dbapi_connection.execute(f"PRAGMA max_page_count = {limit}").fetchall()


def _big(invoice: Invoice) -> Invoice:
    """An invoice whose stored row needs more than one free database page (Plural takes
    10 metadata pairs of up to 256 characters each)."""
    metadata = {f"{i}{'k' * 250}": "v" * 256 for i in range(10)}
    return Invoice.model_validate({**invoice.model_dump(), "metadata": metadata})


def test_a_full_sqlite_database_is_unavailable_and_nothing_is_sent(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "ledger.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    cap = _PageCap(path)
    event.listen(Engine, "checkout", cap)
    try:
        with Hub(sandbox.config(url)) as hub:
            first = sandbox.invoice("FULL-")
            hub.initiate(first)
            with sqlite3.connect(path) as probe:
                (pages,) = probe.execute("PRAGMA page_count").fetchone()
                (free,) = probe.execute("PRAGMA freelist_count").fetchone()
            cap.pages = int(pages)  # the file may not grow by a single page
            invoice = _big(sandbox.invoice("FULL-"))
            assert len(invoice.model_dump_json()) > 4096 * (int(free) + 1)  # needs new pages
            before = sandbox.counter.count("POST", PLURAL_CREATE)
            with pytest.raises(LedgerUnavailable, match="full") as caught:
                hub.initiate(invoice)
            assert "nothing was sent" in str(caught.value)
            assert sandbox.counter.count("POST", PLURAL_CREATE) == before
            with pytest.raises(PaymentNotFound):
                hub.payment(invoice.number)  # nothing half-written
            kept = hub.payment(first.number)
            assert kept.status is PaymentStatus.PENDING
            assert [a.state for a in kept.attempts] == ["open"]
            cap.pages = None  # space again: the same hub goes on
            checkout = hub.initiate(invoice)
            assert sandbox.counter.count("POST", PLURAL_CREATE) == before + 1
            payment = hub.payment(invoice.number)
            assert payment.reference == checkout.reference
            assert payment.invoice.metadata == invoice.metadata
            assert hub.initiate(invoice).reference == checkout.reference  # stored, once
            assert sandbox.counter.count("POST", PLURAL_CREATE) == before + 1
    finally:
        event.remove(Engine, "checkout", cap)
