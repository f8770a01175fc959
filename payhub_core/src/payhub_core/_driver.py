"""Drive flows: the only place payhub does network I/O.

:class:`FlowStepper` advances an adapter's flow without I/O; :class:`SyncDriver` and
:class:`AsyncDriver` perform each step (an HTTP request, a lock) with ``httpx.Client`` or
``httpx.AsyncClient``, apply the :class:`RetryPolicy`, set timeouts, and log every attempt
on the ``payhub`` logger with secrets redacted. Both layers are thin on purpose: all
decisions live in the stepper and the policy, once.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

from payhub_core._errors import AdapterError, PayhubError
from payhub_core._policy import RetryPolicy
from payhub_core.flows import Acquire, Release

__all__ = ["AsyncDriver", "FlowStepper", "RequestContext", "SyncDriver"]

logger = logging.getLogger("payhub")

_REDACTED = "**********"
_SENSITIVE_HEADERS = frozenset(
    {"authorization", "x-api-key", "proxy-authorization", "cookie", "set-cookie"}
)


@dataclass(frozen=True)
class RequestContext:
    """Who is asking: the gateway alias, the operation and its request id, the timeouts,
    and the secret values that must never be logged."""

    gateway: str
    operation: str
    request_id: str
    timeout: httpx.Timeout
    policy: RetryPolicy
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, _REDACTED)
        return text


class FlowStepper:
    """Advances one flow. ``advance`` returns the next step, or ``None`` when the flow has
    returned (its value is then in ``result``)."""

    def __init__(self, flow: Generator[Any, Any, Any], context: RequestContext) -> None:
        self._flow = flow
        self._context = context
        self.result: Any = None
        self.held: list[str] = []

    def advance(self, value: Any = None, error: BaseException | None = None) -> Any:
        try:
            step = self._flow.throw(error) if error is not None else self._flow.send(value)
        except StopIteration as stop:
            self.result = stop.value
            return None
        if isinstance(step, httpx.Request):
            step.extensions.setdefault("timeout", self._context.timeout.as_dict())
            return step
        if isinstance(step, Acquire):
            if step.key in self.held:
                raise AdapterError(
                    f"the flow acquires lock {step.key!r} it already holds (locks are not "
                    "re-entrant)"
                )
            return step
        if isinstance(step, Release):
            if step.key not in self.held:
                raise AdapterError(f"the flow released lock {step.key!r} it does not hold")
            self.held.remove(step.key)
            return step
        raise AdapterError(
            f"a flow may yield httpx.Request, Acquire or Release, not {type(step).__name__}"
        )

    def acquired(self, key: str) -> None:
        """The driver holds lock ``key`` for this flow now (it releases it at the end)."""
        self.held.append(key)

    def close(self) -> None:
        self._flow.close()


def is_flow(outcome: object) -> bool:
    return inspect.isgenerator(outcome)


def _log_attempt(
    context: RequestContext,
    request: httpx.Request,
    attempt: int,
    elapsed: float,
    response: httpx.Response | None,
    error: Exception | None,
    retry_in: float | None,
) -> None:
    level = logging.WARNING if retry_in is not None or error is not None else logging.DEBUG
    if not logger.isEnabledFor(level):
        return  # every request passes here: build and scrub the record only when it is kept
    url = context.scrub(f"{request.url.scheme}://{request.url.host}{request.url.path}")
    outcome = f"HTTP {response.status_code}" if response is not None else type(error).__name__
    headers = {
        name: (_REDACTED if name.lower() in _SENSITIVE_HEADERS else context.scrub(value))
        for name, value in request.headers.items()
    }
    logger.log(
        level,
        "%s %s %s -> %s in %.0f ms (attempt %d%s) gateway=%s operation=%s request_id=%s",
        request.method,
        url,
        f"[{len(request.content)} bytes]" if request.content else "",
        outcome,
        elapsed * 1000,
        attempt,
        f", retrying in {retry_in:.2f} s" if retry_in is not None else "",
        context.gateway,
        context.operation,
        context.request_id,
        extra={
            "payhub": {
                "gateway": context.gateway,
                "operation": context.operation,
                "request_id": context.request_id,
                "method": request.method,
                "url": url,
                "headers": headers,
                "status": response.status_code if response is not None else None,
                "error": type(error).__name__ if error is not None else None,
                "attempt": attempt,
                "elapsed_ms": round(elapsed * 1000, 1),
                "retry_in": retry_in,
            }
        },
    )


class _ThreadLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def get(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


class _TaskLocks:
    def __init__(self) -> None:
        self._locks: dict[str, anyio.Lock] = {}

    def get(self, key: str) -> anyio.Lock:
        # No await between lookup and insert: tasks of one loop cannot interleave here.
        return self._locks.setdefault(key, anyio.Lock())


class SyncDriver:
    """Runs flows over one shared ``httpx.Client`` (thread-safe; one pool per hub)."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client
        self._locks = _ThreadLocks()

    def run(self, outcome: Any, context: RequestContext) -> Any:
        if not is_flow(outcome):
            return outcome
        stepper = FlowStepper(outcome, context)
        try:
            value: Any = None
            error: BaseException | None = None
            while (step := stepper.advance(value, error)) is not None:
                value, error = None, None
                if isinstance(step, httpx.Request):
                    try:
                        value = self._send(step, context)
                    except PayhubError as exc:
                        error = exc
                elif isinstance(step, Acquire):
                    self._locks.get(f"{context.gateway}:{step.key}").acquire()
                    stepper.acquired(step.key)
                else:
                    self._locks.get(f"{context.gateway}:{step.key}").release()
            return stepper.result
        finally:
            stepper.close()
            self._release(stepper.held, context)

    def _release(self, keys: Iterable[str], context: RequestContext) -> None:
        for key in keys:
            self._locks.get(f"{context.gateway}:{key}").release()

    def _send(self, request: httpx.Request, context: RequestContext) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            response: httpx.Response | None = None
            error: Exception | None = None
            try:
                response = self._client.send(request)
            except httpx.HTTPError as exc:
                error = exc
            decision = context.policy.after(request, attempt, response, error)
            elapsed = time.perf_counter() - started
            _log_attempt(context, request, attempt, elapsed, response, error, decision.retry_in)
            if decision.retry_in is not None:
                time.sleep(decision.retry_in)
                continue
            if decision.error is not None:
                raise decision.error from error
            assert response is not None
            return response


class AsyncDriver:
    """Runs flows over one shared ``httpx.AsyncClient``; works under asyncio and trio."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client
        self._locks = _TaskLocks()

    async def run(self, outcome: Any, context: RequestContext) -> Any:
        if not is_flow(outcome):
            return outcome
        stepper = FlowStepper(outcome, context)
        try:
            value: Any = None
            error: BaseException | None = None
            while (step := stepper.advance(value, error)) is not None:
                value, error = None, None
                if isinstance(step, httpx.Request):
                    try:
                        value = await self._send(step, context)
                    except PayhubError as exc:
                        error = exc
                elif isinstance(step, Acquire):
                    await self._locks.get(f"{context.gateway}:{step.key}").acquire()
                    stepper.acquired(step.key)
                else:
                    self._locks.get(f"{context.gateway}:{step.key}").release()
            return stepper.result
        finally:
            stepper.close()
            for key in stepper.held:
                self._locks.get(f"{context.gateway}:{key}").release()

    async def _send(self, request: httpx.Request, context: RequestContext) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            response: httpx.Response | None = None
            error: Exception | None = None
            try:
                response = await self._client.send(request)
            except httpx.HTTPError as exc:
                error = exc
            decision = context.policy.after(request, attempt, response, error)
            elapsed = time.perf_counter() - started
            _log_attempt(context, request, attempt, elapsed, response, error, decision.retry_in)
            if decision.retry_in is not None:
                await anyio.sleep(decision.retry_in)
                continue
            if decision.error is not None:
                raise decision.error from error
            assert response is not None
            return response
