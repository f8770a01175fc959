"""The access-token cache of one adapter instance.

Plural's token endpoint answers ``expires_at`` (an ISO timestamp, in the API reference and
the SDKs) or ``expires_in`` (seconds, in the integration guides); when both come, the
earlier expiry wins. A token is used until shortly before it expires, so that a request
never leaves with a token that dies in flight.

The cache itself is lock-free: it holds one immutable :class:`Token` and replacing it is
a single attribute assignment. Making concurrent callers wait for one token request is
the driver's job (``flows.exclusive``); see ``_base.PluralAdapter._token``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from payhub_core.redaction import MASK

__all__ = ["DEFAULT_LIFETIME", "Token", "TokenCache", "parse_expiry"]

Clock = Callable[[], float]

DEFAULT_LIFETIME = 3000.0
"""Seconds to keep a token whose response gives no expiry (the official MCP server caches
tokens for a fixed 3000 s). A shorter real lifetime is caught by the 401 refresh."""

REFRESH_MARGIN = 60.0
"""Refresh this long before expiry (at most half the lifetime, for short-lived tokens)."""

MIN_LIFETIME = 30.0
"""Floor on a token's lifetime. An ``expires_at`` already in the past by our clock means
the clocks disagree, not that the fresh token is dead; without a floor every call would
fetch a new token."""

_FRACTION = re.compile(r"\.(\d+)")


class Token:
    """An access token and the clock time after which it is not used. The value never
    shows in ``repr``."""

    __slots__ = ("refresh_at", "value")

    def __init__(self, value: str, refresh_at: float) -> None:
        self.value = value
        self.refresh_at = refresh_at

    def __repr__(self) -> str:
        return f"Token(value={MASK!r}, refresh_at={self.refresh_at})"


class TokenCache:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._token: Token | None = None

    def current(self) -> str | None:
        """The cached token if it is still good for a while, else ``None``."""
        token = self._token
        if token is None or self.clock() >= token.refresh_at:
            return None
        return token.value

    def store(self, value: str, *, received_at: float, expires_at: float) -> None:
        lifetime = max(expires_at - received_at, MIN_LIFETIME)
        margin = min(REFRESH_MARGIN, lifetime / 2)
        self._token = Token(value, received_at + lifetime - margin)

    def invalidate(self, value: str) -> None:
        """Drop ``value`` (the gateway refused it), unless another token replaced it."""
        token = self._token
        if token is not None and token.value == value:
            self._token = None

    def __repr__(self) -> str:
        return f"TokenCache(token={self._token!r})"


def parse_expiry(body: dict[str, Any], now: float) -> float:
    """The expiry (clock seconds) a token response states, or ``now + DEFAULT_LIFETIME``.

    Raises ``ValueError`` for an ``expires_at``/``expires_in`` that is present but not a
    timestamp or a number of seconds.
    """
    candidates: list[float] = []
    expires_in = body.get("expires_in")
    if expires_in is not None:
        if isinstance(expires_in, bool):
            raise ValueError("expires_in is not a number")
        seconds = float(expires_in)  # int, float or numeric text; ValueError otherwise
        if seconds != seconds or seconds in (float("inf"), float("-inf")):
            raise ValueError("expires_in is not a finite number")
        candidates.append(now + seconds)
    expires_at = body.get("expires_at")
    if expires_at is not None:
        if not isinstance(expires_at, str):
            raise ValueError("expires_at is not a timestamp")
        candidates.append(parse_timestamp(expires_at))
    return min(candidates) if candidates else now + DEFAULT_LIFETIME


def parse_timestamp(text: str) -> float:
    """An ISO-8601 timestamp (``2024-06-28T13:26:06.909140Z``) as unix seconds.

    Python 3.10's ``fromisoformat`` takes neither ``Z`` nor fractions other than 3 or 6
    digits, so both are normalised first. A timestamp without an offset is UTC.
    """
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    value = _FRACTION.sub(lambda match: "." + (match.group(1) + "000000")[:6], value, count=1)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()
