"""The conformance suite: what every payhub adapter must do, checked against itself.

Subclass :class:`AdapterConformance` in a test module, give it the adapter, its settings,
a fake gateway and a way to produce genuine evidence, and pytest runs every check as a
test named ``test_<check>``::

    from payhub_core.testing.conformance import AdapterConformance

    class TestAcmeConformance(AdapterConformance):
        adapter = "acme.pay"                       # entry point name (or the class)
        settings = {"api_key": "ak-CANARY-1f2e", "secret": "sk-CANARY-9d8c"}
        amount_field = "amount_minor"
        amount_unit = "minor"

        def gateway(self):                         # a fresh fake gateway per scenario
            return FakeAcme()

        def evidence(self, gateway, invoice, checkout):
            return gateway.pay(checkout.reference)  # what the gateway sends back

Each failure starts with ``[<check>]``; the test kit reference (docs/testing-kit.md)
explains every check by that name. Nothing touches the network: the hub's transport is an
``httpx.MockTransport`` in front of the fake gateway. Needs ``payhub-core[testing]``.
"""

from __future__ import annotations

import json
import logging
import os
import traceback
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl

import anyio
import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from payhub_core import _registry
from payhub_core._errors import (
    AdapterError,
    AmountMismatch,
    GatewayUnavailable,
    InvalidRequest,
    PayhubError,
    UnsupportedOperation,
)
from payhub_core._hub import AsyncHub, Hub
from payhub_core._iso4217 import MINOR_UNITS
from payhub_core._models import (
    OPERATIONS,
    Callback,
    Capabilities,
    Checkout,
    Customer,
    Invoice,
    OtpChallenge,
    OtpCode,
    PaymentResult,
    PaymentStatus,
    Redirect,
)
from payhub_core._money import Money
from payhub_core._settings import secret_values
from payhub_core.testing._mutations import mutations_of
from payhub_core.testing._wire import FAULTS, NOT_DELIVERED, UNREADABLE, Fault, Sent, Wire

__all__ = [
    "CHECKS",
    "FAULTS",
    "AdapterConformance",
    "ConformanceFailure",
    "GatewayHandler",
]

CHECKS = (
    "capabilities_match_hooks",
    "unsupported_operations_raise",
    "genuine_evidence_verifies",
    "tampered_evidence_never_paid",
    "foreign_evidence_never_paid",
    "expected_mismatch_raises",
    "transport_faults_become_payhub_errors",
    "non_idempotent_requests_sent_once",
    "money_requests_not_marked_idempotent",
    "amounts_exact_on_wire",
    "unrepresentable_amounts_refused",
    "secrets_never_leak",
    "sync_and_async_agree",
)
"""Every check, in the order they run; each is the test method ``test_<name>``."""

GatewayHandler = Callable[[httpx.Request], httpx.Response]
"""A fake gateway: answers each request the adapter sends (an ``httpx.MockTransport``
handler)."""

ALIAS = "conformance"
_PAID_LIKE = frozenset({PaymentStatus.PAID, PaymentStatus.AUTHORIZED})
_MONEY_OPERATIONS = frozenset({"verify", "capture", "cancel", "refund"})
_ANY_CURRENCY_SAMPLE = ("JPY", "USD", "KWD")  # 0, 2 and 3 decimals
_OTHER_CURRENCIES = ("USD", "EUR", "JPY", "KWD", "LYD", "INR", "GBP")
_DEFAULT_MAX_MAJOR = 1_000_000
_MIN_CANARY = 8


class ConformanceFailure(AssertionError):
    """An adapter failed conformance check ``check``."""

    def __init__(self, check: str, message: str) -> None:
        self.check = check
        super().__init__(
            f"[{check}] {message}\n(search the payhub test kit reference, "
            f"docs/testing-kit.md, for {check!r})"
        )


@dataclass
class _Outcome:
    """What one hub call gave: a result or an error, and what went over the wire."""

    operation: str
    value: Any = None
    error: BaseException | None = None
    sent: list[Sent] = field(default_factory=list)
    fault: Fault | None = None


@dataclass
class _Scenario:
    gateway: GatewayHandler
    invoice: Invoice
    checkout: Checkout
    evidence: Callback | OtpCode


_CACHE: weakref.WeakKeyDictionary[type, dict[str, Any]] = weakref.WeakKeyDictionary()


def _identity(result: PaymentResult) -> tuple[Any, ...]:
    return (
        result.status,
        result.invoice_number,
        result.amount,
        result.reference,
        result.transaction_id,
    )


def _secrets_of(hub: Hub) -> list[str]:
    """The secret values of the gateway's validated settings (``SecretStr`` fields)."""
    return secret_values(hub._gateway(ALIAS).settings)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _texts_of(error: BaseException) -> list[str]:
    """Everything an error shows: message, repr, string attributes, and its causes."""
    texts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current)]
        texts += [repr(value) for value in vars(current).values()]
        texts.append("".join(traceback.format_exception_only(type(current), current)))
        current = current.__cause__ or current.__context__
    return texts


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._format = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self) -> list[str]:
        found = []
        for record in self.records:
            found.append(self._format.format(record))
            found.append(repr({k: v for k, v in vars(record).items() if k != "msg"}))
        return found


@contextmanager
def _every_logger_at_debug() -> Iterator[_Capture]:
    """Every logger at DEBUG, enabled, and recorded (also those that do not propagate)."""
    handler = _Capture()
    root = logging.getLogger()
    loggers = [root] + [
        item
        for item in logging.root.manager.loggerDict.values()
        if isinstance(item, logging.Logger)
    ]
    saved = [(item, item.level, item.disabled) for item in loggers]
    attached = [root] + [item for item in loggers if not item.propagate]
    for item in loggers:
        item.setLevel(logging.DEBUG)
        item.disabled = False
    for item in attached:
        item.addHandler(handler)
    try:
        yield handler
    finally:
        for item in attached:
            item.removeHandler(handler)
        for item, level, disabled in saved:
            item.setLevel(level)
            item.disabled = disabled


class AdapterConformance:
    """Base class of an adapter's conformance tests (see the module docstring).

    Required: :attr:`adapter`, :attr:`settings`, :meth:`gateway` and :meth:`evidence`.
    Usually set: :attr:`amount_field` and :attr:`amount_unit` (where the amount is in the
    initiate request), and :meth:`invoice` when the gateway needs more than an amount and
    URLs (a mobile number). Optional: :meth:`foreign_evidence`, :meth:`safe_to_repeat`,
    :meth:`wire_amount`, :attr:`examples`.
    """

    adapter: ClassVar[str | type]
    """The entry point name in ``payhub.adapters``, or the adapter class itself (for an
    adapter not installed yet)."""

    settings: ClassVar[Mapping[str, Any]]
    """The gateway's settings as in a configuration table, without ``adapter``. Give every
    secret a distinctive canary value (at least 8 characters): the suite looks for them in
    reprs, logs, errors and results. ``max_retries``/``retry_backoff`` are set by the suite
    where the settings model has them."""

    amount_field: ClassVar[str] = "amount"
    """Where the amount is in the initiate request: a form field, a JSON key, or a dotted
    JSON path (``"order_amount.value"``)."""

    amount_unit: ClassVar[Literal["major", "minor"]] = "major"
    """``"major"`` (``"25.50"``) or ``"minor"`` (``2550``, in units of the precision the
    adapter declares)."""

    examples: ClassVar[int] = 50
    """Hypothesis examples per property check; the environment variable
    ``PAYHUB_CONFORMANCE_EXAMPLES`` overrides it."""

    # -- what the author provides ------------------------------------------------------

    def gateway(self) -> GatewayHandler:
        """A fresh fake gateway (or the sandbox emulator's handler) for one scenario."""
        raise NotImplementedError("define gateway() in your AdapterConformance subclass")

    def evidence(
        self, gateway: GatewayHandler, invoice: Invoice, checkout: Checkout
    ) -> Callback | OtpCode:
        """Genuine evidence that the customer paid ``invoice`` after ``checkout``: the
        signed return, callback or webhook the gateway sends, or the ``OtpCode`` with the
        right code. ``gateway`` is the one :meth:`gateway` made for this scenario."""
        raise NotImplementedError("define evidence() in your AdapterConformance subclass")

    def invoice(
        self,
        number: str,
        amount: Money,
        capture: Literal["automatic", "manual"] = "automatic",
    ) -> Invoice:
        """An invoice the gateway accepts, for ``amount``. Override to add what your gateway
        requires (a customer's mobile number, a payment method)."""
        return Invoice(
            number=number,
            amount=amount,
            return_url="https://shop.example/payhub/return",
            callback_url="https://shop.example/payhub/callback",
            customer=Customer(email="buyer@shop.example"),
            capture=capture,
        )

    def foreign_evidence(
        self, gateway: GatewayHandler, invoice: Invoice, checkout: Checkout
    ) -> Sequence[Callback | OtpCode]:
        """Evidence from elsewhere that must never verify as paid here: another service's
        return signed with the same key, a sandbox's evidence, a replay for another
        merchant. The suite adds its own (an empty request, the other kind of evidence)."""
        return ()

    def safe_to_repeat(self, request: httpx.Request) -> bool:
        """Whether ``request`` may be marked idempotent although it is sent by an
        operation that moves money (default: reads only, GET and HEAD). Override to allow
        a token request, for example."""
        return request.method in ("GET", "HEAD", "OPTIONS")

    def wire_amount(self, request: httpx.Request) -> Decimal | None:
        """The amount ``request`` carries as written (``None`` when it carries none), read
        from :attr:`amount_field` of its form or JSON body or its query string."""
        path = self.amount_field.split(".")
        value: Any = None
        content = request.content
        if content:
            try:
                value = json.loads(content, parse_float=Decimal)
            except (ValueError, RecursionError):
                value = dict(parse_qsl(content.decode("utf-8", "replace"), keep_blank_values=True))
        else:
            value = dict(parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True))
        for part in path:
            if not isinstance(value, Mapping) or part not in value:
                return None
            value = value[part]
        if isinstance(value, bool) or value is None:
            raise ConformanceFailure(
                "amounts_exact_on_wire", f"{self.amount_field} is {value!r}, not an amount"
            )
        if isinstance(value, float):
            raise ConformanceFailure(
                "amounts_exact_on_wire", f"{self.amount_field} is a float ({value!r})"
            )
        try:
            return Decimal(str(value).strip())
        except ArithmeticError:
            raise ConformanceFailure(
                "amounts_exact_on_wire", f"{self.amount_field} is {value!r}, not a number"
            ) from None

    # -- running outside pytest --------------------------------------------------------

    @classmethod
    def build_hub(cls, gateway: GatewayHandler | None = None) -> Hub:
        """A ``Hub`` with one gateway, alias ``"conformance"`` (the default): this adapter
        with these settings, answered by ``gateway`` (default: a fresh :meth:`gateway`).

        Works for an adapter given as a class too, before its distribution is installed.
        Close it (``with``) when done.
        """
        suite = cls()
        return suite._hub(Wire(gateway=gateway or suite.gateway()))

    @classmethod
    def run_checks(cls, names: Sequence[str] | None = None) -> dict[str, ConformanceFailure | None]:
        """Run checks (all by default) without pytest: name -> ``None`` when it passed, or
        the :class:`ConformanceFailure`."""
        outcome: dict[str, ConformanceFailure | None] = {}
        for name in names or CHECKS:
            if name not in CHECKS:
                raise ValueError(f"no conformance check is named {name!r}")
            try:
                getattr(cls(), f"test_{name}")()
            except ConformanceFailure as failure:
                outcome[name] = failure
            except Exception as error:
                outcome[name] = ConformanceFailure(name, _describe(error))
            else:
                outcome[name] = None
        return outcome

    # -- machinery ---------------------------------------------------------------------

    def _examples(self) -> int:
        return int(os.environ.get("PAYHUB_CONFORMANCE_EXAMPLES", self.examples))

    def _given(self, *strategies: st.SearchStrategy[Any]) -> Callable[[Callable[..., None]], Any]:
        def wrap(test: Callable[..., None]) -> Any:
            return settings(
                max_examples=self._examples(),
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )(given(*strategies)(test))

        return wrap

    def _cache(self) -> dict[str, Any]:
        return _CACHE.setdefault(type(self), {})

    def _adapter_name(self) -> str:
        target = self.adapter
        return target if isinstance(target, str) else f"conformance.{target.__name__.lower()}"

    def _config(self, retries: int) -> dict[str, Any]:
        table: dict[str, Any] = dict(self.settings)
        target = self.adapter
        cls = _registry.load_adapter(target) if isinstance(target, str) else target
        fields = getattr(cls, "Settings").model_fields  # noqa: B009 - checked by the registry
        if "max_retries" in fields:
            table["max_retries"] = retries
        if "retry_backoff" in fields:
            table["retry_backoff"] = 0
        return {"gateways": {ALIAS: {"adapter": self._adapter_name(), **table}}}

    @contextmanager
    def _registered(self) -> Iterator[None]:
        """An adapter given as a class is found under its conformance name while a hub
        is built (the registry is consulted only then)."""
        target = self.adapter
        if isinstance(target, str):
            yield
            return
        real = _registry.load_adapter
        local = self._adapter_name()

        def load(name: str) -> type:
            return target if name == local else real(name)

        _registry.load_adapter = load
        try:
            yield
        finally:
            _registry.load_adapter = real

    def _hub(self, wire: Wire, retries: int = 0) -> Hub:
        with self._registered(), self._buildable():
            return Hub(self._config(retries), transport=httpx.MockTransport(wire))

    def _async_hub(self, handler: GatewayHandler, retries: int = 0) -> AsyncHub:
        with self._registered(), self._buildable():
            return AsyncHub(self._config(retries), transport=httpx.MockTransport(handler))

    @staticmethod
    @contextmanager
    def _buildable() -> Iterator[None]:
        """A hub that cannot be built fails every check the same way, under the first."""
        try:
            yield
        except PayhubError as error:
            raise ConformanceFailure(
                "capabilities_match_hooks", f"no hub can be built: {_describe(error)}"
            ) from None

    def _capabilities(self) -> Capabilities:
        cache = self._cache()
        if "capabilities" not in cache:
            with self._hub(Wire()) as hub:
                cache["capabilities"] = hub.capabilities(ALIAS)
        caps: Capabilities = cache["capabilities"]
        return caps

    def _currencies(self) -> list[str]:
        caps = self._capabilities()
        return sorted(caps.currencies) or list(_ANY_CURRENCY_SAMPLE)

    def _wire_decimals(self, currency: str) -> int:
        decimals = MINOR_UNITS[currency]
        declared = self._capabilities().amount_decimals
        return decimals if declared is None else min(decimals, declared)

    def _limits(self, currency: str) -> tuple[int, int]:
        """The smallest and largest amount the adapter declares, in wire units."""
        caps, digits = self._capabilities(), self._wire_decimals(currency)
        low, high = 1, _DEFAULT_MAX_MAJOR * 10**digits
        for bound in caps.min_amount:
            if bound.currency == currency:
                low = max(
                    low,
                    int(bound.amount.scaleb(digits).to_integral_value(rounding=ROUND_CEILING)),
                )
        for bound in caps.max_amount:
            if bound.currency == currency:
                high = int(bound.amount.scaleb(digits).to_integral_value(rounding=ROUND_FLOOR))
        return low, high

    def _money(self, currency: str, units: int) -> Money:
        return Money(Decimal(units).scaleb(-self._wire_decimals(currency)), currency)

    def _default_amount(self) -> Money:
        currency = self._currencies()[0]
        low, high = self._limits(currency)
        units = min(max(10 * 10 ** self._wire_decimals(currency), low), high)
        return self._money(currency, units)

    @staticmethod
    def _number() -> str:
        return f"CONF{uuid.uuid4().hex[:10].upper()}"

    def _scenario(
        self,
        hub: Hub,
        wire: Wire,
        *,
        capture: Literal["automatic", "manual"] = "automatic",
        amount: Money | None = None,
    ) -> _Scenario:
        """A fresh gateway, an invoice initiated on it, and the genuine evidence."""
        gateway, invoice, checkout = self._initiate(
            hub, wire, amount or self._default_amount(), capture
        )
        wire.start("evidence")
        return _Scenario(gateway, invoice, checkout, self.evidence(gateway, invoice, checkout))

    def _initiate(
        self,
        hub: Hub,
        wire: Wire,
        amount: Money,
        capture: Literal["automatic", "manual"] = "automatic",
    ) -> tuple[GatewayHandler, Invoice, Checkout]:
        """A fresh gateway, and an invoice for ``amount`` initiated on it."""
        gateway = self.gateway()
        wire.use(gateway)
        invoice = self.invoice(self._number(), amount, capture)
        wire.start("initiate")
        return gateway, invoice, hub.initiate(invoice, gateway=ALIAS)

    def _prepared(self, hub: Hub, wire: Wire, operation: str) -> Callable[[], Any]:
        """Whatever ``operation`` needs done first (a paid or authorized payment), done;
        returns the call of the operation itself."""
        if operation == "initiate":
            wire.use(self.gateway())
            invoice = self.invoice(self._number(), self._default_amount())
            return lambda: hub.initiate(invoice, gateway=ALIAS)
        manual = operation in ("capture", "cancel")
        scenario = self._scenario(hub, wire, capture="manual" if manual else "automatic")
        if operation == "verify":
            return lambda: hub.verify(scenario.evidence, gateway=ALIAS, expected=scenario.invoice)
        wire.start("verify")
        result = hub.verify(scenario.evidence, gateway=ALIAS, expected=scenario.invoice)
        call = getattr(hub, operation)
        return lambda: call(result.reference, gateway=ALIAS)

    def _operations(self) -> list[str]:
        declared = self._capabilities().operations
        return [op for op in OPERATIONS if op in declared]

    def _run(self, hub: Hub, wire: Wire, operation: str, fault: Fault | None = None) -> _Outcome:
        call = self._prepared(hub, wire, operation)
        wire.start(operation)
        wire.fault = fault
        outcome = _Outcome(operation, fault=fault)
        try:
            outcome.value = call()
        except Exception as error:
            outcome.error = error
        finally:
            wire.fault = None
        outcome.sent = wire.for_operation(operation)
        return outcome

    def _happy_runs(self) -> dict[str, _Outcome]:
        """Each declared operation once, without faults (cached per class)."""
        cache = self._cache()
        if "happy" not in cache:
            runs: dict[str, _Outcome] = {}
            for operation in self._operations():
                wire = Wire()
                hub = self._hub(wire, retries=2)
                try:
                    runs[operation] = self._run(hub, wire, operation)
                except Exception as error:  # the preparation itself failed
                    runs[operation] = _Outcome(operation, error=error)
                finally:
                    hub.close()
            cache["happy"] = runs
        happy: dict[str, _Outcome] = cache["happy"]
        return happy

    def _happy(self, check: str, operation: str) -> _Outcome:
        run = self._happy_runs()[operation]
        if run.error is not None:
            raise ConformanceFailure(
                check,
                f"{operation} fails without any fault, so this check cannot run: "
                f"{_describe(run.error)}",
            )
        return run

    def _fault_runs(self, check: str) -> list[_Outcome]:
        """Every fault at every request of every operation (cached per class)."""
        cache = self._cache()
        if "faults" not in cache:
            runs: list[_Outcome] = []
            for operation in self._operations():
                happy = self._happy(check, operation)
                positions = sorted({sent.position for sent in happy.sent})
                for position in positions:
                    for kind in FAULTS:
                        wire = Wire()
                        with self._hub(wire, retries=2) as hub:
                            runs.append(
                                self._run(hub, wire, operation, Fault(kind, operation, position))
                            )
            cache["faults"] = runs
        faults: list[_Outcome] = cache["faults"]
        return faults

    def _verify_outcome(self, hub: Hub, evidence: Callback | OtpCode) -> _Outcome:
        outcome = _Outcome("verify")
        try:
            outcome.value = hub.verify(evidence, gateway=ALIAS)
        except Exception as error:
            outcome.error = error
        return outcome

    # -- the checks --------------------------------------------------------------------

    def test_capabilities_match_hooks(self) -> None:
        check = "capabilities_match_hooks"
        wire = Wire()
        with self._hub(wire) as hub:
            caps = hub.capabilities(ALIAS)
            implemented = _registry.implemented_operations(hub.adapter(ALIAS))
            if caps.operations != implemented:
                raise ConformanceFailure(
                    check,
                    f"declares {sorted(caps.operations)} but implements {sorted(implemented)}",
                )
            for currency in caps.currencies:
                if currency not in MINOR_UNITS:
                    raise ConformanceFailure(check, f"declares unknown currency {currency!r}")
            if caps.amount_decimals is not None and not 0 <= caps.amount_decimals <= 4:
                raise ConformanceFailure(check, f"amount_decimals {caps.amount_decimals}")
            for bound in (*caps.min_amount, *caps.max_amount):
                if caps.currencies and bound.currency not in caps.currencies:
                    raise ConformanceFailure(
                        check, f"an amount limit in {bound.currency}, not a declared currency"
                    )
            if "initiate" in caps.operations and caps.flows:
                scenario_gateway = self.gateway()
                wire.gateway = scenario_gateway
                invoice = self.invoice(self._number(), self._default_amount())
                checkout = hub.initiate(invoice, gateway=ALIAS)
                action = checkout.action
                kind = (
                    "otp"
                    if isinstance(action, OtpChallenge)
                    else "redirect"
                    if isinstance(action, Redirect)
                    else None
                )
                if kind is not None and kind not in caps.flows:
                    raise ConformanceFailure(
                        check,
                        f"initiate answered a {kind} action, but the declared flows are "
                        f"{sorted(caps.flows)}",
                    )

    def test_unsupported_operations_raise(self) -> None:
        check = "unsupported_operations_raise"
        wire = Wire(gateway=self.gateway())
        with self._hub(wire) as hub:
            declared = hub.capabilities(ALIAS).operations
            invoice = self.invoice(self._number(), self._default_amount())
            calls: dict[str, Callable[[], Any]] = {
                "initiate": lambda: hub.initiate(invoice, gateway=ALIAS),
                "verify": lambda: hub.verify(Callback(), gateway=ALIAS),
                "capture": lambda: hub.capture("ref-1", gateway=ALIAS),
                "cancel": lambda: hub.cancel("ref-1", gateway=ALIAS),
                "refund": lambda: hub.refund("ref-1", gateway=ALIAS),
                "status": lambda: hub.status("ref-1", gateway=ALIAS),
            }
            for operation in OPERATIONS:
                if operation in declared:
                    continue
                wire.start(operation)
                try:
                    calls[operation]()
                except UnsupportedOperation:
                    pass
                except Exception as error:
                    raise ConformanceFailure(
                        check, f"{operation} raised {_describe(error)}, not UnsupportedOperation"
                    ) from None
                else:
                    raise ConformanceFailure(check, f"{operation} is not declared but answered")
                if wire.for_operation(operation):
                    raise ConformanceFailure(check, f"{operation} sent a request")

    def test_genuine_evidence_verifies(self) -> None:
        check = "genuine_evidence_verifies"
        wire = Wire()
        with self._hub(wire) as hub:
            captures: list[Literal["automatic", "manual"]] = ["automatic"]
            if "capture" in hub.capabilities(ALIAS).operations:
                captures.append("manual")
            for capture in captures:
                try:
                    scenario = self._scenario(hub, wire, capture=capture)
                    wire.start("verify")
                    result = hub.verify(scenario.evidence, gateway=ALIAS, expected=scenario.invoice)
                except PayhubError as error:
                    raise ConformanceFailure(
                        check, f"genuine evidence ({capture} capture) failed: {_describe(error)}"
                    ) from None
                wanted = PaymentStatus.PAID if capture == "automatic" else PaymentStatus.AUTHORIZED
                if result.status is not wanted:
                    raise ConformanceFailure(
                        check, f"genuine evidence ({capture} capture) verified as {result.status}"
                    )
                if (
                    result.invoice_number != scenario.invoice.number
                    or result.amount != scenario.invoice.amount
                ):
                    raise ConformanceFailure(
                        check,
                        f"the result says invoice {result.invoice_number!r} for {result.amount}; "
                        f"paid was {scenario.invoice.number!r} for {scenario.invoice.amount}",
                    )

    def test_tampered_evidence_never_paid(self) -> None:
        check = "tampered_evidence_never_paid"
        wire = Wire()
        hub = self._hub(wire)

        @self._given(st.data())
        def tampered(data: st.DataObject) -> None:
            scenario = self._scenario(hub, wire)
            genuine: PaymentResult | None = None
            if isinstance(scenario.evidence, Callback):
                try:
                    genuine = hub.verify(scenario.evidence, gateway=ALIAS)
                except PayhubError as error:
                    raise ConformanceFailure(
                        check, f"the genuine evidence does not verify: {_describe(error)}"
                    ) from None
            label, mutated = data.draw(mutations_of(scenario.evidence), label="mutation")
            wire.start("verify")
            outcome = self._verify_outcome(hub, mutated)
            self._never_paid(check, label, outcome, scenario, genuine)

        try:
            tampered()
        finally:
            hub.close()

    def _never_paid(
        self,
        check: str,
        label: str,
        outcome: _Outcome,
        scenario: _Scenario,
        genuine: PaymentResult | None,
    ) -> None:
        error = outcome.error
        if error is not None:
            if isinstance(error, AdapterError) or not isinstance(error, PayhubError):
                cause = error.__cause__
                raise ConformanceFailure(
                    check,
                    f"{label}: verify crashed with {_describe(error)}"
                    + (f" (caused by {_describe(cause)})" if cause else "")
                    + "; reject bad evidence with a PayhubError (SignatureError, "
                    "MalformedCallback...)",
                )
            return
        result = outcome.value
        if not isinstance(result, PaymentResult) or result.status not in _PAID_LIKE:
            return
        if genuine is not None:
            same = _identity(result) == _identity(genuine)
        else:
            same = (
                result.invoice_number == scenario.invoice.number
                and result.amount == scenario.invoice.amount
            )
        if not same:
            raise ConformanceFailure(
                check,
                f"{label}: verified as {result.status} (invoice {result.invoice_number!r}, "
                f"{result.amount}, reference {result.reference!r}); tampered evidence must "
                "be rejected",
            )

    def test_foreign_evidence_never_paid(self) -> None:
        check = "foreign_evidence_never_paid"
        wire = Wire()
        with self._hub(wire) as hub:
            scenario = self._scenario(hub, wire)
            builtin: list[tuple[str, Callback | OtpCode]] = [("an empty request", Callback())]
            if isinstance(scenario.evidence, Callback):
                builtin.append(
                    (
                        "an OtpCode",
                        OtpCode(
                            reference=scenario.checkout.reference,
                            code=SecretStr("123456"),
                            invoice=scenario.invoice,
                        ),
                    )
                )
            invoice = scenario.invoice
            builtin.append(
                (
                    "an unsigned request that claims payment",
                    Callback(
                        method="GET",
                        query=f"invoice_no={invoice.number}&ref={invoice.number}"
                        f"&amount={invoice.amount.amount}&amount_minor={invoice.amount.minor_units}"
                        f"&currency={invoice.amount.currency}"
                        f"&status=paid&approved=1&id={scenario.checkout.reference}",
                    ),
                )
            )
            foreign = [
                (f"foreign evidence #{index}", item)
                for index, item in enumerate(
                    self.foreign_evidence(scenario.gateway, invoice, scenario.checkout), 1
                )
            ]
            for label, item in [*builtin, *foreign]:
                fresh = self._scenario(hub, wire)
                wire.start("verify")
                outcome = self._verify_outcome(hub, item)
                if isinstance(outcome.value, PaymentResult) and outcome.value.status in _PAID_LIKE:
                    raise ConformanceFailure(check, f"{label} verified as {outcome.value.status}")
                self._never_paid(check, label, outcome, fresh, None)

    def test_expected_mismatch_raises(self) -> None:
        check = "expected_mismatch_raises"
        wire = Wire()
        with self._hub(wire) as hub:
            amount = self._default_amount()
            unit = Decimal(1).scaleb(-self._wire_decimals(amount.currency))
            other = next(c for c in ("EUR", "USD") if c != amount.currency)
            variants: list[tuple[str, Callable[[Invoice], Invoice]]] = [
                ("invoice number", lambda i: i.model_copy(update={"number": i.number + "X"})),
                (
                    "amount",
                    lambda i: i.model_copy(
                        update={"amount": Money(i.amount.amount + unit, i.amount.currency)}
                    ),
                ),
                (
                    "currency",
                    lambda i: i.model_copy(update={"amount": Money(i.amount.amount, other)}),
                ),
            ]
            for what, change in variants:
                scenario = self._scenario(hub, wire)
                wire.start("verify")
                try:
                    result = hub.verify(
                        scenario.evidence, gateway=ALIAS, expected=change(scenario.invoice)
                    )
                except AmountMismatch:
                    continue
                except PayhubError as error:
                    raise ConformanceFailure(
                        check, f"another {what} in expected= raised {_describe(error)}"
                    ) from None
                raise ConformanceFailure(
                    check,
                    f"another {what} in expected= was accepted ({result.status}); fill "
                    "invoice_number and amount on every result",
                )

    def test_transport_faults_become_payhub_errors(self) -> None:
        check = "transport_faults_become_payhub_errors"
        for run in self._fault_runs(check):
            assert run.fault is not None
            hit = [sent for sent in run.sent if sent.fault]
            if not hit:
                continue  # the operation took another path and never made that request
            request, kind, error = hit[0], run.fault.kind, run.error
            where = f"{run.operation}: {kind} at {request.method} {httpx.URL(request.url).path}"
            if error is None:
                raise ConformanceFailure(check, f"{where}: answered {run.value!r}")
            if isinstance(error, AdapterError) or not isinstance(error, PayhubError):
                cause = error.__cause__
                raise ConformanceFailure(
                    check,
                    f"{where}: {_describe(error)}"
                    + (f" (caused by {_describe(cause)})" if cause else ""),
                )
            unsafe_before = any(
                sent.delivered and not sent.idempotent and sent.position < request.position
                for sent in run.sent
            )
            unknown = isinstance(error, GatewayUnavailable) and error.outcome_unknown
            if kind in NOT_DELIVERED:
                if unknown and not unsafe_before:
                    raise ConformanceFailure(
                        check, f"{where}: outcome_unknown=True although nothing was done"
                    )
            elif kind not in UNREADABLE:
                if not request.idempotent and not unknown:
                    raise ConformanceFailure(
                        check,
                        f"{where}: raised {_describe(error)}; a request that may have reached "
                        "the gateway must end in GatewayUnavailable(outcome_unknown=True)",
                    )
                if request.idempotent and unknown and not unsafe_before:
                    raise ConformanceFailure(
                        check,
                        f"{where}: outcome_unknown=True for a request marked idempotent",
                    )
            elif run.operation in _MONEY_OPERATIONS and not request.idempotent and not unknown:
                raise ConformanceFailure(
                    check,
                    f"{where}: raised {_describe(error)}; an unreadable 2xx answer to a "
                    "request that moves money is GatewayUnavailable(outcome_unknown=True)",
                )

    def test_non_idempotent_requests_sent_once(self) -> None:
        check = "non_idempotent_requests_sent_once"
        for run in [*self._happy_runs().values(), *self._fault_runs(check)]:
            delivered: dict[tuple[str, str, bytes], int] = {}
            for sent in run.sent:
                if sent.idempotent or not sent.delivered:
                    continue
                delivered[sent.key] = delivered.get(sent.key, 0) + 1
                if delivered[sent.key] > 1:
                    fault = f" after {run.fault.kind}" if run.fault else ""
                    raise ConformanceFailure(
                        check,
                        f"{run.operation}{fault}: {sent.method} {httpx.URL(sent.url).path} "
                        f"(not marked idempotent) reached the gateway {delivered[sent.key]} times",
                    )

    def test_money_requests_not_marked_idempotent(self) -> None:
        check = "money_requests_not_marked_idempotent"
        for operation in self._operations():
            if operation == "status":
                continue
            run = self._happy(check, operation)
            for sent in run.sent:
                request = sent.request()
                if sent.idempotent and not self.safe_to_repeat(request):
                    raise ConformanceFailure(
                        check,
                        f"{operation} marks {sent.method} {request.url.path} idempotent: the "
                        "driver would repeat it after a timeout and may move money twice "
                        "(override safe_to_repeat() if repeating it truly cannot)",
                    )

    def test_amounts_exact_on_wire(self) -> None:
        check = "amounts_exact_on_wire"
        if "initiate" not in self._operations():
            return
        wire = Wire()
        hub = self._hub(wire)
        currencies = self._currencies()

        def one(currency: str, units: int) -> None:
            amount = self._money(currency, units)
            try:
                self._initiate(hub, wire, amount)
            except PayhubError as error:
                raise ConformanceFailure(
                    check, f"initiate refused {amount}, a declared amount: {_describe(error)}"
                ) from None
            digits = self._wire_decimals(currency)
            wanted = amount.amount if self.amount_unit == "major" else amount.amount.scaleb(digits)
            found = []
            for sent in wire.for_operation("initiate"):
                request = sent.request()
                value = self.wire_amount(request)
                if value is not None:
                    found.append(value)
                    if value != wanted:
                        raise ConformanceFailure(
                            check,
                            f"{amount} went on the wire as {value} ({self.amount_field}, "
                            f"{self.amount_unit} units); expected {wanted}",
                        )
            if not found:
                raise ConformanceFailure(
                    check,
                    f"no initiate request carries {self.amount_field!r}; set amount_field "
                    "(and amount_unit) or override wire_amount()",
                )

        try:
            for currency in currencies:
                low, high = self._limits(currency)
                digits = self._wire_decimals(currency)
                for units in {low, low + 1, high, 29, 10**digits + 1, 7 * 10**digits - 1}:
                    if low <= units <= high:
                        one(currency, units)

            @self._given(st.sampled_from(currencies), st.data())
            def exact(currency: str, data: st.DataObject) -> None:
                low, high = self._limits(currency)
                one(currency, data.draw(st.integers(low, high), label="wire units"))

            exact()
        finally:
            hub.close()

    def test_unrepresentable_amounts_refused(self) -> None:
        check = "unrepresentable_amounts_refused"
        if "initiate" not in self._operations():
            return
        wire = Wire()
        hub = self._hub(wire)
        caps = self._capabilities()

        def refused(amount: Money, why: str) -> None:
            try:
                self._initiate(hub, wire, amount)
            except InvalidRequest:
                pass
            except PayhubError as error:
                raise ConformanceFailure(
                    check, f"{amount} ({why}) raised {_describe(error)}, not InvalidRequest"
                ) from None
            else:
                raise ConformanceFailure(check, f"{amount} ({why}) was accepted")
            if wire.for_operation("initiate"):
                raise ConformanceFailure(check, f"{amount} ({why}) was sent before refusing it")

        try:
            fine = [c for c in self._currencies() if MINOR_UNITS[c] > self._wire_decimals(c)]
            for currency in fine:
                low, high = self._limits(currency)
                extra = Decimal(1).scaleb(-MINOR_UNITS[currency])
                base = self._money(currency, low).amount
                refused(Money(base + extra, currency), "more decimals than the wire takes")
            if caps.currencies:
                other = next(c for c in _OTHER_CURRENCIES if c not in caps.currencies)
                refused(Money("10", other), "a currency the adapter does not declare")
            for currency in self._currencies():
                low, high = self._limits(currency)
                if low > 1:
                    refused(self._money(currency, low - 1), "below the declared minimum")
                if any(bound.currency == currency for bound in caps.max_amount):
                    refused(self._money(currency, high + 1), "above the declared maximum")
            if fine:

                @self._given(st.sampled_from(fine), st.data())
                def sub_precision(currency: str, data: st.DataObject) -> None:
                    low, high = self._limits(currency)
                    shift = MINOR_UNITS[currency] - self._wire_decimals(currency)
                    units = data.draw(st.integers(low * 10**shift, high * 10**shift))
                    if units % 10**shift == 0:
                        units += 1
                    refused(
                        Money(Decimal(units).scaleb(-MINOR_UNITS[currency]), currency),
                        "more decimals than the wire takes",
                    )

                sub_precision()
        finally:
            hub.close()

    def test_secrets_never_leak(self) -> None:
        check = "secrets_never_leak"
        texts: list[tuple[str, str]] = []
        otp_codes: set[str] = set()
        with _every_logger_at_debug() as logs:
            wire = Wire()
            with self._hub(wire, retries=1) as hub:
                gateway = hub.adapter(ALIAS)
                canaries = set(_secrets_of(hub))
                texts += [("repr(adapter)", repr(gateway)), ("str(adapter)", str(gateway))]
                texts.append(("repr(hub)", repr(hub)))
                texts.append(("repr(settings)", repr(hub._gateway(ALIAS).settings)))
                texts.append(("repr(hub.config)", repr(hub.config)))
                outcomes: list[_Outcome] = []
                for operation in self._operations():
                    outcomes.append(self._safe_run(hub, wire, operation))
                    outcomes.append(self._safe_run(hub, wire, operation, echo=True))
                    outcomes.append(
                        self._safe_run(hub, wire, operation, Fault("timeout", operation, 0))
                    )
                scenario = self._scenario(hub, wire)
                code = (
                    scenario.evidence.code.get_secret_value()
                    if isinstance(scenario.evidence, OtpCode)
                    else ""
                )
                otp_codes = {code} if len(code) >= _MIN_CANARY else set()  # short ones are noise
                wire.start("verify")
                outcomes.append(self._verify_outcome(hub, scenario.evidence))
                outcomes.append(self._verify_outcome(hub, scenario.evidence))  # a replay
            for outcome in outcomes:
                if outcome.error is not None:
                    texts += [(f"{outcome.operation} error", t) for t in _texts_of(outcome.error)]
                value = outcome.value
                if isinstance(value, (Checkout, PaymentResult)):
                    texts.append((f"{outcome.operation} result", repr(value)))
                    texts.append((f"{outcome.operation} result", value.model_dump_json()))
            texts += [("a log record", text) for text in logs.texts()]
        weak = sorted(canary for canary in canaries if len(canary) < _MIN_CANARY)
        if weak:
            raise ConformanceFailure(
                check,
                f"{len(weak)} secret setting(s) are shorter than {_MIN_CANARY} characters; "
                "give every secret a distinctive canary value so leaks can be found",
            )
        if not canaries:
            raise ConformanceFailure(check, "the settings hold no secret (SecretStr) values")
        canaries |= otp_codes
        for where, text in texts:
            for canary in canaries:
                if canary in text:
                    at = text.index(canary)
                    excerpt = text[max(at - 120, 0) : at + len(canary) + 120]
                    raise ConformanceFailure(
                        check,
                        f"a secret setting appears in {where}: "
                        f"{excerpt.replace(canary, '<SECRET>')!r}",
                    )

    def _safe_run(
        self,
        hub: Hub,
        wire: Wire,
        operation: str,
        fault: Fault | None = None,
        *,
        echo: bool = False,
    ) -> _Outcome:
        """One operation for the secrets check; with ``echo`` the gateway refuses it with an
        error that quotes every secret setting and every request header."""
        try:
            call = self._prepared(hub, wire, operation)
        except Exception as error:
            return _Outcome(operation, error=error)
        if echo:
            quoted = " ".join(_secrets_of(hub))

            def echo_answer(request: httpx.Request) -> httpx.Response:
                return httpx.Response(
                    400,
                    json={
                        "error": {"code": "INVALID", "message": f"bad credentials {quoted}"},
                        "message": f"rejected {quoted}",
                        "headers": dict(request.headers),
                    },
                )

            wire.replace = echo_answer
        wire.start(operation)
        wire.fault = fault
        outcome = _Outcome(operation, fault=fault)
        try:
            outcome.value = call()
        except Exception as error:
            outcome.error = error
        finally:
            wire.fault, wire.replace = None, None
        return outcome

    def test_sync_and_async_agree(self) -> None:
        check = "sync_and_async_agree"
        recorded: list[tuple[str, str, httpx.Response]] = []
        calls: list[tuple[str, dict[str, Any]]] = []
        sync_outcomes: list[Any] = []
        gateway = self.gateway()
        failing = {"on": False}

        def recording(request: httpx.Request) -> httpx.Response:
            if failing["on"]:
                response = httpx.Response(503, json={"error": "unavailable"})
            else:
                response = gateway(request)
            response.read()
            recorded.append((request.method, request.url.path, response))
            return response

        wire = Wire(gateway=recording)
        hub = self._hub(wire)

        def call(name: str, **arguments: Any) -> Any:
            calls.append((name, arguments))
            wire.start(name)
            try:
                value = getattr(hub, name)(**arguments, gateway=ALIAS)
            except PayhubError as error:
                sync_outcomes.append(self._comparable(error))
                return None
            sync_outcomes.append(self._comparable(value))
            return value

        try:
            operations = self._operations()
            targets = ["verify"] + [op for op in operations if op not in ("initiate", "verify")]
            for operation in targets:
                manual = operation in ("capture", "cancel")
                invoice = self.invoice(
                    self._number(), self._default_amount(), "manual" if manual else "automatic"
                )
                checkout = call("initiate", invoice=invoice)
                if not isinstance(checkout, Checkout) or "verify" not in operations:
                    continue
                evidence = self.evidence(gateway, invoice, checkout)
                result = call("verify", evidence=evidence, expected=invoice)
                if operation != "verify" and isinstance(result, PaymentResult):
                    call(operation, reference=result.reference)
            failing["on"] = True
            call("initiate", invoice=self.invoice(self._number(), self._default_amount()))
        finally:
            hub.close()

        replay = list(recorded)
        diverged: list[str] = []

        def replayed(request: httpx.Request) -> httpx.Response:
            if not replay:
                diverged.append(f"an extra request {request.method} {request.url.path}")
                return httpx.Response(599)
            method, path, response = replay.pop(0)
            if (method, path) != (request.method, request.url.path):
                diverged.append(
                    f"{request.method} {request.url.path} where Hub sent {method} {path}"
                )
            return httpx.Response(
                response.status_code, headers=response.headers, content=response.content
            )

        async def run_async() -> list[Any]:
            outcomes: list[Any] = []
            async with self._async_hub(replayed) as ahub:
                for name, arguments in calls:
                    try:
                        value = await getattr(ahub, name)(**arguments, gateway=ALIAS)
                    except PayhubError as error:
                        outcomes.append(self._comparable(error))
                    else:
                        outcomes.append(self._comparable(value))
            return outcomes

        async_outcomes = anyio.run(run_async)
        if diverged:
            raise ConformanceFailure(check, "AsyncHub sent " + "; ".join(diverged))
        for (name, _), left, right in zip(calls, sync_outcomes, async_outcomes, strict=True):
            if left != right:
                raise ConformanceFailure(
                    check, f"{name}: Hub gave {left!r} but AsyncHub gave {right!r}"
                )

    @staticmethod
    def _comparable(value: Any) -> Any:
        if isinstance(value, PayhubError):
            return (
                type(value).__name__,
                getattr(value, "outcome_unknown", None),
                getattr(value, "http_status", None),
            )
        if isinstance(value, (Checkout, PaymentResult)):
            return value.model_dump(mode="json")
        return value
