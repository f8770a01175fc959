"""What to do after each HTTP attempt: return, retry, or fail. Pure decisions, no I/O.

The one rule that matters: never repeat a request that may have reached the gateway unless
the adapter marked it idempotent. A repeated ``confirm`` or ``capture`` can charge twice.

Two more bound every call: a wait that would end past the operation's deadline is not
waited (the call gives up now with the error it would give after its last retry), and an
answer the gateway sends only after ``Retry-After`` seconds is waited for only as far as
``max_delay``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timezone

import httpx

from payhub_core._errors import (
    ConfigurationError,
    GatewayUnavailable,
    PayhubError,
    ResponseTooLarge,
)
from payhub_core.flows import is_idempotent

__all__ = ["Decision", "RetryPolicy", "unknown_outcome_advice"]

# Failures before any byte reached the gateway: always safe to try again.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_BAD_ADDRESS = (httpx.UnsupportedProtocol, httpx.InvalidURL)
# RFC 9110 delta-seconds: ASCII digits only (str.isdigit() also takes '²' and '٣').
_DELTA_SECONDS = re.compile(r"[0-9]+")
_LONGEST_WAIT = 10**6  # seconds; any Retry-After above it means the same: "not soon"


def unknown_outcome_advice(status_check: bool) -> str:
    """What to do when a request that may have moved money has an unknown outcome. Only a
    gateway that offers ``status`` can be asked; for the others the merchant dashboard (or
    the gateway's operator) is the record to reconcile with."""
    if status_check:
        return "the outcome is unknown; check the payment's status before trying again"
    return (
        "the outcome is unknown; this gateway offers no status query, so check the payment "
        "in the gateway's merchant dashboard (or ask its operator) before trying again"
    )


@dataclass(frozen=True)
class Decision:
    """``retry_in`` seconds to wait before the next attempt, or the ``error`` to raise, or
    neither: hand the response to the flow."""

    retry_in: float | None = None
    error: PayhubError | None = None


_PROCEED = Decision()
"""The decision for nearly every attempt (an answer below 500, not 429): built once."""


def _where(request: httpx.Request) -> str:
    url = request.url
    port = f":{url.port}" if url.port is not None else ""
    return f"{request.method} {url.host}{port}{url.path}"


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    backoff: float = 0.25
    max_delay: float = 5.0

    def after(
        self,
        request: httpx.Request,
        attempt: int,
        response: httpx.Response | None,
        error: Exception | None,
        *,
        remaining: float | None = None,
        status_check: bool = True,
    ) -> Decision:
        """Decide after attempt number ``attempt`` (1-based) of ``request``.

        ``remaining`` is what is left of the operation's deadline (``None``: no deadline):
        a retry whose wait would not end before it is not made. ``status_check`` says
        whether the gateway offers ``status``, for the advice of an unknown outcome.
        """
        decision = self._decide(request, attempt, response, error, status_check, retry=True)
        if (
            decision.retry_in is not None
            and remaining is not None
            and decision.retry_in >= remaining
        ):
            decision = self._decide(request, attempt, response, error, status_check, retry=False)
        return decision

    def _decide(
        self,
        request: httpx.Request,
        attempt: int,
        response: httpx.Response | None,
        error: Exception | None,
        status_check: bool,
        *,
        retry: bool,
    ) -> Decision:
        if error is None and response is not None:
            status = response.status_code
            if status < 500 and status != 429:
                return _PROCEED  # before formatting anything: every 2xx passes here
        can_retry = retry and attempt <= self.max_retries
        where = _where(request)
        if error is not None:
            if isinstance(error, _BAD_ADDRESS):
                return Decision(error=ConfigurationError(f"cannot send to {where}: bad URL"))
            if isinstance(error, httpx.LocalProtocolError):
                # httpx/h11 refused to put the request on the wire (a header value with a
                # newline, say): nothing was sent, and repeating it would fail the same way.
                return Decision(
                    error=ConfigurationError(
                        f"cannot send {where}: the HTTP layer refused the request before "
                        f"sending it ({type(error).__name__}: a header or the URL is not "
                        "valid HTTP); nothing was sent. Check the gateway's settings"
                    )
                )
            if isinstance(error, _NEVER_SENT):
                if can_retry:
                    return Decision(retry_in=self._delay(attempt))
                return Decision(
                    error=GatewayUnavailable(
                        f"could not connect for {where} ({type(error).__name__}); nothing "
                        "was sent, so it is safe to try again later",
                        outcome_unknown=False,
                    )
                )
            if is_idempotent(request) and can_retry:
                return Decision(retry_in=self._delay(attempt))
            kind = "timed out" if isinstance(error, httpx.TimeoutException) else "failed"
            if is_idempotent(request):
                # Repeating it was harmless and did not help: nothing to reconcile.
                return Decision(
                    error=GatewayUnavailable(
                        f"{where} {kind} ({type(error).__name__}) {attempt} times; try again later",
                        outcome_unknown=False,
                    )
                )
            return Decision(
                error=GatewayUnavailable(
                    f"{where} {kind} ({type(error).__name__}) after the request may have "
                    f"reached the gateway: {unknown_outcome_advice(status_check)}",
                    outcome_unknown=True,
                )
            )
        assert response is not None
        status = response.status_code
        if status == 429:
            # The gateway refused to process it: repeating cannot double anything.
            if can_retry:
                return Decision(retry_in=self._delay(attempt, response))
            return Decision(
                error=GatewayUnavailable(
                    f"{where} was rate limited (HTTP 429); nothing was done, try again later",
                    outcome_unknown=False,
                    http_status=status,
                )
            )
        if status >= 500:
            if is_idempotent(request) and can_retry:
                return Decision(retry_in=self._delay(attempt, response))
            unknown = not is_idempotent(request)
            return Decision(
                error=GatewayUnavailable(
                    f"{where} answered HTTP {status}"
                    + (f": {unknown_outcome_advice(status_check)}" if unknown else ""),
                    outcome_unknown=unknown,
                    http_status=status,
                )
            )
        return Decision()

    def past_deadline(
        self,
        request: httpx.Request,
        deadline: float,
        error: Exception | None,
        *,
        sent: bool,
        status_check: bool = True,
    ) -> GatewayUnavailable:
        """The error for an operation that ran out of its ``deadline`` (seconds) during
        ``request``. ``sent`` says whether the request may have reached the gateway; a
        request the adapter marked idempotent changed nothing either way."""
        where = _where(request)
        cause = f" ({type(error).__name__})" if error is not None else ""
        if not sent or isinstance(error, _NEVER_SENT):
            return GatewayUnavailable(
                f"{where} could not be sent within the operation's {deadline:g} s "
                f"deadline{cause}; nothing was sent, so it is safe to try again later",
                outcome_unknown=False,
            )
        if is_idempotent(request):
            return GatewayUnavailable(
                f"{where} did not finish within the operation's {deadline:g} s "
                f"deadline{cause}; try again later",
                outcome_unknown=False,
            )
        return GatewayUnavailable(
            f"{where} did not finish within the operation's {deadline:g} s deadline{cause} "
            f"after the request may have reached the gateway: "
            f"{unknown_outcome_advice(status_check)}",
            outcome_unknown=True,
        )

    def too_large(
        self, request: httpx.Request, status: int, limit: int, status_check: bool = True
    ) -> ResponseTooLarge:
        """The error for an answer (HTTP ``status``) larger than ``limit`` bytes, counted
        after decompression."""
        unknown = not is_idempotent(request)
        return ResponseTooLarge(
            f"{_where(request)}: the answer (HTTP {status}) is larger than "
            f"max_response_bytes ({limit} bytes, decompressed), so it was not read"
            + (f": {unknown_outcome_advice(status_check)}" if unknown else ""),
            limit=limit,
            outcome_unknown=unknown,
            http_status=status,
        )

    def _delay(self, attempt: int, response: httpx.Response | None = None) -> float:
        growth = 2.0 ** min(attempt - 1, 32)  # the cap below applies long before this one
        delay = self.backoff * growth * random.uniform(0.5, 1.0)  # noqa: S311
        if response is not None:
            delay = max(delay, retry_after(response) or 0.0)
        return min(delay, self.max_delay)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the ``Retry-After`` header asks to wait, or ``None`` when it is absent or
    is neither delta-seconds (ASCII digits) nor an HTTP-date. A date in the past is 0."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip(" \t")
    if _DELTA_SECONDS.fullmatch(value):
        return float(min(int(value), _LONGEST_WAIT))
    if not value.isascii() or not any(char.isalpha() for char in value):
        return None  # an HTTP-date names its day and month: "-5", "1.5" are neither form
    from email.utils import parsedate_to_datetime  # rare: an HTTP-date Retry-After

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return min(max(0.0, (when - datetime.now(timezone.utc)).total_seconds()), _LONGEST_WAIT)
