"""The conformance suite's network: a switchable fake gateway, a log of what was sent, and
transport faults injected at a chosen request of an operation.

Everything here is an ``httpx.MockTransport`` handler: nothing leaves the process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from payhub_core.flows import is_idempotent

__all__ = ["FAULTS", "Fault", "Sent", "Wire"]

Handler = Callable[[httpx.Request], httpx.Response]

_HUGE = 4 * 1024 * 1024
_DEPTH = 100_000

FAULTS = (
    "connection_refused",
    "connection_reset",
    "timeout",
    "rate_limited",
    "server_error",
    "bad_gateway",
    "malformed_body",
    "truncated_body",
    "huge_body",
    "deeply_nested_body",
)
"""Every transport fault the suite injects, in the order it tries them."""

# Faults the gateway never acted on: it refused the connection or the request.
NOT_DELIVERED = frozenset({"connection_refused", "rate_limited"})
# Faults that reach the flow as a response it has to read (a 2xx it cannot understand).
UNREADABLE = frozenset({"malformed_body", "truncated_body", "huge_body", "deeply_nested_body"})


@dataclass(frozen=True)
class Fault:
    """Inject ``kind`` into every attempt of the ``position``-th distinct request (0-based)
    of ``operation``."""

    kind: str
    operation: str
    position: int


@dataclass
class Sent:
    """One attempt as the fake network saw it."""

    operation: str
    method: str
    url: str
    content: bytes
    headers: httpx.Headers
    idempotent: bool
    position: int
    run: int = 0
    delivered: bool = True
    fault: str | None = None

    @property
    def key(self) -> tuple[str, str, bytes]:
        return (self.method, self.url, self.content)

    def request(self) -> httpx.Request:
        """The attempt as a request again (what ``wire_amount`` and ``safe_to_repeat`` read)."""
        return httpx.Request(self.method, self.url, headers=self.headers, content=self.content)


@dataclass
class Wire:
    """A transport handler in front of a swappable fake gateway.

    ``operation`` is the hub operation in progress (the suite sets it); every attempt is
    appended to ``sent``. ``replace`` answers instead of the gateway for every request
    while it is set (the suite's echo and replay scripts).
    """

    gateway: Handler | None = None
    operation: str = "setup"
    fault: Fault | None = None
    replace: Handler | None = None
    sent: list[Sent] = field(default_factory=list)
    _distinct: dict[str, list[tuple[str, str, bytes]]] = field(default_factory=dict)
    _runs: dict[str, int] = field(default_factory=dict)

    def use(self, gateway: Handler) -> None:
        """``gateway`` answers from now on, with no fault or replacement in between."""
        self.gateway, self.fault, self.replace = gateway, None, None

    def start(self, operation: str) -> None:
        """A new call of ``operation`` begins: positions count from 0 again."""
        self.operation = operation
        self._distinct[operation] = []
        self._runs[operation] = self._runs.get(operation, 0) + 1

    def for_operation(self, operation: str) -> list[Sent]:
        """What the latest call of ``operation`` sent."""
        run = self._runs.get(operation, 0)
        return [sent for sent in self.sent if sent.operation == operation and sent.run == run]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        content = request.read()
        key = (request.method, str(request.url), content)
        distinct = self._distinct.setdefault(self.operation, [])
        if key not in distinct:
            distinct.append(key)
        sent = Sent(
            operation=self.operation,
            method=request.method,
            url=str(request.url),
            content=content,
            headers=request.headers.copy(),
            idempotent=is_idempotent(request),
            position=distinct.index(key),
            run=self._runs.get(self.operation, 0),
        )
        self.sent.append(sent)
        fault = self.fault
        if fault is not None and (fault.operation, fault.position) == (
            self.operation,
            sent.position,
        ):
            sent.fault = fault.kind
            return self._inject(fault.kind, request, sent)
        return self._answer(request)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        if self.replace is not None:
            return self.replace(request)
        if self.gateway is None:
            raise RuntimeError("the conformance wire has no gateway")
        return self.gateway(request)

    def _inject(self, kind: str, request: httpx.Request, sent: Sent) -> httpx.Response:
        if kind in NOT_DELIVERED:
            sent.delivered = False
            if kind == "connection_refused":
                raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
            return httpx.Response(
                429, headers={"Retry-After": "0"}, json={"error": "too many requests"}
            )
        answer = self._answer(request)  # the gateway acted on it; the answer is lost
        answer.read()
        if kind == "connection_reset":
            raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
        if kind == "timeout":
            raise httpx.ReadTimeout("The read operation timed out", request=request)
        if kind == "server_error":
            return httpx.Response(500, json={"error": "internal server error"})
        if kind == "bad_gateway":
            return httpx.Response(502, text="<html><body>502 Bad Gateway</body></html>")
        if kind == "malformed_body":
            return httpx.Response(
                200,
                headers={"Content-Type": "text/html"},
                content=b"<html><body>Service temporarily unavailable</body></html>",
            )
        if kind == "truncated_body":
            cut = answer.content[: max(len(answer.content) // 2, 1)]
            return httpx.Response(200, headers=answer.headers, content=cut)
        if kind == "huge_body":
            body = b'{"padding": "' + b"x" * _HUGE + b'"}'
            return httpx.Response(200, headers={"Content-Type": "application/json"}, content=body)
        if kind == "deeply_nested_body":
            body = b'{"data": ' + b"[" * _DEPTH + b"]" * _DEPTH + b"}"
            return httpx.Response(200, headers={"Content-Type": "application/json"}, content=body)
        raise ValueError(f"unknown fault {kind!r}")
