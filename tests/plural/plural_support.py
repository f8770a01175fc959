"""Shared helpers for the Plural adapter tests: configuration, a stateful fake Plural API
for ``httpx.MockTransport``, and signing done independently of the adapters (stdlib
``hmac``/``base64``, following Plural's published Python snippet and the Standard Webhooks
text).

The canary values (client secret, secret key, access tokens, card number, CVV) are what the
secrecy tests look for in logs, reprs and errors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from payhub_core import AsyncHub, Callback, Card, Customer, Hub, Invoice, Money

CLIENT_ID = "client-id-for-tests"
CLIENT_SECRET = "cs-CANARY-client-secret-5f0e7d"
SECRET_KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90"  # the key of tests/vectors/plural_return.json
TOKEN_PREFIX = "at-CANARY-token-"
CARD_NUMBER = "4012888888881881"
CVV = "0917"  # digits only, so it starts with 0: see tests/canaries.py
ROOT = "https://pluraluat.v2.pinepg.in"
ALIAS = "india"

VECTORS = Path(__file__).resolve().parents[1] / "vectors"

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def load_vectors(name: str) -> list[dict[str, Any]]:
    data = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    vectors: list[dict[str, Any]] = data["vectors"]
    return vectors


def settings(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "environment": "uat",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "secret_key": SECRET_KEY,
        "max_retries": 0,
        "retry_backoff": 0.0,
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def config(adapter: str = "plural.checkout", **overrides: Any) -> dict[str, Any]:
    return {"gateways": {ALIAS: {"adapter": adapter, **settings(**overrides)}}}


def adapter_of(hub: Hub | AsyncHub) -> Any:
    """The adapter instance behind the test gateway (to swap its clock)."""
    return hub.adapter(ALIAS)


def invoice(
    number: str = "INV-1001",
    amount: str = "11.00",
    *,
    capture: str = "automatic",
    payment_method: Any = None,
    **extra: Any,
) -> Invoice:
    return Invoice(
        number=number,
        amount=Money(amount, "INR"),
        return_url="https://shop.example/payhub/return",
        capture=capture,
        payment_method=payment_method,
        **extra,
    )


def card(**extra: Any) -> Card:
    return Card(number=CARD_NUMBER, cvv=CVV, expiry_month=12, expiry_year=2030, **extra)


def customer() -> Customer:
    return Customer(
        email="asha@example.in", first_name="Asha", last_name="Rao", mobile="+91 98765 43210"
    )


# -- independent signing -------------------------------------------------------------------


def return_signature(fields: Mapping[str, str], key_hex: str = SECRET_KEY) -> str:
    """Plural's snippet: sorted k=v joined with '&', HMAC-SHA256 (hex key), upper hex."""
    message = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "signature")
    return hmac.new(bytes.fromhex(key_hex), message.encode(), hashlib.sha256).hexdigest().upper()


def return_callback(
    fields: Mapping[str, str],
    *,
    key_hex: str = SECRET_KEY,
    method: str = "POST",
    signature: str | None = None,
    extra: Iterable[tuple[str, str]] = (),
) -> Callback:
    """A browser return as Plural sends it: a POST form (or a GET query)."""
    pairs = [*fields.items(), ("signature", signature or return_signature(fields, key_hex))]
    pairs += list(extra)
    encoded = urlencode(pairs)
    if method == "GET":
        return Callback(method="GET", query=encoded)
    return Callback(
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=encoded.encode(),
    )


def webhook_signature(key: bytes, msg_id: str, timestamp: int | str, body: bytes) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def webhook_callback(
    payload: Mapping[str, Any] | bytes,
    *,
    secret: str = CLIENT_SECRET,
    msg_id: str = "msg_2nEfCaUDn9fynC9Kz2upo1QSydl",
    timestamp: int | None = None,
    signature: str | None = None,
) -> Callback:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    stamp = int(time.time()) if timestamp is None else timestamp
    return Callback(
        method="POST",
        headers={
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": signature
            or webhook_signature(secret.encode(), msg_id, stamp, body),
        },
        body=body,
    )


# -- a fake Plural ---------------------------------------------------------------------------

Scripted = httpx.Response | Callable[[httpx.Request], httpx.Response] | Exception


def error(status: int, code: str, message: str, **details: str) -> httpx.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["additional_error_details"] = details
    return httpx.Response(status, json=body)


class FakePlural:
    """Plural's API as docs/plural/ describes it, in memory and thread-safe.

    Tokens are checked on every call (``revoke_tokens`` makes the next call answer 401);
    orders follow CREATED -> PENDING -> PROCESSED | AUTHORIZED -> PROCESSED | CANCELLED,
    with refunds to PARTIALLY_REFUNDED / FULLY_REFUNDED. ``script(method, path_part, ...)``
    queues canned answers (or exceptions) for matching requests, used once each.
    """

    def __init__(self, *, token_delay: float = 0.0, list_refunds: bool = False) -> None:
        self.lock = threading.Lock()
        self.token_delay = token_delay
        self.list_refunds = list_refunds
        self.token_expiry: dict[str, Any] = {"expires_in": 3600}
        self.token_requests = 0
        self.valid_tokens: set[str] = set()
        self.orders: dict[str, dict[str, Any]] = {}
        self.refund_status = "PROCESSED"
        self._scripts: list[tuple[str, str, list[Scripted]]] = []
        self._ids = itertools.count(1)

    # test controls ------------------------------------------------------------------

    def script(self, method: str, path_part: str, *answers: Scripted) -> None:
        with self.lock:
            self._scripts.append((method, path_part, list(answers)))

    def revoke_tokens(self) -> None:
        with self.lock:
            self.valid_tokens.clear()

    def add_order(
        self,
        *,
        reference: str = "INV-1001",
        value: int = 1100,
        status: str = "PROCESSED",
        pre_auth: bool = False,
    ) -> str:
        with self.lock:
            order = self._new_order(
                {
                    "merchant_order_reference": reference,
                    "order_amount": {"value": value, "currency": "INR"},
                    "pre_auth": pre_auth,
                },
                "REDIRECT",
            )
        if status != "CREATED":
            self.complete(order["order_id"], status)
        return str(order["order_id"])

    def complete(self, order_id: str, status: str | None = None) -> None:
        """The customer pays: AUTHORIZED for pre-auth orders, else PROCESSED."""
        with self.lock:
            order = self.orders[order_id]
            final = status or ("AUTHORIZED" if order["pre_auth"] else "PROCESSED")
            if not order["payments"]:
                order["payments"].append(self._payment(order, "CARD"))
            order["payments"][-1]["status"] = "FAILED" if final == "FAILED" else final
            order["status"] = final

    # the API ------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        answer = self._scripted(request)
        if isinstance(answer, Exception):
            raise answer
        if answer is not None:
            return answer
        path = request.url.path
        path = path[path.find("/api/") :]  # the root may carry a prefix (sandbox, proxy)
        if request.method == "POST" and path == "/api/auth/v1/token":
            return self._token(request)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self.lock:
            if token not in self.valid_tokens:
                return error(401, "UNAUTHORIZED", "Unauthorized")
            return self._route(request, path)

    def _scripted(self, request: httpx.Request) -> httpx.Response | Exception | None:
        with self.lock:
            for method, part, answers in self._scripts:
                if method == request.method and part in request.url.path and answers:
                    answer = answers.pop(0)
                    break
            else:
                return None
        if isinstance(answer, (httpx.Response, Exception)):
            return answer
        return answer(request)

    def _token(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        with self.lock:
            self.token_requests += 1
            number = self.token_requests
        if self.token_delay:
            time.sleep(self.token_delay)
        if body != {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "grant_type": "client_credentials",
        }:
            return error(401, "UNAUTHORIZED", "invalid client credentials")
        token = f"{TOKEN_PREFIX}{number}"
        with self.lock:
            self.valid_tokens.add(token)
        return httpx.Response(200, json={"access_token": token, **self.token_expiry})

    def _route(self, request: httpx.Request, path: str) -> httpx.Response:
        parts = path.strip("/").split("/")
        body = json.loads(request.content) if request.content else None
        if request.method == "POST" and path == "/api/checkout/v1/orders":
            order = self._new_order(body, "REDIRECT")
            return httpx.Response(
                200,
                json={
                    "token": "redirect-token-1",
                    "order_id": order["order_id"],
                    "redirect_url": "https://api.pluralonline.com/api/v3/checkout-bff/"
                    "redirect/checkout?token=redirect-token-1",
                    "response_code": 200,
                    "response_message": "Order Creation Successful.",
                },
            )
        if request.method == "POST" and path == "/api/pay/v1/orders":
            return self._data(self._new_order(body, "SEAMLESS"))
        if request.method == "GET" and parts[:5] == ["api", "pay", "v1", "orders", "reference"]:
            found = [o for o in self.orders.values() if o["merchant_order_reference"] == parts[5]]
            if not found:
                return error(404, "ORDER_NOT_FOUND", "Order not found")
            return self._data(found[-1])
        if parts[:3] == ["api", "pay", "v1"] and parts[3] == "orders" and len(parts) >= 5:
            order = self.orders.get(parts[4])
            if order is None:
                return error(404, "ORDER_NOT_FOUND", "Order not found")
            action = parts[5] if len(parts) > 5 else None
            if request.method == "GET" and action is None:
                return self._data(order)
            if request.method == "POST" and action == "payments":
                return self._pay(order, body)
            if request.method == "PUT" and action == "capture":
                return self._capture(order, body)
            if request.method == "PUT" and action == "cancel":
                if order["status"] != "AUTHORIZED":
                    return error(422, "OPERATION_NOT_ALLOWED", "Order is not authorized")
                order["status"] = "CANCELLED"
                order["payments"][-1]["status"] = "CANCELLED"
                return self._data(order)
        if request.method == "POST" and parts[:4] == ["api", "pay", "v1", "refunds"]:
            order = self.orders.get(parts[4])
            if order is None:
                return error(404, "ORDER_NOT_FOUND", "Order not found")
            return self._refund(order, body)
        return error(404, "NOT_FOUND", "no such route")

    def _data(self, order: Mapping[str, Any]) -> httpx.Response:
        return httpx.Response(200, json={"data": order})

    def _new_order(self, body: Any, mode: str) -> dict[str, Any]:
        number = next(self._ids)
        order_id = f"v1-{number:010d}-aa-Tst{number:03d}"
        order = {
            "order_id": order_id,
            "merchant_order_reference": body["merchant_order_reference"],
            "type": "CHARGE",
            "status": "CREATED",
            "merchant_id": "104359",
            "order_amount": body["order_amount"],
            "pre_auth": body.get("pre_auth", False),
            "callback_url": body.get("callback_url"),
            "purchase_details": body.get("purchase_details", {}),
            "payments": [],
            "integration_mode": mode,
            "created_at": "2024-07-15T05:44:51.174Z",
            "updated_at": "2024-07-15T05:44:51.174Z",
        }
        if self.list_refunds:
            order["refunds"] = []
        self.orders[order_id] = order
        return order

    def _payment(self, order: Mapping[str, Any], method: str) -> dict[str, Any]:
        return {
            "id": f"{order['order_id']}-cc-{len(order['payments']) + 1}",
            "merchant_payment_reference": "pay-ref",
            "status": "PENDING",
            "payment_amount": order["order_amount"],
            "payment_method": method,
            "capture_data": [],
        }

    def _pay(self, order: dict[str, Any], body: Any) -> httpx.Response:
        item = body["payments"][0]
        payment = self._payment(order, item["payment_method"])
        payment["merchant_payment_reference"] = item["merchant_payment_reference"]
        order["payments"].append(payment)
        order["status"] = "PENDING"
        if (
            item["payment_method"] != "UPI"
            or item["payment_option"]["upi_details"]["txn_mode"] == "INTENT"
        ):
            order["challenge_url"] = (
                f"https://redirect-listener-service-uat.v2.pinepg.in/challenge?order={order['order_id']}"
            )
        return self._data(order)

    def _capture(self, order: dict[str, Any], body: Any) -> httpx.Response:
        if order["status"] != "AUTHORIZED":
            return error(422, "OPERATION_NOT_ALLOWED", "Order is not authorized")
        amount = body.get("capture_amount", order["order_amount"])
        if amount["value"] > order["order_amount"]["value"]:
            return error(422, "AMOUNT_LIMIT_EXCEEDED", "Capture amount exceeds order amount")
        order["status"] = "PROCESSED"
        order["payments"][-1]["status"] = "PROCESSED"
        order["payments"][-1]["capture_data"] = [
            {
                "merchant_capture_reference": body["merchant_capture_reference"],
                "capture_amount": amount,
                "created_at": "2024-07-15T06:00:00.000Z",
            }
        ]
        return self._data(order)

    def refunded(self, order: Mapping[str, Any]) -> int:
        return sum(
            refund["order_amount"]["value"]
            for refund in self.orders.values()
            if refund.get("parent_order_id") == order["order_id"] and refund["status"] != "FAILED"
        )

    def _refund(self, order: dict[str, Any], body: Any) -> httpx.Response:
        if order["status"] not in ("PROCESSED", "PARTIALLY_REFUNDED"):
            return error(422, "OPERATION_NOT_ALLOWED", "Order is not processed")
        captures = [c for p in order["payments"] for c in p.get("capture_data", [])]
        paid = (captures[-1]["capture_amount"] if captures else order["order_amount"])["value"]
        value = body["order_amount"]["value"]
        if value > paid - self.refunded(order):
            return error(422, "AMOUNT_LIMIT_EXCEEDED", "Refund amount exceeds the paid amount")
        number = sum(1 for o in self.orders.values() if o.get("parent_order_id")) + 1
        refund = {
            "order_id": f"{order['order_id']}-r{number}",
            "parent_order_id": order["order_id"],
            "merchant_order_reference": body["merchant_order_reference"],
            "type": "REFUND",
            "status": self.refund_status,
            "merchant_id": "104359",
            "order_amount": body["order_amount"],
            "payments": [],
        }
        self.orders[refund["order_id"]] = refund
        if self.refund_status == "PROCESSED":
            left = paid - self.refunded(order)
            order["status"] = "FULLY_REFUNDED" if left == 0 else "PARTIALLY_REFUNDED"
        if self.list_refunds:
            order["refunds"].append(
                {
                    "order_id": refund["order_id"],
                    "status": refund["status"],
                    "order_amount": body["order_amount"],
                }
            )
        return self._data(refund)


def order_event(event_type: str, order: Mapping[str, Any]) -> dict[str, Any]:
    return {"event_type": event_type, "data": dict(order)}
