"""The emulator's in-memory state: tokens, orders (charges and refunds), configuration."""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from payhub_plural.sandbox._constants import (
    CLIENT_SECRET,
    DEFAULT_REORDER_DELAY,
    DEFAULT_SLOW_SECONDS,
    DEFAULT_TOKEN_TTL,
    MERCHANT_ID,
)
from payhub_plural.sandbox._scenarios import Scenario
from payhub_plural.sandbox._validation import Amount

__all__ = ["Order", "Payment", "SandboxConfig", "Store", "iso_time"]

_ALNUM = string.ascii_letters + string.digits


def iso_time(epoch: float) -> str:
    """``2024-07-15T05:44:51.174Z``: UTC, milliseconds, as Plural writes timestamps."""
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass
class SandboxConfig:
    """What ``PUT /_sandbox/config`` changes."""

    webhook_url: str | None = None
    webhook_secret: str = CLIENT_SECRET
    token_ttl: float = DEFAULT_TOKEN_TTL
    slow_seconds: float = DEFAULT_SLOW_SECONDS
    reorder_delay: float = DEFAULT_REORDER_DELAY

    def as_json(self) -> dict[str, Any]:
        return {
            "webhook_url": self.webhook_url,
            "webhook_secret": self.webhook_secret,
            "token_ttl": self.token_ttl,
            "slow_seconds": self.slow_seconds,
            "reorder_delay": self.reorder_delay,
        }


@dataclass
class Payment:
    id: str
    reference: str
    status: str  # PENDING | AUTHORIZED | PROCESSED | CANCELLED | FAILED
    amount: Amount
    method: str
    option: dict[str, Any]
    created_at: float
    updated_at: float
    error: tuple[str, str] | None = None
    acquirer_data: dict[str, Any] | None = None
    captures: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "merchant_payment_reference": self.reference,
            "status": self.status,
            "payment_amount": self.amount.as_json(),
            "payment_method": self.method,
            "payment_option": self.option,
        }
        if self.acquirer_data is not None:
            data["acquirer_data"] = self.acquirer_data
        if self.error is not None:
            data["error_detail"] = {"code": self.error[0], "message": self.error[1]}
        if self.captures:
            data["capture_data"] = self.captures
        data["created_at"] = iso_time(self.created_at)
        data["updated_at"] = iso_time(self.updated_at)
        return data


@dataclass
class Order:
    """A charge order, or a refund order (``type == "REFUND"``, with ``parent_order_id``)."""

    order_id: str
    reference: str
    type: str  # CHARGE | REFUND
    status: str
    amount: Amount
    pre_auth: bool
    integration_mode: str
    created_at: float
    updated_at: float
    scenario: Scenario | None = None
    allowed_payment_methods: tuple[str, ...] | None = None
    notes: str | None = None
    callback_url: str | None = None
    failure_callback_url: str | None = None
    purchase_details: dict[str, Any] | None = None
    payments: list[Payment] = field(default_factory=list)
    refund_ids: list[str] = field(default_factory=list)
    parent_order_id: str | None = None
    checkout_token: str | None = None
    challenge_url: str | None = None
    captured: int | None = None  # paise captured on a pre-auth order
    refunded: int = 0  # paise refunded so far (charges)
    merchant_metadata: dict[str, str] | None = None  # refunds

    def touch(self) -> None:
        self.updated_at = max(time.time(), self.updated_at)

    @property
    def payment(self) -> Payment | None:
        return self.payments[-1] if self.payments else None

    @property
    def paid(self) -> int:
        """Paise the merchant received: the capture on a pre-auth order, else the amount."""
        if self.captured is not None:
            return self.captured
        return self.amount.value if self.status in _PAID_STATES else 0

    @property
    def refundable(self) -> int:
        return self.paid - self.refunded


_PAID_STATES = frozenset({"PROCESSED", "PARTIALLY_REFUNDED", "FULLY_REFUNDED"})


class Store:
    """Everything one emulator instance knows. Handlers run on one event loop and never
    await between reading and writing, so no lock is needed."""

    def __init__(self) -> None:
        self.config = SandboxConfig()
        self.tokens: dict[str, float] = {}  # access token -> expiry (epoch seconds)
        self.orders: dict[str, Order] = {}
        self.by_reference: dict[str, str] = {}
        self.checkout_tokens: dict[str, str] = {}  # hosted redirect token -> order id
        self.challenge_tokens: dict[str, str] = {}  # seamless challenge token -> order id
        self.tripped: set[str] = set()  # references whose token-expiry scenario has fired

    # tokens

    def issue_token(self) -> tuple[str, float]:
        token = "sbx." + secrets.token_urlsafe(32)
        expires = time.time() + self.config.token_ttl
        self.tokens[token] = expires
        return token, expires

    def token_valid(self, token: str) -> bool:
        expires = self.tokens.get(token)
        return expires is not None and time.time() < expires

    def expire_tokens(self) -> int:
        now = time.time()
        live = [token for token, expires in self.tokens.items() if expires > now]
        for token in live:
            self.tokens[token] = now
        return len(live)

    # orders

    def new_order_id(self) -> str:
        while True:
            order_id = f"v1-{_random(string.digits, 10)}-aa-{_random(_ALNUM, 6)}"
            if order_id not in self.orders:
                return order_id

    def new_token(self) -> str:
        return secrets.token_urlsafe(24)

    def add(self, order: Order) -> Order:
        self.orders[order.order_id] = order
        self.by_reference[order.reference] = order.order_id
        return order

    def find(self, order_id: str) -> Order | None:
        return self.orders.get(order_id)

    def find_reference(self, reference: str) -> Order | None:
        order_id = self.by_reference.get(reference)
        return None if order_id is None else self.orders[order_id]

    def order_json(self, order: Order) -> dict[str, Any]:
        """The Order object as Plural's API reference lists its fields (Create Order's
        response), ``None`` fields left out."""
        data: dict[str, Any] = {
            "order_id": order.order_id,
            "parent_order_id": order.parent_order_id,
            "merchant_order_reference": order.reference,
            "type": order.type,
            "status": order.status,
            "challenge_url": order.challenge_url,
            "merchant_id": MERCHANT_ID,
            "order_amount": order.amount.as_json(),
            "pre_auth": order.pre_auth,
            "part_payment": False,
            "allowed_payment_methods": (
                list(order.allowed_payment_methods) if order.allowed_payment_methods else None
            ),
            "notes": order.notes,
            "callback_url": order.callback_url,
            "failure_callback_url": order.failure_callback_url,
            "purchase_details": order.purchase_details,
            "merchant_metadata": order.merchant_metadata,
            "payments": [payment.as_json() for payment in order.payments],
            "created_at": iso_time(order.created_at),
            "updated_at": iso_time(order.updated_at),
            "integration_mode": order.integration_mode,
        }
        if order.type == "CHARGE":
            data["refunds"] = [self._refund_summary(self.orders[i]) for i in order.refund_ids]
        return {key: value for key, value in data.items() if value is not None}

    @staticmethod
    def _refund_summary(refund: Order) -> dict[str, Any]:
        return {
            "order_id": refund.order_id,
            "merchant_order_reference": refund.reference,
            "status": refund.status,
            "refund_amount": refund.amount.as_json(),
            "created_at": iso_time(refund.created_at),
        }
