"""What the ledger hands out: frozen snapshots of stored payments and their history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from payhub_core._models import Checkout, Invoice, PaymentResult, PaymentStatus
from payhub_core._money import Money

__all__ = [
    "Attempt",
    "Change",
    "Initiation",
    "MoneyOperation",
    "Payment",
    "Receipt",
    "ReconcileReport",
    "Source",
]

Source = Literal[
    "initiate",
    "return",
    "callback",
    "webhook",
    "otp",
    "capture",
    "cancel",
    "refund",
    "reconcile",
    "operator",
]
EVIDENCE_SOURCES: tuple[Source, ...] = ("return", "callback", "webhook", "otp")

AttemptState = Literal["sending", "open", "refused", "unknown"]
OperationState = Literal["sending", "done", "refused", "unknown"]


@dataclass(frozen=True)
class Change:
    """One state change of a payment. ``id`` is stable: it is also the id of the
    notification (``payhub_payment_changed``), so a merchant can drop repeats.

    ``previous == status`` when only the money changed (a second partial refund)."""

    id: str
    invoice_number: str
    gateway: str
    previous: PaymentStatus | None
    status: PaymentStatus
    source: Source
    at: datetime
    evidence_digest: str | None = None
    reason: str | None = None
    actor: str | None = None


@dataclass(frozen=True)
class Attempt:
    """One attempt at paying the invoice through one gateway (one per gateway alias).

    ``state``: ``sending`` while the first caller talks to the gateway, ``open`` once the
    checkout is stored, ``refused`` when the gateway refused (a later initiate may try
    again), ``unknown`` when nobody knows whether the gateway created it (reconcile).
    """

    gateway: str
    state: AttemptState
    reference: str | None
    status: PaymentStatus
    checkout: Checkout | None
    created_at: datetime


@dataclass(frozen=True)
class MoneyOperation:
    """A capture, cancel or refund, with the merchant reference it was (or is) sent with."""

    kind: Literal["capture", "cancel", "refund"]
    key: str
    gateway: str
    amount: Money | None
    state: OperationState
    created_at: datetime


@dataclass(frozen=True)
class Payment:
    """A stored payment: the merchant's invoice, where it stands, its money, its attempts
    and its full history. ``unknown_operation`` is True while an operation's outcome is
    unknown (money operations wait for reconcile). ``paid_twice`` flags a customer who
    paid the same invoice through two attempts."""

    invoice: Invoice
    gateway: str
    status: PaymentStatus
    authorized: Money
    captured: Money
    refunded: Money
    reference: str | None
    attempts: tuple[Attempt, ...]
    history: tuple[Change, ...]
    operations: tuple[MoneyOperation, ...]
    paid_twice: bool
    unknown_operation: bool
    created_at: datetime
    updated_at: datetime

    @property
    def invoice_number(self) -> str:
        return self.invoice.number

    @property
    def amount(self) -> Money:
        return self.invoice.amount


@dataclass(frozen=True)
class Initiation:
    """What ``initiate_once`` did: the checkout (the same for every call about one invoice
    on one gateway) and whether this call sent the request that created it (``False``:
    an earlier or concurrent call's checkout, nothing was sent)."""

    checkout: Checkout
    created: bool


@dataclass(frozen=True)
class Receipt:
    """What ``receive`` made of one piece of evidence: the payment after it, the verified
    result, the change it caused (``None``: it changed nothing) and whether this exact
    evidence had been received before."""

    payment: Payment
    result: PaymentResult
    change: Change | None
    duplicate: bool


@dataclass(frozen=True)
class ReconcileReport:
    """What ``reconcile`` did: the changes it made, the payments still pending at their
    gateway, and those an operator must resolve (gateways without a status query, or
    answers that do not settle an unknown outcome)."""

    resolved: tuple[Change, ...] = ()
    still_pending: tuple[str, ...] = ()
    needs_operator: tuple[str, ...] = ()
    delivered: int = 0
