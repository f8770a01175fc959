"""Plural's order statuses and webhook events, and what each means as a ``PaymentStatus``.

This is the one table the adapters use (docs/plural/statuses.md prints it). Anything not
listed is reported as ``PENDING``: an unknown word from the gateway must never read as
money received.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType

from payhub_core import PaymentStatus

__all__ = [
    "ORDER_EVENTS",
    "ORDER_STATUSES",
    "REFUND_EVENTS",
    "order_status",
]

logger = logging.getLogger("payhub.plural")

ORDER_STATUSES: Mapping[str, PaymentStatus] = MappingProxyType(
    {
        "CREATED": PaymentStatus.PENDING,  # order exists, no payment yet
        "PENDING": PaymentStatus.PENDING,  # a payment is under way (3DS, UPI approval...)
        "ATTEMPTED": PaymentStatus.PENDING,  # a payment failed; the customer may retry
        "AUTHORIZED": PaymentStatus.AUTHORIZED,  # pre-auth: held, waiting for capture/cancel
        "PROCESSED": PaymentStatus.PAID,
        "CANCELLED": PaymentStatus.CANCELED,
        "FAILED": PaymentStatus.FAILED,  # no more retries
        "PARTIALLY_REFUNDED": PaymentStatus.PARTIALLY_REFUNDED,
        "FULLY_REFUNDED": PaymentStatus.REFUNDED,
    }
)
"""Plural order ``status`` -> ``PaymentStatus``."""

ORDER_EVENTS: Mapping[str, PaymentStatus] = MappingProxyType(
    {
        "ORDER_PROCESSED": PaymentStatus.PAID,
        "ORDER_AUTHORIZED": PaymentStatus.AUTHORIZED,
        "ORDER_CANCELLED": PaymentStatus.CANCELED,
        "ORDER_FAILED": PaymentStatus.FAILED,
        # A payment attempt failed. The order may be ATTEMPTED and still be paid by a
        # retry, which then sends ORDER_PROCESSED.
        "PAYMENT_FAILED": PaymentStatus.FAILED,
    }
)
"""Webhook events about an order (``data`` is the order) -> ``PaymentStatus``."""

REFUND_EVENTS = frozenset({"REFUND_PROCESSED", "REFUND_FAILED"})
"""Webhook events about a refund (``data`` is the refund order, with ``parent_order_id``)."""


def order_status(value: object) -> PaymentStatus:
    """The ``PaymentStatus`` of a Plural order status; unknown ones are ``PENDING``."""
    text = value.upper() if isinstance(value, str) else ""
    status = ORDER_STATUSES.get(text)
    if status is None:
        logger.warning("unknown Plural order status %r reported as pending", text[:40])
        return PaymentStatus.PENDING
    return status
