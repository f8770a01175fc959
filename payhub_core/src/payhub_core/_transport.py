"""Bytes in and out within bounds: the sync transport's deadline and bounded answers.

httpx applies its timeouts per socket operation, so a server that sends one byte a second
keeps a request alive for as long as it likes. The async driver bounds a whole operation
with a cancel scope; a thread cannot be cancelled, so the sync driver's transport caps
the timeout of every socket operation (connect, TLS, each read and write) at what is left
of the operation's deadline, which :func:`deadline_scope` sets for the calling thread.

:class:`BoundedBody` reads an answer's raw bytes and decompresses them itself, a bounded
piece at a time, so a gzip bomb stops at ``max_response_bytes`` instead of growing to
gigabytes in one ``zlib`` call.
"""

from __future__ import annotations

import contextvars
import ssl
import time
import zlib
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["BoundedBody", "TooLarge", "buffered", "deadline_scope", "sync_transport"]

# When the current thread's operation must end (time.monotonic()), or None.
_EXPIRES: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "payhub_expires", default=None
)


class deadline_scope:  # lower case: used like the function it replaced
    """``with deadline_scope(expires):`` socket operations of this thread's requests end by
    ``expires`` (monotonic). A plain class, not a ``@contextmanager`` generator: every
    request passes here."""

    __slots__ = ("_expires", "_token")

    def __init__(self, expires: float | None) -> None:
        self._expires = expires

    def __enter__(self) -> None:
        self._token = _EXPIRES.set(self._expires)

    def __exit__(self, *exc_info: object) -> None:
        _EXPIRES.reset(self._token)


def _capped(timeout: float | None, expired: type[Exception]) -> float | None:
    expires = _EXPIRES.get()
    if expires is None:
        return timeout
    remaining = expires - time.monotonic()
    if remaining <= 0:
        raise expired("the operation's deadline has passed")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _capped(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _capped(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _capped(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _capped(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _capped(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def sync_transport() -> httpx.HTTPTransport:
    """httpx's own transport, its socket operations bounded by :func:`deadline_scope`."""
    transport = httpx.HTTPTransport()
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    # httpx offers no public way in; should a release move these, the driver's checks
    # between reads still bound the answer's body.
    if isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]
    return transport


class TooLarge(Exception):
    """The answer grew past the limit (decompressed); ``status`` is its HTTP status."""

    status: int = 0


class BoundedBody:
    """Collects an answer's body from its raw (still encoded) bytes, at most ``limit``
    bytes after decoding.

    ``gzip`` and ``deflate`` (the only codings payhub asks for or accepts without asking)
    are inflated here, never more than ``limit + 1`` bytes per step; ``identity`` is
    copied. Any other coding is left to httpx (``decoded_by_httpx``), chunk by chunk, and
    checked after each chunk.
    """

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        codings = [part.strip().lower() for part in (content_encoding or "").split(",")]
        codings = [coding for coding in codings if coding and coding != "identity"]
        self.limit = limit
        self._parts: list[bytes] = []
        self._size = 0
        self._inflater: Any = None
        self._deflate = False
        self.decoded_by_httpx = False
        if codings in (["gzip"], ["x-gzip"]):
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif codings == ["deflate"]:
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS)
            self._deflate = True
        elif codings:
            self.decoded_by_httpx = True

    def _keep(self, data: bytes) -> None:
        if data:
            self._size += len(data)
            if self._size > self.limit:
                raise TooLarge
            self._parts.append(data)

    def feed(self, chunk: bytes) -> None:
        """Add a chunk: raw bytes, or decoded ones when ``decoded_by_httpx``."""
        if self._inflater is None:
            self._keep(chunk)
            return
        data = chunk
        while data and not self._inflater.eof:
            try:
                out = self._inflater.decompress(data, self.limit - self._size + 1)
            except zlib.error:
                if self._deflate and self._size == 0:
                    # "deflate" is often sent without its zlib header: try it raw.
                    self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._deflate = False
                    continue
                raise httpx.DecodingError("the answer's compressed body is corrupt") from None
            self._deflate = False
            self._keep(out)
            data = self._inflater.unconsumed_tail

    def finish(self) -> bytes:
        if self._inflater is not None:
            try:
                self._keep(self._inflater.flush())
            except zlib.error:
                raise httpx.DecodingError("the answer's compressed body is corrupt") from None
        return b"".join(self._parts)


def buffered(response: httpx.Response, body: bytes) -> httpx.Response:
    """A read response with ``body`` (decoded) in place of ``response``'s stream."""
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    extensions = {
        key: value
        for key, value in response.extensions.items()
        if key in ("http_version", "reason_phrase")
    }
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=body,
        request=response.request,
        extensions=extensions,
    )
