"""The hooks every payhub adapter implements (pluggy project ``"payhub"``).

An adapter is a class with a ``Settings`` pydantic model, instantiated as
``Adapter(settings)`` and registered with pluggy for exactly one configured gateway. Each
operation hook is ``firstresult=True`` and returns either its result, or a *flow*: a
generator that yields ``httpx.Request`` objects, receives an ``httpx.Response`` for each,
and returns the result (see :mod:`payhub_core.flows`). Adapters never do I/O themselves, so
one adapter serves both ``Hub`` and ``AsyncHub``.

Implement only the operations the gateway offers; the hub answers the rest with
``UnsupportedOperation``. Cross-cutting plugins (logging, metrics) may wrap every hook with
``@hookimpl(wrapper=True)``; what they receive from ``yield`` is the hook's outcome, which
may be a flow rather than the final result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from payhub_core._models import Callback, Invoice, OtpCode
    from payhub_core._money import Money
    from payhub_core.ledger import Change, Payment

PROJECT = "payhub"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def payhub_initiate(invoice: Invoice) -> Any:
    """Start a payment for ``invoice``.

    Returns a ``Checkout`` (or a flow returning one) whose ``action`` tells the merchant what
    the customer does next (``Redirect``, ``OtpChallenge`` or ``None``) and whose
    ``reference`` finds the payment again. Raise ``InvalidRequest`` before sending anything
    the gateway would refuse.
    """


@hookspec(firstresult=True)
def payhub_verify(evidence: Callback | OtpCode) -> Any:
    """Turn what came back (a ``Callback`` as received, or the customer's ``OtpCode``) into a
    trusted ``PaymentResult``.

    This is the only way a payment becomes trusted: raise ``SignatureError`` for a missing or
    wrong signature and never return a paid result for unverified input.
    """


# Hook arguments that callers may leave out: the hub passes them as ``None`` unless given,
# so every call matches the spec (pluggy warns about a missing argument) and adapters that
# do not declare them never see them.
OPTIONAL_ARGUMENTS: dict[str, dict[str, None]] = {
    "capture": {"idempotency_key": None},
    "cancel": {"idempotency_key": None},
    "refund": {"idempotency_key": None},
    "status": {"merchant_reference": None},
}


@hookspec(firstresult=True)
def payhub_capture(reference: str, amount: Money | None, idempotency_key: str | None) -> Any:
    """Capture an authorized payment; ``amount=None`` captures it in full.

    ``idempotency_key`` (optional to implement: pluggy passes only the arguments a hook
    declares) is the merchant reference the payment ledger wrote before sending, or
    ``None`` without a ledger. A gateway that takes a merchant reference for the capture
    should send this one when given: a resend after an unknown outcome then reuses it.
    """


@hookspec(firstresult=True)
def payhub_cancel(reference: str, idempotency_key: str | None) -> Any:
    """Cancel (void) an authorized, uncaptured payment. ``idempotency_key``: as for
    :func:`payhub_capture`."""


@hookspec(firstresult=True)
def payhub_refund(reference: str, amount: Money | None, idempotency_key: str | None) -> Any:
    """Refund a paid payment; ``amount=None`` refunds what is left of it.
    ``idempotency_key``: as for :func:`payhub_capture` (the refund's merchant reference)."""


@hookspec(firstresult=True)
def payhub_status(reference: str, merchant_reference: str | None) -> Any:
    """Ask the gateway where the payment stands now.

    ``merchant_reference`` (optional to implement, like ``idempotency_key``) is given by
    the payment ledger's ``reconcile`` when an initiate's answer was lost, so it holds no
    gateway reference (``reference`` is then ``""``): it is the merchant reference the
    adapter sent on create (the invoice number). An adapter whose gateway can look a
    payment up by it implements this argument and returns the result with the gateway's
    reference; if the gateway holds no payment under it (the create never took effect),
    it raises ``GatewayError`` with ``code="NOT_FOUND"``. Adapters that do not declare it
    are never asked this way: the ledger lists such a payment for an operator.
    """


@hookspec
def payhub_payment_changed(payment: Payment, change: Change) -> None:
    """A payment recorded by the ledger changed (merchant plugins implement this).

    Called after the change is committed, at least once per change, through an outbox
    that survives a crash: a notification may come again after a failure, so use
    ``change.id`` (stable) to act on each change once. ``payment`` is the stored payment
    when the notification is delivered. An exception leaves the notification in the
    outbox; the next ``reconcile`` delivers it again.
    """
