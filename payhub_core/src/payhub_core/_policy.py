"""What to do after each HTTP attempt: return, retry, or fail. Pure decisions, no I/O.

The one rule that matters: never repeat a request that may have reached the gateway unless
the adapter marked it idempotent. A repeated ``confirm`` or ``capture`` can charge twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone

import httpx

from payhub_core._errors import ConfigurationError, GatewayUnavailable, PayhubError
from payhub_core.flows import is_idempotent

__all__ = ["Decision", "RetryPolicy"]

# Failures before any byte reached the gateway: always safe to try again.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_BAD_ADDRESS = (httpx.UnsupportedProtocol, httpx.InvalidURL)


@dataclass(frozen=True)
class Decision:
    """``retry_in`` seconds to wait before the next attempt, or the ``error`` to raise, or
    neither: hand the response to the flow."""

    retry_in: float | None = None
    error: PayhubError | None = None


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
    ) -> Decision:
        """Decide after attempt number ``attempt`` (1-based) of ``request``."""
        can_retry = attempt <= self.max_retries
        where = f"{request.method} {request.url.host}{request.url.path}"
        if error is not None:
            if isinstance(error, _BAD_ADDRESS):
                return Decision(error=ConfigurationError(f"cannot send to {where}: bad URL"))
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
                    "reached the gateway: the outcome is unknown; check the payment's "
                    "status before trying again",
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
                    + (
                        ": the outcome is unknown; check the payment's status before trying again"
                        if unknown
                        else ""
                    ),
                    outcome_unknown=unknown,
                    http_status=status,
                )
            )
        return Decision()

    def _delay(self, attempt: int, response: httpx.Response | None = None) -> float:
        growth = 2.0 ** min(attempt - 1, 32)  # the cap below applies long before this one
        delay = self.backoff * growth * random.uniform(0.5, 1.0)  # noqa: S311
        if response is not None:
            delay = max(delay, _retry_after(response) or 0.0)
        return min(delay, self.max_delay)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        from email.utils import parsedate_to_datetime  # rare: an HTTP-date Retry-After

        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
