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

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx

from payhub_core import GatewayError, GatewayUnavailable, PayhubError
from payhub_core.redaction import scrub
from payhub_plutu._codes import describe
from payhub_plutu._settings import PlutuSettings

__all__ = ["API_PATH", "Answer", "Exchange", "build_request"]

logger = logging.getLogger("payhub.plutu")

API_PATH = "/api/v1/transaction"
_PRINTABLE_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# One decoder for every answer: json.loads(..., parse_float=Decimal) would build one per call.
_DECIMAL_JSON = json.JSONDecoder(parse_float=Decimal)


def build_request(
    settings: PlutuSettings, root: str, service: str, action: str, fields: Sequence[tuple[str, str]]
) -> httpx.Request:
    """``POST .../transaction/{service}/{action}`` with ``fields`` form-encoded in order."""
    return httpx.Request(
        "POST",
        f"{root}{API_PATH}/{service}/{action}",
        headers={
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
            "X-API-KEY": settings.api_key.get_secret_value(),
            "Authorization": f"Bearer {settings.access_token.get_secret_value()}",
        },
        content=urlencode(list(fields)).encode("ascii"),
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
    hide: tuple[str, ...] = ()

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
