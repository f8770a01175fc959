"""Plural webhooks: Standard Webhooks signatures over the raw body, then the event.

Headers ``webhook-id`` (the same on every redelivery), ``webhook-timestamp`` (unix
seconds) and ``webhook-signature`` (``v1,<base64>``, several during key rotation); the
signed content is ``id.timestamp.raw_body``. The body is
``{"event_type": "...", "data": <order or refund order>}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from payhub_core import Callback, MalformedCallback, UnsupportedOperation
from payhub_core.signing import verify_webhook

__all__ = ["SIGNATURE_HEADER", "UnsupportedEvent", "WebhookEvent", "is_webhook", "read_event"]

SIGNATURE_HEADER = "webhook-signature"


class UnsupportedEvent(UnsupportedOperation):
    """A correctly signed webhook that is not about a payment (``CUSTOMER_*``, ``TOKEN_*``,
    ``SUBSCRIPTION_*``...). Answer it with 2xx so that Plural stops redelivering it.

    ``event_id`` and ``event_type`` say which delivery it was.
    """

    def __init__(self, message: str, *, event_id: str, event_type: str) -> None:
        super().__init__(message, operation="verify")
        self.event_id = event_id
        self.event_type = event_type


@dataclass(frozen=True)
class WebhookEvent:
    """A delivery whose signature and age were checked."""

    event_id: str
    event_type: str
    data: Mapping[str, Any]
    payload: Mapping[str, Any]


def is_webhook(callback: Callback) -> bool:
    """Webhooks carry ``webhook-signature``; browser returns never do."""
    return callback.header(SIGNATURE_HEADER) is not None


def read_event(callback: Callback, key: bytes, *, tolerance: int, now: float) -> WebhookEvent:
    """Verify a delivery (``SignatureError`` when it does not check out) and read it
    (``MalformedCallback`` when the signed body is not a Plural event)."""
    message = verify_webhook(key, callback.headers, callback.body, tolerance=tolerance, now=now)
    payload = callback.json()
    if not isinstance(payload, dict):
        raise MalformedCallback("the Plural webhook body is not a JSON object")
    event_type = payload.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        raise MalformedCallback("the Plural webhook has no event_type")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise MalformedCallback(f"the Plural {event_type} webhook has no data object")
    return WebhookEvent(
        event_id=message.id, event_type=event_type.upper(), data=data, payload=payload
    )
