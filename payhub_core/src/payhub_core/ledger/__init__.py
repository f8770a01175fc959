"""The payment ledger: durable, concurrency-safe payment records (optional).

Install ``payhub-core[ledger]`` (SQLAlchemy, Alembic, aiosqlite; add ``[postgres]`` for
psycopg) and add a ``[ledger]`` table to the hub's configuration::

    [ledger]
    url = "sqlite:///payhub.sqlite3"      # "postgresql+psycopg://..." for many machines

Create its tables with ``payhub ledger upgrade`` (or :func:`upgrade`). The hub then makes
``initiate`` idempotent, records evidence once (``receive``), keeps status precedence and
the money invariants, and offers ``payment``, ``payments``, ``reconcile`` and ``resolve``.
See docs/ledger.md.

The names are imported on first use (PEP 562), as in :mod:`payhub_core`: every hub
imports this package for its ledger methods, and a hub without a ``[ledger]`` table
needs none of the records or settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from payhub_core._lazy import lazy_module

if TYPE_CHECKING:
    from payhub_core.ledger._records import (
        Attempt,
        Change,
        Initiation,
        MoneyOperation,
        Payment,
        Receipt,
        ReconcileReport,
        Source,
    )
    from payhub_core.ledger._settings import LedgerSettings


def upgrade(settings: LedgerSettings | str, revision: str = "head") -> None:
    """Create or migrate the ledger's tables to ``revision`` (Alembic); what ``payhub
    ledger upgrade`` runs. ``settings`` is a :class:`LedgerSettings` or a database URL.
    Running it again when up to date does nothing."""
    from payhub_core.ledger._store import upgrade as run_upgrade

    run_upgrade(settings, revision)


__all__ = [
    "Attempt",
    "Change",
    "Initiation",
    "LedgerSettings",
    "MoneyOperation",
    "Payment",
    "Receipt",
    "ReconcileReport",
    "Source",
    "upgrade",
]

_RECORDS = "payhub_core.ledger._records"
_SOURCES: dict[str, str] = {
    "Attempt": _RECORDS,
    "Change": _RECORDS,
    "Initiation": _RECORDS,
    "MoneyOperation": _RECORDS,
    "Payment": _RECORDS,
    "Receipt": _RECORDS,
    "ReconcileReport": _RECORDS,
    "Source": _RECORDS,
    "LedgerSettings": "payhub_core.ledger._settings",
}


if not TYPE_CHECKING:  # type checkers see the imports above
    __getattr__, __dir__ = lazy_module(__name__, globals(), _SOURCES)
