"""What every benchmark case shares: one in-memory gateway, the configurations, signed
callbacks, and the hand-written code a merchant would write instead of payhub.

Only payhub's public API is used here, so the same files run against any installed payhub
(``run.py --python``): the working tree's ``.venv`` or a pristine copy of an older commit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

PLURAL_ROOT = "https://plural.bench.invalid"
PLUTU_ROOT = "https://plutu.bench.invalid"

PLUTU_KEY = "bench-plutu-secret"
PLURAL_SECRET_HEX = "ab" * 32
PLURAL_CLIENT_SECRET = "bench-client-secret"  # noqa: S105
TOKEN = "bench-access-token"  # noqa: S105

ORDER_ID = "v1-250101000000-aa-BeNcH1"
REFUND_ID = "v1-250101000000-aa-ReFuNd"
INVOICE = "INV-1001"


def plutu_gateway() -> dict[str, Any]:
    return {
        "adapter": "plutu.localbankcards",
        "environment": "sandbox",
        "base_url": PLUTU_ROOT,
        "api_key": "bench-api-key",
        "access_token": "bench-plutu-token",
        "secret_key": PLUTU_KEY,
    }


def plural_gateway(*, confirm: bool = True) -> dict[str, Any]:
    return {
        "adapter": "plural.checkout",
        "environment": "sandbox",
        "base_url": PLURAL_ROOT,
        "client_id": "bench-client",
        "client_secret": PLURAL_CLIENT_SECRET,
        "secret_key": PLURAL_SECRET_HEX,
        "confirm_with_get_order": confirm,
    }


def config(*, confirm: bool = True) -> dict[str, Any]:
    return {
        "default": "plural",
        "gateways": {"plutu": plutu_gateway(), "plural": plural_gateway(confirm=confirm)},
    }


# -- the gateway ------------------------------------------------------------------------


def _order(status: str, order_id: str = ORDER_ID) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "merchant_order_reference": INVOICE,
        "type": "CHARGE",
        "status": status,
        "merchant_id": "104359",
        "order_amount": {"value": 50000, "currency": "INR"},
        "pre_auth": False,
        "allowed_payment_methods": ["CARD", "UPI"],
        "notes": "bench",
        "callback_url": "https://shop.example/return",
        "purchase_details": {"customer": {"email_id": "a@b.example"}},
        "payments": [
            {
                "id": "v1-pay-250101-aa-1",
                "merchant_payment_reference": "pay-1",
                "status": status,
                "payment_amount": {"value": 50000, "currency": "INR"},
                "payment_method": "CARD",
                "acquirer_data": {"approval_code": "000000", "acquirer_reference": "20250101"},
                "created_at": "2025-01-01T10:00:00.000Z",
                "updated_at": "2025-01-01T10:00:05.000Z",
            }
        ],
        "created_at": "2025-01-01T10:00:00.000Z",
        "updated_at": "2025-01-01T10:00:05.000Z",
    }


_TOKEN_BODY = json.dumps({"access_token": TOKEN, "expires_in": 3600}).encode()
_ORDER_BODY = json.dumps({"data": _order("PROCESSED")}).encode()
_AUTHORIZED_BODY = json.dumps({"data": _order("AUTHORIZED")}).encode()
_CHECKOUT_BODY = json.dumps(
    {
        "token": "checkout-token",
        "order_id": ORDER_ID,
        "redirect_url": "https://plural.bench.invalid/checkout?token=checkout-token",
        "response_code": 200,
        "response_message": "Order Creation Successful.",
    }
).encode()
_REFUND = _order("PROCESSED", REFUND_ID) | {"type": "REFUND", "parent_order_id": ORDER_ID}
_REFUND_BODY = json.dumps({"data": _REFUND}).encode()
_PLUTU_CONFIRM_BODY = json.dumps(
    {
        "status": 200,
        "message": "OK",
        "result": {
            "code": "PAYMENT_LINK_GENERATED",
            "redirect_url": "https://plutu.bench.invalid/checkout?token=tok-123",
        },
    }
).encode()
_JSON = {"content-type": "application/json"}


def answer(request: httpx.Request) -> httpx.Response:
    """The gateway: Plural's token, order, capture, cancel, refund and checkout endpoints,
    and Plutu's Local Bank Cards confirm. Fixed bodies, so both sides parse the same bytes."""
    path = request.url.path
    if path.endswith("/token"):
        body = _TOKEN_BODY
    elif path.endswith("/capture"):
        body = _ORDER_BODY
    elif path.endswith("/cancel"):
        body = _AUTHORIZED_BODY.replace(b'"AUTHORIZED"', b'"CANCELLED"')
    elif "/refunds/" in path:
        body = _REFUND_BODY
    elif path.endswith("/checkout/v1/orders"):
        body = _CHECKOUT_BODY
    elif path.endswith("/confirm"):
        body = _PLUTU_CONFIRM_BODY
    else:
        body = _ORDER_BODY
    return httpx.Response(200, content=body, headers=_JSON)


def transport() -> httpx.MockTransport:
    return httpx.MockTransport(answer)


def advancing_clock(step: float = 4000.0) -> Callable[[], float]:
    """A clock that jumps ``step`` seconds per reading: every call finds its token expired,
    so each operation fetches a token first (the "token + create order" case)."""
    state = [time.time()]

    def clock() -> float:
        state[0] += step
        return state[0]

    return clock


# -- signed callbacks -------------------------------------------------------------------

LBC_FIELDS = ("gateway", "approved", "canceled", "invoice_no", "amount", "transaction_id")


def plutu_return_query(extra: int = 0) -> str:
    """A signed Local Bank Cards return; ``extra`` unsigned merchant parameters first."""
    pairs = [(f"p{index}", f"v{index}") for index in range(extra)]
    signed = [
        ("gateway", "localbankcards"),
        ("approved", "1"),
        ("invoice_no", INVOICE),
        ("amount", "25.50"),
        ("transaction_id", "100932"),
    ]
    digest = hmac.new(PLUTU_KEY.encode(), urlencode(signed).encode(), hashlib.sha256)
    return urlencode([*pairs, *signed, ("hashed", digest.hexdigest().upper())])


def plural_return_query(extra: int = 0) -> str:
    """A signed Plural return (``order_id``, ``status``, ``signature``)."""
    fields = {"order_id": ORDER_ID, "status": "PROCESSED"}
    text = "&".join(f"{key}={fields[key]}" for key in sorted(fields))
    key = bytes.fromhex(PLURAL_SECRET_HEX)
    signature = hmac.new(key, text.encode(), hashlib.sha256).hexdigest().upper()
    pairs = [(f"p{index}", f"v{index}") for index in range(extra)]
    return urlencode([*pairs, *fields.items(), ("signature", signature)])


def plural_webhook() -> tuple[dict[str, str], bytes]:
    """A signed ``ORDER_PROCESSED`` delivery (Standard Webhooks, keyed with the client
    secret), stamped now."""
    body = json.dumps({"event_type": "ORDER_PROCESSED", "data": _order("PROCESSED")}).encode()
    msg_id = "msg_" + uuid.uuid4().hex
    stamp = str(int(time.time()))
    content = f"{msg_id}.{stamp}.".encode() + body
    digest = hmac.new(PLURAL_CLIENT_SECRET.encode(), content, hashlib.sha256).digest()
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }
    return headers, body


# -- what a merchant writes without payhub ---------------------------------------------


def _timestamp() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def plural_headers(token: str | None) -> dict[str, str]:
    headers = {
        "Accept": "application/json",
        "Request-ID": str(uuid.uuid4()),
        "Request-Timestamp": _timestamp(),
    }
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def order_result(response: httpx.Response) -> dict[str, Any]:
    """Minimal reading of an order answer: 2xx, JSON object, the fields a merchant uses."""
    response.raise_for_status()
    order = json.loads(response.content, parse_float=Decimal)["data"]
    amount = order["order_amount"]
    payments = order.get("payments") or [{}]
    return {
        "reference": order["order_id"],
        "status": order["status"],
        "invoice": order.get("merchant_order_reference"),
        "amount": Decimal(amount["value"]).scaleb(-2),
        "currency": amount["currency"],
        "transaction_id": payments[-1].get("id"),
    }


def token_from(response: httpx.Response) -> str:
    response.raise_for_status()
    token = json.loads(response.content)["access_token"]
    assert isinstance(token, str)
    return token


TOKEN_REQUEST = {
    "client_id": "bench-client",
    "client_secret": PLURAL_CLIENT_SECRET,
    "grant_type": "client_credentials",
}
CHECKOUT_BODY = {
    "merchant_order_reference": INVOICE,
    "order_amount": {"value": 50000, "currency": "INR"},
    "pre_auth": False,
    "callback_url": "https://shop.example/return",
}


def checkout_result(response: httpx.Response) -> dict[str, Any]:
    response.raise_for_status()
    data = json.loads(response.content)
    return {"reference": data["order_id"], "redirect_url": data["redirect_url"]}


def plutu_confirm_request() -> tuple[str, dict[str, str], bytes]:
    url = f"{PLUTU_ROOT}/api/v1/transaction/localbankcards/confirm"
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
        "X-API-KEY": "bench-api-key",
        "Authorization": "Bearer bench-plutu-token",
    }
    content = urlencode(
        [("amount", "25.50"), ("invoice_no", INVOICE), ("return_url", "https://shop.example/r")]
    ).encode()
    return url, headers, content


def plutu_confirm_result(response: httpx.Response) -> dict[str, Any]:
    response.raise_for_status()
    body = json.loads(response.content, parse_float=Decimal)
    if body.get("status") != 200:
        raise ValueError("refused")
    return {"reference": INVOICE, "redirect_url": body["result"]["redirect_url"]}


def minimal_plutu_return(query: str) -> dict[str, Any]:
    """parse_qsl + whitelist in received order + urlencode + HMAC + compare_digest."""
    fields: dict[str, str] = {}
    hashed = ""
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in LBC_FIELDS:
            fields[key] = value
        elif key == "hashed":
            hashed = value
    expected = hmac.new(PLUTU_KEY.encode(), urlencode(list(fields.items())).encode(), "sha256")
    if not hmac.compare_digest(expected.hexdigest().upper(), hashed):
        raise ValueError("bad signature")
    if fields.get("gateway") != "localbankcards":
        raise ValueError("another service")
    return {
        "status": "paid" if fields.get("approved") == "1" else "failed",
        "invoice": fields["invoice_no"],
        "amount": Decimal(fields["amount"]),
        "transaction_id": fields.get("transaction_id"),
    }


_PLURAL_RETURN_FIELDS = ("order_id", "status", "payment_status", "error_code", "error_message")
_PLURAL_KEY = bytes.fromhex(PLURAL_SECRET_HEX)


def minimal_plural_return(query: str) -> dict[str, Any]:
    """parse_qsl + documented fields + sorted ``k=v&`` + HMAC + compare_digest."""
    fields: dict[str, str] = {}
    signature = ""
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in _PLURAL_RETURN_FIELDS:
            fields[key] = value
        elif key == "signature":
            signature = value
    text = "&".join(f"{key}={fields[key]}" for key in sorted(fields))
    expected = hmac.new(_PLURAL_KEY, text.encode(), "sha256").hexdigest().upper()
    if not hmac.compare_digest(expected, signature.upper()):
        raise ValueError("bad signature")
    return {"reference": fields["order_id"], "status": fields["status"].upper()}


def minimal_plural_webhook(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """Standard Webhooks by hand: age, HMAC over ``id.timestamp.body``, then the event."""
    msg_id = headers["webhook-id"]
    stamp = headers["webhook-timestamp"]
    if abs(time.time() - int(stamp)) > 300:
        raise ValueError("too old")
    content = f"{msg_id}.{stamp}.".encode() + body
    expected = base64.b64encode(
        hmac.new(PLURAL_CLIENT_SECRET.encode(), content, "sha256").digest()
    ).decode()
    if not any(
        hmac.compare_digest(expected, entry.partition(",")[2])
        for entry in headers["webhook-signature"].split()
    ):
        raise ValueError("bad signature")
    event = json.loads(body, parse_float=Decimal)
    order = event["data"]
    return {
        "event": msg_id,
        "type": event["event_type"],
        "reference": order["order_id"],
        "status": order["status"],
        "amount": Decimal(order["order_amount"]["value"]).scaleb(-2),
    }
