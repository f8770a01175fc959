"""The settings every adapter shares; adapters extend :class:`GatewaySettings`."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from payhub_core.redaction import secret_fields, secret_problem, secret_values

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_SANDBOX_URL",
    "GatewaySettings",
    "sandbox_url",
    "secret_values",
]

DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024
"""4 MiB: a JSON API's answer is a few KiB; anything near this is not one."""

_MAX_SECONDS = 3600.0  # an hour: every knob in seconds is finite and bounded


class GatewaySettings(BaseModel):
    """Base for an adapter's ``Settings``: driver knobs the hub reads for every gateway.

    ``environment`` is the adapter's to define (narrow it with a ``Literal``). Timeouts are
    seconds, finite, at most an hour. ``max_retries`` bounds retries of requests that are
    safe to repeat; ``retry_backoff`` is the first delay, doubled each time, with jitter.
    ``deadline`` bounds a whole operation (every request, retry and wait in it; default:
    derived from the timeouts and the retry budget). ``max_response_bytes`` bounds an
    answer after decompression.

    Every secret (``SecretStr``) field, in this model or an adapter's, must pass
    :func:`payhub_core.redaction.secret_problem`: at least 6 characters of printable
    ASCII without surrounding whitespace. The error names the field, never the value.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    environment: str
    base_url: str | None = None
    timeout: float = Field(default=30.0, gt=0, le=_MAX_SECONDS, allow_inf_nan=False)
    connect_timeout: float = Field(default=10.0, gt=0, le=_MAX_SECONDS, allow_inf_nan=False)
    max_retries: int = Field(default=2, ge=0, le=10)
    retry_backoff: float = Field(default=0.25, ge=0, le=_MAX_SECONDS, allow_inf_nan=False)
    deadline: float | None = Field(default=None, gt=0, le=_MAX_SECONDS, allow_inf_nan=False)
    max_response_bytes: int = Field(default=DEFAULT_MAX_RESPONSE_BYTES, ge=1024, le=2**30)

    @field_validator("base_url")
    @classmethod
    def _plain_root(cls, value: str | None) -> str | None:
        """A gateway root the adapter appends API paths to: absolute http(s), no query or
        fragment (they would end up in the middle of every URL), no credentials (they would
        show in every log line and repr; put them in the adapter's secret settings), no
        trailing slash."""
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            hostname = parts.hostname
            parts.port  # noqa: B018 - a port that is not a number raises here
        except ValueError:
            raise ValueError("must be an absolute http(s) URL") from None
        if parts.scheme not in ("http", "https") or not hostname:
            raise ValueError("must be an absolute http(s) URL")
        if "@" in parts.netloc:
            raise ValueError(
                "must not carry credentials (user:password@); use the adapter's secret settings"
            )
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query string or fragment")
        return value.rstrip("/")

    @field_validator("timeout", "connect_timeout", "retry_backoff", "deadline", mode="after")
    @classmethod
    def _finite_seconds(cls, value: float | None, info: ValidationInfo) -> float | None:
        """Also for an adapter that redefines one of these fields with a default of its
        own (and so drops the constraints above): ``inf`` would overflow the clock,
        ``nan`` compares false with everything."""
        if value is None:
            return None
        if not math.isfinite(value) or value > _MAX_SECONDS:
            raise ValueError(f"must be a finite number of seconds, at most {_MAX_SECONDS:g}")
        if value < 0 or (value == 0 and info.field_name != "retry_backoff"):
            raise ValueError("must be greater than 0")
        return value

    @field_validator("*")
    @classmethod
    def _usable_secrets(cls, value: Any, info: ValidationInfo) -> Any:
        """Secrets are checked when the settings are built, so a bad one is a
        ``ConfigurationError`` naming its field, not a request refused half-way."""
        for _, secret in secret_fields(value):
            problem = secret_problem(secret)
            if problem is not None:
                raise ValueError(f"is a secret and {problem}")
        return value


def default_deadline(
    timeout: float, connect_timeout: float, max_retries: int, backoff: float, max_delay: float
) -> float:
    """The deadline of an operation whose gateway sets none: every attempt the retry
    budget allows, each taking its full connect and read timeouts, and the longest waits
    between them. A call that takes longer is stuck, not slow."""
    attempts = max_retries + 1
    waits = sum(min(backoff * 2.0**attempt, max_delay) for attempt in range(max_retries))
    return attempts * (connect_timeout + timeout) + waits


DEFAULT_SANDBOX_URL = "http://127.0.0.1:8808"


def sandbox_url(emulator: str) -> str:
    """Where an adapter with ``environment = "sandbox"`` and no ``base_url`` sends requests:
    ``$PAYHUB_SANDBOX_URL/<emulator>`` (default ``http://127.0.0.1:8808/<emulator>``), the
    address ``payhub sandbox`` listens on."""
    import os

    root = os.environ.get("PAYHUB_SANDBOX_URL", DEFAULT_SANDBOX_URL).rstrip("/")
    return f"{root}/{emulator}"
