"""Plutu's HTTP API without I/O: requests to send and answers to read.

Every call is ``POST {root}/api/v1/transaction/{service}/{action}``, form-encoded as the
official SDK sends it (Guzzle ``form_params``), with ``X-API-KEY`` and
``Authorization: Bearer``. Requests are never marked idempotent: ``verify`` sends an SMS
and registers an invoice, ``confirm`` charges or opens a checkout, so the driver repeats
them only when the connection was never made.

An answer is a success only with HTTP 2xx *and* body ``status`` 200 (the SDK looks at the
body, Plutu's WooCommerce plugin at the HTTP status; requiring both is the safe reading).
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx

from payhub_core import GatewayError, GatewayUnavailable, PayhubError
from payhub_core.redaction import scrub
from payhub_plutu._codes import describe
from payhub_plutu._settings import PlutuSettings

__all__ = ["API_PATH", "Answer", "Endpoints", "Exchange", "build_request", "form_encode"]

logger = logging.getLogger("payhub.plutu")

API_PATH = "/api/v1/transaction"
_PRINTABLE_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# One decoder for every answer: json.loads(..., parse_float=Decimal) would build one per call.
_DECIMAL_JSON = json.JSONDecoder(parse_float=Decimal)


def build_request(
    settings: PlutuSettings, root: str, service: str, action: str, fields: Sequence[tuple[str, str]]
) -> httpx.Request:
    """``POST .../transaction/{service}/{action}`` with ``fields`` form-encoded in order,
    built the plain way (:class:`Endpoints` builds the same request with less work)."""
    return _plain_request(
        f"{root}{API_PATH}/{service}/{action}",
        settings.api_key.get_secret_value(),
        settings.access_token.get_secret_value(),
        urlencode(list(fields)).encode("ascii"),
    )


def _plain_request(url: str | httpx.URL, api_key: str, token: str, content: bytes) -> httpx.Request:
    return httpx.Request(
        "POST",
        url,
        headers={
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
            "X-API-KEY": api_key,
            "Authorization": f"Bearer {token}",
        },
        content=content,
    )


def _assembled_request(url: httpx.URL, api_key: str, token: str, content: bytes) -> httpx.Request:
    """:func:`_plain_request` with its headers laid out as httpx lays them out (``Host``
    first; ``Content-Length`` last, or ``Content-Length: 0`` after ``Host`` for an empty
    body), without httpx working that out again for every request."""
    headers = [
        (b"Host", url.netloc),
        (b"Accept", b"application/json"),
        (b"Content-Type", b"application/x-www-form-urlencoded"),
        (b"X-API-KEY", api_key.encode("ascii")),
        (b"Authorization", f"Bearer {token}".encode("ascii")),
    ]
    if content:
        headers.append((b"Content-Length", str(len(content)).encode("ascii")))
    else:
        headers.insert(1, (b"Content-Length", b"0"))
    request = httpx.Request("POST", url, headers=headers, stream=httpx.ByteStream(content))
    request.read()  # as for a body given whole: request.content is there
    return request


@functools.cache
def _requests_as_httpx() -> bool:
    """Whether :func:`_assembled_request` builds exactly what :func:`_plain_request` builds
    (method, URL, headers in order, body bytes, kind of stream), with and without a body:
    checked once per process, against the httpx installed."""
    try:
        url = httpx.URL("https://probe.example:8443/p/api/v1/transaction/s/confirm")
        for content in (b"amount=5.00&invoice_no=A-1", b""):
            ours = _assembled_request(url, "k", "t", content)
            theirs = _plain_request(str(url), "k", "t", content)
            if (
                vars(ours).keys() != vars(theirs).keys()
                or ours.method != theirs.method
                or ours.url != theirs.url
                or ours.url.raw_path != theirs.url.raw_path
                or ours.headers.raw != theirs.headers.raw
                or ours.content != theirs.content
                or type(ours.stream) is not type(theirs.stream)
                or ours.extensions != theirs.extensions
            ):
                return False
    except Exception:  # any surprise means: build requests the plain way
        return False
    return True


class Endpoints:
    """The requests of one Plutu service at one root.

    Each action's URL is parsed once (httpx parses a URL given as text on every request:
    about 10 µs) and a request is assembled from its header list and form bytes, as
    ``httpx.Request`` lays them out (:func:`_requests_as_httpx` checks that once per
    process; otherwise requests are built the plain way). The keys are read from the
    settings for each request, not kept here. tests/plutu/test_plutu_wire_bytes.py
    compares the requests the adapters send with :func:`build_request`.
    """

    __slots__ = ("_root", "_service", "_settings", "_urls")

    def __init__(self, settings: PlutuSettings, root: str, service: str) -> None:
        self._settings = settings
        self._root = root
        self._service = service
        self._urls: dict[str, httpx.URL] = {}

    def request(self, action: str, fields: Sequence[tuple[str, str]]) -> httpx.Request:
        settings = self._settings
        url = self._urls.get(action)
        if url is None:
            url = self._urls[action] = httpx.URL(f"{self._root}{API_PATH}/{self._service}/{action}")
        build = _assembled_request if _requests_as_httpx() else _plain_request
        return build(
            url,
            settings.api_key.get_secret_value(),
            settings.access_token.get_secret_value(),
            form_encode(fields).encode("ascii"),
        )


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def form_encode(fields: Sequence[tuple[str, str]]) -> str:
    """``urlencode(fields)``: text made only of the characters ``quote_plus`` never
    escapes (``A-Z a-z 0-9 _ . ~ -``: field names, amounts, invoice numbers) is taken as
    it is, the rest goes through ``quote_plus``."""
    unreserved = _UNRESERVED.fullmatch
    return "&".join(
        [
            f"{key if unreserved(key) else quote_plus(key)}="
            f"{value if unreserved(value) else quote_plus(value)}"
            for key, value in fields
        ]
    )


@dataclass(frozen=True)
class Answer:
    """A successful answer: the whole body (for ``raw``) and its ``result`` object.

    Numbers with a fraction are ``Decimal`` (never float).
    """

    body: dict[str, Any]
    result: dict[str, Any]


@dataclass(frozen=True)
class Exchange:
    """How to read the answer to one call.

    ``what`` names the call in messages (``"Sadad confirm"``). ``money_moves`` is true for
    the OTP wallets' ``confirm``: a 2xx answer that cannot be read may mean the customer
    was charged, so it is reported as ``GatewayUnavailable(outcome_unknown=True)`` rather
    than as a refusal the merchant could retry on. ``hide`` are values (the OTP code) to
    blank out of anything Plutu echoes back.
    """

    what: str
    money_moves: bool = False
    hide: tuple[str, ...] = field(default=(), repr=False)  # secrets: never shown

    def read(self, response: httpx.Response) -> Answer:
        status = response.status_code
        body: Any
        try:
            content = response.content
            body = _DECIMAL_JSON.decode(
                content.decode(json.detect_encoding(content), "surrogatepass")
            )
        except (ValueError, UnicodeDecodeError, RecursionError):
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            raise self._refusal(status, body["error"])
        if not 200 <= status < 300:
            raise GatewayError(
                f"Plutu answered {self.what} with HTTP {status} and no Plutu error body",
                http_status=status,
            )
        if not isinstance(body, dict):
            raise self.unreadable(status, "not a JSON object")
        body_status = body.get("status")
        if type(body_status) is int and body_status != 200:
            raise GatewayError(
                f"Plutu answered {self.what} with status {body_status} in the body and no "
                "error code: the request was not carried out",
                http_status=status,
            )
        if type(body_status) is not int:
            raise self.unreadable(status, "no integer 'status'")
        result = body.get("result")
        if not isinstance(result, dict):
            raise self.unreadable(status, "no 'result' object")
        return Answer(body=body, result=result)

    def unreadable(self, http_status: int, reason: str) -> PayhubError:
        """The error for a success-looking answer whose content cannot be used."""
        if self.money_moves:
            return GatewayUnavailable(
                f"Plutu's answer to {self.what} (HTTP {http_status}) cannot be read ({reason}): "
                "the outcome is unknown, the customer may have been charged; check the "
                "payment in the Plutu dashboard before trying again",
                outcome_unknown=True,
                http_status=http_status,
            )
        return GatewayError(
            f"Plutu's answer to {self.what} (HTTP {http_status}) cannot be read ({reason})",
            http_status=http_status,
        )

    def _refusal(self, http_status: int, error: dict[str, Any]) -> GatewayError:
        raw_code = error.get("code")
        code = scrub(raw_code, self.hide) if isinstance(raw_code, str) and raw_code else None
        raw_message = error.get("message")
        message = scrub(raw_message, self.hide) if isinstance(raw_message, str) else None
        shown = code if code is None or _PRINTABLE_CODE.fullmatch(code) else repr(code[:64])
        logger.debug("Plutu refused %s: code=%s http_status=%s", self.what, shown, http_status)
        return GatewayError(
            f"Plutu refused {self.what}: {shown or 'no code'} (HTTP {http_status}): "
            f"{describe(code)}",
            http_status=http_status,
            code=code,
            gateway_message=message,
        )
