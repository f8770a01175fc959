"""The two thin stores: run a transaction body (see :mod:`._ops`) on a sync engine
(``Hub``) or an async one (``AsyncHub``), and turn every database failure into
``LedgerUnavailable``.

SQLite: WAL journal, a busy timeout, and ``BEGIN IMMEDIATE`` for writing transactions
(the write lock is taken before anything is read, so a decision is never made on state
another writer is about to change). PostgreSQL: ``SELECT ... FOR UPDATE`` row locks in
the bodies, a lock timeout and a connect timeout.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from payhub_core._errors import LedgerError, LedgerUnavailable
from payhub_core.ledger._ops import Body, Rows, Tx
from payhub_core.ledger._settings import LedgerSettings, display_url

__all__ = ["AsyncStore", "SyncStore", "translated", "upgrade"]

T = TypeVar("T")
BodyFactory = Callable[[Tx], Body[T]]

_WRITE = "payhub_ledger_write"


def _classify(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).lower()
    code = getattr(getattr(error, "orig", None), "sqlstate", None)
    if code == "55P03" or "lock timeout" in text or "database is locked" in text:
        return "locked past its timeout"
    if "readonly" in text or "read-only" in text or code == "25006":
        return "read-only"
    if "full" in text or code == "53100":
        return "full"
    if "no such table" in text or code == "42P01":
        return "without its schema (run `payhub ledger upgrade`)"
    if isinstance(error, exc.TimeoutError):
        return "busy: no connection free within the timeout"
    if isinstance(error, (exc.OperationalError, exc.InterfaceError)) or code in ("57P01", "08006"):
        return "unreachable"
    return f"failing ({type(getattr(error, 'orig', None) or error).__name__})"


NOT_SENT = "nothing was recorded and nothing was sent to the gateway to move money"


def not_recorded(operation: str) -> str:
    """What a failed write means once the gateway has been asked to ``operation``: its
    answer may have moved money, so saying "nothing was sent" would be wrong."""
    return (
        f"the gateway was asked to {operation} and its answer is not recorded; once the "
        "database is back, `payhub reconcile` settles it from the gateway's state (or lists "
        "it for an operator) without sending it again"
    )


@contextmanager
def translated(url: str, consequence: str | None = NOT_SENT) -> Iterator[None]:
    """Database failures as ``LedgerUnavailable`` (the URL shown without its password;
    the driver's own text, which may name hosts and users, is not repeated).
    ``consequence`` says what that means for the operation (``None``: nothing to add)."""
    try:
        yield
    except LedgerError:
        raise
    except (exc.DBAPIError, exc.TimeoutError, sqlite3.Error, OSError) as error:
        after = f"; {consequence}" if consequence else ""
        raise LedgerUnavailable(
            f"the ledger's database {display_url(url)} is {_classify(error)}{after}"
        ) from error


def _rows(result: Any) -> Rows:
    rows = [dict(item) for item in result.mappings()] if result.returns_rows else []
    return Rows(rows=rows, rowcount=result.rowcount)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _sqlite_setup(engine: Engine, busy_ms: int) -> None:
    """WAL, busy timeout, foreign keys; the driver's own transaction handling off, so that
    ``BEGIN IMMEDIATE`` (writes) and ``BEGIN`` (reads) are ours."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _engine_options(settings: LedgerSettings) -> tuple[str, dict[str, Any]]:
    url = settings.url.get_secret_value()
    if settings.dialect == "sqlite":
        return url, {"connect_args": {"timeout": settings.busy_timeout}}
    ms = int(settings.lock_timeout * 1000)
    return url, {
        "connect_args": {
            "connect_timeout": max(int(settings.connect_timeout), 1),
            "options": f"-c lock_timeout={ms}",
        },
        "pool_pre_ping": True,
        "pool_size": 10,
        "max_overflow": 40,
        "pool_timeout": settings.lock_timeout + settings.connect_timeout,
    }


def sync_engine(settings: LedgerSettings) -> Engine:
    url, options = _engine_options(settings)
    if settings.dialect == "sqlite":
        options["connect_args"]["check_same_thread"] = False
    engine = sa.create_engine(url, **options)
    if settings.dialect == "sqlite":
        _sqlite_setup(engine, int(settings.busy_timeout * 1000))
    return engine


def async_engine(settings: LedgerSettings) -> AsyncEngine:
    url, options = _engine_options(settings)
    parsed = make_url(url)
    if settings.dialect == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_async_engine(parsed, **options)
    if settings.dialect == "sqlite":
        _sqlite_setup(engine.sync_engine, int(settings.busy_timeout * 1000))
    return engine


class SyncStore:
    """Runs transaction bodies on a sync engine, one transaction each."""

    def __init__(self, settings: LedgerSettings) -> None:
        self.settings = settings
        self.dialect = settings.dialect
        self._url = settings.url.get_secret_value()
        with translated(self._url, None):
            self.engine = sync_engine(settings)

    def run(
        self, factory: BodyFactory[T], *, write: bool = True, consequence: str | None = None
    ) -> T:
        """Run one transaction; ``consequence`` is what a failed write means for the
        operation (by default: nothing was recorded and nothing sent)."""
        with (
            translated(self._url, (consequence or NOT_SENT) if write else None),
            self.engine.connect() as connection,
        ):
            connection = connection.execution_options(**{_WRITE: write})
            with connection.begin():
                body = factory(Tx(dialect=self.dialect, now=_now()))
                rows: Any = None
                try:
                    while True:
                        statement = body.send(rows)
                        rows = _rows(connection.execute(statement))
                except StopIteration as done:
                    value: T = done.value
                    return value

    def close(self) -> None:
        self.engine.dispose()


class AsyncStore:
    """Runs transaction bodies on an async engine (aiosqlite, psycopg async)."""

    def __init__(self, settings: LedgerSettings) -> None:
        self.settings = settings
        self.dialect = settings.dialect
        self._url = settings.url.get_secret_value()
        with translated(self._url, None):
            self.engine = async_engine(settings)

    async def run(
        self, factory: BodyFactory[T], *, write: bool = True, consequence: str | None = None
    ) -> T:
        with translated(self._url, (consequence or NOT_SENT) if write else None):
            async with self.engine.connect() as connection:
                await connection.execution_options(**{_WRITE: write})
                async with connection.begin():
                    return await self._drive(connection, factory)

    async def _drive(self, connection: AsyncConnection, factory: BodyFactory[T]) -> T:
        body = factory(Tx(dialect=self.dialect, now=_now()))
        rows: Any = None
        try:
            while True:
                statement = body.send(rows)
                rows = _rows(await connection.execute(statement))
        except StopIteration as done:
            value: T = done.value
            return value

    async def aclose(self) -> None:
        await self.engine.dispose()


def upgrade(settings: LedgerSettings | str, revision: str = "head") -> None:
    """Create or migrate the ledger's tables to ``revision`` with Alembic (what
    ``payhub ledger upgrade`` runs). Safe to run again: it does nothing when up to date."""
    from alembic import command
    from alembic.config import Config

    if isinstance(settings, str):
        settings = LedgerSettings.from_table({"url": settings})
    url = settings.url.get_secret_value()
    config = Config()
    config.set_main_option("script_location", "payhub_core.ledger:migrations")
    with translated(url, "the schema was not changed"):
        engine = sync_engine(settings)
        try:
            with engine.connect() as connection:
                connection = connection.execution_options(**{_WRITE: True})
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                connection.commit()
        finally:
            engine.dispose()
