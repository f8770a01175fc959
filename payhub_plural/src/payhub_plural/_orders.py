"""Invoices into Plural order and payment bodies, refusing before sending what Plural would.

Every refusal is an ``InvalidRequest`` naming the invoice field and the rule; its message
never quotes a card number or CVV.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from payhub_core import Card, Customer, InvalidRequest, Invoice, Netbanking, Upi
from payhub_plural._wire import check_reference, wire_amount

__all__ = [
    "HOSTED_METHODS",
    "PaymentBody",
    "hosted_methods",
    "merchant_reference",
    "order_body",
    "payment_body",
]

HOSTED_METHODS = frozenset(
    {"CARD", "UPI", "NETBANKING", "WALLET", "POINTS", "CREDIT_EMI", "DEBIT_EMI", "BNPL"}
)
"""``allowed_payment_methods`` of hosted checkout (an invoice may name some of them)."""

_NAME_LIMIT = 50
_METADATA_PAIRS = 10
_METADATA_LENGTH = 256
_SEPARATORS = re.compile(r"[\s().-]")
_MOBILE = re.compile(r"[0-9]{10,20}")
_VPA = re.compile(r"[A-Za-z0-9._-]{1,200}@[A-Za-z0-9.-]{2,64}")
_BANK_CODE = re.compile(r"[A-Za-z0-9_]{1,20}")


# Hex digits 0-9 spelt as the letters g-p (see merchant_reference).
_DIGITS_AS_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def merchant_reference(prefix: str, entropy: bytes | None = None) -> str:
    """A fresh merchant reference (capture, refund, payment): ``<prefix>-<32 letters>``
    (16 random bytes, ``entropy`` when given), well inside Plural's 50 characters and
    unique, so a repeat after an unknown outcome can be told apart from (and looked up as)
    the first attempt.

    Written without digits: error messages and answers are scrubbed of card numbers (any
    run of 13 to 19 digits passing the Luhn check), which would mask part of about one
    plain-hex reference in 500, in the very message that names it for lookup."""
    random = os.urandom(16) if entropy is None else entropy
    return f"{prefix}-{random.hex().translate(_DIGITS_AS_LETTERS)}"


def _limited(value: str | None, field: str, limit: int = _NAME_LIMIT) -> str | None:
    if value is None:
        return None
    if len(value) > limit:
        raise InvalidRequest(
            f"{field} is longer than Plural's {limit} characters",
            field=field,
            rule=f"at most {limit} characters",
        )
    return value


def _mobile(value: str) -> dict[str, str]:
    number = _SEPARATORS.sub("", value)
    wire: dict[str, str] = {}
    if number.startswith("+"):
        if not number.startswith("+91"):
            raise InvalidRequest(
                "Plural takes an Indian mobile number: +91 and the number, or the national "
                "number alone",
                field="customer.mobile",
                rule="+91 or a national number",
            )
        number = number[3:]
        wire["country_code"] = "91"
    if not _MOBILE.fullmatch(number):
        raise InvalidRequest(
            "customer.mobile must be 10 to 20 digits for Plural",
            field="customer.mobile",
            rule="10-20 digits",
        )
    wire["mobile_number"] = number
    return wire


def _customer(customer: Customer) -> dict[str, str]:
    details: dict[str, str] = {}
    for wire_name, value, field in (
        ("email_id", customer.email, "customer.email"),
        ("first_name", customer.first_name, "customer.first_name"),
        ("last_name", customer.last_name, "customer.last_name"),
    ):
        checked = _limited(value, field)
        if checked is not None:
            details[wire_name] = checked
    if customer.mobile is not None:
        details.update(_mobile(customer.mobile))
    return details


def _metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    if len(metadata) > _METADATA_PAIRS:
        raise InvalidRequest(
            f"Plural takes at most {_METADATA_PAIRS} metadata entries",
            field="metadata",
            rule=f"at most {_METADATA_PAIRS} pairs",
        )
    for key, value in metadata.items():
        if not key or len(key) > _METADATA_LENGTH or len(value) > _METADATA_LENGTH:
            raise InvalidRequest(
                f"Plural metadata keys and values are 1 to {_METADATA_LENGTH} characters",
                field="metadata",
                rule=f"keys and values of at most {_METADATA_LENGTH} characters",
            )
    return dict(metadata)


def order_body(invoice: Invoice) -> dict[str, Any]:
    """The body shared by Create Order and Generate Checkout Link."""
    body: dict[str, Any] = {
        "merchant_order_reference": check_reference(invoice.number, "number"),
        "order_amount": wire_amount(invoice.amount),
        "pre_auth": invoice.capture == "manual",
    }
    if invoice.return_url is not None:
        # Plural redirects failures to callback_url too when failure_callback_url is
        # missing; sending both keeps the onboarding default out of the way.
        body["callback_url"] = invoice.return_url
        body["failure_callback_url"] = invoice.return_url
    if invoice.description:
        body["notes"] = invoice.description
    purchase: dict[str, Any] = {}
    if invoice.customer is not None:
        customer = _customer(invoice.customer)
        if customer:
            purchase["customer"] = customer
    if invoice.metadata:
        purchase["merchant_metadata"] = _metadata(invoice.metadata)
    if purchase:
        body["purchase_details"] = purchase
    return body


def hosted_methods(invoice: Invoice) -> list[str] | None:
    """``allowed_payment_methods`` for hosted checkout from ``invoice.payment_method``: a
    name or comma-separated names (``"upi"``, ``"card,netbanking"``), or ``None`` for all.

    Card, UPI or netbanking *details* belong to seamless checkout: hosted checkout
    collects them on Plural's page, and never sees them.
    """
    method = invoice.payment_method
    if method is None:
        return None
    if not isinstance(method, str):
        raise InvalidRequest(
            "hosted checkout collects payment details on Plural's page; send card, UPI or "
            'netbanking details through plural.seamless, or name a method ("upi")',
            field="payment_method",
            rule="a method name: " + ", ".join(sorted(HOSTED_METHODS)).lower(),
        )
    names = [part.strip().upper() for part in method.split(",") if part.strip()]
    if not names or any(name not in HOSTED_METHODS for name in names):
        raise InvalidRequest(
            "payment_method names no Plural hosted checkout method",
            field="payment_method",
            rule="one or more of " + ", ".join(sorted(HOSTED_METHODS)).lower(),
        )
    return list(dict.fromkeys(names))


class PaymentBody:
    """A Create Payment body and the values to cut out of any error text (card number
    and CVV). Its ``repr`` shows neither."""

    __slots__ = ("body", "secrets")

    def __init__(self, body: dict[str, Any], secrets: tuple[str, ...]) -> None:
        self.body = body
        self.secrets = secrets

    def __repr__(self) -> str:
        return "PaymentBody(<redacted>)"


def _card_option(card: Card) -> dict[str, Any]:
    details: dict[str, Any] = {
        "card_number": card.number.get_secret_value(),
        "cvv": card.cvv.get_secret_value(),
        "expiry_month": f"{card.expiry_month:02d}",
        "expiry_year": f"{card.expiry_year:04d}",
    }
    if card.holder_name:
        details["name"] = _limited(card.holder_name, "payment_method.holder_name", 100)
    return {"card_details": details}


def _upi_option(upi: Upi) -> dict[str, Any]:
    if upi.mode == "intent":
        return {"upi_details": {"txn_mode": "INTENT"}}
    if upi.vpa is None or not _VPA.fullmatch(upi.vpa):
        raise InvalidRequest(
            "a UPI collect payment needs the payer's VPA (name@bank)",
            field="payment_method.vpa",
            rule="a VPA such as name@bank",
        )
    return {"upi_details": {"txn_mode": "COLLECT", "payer": {"vpa": upi.vpa}}}


def _netbanking_option(netbanking: Netbanking) -> dict[str, Any]:
    if not _BANK_CODE.fullmatch(netbanking.bank_code):
        raise InvalidRequest(
            "bank_code must be Plural's netbanking pay code (such as NB1531)",
            field="payment_method.bank_code",
            rule="1-20 of [A-Za-z0-9_]",
        )
    return {"netbanking_details": {"pay_code": netbanking.bank_code}}


def payment_body(invoice: Invoice) -> PaymentBody:
    """The Create Payment body for a seamless invoice's card, UPI or netbanking details."""
    method = invoice.payment_method
    secrets: tuple[str, ...] = ()
    if isinstance(method, Card):
        wire_method, option = "CARD", _card_option(method)
        secrets = (method.number.get_secret_value(), method.cvv.get_secret_value())
    elif isinstance(method, Upi):
        wire_method, option = "UPI", _upi_option(method)
    elif isinstance(method, Netbanking):
        wire_method, option = "NETBANKING", _netbanking_option(method)
    else:
        raise InvalidRequest(
            "seamless checkout needs the payment details: a Card, Upi or Netbanking "
            "payment_method (use plural.checkout to let Plural's page collect them)",
            field="payment_method",
            rule="Card, Upi or Netbanking",
        )
    if invoice.capture == "manual" and wire_method != "CARD":
        raise InvalidRequest(
            "Plural holds funds for later capture (pre-auth) on cards only",
            field="capture",
            rule="manual capture needs a card",
        )
    payment = {
        "merchant_payment_reference": merchant_reference("pay"),
        "payment_amount": wire_amount(invoice.amount),
        "payment_method": wire_method,
        "payment_option": option,
    }
    return PaymentBody({"payments": [payment]}, secrets)
