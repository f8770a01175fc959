"""Walk every installed adapter through a whole payment life against the sandbox.

A case is written once, as a script of steps (:func:`_script`); :func:`run_case` drives it
with a ``Hub`` and :func:`run_case_async` with an ``AsyncHub``. Steps that are the
customer's (pressing Approve, typing the OTP) run the same in both.

Step names: ``initiate``, ``verify``, ``capture``, ``cancel``, ``refund``, ``status`` (hub
operations), ``approve`` (the customer presses Approve on the checkout page), ``code``
(the customer gives the one-time code) and ``return``, ``callback`` or ``webhook`` (what
reaches the merchant and is verified).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Collection, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

from payhub_core._errors import PayhubError
from payhub_core._hub import AsyncHub, Hub
from payhub_core._models import (
    Callback,
    Checkout,
    OtpChallenge,
    OtpCode,
    PaymentResult,
    PaymentStatus,
    Redirect,
)
from payhub_core.demo._browser import BrowserError, ScriptedBrowser
from payhub_core.demo._receiver import Arrival, MerchantReceiver
from payhub_core.sandbox._emulator import DemoCase, Emulator
from payhub_core.sandbox._server import SandboxServer, load_emulators

__all__ = ["CaseResult", "DemoEnvironment", "StepResult", "run_case", "run_case_async"]

# What each follow-up operation must leave the payment as.
_AFTER_STATUS: dict[str, tuple[PaymentStatus, ...]] = {
    "capture": (PaymentStatus.PAID,),
    "cancel": (PaymentStatus.CANCELED,),
    "refund": (PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED),
    "status": tuple(PaymentStatus),
}


class DemoFailure(Exception):
    """A step did not do what the life cycle needs."""


@dataclass(frozen=True)
class StepResult:
    name: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class CaseResult:
    alias: str
    case: DemoCase
    steps: list[StepResult] = field(default_factory=list)
    status: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def error(self) -> str:
        return next((step.detail for step in self.steps if not step.ok), "")


@dataclass(frozen=True)
class _HubStep:
    name: str
    method: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class _LocalStep:
    name: str
    run: Callable[[], Any]


_Script = Generator["_HubStep | _LocalStep", Any, str]


class DemoEnvironment:
    """The sandbox (every installed emulator) plus the demo merchant, on one local port."""

    def __init__(
        self,
        emulators: Sequence[Emulator] | None = None,
        *,
        port: int = 0,
        notify_hosts: Collection[str] = (),
    ) -> None:
        self.receiver = MerchantReceiver()
        self.emulators = list(load_emulators() if emulators is None else emulators)
        self.server = SandboxServer(
            [*self.emulators, self.receiver.emulator()], port=port, notify_hosts=notify_hosts
        )

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def merchant_url(self) -> str:
        return f"{self.server.url}/merchant"

    def __enter__(self) -> DemoEnvironment:
        self.server.start()
        self._point_webhooks_at_merchant()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.stop()

    def _point_webhooks_at_merchant(self) -> None:
        # Convention: an emulator that sends webhooks takes its target by PUT /_sandbox/config.
        with httpx.Client(timeout=5) as client:
            for emulator in self.emulators:
                client.put(
                    f"{self.url}/{emulator.name}/_sandbox/config",
                    json={"webhook_url": f"{self.merchant_url}/webhook"},
                )

    def cases(self) -> list[tuple[str, DemoCase]]:
        """(alias, case) for every demo case of every emulator; aliases are unique."""
        found: list[tuple[str, DemoCase]] = []
        for emulator in self.emulators:
            for index, case in enumerate(emulator.demo_cases(f"{self.url}/{emulator.name}")):
                alias = f"{case.adapter.replace('.', '-')}-{index + 1}"
                found.append((alias, case))
        return found

    def hub_config(self, cases: Sequence[tuple[str, DemoCase]]) -> dict[str, Any]:
        return {
            "gateways": {alias: {"adapter": case.adapter, **case.settings} for alias, case in cases}
        }

    def invoice_number(self, case: DemoCase) -> str:
        return f"DEMO-{case.adapter.replace('.', '-')}-{secrets.token_hex(4)}"


def _script(env: DemoEnvironment, alias: str, case: DemoCase) -> _Script:
    number = env.invoice_number(case)
    invoice = case.invoice(
        number, f"{env.merchant_url}/return/{number}", f"{env.merchant_url}/callback/{number}"
    )
    checkout: Checkout = yield _HubStep("initiate", "initiate", {"invoice": invoice})

    evidence: Callback | OtpCode
    if isinstance(checkout.action, OtpChallenge):
        if case.otp_code is None:
            raise DemoFailure("the gateway asks for an OTP but the case has none")
        yield _LocalStep("code", lambda: None)  # the customer types the code they received
        evidence = OtpCode(
            reference=checkout.action.reference, code=SecretStr(case.otp_code), invoice=invoice
        )
    elif isinstance(checkout.action, Redirect):
        redirect = checkout.action
        yield _LocalStep("approve", lambda: _approve(env, redirect.url))
        # the gateway's answer reaches the merchant: the browser return, a callback, a webhook
        evidence = yield _LocalStep(case.evidence, lambda: _arrival(env, case, number))
    else:
        raise DemoFailure(f"unexpected checkout action {checkout.action!r}")

    result: PaymentResult = yield _HubStep(
        "verify", "verify", {"evidence": evidence, "expected": invoice}
    )
    if result.status.value != case.expected_status:
        raise DemoFailure(f"verified as {result.status}, expected {case.expected_status}")
    final = result.status.value
    for operation in case.after_verify:
        after: PaymentResult = yield _HubStep(operation, operation, {"reference": result.reference})
        if after.status not in _AFTER_STATUS[operation]:
            raise DemoFailure(f"{operation} left the payment {after.status}")
        final = after.status.value
    return final


def _approve(env: DemoEnvironment, url: str) -> str:
    browser = ScriptedBrowser(env.merchant_url)
    try:
        response = browser.press(url, "approve")
    finally:
        browser.close()
    if response.status_code >= 400:
        raise DemoFailure(f"the merchant answered HTTP {response.status_code}")
    return f"{len(browser.visited)} pages"


def _arrival(env: DemoEnvironment, case: DemoCase, number: str) -> Callback:
    def matches(arrival: Arrival) -> bool:
        if arrival.kind != case.evidence:
            return False
        if case.evidence == "webhook":
            return number.encode() in arrival.callback.body
        return arrival.key == number

    arrival = env.receiver.wait_for(matches)
    if arrival is None:
        raise DemoFailure(f"no {case.evidence} arrived at the merchant within 10 s")
    return arrival.callback


class _CaseRun:
    """Bookkeeping for one case: advances the script, times and records each step, and
    turns a failure into a failed step (``with run:`` swallows ``DemoFailure``)."""

    def __init__(self, env: DemoEnvironment, alias: str, case: DemoCase) -> None:
        self.result = CaseResult(alias=alias, case=case)
        self._script = _script(env, alias, case)
        self._started = time.perf_counter()

    def next_step(self, value: Any) -> _HubStep | _LocalStep | None:
        try:
            return self._script.send(value)
        except StopIteration as done:
            self.result.status = str(done.value)
            return None

    @contextmanager
    def timed(self, step: _HubStep | _LocalStep) -> Iterator[list[str]]:
        started = time.perf_counter()
        detail: list[str] = []
        try:
            yield detail
        except (PayhubError, DemoFailure, BrowserError, httpx.HTTPError) as error:
            message = f"{type(error).__name__}: {error}"
            self.result.steps.append(
                StepResult(step.name, False, message, time.perf_counter() - started)
            )
            raise DemoFailure(message) from error
        self.result.steps.append(
            StepResult(step.name, True, " ".join(detail), time.perf_counter() - started)
        )

    def __enter__(self) -> _CaseRun:
        return self

    def __exit__(self, kind: object, error: BaseException | None, _tb: object) -> bool:
        self._script.close()
        self.result.seconds = time.perf_counter() - self._started
        if isinstance(error, DemoFailure):
            if not self.result.steps or self.result.steps[-1].ok:
                self.result.steps.append(StepResult("script", False, str(error), 0.0))
            return True
        return False


def _describe(value: Any) -> str:
    if isinstance(value, (Checkout, PaymentResult)):
        return str(value.status)
    return value if isinstance(value, str) else ""


def run_case(env: DemoEnvironment, hub: Hub, alias: str, case: DemoCase) -> CaseResult:
    """Drive one case with a synchronous ``Hub``."""
    value: Any = None
    with _CaseRun(env, alias, case) as run:
        while (step := run.next_step(value)) is not None:
            with run.timed(step) as detail:
                if isinstance(step, _HubStep):
                    value = getattr(hub, step.method)(**step.arguments, gateway=alias)
                else:
                    value = step.run()
                detail.append(_describe(value))
    return run.result


async def run_case_async(
    env: DemoEnvironment, hub: AsyncHub, alias: str, case: DemoCase
) -> CaseResult:
    """Drive one case with an ``AsyncHub``; the customer's steps are the same."""
    value: Any = None
    with _CaseRun(env, alias, case) as run:
        while (step := run.next_step(value)) is not None:
            with run.timed(step) as detail:
                if isinstance(step, _HubStep):
                    value = await getattr(hub, step.method)(**step.arguments, gateway=alias)
                else:
                    value = step.run()
                detail.append(_describe(value))
    return run.result
