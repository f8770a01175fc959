"""Standard Webhooks (https://www.standardwebhooks.com/) signing and verification.

Signed content is ``webhook-id + "." + webhook-timestamp + "." + raw body``; the
``webhook-signature`` header holds one or more space-separated ``v1,<base64>`` entries
(several during key rotation). The body must be the raw bytes as received.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass

from payhub_core._errors import SignatureError
from payhub_core.signing._hmac import hmac_sha256

__all__ = ["WebhookMessage", "sign_webhook", "verify_webhook", "webhook_key"]

DEFAULT_TOLERANCE = 300
_MAX_STAMP_DIGITS = 18


@dataclass(frozen=True)
class WebhookMessage:
    """The verified envelope of a delivery: its id (the same on every retry) and time."""

    id: str
    timestamp: int


def webhook_key(secret: str, *, base64_encoded: bool = False) -> bytes:
    """The HMAC key for ``secret``: its UTF-8 bytes, or the bytes it encodes in Base64
    (``whsec_`` prefix allowed) when the provider hands out Base64 secrets."""
    if not base64_encoded:
        key = secret.encode("utf-8")
    else:
        try:
            key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except binascii.Error:
            raise ValueError("the webhook secret is not valid Base64") from None
    if not key:
        # HMAC takes an empty key, and then anybody can sign.
        raise ValueError("the webhook secret is empty")
    return key


def _content(msg_id: str, timestamp: str, body: bytes) -> bytes:
    return msg_id.encode("utf-8") + b"." + timestamp.encode("ascii") + b"." + body


def sign_webhook(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value (``v1,<base64>``) for one delivery."""
    digest = hmac_sha256(key, _content(msg_id, str(timestamp), body))
    return "v1," + base64.b64encode(digest).decode("ascii")


_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def _headers(headers: Mapping[str, str]) -> tuple[str, str, str]:
    """The three headers, each found without regard to case (the first of a name wins),
    in one pass over ``headers``."""
    found: dict[str, str] = {}
    for key, value in headers.items():
        name = key.lower()
        if name in _HEADERS and name not in found:
            found[name] = value
    for name in _HEADERS:
        if name not in found:
            raise SignatureError(f"the {name} header is missing")
    return found["webhook-id"], found["webhook-timestamp"], found["webhook-signature"]


def verify_webhook(
    key: bytes,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> WebhookMessage:
    """Check a delivery's signature and age; return its id and timestamp.

    Raises ``SignatureError`` for a missing header, a timestamp further than ``tolerance``
    seconds from ``now`` (``None`` turns the check off), or no matching ``v1`` signature.
    """
    msg_id, stamp, signatures = _headers(headers)
    stamp = stamp.strip()
    # Unix seconds: ASCII digits, and few enough of them to be a time (a 5000-digit
    # "timestamp" would make int() and the clock arithmetic raise).
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= _MAX_STAMP_DIGITS):
        raise SignatureError("the webhook-timestamp header is not a unix timestamp")
    timestamp = int(stamp)
    if tolerance is not None:
        current = time.time() if now is None else now
        if abs(current - timestamp) > tolerance:
            raise SignatureError(
                f"the webhook timestamp is more than {tolerance} s from now (replayed or "
                "clock skew)"
            )
    # sign_webhook's value without its "v1," and as bytes, as every entry is compared
    expected = base64.b64encode(hmac_sha256(key, _content(msg_id, str(timestamp), body)))
    matched = False
    for entry in signatures.split():
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(expected, value.encode("utf-8")):
            matched = True  # keep going: the time taken must not tell which entry matched
    if not matched:
        raise SignatureError("no webhook signature matches")
    return WebhookMessage(id=msg_id, timestamp=timestamp)
