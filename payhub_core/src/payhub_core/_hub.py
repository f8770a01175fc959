"""``Hub`` and ``AsyncHub``: one merchant API over every configured gateway.

A hub assembles one adapter instance per configured gateway (``_assembly``: validated
settings, hooks validated by a pluggy plugin manager of its own, so a gateway's hooks are
only ever called for that gateway; ``_hooks``: what the hub keeps to call them), and one
shared HTTP client. Each operation calls the adapter's hook, drives the
flow it returns, checks what comes back, and translates every failure into a
``PayhubError``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from payhub_core import hookspecs
from payhub_core._assembly import Gateway, build_gateway
from payhub_core._config import HubConfig
from payhub_core._driver import AsyncDriver, RequestContext, SyncDriver, scrub_result
from payhub_core._errors import (
    AdapterError,
    AmountMismatch,
    ConfigurationError,
    PayhubError,
    UnsupportedOperation,
)
from payhub_core._models import (
    Callback,
    Capabilities,
    Checkout,
    Invoice,
    Operation,
    OtpCode,
    PaymentResult,
    PaymentStatus,
)
from payhub_core._money import Money
from payhub_core._transport import sync_transport
from payhub_core.ledger._methods import AsyncLedgerMethods, SyncLedgerMethods

if TYPE_CHECKING:  # imported when a [web] table is configured
    from payhub_core.web import WebSettings

__all__ = ["AsyncHub", "Hub"]

logger = logging.getLogger("payhub")

R = TypeVar("R", Checkout, PaymentResult)
H = TypeVar("H", bound="_HubBase")

# Statuses that say money moved or is held: only these are checked against `expected`'s
# amount, because a refund or failure event legitimately carries another amount.
_MONEY_STATUSES = (PaymentStatus.PAID, PaymentStatus.AUTHORIZED)


def check_expected(result: PaymentResult, expected: Invoice) -> None:
    """Raise ``AmountMismatch`` unless ``result`` is the payment ``expected`` asked for."""
    if result.invoice_number is not None and result.invoice_number != expected.number:
        raise AmountMismatch(
            f"the gateway reports invoice {result.invoice_number!r}, expected {expected.number!r}",
            field="invoice_number",
            expected_value=expected.number,
            actual_value=result.invoice_number,
        )
    if result.status not in _MONEY_STATUSES:
        return
    if result.invoice_number is None or result.amount is None:
        missing = "invoice number" if result.invoice_number is None else "amount"
        raise AmountMismatch(
            f"the gateway did not state the {missing}, so the payment cannot be matched "
            "to the expected invoice",
            field="invoice_number" if result.invoice_number is None else "amount",
            expected_value=expected.number
            if result.invoice_number is None
            else str(expected.amount),
            actual_value="(missing)",
        )
    if result.amount.currency != expected.amount.currency:
        raise AmountMismatch(
            f"the gateway reports {result.amount.currency}, expected {expected.amount.currency}",
            field="currency",
            expected_value=expected.amount.currency,
            actual_value=result.amount.currency,
        )
    if result.amount != expected.amount:
        raise AmountMismatch(
            f"the gateway reports {result.amount}, expected {expected.amount}",
            field="amount",
            expected_value=str(expected.amount),
            actual_value=str(result.amount),
        )


class _Call:
    """One operation on one gateway: its context, error translation and result checks."""

    __slots__ = ("context", "gateway", "hook", "operation", "optional", "started")

    def __init__(self, gateway: Gateway, operation: Operation) -> None:
        self.gateway = gateway
        self.operation = operation
        self.hook = gateway.hooks.caller(operation)
        self.optional = hookspecs.OPTIONAL_ARGUMENTS.get(operation, {})
        # 16 random hex digits, as uuid4().hex[:16] gave, without building a UUID per call
        self.context = RequestContext.for_gateway(gateway, operation, os.urandom(8).hex())
        self.started = time.perf_counter()

    def _log(self, level: int, outcome: str, **fields: Any) -> None:
        context = self.context
        elapsed_ms = round((time.perf_counter() - self.started) * 1000, 1)
        logger.log(
            level,
            "gateway=%s operation=%s request_id=%s %s in %.0f ms",
            context.gateway,
            context.operation,
            context.request_id,
            outcome,
            elapsed_ms,
            extra={
                "payhub": {
                    "gateway": context.gateway,
                    "operation": context.operation,
                    "request_id": context.request_id,
                    "elapsed_ms": elapsed_ms,
                    **fields,
                }
            },
        )

    def errors(self) -> _Call:
        """``with call.errors():`` translates what the block raises (see ``__exit__``)."""
        return self

    def __enter__(self) -> None:
        return None

    # A plain context manager, not a @contextmanager generator: every call passes here.
    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _tb: object
    ) -> None:
        if error is None:
            return
        context = self.context
        if isinstance(error, PayhubError):
            error.with_context(
                gateway=context.gateway,
                operation=context.operation,
                request_id=context.request_id,
            ).scrub(context.secrets)
            self._log(logging.INFO, f"failed: {type(error).__name__}", error=type(error).__name__)
            return  # raised on as it is
        if not isinstance(error, Exception):
            return  # KeyboardInterrupt, a cancellation: not the adapter's failure
        self._log(
            logging.ERROR,
            f"failed: the adapter raised {type(error).__name__}",
            error=AdapterError.__name__,
            cause=type(error).__name__,
        )
        raise AdapterError(
            f"adapter {self.gateway.adapter_name!r} failed unexpectedly during "
            f"{self.operation} ({type(error).__name__}); this is a bug in the adapter",
            gateway=context.gateway,
            operation=context.operation,
            request_id=context.request_id,
        ) from error

    def finish(self, result: object, wanted: type[R], expected: Invoice | None = None) -> R:
        if result is None:
            raise UnsupportedOperation(
                f"gateway {self.gateway.alias!r} ({self.gateway.adapter_name}) returned "
                f"nothing for {self.operation}"
            )
        if not isinstance(result, wanted):
            raise AdapterError(
                f"adapter {self.gateway.adapter_name!r} returned {type(result).__name__} "
                f"from {self.operation}, not {wanted.__name__}"
            )
        # raw and messages are scrubbed too: a gateway may echo a secret in a success
        finished = scrub_result(result, self.context.secrets, gateway=self.gateway.alias)
        if isinstance(finished, PaymentResult) and expected is not None:
            check_expected(finished, expected)
        if logger.isEnabledFor(logging.INFO):  # not even the message text otherwise
            self._log(logging.INFO, f"-> {finished.status}", result=finished.status.value)
        return finished


class _HubBase:
    """Configuration, gateways and calls shared by ``Hub`` and ``AsyncHub``."""

    def __init__(
        self,
        config: HubConfig | Mapping[str, Any],
        *,
        plugins: Iterable[object] = (),
    ) -> None:
        self.config = config if isinstance(config, HubConfig) else HubConfig.from_mapping(config)
        plugins = tuple(plugins)
        self._gateways = {
            alias: build_gateway(gateway, plugins)
            for alias, gateway in self.config.gateways.items()
        }
        try:  # every call without gateway= goes to it: looked up once
            self._default: Gateway | None = self._gateways[self.config.resolve(None).alias]
        except ConfigurationError:
            self._default = None  # several gateways, no default: each call must name one
        self._web: WebSettings | None = None
        if self.config.web is not None:  # a bad [web] table is found now, not on a request
            from payhub_core.web import web_settings

            self._web = web_settings(self.config)

    def _with_endpoint_urls(self, invoice: Invoice, gateway: str | None) -> Invoice:
        """``invoice`` with the return and callback URLs it lacks pointing at the web
        endpoints of its gateway, when ``[web] public_url`` is configured (docs/web)."""
        if self._web is None:
            return invoice
        from payhub_core.web import fill_urls

        return fill_urls(invoice, self.config.resolve(gateway).alias, self._web)

    @classmethod
    def from_config(cls: type[H], config: Mapping[str, Any], **options: Any) -> H:
        """A hub configured by ``config`` (the TOML shape as a dict), exactly as given:
        environment variables are not read, the code building ``config`` decides.

        ``options`` are the constructor's (``transport=``, ``plugins=``). Every gateway is
        built and its settings validated now; ``ConfigurationError`` names the gateway
        and the field, never the value.
        """
        return cls(HubConfig.from_mapping(config), **options)

    @classmethod
    def from_file(
        cls: type[H],
        path: str | os.PathLike[str],
        *,
        environ: Mapping[str, str] | None = None,
        **options: Any,
    ) -> H:
        """A hub configured by the TOML file at ``path``, with the environment's
        ``PAYHUB_DEFAULT`` and ``PAYHUB_<ALIAS>__<FIELD>`` applied on top (so secrets can
        stay out of the file). ``environ`` defaults to ``os.environ``; ``{}`` reads the file
        alone. ``payhub check PATH`` validates exactly this.
        """
        return cls(HubConfig.from_file(path, environ=environ), **options)

    @classmethod
    def from_env(cls: type[H], environ: Mapping[str, str] | None = None, **options: Any) -> H:
        """A hub configured by the environment (``os.environ`` unless ``environ`` is
        given): the TOML file named by ``PAYHUB_CONFIG`` if set, then ``PAYHUB_DEFAULT`` and
        ``PAYHUB_<ALIAS>__<FIELD>`` on top; a gateway may be defined by variables alone.
        ``payhub check`` with ``PAYHUB_CONFIG`` set (or no file at all) validates exactly
        this.
        """
        return cls(HubConfig.from_env(environ), **options)

    @property
    def gateways(self) -> tuple[str, ...]:
        """The configured gateway aliases."""
        return tuple(self._gateways)

    @property
    def default_gateway(self) -> str:
        return self.config.resolve(None).alias

    def capabilities(self, gateway: str | None = None) -> Capabilities:
        """What ``gateway`` supports; no network call."""
        return self._gateway(gateway).capabilities

    def adapter(self, gateway: str | None = None) -> Any:
        """The adapter instance serving ``gateway`` (for tests and tooling: injecting a
        clock, inspecting a token cache). Merchant code should not need it."""
        return self._gateway(gateway).adapter

    def _gateway(self, alias: str | None) -> Gateway:
        found = self._gateways.get(alias) if alias is not None else self._default
        # else the configuration says what is wrong with the alias (or the missing default)
        return found if found is not None else self._gateways[self.config.resolve(alias).alias]

    def _call(self, alias: str | None, operation: Operation) -> _Call:
        gateway = self._gateway(alias)
        if operation not in gateway.capabilities.operations:
            raise UnsupportedOperation(
                f"gateway {gateway.alias!r} ({gateway.adapter_name}) does not support {operation}",
                gateway=gateway.alias,
                operation=operation,
            )
        return _Call(gateway, operation)


def _evidence_kwargs(evidence: Callback | OtpCode) -> dict[str, Any]:
    if not isinstance(evidence, (Callback, OtpCode)):
        raise TypeError("verify takes a Callback or an OtpCode")
    return {"evidence": evidence}


class Hub(SyncLedgerMethods, _HubBase):
    """The synchronous hub. Use as a context manager, or call :meth:`close`.

    ``transport`` (an ``httpx.BaseTransport``, e.g. ``httpx.MockTransport``) replaces the
    network for every gateway; ``plugins`` are pluggy plugins registered for every gateway
    (wrappers for logging, metrics, recording).
    """

    def __init__(
        self,
        config: HubConfig | Mapping[str, Any],
        *,
        transport: httpx.BaseTransport | None = None,
        plugins: Iterable[object] = (),
    ) -> None:
        super().__init__(config, plugins=plugins)
        self._open_ledger()  # only with a [ledger] table: docs/ledger.md
        self._client = httpx.Client(
            transport=transport if transport is not None else sync_transport(),
            follow_redirects=False,
        )
        self._driver = SyncDriver(self._client)

    def _run(
        self,
        wanted: type[R],
        alias: str | None,
        operation: Operation,
        expected: Invoice | None = None,
        **arguments: Any,
    ) -> R:
        if self._client.is_closed:
            raise ConfigurationError("this Hub is closed; build a new one to go on")
        call = self._call(alias, operation)
        call.context = call.context.with_secrets(*arguments.values())  # a card, an OTP
        with call.errors():
            outcome = call.hook(**{**call.optional, **arguments})
            return call.finish(self._driver.run(outcome, call.context), wanted, expected)

    def initiate(self, invoice: Invoice, *, gateway: str | None = None) -> Checkout:
        """Start paying ``invoice``; the checkout says what the customer does next."""
        invoice = self._with_endpoint_urls(invoice, gateway)
        if self._ledger is not None:  # idempotent per (invoice, gateway): docs/ledger.md
            return self._ledger_initiate(invoice, gateway)
        return self._run(Checkout, gateway, "initiate", invoice=invoice)

    def verify(
        self,
        evidence: Callback | OtpCode,
        *,
        gateway: str | None = None,
        expected: Invoice | None = None,
    ) -> PaymentResult:
        """Turn a callback (as received) or an OTP code into a trusted result; with
        ``expected``, also require the invoice number, amount and currency to match."""
        if self._ledger is not None and isinstance(evidence, OtpCode):
            known = self._ledger_confirmed(evidence, gateway, expected)  # not sent again
            if known is not None:
                return known
        result = self._run(PaymentResult, gateway, "verify", expected, **_evidence_kwargs(evidence))
        if expected is None and self._ledger is not None:  # the stored invoice is expected
            self._ledger_expected(result, gateway)
        return result

    def capture(
        self, reference: str, *, amount: Money | None = None, gateway: str | None = None
    ) -> PaymentResult:
        if self._ledger is not None:
            return self._ledger_money("capture", reference, amount, gateway)
        return self._run(PaymentResult, gateway, "capture", reference=reference, amount=amount)

    def cancel(self, reference: str, *, gateway: str | None = None) -> PaymentResult:
        if self._ledger is not None:
            return self._ledger_money("cancel", reference, None, gateway)
        return self._run(PaymentResult, gateway, "cancel", reference=reference)

    def refund(
        self, reference: str, *, amount: Money | None = None, gateway: str | None = None
    ) -> PaymentResult:
        if self._ledger is not None:
            return self._ledger_money("refund", reference, amount, gateway)
        return self._run(PaymentResult, gateway, "refund", reference=reference, amount=amount)

    def status(self, reference: str, *, gateway: str | None = None) -> PaymentResult:
        return self._run(PaymentResult, gateway, "status", reference=reference)

    def close(self) -> None:
        self._client.close()
        self._close_ledger()

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncHub(AsyncLedgerMethods, _HubBase):
    """The asynchronous hub: the same operations, awaited. ``async with`` it, or call
    :meth:`aclose`. ``transport`` is an ``httpx.AsyncBaseTransport``."""

    def __init__(
        self,
        config: HubConfig | Mapping[str, Any],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        plugins: Iterable[object] = (),
    ) -> None:
        super().__init__(config, plugins=plugins)
        self._open_ledger()  # only with a [ledger] table: docs/ledger.md
        self._client = httpx.AsyncClient(transport=transport, follow_redirects=False)
        self._driver = AsyncDriver(self._client)

    async def _run(
        self,
        wanted: type[R],
        alias: str | None,
        operation: Operation,
        expected: Invoice | None = None,
        **arguments: Any,
    ) -> R:
        if self._client.is_closed:
            raise ConfigurationError("this AsyncHub is closed; build a new one to go on")
        call = self._call(alias, operation)
        call.context = call.context.with_secrets(*arguments.values())  # a card, an OTP
        with call.errors():
            outcome = call.hook(**{**call.optional, **arguments})
            del arguments  # the flow holds what it needs; this frame waits for the answer
            return call.finish(await self._driver.run(outcome, call.context), wanted, expected)

    async def initiate(self, invoice: Invoice, *, gateway: str | None = None) -> Checkout:
        invoice = self._with_endpoint_urls(invoice, gateway)
        if self._ledger is not None:  # idempotent per (invoice, gateway): docs/ledger.md
            return await self._ledger_initiate(invoice, gateway)
        return await self._run(Checkout, gateway, "initiate", invoice=invoice)

    async def verify(
        self,
        evidence: Callback | OtpCode,
        *,
        gateway: str | None = None,
        expected: Invoice | None = None,
    ) -> PaymentResult:
        if self._ledger is not None and isinstance(evidence, OtpCode):
            known = await self._ledger_confirmed(evidence, gateway, expected)  # not sent again
            if known is not None:
                return known
        result = await self._run(
            PaymentResult, gateway, "verify", expected, **_evidence_kwargs(evidence)
        )
        if expected is None and self._ledger is not None:  # the stored invoice is expected
            await self._ledger_expected(result, gateway)
        return result

    async def capture(
        self, reference: str, *, amount: Money | None = None, gateway: str | None = None
    ) -> PaymentResult:
        if self._ledger is not None:
            return await self._ledger_money("capture", reference, amount, gateway)
        return await self._run(
            PaymentResult, gateway, "capture", reference=reference, amount=amount
        )

    async def cancel(self, reference: str, *, gateway: str | None = None) -> PaymentResult:
        if self._ledger is not None:
            return await self._ledger_money("cancel", reference, None, gateway)
        return await self._run(PaymentResult, gateway, "cancel", reference=reference)

    async def refund(
        self, reference: str, *, amount: Money | None = None, gateway: str | None = None
    ) -> PaymentResult:
        if self._ledger is not None:
            return await self._ledger_money("refund", reference, amount, gateway)
        return await self._run(PaymentResult, gateway, "refund", reference=reference, amount=amount)

    async def status(self, reference: str, *, gateway: str | None = None) -> PaymentResult:
        return await self._run(PaymentResult, gateway, "status", reference=reference)

    async def aclose(self) -> None:
        await self._client.aclose()
        await self._close_ledger()

    async def __aenter__(self) -> AsyncHub:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
