"""The settings every adapter shares; adapters extend :class:`GatewaySettings`."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretBytes, SecretStr, field_validator

__all__ = ["DEFAULT_SANDBOX_URL", "GatewaySettings", "sandbox_url", "secret_values"]


class GatewaySettings(BaseModel):
    """Base for an adapter's ``Settings``: driver knobs the hub reads for every gateway.

    ``environment`` is the adapter's to define (narrow it with a ``Literal``). Timeouts are
    seconds. ``max_retries`` bounds retries of requests that are safe to repeat;
    ``retry_backoff`` is the first delay, doubled each time, with jitter.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    environment: str
    base_url: str | None = None
    timeout: float = Field(default=30.0, gt=0)
    connect_timeout: float = Field(default=10.0, gt=0)
    max_retries: int = Field(default=2, ge=0, le=10)
    retry_backoff: float = Field(default=0.25, ge=0)

    @field_validator("base_url")
    @classmethod
    def _plain_root(cls, value: str | None) -> str | None:
        """A gateway root the adapter appends API paths to: absolute http(s), no query or
        fragment (they would end up in the middle of every URL), no trailing slash."""
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query string or fragment")
        return value.rstrip("/")


def secret_values(settings: BaseModel) -> list[str]:
    """Every secret value in ``settings``, for redaction: ``SecretStr`` and ``SecretBytes``
    fields, also inside nested models, mappings and sequences."""
    found: list[str] = []
    for name in type(settings).model_fields:
        _collect(getattr(settings, name), found)
    return [secret for secret in found if secret]


def _collect(value: object, found: list[str]) -> None:
    if isinstance(value, SecretStr):
        found.append(value.get_secret_value())
    elif isinstance(value, SecretBytes):
        found.append(value.get_secret_value().decode("utf-8", "replace"))
    elif isinstance(value, BaseModel):
        found.extend(secret_values(value))
    elif isinstance(value, Mapping):
        for item in value.values():
            _collect(item, found)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _collect(item, found)


DEFAULT_SANDBOX_URL = "http://127.0.0.1:8808"


def sandbox_url(emulator: str) -> str:
    """Where an adapter with ``environment = "sandbox"`` and no ``base_url`` sends requests:
    ``$PAYHUB_SANDBOX_URL/<emulator>`` (default ``http://127.0.0.1:8808/<emulator>``), the
    address ``payhub sandbox`` listens on."""
    import os

    root = os.environ.get("PAYHUB_SANDBOX_URL", DEFAULT_SANDBOX_URL).rstrip("/")
    return f"{root}/{emulator}"
