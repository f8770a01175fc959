"""The payment models every adapter and every merchant shares (pydantic v2, frozen).

Construction errors are payhub errors: a bad field raises :class:`InvalidRequest` naming
the field (never echoing the value, which may be a card number), and a float amount raises
:class:`FloatAmountError` (a ``TypeError``).
"""

from __future__ import annotations

import enum
import ipaddress
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails
from typing_extensions import Self

from payhub_core._errors import FloatAmountError, InvalidMoney, InvalidRequest, MalformedCallback
from payhub_core._money import Money
from payhub_core.redaction import MASK, SENSITIVE_HEADERS

__all__ = [
    "OPERATIONS",
    "Callback",
    "Capabilities",
    "Card",
    "Checkout",
    "Customer",
    "Invoice",
    "Netbanking",
    "Operation",
    "OtpChallenge",
    "OtpCode",
    "PaymentMethod",
    "PaymentResult",
    "PaymentStatus",
    "Redirect",
    "Upi",
    "validation_message",
]

Operation = Literal["initiate", "verify", "capture", "cancel", "refund", "status"]
OPERATIONS: tuple[Operation, ...] = ("initiate", "verify", "capture", "cancel", "refund", "status")


def _location(loc: tuple[int | str, ...]) -> str:
    # pydantic names union members in locations ("tagged-union[Card,Upi]", "str",
    # "function-plain[_validate()]"); the caller wants the field path.
    parts = [
        str(part)
        for part in loc
        if not (isinstance(part, str) and ("[" in part or part in _UNION_MEMBERS))
    ]
    return ".".join(parts)


_UNION_MEMBERS = frozenset(
    {"str", "int", "bool", "float", "bytes", "none", "is-instance", "list", "dict"}
)


def _safe_message(item: ErrorDetails) -> str:
    """pydantic's message for one error, without anything the caller passed in."""
    context = item.get("ctx") or {}
    if item["type"] == "union_tag_invalid":
        # pydantic's own text quotes the tag it found, which is input.
        return (
            f"the {context.get('discriminator', 'tag')} must be one of "
            f"{context.get('expected_tags', 'the documented tags')}"
        )
    message = item["msg"]
    value = item.get("input")
    if isinstance(value, str) and len(value) >= 8 and value in message:
        message = message.replace(value, "<value>")
    return message


def validation_message(error: ValidationError, *, prefix: str = "") -> tuple[str, str]:
    """A readable message and the first failing field of a pydantic error, without inputs.

    pydantic's own ``str(error)`` echoes the input value, which may be a secret; this
    keeps only locations and rule messages.
    """
    problems = []
    first_field = ""
    for item in error.errors(include_url=False):
        location = _location(item["loc"]) or "(value)"
        first_field = first_field or location
        problems.append(f"{prefix}{location}: {_safe_message(item)}")
    return "; ".join(problems), f"{prefix}{first_field}"


def _request_error(model: str, error: ValidationError) -> InvalidRequest:
    message, field = validation_message(error)
    causes = [
        (item.get("ctx") or {}).get("error")
        for item in error.errors(include_url=False, include_input=False)
    ]
    # A float amount stays a TypeError (the Money contract), wherever it is nested, and
    # bad money stays InvalidMoney.
    error_type: type[InvalidRequest] = InvalidRequest
    if any(isinstance(cause, FloatAmountError) for cause in causes):
        error_type = FloatAmountError
    elif isinstance(causes[0], InvalidMoney):
        error_type = InvalidMoney
    return error_type(f"invalid {model}: {message}", field=field, rule="model")


class _Model(BaseModel):
    """Frozen, strict about unknown fields, and raising payhub errors on bad input.

    Every way in (``Model(...)``, ``model_validate``, ``model_validate_json``,
    ``model_validate_strings``) raises :class:`InvalidRequest` naming the field, never a
    pydantic ``ValidationError`` and never the value.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    def __init__(self, **data: Any) -> None:
        try:
            # What BaseModel.__init__ does (every callback and result passes here), without
            # its frame and a second packing of the keywords. No model here has a validator
            # that could return another object, which is all BaseModel adds (a warning).
            self.__pydantic_validator__.validate_python(data, self_instance=self)
        except ValidationError as error:
            raise _request_error(type(self).__name__, error) from None

    # Tell pydantic this __init__ only wraps its own: nested models are then validated by
    # the core validator (errors keep their full path) instead of through __init__.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, **options: Any) -> Self:
        try:
            return super().model_validate(obj, **options)
        except ValidationError as error:
            raise _request_error(cls.__name__, error) from None

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **options: Any) -> Self:
        try:
            return super().model_validate_json(json_data, **options)
        except ValidationError as error:
            raise _request_error(cls.__name__, error) from None

    @classmethod
    def model_validate_strings(cls, obj: Any, **options: Any) -> Self:
        try:
            return super().model_validate_strings(obj, **options)
        except ValidationError as error:
            raise _request_error(cls.__name__, error) from None

    def __setattr__(self, name: str, value: Any) -> None:
        # pydantic's own refusal quotes the value, which may be a secret.
        raise AttributeError(f"{type(self).__name__} is immutable: {name} cannot be assigned")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: {name} cannot be deleted")


class PaymentStatus(str, enum.Enum):
    """Where a payment stands. Only ``PAID`` means the money is the merchant's."""

    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    CANCELED = "canceled"
    FAILED = "failed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"

    def __str__(self) -> str:
        return self.value


_BLANK_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


def _check_url(value: str | None) -> str | None:
    if value is None:
        return None
    # urlsplit() quietly strips or drops white space and control characters; a URL that
    # holds any is refused rather than sent on as something else.
    if _BLANK_OR_CONTROL.search(value):
        raise ValueError("must be an absolute http(s) URL without white space")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    return value


class Customer(_Model):
    mobile: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    birth_year: int | None = None
    ip: str | None = None

    @field_validator("ip")
    @classmethod
    def _valid_ip(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ipaddress.ip_address(value)
            except ValueError:
                # ipaddress' own message quotes the value.
                raise ValueError("must be an IPv4 or IPv6 address") from None
        return value

    @field_validator("email")
    @classmethod
    def _plausible_email(cls, value: str | None) -> str | None:
        if value is not None and ("@" not in value or value.strip() != value):
            raise ValueError("must look like an email address")
        return value


_ASCII_DIGITS = re.compile(r"[0-9]+")  # str.isdigit() also takes "١٢٣" and "²"


class Card(_Model):
    """Card details for server-to-server (seamless) checkout. Needs PCI-DSS scope.

    The number and CVV are secrets: they never show in reprs, logs or errors.
    """

    kind: Literal["card"] = "card"
    number: SecretStr
    cvv: SecretStr
    expiry_month: Annotated[int, Field(ge=1, le=12)]
    expiry_year: Annotated[int, Field(ge=2000, le=2200)]
    holder_name: str | None = None

    @field_validator("number")
    @classmethod
    def _digits(cls, value: SecretStr) -> SecretStr:
        digits = value.get_secret_value().replace(" ", "")
        if not _ASCII_DIGITS.fullmatch(digits) or not 12 <= len(digits) <= 19:
            raise ValueError("card number must be 12 to 19 digits")
        return SecretStr(digits)

    @field_validator("cvv")
    @classmethod
    def _cvv(cls, value: SecretStr) -> SecretStr:
        text = value.get_secret_value()
        if not _ASCII_DIGITS.fullmatch(text) or not 3 <= len(text) <= 4:
            raise ValueError("CVV must be 3 or 4 digits")
        return value

    @property
    def last4(self) -> str:
        return self.number.get_secret_value()[-4:]


class Upi(_Model):
    """UPI: ``collect`` asks the payer's VPA for approval; ``intent`` hands a link to an app."""

    kind: Literal["upi"] = "upi"
    mode: Literal["collect", "intent"] = "collect"
    vpa: str | None = None


class Netbanking(_Model):
    kind: Literal["netbanking"] = "netbanking"
    bank_code: str


PaymentMethod = Annotated[Card | Upi | Netbanking, Field(discriminator="kind")]


class Invoice(_Model):
    """What the merchant asks to be paid."""

    number: Annotated[str, Field(min_length=1, max_length=100)]
    amount: Money
    return_url: str | None = None
    callback_url: str | None = None
    customer: Customer | None = None
    lang: str | None = None
    description: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    capture: Literal["automatic", "manual"] = "automatic"
    payment_method: PaymentMethod | str | None = None

    @field_validator("number")
    @classmethod
    def _no_padding(cls, value: str) -> str:
        if value.strip() != value:
            raise ValueError("must not start or end with white space")
        return value

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Money) -> Money:
        if value.amount <= 0:
            raise ValueError("must be greater than zero")
        return value

    @field_validator("return_url", "callback_url")
    @classmethod
    def _absolute_urls(cls, value: str | None) -> str | None:
        return _check_url(value)


class Redirect(_Model):
    """Send the customer's browser to ``url`` (keep it exactly as given: it carries tokens)."""

    url: str


class OtpChallenge(_Model):
    """The gateway sent a one-time code to the customer; ask for it, then ``verify(OtpCode)``."""

    reference: str
    message: str | None = None


class Checkout(_Model):
    """What ``initiate`` returns: where the payment stands and what the customer does next."""

    gateway: str = ""
    reference: str
    action: Redirect | OtpChallenge | None = None
    status: PaymentStatus = PaymentStatus.PENDING
    raw: Mapping[str, Any] = Field(default_factory=dict, repr=False)


class OtpCode(_Model):
    """The code the customer typed, for a two-step wallet payment (Sadad, Adfali)."""

    reference: str
    code: SecretStr
    invoice: Invoice


class PaymentResult(_Model):
    """A verified statement about a payment, from a callback, a webhook or the gateway's API.

    ``event_id`` is set for webhooks (the delivery id): store it to drop repeated deliveries.
    """

    gateway: str = ""
    status: PaymentStatus
    invoice_number: str | None = None
    amount: Money | None = None
    reference: str
    transaction_id: str | None = None
    raw: Mapping[str, Any] = Field(default_factory=dict, repr=False)
    event_id: str | None = None
    event_type: str | None = None
    payment_method: str | None = None

    @property
    def is_paid(self) -> bool:
        return self.status is PaymentStatus.PAID


class Callback(_Model):
    """An HTTP request from the gateway or the customer's browser, exactly as received.

    ``query`` is the raw query string and ``body`` the raw bytes: signatures are computed
    over the received order and bytes, so nothing here is re-encoded. Parsed views
    (:meth:`query_params`, :meth:`form`, :meth:`json`) are computed on demand.

    ``query`` may be given as bytes (Flask's ``request.query_string``) and with a leading
    ``?``. Bytes that are not UTF-8 (never valid in a URL) are kept as ``%XX`` escapes, so
    :meth:`query_params` reports them as malformed instead of guessing a character set.
    In JSON (``model_dump_json``) the body is Base64, so any bytes survive the round trip.
    """

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    _SENSITIVE_HEADERS: ClassVar[frozenset[str]] = SENSITIVE_HEADERS

    method: str = "GET"
    query: str = ""
    headers: Mapping[str, str] = Field(default_factory=dict)
    body: bytes = b""

    @field_validator("query", mode="before")
    @classmethod
    def _query_text(cls, value: object) -> object:
        if isinstance(value, (bytes, bytearray)):
            raw = bytes(value)
            try:
                value = raw.decode("utf-8")
            except UnicodeDecodeError:
                value = "".join(chr(byte) if byte < 0x80 else f"%{byte:02X}" for byte in raw)
        if isinstance(value, str):
            value = value.lstrip("?")  # all of them: validating twice gives the same query
        return value

    @field_validator("body", mode="before")
    @classmethod
    def _body_bytes(cls, value: object, info: ValidationInfo) -> object:
        # In JSON the body is Base64 text, decoded by pydantic (val_json_bytes).
        if isinstance(value, str) and info.mode == "python":
            return value.encode("utf-8")
        return value

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    def header(self, name: str) -> str | None:
        """A header's value, found without regard to case."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    def query_params(self) -> list[tuple[str, str]]:
        """The query string as ordered (key, value) pairs: order and repeats kept."""
        return _parse_pairs(self.query, "query string")

    def form(self) -> list[tuple[str, str]]:
        """The body as ordered form fields (``application/x-www-form-urlencoded``)."""
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedCallback("the form body is not UTF-8") from None
        return _parse_pairs(text, "form body")

    def params(self) -> list[tuple[str, str]]:
        """Query parameters, then form fields when the body is a form: what PHP's $_REQUEST
        would hold, in received order."""
        pairs = self.query_params()
        if self.body and self.content_type in ("", "application/x-www-form-urlencoded"):
            pairs += self.form()
        return pairs

    # Shadows pydantic's deprecated v1 ``BaseModel.json()`` (use ``model_dump_json()``).
    def json(self) -> Any:  # type: ignore[override]
        """The body parsed as JSON, objects as ordered dicts, numbers with a fraction or
        exponent as ``Decimal`` (never float)."""
        try:
            text = self.body.decode("utf-8")
            value = _CALLBACK_JSON.decode(text)
        except (ValueError, RecursionError):
            raise MalformedCallback("the callback body is not valid JSON") from None
        if "\\u" in text:  # strict UTF-8 holds no surrogate: only a \u escape makes one
            _check_text(value)
        return value

    def __repr_args__(self) -> Any:
        yield "method", self.method
        yield "query", self.query
        yield (
            "headers",
            {
                key: (MASK if key.lower() in self._SENSITIVE_HEADERS else value)
                for key, value in self.headers.items()
            },
        )
        yield "body", f"<{len(self.body)} bytes>"


def _no_constant(name: str) -> Any:
    # json.loads takes NaN and Infinity by default (and makes floats of them): not JSON.
    raise ValueError(f"{name} is not JSON")


# Built once: json.loads(..., parse_float=...) would build a decoder for every callback.
# (A leading BOM, which json.loads refuses up front, fails decoding here just the same.)
_CALLBACK_JSON = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constant)


def _check_text(value: Any) -> None:
    """Refuse strings holding a lone surrogate (``"\\ud800"``): valid JSON escapes for no
    valid text, refused by PHP's json_decode and unencodable for any signature."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise MalformedCallback(
                    "the callback body is not valid JSON text (a lone surrogate escape)"
                ) from None


def _parse_pairs(text: str, what: str) -> list[tuple[str, str]]:
    if "%" not in text and "+" not in text:
        # Nothing to decode (most signed returns): parse_qsl would give the same pairs,
        # unquoting nothing, at three to four times the cost. Empty segments are dropped
        # and a name without "=" has the value "", as parse_qsl does with blank values.
        pairs = []
        for segment in text.split("&"):
            if segment:
                name, _, value = segment.partition("=")
                pairs.append((name, value))
        return pairs
    try:
        return parse_qsl(text, keep_blank_values=True, errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise MalformedCallback(f"the {what} is not valid percent-encoded UTF-8") from None


class Capabilities(_Model):
    """What a gateway supports, known without any network call.

    ``amount_decimals`` is the precision the gateway accepts on the wire (Plutu takes two
    decimals of LYD although LYD has three); ``None`` means the currency's own.
    ``min_amount``/``max_amount`` apply per currency when given.
    """

    currencies: frozenset[str]
    operations: frozenset[Operation]
    flows: frozenset[str] = frozenset()
    amount_decimals: int | None = None
    min_amount: tuple[Money, ...] = ()
    max_amount: tuple[Money, ...] = ()

    def supports(self, operation: Operation) -> bool:
        return operation in self.operations
