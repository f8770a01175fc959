"""What the ledger stores: nothing secret and no card data (a canary search over every
table), and its schema only through Alembic."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from ledger_support import PLURAL_CREATE, Sandbox
from pydantic import SecretStr

from payhub_core import Card, Hub, Invoice, LedgerUnavailable, Money
from payhub_core.ledger import upgrade
from payhub_core.ledger._schema import metadata

CARD = "4012001037141112"
CVV = "987"


def _everything(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return "\n".join(
                repr(row)
                for table in metadata.sorted_tables
                for row in connection.execute(sa.select(table))
            )
    finally:
        engine.dispose()


def test_no_secret_and_no_card_data_reaches_the_database(sandbox: Sandbox, ledger_url: str) -> None:
    config = sandbox.config(ledger_url)
    settings = config["gateways"]["seamless"]
    with Hub(config) as hub:
        invoice = sandbox.invoice("CARD-", manual=True).model_copy(
            update={
                "payment_method": Card(
                    number=SecretStr(CARD),
                    cvv=SecretStr(CVV),
                    expiry_month=12,
                    expiry_year=2030,
                    holder_name="Asha Rao",
                )
            }
        )
        checkout = hub.initiate(invoice, gateway="seamless")
        stored = hub.payment(invoice.number)
        assert stored.invoice.payment_method == "card"
        assert stored.attempts[0].checkout == checkout
    dump = _everything(ledger_url)
    assert invoice.number in dump  # the dump is real
    for secret in (CARD, settings["client_secret"], settings["secret_key"]):
        assert secret not in dump
    # A three-digit CVV may turn up inside any id or time by chance: look for the field.
    assert "cvv" not in dump.lower()
    assert CARD[-4:] not in stored.invoice.model_dump_json()


def test_upgrade_is_alembic_and_can_run_again(ledger_url: str) -> None:
    upgrade(ledger_url)  # already at head: nothing to do
    engine = sa.create_engine(ledger_url)
    try:
        with engine.connect() as connection:
            names = set(sa.inspect(connection).get_table_names())
            version = connection.execute(
                sa.text("SELECT version_num FROM payhub_alembic_version")
            ).scalar_one()
    finally:
        engine.dispose()
    assert {table.name for table in metadata.sorted_tables} <= names
    assert version == "0001"


def test_the_migration_matches_the_tables_the_code_uses(ledger_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = sa.create_engine(ledger_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = [
                diff
                for diff in compare_metadata(context, metadata)
                if not (
                    isinstance(diff, tuple)
                    and diff[0] == "remove_table"
                    and diff[1].name == "payhub_alembic_version"
                )
            ]
    finally:
        engine.dispose()
    assert differences == []


def test_a_hub_without_the_schema_says_to_upgrade(sandbox: Sandbox, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    before = sandbox.counter.count("POST", PLURAL_CREATE)
    with Hub(sandbox.config(url)) as hub:
        invoice = Invoice(number="NO-SCHEMA-1", amount=Money("10.00", "INR"))
        with pytest.raises(LedgerUnavailable, match="payhub ledger upgrade"):
            hub.initiate(invoice)
    assert sandbox.counter.count("POST", PLURAL_CREATE) == before
