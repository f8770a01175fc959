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


@hookspec(firstresult=True)
def payhub_capture(reference: str, amount: Money | None) -> Any:
    """Capture an authorized payment; ``amount=None`` captures it in full."""


@hookspec(firstresult=True)
def payhub_cancel(reference: str) -> Any:
    """Cancel (void) an authorized, uncaptured payment."""


@hookspec(firstresult=True)
def payhub_refund(reference: str, amount: Money | None) -> Any:
    """Refund a paid payment; ``amount=None`` refunds what is left of it."""


@hookspec(firstresult=True)
def payhub_status(reference: str) -> Any:
    """Ask the gateway where the payment stands now."""
