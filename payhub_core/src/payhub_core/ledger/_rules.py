"""The ledger's rules, without I/O: states, legal transitions, precedence, money
invariants, evidence digests and what blocks a money operation.

The sync and the async store both apply these functions to the state they read under a
lock; nothing here knows about databases, gateways or clocks. Amounts are integer minor
units of the invoice's currency.

Precedence: a payment only ever moves forward along :data:`FORWARD`. A late or reordered
event that would move it back (a "pending" after "paid", a "failed" after "paid", an
"authorized" after "canceled") changes nothing. Money amounts only grow (authorized and
captured are maxima, refunds a sum of distinct refunds), so the order in which events
arrive does not change where a payment ends.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

from payhub_core._models import Callback, OtpCode, PaymentResult, PaymentStatus

__all__ = [
    "FORWARD",
    "MONEY_OPERATIONS",
    "Event",
    "Standing",
    "apply",
    "check_operation",
    "evidence_digest",
    "invariant_problem",
    "is_forward",
    "operation_effect",
    "operation_key",
]

S = PaymentStatus

FORWARD: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    S.PENDING: frozenset(
        {S.FAILED, S.CANCELED, S.AUTHORIZED, S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED}
    ),
    # A failure is not final: a later verified authorization or payment (the customer
    # tried again on the gateway's page) is money that moved and must not be hidden.
    S.FAILED: frozenset({S.CANCELED, S.AUTHORIZED, S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED}),
    # Canceled (voided, or given up by the customer) is final: a held-back "authorized"
    # webhook that arrives after the void changes nothing.
    S.CANCELED: frozenset(),
    S.AUTHORIZED: frozenset({S.PAID, S.CANCELED, S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PAID: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.REFUNDED}),
    S.REFUNDED: frozenset(),
}
"""Where a payment in each state may go next (transitively closed). Acyclic: state never
goes back."""

_REFUNDS = frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED})
_CAPTURED = frozenset({S.PAID, *_REFUNDS})
MONEY_OPERATIONS = ("capture", "cancel", "refund")


def is_forward(current: PaymentStatus, new: PaymentStatus) -> bool:
    return new in FORWARD[current]


@dataclass(frozen=True)
class Standing:
    """Where one payment stands: its status and its money, in minor units."""

    status: PaymentStatus
    amount: int
    authorized: int = 0
    captured: int = 0
    refunded: int = 0
    refunds: frozenset[str] = field(default_factory=frozenset)
    """Gateway ids of the refunds already counted in ``refunded``."""


@dataclass(frozen=True)
class Event:
    """What one verified statement says: a status, the amount it is about (minor units,
    ``None`` when the gateway does not say) and, for a refund, the refund's own id."""

    status: PaymentStatus
    amount: int | None = None
    refund_id: str | None = None


def apply(standing: Standing, event: Event) -> Standing:
    """``standing`` after ``event``; the very same object when the event changes nothing.

    The status moves only forward; amounts only grow and never break
    ``refunded <= captured <= authorized <= amount``. Because the status is the furthest
    one seen and the amounts are maxima and a sum of distinct refunds, any order of the
    same events ends in the same standing.
    """
    status = standing.status
    if event.status != status and is_forward(status, event.status):
        status = event.status
    elif event.status != status and not is_forward(event.status, status):
        # Neither ahead of the payment nor behind it on its way (a "paid" after a void):
        # nothing of it applies.
        return standing
    authorized, captured, refunded = standing.authorized, standing.captured, standing.refunded
    refunds = standing.refunds
    told = standing.amount if event.amount is None else min(event.amount, standing.amount)
    if event.status is S.AUTHORIZED:
        authorized = max(authorized, told)
    elif event.status is S.PAID:
        captured = max(captured, told)
    elif event.status in _REFUNDS:
        refund_id = event.refund_id if event.amount is not None else None
        if refund_id is not None and refund_id not in refunds:
            refunded += told
            refunds = refunds | {refund_id}
        elif refund_id is None and event.status is S.REFUNDED:
            # "Fully refunded" without a refund to count: all of what was captured (all
            # of the amount when no capture was recorded).
            captured = captured or standing.amount
            refunded = max(refunded, captured)
    # A refund proves a capture of at least its amount, even when the news of the
    # capture has not arrived yet.
    refunded = min(refunded, standing.amount)
    captured = max(captured, refunded)
    authorized = max(authorized, captured)
    after = replace(
        standing,
        status=status,
        authorized=authorized,
        captured=captured,
        refunded=refunded,
        refunds=refunds,
    )
    return standing if after == standing else after


def invariant_problem(standing: Standing) -> str | None:
    """What is wrong with ``standing``'s money, or ``None`` when nothing is."""
    if not (0 <= standing.refunded <= standing.captured <= standing.authorized):
        return "refunded <= captured <= authorized must hold"
    if standing.authorized > standing.amount:
        return "authorized <= amount must hold"
    return None


def check_operation(
    standing: Standing, operation: str, amount: int | None, *, blocked: bool
) -> tuple[int | None, str | None]:
    """Whether ``operation`` (capture, cancel, refund) of ``amount`` may be sent now.

    Returns ``(amount to record, None)`` when it may (``None`` amount: the gateway's
    default, the whole remainder), else ``(None, why not)``. Checked before anything is
    sent, under the payment's lock.
    """
    if blocked:
        return None, (
            "an earlier operation on this payment has an unknown outcome; reconcile it "
            "(hub.reconcile() or `payhub reconcile`) before moving money again"
        )
    if amount is not None and amount <= 0:
        return None, "the amount must be greater than zero"
    status = standing.status
    if operation == "capture":
        if status is not S.AUTHORIZED:
            return None, f"only an authorized payment can be captured; this one is {status}"
        if amount is not None and amount > standing.authorized:
            return None, "captured <= authorized: the amount is more than was authorized"
        return amount if amount is not None else standing.authorized, None
    if operation == "cancel":
        if status not in (S.AUTHORIZED, S.PENDING) or standing.captured > 0:
            return None, f"only an authorized, uncaptured payment can be canceled; this is {status}"
        return None, None
    if operation == "refund":
        if status not in (S.PAID, S.PARTIALLY_REFUNDED):
            return None, f"only a paid payment can be refunded; this one is {status}"
        left = standing.captured - standing.refunded
        if amount is not None and amount > left:
            return None, "refunded <= captured: the amount is more than is left to refund"
        return amount if amount is not None else left, None
    raise ValueError(f"not a money operation: {operation}")


# Hex digits 0-9 spelt as the letters g-p: the key keeps all its random bits and holds no
# digit at all.
_DIGITS_AS_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def operation_key(kind: str, entropy: bytes) -> str:
    """The merchant reference of a money operation: ``<kind>-<entropy in letters>``.

    It is sent to the gateway, which echoes it in its status answers, and reconcile
    recognises an operation of unknown outcome by finding its key in that answer. Every
    answer and error message is scrubbed of card numbers on the way in (any run of 13 to
    19 digits that passes the Luhn check is masked), so a key written in plain hex, where
    about one in 500 holds such a run, would sometimes be masked in the very text it is
    looked for in (and in the message that tells an operator which reference to look
    up). A key without digits can never be mistaken for a card number.
    """
    return f"{kind[:3]}-{entropy.hex().translate(_DIGITS_AS_LETTERS)}"


def operation_effect(
    operation: str, result_status: PaymentStatus, key: str, raw_text: str
) -> bool | None:
    """Did an operation whose outcome was unknown happen, judging by the gateway's answer
    to a status query? ``True`` it did, ``False`` it did not, ``None`` cannot tell.

    ``raw_text`` is the status answer's raw data as text: gateways that take merchant
    references (Plural) echo them there, which is how a refund is recognised.
    """
    if operation == "capture":
        if result_status in _CAPTURED:
            return True
        return False if result_status is S.AUTHORIZED else None
    if operation == "cancel":
        if result_status is S.CANCELED:
            return True
        return False if result_status in (S.AUTHORIZED, *_CAPTURED) else None
    if operation == "refund":
        if key in raw_text:
            return True
        # Paid and not refunded at all: it did not happen. Refunded, but not by this
        # reference: an operator must look.
        return False if result_status is S.PAID else None
    return None


def evidence_digest(gateway: str, evidence: Callback | OtpCode, result: PaymentResult) -> str:
    """One stable id per piece of evidence, so a repeat is recognised.

    The gateway's event id when it gives one (a webhook delivered twice carries the same
    id); else a digest of the signed content exactly as received (method, query, body).
    An OTP confirmation is identified by the attempt and the gateway's transaction, never
    by the code itself. Only the digest is stored, never the content.
    """
    hasher = hashlib.sha256()
    if result.event_id:
        parts = ["event", gateway, result.event_id]
    elif isinstance(evidence, OtpCode):
        parts = ["otp", gateway, evidence.reference, result.transaction_id or "", result.status]
    else:
        parts = ["callback", gateway, evidence.method, evidence.query]
    for part in parts:
        hasher.update(part.encode("utf-8"))
        hasher.update(b"\x00")
    if isinstance(evidence, Callback) and not result.event_id:
        hasher.update(evidence.body)
    return hasher.hexdigest()
