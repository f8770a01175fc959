"""The ledger's tables (SQLAlchemy Core). Created and migrated by Alembic only
(``payhub ledger upgrade``); the migrations in ``migrations/versions`` must match these.

Nothing secret and no card data is stored: invoices are stored without payment method
details (only their kind), evidence only as a digest, checkouts as the gateway returned
them (a reference and where to send the customer).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "attempts",
    "changes",
    "evidence",
    "metadata",
    "operations",
    "outbox",
    "payments",
    "refunds",
]

metadata = MetaData()

payments = Table(
    "payhub_payments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("invoice_number", String(100), nullable=False, unique=True),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("invoice", Text, nullable=False),
    Column("gateway", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("authorized", BigInteger, nullable=False, default=0),
    Column("captured", BigInteger, nullable=False, default=0),
    Column("refunded", BigInteger, nullable=False, default=0),
    Column("paid_twice", Boolean, nullable=False, default=False),
    Column("blocked", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("payhub_payments_status", payments.c.status, payments.c.updated_at)

attempts = Table(
    "payhub_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("payment_id", Integer, ForeignKey("payhub_payments.id"), nullable=False),
    Column("gateway", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("claim", String(64), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("reference", String(200), nullable=True),
    Column("status", String(32), nullable=False),
    Column("checkout", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("payment_id", "gateway", name="payhub_attempts_one_per_gateway"),
)
Index("payhub_attempts_reference", attempts.c.gateway, attempts.c.reference)

evidence = Table(
    "payhub_evidence",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("payment_id", Integer, ForeignKey("payhub_payments.id"), nullable=False),
    Column("gateway", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("status", String(32), nullable=False),
    Column("event_id", String(200), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

changes = Table(
    "payhub_changes",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("payment_id", Integer, ForeignKey("payhub_payments.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("gateway", String(64), nullable=False),
    Column("previous", String(32), nullable=True),
    Column("status", String(32), nullable=False),
    Column("source", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("evidence_digest", String(64), nullable=True),
    Column("reason", Text, nullable=True),
    Column("actor", String(200), nullable=True),
    UniqueConstraint("payment_id", "seq", name="payhub_changes_order"),
)

operations = Table(
    "payhub_operations",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("payment_id", Integer, ForeignKey("payhub_payments.id"), nullable=False),
    Column("gateway", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount", BigInteger, nullable=True),
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

refunds = Table(
    "payhub_refunds",
    metadata,
    Column("payment_id", Integer, ForeignKey("payhub_payments.id"), primary_key=True),
    Column("refund_id", String(200), primary_key=True),
    Column("amount", BigInteger, nullable=True),
)

outbox = Table(
    "payhub_outbox",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("payment_id", Integer, ForeignKey("payhub_payments.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("claimed_until", DateTime(timezone=True), nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("tries", Integer, nullable=False, default=0),
)
Index("payhub_outbox_pending", outbox.c.delivered_at, outbox.c.created_at)
