"""A fake Acme Pay (the example third-party gateway in tests/example_adapter), in memory.

It answers the adapter's JSON API as an ``httpx.MockTransport`` handler and plays the
customer: :meth:`FakeAcme.pay` returns the signed browser return Acme sends after the
checkout, signed here with the standard library, independently of the adapter.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from typing import Any
from urllib.parse import urlencode

import httpx

from payhub_core import Callback

API_KEY = "ak-CANARY-acme-4b1f9e"
SECRET = "sk-CANARY-acme-7c2d0a"
BASE_URL = "https://api.acme.example"
SETTINGS = {"api_key": API_KEY, "secret": SECRET, "base_url": BASE_URL}


def sign(fields: dict[str, str], secret: str = SECRET) -> str:
    message = "&".join(f"{key}={fields[key]}" for key in sorted(fields))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class FakeAcme:
    """Acme's API: payments move pending -> paid (or authorized -> paid / canceled)."""

    def __init__(self) -> None:
        self.payments: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return httpx.Response(401, json={"error": "unauthorized"})
        parts = request.url.path.strip("/").split("/")
        body = json.loads(request.content) if request.content else {}
        if request.method == "POST" and parts == ["payments"]:
            return self._create(body)
        if len(parts) < 2 or parts[0] != "payments" or parts[1] not in self.payments:
            return httpx.Response(404, json={"error": "not found"})
        payment = self.payments[parts[1]]
        action = parts[2] if len(parts) > 2 else None
        if request.method == "GET" and action is None:
            return httpx.Response(200, json=payment)
        if request.method == "POST" and action == "capture" and payment["status"] == "authorized":
            payment["status"] = "paid"
        elif request.method == "POST" and action == "cancel" and payment["status"] == "authorized":
            payment["status"] = "canceled"
        elif request.method == "POST" and action == "refunds" and payment["status"] == "paid":
            payment["status"] = "refunded"
        else:
            return httpx.Response(409, json={"error": "not allowed"})
        return httpx.Response(200, json=payment)

    def _create(self, body: dict[str, Any]) -> httpx.Response:
        if not isinstance(body.get("amount_minor"), int) or body["amount_minor"] <= 0:
            return httpx.Response(422, json={"error": "amount_minor"})
        payment_id = f"pay_{next(self._ids)}"
        self.payments[payment_id] = {
            "id": payment_id,
            "ref": body["ref"],
            "amount_minor": body["amount_minor"],
            "currency": body["currency"],
            "capture": body.get("capture", "automatic"),
            "return_url": body.get("return_url"),
            "status": "pending",
            "redirect_url": f"https://pay.acme.example/checkout/{payment_id}",
        }
        return httpx.Response(200, json=self.payments[payment_id])

    def pay(self, payment_id: str, secret: str = SECRET) -> Callback:
        """The customer pays: the browser comes back with Acme's signed return."""
        payment = self.payments[payment_id]
        payment["status"] = "authorized" if payment["capture"] == "manual" else "paid"
        fields = {
            "id": payment_id,
            "ref": payment["ref"],
            "status": payment["status"],
            "amount_minor": str(payment["amount_minor"]),
            "currency": payment["currency"],
        }
        return Callback(method="GET", query=urlencode({**fields, "sig": sign(fields, secret)}))
