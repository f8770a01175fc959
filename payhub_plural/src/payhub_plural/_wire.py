"""Plural on the wire: paths, headers, amounts, and reading answers into clean results.

Everything that leaves here is either a parsed value or a payhub error: a body that is
not what Plural documents becomes ``GatewayError`` (from the API) or ``MalformedCallback``
(from a webhook), never a ``KeyError`` or a pydantic error.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx

from payhub_core import (
    GatewayError,
    GatewayUnavailable,
    InvalidRequest,
    Money,
    PaymentResult,
    PaymentStatus,
)
from payhub_core.redaction import scrub
from payhub_plural._status import order_status

__all__ = [
    "CURRENCIES",
    "MAX_MINOR",
    "MIN_MINOR",
    "REFERENCE",
    "Answer",
    "Order",
    "Wire",
    "check_reference",
    "gateway_error",
    "parse_order",
    "read_json",
    "request_timestamp",
    "wire_amount",
]

TOKEN_PATH = "/api/auth/v1/token"  # noqa: S105 - a path, not a password
CHECKOUT_PATH = "/api/checkout/v1/orders"
ORDERS_PATH = "/api/pay/v1/orders"
REFUNDS_PATH = "/api/pay/v1/refunds"

CURRENCIES = frozenset({"INR"})
"""Plural's documents show INR only: amounts are paise and the limits are in rupees."""

MIN_MINOR = 100
"""₹1.00, the smallest order, capture or refund Plural takes."""
MAX_MINOR = 100_000_000
"""₹10,00,000.00 (ten lakh), the largest order Plural documents."""

REFERENCE = re.compile(r"[A-Za-z0-9_-]{1,50}")
"""Plural's merchant references and order ids: 1-50 of ``A-Z a-z 0-9 - _``. Checking an
order id before it goes into a URL path also keeps ``../`` and ``?`` out of the path."""

_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_MESSAGE_LIMIT = 300


def request_timestamp(now: float) -> str:
    """``2024-07-09T07:57:08.022Z``: UTC, milliseconds, ``Z``.

    Every request carries one, so it is formatted with ``time.gmtime`` rather than through
    a ``datetime``; the microseconds are rounded as ``datetime.fromtimestamp`` rounds them
    (half to even, carrying into the second), so the text is the same.
    """
    seconds, fraction = divmod(now, 1)
    micro = round(fraction * 1e6)
    if micro >= 1_000_000:
        seconds += 1
        micro -= 1_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(seconds)) + f"{micro // 1000:03d}Z"


_DECIMAL_JSON = json.JSONDecoder(parse_float=Decimal)


def _json_body(content: bytes) -> Any:
    """``json.loads(content, parse_float=Decimal)`` without building a decoder per call."""
    return _DECIMAL_JSON.decode(content.decode(json.detect_encoding(content), "surrogatepass"))


class Wire:
    """Builds Plural requests: the root URL, JSON bodies, and the headers every call has
    (``Request-ID``, ``Request-Timestamp``, and the bearer token except for the token
    request itself)."""

    def __init__(self, root: str, clock: Callable[[], float]) -> None:
        self.root = root
        self.clock = clock

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> httpx.Request:
        headers = {
            "Accept": "application/json",
            "Request-ID": str(uuid.uuid4()),
            "Request-Timestamp": request_timestamp(self.clock()),
        }
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if body is None:
            return httpx.Request(method, self.root + path, headers=headers)
        return httpx.Request(method, self.root + path, headers=headers, json=dict(body))


def check_reference(value: object, field: str) -> str:
    """``value`` if it is a valid Plural reference, else ``InvalidRequest`` (nothing sent)."""
    if not isinstance(value, str) or not REFERENCE.fullmatch(value):
        raise InvalidRequest(
            f"{field} must be 1 to 50 characters of A-Z, a-z, 0-9, '-' and '_' for Plural",
            field=field,
            rule="1-50 of [A-Za-z0-9_-]",
        )
    return value


def wire_amount(amount: Money, field: str = "amount") -> dict[str, Any]:
    """``{"value": <paise>, "currency": "INR"}``, or ``InvalidRequest`` for an amount
    Plural would refuse (another currency, under ₹1, over ₹10 lakh)."""
    if amount.currency not in CURRENCIES:
        raise InvalidRequest(
            f"Plural takes INR only, not {amount.currency}",
            field=f"{field}.currency",
            rule="one of " + ", ".join(sorted(CURRENCIES)),
        )
    minor = amount.minor_units
    if not MIN_MINOR <= minor <= MAX_MINOR:
        raise InvalidRequest(
            f"Plural takes amounts from 1.00 to 1000000.00 INR, not {amount}",
            field=field,
            rule=f"{MIN_MINOR} to {MAX_MINOR} paise",
        )
    return {"value": minor, "currency": amount.currency}


def _clean_text(value: object, secrets: Iterable[str]) -> str | None:
    """Gateway text fit for an exception: printable, bounded, without ``secrets`` and
    without card numbers (each keeps only its last four digits, as PCI DSS allows),
    whichever call it came back from."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = "".join(char if char.isprintable() else " " for char in value).strip()
    return scrub(text, secrets)[:_MESSAGE_LIMIT]


def gateway_error(
    response: httpx.Response, what: str, secrets: Iterable[str] = ()
) -> GatewayError | GatewayUnavailable:
    """The payhub error for a non-2xx answer.

    Plural's body is ``{code, message, additional_error_details}``; the token endpoint may
    also answer ``{error, error_description}``. A body that is none of these still gives a
    clean error naming the HTTP status. ``secrets`` (card number, CVV, access token) are
    cut out of the gateway's text in case it echoes them.
    """
    secrets = tuple(secrets)
    status = response.status_code
    code: str | None = None
    message: str | None = None
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = None
    if isinstance(body, dict):
        for key in ("code", "error", "type"):
            candidate = body.get(key)
            if isinstance(candidate, str) and _CODE.fullmatch(candidate):
                code = candidate
                break
        message = _clean_text(body.get("message"), secrets) or _clean_text(
            body.get("error_description"), secrets
        )
        details = body.get("additional_error_details")
        reason = _clean_text(details.get("reason"), secrets) if isinstance(details, dict) else None
        if reason and message:
            message = f"{message} ({reason})"[:_MESSAGE_LIMIT]
        elif reason:
            message = reason
    if status == 429 or status >= 500:
        # The core driver already turns these into GatewayUnavailable before the adapter
        # sees them; this keeps the adapter right when driven some other way.
        outcome = "nothing was done, try again later" if status == 429 else "the outcome is unknown"
        return GatewayUnavailable(
            f"Plural answered {what} with HTTP {status}{f' {code}' if code else ''}; {outcome}",
            outcome_unknown=status != 429,
            http_status=status,
            code=code,
        )
    text = f"Plural refused {what}: HTTP {status}" + (f" {code}" if code else "")
    if message:
        text += f": {message}"
    return GatewayError(text, http_status=status, code=code, gateway_message=message)


def read_json(
    response: httpx.Response,
    what: str,
    secrets: Iterable[str] = (),
    on_unknown: str | None = None,
) -> dict[str, Any]:
    """The JSON object of a 2xx answer; an error answer or a malformed body raises (see
    :func:`malformed` for ``on_unknown``)."""
    if not 200 <= response.status_code < 300:
        raise gateway_error(response, what, secrets)
    try:
        body = _json_body(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = None
    if not isinstance(body, dict):
        raise malformed(what, response, "not a JSON object", on_unknown)
    return body


def malformed(
    what: str, response: httpx.Response, problem: str, on_unknown: str | None = None
) -> GatewayError | GatewayUnavailable:
    """The error for a 2xx answer payhub cannot read.

    For a call that changes something (``on_unknown`` says how to recognise it later) a
    2xx means Plural probably did it: that is an unknown outcome, not a refusal, so it is
    ``GatewayUnavailable(outcome_unknown=True)`` and nobody retries it blindly. For a
    safe call (token, Get Order) it is a ``GatewayError``.
    """
    text = f"Plural answered {what} with a malformed body: {problem}"
    if on_unknown is not None:
        return GatewayUnavailable(
            f"{text}; the outcome is unknown: {on_unknown}",
            outcome_unknown=True,
            http_status=response.status_code,
            code="MALFORMED_RESPONSE",
        )
    return GatewayError(text, http_status=response.status_code, code="MALFORMED_RESPONSE")


@dataclass(frozen=True)
class Answer:
    """The JSON object of a 2xx answer to one call, with what is needed to report it when
    its content cannot be used (see :func:`malformed`)."""

    what: str
    response: httpx.Response
    body: dict[str, Any]
    on_unknown: str | None = None

    def malformed(self, problem: str) -> GatewayError | GatewayUnavailable:
        return malformed(self.what, self.response, problem, self.on_unknown)

    def order(self, order_id: str | None = None) -> Order:
        """The order in the answer's ``data``; ``order_id`` is the order it must be."""
        try:
            order = parse_order(self.body.get("data"))
        except ValueError as error:
            raise self.malformed(str(error)) from None
        if order_id is not None and order.order_id != order_id:
            raise self.malformed("it describes another order")
        return order


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} is missing or not text")
    return value


def _optional_text(data: Mapping[str, Any], key: str) -> str | None:
    return None if data.get(key) is None else _text(data, key)


def money_from(value: object, field: str) -> Money:
    """Money from Plural's ``{"value": <minor units>, "currency": "INR"}``."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{field} is not an object")
    minor = value.get("value")
    currency = value.get("currency")
    if isinstance(minor, Decimal) and minor == minor.to_integral_value():
        minor = int(minor)
    if isinstance(minor, bool) or not isinstance(minor, int) or minor < 0:
        raise ValueError(f"{field}.value is not a whole number of minor units")
    if not isinstance(currency, str):
        raise ValueError(f"{field}.currency is missing")
    try:
        return Money.from_minor(minor, currency)
    except InvalidRequest:  # an unknown currency, or an amount too large to be money
        raise ValueError(f"{field} is not valid money") from None


@dataclass(frozen=True)
class Order:
    """The parts of a Plural order (or refund order) payhub reads; ``data`` is all of it."""

    order_id: str
    status: str
    amount: Money
    merchant_reference: str | None
    parent_order_id: str | None
    payment_id: str | None
    payment_method: str | None
    challenge_url: str | None
    data: Mapping[str, Any]

    @property
    def payment_status(self) -> PaymentStatus:
        return order_status(self.status)

    def result(self, **overrides: Any) -> PaymentResult:
        """This order as a ``PaymentResult`` (fields in ``overrides`` replace the defaults)."""
        fields: dict[str, Any] = {
            "status": self.payment_status,
            "reference": self.order_id,
            "invoice_number": self.merchant_reference,
            "amount": self.amount,
            "transaction_id": self.payment_id,
            "payment_method": self.payment_method,
            "raw": self.data,
        }
        fields.update(overrides)
        return PaymentResult(**fields)


def parse_order(data: object) -> Order:
    """Read an order object; ``ValueError`` names what is missing or wrong."""
    if not isinstance(data, Mapping):
        raise ValueError("the order is not an object")
    order_id = _text(data, "order_id")
    if not REFERENCE.fullmatch(order_id):
        raise ValueError("order_id does not have the documented form")
    status = _text(data, "status")
    payment_id = payment_method = None
    payments = data.get("payments")
    if isinstance(payments, list) and payments and isinstance(payments[-1], Mapping):
        latest = payments[-1]
        payment_id = latest.get("id") if isinstance(latest.get("id"), str) else None
        method = latest.get("payment_method")
        payment_method = method if isinstance(method, str) else None
    challenge = data.get("challenge_url")
    if challenge is not None and (
        not isinstance(challenge, str) or urlsplit(challenge).scheme not in ("http", "https")
    ):
        raise ValueError("challenge_url is not an http(s) URL")
    return Order(
        order_id=order_id,
        status=status.upper(),
        amount=money_from(data.get("order_amount"), "order_amount"),
        merchant_reference=_optional_text(data, "merchant_order_reference"),
        parent_order_id=_optional_text(data, "parent_order_id"),
        payment_id=payment_id,
        payment_method=payment_method,
        challenge_url=challenge or None,
        data=data,
    )
