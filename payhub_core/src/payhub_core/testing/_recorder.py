"""Mock transports that answer with a handler and remember every request."""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx

Handler = Callable[[httpx.Request], httpx.Response]

__all__ = ["AsyncRecordingTransport", "Recorded", "RecordingTransport"]


@dataclass(frozen=True)
class Recorded:
    """A request as the transport saw it, with its body read."""

    method: str
    url: httpx.URL
    headers: httpx.Headers
    content: bytes

    @property
    def path(self) -> str:
        return self.url.path

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.content.decode("utf-8"), keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.content)


class RecordingTransport(httpx.MockTransport):
    """``httpx.MockTransport`` that keeps every request in :attr:`requests` (thread-safe)."""

    def __init__(self, handler: Handler) -> None:
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()

        def record(request: httpx.Request) -> httpx.Response:
            with self._lock:
                self.requests.append(_record(request))
            return handler(request)

        super().__init__(record)

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]


class AsyncRecordingTransport(httpx.MockTransport):
    """The same for ``AsyncHub``; the handler may be sync or async."""

    def __init__(
        self, handler: Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]
    ) -> None:
        self.requests: list[Recorded] = []

        async def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(_record(request))
            response = handler(request)
            if isinstance(response, httpx.Response):
                return response
            return await response

        super().__init__(record)

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]


def _record(request: httpx.Request) -> Recorded:
    return Recorded(
        method=request.method,
        url=request.url,
        headers=request.headers.copy(),
        content=request.read(),
    )
