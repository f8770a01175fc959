"""``Hub`` and ``AsyncHub``: one merchant API over every configured gateway.

A hub builds one adapter instance per configured gateway (validated settings, its own
pluggy plugin manager, so a gateway's hooks are only ever called for that gateway), and
one shared HTTP client. Each operation calls the adapter's hook, drives the flow it
returns, checks what comes back, and translates every failure into a ``PayhubError``.
"""

from __future__ import annotations

import inspect
import logging
import os
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pluggy
from pydantic import BaseModel, ValidationError

from payhub_core import _registry, hookspecs
from payhub_core._config import GatewayConfig, HubConfig
from payhub_core._driver import AsyncDriver, RequestContext, SyncDriver
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
    validation_message,
)
from payhub_core._money import Money
from payhub_core._policy import RetryPolicy
from payhub_core._registry import check_adapter_class, implemented_operations
from payhub_core._settings import secret_values

__all__ = ["AsyncHub", "Hub"]

logger = logging.getLogger("payhub")

R = TypeVar("R", Checkout, PaymentResult)
H = TypeVar("H", bound="_HubBase")

# Statuses that say money moved or is held: only these are checked against `expected`'s
# amount, because a refund or failure event legitimately carries another amount.
_MONEY_STATUSES = (PaymentStatus.PAID, PaymentStatus.AUTHORIZED)
_MAX_RETRIES = 10  # GatewaySettings' own upper bound


@dataclass(frozen=True)
class _Gateway:
    alias: str
    adapter_name: str
    adapter: Any
    settings: BaseModel
    hooks: Any  # pluggy HookRelay of this gateway's plugin manager
    capabilities: Capabilities
    timeout: httpx.Timeout
    policy: RetryPolicy
    secrets: tuple[str, ...] = field(repr=False)  # raw values, for redaction only


def _register(
    alias: str, name: str, adapter: object, plugins: Iterable[object]
) -> tuple[Any, Capabilities]:
    """Register ``adapter`` and the cross-cutting ``plugins`` with a plugin manager of their
    own; check that they fit the hooks. Returns the hook relay and the capabilities."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    try:
        manager.register(adapter, name=f"adapter:{alias}")
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        raise ConfigurationError(
            f"gateway {alias!r}: adapter {name!r} does not fit the payhub hooks: {error}",
            gateway=alias,
        ) from error
    for plugin in plugins:
        what = f"plugin {type(plugin).__qualname__}"
        if manager.is_registered(plugin):
            raise ConfigurationError(f"{what} is given more than once", gateway=alias)
        try:
            manager.register(plugin)
            manager.check_pending()
        except pluggy.PluginValidationError as error:
            raise ConfigurationError(
                f"gateway {alias!r}: {what} does not fit the payhub hooks: {error}",
                gateway=alias,
            ) from error
    for caller in manager.get_hookcallers(adapter) or []:
        for impl in caller.get_hookimpls():
            if impl.plugin is adapter and (
                inspect.iscoroutinefunction(impl.function)
                or inspect.isasyncgenfunction(impl.function)
            ):
                raise ConfigurationError(
                    f"gateway {alias!r}: adapter {name!r} implements {caller.name} as an "
                    "async function; hooks must return a result or a flow (a plain "
                    "generator): the hub does the I/O",
                    gateway=alias,
                )

    registered = frozenset(
        caller.name.removeprefix("payhub_") for caller in manager.get_hookcallers(adapter) or []
    )
    return manager.hook, _capabilities(alias, name, adapter, registered)


def _capabilities(
    alias: str, name: str, adapter: object, registered: frozenset[str]
) -> Capabilities:
    """The adapter's declared capabilities, checked against the hooks it registered (or,
    when it declares none, derived from them)."""
    unmarked = sorted(implemented_operations(adapter) - registered)
    if unmarked:
        raise ConfigurationError(
            f"gateway {alias!r}: adapter {name!r} defines "
            + ", ".join(f"payhub_{op}" for op in unmarked)
            + " without @hookimpl",
            gateway=alias,
        )
    declared = getattr(adapter, "capabilities", None)
    if declared is None:
        return Capabilities(currencies=frozenset(), operations=registered)  # type: ignore[arg-type]
    if not isinstance(declared, Capabilities):
        raise ConfigurationError(
            f"gateway {alias!r}: adapter {name!r} capabilities must be a Capabilities",
            gateway=alias,
        )
    if declared.operations != registered:
        raise ConfigurationError(
            f"gateway {alias!r}: adapter {name!r} declares operations "
            f"{sorted(declared.operations)} but implements {sorted(registered)}",
            gateway=alias,
        )
    return declared


def _build_gateway(config: GatewayConfig, plugins: Iterable[object]) -> _Gateway:
    alias, name = config.alias, config.adapter
    try:
        # Looked up through the module so that tests (and tools) can swap the registry.
        cls: Any = check_adapter_class(name, _registry.load_adapter(name))
    except PayhubError as error:
        error.with_context(gateway=alias)
        raise
    try:
        settings = cls.Settings.model_validate(dict(config.settings))
    except ValidationError as error:
        message, _ = validation_message(error)
        raise ConfigurationError(
            f"gateway {alias!r} ({name}): invalid settings: {message}", gateway=alias
        ) from None
    secrets = tuple(secret_values(settings))
    try:
        adapter = cls(settings)
    except PayhubError as error:
        error.with_context(gateway=alias).scrub(secrets)
        raise
    except Exception as error:
        raise ConfigurationError(
            f"gateway {alias!r}: adapter {name!r} failed to start ({type(error).__name__})",
            gateway=alias,
        ) from error

    try:
        hooks, capabilities = _register(alias, name, adapter, plugins)
    except PayhubError as error:
        # pluggy's messages show the adapter's repr, which may hold what it was given
        error.scrub(secrets)
        raise

    timeout_seconds = float(getattr(settings, "timeout", 30.0))
    connect_seconds = float(getattr(settings, "connect_timeout", 10.0))
    # Settings models that do not extend GatewaySettings are not bounded by it: the
    # retry budget stays bounded whatever they allow.
    max_retries = min(max(int(getattr(settings, "max_retries", 2)), 0), _MAX_RETRIES)
    backoff = max(float(getattr(settings, "retry_backoff", 0.25)), 0.0)
    return _Gateway(
        alias=alias,
        adapter_name=name,
        adapter=adapter,
        settings=settings,
        hooks=hooks,
        capabilities=capabilities,
        timeout=httpx.Timeout(timeout_seconds, connect=connect_seconds),
        policy=RetryPolicy(max_retries=max_retries, backoff=backoff),
        secrets=secrets,
    )


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

    def __init__(self, gateway: _Gateway, operation: Operation) -> None:
        self.gateway = gateway
        self.operation = operation
        self.hook = getattr(gateway.hooks, f"payhub_{operation}")
        self.context = RequestContext(
            gateway=gateway.alias,
            operation=operation,
            request_id=uuid.uuid4().hex[:16],
            timeout=gateway.timeout,
            policy=gateway.policy,
            secrets=gateway.secrets,
        )
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

    @contextmanager
    def errors(self) -> Iterator[None]:
        context = self.context
        try:
            yield
        except PayhubError as error:
            error.with_context(
                gateway=context.gateway,
                operation=context.operation,
                request_id=context.request_id,
            ).scrub(context.secrets)
            self._log(logging.INFO, f"failed: {type(error).__name__}", error=type(error).__name__)
            raise
        except Exception as error:
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

    def finish(self, result: Any, expected: Invoice | None = None) -> Any:
        wanted = Checkout if self.operation == "initiate" else PaymentResult
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
        result = result.model_copy(update={"gateway": self.gateway.alias})
        if expected is not None:
            check_expected(result, expected)
        self._log(logging.INFO, f"-> {result.status}", result=result.status.value)
        return result


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
            alias: _build_gateway(gateway, plugins)
            for alias, gateway in self.config.gateways.items()
        }

    @classmethod
    def from_config(cls: type[H], config: Mapping[str, Any], **options: Any) -> H:
        return cls(HubConfig.from_mapping(config), **options)

    @classmethod
    def from_file(cls: type[H], path: str | os.PathLike[str], **options: Any) -> H:
        return cls(HubConfig.from_file(path), **options)

    @classmethod
    def from_env(cls: type[H], environ: Mapping[str, str] | None = None, **options: Any) -> H:
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

    def _gateway(self, alias: str | None) -> _Gateway:
        return self._gateways[self.config.resolve(alias).alias]

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


class Hub(_HubBase):
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
        self._client = httpx.Client(transport=transport, follow_redirects=False)
        self._driver = SyncDriver(self._client)

    def _run(
        self,
        alias: str | None,
        operation: Operation,
        expected: Invoice | None = None,
        **arguments: Any,
    ) -> Any:
        if self._client.is_closed:
            raise ConfigurationError("this Hub is closed; build a new one to go on")
        call = self._call(alias, operation)
        with call.errors():
            outcome = call.hook(**arguments)
            return call.finish(self._driver.run(outcome, call.context), expected)

    def initiate(self, invoice: Invoice, *, gateway: str | None = None) -> Checkout:
        """Start paying ``invoice``; the checkout says what the customer does next."""
        result: Checkout = self._run(gateway, "initiate", invoice=invoice)
        return result

    def verify(
        self,
        evidence: Callback | OtpCode,
        *,
        gateway: str | None = None,
        expected: Invoice | None = None,
    ) -> PaymentResult:
        """Turn a callback (as received) or an OTP code into a trusted result; with
        ``expected``, also require the invoice number, amount and currency to match."""
        result: PaymentResult = self._run(gateway, "verify", expected, **_evidence_kwargs(evidence))
        return result

    def capture(
        self, reference: str, *, amount: Money | None = None, gateway: str | None = None
    ) -> PaymentResult:
        result: PaymentResult = self._run(gateway, "capture", reference=reference, amount=amount)
        return result

    def cancel(self, reference: str, *, gateway: str | None = None) -> PaymentResult:
        result: PaymentResult = self._run(gateway, "cancel", reference=reference)
        return result

    def refund(
        self, reference: str, *, amount: Money | None = None, gateway: str | None = None
    ) -> PaymentResult:
        result: PaymentResult = self._run(gateway, "refund", reference=reference, amount=amount)
        return result

    def status(self, reference: str, *, gateway: str | None = None) -> PaymentResult:
        result: PaymentResult = self._run(gateway, "status", reference=reference)
        return result

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncHub(_HubBase):
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
        self._client = httpx.AsyncClient(transport=transport, follow_redirects=False)
        self._driver = AsyncDriver(self._client)

    async def _run(
        self,
        alias: str | None,
        operation: Operation,
        expected: Invoice | None = None,
        **arguments: Any,
    ) -> Any:
        if self._client.is_closed:
            raise ConfigurationError("this AsyncHub is closed; build a new one to go on")
        call = self._call(alias, operation)
        with call.errors():
            outcome = call.hook(**arguments)
            return call.finish(await self._driver.run(outcome, call.context), expected)

    async def initiate(self, invoice: Invoice, *, gateway: str | None = None) -> Checkout:
        result: Checkout = await self._run(gateway, "initiate", invoice=invoice)
        return result

    async def verify(
        self,
        evidence: Callback | OtpCode,
        *,
        gateway: str | None = None,
        expected: Invoice | None = None,
    ) -> PaymentResult:
        result: PaymentResult = await self._run(
            gateway, "verify", expected, **_evidence_kwargs(evidence)
        )
        return result

    async def capture(
        self, reference: str, *, amount: Money | None = None, gateway: str | None = None
    ) -> PaymentResult:
        result: PaymentResult = await self._run(
            gateway, "capture", reference=reference, amount=amount
        )
        return result

    async def cancel(self, reference: str, *, gateway: str | None = None) -> PaymentResult:
        result: PaymentResult = await self._run(gateway, "cancel", reference=reference)
        return result

    async def refund(
        self, reference: str, *, amount: Money | None = None, gateway: str | None = None
    ) -> PaymentResult:
        result: PaymentResult = await self._run(
            gateway, "refund", reference=reference, amount=amount
        )
        return result

    async def status(self, reference: str, *, gateway: str | None = None) -> PaymentResult:
        result: PaymentResult = await self._run(gateway, "status", reference=reference)
        return result

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> AsyncHub:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
