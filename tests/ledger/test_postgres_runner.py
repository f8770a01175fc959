"""The tests' own PostgreSQL runner survives a port taken between picking and binding,
and says why when it cannot start."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import ledger_support
import psycopg
import pytest
from ledger_support import PG_USER, PostgresServer, PostgresStartError, postgres_bin


@pytest.fixture
def bindir() -> Path:
    found = postgres_bin()
    if found is None:
        pytest.skip("no PostgreSQL binaries under /usr/lib/postgresql (make test installs them)")
    return found


def _listener() -> tuple[socket.socket, int]:
    """A socket listening on a port from the runner's own range, as a rival would."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", ledger_support._probe_port()))
    sock.listen()
    return sock, int(sock.getsockname()[1])


def _answers(server: PostgresServer) -> bool:
    with psycopg.connect(
        f"host=127.0.0.1 port={server.port} user={PG_USER} dbname=postgres", connect_timeout=5
    ) as connection:
        return connection.execute("SELECT 1").fetchone() == (1,)


def test_a_port_taken_after_it_was_picked_is_replaced_by_a_new_one(
    bindir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rival, taken = _listener()
    picks = iter([taken])
    real_probe = ledger_support._probe_port
    monkeypatch.setattr(ledger_support, "_probe_port", lambda: next(picks, None) or real_probe())
    server = PostgresServer(bindir)
    try:
        server.start()
        assert server.port != taken
        assert _answers(server)
    finally:
        server.destroy()
        rival.close()


def test_a_restart_waits_for_its_port_to_come_free(bindir: Path) -> None:
    server = PostgresServer(bindir).start()
    try:
        port = server.port
        server.stop()
        rival = socket.socket()
        rival.bind(("127.0.0.1", port))
        rival.listen()
        threading.Timer(1.0, rival.close).start()  # the rival goes away after a second
        server.start()
        assert server.port == port  # clients already hold this URL
        assert _answers(server)
    finally:
        server.destroy()


def test_a_restart_on_a_port_that_stays_taken_says_so(
    bindir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_support, "_RESTART_WINDOW", 1.0)
    server = PostgresServer(bindir).start()
    rival = socket.socket()
    try:
        server.stop()
        rival.bind(("127.0.0.1", server.port))
        rival.listen()
        with pytest.raises(PostgresStartError, match=f"port {server.port} stayed taken"):
            server.start()
    finally:
        rival.close()
        server.destroy()


def test_any_other_startup_failure_carries_the_server_log(
    bindir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = PostgresServer(bindir)
    try:
        server.start()
        server.stop()
        (server.data / "postgresql.conf").write_text("max_connections = 'many'\n")
        with pytest.raises(PostgresStartError, match="max_connections") as caught:
            server.start()
        assert "server log" in str(caught.value)
    finally:
        server.destroy()
