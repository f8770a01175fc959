"""Drive flows: the only place payhub does network I/O.

:class:`FlowStepper` advances an adapter's flow without I/O; :class:`SyncDriver` and
:class:`AsyncDriver` perform each step (an HTTP request, a lock) with ``httpx.Client`` or
``httpx.AsyncClient``, apply the :class:`RetryPolicy`, set timeouts, and log every attempt
on the ``payhub`` logger with secrets redacted. Both layers are thin on purpose: all
decisions live in the stepper, ``_Attempts`` and the policy, once.

Every operation has a total ``deadline`` (every request, retry and wait in it): past it
the caller gets ``GatewayUnavailable``, whatever the gateway is doing (sending one byte a
second, asking for a 99999 s ``Retry-After``). Every answer is read as a stream and
stops at ``max_response_bytes`` after decompression (``ResponseTooLarge``).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import logging
import math
import sys
import threading
import time
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import httpx
from pydantic import BaseModel

from payhub_core._errors import AdapterError, ConfigurationError, GatewayUnavailable, PayhubError
from payhub_core._policy import RetryPolicy
from payhub_core._settings import DEFAULT_MAX_RESPONSE_BYTES, default_deadline
from payhub_core._transport import BoundedBody, TooLarge, buffered, deadline_scope
from payhub_core.flows import Acquire, Release
from payhub_core.redaction import (
    _nothing_to_scrub,
    redact_headers,
    scrub,
    scrub_data,
    secret_values,
)

if TYPE_CHECKING:
    from payhub_core._assembly import Gateway

__all__ = ["AsyncDriver", "FlowStepper", "RequestContext", "SyncDriver", "scrub_result"]

logger = logging.getLogger("payhub")

M = TypeVar("M", bound=BaseModel)


def _asyncio_timeout() -> Any:
    """``asyncio.timeout`` (Python 3.11+) or ``None``. Only asked from a running asyncio
    loop, so asyncio is imported by then: a sync ``Hub`` never imports it."""
    return getattr(sys.modules["asyncio"], "timeout", None)


@functools.lru_cache(maxsize=64)
def user_agent(adapter_name: str) -> str:
    """``payhub/<version> (<adapter>)``: a gateway's support can tell who is calling."""
    from payhub_core import __version__  # the package is imported by the time a call runs

    return f"payhub/{__version__} ({adapter_name})" if adapter_name else f"payhub/{__version__}"


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who is asking: the gateway alias, the operation and its request id, the timeouts,
    the bounds of the whole operation, and the secret values that must never be logged.

    ``deadline`` is seconds for the whole operation (``None``: none);
    ``status_check`` says whether the gateway offers ``status`` (the advice of an unknown
    outcome depends on it).
    """

    gateway: str
    operation: str
    request_id: str
    timeout: httpx.Timeout
    policy: RetryPolicy
    secrets: tuple[str, ...] = field(default=(), repr=False)
    deadline: float | None = None
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    user_agent: str = "payhub"
    status_check: bool = True

    @classmethod
    def for_gateway(cls, gateway: Gateway, operation: str, request_id: str) -> RequestContext:
        """The context of one ``operation`` on an assembled gateway (its alias, adapter
        name, settings, capabilities, timeout, policy and secrets).

        Everything but the operation and the request id is the same for every call of a
        gateway: it is worked out once (:meth:`template`, kept by the gateway) and copied
        here, which is what every call pays."""
        context = object.__new__(cls)
        template = gateway.context
        # Slots, not a __dict__: every in-flight call holds its context.
        for name in _SHARED_FIELDS:
            object.__setattr__(context, name, getattr(template, name))
        object.__setattr__(context, "operation", operation)
        object.__setattr__(context, "request_id", request_id)
        return context

    @classmethod
    def template(cls, gateway: Gateway) -> RequestContext:
        """What every call of ``gateway`` shares (no operation, no request id): its
        deadline (the settings' or one derived from its timeouts and retries), the
        response size cap, the ``User-Agent`` and whether it offers ``status``."""
        settings, timeout, policy = gateway.settings, gateway.timeout, gateway.policy
        deadline = getattr(settings, "deadline", None)
        if not isinstance(deadline, (int, float)) or isinstance(deadline, bool):
            deadline = default_deadline(
                timeout.read or 30.0,
                timeout.connect or 10.0,
                policy.max_retries,
                policy.backoff,
                policy.max_delay,
            )
        limit = getattr(settings, "max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            limit = DEFAULT_MAX_RESPONSE_BYTES
        return cls(
            gateway=gateway.alias,
            operation="",
            request_id="",
            timeout=timeout,
            policy=policy,
            secrets=gateway.secrets,
            deadline=float(deadline),
            max_response_bytes=limit,
            user_agent=user_agent(gateway.adapter_name),
            status_check="status" in gateway.capabilities.operations,
        )

    def with_secrets(self, *holders: object) -> RequestContext:
        """This context, also hiding the secrets in ``holders`` (an invoice's card, an
        OTP code): what is sent for one call is redacted from that call's records too."""
        extra = secret_values(*holders)
        if not extra:
            return self
        return dataclasses.replace(self, secrets=(*self.secrets, *extra))

    def scrub(self, text: str) -> str:
        return scrub(text, self.secrets)


_SHARED_FIELDS = tuple(
    item.name
    for item in dataclasses.fields(RequestContext)
    if item.name not in ("operation", "request_id")
)


def scrub_result(result: M, secrets: Iterable[str], **fields: Any) -> M:
    """``result`` (a Checkout or PaymentResult) with ``raw`` and every message scrubbed:
    a gateway that echoes a key, an OTP or a card number in a success keeps it out of
    reprs, logs and whatever the merchant stores. ``fields`` are set on the same copy
    (the hub's ``gateway``), so a result is copied once."""
    secrets = tuple(secrets)
    update: dict[str, Any] = dict(fields)
    raw = getattr(result, "raw", None)
    # Most answers hold nothing to hide: one pass over their JSON text says so, instead
    # of rebuilding every string (raw then stays the very mapping the adapter built).
    if raw and not _nothing_to_scrub(raw, secrets):
        update["raw"] = scrub_data(raw, secrets)
    # Only a Checkout has an action: a PaymentResult skips pydantic's AttributeError path.
    action = getattr(result, "action", None) if "action" in type(result).model_fields else None
    message = getattr(action, "message", None)
    if action is not None and isinstance(message, str):
        update["action"] = action.model_copy(update={"message": scrub(message, secrets)})
    return result.model_copy(update=update) if update else result


class FlowStepper:
    """Advances one flow. ``advance`` returns the next step, or ``None`` when the flow has
    returned (its value is then in ``result``)."""

    # Slots here and in the other per-call objects: every in-flight call holds them.
    __slots__ = ("_context", "_flow", "held", "result")

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
            extensions = step.extensions
            if "timeout" not in extensions:
                extensions["timeout"] = self._context.timeout.as_dict()
            # One look at the names the adapter set (a miss in httpx.Headers costs a
            # KeyError); what it set is kept.
            headers = step.headers
            present = {name.lower() for name, _ in headers.raw}
            if b"user-agent" not in present:
                headers["User-Agent"] = self._context.user_agent
            # gzip only: payhub inflates it itself, bounded by max_response_bytes
            if b"accept-encoding" not in present:
                headers["Accept-Encoding"] = "gzip"
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


def _shown_url(url: httpx.URL) -> str:
    """Scheme, host, port and path: the query may carry secrets, userinfo always does."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{host}{port}{url.path}"


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
    url = context.scrub(_shown_url(request.url))
    if response is not None:
        outcome = f"HTTP {response.status_code}"
    else:
        outcome = str(error) if isinstance(error, _PastDeadline) else type(error).__name__
    headers = redact_headers(request.headers.items(), context.secrets)
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


def _scrub_chain(error: BaseException | None, secrets: tuple[str, ...]) -> None:
    """Scrub the text of ``error`` and of its causes: a traceback logged by the merchant
    shows them all."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if any(isinstance(arg, str) for arg in error.args):
            error.args = tuple(scrub(a, secrets) if isinstance(a, str) else a for a in error.args)
        error = error.__cause__ or error.__context__


class _Clock:
    """The operation's deadline, on the monotonic clock."""

    __slots__ = ("deadline", "expires")

    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline
        self.expires = None if deadline is None else time.monotonic() + deadline

    def remaining(self) -> float | None:
        return None if self.expires is None else self.expires - time.monotonic()

    def expired(self) -> bool:
        return self.expires is not None and time.monotonic() >= self.expires


class _Sent:
    """Whether a request may have reached the gateway, from httpcore's trace events: only
    a connection attempt that never got as far as sending the request proves it did not
    (transports without trace events, such as mocks, count as sent). An adapter's own
    ``trace`` extension is still called."""

    __slots__ = ("_chained", "connecting", "sending")

    def __init__(self, chained: Any) -> None:
        self.connecting = False
        self.sending = False
        self._chained = chained

    def _note(self, event: str) -> None:
        if event.startswith("connection.connect_"):
            self.connecting = True
        elif event.endswith("send_request_headers.started"):
            self.sending = True

    def __call__(self, event: str, info: dict[str, Any]) -> Any:
        self._note(event)
        return self._chained(event, info) if self._chained is not None else None

    async def async_call(self, event: str, info: dict[str, Any]) -> None:
        self._note(event)
        if self._chained is not None:
            result = self._chained(event, info)
            if inspect.isawaitable(result):
                await result

    @property
    def maybe(self) -> bool:
        return self.sending or not self.connecting


def _bounded_timeouts(request: httpx.Request, base: Any, remaining: float | None) -> None:
    """No single wait of this attempt may outlast the operation's deadline."""
    if remaining is None or not isinstance(base, dict):
        return
    request.extensions["timeout"] = {
        key: remaining if value is None else min(value, remaining) for key, value in base.items()
    }


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


class _PastDeadline(Exception):
    """The operation's deadline passed while an answer was being read."""

    def __str__(self) -> str:
        return "the operation's deadline passed"


class _Attempts:
    """The attempts of one request, without I/O: each driver's loop only sends and
    sleeps; what an attempt's outcome means (give up at the deadline, retry after a
    wait, fail, or return the answer), and its log record, is decided here, once.

    ``after`` treats an attempt that produced neither an answer nor an error as past
    the deadline: that is how the async driver's cancel scope ends one (the sync driver
    always has an error then: its socket operations raise at the deadline).
    """

    __slots__ = (
        "_base_timeout",
        "_clock",
        "_context",
        "_request",
        "_started",
        "_trace",
        "attempt",
        "sent",  # whether the current attempt may have reached the gateway (a _Sent)
    )

    def __init__(self, request: httpx.Request, context: RequestContext, clock: _Clock) -> None:
        self._request = request
        self._context = context
        self._clock = clock
        self._base_timeout = request.extensions.get("timeout")
        self._trace = request.extensions.get("trace")
        self._started = 0.0
        self.attempt = 0

    def start(self, asynchronous: bool = False) -> float | None:
        """Begin an attempt: trace whether it is sent, bound its timeouts by the deadline,
        and return the seconds left of the operation (``None``: no deadline)."""
        self.attempt += 1
        self._started = time.perf_counter()
        self.sent = sent = _Sent(self._trace)
        self._request.extensions["trace"] = sent.async_call if asynchronous else sent
        remaining = self._clock.remaining()
        _bounded_timeouts(self._request, self._base_timeout, remaining)
        return remaining

    def too_large(self, large: TooLarge) -> PayhubError:
        context = self._context
        return context.policy.too_large(
            self._request, large.status, context.max_response_bytes, context.status_check
        )

    def after(self, response: httpx.Response | None, error: Exception | None) -> float | None:
        """Log the attempt just made and decide: the seconds to wait before the next one,
        or ``None`` when ``response`` is the answer; raises when the operation fails."""
        request, context, clock = self._request, self._context, self._clock
        policy = context.policy
        elapsed = time.perf_counter() - self._started
        if response is None and (error is None or clock.expired()):
            error = error or _PastDeadline()
            _log_attempt(context, request, self.attempt, elapsed, None, error, None)
            _scrub_chain(error, context.secrets)
            raise policy.past_deadline(
                request,
                clock.deadline or 0.0,
                error,
                sent=self.sent.maybe,
                status_check=context.status_check,
            ) from _cause(error)
        decision = policy.after(
            request,
            self.attempt,
            response,
            error,
            remaining=clock.remaining(),
            status_check=context.status_check,
        )
        _log_attempt(context, request, self.attempt, elapsed, response, error, decision.retry_in)
        if decision.retry_in is not None:
            return decision.retry_in
        if decision.error is not None:
            _scrub_chain(error, context.secrets)
            raise decision.error from _cause(error)
        return None


class SyncDriver:
    """Runs flows over one shared ``httpx.Client`` (thread-safe; one pool per hub)."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client
        self._locks = _ThreadLocks()

    def run(self, outcome: Any, context: RequestContext) -> Any:
        if not is_flow(outcome):
            return outcome
        clock = _Clock(context.deadline)
        stepper = FlowStepper(outcome, context)
        try:
            value: Any = None
            error: BaseException | None = None
            while (step := stepper.advance(value, error)) is not None:
                value, error = None, None
                if isinstance(step, httpx.Request):
                    try:
                        value = self._send(step, context, clock)
                    except PayhubError as exc:
                        error = exc
                elif isinstance(step, Acquire):
                    self._acquire(f"{context.gateway}:{step.key}", step, clock, context)
                    stepper.acquired(step.key)
                else:
                    self._locks.get(f"{context.gateway}:{step.key}").release()
            return stepper.result
        finally:
            stepper.close()
            self._release(stepper.held, context)

    def _acquire(self, name: str, step: Acquire, clock: _Clock, context: RequestContext) -> None:
        remaining = clock.remaining()
        lock = self._locks.get(name)
        if remaining is None:
            lock.acquire()
        elif not lock.acquire(timeout=max(remaining, 0.0)):
            raise _lock_timeout(step, context)

    def _release(self, keys: Iterable[str], context: RequestContext) -> None:
        for key in keys:
            self._locks.get(f"{context.gateway}:{key}").release()

    def _send(
        self, request: httpx.Request, context: RequestContext, clock: _Clock
    ) -> httpx.Response:
        attempts = _Attempts(request, context, clock)
        while True:
            attempts.start()
            response: httpx.Response | None = None
            error: Exception | None = None
            try:
                with deadline_scope(clock.expires):
                    sent = self._client.send(request, stream=True)
                    response = _read_sync(sent, context, clock)
            except (httpx.HTTPError, _PastDeadline) as exc:
                error = exc
            except TooLarge as large:
                raise attempts.too_large(large) from None
            retry_in = attempts.after(response, error)
            if retry_in is None:
                assert response is not None
                return response
            time.sleep(retry_in)


class AsyncDriver:
    """Runs flows over one shared ``httpx.AsyncClient``; works under asyncio and trio.

    An ``AsyncHub`` (its connection pool) belongs to the event loop it is first used in:
    a call from another loop is refused with ``ConfigurationError`` before anything is
    sent, instead of failing deep in the pool.
    """

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client
        self._locks = _TaskLocks()
        self._loop: object | None = None

    def _check_loop(self) -> bool:
        """Refuse a call from another event loop than the first; ``True`` under asyncio."""
        running = sys.modules.get("asyncio")  # no loop of it can run before it is imported
        try:
            if running is None:
                raise RuntimeError
            loop: object = running.get_running_loop()  # anyio's token under asyncio, cheaper
            native = True
        except RuntimeError:  # trio (through anyio)
            import anyio.lowlevel

            token = anyio.lowlevel.current_token()
            loop, native = getattr(token, "native_token", token), False
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise ConfigurationError(
                "this AsyncHub was first used in another event loop; an AsyncHub (its "
                "connection pool) belongs to one event loop: build one per loop, for "
                "example in your application's startup (lifespan) handler, and use a "
                "Hub where there is no loop of your own"
            )
        return native

    async def run(self, outcome: Any, context: RequestContext) -> Any:
        native = self._check_loop()
        if not is_flow(outcome):
            return outcome
        clock = _Clock(context.deadline)
        stepper = FlowStepper(outcome, context)
        try:
            value: Any = None
            error: BaseException | None = None
            while (step := stepper.advance(value, error)) is not None:
                value, error = None, None
                if isinstance(step, httpx.Request):
                    try:
                        value = await self._send(step, context, clock, native)
                    except PayhubError as exc:
                        error = exc
                elif isinstance(step, Acquire):
                    lock = self._locks.get(f"{context.gateway}:{step.key}")
                    remaining = clock.remaining()
                    if remaining is None or remaining > 0:
                        try:  # a free lock is taken at once, without a cancel scope
                            lock.acquire_nowait()
                            stepper.acquired(step.key)
                        except anyio.WouldBlock:
                            pass
                    if step.key not in stepper.held:
                        with anyio.move_on_after(remaining if remaining is not None else math.inf):
                            await lock.acquire()
                            stepper.acquired(step.key)
                    if step.key not in stepper.held:
                        raise _lock_timeout(step, context)
                else:
                    self._locks.get(f"{context.gateway}:{step.key}").release()
            return stepper.result
        finally:
            stepper.close()
            for key in stepper.held:
                self._locks.get(f"{context.gateway}:{key}").release()

    async def _send(
        self, request: httpx.Request, context: RequestContext, clock: _Clock, native: bool
    ) -> httpx.Response:
        attempts = _Attempts(request, context, clock)
        while True:
            remaining = attempts.start(asynchronous=True)
            response: httpx.Response | None = None
            error: Exception | None = None
            try:
                # The attempt ends at the deadline, whatever the transport is doing: a
                # response and an error both None then (see _Attempts.after).
                timeout = _asyncio_timeout() if native else None
                if timeout is not None:
                    # asyncio's own timeout: the same bound for about a third of the
                    # memory and CPU of a cancel scope (every in-flight call holds one)
                    async with timeout(remaining) as scope:
                        sent = await self._client.send(request, stream=True)
                        response = await _read_async(sent, context, clock)
                else:
                    with anyio.move_on_after(remaining if remaining is not None else math.inf):
                        sent = await self._client.send(request, stream=True)
                        response = await _read_async(sent, context, clock)
            except (httpx.HTTPError, _PastDeadline) as exc:
                error = exc
            except TooLarge as large:
                raise attempts.too_large(large) from None
            except TimeoutError:
                if timeout is None or not scope.expired():
                    raise
            retry_in = attempts.after(response, error)
            if retry_in is None:
                assert response is not None
                return response
            await anyio.sleep(retry_in)


def _read_sync(response: httpx.Response, context: RequestContext, clock: _Clock) -> httpx.Response:
    """``response`` (sent, streamed) with its body read within the size cap and the
    deadline."""
    try:
        if response.is_stream_consumed:
            return _already_read(response, context.max_response_bytes)
        body = BoundedBody(response.headers.get("content-encoding"), context.max_response_bytes)
        chunks = response.iter_bytes() if body.decoded_by_httpx else response.iter_raw()
        for chunk in chunks:
            body.feed(chunk)
            if clock.expired():
                raise _PastDeadline
        return buffered(response, body.finish())
    except TooLarge as large:
        large.status = response.status_code
        raise
    finally:
        response.close()


async def _read_async(
    response: httpx.Response, context: RequestContext, clock: _Clock
) -> httpx.Response:
    """:func:`_read_sync`, awaited. The request itself is sent from the driver's own frame
    (in both drivers): every in-flight call holds its frames, so none is spent on it."""
    try:
        if response.is_stream_consumed:
            return _already_read(response, context.max_response_bytes)
        body = BoundedBody(response.headers.get("content-encoding"), context.max_response_bytes)
        chunks = response.aiter_bytes() if body.decoded_by_httpx else response.aiter_raw()
        async for chunk in chunks:
            body.feed(chunk)
            if clock.expired():
                raise _PastDeadline
        return buffered(response, body.finish())
    except TooLarge as large:
        large.status = response.status_code
        raise
    finally:
        await response.aclose()


def _already_read(response: httpx.Response, limit: int) -> httpx.Response:
    """An answer its transport read already (a mock's, built with ``content=``)."""
    if len(response.content) > limit:
        raise TooLarge
    return response


def _cause(error: Exception | None) -> Exception | None:
    if isinstance(error, _PastDeadline):
        return None
    # httpx/h11 quote a refused header's value (a secret) in their message: keep that out
    # of the traceback altogether.
    if isinstance(error, httpx.LocalProtocolError):
        return None
    return error


def _lock_timeout(step: Acquire, context: RequestContext) -> PayhubError:
    return GatewayUnavailable(
        f"waited for lock {step.key!r} until the operation's {context.deadline:g} s deadline "
        "passed; nothing was sent, so it is safe to try again later",
        outcome_unknown=False,
    )
