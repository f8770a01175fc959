"""``LedgerSettings``: the ``[ledger]`` table of a hub's configuration, validated."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from payhub_core._errors import ConfigurationError
from payhub_core._models import validation_message

__all__ = ["LedgerSettings", "display_url"]

_SCHEMES = ("sqlite", "postgresql")


class LedgerSettings(BaseModel):
    """``url`` is a SQLAlchemy URL: ``sqlite:///payhub.sqlite3`` (one machine) or
    ``postgresql+psycopg://user:password@host/db`` (many). It may hold a password, so it
    is a secret: never shown whole in reprs, errors or CLI output.

    Timeouts are seconds. ``busy_timeout`` (SQLite) and ``lock_timeout`` (PostgreSQL) bound
    how long a write waits for another's lock before ``LedgerUnavailable``;
    ``initiate_wait`` how long a concurrent ``initiate`` waits for the first caller's
    checkout; a claim older than ``claim_timeout`` without a checkout is taken as
    "unknown" (its caller crashed or hung); ``reconcile_after`` is the default age of the
    pending and unknown payments ``reconcile`` looks at.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    url: SecretStr
    busy_timeout: float = Field(default=5.0, gt=0, le=600)
    lock_timeout: float = Field(default=5.0, gt=0, le=600)
    connect_timeout: float = Field(default=5.0, gt=0, le=600)
    initiate_wait: float = Field(default=60.0, gt=0, le=3600)
    claim_timeout: float = Field(default=120.0, gt=0, le=86400)
    reconcile_after: float = Field(default=900.0, ge=0)
    poll_interval: float = Field(default=0.05, gt=0, le=10)

    @field_validator("url")
    @classmethod
    def _known_database(cls, value: SecretStr) -> SecretStr:
        scheme = value.get_secret_value().split(":", 1)[0].split("+", 1)[0]
        if scheme not in _SCHEMES:
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        return value

    @property
    def dialect(self) -> str:
        return self.url.get_secret_value().split(":", 1)[0].split("+", 1)[0]

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> LedgerSettings:
        try:
            return cls.model_validate(dict(table))
        except ValidationError as error:
            message, _ = validation_message(error)
            raise ConfigurationError(f"invalid [ledger] configuration: {message}") from None


def display_url(url: str) -> str:
    """``url`` without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown by its scheme only
        return url.split(":", 1)[0] + ":..."
