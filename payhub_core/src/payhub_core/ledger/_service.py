"""What the hub does with a ledger, written once for ``Hub`` and ``AsyncHub``.

Each operation is a generator of steps: :class:`Transact` (run one transaction body on
the store), :class:`Call` (one gateway operation through the hub, outside any
transaction: no lock is held while talking to a gateway), :class:`Pause` (wait before
looking again) and :class:`Deliver` (notify merchant plugins of committed changes).
:class:`_PlanStepper` advances a plan without I/O (a ``Deliver`` becomes transactions);
:class:`SyncLedger` and :class:`AsyncLedger` only perform its steps.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any, TypeVar

import anyio

from payhub_core._errors import (
    GatewayError,
    GatewayUnavailable,
    OperationBlocked,
    PayhubError,
    PaymentNotFound,
)
from payhub_core._models import Callback, Checkout, Invoice, OtpCode, PaymentResult, PaymentStatus
from payhub_core._money import Money
from payhub_core.ledger import _ops
from payhub_core.ledger._records import (
    EVIDENCE_SOURCES,
    Change,
    Initiation,
    Payment,
    Receipt,
    ReconcileReport,
    Source,
)
from payhub_core.ledger._rules import evidence_digest
from payhub_core.ledger._settings import LedgerSettings
from payhub_core.ledger._store import AsyncStore, SyncStore, not_recorded

__all__ = ["AsyncLedger", "SyncLedger"]

logger = logging.getLogger("payhub.ledger")

T = TypeVar("T")


@dataclass(frozen=True)
class Transact:
    factory: Callable[[_ops.Tx], _ops.Body[Any]]
    write: bool = True


@dataclass(frozen=True)
class Call:
    """``operation`` on ``gateway`` through the hub; ``expected`` as ``verify`` takes it."""

    gateway: str
    operation: str
    arguments: dict[str, Any] = field(default_factory=dict)

    @property
    def moves_money(self) -> bool:
        """Whether the gateway may have moved money once this call was sent: every
        operation but ``status`` and the verification of a received callback."""
        if self.operation == "verify":
            return isinstance(self.arguments.get("evidence"), OtpCode)
        return self.operation != "status"


@dataclass(frozen=True)
class Pause:
    seconds: float


@dataclass(frozen=True)
class Deliver:
    change_ids: tuple[str, ...]
    before: datetime | None = None  # deliver every pending one created before this
    payment: Payment | None = None  # as just committed (not read again)


Step = Transact | Call | Pause | Deliver
Plan = Generator[Step, Any, T]


# -- the plans ----------------------------------------------------------------------------


def initiate(settings: LedgerSettings, invoice: Invoice, gateway: str) -> Plan[Initiation]:
    """Rule 1: one request to the gateway however many callers; all get one checkout.
    ``created`` tells the one caller whose request the gateway answered."""
    deadline = time.monotonic() + settings.initiate_wait
    while True:
        token = uuid.uuid4().hex
        claim: _ops.Claim = yield Transact(
            lambda tx, token=token: _ops.claim(  # type: ignore[misc]
                tx, invoice, gateway, token, settings.claim_timeout
            )
        )
        if claim.checkout is not None:
            return Initiation(claim.checkout, created=False)
        if claim.won:
            checkout: Checkout = yield from _send_initiate(claim.payment_id, invoice, gateway)
            return Initiation(checkout, created=True)
        while True:  # another caller is sending: wait for its checkout (bounded)
            if time.monotonic() > deadline:
                raise OperationBlocked(
                    f"another initiate of invoice {invoice.number!r} on gateway {gateway!r} "
                    f"has not finished within {settings.initiate_wait:g} s; try again later",
                    gateway=gateway,
                    operation="initiate",
                )
            yield Pause(settings.poll_interval)
            payment_id = claim.payment_id
            state, stored = yield Transact(
                lambda _tx, p=payment_id: _ops.look(p, gateway),  # type: ignore[misc]
                write=False,
            )
            if stored is not None:
                return Initiation(stored, created=False)
            if state != "sending":
                break  # refused or unknown: claim again, which says what to do


def _send_initiate(payment_id: int, invoice: Invoice, gateway: str) -> Plan[Checkout]:
    try:
        checkout: Checkout = yield Call(gateway, "initiate", {"invoice": invoice})
    except GatewayUnavailable as error:
        unknown = error.outcome_unknown
        yield Transact(lambda _tx: _ops.attempt_failed(payment_id, gateway, unknown=unknown))
        raise
    except PayhubError:
        yield Transact(lambda _tx: _ops.attempt_failed(payment_id, gateway, unknown=False))
        raise
    stored, written = yield Transact(
        lambda tx: _ops.store_checkout(tx, payment_id, gateway, checkout)
    )
    yield Deliver(tuple(written.outbox))
    return stored  # type: ignore[no-any-return]


_MONEY_MOVED = frozenset(
    {
        PaymentStatus.AUTHORIZED,
        PaymentStatus.PAID,
        PaymentStatus.PARTIALLY_REFUNDED,
        PaymentStatus.REFUNDED,
    }
)


def _confirmed(gateway: str, code: OtpCode) -> _ops.Body[Payment | None]:
    """The stored payment when the attempt ``code`` confirms (same gateway, same
    reference) has already moved money, else ``None``."""
    try:
        payment: Payment = yield from _ops.payment_by_number(code.invoice.number)
    except PaymentNotFound:
        return None
    for attempt in payment.attempts:
        if attempt.gateway == gateway and attempt.reference == code.reference:
            current = payment.gateway == gateway and payment.reference == code.reference
            if attempt.status in _MONEY_MOVED or (current and payment.status in _MONEY_MOVED):
                return payment
    return None


def already_confirmed(
    code: OtpCode, gateway: str, expected: Invoice | None = None
) -> Plan[tuple[Payment, PaymentResult] | None]:
    """Rule 2 for a one-time code: confirming a code moves money, so a confirmation of an
    attempt the ledger holds as paid is answered from the ledger and not sent again (the
    gateway would refuse it, and the refusal must not read as a failed payment).

    The answer is the ledger's stored state, checked against ``expected`` (the code's own
    invoice when not given) exactly as a gateway's answer would be. ``None``: not
    confirmed yet, send it. Two confirmations racing for a pending payment may both be
    sent; the gateway then refuses the second as already processed.
    """
    from payhub_core._hub import check_expected

    payment: Payment | None = yield Transact(lambda _tx: _confirmed(gateway, code), write=False)
    if payment is None:
        return None
    result = PaymentResult(
        gateway=gateway,
        status=payment.status,
        invoice_number=payment.invoice_number,
        amount=payment.amount,
        reference=code.reference,
        raw={"ledger": "already confirmed; the code was not sent to the gateway again"},
    )
    check_expected(result, expected if expected is not None else code.invoice)
    return payment, result


def receive(evidence: Callback | OtpCode, gateway: str, source: Source) -> Plan[Receipt]:
    """Rules 2 and 3: verify, find, check against the stored invoice, store once, apply
    under the payment's lock."""
    from payhub_core._hub import check_expected

    if source not in EVIDENCE_SOURCES:
        raise ValueError(f"source must be one of {', '.join(EVIDENCE_SOURCES)}")
    if isinstance(evidence, OtpCode):
        known = yield from already_confirmed(evidence, gateway)
        if known is not None:
            return Receipt(payment=known[0], result=known[1], change=None, duplicate=True)
    result: PaymentResult = yield Call(gateway, "verify", {"evidence": evidence})
    digest = evidence_digest(gateway, evidence, result)
    written: _ops.Written = yield Transact(
        lambda tx: _ops.receive_evidence(tx, gateway, digest, result, source, check_expected)
    )
    yield Deliver(tuple(written.outbox), payment=written.payment)
    return Receipt(
        payment=_ops.must(written.payment),
        result=result,
        change=written.change,
        duplicate=written.duplicate,
    )


def verify_expected(result: PaymentResult, gateway: str) -> Plan[None]:
    """``verify`` with a ledger and no ``expected=``: the stored invoice is expected."""
    from payhub_core._hub import check_expected

    try:
        _payment_id, invoice = yield Transact(
            lambda _tx: _ops.find_for_result(gateway, result), write=False
        )
    except PaymentNotFound:
        return
    check_expected(result, invoice)


def money_operation(
    settings: LedgerSettings,
    gateway: str,
    kind: str,
    reference: str,
    amount: Money | None,
) -> Plan[PaymentResult]:
    """Rules 4 and 5: invariants checked and the merchant reference written before
    sending; the outcome recorded, an unknown one blocking further money operations."""
    begun: _ops.Begun = yield Transact(
        lambda tx: _ops.begin_operation(
            tx, gateway, reference, kind, amount, settings.claim_timeout
        )
    )
    arguments: dict[str, Any] = {"reference": reference, "idempotency_key": begun.key}
    if kind != "cancel":
        arguments["amount"] = (
            Money.from_minor(begun.amount, begun.currency)
            if amount is not None and begun.amount is not None
            else amount
        )
    source: Source = kind  # type: ignore[assignment]
    try:
        result: PaymentResult = yield Call(gateway, kind, arguments)
    except GatewayUnavailable as error:
        state = "unknown" if error.outcome_unknown else "refused"
        yield Transact(lambda tx: _ops.finish_operation(tx, begun, source, None, state))
        raise
    except PayhubError:
        yield Transact(lambda tx: _ops.finish_operation(tx, begun, source, None, "refused"))
        raise
    written: _ops.Written = yield Transact(
        lambda tx: _ops.finish_operation(tx, begun, source, result, "done")
    )
    yield Deliver(tuple(written.outbox), payment=written.payment)
    return result


def reconcile(
    settings: LedgerSettings,
    older_than: timedelta,
    can_query: Callable[[str], bool],
    can_find: Callable[[str], bool] = lambda _alias: False,
) -> Plan[ReconcileReport]:
    """Rule 6: ask the gateway where pending and doubtful payments stand; list for an
    operator what cannot be settled that way. A "not found" is not a failure.

    An attempt without a gateway reference (its initiate's answer was lost) is looked
    up by its merchant reference, the invoice number, where the adapter can
    (``can_find``): a found order's reference is stored on the attempt; "not found"
    means the create never took effect, so the attempt and the payment failed (no
    money moved, nothing is sent again). Elsewhere such a payment goes to an operator."""
    started = datetime.now(timezone.utc)
    yield Deliver((), before=started)  # notifications a crash left behind
    found: list[_ops.Candidate] = yield Transact(
        lambda tx: _ops.candidates(tx, older_than.total_seconds())
    )
    resolved: list[Change] = []
    pending: list[str] = []
    operator: list[str] = []
    for candidate in found:
        by_reference = (
            candidate.reference is None
            and candidate.attempt_unknown
            and can_find(candidate.gateway)
        )
        if not by_reference and (candidate.reference is None or not can_query(candidate.gateway)):
            operator.append(candidate.invoice_number)
            continue
        arguments: dict[str, Any] = {
            "reference": candidate.reference or "",
            "merchant_reference": candidate.invoice_number if by_reference else None,
        }
        try:
            result: PaymentResult = yield Call(candidate.gateway, "status", arguments)
        except GatewayError as error:
            if not (by_reference and error.code == "NOT_FOUND"):
                logger.info(
                    "reconcile: status of invoice %s failed (%s)",
                    candidate.invoice_number,
                    type(error).__name__,
                )
                pending.append(candidate.invoice_number)
                continue
            lost: _ops.Written = yield Transact(partial(_ops.never_created, candidate=candidate))
            yield Deliver(tuple(lost.outbox))
            logger.info(
                "reconcile: gateway %s has no order for invoice %s: the attempt failed",
                candidate.gateway,
                candidate.invoice_number,
            )
            if lost.payment is None:  # settled meanwhile by someone else
                pending.append(candidate.invoice_number)
            else:
                resolved += [item for item in lost.payment.history if item.id in lost.outbox]
            continue
        except PayhubError as error:
            logger.info(
                "reconcile: status of invoice %s failed (%s)",
                candidate.invoice_number,
                type(error).__name__,
            )
            pending.append(candidate.invoice_number)
            continue
        raw_text = json.dumps(result.raw, default=str, sort_keys=True)
        written, settled = yield Transact(
            partial(_ops.apply_status, candidate=candidate, result=result, raw_text=raw_text)
        )
        yield Deliver(tuple(written.outbox))
        if written.outbox:
            payment: Payment = yield Transact(
                partial(_load, payment_id=candidate.payment_id), write=False
            )
            resolved += [item for item in payment.history if item.id in written.outbox]
        if not settled:
            operator.append(candidate.invoice_number)
        elif result.status is PaymentStatus.PENDING:
            pending.append(candidate.invoice_number)
    return ReconcileReport(
        resolved=tuple(resolved), still_pending=tuple(pending), needs_operator=tuple(operator)
    )


def resolve(number: str, status: PaymentStatus, reason: str, actor: str) -> Plan[Payment]:
    if status not in (PaymentStatus.PAID, PaymentStatus.FAILED):
        raise ValueError("an operator resolves a payment as paid or failed")
    if not reason.strip() or not actor.strip():
        raise ValueError("resolve needs a reason and an actor (who resolves, and why)")
    written: _ops.Written = yield Transact(
        lambda tx: _ops.resolve(tx, number, status, reason, actor)
    )
    yield Deliver(tuple(written.outbox), payment=written.payment)
    return _ops.must(written.payment)


# -- the drivers ----------------------------------------------------------------------


Notify = Callable[[Payment, Change], None]


def _delivery(
    step: Deliver, listening: Callable[[], bool], notify: Notify
) -> Generator[Transact, Any, int]:
    """The transactions of one :class:`Deliver` step: claim each change, call the
    merchant's hooks (plain pluggy hooks, synchronous for both hubs), mark it delivered.
    Without listeners the changes are only marked delivered."""
    ids: Sequence[str] = step.change_ids
    if step.before is not None:
        before = step.before
        pending = yield Transact(lambda tx: _ops.pending_outbox(tx, before), write=False)
        ids = [*ids, *pending]
    if not ids:
        return 0
    if not listening():
        yield Transact(partial(_ops.mark_delivered, change_ids=ids))
        return 0
    count = 0
    for change_id in ids:
        claimed = yield Transact(
            partial(_ops.claim_delivery, change_id=change_id, known=step.payment)
        )
        if claimed is None:
            continue
        ok = _notify_safely(notify, *claimed)
        yield Transact(partial(_ops.delivered, change_id=change_id, ok=ok))
        count += ok
    return count


def _caught_up_first(before: datetime, plan: Plan[T]) -> Plan[T]:
    """``plan``, after delivering the notifications a previous process left pending."""
    yield Deliver((), before=before)
    result: T = yield from plan
    return result


class _PlanStepper:
    """Advances one plan without I/O, as ``FlowStepper`` does a flow: ``advance`` returns
    the next :class:`Transact`, :class:`Call` or :class:`Pause` for a driver to perform,
    or ``None`` once the plan has returned (its value is then in ``result``).

    A :class:`Deliver` step is expanded here into its transactions; a failure of one of
    them is thrown into the plan at its ``Deliver``, which gets nothing back otherwise.
    """

    def __init__(self, plan: Plan[Any], listening: Callable[[], bool], notify: Notify) -> None:
        self._plan = plan
        self._listening = listening
        self._notify = notify
        self._delivery: Generator[Transact, Any, int] | None = None
        self._consequence: str | None = None
        self.result: Any = None

    @property
    def consequence(self) -> str | None:
        """What a failed write of the current :class:`Transact` means: once a call that
        may move money was made, that its answer is not recorded (the default, that
        nothing was sent, for the writes of a delivery)."""
        return None if self._delivery is not None else self._consequence

    def advance(
        self, value: Any = None, error: BaseException | None = None
    ) -> Transact | Call | Pause | None:
        while True:
            if self._delivery is not None:
                if error is None:
                    try:
                        return self._delivery.send(value)
                    except StopIteration:
                        pass
                self._delivery = None
                value = None
            try:
                step = self._plan.send(value) if error is None else self._plan.throw(error)
            except StopIteration as done:
                self.result = done.value
                return None
            if not isinstance(step, Deliver):
                if isinstance(step, Call) and step.moves_money:
                    self._consequence = not_recorded(step.operation)
                return step
            self._delivery = _delivery(step, self._listening, self._notify)
            value, error = None, None


class _Ledger:
    """The plans of each hub method, shared by both drivers."""

    def __init__(
        self, settings: LedgerSettings, notify: Notify, listening: Callable[[], bool]
    ) -> None:
        self.settings = settings
        self.started = datetime.now(timezone.utc)
        self._caught_up = False
        self._notify = notify
        self._listening = listening

    def stepper(self, plan: Plan[Any]) -> _PlanStepper:
        """A stepper for ``plan``; the first one also delivers a previous run's
        undelivered notifications."""
        if not self._caught_up:
            self._caught_up = True
            plan = _caught_up_first(self.started, plan)
        return _PlanStepper(plan, self._listening, self._notify)

    def plan(self, method: str, *args: Any) -> Plan[Any]:
        settings = self.settings
        if method == "initiate":
            return initiate(settings, *args)
        if method == "expected":
            return verify_expected(*args)
        if method == "confirmed":
            return already_confirmed(*args)
        if method == "money":
            return money_operation(settings, *args)
        if method == "receive":
            return receive(*args)
        if method == "reconcile":
            return reconcile(settings, *args)
        if method == "resolve":
            return resolve(*args)
        if method == "payment":
            return _read(lambda _tx: _ops.payment_by_number(args[0]))
        if method == "payments":
            return _read(lambda _tx: _ops.list_payments(args[0]))
        raise ValueError(method)


def _load(_tx: _ops.Tx, payment_id: int) -> _ops.Body[Payment]:
    payment: Payment = yield from _ops.load_payment(payment_id)
    return payment


def _read(factory: Callable[[_ops.Tx], _ops.Body[T]]) -> Plan[T]:
    value: T = yield Transact(factory, write=False)
    return value


class SyncLedger(_Ledger):
    """Drives plans for ``Hub``: ``call`` runs one gateway operation through the hub,
    ``notify`` calls merchant plugins for one committed change."""

    def __init__(
        self,
        settings: LedgerSettings,
        call: Callable[[Call], Any],
        notify: Callable[[Payment, Change], None],
        listening: Callable[[], bool] = lambda: True,
    ) -> None:
        super().__init__(settings, notify, listening)
        self.store = SyncStore(settings)
        self._call = call

    def do(self, method: str, *args: Any) -> Any:
        return self.run(self.plan(method, *args))

    def run(self, plan: Plan[T]) -> T:
        stepper = self.stepper(plan)
        value: Any = None
        error: BaseException | None = None
        while (step := stepper.advance(value, error)) is not None:
            value, error = None, None
            try:
                if isinstance(step, Transact):
                    value = self.store.run(
                        step.factory, write=step.write, consequence=stepper.consequence
                    )
                elif isinstance(step, Call):
                    value = self._call(step)
                else:
                    time.sleep(step.seconds)
            except PayhubError as failure:
                error = failure
        result: T = stepper.result
        return result

    def close(self) -> None:
        self.store.close()


class AsyncLedger(_Ledger):
    """Drives plans for ``AsyncHub`` (an awaited ``call``; merchant hooks are plain
    pluggy hooks, called synchronously)."""

    def __init__(
        self,
        settings: LedgerSettings,
        call: Callable[[Call], Any],
        notify: Callable[[Payment, Change], None],
        listening: Callable[[], bool] = lambda: True,
    ) -> None:
        super().__init__(settings, notify, listening)
        self.store = AsyncStore(settings)
        self._call = call

    async def do(self, method: str, *args: Any) -> Any:
        return await self.run(self.plan(method, *args))

    async def run(self, plan: Plan[T]) -> T:
        stepper = self.stepper(plan)
        value: Any = None
        error: BaseException | None = None
        while (step := stepper.advance(value, error)) is not None:
            value, error = None, None
            try:
                if isinstance(step, Transact):
                    value = await self.store.run(
                        step.factory, write=step.write, consequence=stepper.consequence
                    )
                elif isinstance(step, Call):
                    value = await self._call(step)
                else:
                    await anyio.sleep(step.seconds)
            except PayhubError as failure:
                error = failure
        result: T = stepper.result
        return result

    async def aclose(self) -> None:
        await self.store.aclose()


def _notify_safely(notify: Notify, payment: Payment, change: Change) -> bool:
    """Call the merchant's hooks; a failure leaves the notification pending (it is
    delivered again by the next reconcile or start), never undoes the committed change."""
    try:
        notify(payment, change)
    except Exception as error:
        logger.warning(
            "payhub_payment_changed failed for change %s of invoice %s (%s); it stays in "
            "the outbox and is delivered again by the next reconcile",
            change.id,
            change.invoice_number,
            type(error).__name__,
        )
        return False
    return True
