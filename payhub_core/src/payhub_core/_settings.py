"""The settings every adapter shares; adapters extend :class:`GatewaySettings`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

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


def secret_values(settings: BaseModel) -> list[str]:
    """Every ``SecretStr`` value in ``settings`` (nested models included), for redaction."""
    found: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            found.extend(secret_values(value))
    return [secret for secret in found if secret]


DEFAULT_SANDBOX_URL = "http://127.0.0.1:8808"


def sandbox_url(emulator: str) -> str:
    """Where an adapter with ``environment = "sandbox"`` and no ``base_url`` sends requests:
    ``$PAYHUB_SANDBOX_URL/<emulator>`` (default ``http://127.0.0.1:8808/<emulator>``), the
    address ``payhub sandbox`` listens on."""
    import os

    root = os.environ.get("PAYHUB_SANDBOX_URL", DEFAULT_SANDBOX_URL).rstrip("/")
    return f"{root}/{emulator}"
