"""Plural on the wire: paths, headers, amounts, and reading answers into clean results.

Everything that leaves here is either a parsed value or a payhub error: a body that is
not what Plural documents becomes ``GatewayError`` (from the API) or ``MalformedCallback``
(from a webhook), never a ``KeyError`` or a pydantic error.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, NamedTuple
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
    "request_id",
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
    last = _last_second
    if last[0] == seconds:  # requests come many to a second: the date part is the same
        prefix = last[1]
    else:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(seconds))
        _remember_second(seconds, prefix)
    return f"{prefix}{micro // 1000:03d}Z"


# The last second request_timestamp formatted, and its text: one tuple, replaced whole
# (a thread reading it sees one pair or the other, never half of each).
_last_second: tuple[float, str] = (-1.0, "")


def _remember_second(seconds: float, prefix: str) -> None:
    global _last_second
    _last_second = (seconds, prefix)


_DECIMAL_JSON = json.JSONDecoder(parse_float=Decimal)


def _json_body(content: bytes) -> Any:
    """``json.loads(content, parse_float=Decimal)`` without building a decoder per call."""
    return _DECIMAL_JSON.decode(content.decode(json.detect_encoding(content), "surrogatepass"))


def request_id(entropy: bytes | None = None) -> str:
    """A fresh ``Request-ID``: the text of a random UUID (version 4), as
    ``str(uuid.uuid4())`` writes it, from 16 bytes of ``os.urandom`` (``entropy`` when
    given) without building a ``UUID`` object per request: the version digit is ``4`` and
    the variant bits (the top two of the 17th hex digit) are ``10``, as
    ``uuid.UUID(version=4)`` sets them."""
    text = (os.urandom(16) if entropy is None else entropy).hex()
    variant = _VARIANT[int(text[16], 16)]
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-{variant}{text[17:20]}-{text[20:]}"


_VARIANT = "89ab" * 4  # hex digit -> the same digit with its top two bits set to 10


# httpx's own JSON body encoding (httpx.Request(json=...)), built once; used only where
# _requests_as_httpx() has seen httpx encode exactly so.
_JSON_TEXT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
# API paths payhub appends to the root: "/"-separated segments of [A-Za-z0-9_-] (order ids
# and references are checked against REFERENCE before they get here). Such a suffix is
# neither percent-encoded nor changed by dot-segment removal when httpx parses root + path.
_PLAIN_PATH = re.compile(r"(?:/[A-Za-z0-9_-]+)+")
_PROBE_PATH = "/api/pay/v1/orders/Probe_0-9z/capture"
_PROBE_BODY = {"a": 'ä €\u2028"', "b": [1, True, None], "c": {"d": ""}}


class Wire:
    """Builds Plural requests: the root URL, JSON bodies, and the headers every call has
    (``Request-ID``, ``Request-Timestamp``, and the bearer token except for the token
    request itself).

    Every call builds a request, so what is the same for every request of a root is done
    once: the root is parsed once (httpx parses a URL given as text on every request, about
    10 µs), and a request is assembled from its header list and body bytes, laid out as
    ``httpx.Request(method, root + path, headers={...}, json=body)`` lays them out (which
    costs as much again). Both shortcuts are checked against httpx itself
    (:func:`_url_joiner` per root, :func:`_requests_as_httpx` once); wherever httpx does
    anything differently (another version, a root whose path httpx rewrites) requests are
    built the plain way. tests/plural/test_plural_wire_bytes.py compares every request
    the adapters send with the plain construction.
    """

    def __init__(self, root: str, clock: Callable[[], float]) -> None:
        self.root = root
        self.clock = clock
        self._join = _url_joiner(root) if _requests_as_httpx() else None
        self._host = self._join("/api").netloc if self._join is not None else b""

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> httpx.Request:
        join = self._join
        if join is None or not _PLAIN_PATH.fullmatch(path):
            return _plain_request(method, self.root + path, self.clock(), token, body)
        return _assembled_request(method, join(path), self._host, self.clock(), token, body)


def _plain_request(
    method: str, url: str, now: float, token: str | None, body: Mapping[str, Any] | None
) -> httpx.Request:
    """The request as plain httpx builds it: what :func:`_assembled_request` must equal."""
    headers = {
        "Accept": "application/json",
        "Request-ID": request_id(),
        "Request-Timestamp": request_timestamp(now),
    }
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if body is None:
        return httpx.Request(method, url, headers=headers)
    return httpx.Request(method, url, headers=headers, json=dict(body))


def _assembled_request(
    method: str,
    url: httpx.URL,
    host: bytes,
    now: float,
    token: str | None,
    body: Mapping[str, Any] | None,
) -> httpx.Request:
    """:func:`_plain_request` without httpx's per-request work: the URL is parsed already,
    and the headers are laid out as httpx lays them out (``Host`` first, then
    ``Content-Length: 0`` for a POST or PUT without a body; ``Content-Length`` and
    ``Content-Type`` of a JSON body after the caller's headers)."""
    headers = [(b"Host", host)]
    if body is None and method in ("POST", "PUT", "PATCH"):
        headers.append((b"Content-Length", b"0"))
    headers += (
        (b"Accept", b"application/json"),
        (b"Request-ID", request_id().encode("ascii")),
        (b"Request-Timestamp", request_timestamp(now).encode("ascii")),
    )
    if token is not None:
        headers.append((b"Authorization", f"Bearer {token}".encode("ascii")))
    content = b""
    if body is not None:
        content = _JSON_TEXT(dict(body)).encode("utf-8")
        headers += (
            (b"Content-Length", str(len(content)).encode("ascii")),
            (b"Content-Type", b"application/json"),
        )
    request = httpx.Request(method, url, headers=headers, stream=httpx.ByteStream(content))
    request.read()  # as for a body given whole: request.content is there
    return request


def _url_joiner(root: str) -> Callable[[str], httpx.URL] | None:
    """``path -> httpx.URL(root + path)`` for plain paths, without parsing the root again.

    httpx keeps a URL as a tuple of its parsed, normalised parts; a plain path appended to
    the parsed root's path is the URL httpx makes of the whole text. ``None`` when that is
    not so for a probe path (a root httpx refuses, or rewrites: ``/a/..``), or when httpx's
    URL is not laid out that way (another version): requests are then built the plain way.
    """
    try:
        parsed = httpx.URL(root)._uri_reference
        prefix = parsed.path
        replace = parsed._replace

        def join(path: str) -> httpx.URL:
            url = httpx.URL.__new__(httpx.URL)
            url._uri_reference = replace(path=prefix + path)
            return url

        whole = httpx.URL(root + _PROBE_PATH)
        joined = join(_PROBE_PATH)
        if vars(joined) != vars(whole) or str(joined) != str(whole):  # all of its state
            return None
    except Exception:  # any surprise means: build requests the plain way
        return None
    return join


@functools.cache
def _requests_as_httpx() -> bool:
    """Whether :func:`_assembled_request` builds what :func:`_plain_request` builds, for a
    GET, a PUT without a body and a POST with a JSON body: the same method, URL, header
    names in the same order, header values (but the fresh id and timestamp), body bytes
    and kind of stream. Checked once per process, against the httpx installed."""
    root = "https://probe.example:8443/p"
    fresh = {b"request-id", b"request-timestamp"}
    try:
        join = _url_joiner(root)
        if join is None:
            return False
        for method, body in (("GET", None), ("PUT", None), ("POST", _PROBE_BODY)):
            ours = _assembled_request(method, join(_PROBE_PATH), join("/").netloc, 0.0, "t", body)
            theirs = _plain_request(method, root + _PROBE_PATH, 0.0, "t", body)
            if (
                vars(ours).keys() != vars(theirs).keys()
                or ours.method != theirs.method
                or vars(ours.url) != vars(theirs.url)
                or [name for name, _ in ours.headers.raw] != [n for n, _ in theirs.headers.raw]
                or [h for h in ours.headers.raw if h[0].lower() not in fresh]
                != [h for h in theirs.headers.raw if h[0].lower() not in fresh]
                or ours.content != theirs.content
                or type(ours.stream) is not type(theirs.stream)
                or ours.extensions != theirs.extensions
            ):
                return False
    except Exception:  # any surprise means: build requests the plain way
        return False
    return True


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


class Answer(NamedTuple):
    """The JSON object of a 2xx answer to one call, with what is needed to report it when
    its content cannot be used (see :func:`malformed`). A tuple: one is made per call."""

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


class Order(NamedTuple):
    """The parts of a Plural order (or refund order) payhub reads; ``data`` is all of it.
    A tuple: one is made for every order read."""

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
