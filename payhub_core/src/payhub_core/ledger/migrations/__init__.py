"""Alembic migrations of the ledger's schema (run with ``payhub ledger upgrade``)."""
