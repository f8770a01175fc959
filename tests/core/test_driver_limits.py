"""Time and size limits that really bound a call, against a real server on 127.0.0.1.

``TinyServer`` is a socket server in a thread that answers each request with a scripted
behaviour: a server that drips its body (or its headers) one byte at a time, a gzip
bomb, a normal gzip answer. Both drivers are run against it through ``Hub`` and
``AsyncHub`` with no transport injected, so the real httpx/httpcore stack is in play.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from _hubkit import FlowAdapter, LocalSettings, local_config, use_local_adapters

from payhub_core import (
    AsyncHub,
    ConfigurationError,
    GatewayUnavailable,
    Hub,
    PaymentResult,
    PaymentStatus,
    ResponseTooLarge,
    hookimpl,
)
from payhub_core._driver import RequestContext
from payhub_core._settings import DEFAULT_MAX_RESPONSE_BYTES, default_deadline
from payhub_core.flows import Flow

Behaviour = Callable[[socket.socket], None]

PAID = json.dumps({"status": "paid", "reference": "o"}).encode()


class TinyServer:
    """Answers every request on 127.0.0.1 with ``behaviour(connection)``."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        connection.settimeout(30)
        with connection:
            while not self._stop.is_set():
                try:
                    head = self._read_head(connection)
                    if head is None:
                        return
                    self.requests.append(head)
                    self.behaviour(connection)
                except OSError:
                    return  # the client gave up: that is the point of most tests

    @staticmethod
    def _read_head(connection: socket.socket) -> bytes | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            rest += connection.recv(65536)
        return head

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(2)


@pytest.fixture
def serve() -> Iterator[Callable[[Behaviour], TinyServer]]:
    servers: list[TinyServer] = []

    def start(behaviour: Behaviour) -> TinyServer:
        server = TinyServer(behaviour)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def _head(status: str = "200 OK", *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer(body: bytes = PAID, *headers: str) -> Behaviour:
    def behave(connection: socket.socket) -> None:
        connection.sendall(
            _head(
                "200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}", *headers
            )
            + body
        )

    return behave


def drip_body(interval: float = 0.1, pad: int = 200) -> Behaviour:
    """A valid answer whose body arrives one byte per ``interval``: each read succeeds
    well within the read timeout, so only a total deadline can stop it."""
    body = json.dumps({"status": "paid", "reference": "o", "pad": "x" * pad}).encode()

    def behave(connection: socket.socket) -> None:
        connection.sendall(
            _head("200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}")
        )
        for byte in body:
            time.sleep(interval)
            connection.sendall(bytes([byte]))

    return behave


def drip_headers(interval: float = 0.1, count: int = 200) -> Behaviour:
    """The status line, then header bytes one per ``interval``: the answer never starts."""

    def behave(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nX-Pad: ")
        for _ in range(count):
            time.sleep(interval)
            connection.sendall(b"a")

    return behave


def gzip_bomb(decompressed: int) -> tuple[bytes, int]:
    """A gzip body of ``decompressed`` zero bytes, built without holding them."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1024 * 1024)
    parts = [compressor.compress(block) for _ in range(decompressed // len(block))]
    parts.append(compressor.flush())
    return b"".join(parts), decompressed


# Timeouts far above each drip interval, a deadline far below the drip's duration (20 s).
SLOW = {"timeout": 2.0, "connect_timeout": 2.0, "deadline": 1.0, "max_retries": 0}
# How long a call against a dripping server may last: the 1 s deadline plus room for a
# loaded machine (CI shares its cores), still far below the 20 s a call lasts without one.
STOPPED_WITHIN = 8.0


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch) -> None:
    use_local_adapters(monkeypatch, local_flow=FlowAdapter)


def _timed(call: Callable[[], Any]) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(GatewayUnavailable) as raised:
        call()
    return raised.value, time.monotonic() - started


# -- the total deadline, sync ----------------------------------------------------------


@pytest.mark.usefixtures("local")
@pytest.mark.parametrize("behaviour", [drip_body(), drip_headers()], ids=["body", "headers"])
def test_a_dripping_server_cannot_keep_a_sync_call_past_its_deadline(
    serve: Callable[[Behaviour], TinyServer], behaviour: Behaviour
) -> None:
    server = serve(behaviour)
    with Hub.from_config(local_config(base_url=server.url, **SLOW)) as hub:
        error, elapsed = _timed(lambda: hub.capture("o"))
    assert elapsed < STOPPED_WITHIN, f"the call lasted {elapsed:.1f} s, deadline 1 s"
    assert isinstance(error, GatewayUnavailable)
    assert error.outcome_unknown is True  # the capture reached the gateway
    assert "deadline" in error.message


@pytest.mark.usefixtures("local")
def test_a_sync_idempotent_call_past_its_deadline_has_nothing_to_reconcile(
    serve: Callable[[Behaviour], TinyServer],
) -> None:
    server = serve(drip_body())
    with Hub.from_config(local_config(base_url=server.url, **{**SLOW, "max_retries": 3})) as hub:
        error, elapsed = _timed(lambda: hub.status("o"))
    assert elapsed < STOPPED_WITHIN
    assert isinstance(error, GatewayUnavailable)
    assert error.outcome_unknown is False
    assert len(server.requests) == 1  # no retry was started past the deadline


# -- the total deadline, async ---------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.usefixtures("local")
@pytest.mark.parametrize("behaviour", [drip_body(), drip_headers()], ids=["body", "headers"])
async def test_a_dripping_server_cannot_keep_an_async_call_past_its_deadline(
    serve: Callable[[Behaviour], TinyServer], behaviour: Behaviour
) -> None:
    server = serve(behaviour)
    async with AsyncHub.from_config(local_config(base_url=server.url, **SLOW)) as hub:
        started = time.monotonic()
        with pytest.raises(GatewayUnavailable) as raised:
            await hub.capture("o")
        elapsed = time.monotonic() - started
    assert elapsed < STOPPED_WITHIN, f"the call lasted {elapsed:.1f} s, deadline 1 s"
    assert raised.value.outcome_unknown is True
    assert "deadline" in raised.value.message


@pytest.mark.usefixtures("local")
def test_a_fast_server_is_unaffected_by_the_deadline(
    serve: Callable[[Behaviour], TinyServer],
) -> None:
    server = serve(answer())
    # The deadline is SLOW's with room for a loaded machine: an answer in milliseconds
    # passes; the drips above, which never finish, do not.
    config = local_config(base_url=server.url, **{**SLOW, "deadline": 10.0})
    with Hub.from_config(config) as hub:
        for _ in range(3):  # the pooled connection is reused within the deadline each time
            assert hub.capture("o").status is PaymentStatus.PAID


@pytest.mark.usefixtures("local")
def test_retry_after_99999_is_bounded_by_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("payhub_core._driver.time.sleep", slept.append)
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, headers={"Retry-After": "99999"})

    config = local_config(deadline=4.9, max_retries=5)
    with Hub.from_config(config, transport=httpx.MockTransport(handler)) as hub:
        started = time.monotonic()
        with pytest.raises(GatewayUnavailable) as raised:
            hub.status("o")
    # Given up at once, not at the deadline (with room for a loaded machine)
    assert time.monotonic() - started < 3.0
    # each wait is capped at 5 s, longer than what is left of the 4.9 s deadline: not waited
    assert slept == []
    assert len(calls) == 1
    assert raised.value.http_status == 503


def test_the_default_deadline_covers_every_attempt_and_wait() -> None:
    # 3 attempts of (10 s connect + 30 s read), waits of 0.25 s and 0.5 s
    assert default_deadline(30.0, 10.0, 2, 0.25, 5.0) == pytest.approx(120.75)
    assert default_deadline(1.0, 1.0, 0, 0.25, 5.0) == pytest.approx(2.0)


@pytest.mark.usefixtures("local")
def test_a_gateways_deadline_defaults_from_its_timeouts_and_retries() -> None:
    with Hub.from_config(local_config(timeout=4, connect_timeout=1, max_retries=1)) as hub:
        gateway = hub._gateways["local"]
        context = RequestContext.for_gateway(gateway, "capture", "r")
    assert context.deadline == pytest.approx(2 * (4 + 1) + 0.0)  # retry_backoff = 0 here
    assert context.max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES


# -- the size cap ----------------------------------------------------------------------


@pytest.mark.usefixtures("local")
def test_a_gzip_bomb_stops_at_max_response_bytes_with_bounded_memory(
    serve: Callable[[Behaviour], TinyServer],
) -> None:
    bomb, size = gzip_bomb(256 * 1024 * 1024)
    assert len(bomb) < 512 * 1024 < size
    server = serve(answer(bomb, "Content-Encoding: gzip"))
    with Hub.from_config(local_config(base_url=server.url, max_retries=0)) as hub:
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLarge) as raised:
                hub.capture("o")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert raised.value.limit == DEFAULT_MAX_RESPONSE_BYTES
    assert raised.value.outcome_unknown is True  # a capture's answer could not be read
    assert raised.value.http_status == 200
    assert peak < 4 * DEFAULT_MAX_RESPONSE_BYTES, f"peak {peak / 2**20:.0f} MiB"


@pytest.mark.anyio
@pytest.mark.usefixtures("local")
async def test_an_async_gzip_bomb_stops_at_the_configured_limit(
    serve: Callable[[Behaviour], TinyServer],
) -> None:
    bomb, _ = gzip_bomb(64 * 1024 * 1024)
    server = serve(answer(bomb, "Content-Encoding: gzip"))
    config = local_config(base_url=server.url, max_response_bytes=65536)
    async with AsyncHub.from_config(config) as hub:
        with pytest.raises(ResponseTooLarge) as raised:
            await hub.status("o")
    assert raised.value.limit == 65536
    assert raised.value.outcome_unknown is False  # a status query moved nothing
    assert len(server.requests) == 1  # a too-large answer is not asked for again


@pytest.mark.usefixtures("local")
def test_a_plain_answer_over_the_limit_is_refused_too(
    serve: Callable[[Behaviour], TinyServer],
) -> None:
    server = serve(answer(b'{"status": "paid", "pad": "' + b"x" * 5000 + b'"}'))
    with (
        Hub.from_config(local_config(base_url=server.url, max_response_bytes=4096)) as hub,
        pytest.raises(ResponseTooLarge),
    ):
        hub.status("o")


@pytest.mark.usefixtures("local")
def test_a_gzip_answer_is_decoded_once_and_read_normally(
    serve: Callable[[Behaviour], TinyServer],
) -> None:
    server = serve(answer(gzip.compress(PAID), "Content-Encoding: gzip"))
    with Hub.from_config(local_config(base_url=server.url)) as hub:
        assert hub.status("o").raw == {"status": "paid", "reference": "o"}


def test_max_response_bytes_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    use_local_adapters(monkeypatch, local_flow=FlowAdapter)
    for value in (0, 100, 2**31):
        with pytest.raises(ConfigurationError, match="max_response_bytes"):
            Hub.from_config(local_config(max_response_bytes=value))


# -- what every request carries --------------------------------------------------------


@pytest.mark.usefixtures("local")
def test_requests_name_payhub_and_the_adapter_and_accept_gzip(
    serve: Callable[[Behaviour], TinyServer],
) -> None:
    from payhub_core import __version__

    server = serve(answer())
    with Hub.from_config(local_config(base_url=server.url)) as hub:
        hub.status("o")
    head = server.requests[0].decode().lower()
    assert f"user-agent: payhub/{__version__} (local.flow)".lower() in head
    assert "accept-encoding: gzip\r\n" in head + "\r\n"


@pytest.mark.anyio
@pytest.mark.usefixtures("local")
async def test_async_requests_carry_the_same_headers() -> None:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": "paid"})

    async with AsyncHub.from_config(local_config(), transport=httpx.MockTransport(handler)) as hub:
        await hub.status("o")
    assert seen[0].headers["user-agent"].startswith("payhub/")
    assert seen[0].headers["user-agent"].endswith("(local.flow)")
    assert seen[0].headers["accept-encoding"] == "gzip"


class OwnUserAgent(FlowAdapter):
    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Request:
        request = super()._request(method, path, **kwargs)
        request.headers["User-Agent"] = "acme-sdk/2"
        return request


def test_an_adapters_own_user_agent_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    use_local_adapters(monkeypatch, local_flow=OwnUserAgent)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": "paid"})

    with Hub.from_config(local_config(), transport=httpx.MockTransport(handler)) as hub:
        hub.status("o")
    assert seen[0].headers["user-agent"] == "acme-sdk/2"


# -- logs ------------------------------------------------------------------------------


@pytest.mark.usefixtures("local")
def test_logged_urls_keep_the_port(
    serve: Callable[[Behaviour], TinyServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="payhub")
    server = serve(answer())
    with Hub.from_config(local_config(base_url=server.url)) as hub:
        hub.status("o")
    urls = [r.payhub["url"] for r in caplog.records if "url" in getattr(r, "payhub", {})]  # type: ignore[attr-defined]
    assert urls == [f"http://127.0.0.1:{server.port}/orders/o"]
    assert f"127.0.0.1:{server.port}/orders/o" in caplog.text


# -- one event loop per AsyncHub -------------------------------------------------------


@pytest.mark.usefixtures("local")
def test_an_async_hub_used_from_a_second_event_loop_says_what_to_do(
    serve: Callable[[Behaviour], TinyServer],
) -> None:
    # "Connection: close": the first loop leaves no pooled connection behind to leak
    server = serve(answer(PAID, "Connection: close"))
    hub = AsyncHub.from_config(local_config(base_url=server.url))
    first = asyncio.run(hub.status("o"))
    assert first.status is PaymentStatus.PAID
    with pytest.raises(ConfigurationError, match="event loop") as raised:
        asyncio.run(hub.status("o"))  # the first loop, and its connections, are gone
    assert "one per loop" in raised.value.message
    assert raised.value.gateway == "local"
    assert len(server.requests) == 1  # refused before anything was sent


class NoStatus:
    """A gateway without a status operation (as Plutu's)."""

    Settings = LocalSettings

    def __init__(self, settings: LocalSettings) -> None:
        self.settings = settings

    @hookimpl
    def payhub_capture(self, reference: str, amount: object) -> Flow[PaymentResult]:
        yield httpx.Request("POST", f"{self.settings.base_url}/capture")
        raise AssertionError("unreachable: the request times out")


def test_unknown_outcome_advice_depends_on_the_status_capability(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_local_adapters(monkeypatch, local_flow=FlowAdapter, local_nostatus=NoStatus)

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    transport = httpx.MockTransport(timeout)
    config = {
        "gateways": {
            "with": {"adapter": "local.flow", "base_url": "https://a.example"},
            "without": {"adapter": "local.nostatus", "base_url": "https://b.example"},
        }
    }
    with Hub.from_config(config, transport=transport) as hub:
        with pytest.raises(GatewayUnavailable) as with_status:
            hub.capture("o", gateway="with")
        with pytest.raises(GatewayUnavailable) as without_status:
            hub.capture("o", gateway="without")
    assert "check the payment's status" in with_status.value.message
    assert "check the payment's status" not in without_status.value.message
    assert "merchant dashboard" in without_status.value.message
    assert without_status.value.outcome_unknown is True
