"""The ledger's methods on ``Hub`` and ``AsyncHub`` (mixed into both).

Without a ``[ledger]`` table the ledger-only methods raise ``ConfigurationError`` and the
hub behaves exactly as it does without this package.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from payhub_core._errors import ConfigurationError, PaymentNotFound
from payhub_core._models import (
    Callback,
    Checkout,
    Invoice,
    OtpCode,
    PaymentResult,
    PaymentStatus,
)
from payhub_core._money import Money

if TYPE_CHECKING:
    # Annotations only: a hub without a [ledger] table imports neither the records nor
    # the settings model (see ledger_settings).
    from payhub_core._assembly import Gateway
    from payhub_core._config import HubConfig
    from payhub_core.ledger import _service
    from payhub_core.ledger._records import (
        Change,
        Initiation,
        Payment,
        Receipt,
        ReconcileReport,
        Source,
    )
    from payhub_core.ledger._settings import LedgerSettings


def _modules() -> tuple[Any, Any]:
    """The ledger's database modules, imported on first use: a hub without a ledger
    does not need SQLAlchemy installed."""
    try:
        from payhub_core.ledger import _ops, _service
    except ImportError as error:
        raise ConfigurationError(
            f"the [ledger] needs {_missing(error)}, which is not installed: pip install "
            "'payhub-core[ledger]' (and 'payhub-core[postgres]' for PostgreSQL)"
        ) from None
    return _ops, _service


def _missing(error: ImportError) -> str:
    """The package an ``ImportError`` is about. SQLAlchemy's asyncio module, without
    greenlet, raises one that names no module (only its text says greenlet)."""
    if "greenlet" in (error.name or "") or "greenlet" in str(error):
        return "greenlet (from sqlalchemy[asyncio])"
    if error.name:
        return error.name.partition(".")[0]
    return f"a module ({error})"


def _no_ledger(what: str) -> ConfigurationError:
    return ConfigurationError(
        f"{what} needs the payment ledger, and no [ledger] is configured (add a [ledger] "
        'table with url = "sqlite:///payhub.sqlite3" and run `payhub ledger upgrade`)'
    )


__all__ = ["AsyncLedgerMethods", "SyncLedgerMethods", "ledger_settings"]


def ledger_settings(table: Mapping[str, Any] | None) -> LedgerSettings | None:
    if table is None:
        return None
    from payhub_core.ledger._settings import LedgerSettings

    return LedgerSettings.from_table(table)


def _statuses(
    status: PaymentStatus | str | Iterable[PaymentStatus | str] | None,
) -> list[PaymentStatus] | None:
    if status is None:
        return None
    items = [status] if isinstance(status, (str, PaymentStatus)) else list(status)
    try:
        return [PaymentStatus(item) for item in items]
    except ValueError:
        raise ValueError(
            f"status must be one of {', '.join(item.value for item in PaymentStatus)}"
        ) from None


def _status(value: PaymentStatus | str) -> PaymentStatus:
    try:
        return PaymentStatus(value)
    except ValueError:
        raise ValueError("status must be 'paid' or 'failed'") from None


def _check_gateway(payment: Payment, gateway: str | None) -> Payment:
    if gateway is not None and all(item.gateway != gateway for item in payment.attempts):
        raise PaymentNotFound(
            f"invoice {payment.invoice_number!r} has no attempt on gateway {gateway!r}",
            gateway=gateway,
        )
    return payment


class _Common:
    if TYPE_CHECKING:
        config: HubConfig
        _gateways: dict[str, Gateway]

        def _gateway(self, alias: str | None) -> Gateway: ...

        def _with_endpoint_urls(self, invoice: Invoice, gateway: str | None) -> Invoice: ...

    def _alias(self, gateway: str | None) -> str:
        return self.config.resolve(gateway).alias

    def _can_query(self, alias: str) -> bool:
        found = self._gateways.get(alias)
        return found is not None and "status" in found.capabilities.operations

    def _can_find(self, alias: str) -> bool:
        """Whether the adapter can look a payment up by its merchant reference: its
        ``payhub_status`` declares the optional ``merchant_reference`` argument."""
        found = self._gateways.get(alias)
        if found is None or not self._can_query(alias):
            return False
        return found.hooks.accepts("status", "merchant_reference")

    def _listening(self) -> bool:
        """Whether any merchant plugin implements ``payhub_payment_changed``."""
        return next(iter(self._gateways.values())).hooks.listening

    def _notify(self, payment: Payment, change: Change) -> None:
        # Merchant plugins are registered with every gateway's plugin manager; adapters
        # do not implement this hook, so calling it through one manager reaches each
        # merchant plugin once.
        next(iter(self._gateways.values())).hooks.notify(payment, change)


class SyncLedgerMethods(_Common):
    """``Hub``'s ledger methods."""

    _ledger: _service.SyncLedger | None = None

    if TYPE_CHECKING:

        def _run(
            self,
            wanted: Any,
            alias: str | None,
            operation: Any,
            expected: Invoice | None = None,
            **arguments: Any,
        ) -> Any: ...

    def _open_ledger(self) -> None:
        settings = ledger_settings(self.config.ledger)
        if settings is not None:
            _unused, service = _modules()
            self._ledger = service.SyncLedger(
                settings, call=self._ledger_call, notify=self._notify, listening=self._listening
            )

    def _ledger_call(self, step: _service.Call) -> Any:
        wanted = Checkout if step.operation == "initiate" else PaymentResult
        return self._run(wanted, step.gateway, step.operation, **step.arguments)

    def _need_ledger(self, what: str) -> _service.SyncLedger:
        if self._ledger is None:
            raise _no_ledger(what)
        return self._ledger

    def _ledger_initiate(self, invoice: Invoice, gateway: str | None) -> Checkout:
        ledger = self._need_ledger("initiate")
        initiation: Initiation = ledger.do("initiate", invoice, self._alias(gateway))
        return initiation.checkout

    def initiate_once(self, invoice: Invoice, *, gateway: str | None = None) -> Initiation:
        """``initiate`` (the ledger's, idempotent per invoice and gateway), also saying
        whether this call sent the request: ``created`` is ``False`` when the checkout is
        an earlier or concurrent call's and nothing was sent."""
        ledger = self._need_ledger("initiate_once")
        invoice = self._with_endpoint_urls(invoice, gateway)
        return ledger.do("initiate", invoice, self._alias(gateway))  # type: ignore[no-any-return]

    def _ledger_expected(self, result: PaymentResult, gateway: str | None) -> None:
        self._need_ledger("verify").do("expected", result, self._alias(gateway))

    def _ledger_confirmed(
        self, code: OtpCode, gateway: str | None, expected: Invoice | None
    ) -> PaymentResult | None:
        """The ledger's answer when ``code`` confirms an attempt already paid (nothing is
        sent again), else ``None``."""
        known = self._need_ledger("verify").do("confirmed", code, self._alias(gateway), expected)
        return None if known is None else known[1]

    def _ledger_money(
        self, kind: str, reference: str, amount: Money | None, gateway: str | None
    ) -> PaymentResult:
        ledger = self._need_ledger(kind)
        return ledger.do(  # type: ignore[no-any-return]
            "money", self._alias(gateway), kind, reference, amount
        )

    def receive(
        self,
        evidence: Callback | OtpCode,
        *,
        gateway: str | None = None,
        source: Source = "return",
    ) -> Receipt:
        """Verify ``evidence`` exactly as ``verify`` does, check it against the stored
        invoice, store it once and apply it under the payment's lock. The receipt says
        what it changed (``change``, ``None`` if nothing) and whether it was a repeat."""
        ledger = self._need_ledger("receive")
        return ledger.do("receive", evidence, self._alias(gateway), source)  # type: ignore[no-any-return]

    def payment(self, invoice_number: str, *, gateway: str | None = None) -> Payment:
        """The stored payment of ``invoice_number`` with its attempts and history."""
        ledger = self._need_ledger("payment")
        found = ledger.do("payment", invoice_number)
        return _check_gateway(found, gateway)

    def payments(
        self, *, status: PaymentStatus | str | Iterable[PaymentStatus | str] | None = None
    ) -> list[Payment]:
        """Stored payments, oldest first; ``status`` keeps those in that (those) status."""
        ledger = self._need_ledger("payments")
        wanted = _statuses(status)
        return ledger.do("payments", wanted)  # type: ignore[no-any-return]

    def reconcile(self, *, older_than: timedelta | None = None) -> ReconcileReport:
        """Settle pending and doubtful payments older than ``older_than`` through the
        gateway's status query; list the rest for an operator. Also delivers
        notifications a crash left in the outbox."""
        ledger = self._need_ledger("reconcile")
        age = (
            older_than
            if older_than is not None
            else timedelta(seconds=ledger.settings.reconcile_after)
        )
        found: ReconcileReport = ledger.do("reconcile", age, self._can_query, self._can_find)
        return found

    def resolve(
        self, invoice_number: str, *, status: PaymentStatus | str, reason: str, actor: str
    ) -> Payment:
        """An operator's decision (``paid`` or ``failed``), recorded with who and why."""
        ledger = self._need_ledger("resolve")
        return ledger.do(  # type: ignore[no-any-return]
            "resolve", invoice_number, _status(status), reason, actor
        )

    def _close_ledger(self) -> None:
        if self._ledger is not None:
            self._ledger.close()


class AsyncLedgerMethods(_Common):
    """``AsyncHub``'s ledger methods (awaited)."""

    _ledger: _service.AsyncLedger | None = None

    if TYPE_CHECKING:

        async def _run(
            self,
            wanted: Any,
            alias: str | None,
            operation: Any,
            expected: Invoice | None = None,
            **arguments: Any,
        ) -> Any: ...

    def _open_ledger(self) -> None:
        settings = ledger_settings(self.config.ledger)
        if settings is not None:
            _unused, service = _modules()
            self._ledger = service.AsyncLedger(
                settings, call=self._ledger_call, notify=self._notify, listening=self._listening
            )

    async def _ledger_call(self, step: _service.Call) -> Any:
        wanted = Checkout if step.operation == "initiate" else PaymentResult
        return await self._run(wanted, step.gateway, step.operation, **step.arguments)

    def _need_ledger(self, what: str) -> _service.AsyncLedger:
        if self._ledger is None:
            raise _no_ledger(what)
        return self._ledger

    async def _ledger_initiate(self, invoice: Invoice, gateway: str | None) -> Checkout:
        ledger = self._need_ledger("initiate")
        initiation: Initiation = await ledger.do("initiate", invoice, self._alias(gateway))
        return initiation.checkout

    async def initiate_once(self, invoice: Invoice, *, gateway: str | None = None) -> Initiation:
        ledger = self._need_ledger("initiate_once")
        invoice = self._with_endpoint_urls(invoice, gateway)
        return await ledger.do("initiate", invoice, self._alias(gateway))  # type: ignore[no-any-return]

    async def _ledger_expected(self, result: PaymentResult, gateway: str | None) -> None:
        await self._need_ledger("verify").do("expected", result, self._alias(gateway))

    async def _ledger_confirmed(
        self, code: OtpCode, gateway: str | None, expected: Invoice | None
    ) -> PaymentResult | None:
        ledger = self._need_ledger("verify")
        known = await ledger.do("confirmed", code, self._alias(gateway), expected)
        return None if known is None else known[1]

    async def _ledger_money(
        self, kind: str, reference: str, amount: Money | None, gateway: str | None
    ) -> PaymentResult:
        ledger = self._need_ledger(kind)
        return await ledger.do(  # type: ignore[no-any-return]
            "money", self._alias(gateway), kind, reference, amount
        )

    async def receive(
        self,
        evidence: Callback | OtpCode,
        *,
        gateway: str | None = None,
        source: Source = "return",
    ) -> Receipt:
        ledger = self._need_ledger("receive")
        return await ledger.do("receive", evidence, self._alias(gateway), source)  # type: ignore[no-any-return]

    async def payment(self, invoice_number: str, *, gateway: str | None = None) -> Payment:
        ledger = self._need_ledger("payment")
        found = await ledger.do("payment", invoice_number)
        return _check_gateway(found, gateway)

    async def payments(
        self, *, status: PaymentStatus | str | Iterable[PaymentStatus | str] | None = None
    ) -> list[Payment]:
        ledger = self._need_ledger("payments")
        wanted = _statuses(status)
        return await ledger.do("payments", wanted)  # type: ignore[no-any-return]

    async def reconcile(self, *, older_than: timedelta | None = None) -> ReconcileReport:
        ledger = self._need_ledger("reconcile")
        age = (
            older_than
            if older_than is not None
            else timedelta(seconds=ledger.settings.reconcile_after)
        )
        found: ReconcileReport = await ledger.do("reconcile", age, self._can_query, self._can_find)
        return found

    async def resolve(
        self, invoice_number: str, *, status: PaymentStatus | str, reason: str, actor: str
    ) -> Payment:
        ledger = self._need_ledger("resolve")
        return await ledger.do(  # type: ignore[no-any-return]
            "resolve", invoice_number, _status(status), reason, actor
        )

    async def _close_ledger(self) -> None:
        if self._ledger is not None:
            await self._ledger.aclose()
