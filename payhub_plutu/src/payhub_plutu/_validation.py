"""Checks run before anything is sent to Plutu.

Every rule mirrors the official SDK (v1.1.2), tightened where PHP is loose: PHP accepts
anything its loose comparisons let through (``"5abc"`` as an amount, a mobile number with
letters), and Plutu's server then refuses it or, worse, reads it differently. Each failure
is an ``InvalidRequest`` naming the field (as a path into the invoice: ``number``,
``amount``, ``customer.mobile``...) and the rule, and never echoing the value (a mobile
number is personal data, an OTP code a secret).
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import socket
from urllib.parse import urlsplit

from pydantic import SecretStr

from payhub_core import InvalidRequest, Invoice, Money
from payhub_plutu._amounts import WIRE_DECIMALS

__all__ = [
    "MOBILE_ANY",
    "MOBILE_SADAD",
    "automatic_capture",
    "birth_year",
    "customer_ip",
    "email",
    "http_url",
    "invoice_number",
    "lang",
    "mobile_number",
    "otp_code",
    "process_id",
    "public_url",
    "wire_amount",
]

_INVOICE_NO = re.compile(r"[A-Za-z0-9._-]+")
_PROCESS_ID = re.compile(r"[0-9]{1,30}")
MOBILE_SADAD = "13"
"""Second digit after ``09`` for Sadad (Al-Madar: 091, 093)."""
MOBILE_ANY = "123456"
"""Second digit after ``09`` for Adfali and T-Lync (091 to 096)."""
_MIN_BIRTH_YEAR = 1940
_MIN_AGE = 12
_LANGS = ("ar", "en")
_SPACE = re.compile(r"\s")  # matches exactly what str.isspace() is true for


def _invalid(message: str, field: str, rule: str) -> InvalidRequest:
    return InvalidRequest(message, field=field, rule=rule)


def invoice_number(invoice: Invoice) -> str:
    """The invoice number as Plutu's ``invoice_no``: letters, digits, ``.``, ``-``, ``_``."""
    if not _INVOICE_NO.fullmatch(invoice.number):
        raise _invalid(
            "Plutu invoice numbers may only contain ASCII letters, digits, '.', '-' and '_'",
            "number",
            "[A-Za-z0-9._-]+",
        )
    return invoice.number


def wire_amount(amount: Money, currency: str) -> str:
    """The amount as Plutu's ``amount`` text: ``currency`` only, > 0, two decimals.

    LYD has three decimals but Plutu takes two: 5.125 LYD is refused, never rounded.
    """
    if amount.currency != currency:
        raise _invalid(
            f"this Plutu service takes {currency}, not {amount.currency}",
            "currency",
            currency,
        )
    if amount.amount <= 0:
        raise _invalid("the amount must be greater than zero", "amount", "greater than zero")
    return amount.format_amount(WIRE_DECIMALS)


def automatic_capture(invoice: Invoice) -> None:
    """Plutu charges at once; it has no authorize-then-capture and no payment-method field."""
    if invoice.capture != "automatic":
        raise _invalid(
            "Plutu has no manual capture: every payment is charged at once",
            "capture",
            "automatic",
        )
    if invoice.payment_method is not None:
        raise _invalid(
            "Plutu chooses the payment method by service (adapter), not per invoice",
            "payment_method",
            "not supported",
        )


def mobile_number(invoice: Invoice, second_digits: str) -> str:
    """The customer's mobile as Plutu's ``09XXXXXXXX``.

    Accepts ``09XXXXXXXX``, ``9XXXXXXXX`` and the international forms ``+218…``,
    ``00218…``, ``218…`` (with or without the trunk ``0``), with spaces or dashes.
    ``second_digits`` lists the digits allowed after ``09`` (the network).
    """
    raw = invoice.customer.mobile if invoice.customer is not None else None
    if raw is None or not raw.strip():
        raise _invalid(
            "this Plutu service needs the customer's mobile number", "customer.mobile", "required"
        )
    text = re.sub(r"[\s-]", "", raw)
    for prefix in ("+218", "00218", "218"):
        if text.startswith(prefix) and len(text) in (len(prefix) + 9, len(prefix) + 10):
            text = text[len(prefix) :]
            break
    if len(text) == 9:
        text = "0" + text
    if not re.fullmatch(rf"09[{second_digits}][0-9]{{7}}", text):
        networks = ", ".join(f"09{digit}" for digit in second_digits)
        raise _invalid(
            f"the mobile number must be a Libyan mobile number ({networks} and 7 digits, "
            "optionally written +218, 00218 or 218 and without the 0)",
            "customer.mobile",
            f"09[{second_digits}] + 7 digits",
        )
    return text


def birth_year(invoice: Invoice, today: datetime.date | None = None) -> int:
    """The wallet owner's birth year (Sadad): 1940 to twelve years ago, as the SDK checks."""
    year = invoice.customer.birth_year if invoice.customer is not None else None
    if year is None:
        raise _invalid("Sadad needs the customer's birth year", "customer.birth_year", "required")
    latest = (today or datetime.date.today()).year - _MIN_AGE
    if isinstance(year, bool) or not _MIN_BIRTH_YEAR <= year <= latest:
        raise _invalid(
            f"the birth year must be between {_MIN_BIRTH_YEAR} and {latest}",
            "customer.birth_year",
            f"{_MIN_BIRTH_YEAR}..{latest}",
        )
    return year


def lang(invoice: Invoice) -> str | None:
    """The checkout page language: ``ar`` (Plutu's default) or ``en``."""
    if invoice.lang is None:
        return None
    if invoice.lang not in _LANGS:
        raise _invalid("Plutu's checkout language is 'ar' or 'en'", "lang", "ar|en")
    return invoice.lang


def customer_ip(invoice: Invoice) -> str | None:
    """The customer's IP address (optional; the ``Customer`` model checked its form)."""
    return invoice.customer.ip if invoice.customer is not None else None


def email(invoice: Invoice) -> str | None:
    return invoice.customer.email if invoice.customer is not None else None


def http_url(value: str | None, field: str) -> str:
    """A required absolute http(s) URL (PHP's ``FILTER_VALIDATE_URL``, tightened)."""
    if value is None:
        raise _invalid(f"this Plutu service needs {field}", field, "required")
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or _SPACE.search(value) is not None
    ):
        raise _invalid(f"{field} must be an absolute http(s) URL", field, "absolute http(s) URL")
    return value


_PUBLIC_HOST = "publicly reachable host"


def _numeric_host(host: str, field: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a numeric host name stands for, including the short and hex IPv4 forms
    resolvers accept (``127.1``, ``0x7f.0.0.1``, ``2130706433``); ``None`` for a DNS name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    last_label = host.rsplit(".", 1)[-1]
    if not re.fullmatch(r"[0-9]+|0[xX][0-9a-fA-F]*", last_label):
        return None  # a top-level domain is never numeric
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        raise _invalid(f"{field} has a malformed numeric host", field, _PUBLIC_HOST) from None


def public_url(value: str, field: str) -> str:
    """``value`` (already an absolute URL) must be reachable from Plutu's servers.

    T-Lync's docs: "private and localhost URLs are not supported". Refused: ``localhost``
    and ``*.localhost``, single-label and ``.local``/``.internal`` names, and any address
    that is not globally routable (private, loopback, link-local, CGNAT, reserved...),
    in any spelling. Names are not resolved: adapters do no I/O.
    """
    host = (urlsplit(value).hostname or "").lower().rstrip(".")
    address = _numeric_host(host, field)
    if address is not None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            raise _invalid(
                f"{field} must be publicly reachable by Plutu, not a private or local address",
                field,
                _PUBLIC_HOST,
            )
        return value
    if (
        host == "localhost"
        or host.endswith((".localhost", ".local", ".internal", ".localdomain"))
        or "." not in host
    ):
        raise _invalid(
            f"{field} must be publicly reachable by Plutu, not a local host name",
            field,
            _PUBLIC_HOST,
        )
    return value


def otp_code(code: SecretStr, length: int) -> str:
    """The customer's one-time code: exactly ``length`` ASCII digits."""
    text = code.get_secret_value()
    if not re.fullmatch(rf"[0-9]{{{length}}}", text):
        raise _invalid(f"the one-time code must be {length} digits", "code", f"{length} digits")
    return text


def process_id(reference: str) -> str:
    """The checkout reference of an OTP payment: Plutu's numeric ``process_id``."""
    if not _PROCESS_ID.fullmatch(reference):
        raise _invalid(
            "the reference must be the Checkout.reference that initiate returned "
            "(Plutu's numeric process id)",
            "reference",
            "digits",
        )
    return reference
