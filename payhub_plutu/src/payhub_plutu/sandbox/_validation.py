"""Plutu's request bodies and their validation, with Plutu's error body.

The rules are those of Plutu's API documentation for each service's ``verify`` and
``confirm`` (required fields, mobile number networks, amounts with at most two decimals,
birth years), answered with the error codes Plutu's own plugins translate.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from payhub_plutu.sandbox._constants import Service

__all__ = [
    "PlutuError",
    "RedirectConfirm",
    "WalletConfirm",
    "WalletVerify",
    "parse_fields",
    "validate_redirect_confirm",
    "validate_wallet_confirm",
    "validate_wallet_verify",
]

MIN_BIRTH_YEAR = 1940
MIN_AGE = 12

_AMOUNT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")
_INVOICE = re.compile(r"[A-Za-z0-9._-]{1,255}")
_DIGITS = re.compile(r"[0-9]{1,20}")
_YEAR = re.compile(r"[0-9]{4}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MAX_URL = 2048


class PlutuError(Exception):
    """An error answer in Plutu's shape: ``{"error": {"status", "code", "message"}}``.

    ``fields`` (field name -> message) is added for invalid fields, as the SDK's
    ``getErrorFields()`` expects.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"status": self.status, "code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return {"error": error}


def _invalid_body(message: str) -> PlutuError:
    return PlutuError(400, "INVALID_INPUTS", message)


def parse_fields(content_type: str, body: bytes) -> dict[str, str]:
    """The request's fields, whatever the encoding: form (the SDK), multipart (the docs'
    curl examples) or a JSON object. A repeated field keeps its last value, as PHP does."""
    mime = content_type.split(";")[0].strip().lower()
    if not body.strip():
        return {}
    if mime == "application/json" or mime.endswith("+json"):
        return _json_fields(body)
    if mime == "multipart/form-data":
        return _multipart_fields(content_type, body)
    if mime in ("", "application/x-www-form-urlencoded"):
        try:
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict"))
        except (UnicodeDecodeError, ValueError):
            raise _invalid_body("The form body is not valid UTF-8.") from None
    raise PlutuError(
        415,
        "INVALID_INPUTS",
        "Send the fields as application/x-www-form-urlencoded, multipart/form-data or JSON.",
    )


def _json_fields(body: bytes) -> dict[str, str]:
    try:
        data = json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise _invalid_body("The JSON body is not valid.") from None
    if not isinstance(data, dict):
        raise _invalid_body("The JSON body must be an object.")
    fields: dict[str, str] = {}
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise PlutuError(
                422,
                "INVALID_INPUTS",
                f"The {key} field must be a string or a number.",
                {key: "must be a string or a number"},
            )
        fields[key] = str(value)
    return fields


def _multipart_fields(content_type: str, body: bytes) -> dict[str, str]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(EmailMessage, policy=HTTP).parsebytes(head + body)
    if not message.is_multipart() or message.defects:
        raise _invalid_body("The multipart body is not valid.")
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        if not isinstance(part, EmailMessage):  # pragma: no cover (policy HTTP gives these)
            continue
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or part.get_filename() is not None:
            continue  # not a form field, or an uploaded file: Plutu takes neither
        payload = part.get_payload(decode=True)
        raw = payload if isinstance(payload, bytes) else b""
        try:
            fields[name] = raw.decode(part.get_content_charset() or "utf-8")
        except (UnicodeDecodeError, LookupError):
            raise _invalid_body(f"The {name} field is not valid UTF-8.") from None
    return fields


@dataclass(frozen=True)
class WalletVerify:
    mobile: str
    amount: Decimal
    birth_year: int | None


@dataclass(frozen=True)
class WalletConfirm:
    process_id: str
    code: str
    amount: Decimal
    invoice_no: str
    customer_ip: str | None


@dataclass(frozen=True)
class RedirectConfirm:
    amount: Decimal
    invoice_no: str
    return_url: str
    lang: str
    customer_ip: str | None
    mobile: str | None = None
    callback_url: str | None = None
    email: str | None = None


class _Checker:
    """Reads fields one by one, collecting every problem; then :meth:`done` raises the
    first one's code with all of them in ``fields``. Values read from a failing field are
    placeholders that :meth:`done` never lets through."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        # Laravel's TrimStrings middleware: surrounding white space is not part of a value.
        self.fields = {key: value.strip() for key, value in fields.items()}
        self.problems: list[tuple[str, str, str]] = []  # (field, code, message)

    def problem(self, name: str, code: str, message: str) -> None:
        self.problems.append((name, code, message))

    def required(self, name: str, empty_code: str = "MISSING_PARAMETER") -> str | None:
        value = self.fields.get(name)
        if value is None:
            self.problem(name, "MISSING_PARAMETER", f"The {name} field is required.")
            return None
        if not value:
            self.problem(name, empty_code, f"The {name} field must not be empty.")
            return None
        return value

    def optional(self, name: str) -> str | None:
        return self.fields.get(name) or None

    def amount(self) -> Decimal:
        value = self.required("amount")
        if value is None:
            return Decimal(0)
        if not _AMOUNT.fullmatch(value) or Decimal(value) <= 0:
            self.problem(
                "amount",
                "INVALID_AMOUNT",
                "The amount must be a number greater than 0 with at most 2 decimals.",
            )
            return Decimal(0)
        return Decimal(value)

    def mobile(self, service: Service) -> str:
        value = self.required("mobile_number", "EMPTY_MOBILE_NUMBER")
        if value is None:
            return ""
        if service.mobile_pattern is None or not service.mobile_pattern.fullmatch(value):
            rule = "091 or 093" if service.slug == "sadadapi" else "091 to 096"
            self.problem(
                "mobile_number",
                "INVALID_MOBILE_NUMBER",
                f"The mobile number must be a {service.title} number starting with {rule} "
                "(09XXXXXXXX or 9XXXXXXXX).",
            )
            return ""
        return value

    def birth_year(self) -> int:
        value = self.required("birth_year", "EMPTY_BIRTH_YEAR")
        if value is None:
            return 0
        latest = datetime.date.today().year - MIN_AGE
        if not _YEAR.fullmatch(value) or not MIN_BIRTH_YEAR <= int(value) <= latest:
            self.problem(
                "birth_year",
                "INVALID_MOBILE_NUMBER_OR_BIRTH_YEAR",
                f"The birth year must be 4 digits between {MIN_BIRTH_YEAR} and {latest}.",
            )
            return 0
        return int(value)

    def invoice_no(self) -> str:
        value = self.required("invoice_no")
        if value is None:
            return ""
        if not _INVOICE.fullmatch(value):
            self.problem(
                "invoice_no",
                "INVALID_INPUTS",
                "The invoice_no may only contain letters, digits, periods, dashes and "
                "underscores (at most 255).",
            )
            return ""
        return value

    def process_id(self) -> str:
        value = self.required("process_id")
        if value is None:
            return ""
        if not _DIGITS.fullmatch(value):
            self.problem("process_id", "INVALID_INPUTS", "The process_id must be a number.")
            return ""
        return value

    def code(self, service: Service) -> str:
        value = self.required("code")
        if value is None:
            return ""
        length = len(service.otp or "")
        if not re.fullmatch(f"[0-9]{{{length}}}", value):
            self.problem("code", "INVALID_INPUTS", f"The code must be {length} digits.")
            return ""
        return value

    def url(self, name: str) -> str:
        value = self.required(name)
        if value is None:
            return ""
        try:
            parts = urlsplit(value)
            valid = (
                parts.scheme in ("http", "https")
                and bool(parts.hostname)
                and len(value) <= _MAX_URL
                and not any(char.isspace() for char in value)
            )
        except ValueError:
            valid = False
        if not valid:
            self.problem(name, "INVALID_INPUTS", f"The {name} must be an absolute http(s) URL.")
            return ""
        return value

    def lang(self) -> str:
        value = self.optional("lang") or "ar"
        if value not in ("ar", "en"):
            self.problem("lang", "INVALID_INPUTS", "The lang must be ar or en.")
            return "ar"
        return value

    def customer_ip(self) -> str | None:
        value = self.optional("customer_ip")
        if value is None:
            return None
        try:
            ipaddress.ip_address(value)
        except ValueError:
            self.problem("customer_ip", "INVALID_INPUTS", "The customer_ip must be an IP address.")
            return None
        return value

    def email(self) -> str | None:
        value = self.optional("email")
        if value is not None and not _EMAIL.fullmatch(value):
            self.problem("email", "INVALID_INPUTS", "The email must be an email address.")
            return None
        return value

    def done(self) -> None:
        if self.problems:
            _, code, message = self.problems[0]
            fields: dict[str, str] = {}
            for name, _, text in self.problems:
                fields.setdefault(name, text)
            raise PlutuError(422, code, message, fields)


def validate_wallet_verify(service: Service, fields: Mapping[str, str]) -> WalletVerify:
    check = _Checker(fields)
    mobile = check.mobile(service)
    birth_year = check.birth_year() if service.slug == "sadadapi" else None
    amount = check.amount()
    check.done()
    return WalletVerify(mobile=mobile, amount=amount, birth_year=birth_year)


def validate_wallet_confirm(service: Service, fields: Mapping[str, str]) -> WalletConfirm:
    check = _Checker(fields)
    process_id = check.process_id()
    code = check.code(service)
    amount = check.amount()
    invoice_no = check.invoice_no()
    customer_ip = check.customer_ip()
    check.done()
    return WalletConfirm(
        process_id=process_id,
        code=code,
        amount=amount,
        invoice_no=invoice_no,
        customer_ip=customer_ip,
    )


def validate_redirect_confirm(service: Service, fields: Mapping[str, str]) -> RedirectConfirm:
    check = _Checker(fields)
    tlync = service.slug == "tlync"
    mobile = check.mobile(service) if tlync else None
    amount = check.amount()
    invoice_no = check.invoice_no()
    return_url = check.url("return_url")
    callback_url = check.url("callback_url") if tlync else None
    email = check.email() if tlync else None
    customer_ip = check.customer_ip()
    lang = check.lang()
    check.done()
    return RedirectConfirm(
        amount=amount,
        invoice_no=invoice_no,
        return_url=return_url,
        lang=lang,
        customer_ip=customer_ip,
        mobile=mobile,
        callback_url=callback_url,
        email=email,
    )
