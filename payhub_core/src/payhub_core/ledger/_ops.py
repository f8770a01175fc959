"""The ledger's transactions, written once for both stores.

Each function here returns a *transaction body*: a generator that yields SQLAlchemy Core
statements, receives their :class:`Rows`, and returns a value. The sync store runs a body
on a ``Connection`` of a sync engine, the async store on an ``AsyncConnection``: the same
statements in the same order, one transaction per body (the way adapters' flows serve
``Hub`` and ``AsyncHub``). A body that raises rolls its transaction back.

Locking: every body that writes a payment first locks its row (``SELECT ... FOR UPDATE``
on PostgreSQL; on SQLite the store opens write transactions with ``BEGIN IMMEDIATE``,
which takes the database's write lock), then reads fresh state, then decides with the pure
rules of :mod:`._rules`. No body talks to a gateway: the hub does that between bodies.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.sql import Executable

from payhub_core._errors import InvoiceConflict, LedgerError, OperationBlocked, PaymentNotFound
from payhub_core._models import Checkout, Invoice, PaymentResult, PaymentStatus
from payhub_core._money import Money
from payhub_core.ledger import _rules
from payhub_core.ledger._records import (
    Attempt,
    Change,
    MoneyOperation,
    Payment,
    Source,
)
from payhub_core.ledger._schema import (
    attempts,
    changes,
    evidence,
    operations,
    outbox,
    payments,
    refunds,
)

__all__ = ["Body", "Rows", "Tx"]

T = TypeVar("T")
X = TypeVar("X")
S = PaymentStatus


@dataclass
class Rows:
    """What one statement gave back: its rows (as dicts) and its row count."""

    rows: list[dict[str, Any]]
    rowcount: int

    def first(self) -> dict[str, Any] | None:
        return self.rows[0] if self.rows else None


@dataclass(frozen=True)
class Tx:
    """What a body may know about where it runs: the database dialect and the time the
    transaction started (UTC)."""

    dialect: str
    now: datetime


Body = Generator[Executable, Rows, T]


def must(value: X | None) -> X:
    """A row the transaction itself locked or found a moment ago must be there."""
    if value is None:
        raise LedgerError("the ledger lost a row it had just read; this is a bug in payhub")
    return value


def utc(value: datetime) -> datetime:
    """SQLite gives back naive datetimes; every stored time is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _insert_ignore(tx: Tx, table: Any, keys: Sequence[str], **values: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING <key>``: the unique key decides the
    single winner, which gets a row back (a loser gets none)."""
    if tx.dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement: Any = pg_insert(table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table)
    return (
        statement.values(**values)
        .on_conflict_do_nothing(index_elements=keys)
        .returning(*(table.c[key] for key in keys))
    )


def stored_invoice(invoice: Invoice) -> str:
    """The invoice as stored: without payment method details (a card is never stored)."""
    data = invoice.model_dump(mode="json")
    method = invoice.payment_method
    if method is not None and not isinstance(method, str):
        data["payment_method"] = method.kind
    return json.dumps(data, sort_keys=True)


def _invoice(text: str) -> Invoice:
    return Invoice.model_validate(json.loads(text))


def _minor(money: Money | None, currency: str) -> int | None:
    if money is None or money.currency != currency:
        return None
    return money.minor_units


# -- reading --------------------------------------------------------------------------


def _lock_payment(tx: Tx, *where: Any) -> Body[dict[str, Any] | None]:
    rows = yield select(payments).where(*where).with_for_update()
    return rows.first()


def _standing(row: dict[str, Any], refund_ids: frozenset[str]) -> _rules.Standing:
    return _rules.Standing(
        status=PaymentStatus(row["status"]),
        amount=int(row["amount"]),
        authorized=int(row["authorized"]),
        captured=int(row["captured"]),
        refunded=int(row["refunded"]),
        refunds=refund_ids,
    )


def _refund_ids(payment_id: int) -> Body[frozenset[str]]:
    rows = yield select(refunds.c.refund_id).where(refunds.c.payment_id == payment_id)
    return frozenset(str(row["refund_id"]) for row in rows.rows)


def _change(row: dict[str, Any], invoice_number: str) -> Change:
    return Change(
        id=row["id"],
        invoice_number=invoice_number,
        gateway=row["gateway"],
        previous=PaymentStatus(row["previous"]) if row["previous"] else None,
        status=PaymentStatus(row["status"]),
        source=row["source"],
        at=utc(row["at"]),
        evidence_digest=row["evidence_digest"],
        reason=row["reason"],
        actor=row["actor"],
    )


def load_payment(payment_id: int) -> Body[Payment]:
    row = (yield select(payments).where(payments.c.id == payment_id)).first()
    if row is None:
        raise PaymentNotFound("the ledger has no such payment")
    tried = (
        yield select(attempts).where(attempts.c.payment_id == payment_id).order_by(attempts.c.id)
    )
    history = (
        yield select(changes).where(changes.c.payment_id == payment_id).order_by(changes.c.seq)
    )
    ops = (
        yield select(operations)
        .where(operations.c.payment_id == payment_id)
        .order_by(operations.c.created_at, operations.c.key)
    )
    return _payment(row, tried.rows, history.rows, ops.rows)


def _payment(
    row: dict[str, Any],
    tried: list[dict[str, Any]],
    history: list[dict[str, Any]],
    ops: list[dict[str, Any]],
) -> Payment:
    invoice = _invoice(row["invoice"])
    currency = row["currency"]
    attempt_list = tuple(
        Attempt(
            gateway=item["gateway"],
            state=item["state"],
            reference=item["reference"],
            status=PaymentStatus(item["status"]),
            checkout=Checkout.model_validate(json.loads(item["checkout"]))
            if item["checkout"]
            else None,
            created_at=utc(item["created_at"]),
        )
        for item in tried
    )
    current = next(
        (item for item in reversed(attempt_list) if item.gateway == row["gateway"]), None
    )
    return Payment(
        invoice=invoice,
        gateway=row["gateway"],
        status=PaymentStatus(row["status"]),
        authorized=Money.from_minor(int(row["authorized"]), currency),
        captured=Money.from_minor(int(row["captured"]), currency),
        refunded=Money.from_minor(int(row["refunded"]), currency),
        reference=current.reference if current is not None else None,
        attempts=attempt_list,
        history=tuple(_change(item, invoice.number) for item in history),
        operations=tuple(
            MoneyOperation(
                kind=item["kind"],
                key=item["key"],
                gateway=item["gateway"],
                amount=None
                if item["amount"] is None
                else Money.from_minor(int(item["amount"]), currency),
                state=item["state"],
                created_at=utc(item["created_at"]),
            )
            for item in ops
        ),
        paid_twice=bool(row["paid_twice"]),
        unknown_operation=bool(row["blocked"])
        or any(item.state == "unknown" for item in attempt_list),
        created_at=utc(row["created_at"]),
        updated_at=utc(row["updated_at"]),
    )


def payment_by_number(number: str) -> Body[Payment]:
    row = (yield select(payments.c.id).where(payments.c.invoice_number == number)).first()
    if row is None:
        raise PaymentNotFound(f"the ledger has no payment for invoice {number!r}")
    payment: Payment = yield from load_payment(int(row["id"]))
    return payment


def list_payments(status: Sequence[PaymentStatus] | None) -> Body[list[Payment]]:
    query = select(payments.c.id).order_by(payments.c.created_at, payments.c.id)
    if status:
        query = query.where(payments.c.status.in_([item.value for item in status]))
    ids = yield query
    found: list[Payment] = []
    for row in ids.rows:
        payment: Payment = yield from load_payment(int(row["id"]))
        found.append(payment)
    return found


# -- recording changes ------------------------------------------------------------------


@dataclass
class Written:
    """What a writing body did: the change it recorded (if any) and the outbox ids to
    deliver after commit."""

    payment: Payment | None = None
    change: Change | None = None
    duplicate: bool = False
    outbox: list[str] = field(default_factory=list)


def _record_change(
    tx: Tx,
    payment_id: int,
    gateway: str,
    previous: PaymentStatus | None,
    status: PaymentStatus,
    source: Source,
    *,
    digest: str | None = None,
    reason: str | None = None,
    actor: str | None = None,
) -> Body[str]:
    """Insert one change and its outbox row (same transaction: both or neither)."""
    seq_row = (
        yield select(func.coalesce(func.max(changes.c.seq), 0).label("seq")).where(
            changes.c.payment_id == payment_id
        )
    ).first()
    seq = int(seq_row["seq"]) + 1 if seq_row else 1
    change_id = uuid.uuid4().hex
    yield changes.insert().values(
        id=change_id,
        payment_id=payment_id,
        seq=seq,
        gateway=gateway,
        previous=previous.value if previous is not None else None,
        status=status.value,
        source=source,
        at=tx.now,
        evidence_digest=digest,
        reason=reason,
        actor=actor,
    )
    yield outbox.insert().values(id=change_id, payment_id=payment_id, created_at=tx.now, tries=0)
    return change_id


def _save_standing(
    tx: Tx, payment_id: int, before: _rules.Standing, after: _rules.Standing, **extra: Any
) -> Body[None]:
    problem = _rules.invariant_problem(after)
    if problem is not None:  # the pure rules never allow it; refuse rather than store it
        raise OperationBlocked(f"the ledger refused a change that would break {problem}")
    yield (
        update(payments)
        .where(payments.c.id == payment_id)
        .values(
            status=after.status.value,
            authorized=after.authorized,
            captured=after.captured,
            refunded=after.refunded,
            updated_at=tx.now,
            **extra,
        )
    )
    for refund_id in sorted(after.refunds - before.refunds):
        yield refunds.insert().values(payment_id=payment_id, refund_id=refund_id)


def _apply_event(
    tx: Tx,
    row: dict[str, Any],
    gateway: str,
    event: _rules.Event,
    source: Source,
    *,
    digest: str | None = None,
    reason: str | None = None,
    actor: str | None = None,
    force: bool = False,
) -> Body[Written]:
    """Apply ``event`` to the locked payment ``row``; record a change if it changed."""
    payment_id = int(row["id"])
    ids = yield from _refund_ids(payment_id)
    before = _standing(row, ids)
    after = _rules.apply(before, event)
    written = Written()
    if after is before and not force:
        return written
    yield from _save_standing(tx, payment_id, before, after)
    change_id = yield from _record_change(
        tx,
        payment_id,
        gateway,
        before.status,
        after.status,
        source,
        digest=digest,
        reason=reason,
        actor=actor,
    )
    written.outbox.append(change_id)
    return written


def _event(result: PaymentResult, currency: str) -> _rules.Event:
    refund_id = None
    if result.status in (S.PARTIALLY_REFUNDED, S.REFUNDED):
        refund_id = result.transaction_id
    return _rules.Event(
        status=result.status, amount=_minor(result.amount, currency), refund_id=refund_id
    )


def _finish(written: Written, payment_id: int, invoice_number: str) -> Body[Written]:
    written.payment = yield from load_payment(payment_id)
    if written.outbox:
        change_id = written.outbox[-1]
        written.change = next(item for item in written.payment.history if item.id == change_id)
    return written


# -- initiate -------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming an (invoice, gateway) attempt.

    ``won``: this caller sends the request. ``checkout``: it is stored, return it.
    ``wait``: another caller is sending right now.
    """

    payment_id: int
    won: bool = False
    checkout: Checkout | None = None
    state: str = ""


def claim(tx: Tx, invoice: Invoice, gateway: str, token: str, claim_timeout: float) -> Body[Claim]:
    """Find or create the payment and claim its attempt on ``gateway``.

    A unique key on (payment, gateway) decides the single winner; under the payment's lock
    everybody else sees the winner's claim.
    """
    amount = invoice.amount
    row = yield from _lock_payment(tx, payments.c.invoice_number == invoice.number)
    if row is None:
        inserted = yield _insert_ignore(
            tx,
            payments,
            ["invoice_number"],
            invoice_number=invoice.number,
            currency=amount.currency,
            amount=amount.minor_units,
            invoice=stored_invoice(invoice),
            gateway=gateway,
            status=S.PENDING.value,
            authorized=0,
            captured=0,
            refunded=0,
            paid_twice=False,
            blocked=False,
            created_at=tx.now,
            updated_at=tx.now,
        )
        del inserted
        row = yield from _lock_payment(tx, payments.c.invoice_number == invoice.number)
        row = must(row)
    if row["currency"] != amount.currency or int(row["amount"]) != amount.minor_units:
        raise InvoiceConflict(
            f"invoice {invoice.number!r} is already in the ledger with another amount or "
            "currency; nothing was sent",
            field="amount",
            rule="the same invoice number always has the same amount and currency",
        )
    payment_id = int(row["id"])
    found = (
        yield select(attempts)
        .where(attempts.c.payment_id == payment_id, attempts.c.gateway == gateway)
        .with_for_update()
    ).first()
    if found is None:
        status = PaymentStatus(row["status"])
        if status not in (S.PENDING, S.FAILED):
            raise OperationBlocked(
                f"invoice {invoice.number!r} is already {status}; a new attempt on gateway "
                f"{gateway!r} would charge it twice"
            )
        inserted = yield _insert_ignore(
            tx,
            attempts,
            ["payment_id", "gateway"],
            payment_id=payment_id,
            gateway=gateway,
            state="sending",
            claim=token,
            claimed_at=tx.now,
            status=S.PENDING.value,
            created_at=tx.now,
        )
        if inserted.rows:
            yield (
                update(payments)
                .where(payments.c.id == payment_id)
                .values(gateway=gateway, updated_at=tx.now)
            )
            return Claim(payment_id=payment_id, won=True)
        found = (
            yield select(attempts).where(
                attempts.c.payment_id == payment_id, attempts.c.gateway == gateway
            )
        ).first()
        found = must(found)
    state = found["state"]
    if state == "open" and found["checkout"]:
        checkout = Checkout.model_validate(json.loads(found["checkout"]))
        return Claim(payment_id=payment_id, checkout=checkout, state=state)
    if state == "open":
        raise OperationBlocked(
            f"gateway {gateway!r} created invoice {invoice.number!r} but its checkout was "
            "lost (settled by reconcile or an operator); it is not created again",
            gateway=gateway,
            operation="initiate",
        )
    if state == "refused":
        taken = yield (
            update(attempts)
            .where(attempts.c.id == found["id"], attempts.c.state == "refused")
            .values(state="sending", claim=token, claimed_at=tx.now)
        )
        return Claim(payment_id=payment_id, won=taken.rowcount == 1, state="sending")
    if state == "sending" and utc(found["claimed_at"]) < tx.now - timedelta(seconds=claim_timeout):
        yield update(attempts).where(attempts.c.id == found["id"]).values(state="unknown")
        state = "unknown"
    if state == "unknown":
        raise OperationBlocked(
            f"whether gateway {gateway!r} created invoice {invoice.number!r} is unknown (an "
            "earlier initiate did not finish); reconcile it before initiating again"
        )
    return Claim(payment_id=payment_id, state=state)


def look(payment_id: int, gateway: str) -> Body[tuple[str, Checkout | None]]:
    """The attempt's state and stored checkout (no lock: a waiting caller polls this)."""
    found = (
        yield select(attempts.c.state, attempts.c.checkout).where(
            attempts.c.payment_id == payment_id, attempts.c.gateway == gateway
        )
    ).first()
    if found is None:
        return "refused", None
    stored = found["checkout"]
    return found["state"], Checkout.model_validate(json.loads(stored)) if stored else None


def store_checkout(
    tx: Tx, payment_id: int, gateway: str, checkout: Checkout
) -> Body[tuple[Checkout, Written]]:
    """The winner stores the gateway's checkout; the first attempt records the payment's
    first change (source ``initiate``)."""
    row = yield from _lock_payment(tx, payments.c.id == payment_id)
    row = must(row)
    stored = checkout.model_copy(update={"gateway": gateway})
    yield (
        update(attempts)
        .where(attempts.c.payment_id == payment_id, attempts.c.gateway == gateway)
        .values(
            state="open",
            reference=stored.reference,
            status=stored.status.value,
            checkout=stored.model_dump_json(),
        )
    )
    first = (yield select(changes.c.id).where(changes.c.payment_id == payment_id).limit(1)).first()
    written = Written()
    if first is None:
        change_id = yield from _record_change(
            tx, payment_id, gateway, None, PaymentStatus(row["status"]), "initiate"
        )
        written.outbox.append(change_id)
    if stored.status is not S.PENDING:
        more = yield from _apply_event(
            tx, row, gateway, _rules.Event(status=stored.status), "initiate"
        )
        written.outbox += more.outbox
    return stored, written


def attempt_failed(payment_id: int, gateway: str, *, unknown: bool) -> Body[None]:
    """The gateway refused (a later initiate may try again), or its answer was lost."""
    yield (
        update(attempts)
        .where(
            attempts.c.payment_id == payment_id,
            attempts.c.gateway == gateway,
            attempts.c.state == "sending",
        )
        .values(state="unknown" if unknown else "refused")
    )


# -- evidence ---------------------------------------------------------------------------


def find_for_result(gateway: str, result: PaymentResult) -> Body[tuple[int, Invoice]]:
    """The payment a verified result is about: by its invoice number, else by the gateway
    reference of one of its attempts on this gateway."""
    if result.invoice_number is not None:
        query = (
            select(payments.c.id, payments.c.invoice)
            .join(attempts, attempts.c.payment_id == payments.c.id)
            .where(
                payments.c.invoice_number == result.invoice_number, attempts.c.gateway == gateway
            )
        )
    else:
        query = (
            select(payments.c.id, payments.c.invoice)
            .join(attempts, attempts.c.payment_id == payments.c.id)
            .where(attempts.c.gateway == gateway, attempts.c.reference == result.reference)
        )
    row = (yield query).first()
    if row is None:
        raise PaymentNotFound(
            f"the ledger has no payment on gateway {gateway!r} for this evidence",
            gateway=gateway,
        )
    return int(row["id"]), _invoice(row["invoice"])


def apply_evidence(
    tx: Tx,
    payment_id: int,
    gateway: str,
    digest: str,
    result: PaymentResult,
    source: Source,
) -> Body[Written]:
    """Store the evidence once and apply what it says, under the payment's lock."""
    row = yield from _lock_payment(tx, payments.c.id == payment_id)
    row = must(row)
    stored = yield _insert_ignore(
        tx,
        evidence,
        ["digest"],
        digest=digest,
        payment_id=payment_id,
        gateway=gateway,
        source=source,
        status=result.status.value,
        event_id=result.event_id,
        received_at=tx.now,
    )
    if not stored.rows:
        done = Written(duplicate=True)
        result_written: Written = yield from _finish(done, payment_id, row["invoice_number"])
        return result_written
    written = yield from _record_attempt_result(tx, row, gateway, result, source, digest)
    finished: Written = yield from _finish(written, payment_id, row["invoice_number"])
    return finished


def receive_evidence(
    tx: Tx,
    gateway: str,
    digest: str,
    result: PaymentResult,
    source: Source,
    check: Callable[[PaymentResult, Invoice], None],
) -> Body[Written]:
    """Find the payment, ``check`` the result against its stored invoice (``expected=``:
    a mismatch raises and nothing is stored), then :func:`apply_evidence`; one
    transaction."""
    payment_id, invoice = yield from find_for_result(gateway, result)
    check(result, invoice)
    written: Written = yield from apply_evidence(tx, payment_id, gateway, digest, result, source)
    return written


def _record_attempt_result(
    tx: Tx,
    row: dict[str, Any],
    gateway: str,
    result: PaymentResult,
    source: Source,
    digest: str | None,
) -> Body[Written]:
    payment_id = int(row["id"])
    tried = yield select(attempts).where(attempts.c.payment_id == payment_id)
    mine = next((item for item in tried.rows if item["gateway"] == gateway), None)
    reason = None
    paid_twice = bool(row["paid_twice"])
    if mine is not None:
        attempt_status = PaymentStatus(mine["status"])
        if result.status != attempt_status and _rules.is_forward(attempt_status, result.status):
            yield (
                update(attempts)
                .where(attempts.c.id == mine["id"])
                .values(status=result.status.value, reference=mine["reference"] or result.reference)
            )
        money = (S.PAID, S.AUTHORIZED)
        others_paid = [
            item["gateway"]
            for item in tried.rows
            if item["gateway"] != gateway and PaymentStatus(item["status"]) in money
        ]
        if result.status in money and others_paid and not paid_twice:
            paid_twice = True
            reason = (
                f"paid twice: attempts on {gateway!r} and {others_paid[0]!r} are both "
                f"{result.status}; refund one of them"
            )
    if paid_twice and not row["paid_twice"]:
        yield update(payments).where(payments.c.id == payment_id).values(paid_twice=True)
    written: Written = yield from _apply_event(
        tx,
        row,
        gateway,
        _event(result, row["currency"]),
        source,
        digest=digest,
        reason=reason,
        force=reason is not None,
    )
    return written


# -- money operations ---------------------------------------------------------------


@dataclass(frozen=True)
class Begun:
    payment_id: int
    key: str
    amount: int | None
    currency: str


def begin_operation(
    tx: Tx,
    gateway: str,
    reference: str,
    kind: str,
    amount: Money | None,
    claim_timeout: float,
) -> Body[Begun]:
    """Check the money invariants and write the operation (with its merchant reference)
    before anything is sent; an operation in flight or of unknown outcome blocks."""
    found = (
        yield select(attempts.c.payment_id).where(
            attempts.c.gateway == gateway, attempts.c.reference == reference
        )
    ).first()
    if found is None:
        raise PaymentNotFound(
            f"the ledger has no payment with reference {reference!r} on gateway {gateway!r}",
            gateway=gateway,
            operation=kind,
        )
    payment_id = int(found["payment_id"])
    row = yield from _lock_payment(tx, payments.c.id == payment_id)
    row = must(row)
    currency = row["currency"]
    if amount is not None and amount.currency != currency:
        raise OperationBlocked(
            f"the payment is in {currency}, not {amount.currency}", operation=kind
        )
    busy = (
        yield select(operations.c.key, operations.c.state, operations.c.created_at).where(
            operations.c.payment_id == payment_id,
            operations.c.state.in_(["sending", "unknown"]),
        )
    ).rows
    stale = tx.now - timedelta(seconds=claim_timeout)
    for item in busy:
        if item["state"] == "sending" and utc(item["created_at"]) < stale:
            yield (
                update(operations)
                .where(operations.c.key == item["key"])
                .values(state="unknown", updated_at=tx.now)
            )
            yield update(payments).where(payments.c.id == payment_id).values(blocked=True)
    if busy:
        raise OperationBlocked(
            f"another {kind if len(busy) == 1 else 'operation'} on this payment is in flight "
            "or has an unknown outcome; reconcile before moving money again",
            operation=kind,
        )
    ids = yield from _refund_ids(payment_id)
    wanted, problem = _rules.check_operation(
        _standing(row, ids), kind, _minor(amount, currency), blocked=bool(row["blocked"])
    )
    if problem is not None:
        raise OperationBlocked(problem, gateway=gateway, operation=kind)
    key = _rules.operation_key(kind, os.urandom(16))
    yield operations.insert().values(
        key=key,
        payment_id=payment_id,
        gateway=gateway,
        kind=kind,
        amount=wanted,
        state="sending",
        created_at=tx.now,
        updated_at=tx.now,
    )
    return Begun(payment_id=payment_id, key=key, amount=wanted, currency=currency)


def finish_operation(
    tx: Tx, begun: Begun, kind: Source, result: PaymentResult | None, state: str
) -> Body[Written]:
    """Record what the gateway said: ``done`` (apply it), ``refused`` (nothing moved) or
    ``unknown`` (block further money operations until reconciled)."""
    row = yield from _lock_payment(tx, payments.c.id == begun.payment_id)
    row = must(row)
    yield (
        update(operations)
        .where(operations.c.key == begun.key)
        .values(state=state, updated_at=tx.now)
    )
    written = Written()
    if state == "unknown":
        yield update(payments).where(payments.c.id == begun.payment_id).values(blocked=True)
    elif state == "done" and result is not None:
        event = _operation_event(kind, result, begun)
        written = yield from _apply_event(tx, row, row["gateway"], event, kind)
    finished: Written = yield from _finish(written, begun.payment_id, row["invoice_number"])
    return finished


def _operation_event(kind: str, result: PaymentResult, begun: Begun) -> _rules.Event:
    amount = _minor(result.amount, begun.currency)
    if kind == "refund":
        if result.status not in (S.PARTIALLY_REFUNDED, S.REFUNDED):
            return _rules.Event(status=result.status)  # accepted, not processed yet
        return _rules.Event(
            status=result.status,
            amount=begun.amount if begun.amount is not None else amount,
            refund_id=result.transaction_id or begun.key,
        )
    if kind == "capture" and result.status is S.PAID:
        return _rules.Event(status=S.PAID, amount=begun.amount or amount)
    return _rules.Event(status=result.status)


# -- reconcile and operator resolution -------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    payment_id: int
    invoice_number: str
    gateway: str
    reference: str | None
    status: PaymentStatus
    unknown_keys: tuple[tuple[str, str], ...]  # (key, kind) of operations in doubt
    attempt_unknown: bool


def candidates(tx: Tx, older_than: float) -> Body[list[Candidate]]:
    """Payments still pending (or with an operation or attempt in doubt) whose last
    change is older than ``older_than`` seconds."""
    cutoff = tx.now - timedelta(seconds=older_than)
    doubtful = select(operations.c.payment_id).where(
        or_(
            operations.c.state == "unknown",
            and_(operations.c.state == "sending", operations.c.updated_at <= cutoff),
        )
    )
    stuck = select(attempts.c.payment_id).where(
        or_(
            attempts.c.state == "unknown",
            and_(attempts.c.state == "sending", attempts.c.claimed_at <= cutoff),
        )
    )
    rows = (
        yield select(payments)
        .where(
            or_(
                and_(payments.c.status == S.PENDING.value, payments.c.updated_at <= cutoff),
                payments.c.blocked.is_(True),
                payments.c.id.in_(doubtful),
                payments.c.id.in_(stuck),
            )
        )
        .order_by(payments.c.id)
    )
    found: list[Candidate] = []
    for row in rows.rows:
        payment_id = int(row["id"])
        tried = (
            yield select(attempts).where(
                attempts.c.payment_id == payment_id, attempts.c.gateway == row["gateway"]
            )
        ).first()
        ops = (
            yield select(operations.c.key, operations.c.kind).where(
                operations.c.payment_id == payment_id,
                or_(
                    operations.c.state == "unknown",
                    and_(operations.c.state == "sending", operations.c.updated_at <= cutoff),
                ),
            )
        ).rows
        attempt_unknown = tried is not None and (
            tried["state"] == "unknown"
            or (tried["state"] == "sending" and utc(tried["claimed_at"]) <= cutoff)
        )
        found.append(
            Candidate(
                payment_id=payment_id,
                invoice_number=row["invoice_number"],
                gateway=row["gateway"],
                reference=tried["reference"] if tried is not None else None,
                status=PaymentStatus(row["status"]),
                unknown_keys=tuple((item["key"], item["kind"]) for item in ops),
                attempt_unknown=attempt_unknown,
            )
        )
    return found


def apply_status(
    tx: Tx, candidate: Candidate, result: PaymentResult, raw_text: str
) -> Body[tuple[Written, bool]]:
    """Apply a status answer found by reconcile and settle the operations in doubt.
    Returns what was written and whether everything in doubt is now settled."""
    row = yield from _lock_payment(tx, payments.c.id == candidate.payment_id)
    row = must(row)
    if candidate.reference is None:
        # Found by merchant reference (the initiate's answer was lost): the gateway
        # created it, so the attempt is open under the gateway's reference from now on.
        yield (
            update(attempts)
            .where(
                attempts.c.payment_id == candidate.payment_id,
                attempts.c.gateway == candidate.gateway,
                attempts.c.state.in_(["unknown", "sending"]),
                attempts.c.reference.is_(None),
            )
            .values(state="open", reference=result.reference, status=result.status.value)
        )
    settled = True
    for key, kind in candidate.unknown_keys:
        happened = _rules.operation_effect(kind, result.status, key, raw_text)
        if happened is None:
            settled = False
            continue
        yield (
            update(operations)
            .where(operations.c.key == key)
            .values(state="done" if happened else "refused", updated_at=tx.now)
        )
    event = _event(result, row["currency"])
    written: Written = yield from _apply_event(tx, row, candidate.gateway, event, "reconcile")
    if settled:
        yield (update(payments).where(payments.c.id == candidate.payment_id).values(blocked=False))
    return written, settled


def never_created(tx: Tx, candidate: Candidate) -> Body[Written]:
    """The gateway holds no payment under the lost initiate's merchant reference: the
    create never took effect and no money moved. The attempt is refused (a new initiate
    may try again) and a pending payment fails. ``payment`` stays ``None`` when the
    attempt was settled meanwhile (nothing then is written)."""
    row = yield from _lock_payment(tx, payments.c.id == candidate.payment_id)
    row = must(row)
    taken = yield (
        update(attempts)
        .where(
            attempts.c.payment_id == candidate.payment_id,
            attempts.c.gateway == candidate.gateway,
            attempts.c.state.in_(["unknown", "sending"]),
            attempts.c.reference.is_(None),
        )
        .values(state="refused", status=S.FAILED.value)
    )
    if taken.rowcount != 1:
        return Written()
    written: Written = yield from _apply_event(
        tx, row, candidate.gateway, _rules.Event(status=S.FAILED), "reconcile"
    )
    if not candidate.unknown_keys:
        yield update(payments).where(payments.c.id == candidate.payment_id).values(blocked=False)
    return (yield from _finish(written, candidate.payment_id, candidate.invoice_number))


def resolve(tx: Tx, number: str, status: PaymentStatus, reason: str, actor: str) -> Body[Written]:
    """An operator settles a payment: audited (who, why, when), forward only."""
    row = yield from _lock_payment(tx, payments.c.invoice_number == number)
    if row is None:
        raise PaymentNotFound(f"the ledger has no payment for invoice {number!r}")
    current = PaymentStatus(row["status"])
    if status != current and not _rules.is_forward(current, status):
        raise OperationBlocked(
            f"invoice {number!r} is {current}; it cannot become {status} (state never goes back)"
        )
    payment_id = int(row["id"])
    yield (
        update(operations)
        .where(
            operations.c.payment_id == payment_id, operations.c.state.in_(["unknown", "sending"])
        )
        .values(state="done" if status is not S.FAILED else "refused", updated_at=tx.now)
    )
    yield (
        update(attempts)
        .where(attempts.c.payment_id == payment_id, attempts.c.state.in_(["unknown", "sending"]))
        .values(state="refused" if status is S.FAILED else "open")
    )
    yield update(payments).where(payments.c.id == payment_id).values(blocked=False)
    written: Written = yield from _apply_event(
        tx,
        row,
        row["gateway"],
        _rules.Event(status=status),
        "operator",
        reason=reason,
        actor=actor,
        force=True,
    )
    finished: Written = yield from _finish(written, payment_id, number)
    return finished


# -- outbox -------------------------------------------------------------------------


def pending_outbox(tx: Tx, before: datetime | None) -> Body[list[str]]:
    query = select(outbox.c.id).where(outbox.c.delivered_at.is_(None))
    if before is not None:
        query = query.where(outbox.c.created_at < before)
    rows = yield query.order_by(outbox.c.created_at, outbox.c.id)
    return [str(row["id"]) for row in rows.rows]


def mark_delivered(tx: Tx, change_ids: Sequence[str]) -> Body[None]:
    """Nobody listens (no merchant plugin implements the hook): done, in one statement."""
    yield (
        update(outbox)
        .where(outbox.c.id.in_(list(change_ids)), outbox.c.delivered_at.is_(None))
        .values(delivered_at=tx.now)
    )


def claim_delivery(
    tx: Tx, change_id: str, hold: float = 30.0, known: Payment | None = None
) -> Body[tuple[Payment, Change] | None]:
    """Claim one notification for ``hold`` seconds (so two deliverers do not both send it
    at once); the payment and change to deliver, or ``None`` if done or claimed.
    ``known`` is the payment as its writer just committed it (saves reading it again)."""
    taken = yield (
        update(outbox)
        .where(
            outbox.c.id == change_id,
            outbox.c.delivered_at.is_(None),
            or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < tx.now),
        )
        .values(claimed_until=tx.now + timedelta(seconds=hold), tries=outbox.c.tries + 1)
    )
    if taken.rowcount != 1:
        return None
    if known is not None:
        change = next((item for item in known.history if item.id == change_id), None)
        if change is not None:
            return known, change
    row = (yield select(outbox.c.payment_id).where(outbox.c.id == change_id)).first()
    row = must(row)
    payment: Payment = yield from load_payment(int(row["payment_id"]))
    change = next(item for item in payment.history if item.id == change_id)
    return payment, change


def delivered(tx: Tx, change_id: str, ok: bool) -> Body[None]:
    yield (
        update(outbox)
        .where(outbox.c.id == change_id)
        .values(
            delivered_at=tx.now if ok else None,
            claimed_until=None,
        )
    )
