"""The ledger's first schema: payments, attempts, evidence, changes, operations, refunds
and the notification outbox.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "payhub_payments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("invoice_number", sa.String(100), nullable=False, unique=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("invoice", sa.Text, nullable=False),
        sa.Column("gateway", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("authorized", sa.BigInteger, nullable=False),
        sa.Column("captured", sa.BigInteger, nullable=False),
        sa.Column("refunded", sa.BigInteger, nullable=False),
        sa.Column("paid_twice", sa.Boolean, nullable=False),
        sa.Column("blocked", sa.Boolean, nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
    )
    op.create_index("payhub_payments_status", "payhub_payments", ["status", "updated_at"])
    op.create_table(
        "payhub_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("payment_id", sa.Integer, sa.ForeignKey("payhub_payments.id"), nullable=False),
        sa.Column("gateway", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("claim", sa.String(64), nullable=False),
        sa.Column("claimed_at", _WHEN, nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("checkout", sa.Text, nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.UniqueConstraint("payment_id", "gateway", name="payhub_attempts_one_per_gateway"),
    )
    op.create_index("payhub_attempts_reference", "payhub_attempts", ["gateway", "reference"])
    op.create_table(
        "payhub_evidence",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("payment_id", sa.Integer, sa.ForeignKey("payhub_payments.id"), nullable=False),
        sa.Column("gateway", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=True),
        sa.Column("received_at", _WHEN, nullable=False),
    )
    op.create_table(
        "payhub_changes",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("payment_id", sa.Integer, sa.ForeignKey("payhub_payments.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("gateway", sa.String(64), nullable=False),
        sa.Column("previous", sa.String(32), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("evidence_digest", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.UniqueConstraint("payment_id", "seq", name="payhub_changes_order"),
    )
    op.create_table(
        "payhub_operations",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("payment_id", sa.Integer, sa.ForeignKey("payhub_payments.id"), nullable=False),
        sa.Column("gateway", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
    )
    op.create_table(
        "payhub_refunds",
        sa.Column("payment_id", sa.Integer, sa.ForeignKey("payhub_payments.id"), primary_key=True),
        sa.Column("refund_id", sa.String(200), primary_key=True),
        sa.Column("amount", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "payhub_outbox",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("payment_id", sa.Integer, sa.ForeignKey("payhub_payments.id"), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("claimed_until", _WHEN, nullable=True),
        sa.Column("delivered_at", _WHEN, nullable=True),
        sa.Column("tries", sa.Integer, nullable=False),
    )
    op.create_index("payhub_outbox_pending", "payhub_outbox", ["delivered_at", "created_at"])


def downgrade() -> None:
    for table in (
        "payhub_outbox",
        "payhub_refunds",
        "payhub_operations",
        "payhub_changes",
        "payhub_evidence",
        "payhub_attempts",
        "payhub_payments",
    ):
        op.drop_table(table)
