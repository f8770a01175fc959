"""Ledger fixtures: every ledger test runs on SQLite and on a real PostgreSQL server that
this session starts in a temporary folder (and stops at the end), against the real
sandbox over HTTP.

PostgreSQL tests are skipped only when no PostgreSQL binaries exist on this machine;
``make test`` installs Debian's ``postgresql`` package when they are missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ledger_support import PostgresServer, Sandbox, postgres_bin

from payhub_core.ledger import upgrade

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries under /usr/lib/postgresql (make test installs them)")
    server = PostgresServer(bindir).start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


def _database(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        url = server.create_database()
    upgrade(url)
    return url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def ledger_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """A freshly migrated ledger database on ``backend``."""
    return _database(request, backend, tmp_path)
