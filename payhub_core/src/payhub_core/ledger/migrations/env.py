"""Alembic environment of the ledger: runs on the connection ``upgrade`` passes in."""

from __future__ import annotations

from alembic import context

from payhub_core.ledger._schema import metadata

VERSION_TABLE = "payhub_alembic_version"


def run() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run()
