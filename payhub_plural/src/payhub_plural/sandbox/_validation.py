"""Request validation with Plural's error bodies.

The rules and messages follow Plural's API reference for each endpoint the emulator serves
(token, create order, checkout link, create payment, capture, cancel, refund).

Every function takes the parsed JSON (``Any``: it came from a client) and returns a typed
request or raises :class:`PluralError`, which the app turns into
``{"code": ..., "message": ...}`` with the HTTP status Plural uses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "MAX_AMOUNT",
    "MIN_AMOUNT",
    "Amount",
    "CaptureRequest",
    "OrderRequest",
    "PaymentRequest",
    "PluralError",
    "RefundRequest",
    "capture_request",
    "card_data",
    "invalid",
    "luhn_valid",
    "order_request",
    "payment_request",
    "refund_request",
    "token_request",
]

MIN_AMOUNT = 100  # paise: ₹1
MAX_AMOUNT = 100_000_000  # paise: ₹10 lakh
CURRENCIES = frozenset({"INR"})
PAYMENT_METHODS = frozenset(
    {
        "CARD",
        "UPI",
        "NETBANKING",
        "POINTS",
        "WALLET",
        "CREDIT_EMI",
        "DEBIT_EMI",
        "BNPL",
        "CARDLESS_EMI",
    }
)
SANDBOX_METHODS = frozenset({"CARD", "UPI", "NETBANKING"})
INTEGRATION_MODES = frozenset({"REDIRECT", "IFRAME", "SDK"})
TOKEN_TXN_TYPES = frozenset({"ALT_TOKEN", "NETWORK_TOKEN", "ISSUER_TOKEN"})

_REFERENCE = re.compile(r"[A-Za-z0-9_-]{1,50}")
_DIGITS = re.compile(r"[0-9]+")
_VPA = re.compile(r"[A-Za-z0-9._-]{2,256}@[A-Za-z][A-Za-z0-9.-]{1,63}")
_MAX_METADATA_PAIRS = 10
_MAX_METADATA_CHARS = 256


class PluralError(Exception):
    """An error answer in Plural's shape."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers

    def body(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def invalid(message: str) -> PluralError:
    return PluralError(400, "INVALID_REQUEST", message)


@dataclass(frozen=True)
class Amount:
    value: int
    currency: str

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "currency": self.currency}


@dataclass(frozen=True)
class OrderRequest:
    reference: str
    amount: Amount
    pre_auth: bool
    integration_mode: str | None
    allowed_payment_methods: tuple[str, ...] | None
    notes: str | None
    callback_url: str | None
    failure_callback_url: str | None
    purchase_details: dict[str, Any] | None


@dataclass(frozen=True)
class PaymentRequest:
    reference: str
    amount: Amount
    method: str
    option: dict[str, Any]
    """What the order shows for the instrument (``card_data``, ``upi_data``...)."""


@dataclass(frozen=True)
class CaptureRequest:
    reference: str
    amount: Amount | None


@dataclass(frozen=True)
class RefundRequest:
    reference: str
    amount: Amount | None
    merchant_metadata: dict[str, str] | None


# -- building blocks --------------------------------------------------------------------


def _object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(f"{name} must be a JSON object")
    return value


def _present(body: Mapping[str, Any], key: str) -> bool:
    return body.get(key) is not None


def _string(value: Any, name: str, *, min_len: int = 1, max_len: int | None = None) -> str:
    if not isinstance(value, str):
        raise invalid(f"{name} must be a string")
    if len(value.strip()) < min_len:
        raise invalid(f"{name} must not be empty")
    if max_len is not None and len(value) > max_len:
        raise invalid(f"{name} must be at most {max_len} characters")
    return value


def _optional_string(body: Mapping[str, Any], key: str, name: str, max_len: int) -> str | None:
    if not _present(body, key):
        return None
    return _string(body[key], name, max_len=max_len)


def _required(body: Mapping[str, Any], key: str, name: str) -> Any:
    if not _present(body, key):
        raise invalid(f"{name} is required")
    return body[key]


def _required_object(body: Mapping[str, Any], key: str, name: str | None = None) -> dict[str, Any]:
    """``body[key]``, which must be there and be an object; ``name`` (default ``key``) is
    what an error calls it."""
    name = name or key
    return _object(_required(body, key, name), name)


def _required_string(
    body: Mapping[str, Any], key: str, name: str | None = None, *, max_len: int | None = None
) -> str:
    """``body[key]``, which must be there and be a non-empty string."""
    name = name or key
    return _string(_required(body, key, name), name, max_len=max_len)


def _reference(value: Any, name: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # the docs' own samples send it as a JSON number
    if not isinstance(value, str):
        raise invalid(f"{name} must be a string")
    if not value:
        raise invalid(f"{name} must not be empty")
    if not _REFERENCE.fullmatch(value):
        raise invalid(f"{name} must be 1 to 50 characters of A-Z, a-z, 0-9, '-' and '_'")
    return value


def _amount(value: Any, name: str) -> Amount:
    body = _object(value, name)
    raw = _required(body, "value", f"{name}.value")
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise invalid(f"{name}.value must be an integer number of paise")
    if not MIN_AMOUNT <= raw <= MAX_AMOUNT:
        raise invalid(f"{name}.value must be between {MIN_AMOUNT} and {MAX_AMOUNT} paise")
    currency = _required(body, "currency", f"{name}.currency")
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise invalid(f"{name}.currency must be an ISO 4217 code such as INR")
    if currency not in CURRENCIES:
        raise invalid(f"{name}.currency {currency} is not supported: only INR")
    return Amount(raw, currency)


def _url(body: Mapping[str, Any], key: str) -> str | None:
    if not _present(body, key):
        return None
    text = _string(body[key], key, max_len=2048)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid(f"{key} must be an absolute http(s) URL")
    return text


def _bool(body: Mapping[str, Any], key: str) -> bool:
    if not _present(body, key):
        return False
    value = body[key]
    if not isinstance(value, bool):
        raise invalid(f"{key} must be true or false")
    return value


def _digits(value: Any, name: str, low: int, high: int) -> str:
    text = _string(value, name)
    if not _DIGITS.fullmatch(text) or not low <= len(text) <= high:
        raise invalid(f"{name} must be {low} to {high} digits")
    return text


def merchant_metadata(value: Any, name: str) -> dict[str, str]:
    body = _object(value, name)
    if len(body) > _MAX_METADATA_PAIRS:
        raise invalid(f"{name} allows at most {_MAX_METADATA_PAIRS} pairs")
    for key, item in body.items():
        if len(key) > _MAX_METADATA_CHARS:
            raise invalid(f"{name} keys must be at most {_MAX_METADATA_CHARS} characters")
        if not isinstance(item, str) or len(item) > _MAX_METADATA_CHARS:
            raise invalid(
                f"{name}.{key} must be a string of at most {_MAX_METADATA_CHARS} characters"
            )
    return dict(body)


def _address(value: Any, name: str) -> None:
    body = _object(value, name)
    for key in ("address1", "address2", "address3"):
        _optional_string(body, key, f"{name}.{key}", 100)
    for key in ("city", "state", "country"):
        _optional_string(body, key, f"{name}.{key}", 50)
    for key in ("full_name", "address_type", "address_category"):
        _optional_string(body, key, f"{name}.{key}", 100)
    if _present(body, "pincode"):
        _digits(body["pincode"], f"{name}.pincode", 6, 10)


def _customer(value: Any, name: str) -> None:
    body = _object(value, name)
    email = _optional_string(body, "email_id", f"{name}.email_id", 50)
    if email is not None and "@" not in email:
        raise invalid(f"{name}.email_id must be an email address")
    _optional_string(body, "first_name", f"{name}.first_name", 50)
    _optional_string(body, "last_name", f"{name}.last_name", 50)
    _optional_string(body, "customer_id", f"{name}.customer_id", 19)
    if _present(body, "mobile_number"):
        _digits(body["mobile_number"], f"{name}.mobile_number", 9, 20)
    if _present(body, "country_code"):
        _digits(body["country_code"], f"{name}.country_code", 1, 4)
    for key in ("billing_address", "shipping_address"):
        if _present(body, key):
            _address(body[key], f"{name}.{key}")


def _purchase_details(value: Any) -> dict[str, Any]:
    body = _object(value, "purchase_details")
    if _present(body, "customer"):
        _customer(body["customer"], "purchase_details.customer")
    if _present(body, "merchant_metadata"):
        merchant_metadata(body["merchant_metadata"], "purchase_details.merchant_metadata")
    if _present(body, "cart_details"):
        _object(body["cart_details"], "purchase_details.cart_details")
    return body


def _methods(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise invalid("allowed_payment_methods must be a non-empty list")
    for item in value:
        if item not in PAYMENT_METHODS:
            raise invalid(
                "allowed_payment_methods entries must be one of "
                + ", ".join(sorted(PAYMENT_METHODS))
            )
    return tuple(value)


# -- requests ---------------------------------------------------------------------------


def token_request(body: Any) -> tuple[str, str]:
    """``(client_id, client_secret)`` of a well-formed token request."""
    data = _object(body, "the request body")
    client_id = _required_string(data, "client_id")
    client_secret = _required_string(data, "client_secret")
    grant_type = _required(data, "grant_type", "grant_type")
    if grant_type != "client_credentials":
        raise invalid("grant_type must be client_credentials")
    return client_id, client_secret


def order_request(body: Any, *, hosted: bool) -> OrderRequest:
    """Create Order (seamless) or Generate Checkout Link (hosted)."""
    data = _object(body, "the request body")
    if not _present(data, "merchant_order_reference"):
        raise invalid("Merchant Order Reference must not be empty")
    reference = _reference(data["merchant_order_reference"], "merchant_order_reference")
    amount = _amount(_required(data, "order_amount", "order_amount"), "order_amount")
    mode = None
    if hosted:
        mode = "REDIRECT"
        if _present(data, "integration_mode"):
            mode = data["integration_mode"]
            if mode not in INTEGRATION_MODES:
                raise invalid("integration_mode must be REDIRECT, IFRAME or SDK")
    methods = (
        _methods(data["allowed_payment_methods"])
        if _present(data, "allowed_payment_methods")
        else None
    )
    details = (
        _purchase_details(data["purchase_details"]) if _present(data, "purchase_details") else None
    )
    return OrderRequest(
        reference=reference,
        amount=amount,
        pre_auth=_bool(data, "pre_auth"),
        integration_mode=mode,
        allowed_payment_methods=methods,
        notes=_optional_string(data, "notes", "notes", 500),
        callback_url=_url(data, "callback_url"),
        failure_callback_url=_url(data, "failure_callback_url"),
        purchase_details=details,
    )


def luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _expiry(data: Mapping[str, Any], name: str, today: datetime) -> tuple[str, str]:
    month = _required(data, "expiry_month", f"{name}.expiry_month")
    year = _required(data, "expiry_year", f"{name}.expiry_year")
    if not isinstance(month, str) or not re.fullmatch(r"0[1-9]|1[0-2]", month):
        raise invalid(f"{name}.expiry_month must be two digits, 01 to 12")
    if not isinstance(year, str) or not re.fullmatch(r"20[0-9]{2}", year):
        raise invalid(f"{name}.expiry_year must be four digits such as 2030")
    if (int(year), int(month)) < (today.year, today.month):
        raise PluralError(422, "CARD_EXPIRED", "The card has expired")
    return month, year


def _network(number: str) -> str:
    if number.startswith(("34", "37")):
        return "AMEX"
    if number.startswith("4"):
        return "VISA"
    if number.startswith(("2", "5")):
        return "MASTERCARD"
    if number.startswith("6"):
        return "RUPAY"
    return "UNKNOWN"


def card_data(network: str, last4: str, token_txn_type: str | None = None) -> dict[str, Any]:
    """What an order shows of a card: never the number, only its last four digits."""
    data: dict[str, Any] = {
        "card_type": "CREDIT",
        "network_name": network,
        "issuer_name": "PAYHUB SANDBOX BANK",
        "card_category": "CONSUMER",
        "country_code": "IND",
        "last4_digit": last4,
    }
    if token_txn_type is not None:
        data["token_txn_type"] = token_txn_type
    return data


def _card_option(option: dict[str, Any], today: datetime) -> dict[str, Any]:
    if _present(option, "card_details"):
        card = _object(option["card_details"], "payment_option.card_details")
        name = "payment_option.card_details"
        number = _digits(
            _required(card, "card_number", f"{name}.card_number"), "card_number", 12, 19
        )
        if not luhn_valid(number):
            raise invalid(f"{name}.card_number is not a valid card number")
        _digits(_required(card, "cvv", f"{name}.cvv"), f"{name}.cvv", 3, 4)
        _expiry(card, name, today)
        _optional_string(card, "name", f"{name}.name", 100)
        if _present(card, "registered_mobile_number"):
            _digits(card["registered_mobile_number"], f"{name}.registered_mobile_number", 9, 20)
        return {"card_data": card_data(_network(number), number[-4:])}
    if _present(option, "card_token_details"):
        token = _object(option["card_token_details"], "payment_option.card_token_details")
        name = "payment_option.card_token_details"
        _required_string(token, "token", f"{name}.token", max_len=256)
        txn_type = _required(token, "token_txn_type", f"{name}.token_txn_type")
        if txn_type not in TOKEN_TXN_TYPES:
            raise invalid(f"{name}.token_txn_type must be ALT_TOKEN, NETWORK_TOKEN or ISSUER_TOKEN")
        _expiry(token, name, today)
        if _present(token, "cvv"):
            _digits(token["cvv"], f"{name}.cvv", 3, 4)
        last4 = "0000"
        if _present(token, "last4_digit"):
            last4 = _digits(token["last4_digit"], f"{name}.last4_digit", 4, 4)
        return {"card_data": card_data("VISA", last4, str(txn_type))}
    raise invalid("payment_option.card_details or payment_option.card_token_details is required")


def _upi_option(option: dict[str, Any]) -> dict[str, Any]:
    details = _required_object(option, "upi_details", "payment_option.upi_details")
    mode = _required(details, "txn_mode", "payment_option.upi_details.txn_mode")
    if mode not in ("COLLECT", "INTENT"):
        raise invalid("payment_option.upi_details.txn_mode must be COLLECT or INTENT")
    data: dict[str, Any] = {"txn_mode": mode}
    if mode == "COLLECT":
        payer = _required_object(details, "payer", "payment_option.upi_details.payer")
        vpa = _required_string(payer, "vpa", "payment_option.upi_details.payer.vpa")
        if not _VPA.fullmatch(vpa):
            raise invalid("payment_option.upi_details.payer.vpa must look like name@bank")
        data["payer"] = {"vpa": vpa}
    return {"upi_data": data}


def _netbanking_option(option: dict[str, Any]) -> dict[str, Any]:
    details = _required_object(option, "netbanking_details", "payment_option.netbanking_details")
    code = _required_string(
        details, "pay_code", "payment_option.netbanking_details.pay_code", max_len=20
    )
    return {"netbanking_data": {"pay_code": code, "txn_mode": "REDIRECT"}}


def payment_request(body: Any, *, today: datetime | None = None) -> PaymentRequest:
    """Create Payment: ``{"payments": [one item]}``."""
    data = _object(body, "the request body")
    payments = _required(data, "payments", "payments")
    if not isinstance(payments, list) or not payments:
        raise invalid("payments must be a non-empty list")
    if len(payments) > 1:
        raise invalid("the sandbox takes one payment per request (no split or part payment)")
    item = _object(payments[0], "payments[0]")
    reference = _required_string(item, "merchant_payment_reference", max_len=50)
    amount = _amount(_required(item, "payment_amount", "payment_amount"), "payment_amount")
    method = _required(item, "payment_method", "payment_method")
    if method not in PAYMENT_METHODS:
        raise invalid("payment_method must be one of " + ", ".join(sorted(PAYMENT_METHODS)))
    if method not in SANDBOX_METHODS:
        raise PluralError(
            422,
            "PAYMENT_METHOD_NOT_ENABLED",
            f"{method} is not enabled for this merchant (the sandbox offers CARD, UPI and "
            "NETBANKING)",
        )
    option = _required_object(item, "payment_option")
    now = today or datetime.now(timezone.utc)
    if method == "CARD":
        shown = _card_option(option, now)
    elif method == "UPI":
        shown = _upi_option(option)
    else:
        shown = _netbanking_option(option)
    return PaymentRequest(reference=reference, amount=amount, method=str(method), option=shown)


def capture_request(body: Any) -> CaptureRequest:
    data = _object(body, "the request body")
    reference = _required_string(data, "merchant_capture_reference", max_len=50)
    amount = (
        _amount(data["capture_amount"], "capture_amount")
        if _present(data, "capture_amount")
        else None
    )
    return CaptureRequest(reference=reference, amount=amount)


def refund_request(body: Any) -> RefundRequest:
    data = _object(body, "the request body")
    if not _present(data, "merchant_order_reference"):
        raise invalid("Merchant Order Reference must not be empty")
    reference = _reference(data["merchant_order_reference"], "merchant_order_reference")
    amount = (
        _amount(data["order_amount"], "order_amount") if _present(data, "order_amount") else None
    )
    metadata = (
        merchant_metadata(data["merchant_metadata"], "merchant_metadata")
        if _present(data, "merchant_metadata")
        else None
    )
    return RefundRequest(reference=reference, amount=amount, merchant_metadata=metadata)
