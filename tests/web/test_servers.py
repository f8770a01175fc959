"""The web tests' own servers stop cleanly: a server stopped while a client still holds a
connection ends its thread, closes its port, and raises nothing in its loop thread (a
stray thread exception fails whichever test happens to run next)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import pytest
from web_support import Waitress, bound_socket


def _hello(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


@pytest.fixture
def thread_errors() -> Iterator[list[BaseException | None]]:
    seen: list[BaseException | None] = []
    previous = threading.excepthook
    threading.excepthook = lambda args: seen.append(args.exc_value)
    try:
        yield seen
    finally:
        threading.excepthook = previous


def test_waitress_stops_with_a_keep_alive_connection_open(
    thread_errors: list[BaseException | None],
) -> None:
    for _ in range(5):
        sock, url = bound_socket()
        port = sock.getsockname()[1]
        server = Waitress(_hello, sock)
        server.start()
        with httpx.Client(timeout=5) as client:  # keeps its connection open
            assert client.get(url).text == "ok"
            server.stop()
            assert not server._thread.is_alive()
        with (
            pytest.raises(ConnectionRefusedError),
            socket.create_connection(("127.0.0.1", port), timeout=2),
        ):
            pass
    assert thread_errors == []
