"""Real servers for the web tests: uvicorn (ASGI) and waitress (WSGI) in background threads
on 127.0.0.1, each serving payhub's endpoints for its own hub and ledger."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from payhub_core import Hub, hookimpl
from payhub_core.demo import DemoEnvironment
from payhub_core.sandbox import DemoCase


def bound_socket() -> tuple[socket.socket, str]:
    sock = socket.socket(socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


def with_shutdown(app: Any, on_shutdown: Callable[[], Any]) -> Any:
    """``app`` with an ASGI lifespan that awaits ``on_shutdown()`` when the server stops
    (an AsyncHub's HTTP client must be closed on the loop it ran on)."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    return wrapped


class Uvicorn:
    """An ASGI app served by uvicorn in a thread."""

    def __init__(self, app: Any, sock: socket.socket, on_shutdown: Callable[[], Any]) -> None:
        import uvicorn

        self._socket = sock
        self._server = uvicorn.Server(
            uvicorn.Config(
                with_shutdown(app, on_shutdown),
                log_level="warning",
                lifespan="on",
                timeout_graceful_shutdown=2,
            )
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert self._thread.is_alive(), "uvicorn stopped while starting"
            assert time.monotonic() < deadline, "uvicorn did not start in 10 s"
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


class Waitress:
    """A WSGI app served by waitress in a thread."""

    def __init__(self, app: Any, sock: socket.socket) -> None:
        from waitress.server import create_server

        sock.listen(64)
        self._server = create_server(
            app, sockets=[sock], threads=8, clear_untrusted_proxy_headers=True
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Close every socket (the listener, the trigger, each client's connection) in the
        server's own loop thread, which then ends, and stop the worker threads.

        Closing them from this thread races the loop: a descriptor closed between the loop
        listing its sockets and calling ``select()`` fails it with EBADF in the server
        thread; and a client's open keep-alive connection kept the loop running."""
        from waitress import wasyncore

        server = self._server
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        self._thread.join(timeout=10)
        server.task_dispatcher.shutdown()
        assert not self._thread.is_alive(), "waitress did not stop within 10 s"


@dataclass
class HookRecorder:
    """A merchant plugin: records every ``payhub_payment_changed`` call."""

    calls: list[tuple[Any, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @hookimpl
    def payhub_payment_changed(self, payment: Any, change: Any) -> None:
        with self._lock:
            self.calls.append((payment, change))

    def for_invoice(self, number: str) -> list[Any]:
        with self._lock:
            return [change for payment, change in self.calls if payment.invoice_number == number]


def wait_until(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            return value
        time.sleep(interval)


def post(url: str, body: bytes, headers: dict[str, str], query: str = "") -> httpx.Response:
    """Deliver as a gateway would: the raw body and headers, no redirects followed."""
    target = f"{url}?{query}" if query else url
    sent = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
    with httpx.Client(timeout=15, follow_redirects=False) as client:
        return client.post(target, content=body, headers=sent)


def hub_config(
    cases: dict[str, DemoCase], db: Path | str, public_url: str, mount: str
) -> dict[str, Any]:
    """A hub on ``cases`` with its ledger at ``db`` (a SQLite file, or a database URL)
    and its endpoints at ``public_url`` + ``mount``. Lock waits are short, so that a
    ledger that is down is reported in half a second."""
    url = str(db) if str(db).startswith("postgresql") else f"sqlite:///{db}"
    return {
        "gateways": {
            alias: {"adapter": case.adapter, **case.settings} for alias, case in cases.items()
        },
        "ledger": {"url": url, "busy_timeout": 0.5, "lock_timeout": 0.5, "connect_timeout": 1},
        "web": {
            "public_url": public_url,
            "mount": mount,
            "pages": {"default": "/done/{invoice}?status={status}", "error": "/problem"},
        },
    }


@contextmanager
def sqlite_locked(db: Path) -> Iterator[None]:
    """Hold a SQLite ledger's write lock, as another process stuck in a transaction would:
    writes wait out the ledger's busy timeout and fail."""
    connection = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        connection.execute("ROLLBACK")
        connection.close()


@contextmanager
def postgres_stopped(server: Any) -> Iterator[None]:
    """Stop the PostgreSQL server (connections refused), start it again afterwards."""
    server.stop("fast")
    try:
        yield
    finally:
        server.start()


@dataclass
class Site:
    kind: str
    url: str
    mount: str
    hub: Hub
    recorder: HookRecorder
    ledger_down: Callable[[], AbstractContextManager[None]]
    """Makes the ledger unavailable while the context lasts."""

    def endpoint(self, alias: str | None, kind: str) -> str:
        if alias is None:
            return f"{self.url}{self.mount}/{kind}"
        return f"{self.url}{self.mount}/{alias}/{kind}"


def point_webhooks(sandbox: DemoEnvironment, url: str) -> None:
    """Where the Plural emulator delivers its webhooks from now on."""
    response = httpx.put(
        f"{sandbox.url}/plural/_sandbox/config", json={"webhook_url": url}, timeout=5
    )
    response.raise_for_status()
