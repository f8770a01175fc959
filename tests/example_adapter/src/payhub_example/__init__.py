"""Acme Pay: a fictional gateway with a small JSON API, used to test third-party adapters.

API (all JSON, ``Authorization: Bearer <api_key>``):
  POST /payments                 {"ref", "amount_minor", "currency", "return_url", "capture"}
                                 -> {"id", "status", "redirect_url"}
  POST /payments/{id}/capture    {"amount_minor"?} -> payment
  POST /payments/{id}/cancel     -> payment
  POST /payments/{id}/refunds    {"amount_minor"?} -> payment
  GET  /payments/{id}            -> payment
Return: GET return_url?id=..&ref=..&status=..&amount_minor=..&currency=..&sig=<hex>
  where sig = HMAC-SHA256(secret, "amount_minor=..&currency=..&id=..&ref=..&status=..").
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel, SecretStr

from payhub_core import (
    Callback,
    Checkout,
    GatewayError,
    GatewayUnavailable,
    Invoice,
    Money,
    OtpCode,
    PaymentResult,
    PaymentStatus,
    Redirect,
    SignatureError,
    hookimpl,
)
from payhub_core.flows import Flow, idempotent
from payhub_core.signing import FieldSchema, hex_equal, hmac_sha256_hex, sorted_query

NOT_A_CLASS = 42

_STATUSES = {
    "pending": PaymentStatus.PENDING,
    "authorized": PaymentStatus.AUTHORIZED,
    "paid": PaymentStatus.PAID,
    "canceled": PaymentStatus.CANCELED,
    "failed": PaymentStatus.FAILED,
    "refunded": PaymentStatus.REFUNDED,
}
_RETURN = FieldSchema(
    {
        "id": r"[a-z0-9_]+",
        "ref": r"[A-Za-z0-9_-]+",
        "status": r"[a-z]+",
        "amount_minor": r"[0-9]+",
        "currency": r"[A-Z]{3}",
    }
)


class AcmeAdapter:
    class Settings(BaseModel):
        model_config = {"frozen": True, "extra": "forbid"}

        api_key: SecretStr
        secret: SecretStr
        base_url: str = "https://api.acme.example"
        max_retries: int = 1
        retry_backoff: float = 0.0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Request:
        return httpx.Request(
            method,
            f"{self.settings.base_url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.settings.api_key.get_secret_value()}"},
        )

    def _read(self, response: httpx.Response, *, money_moves: bool) -> dict[str, Any]:
        """The JSON object of a 2xx answer. An answer that cannot be read is an unknown
        outcome where the call may have moved money (retrying could do it twice)."""
        if response.status_code >= 400:
            raise GatewayError("Acme refused", http_status=response.status_code)
        try:
            data = response.json()
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            if money_moves:
                raise GatewayUnavailable(
                    "Acme's answer cannot be read: the outcome is unknown",
                    outcome_unknown=True,
                    http_status=response.status_code,
                )
            raise GatewayError("Acme's answer cannot be read", http_status=response.status_code)
        return data

    def _result(self, response: httpx.Response, *, money_moves: bool = True) -> PaymentResult:
        data = self._read(response, money_moves=money_moves)
        status, minor = data.get("status"), data.get("amount_minor")
        if status not in _STATUSES or isinstance(minor, bool) or not isinstance(minor, int):
            if money_moves:
                raise GatewayUnavailable(
                    "Acme's answer has no usable status or amount: the outcome is unknown",
                    outcome_unknown=True,
                    http_status=response.status_code,
                )
            raise GatewayError("Acme's answer has no usable status or amount")
        return PaymentResult(
            status=_STATUSES[status],
            reference=data["id"],
            invoice_number=data.get("ref"),
            amount=Money.from_minor(minor, str(data.get("currency"))),
            transaction_id=data["id"],
            raw=data,
        )

    @hookimpl
    def payhub_initiate(self, invoice: Invoice) -> Flow[Checkout]:
        response = yield self._request(
            "POST",
            "/payments",
            {
                "ref": invoice.number,
                "amount_minor": invoice.amount.minor_units,
                "currency": invoice.amount.currency,
                "return_url": invoice.return_url,
                "capture": invoice.capture,
            },
        )
        data = self._read(response, money_moves=False)
        url = data.get("redirect_url")
        if not isinstance(url, str) or not url.startswith("https://"):
            raise GatewayError("Acme answered no redirect_url", http_status=response.status_code)
        return Checkout(reference=data["id"], action=Redirect(url=url), raw=data)

    @hookimpl
    def payhub_verify(self, evidence: Callback | OtpCode) -> PaymentResult:
        if not isinstance(evidence, Callback):
            raise SignatureError("Acme has no OTP flow")
        pairs = evidence.query_params()
        signature = next((value for key, value in pairs if key == "sig"), "")
        fields = _RETURN.select(pairs)
        expected = hmac_sha256_hex(self.settings.secret.get_secret_value(), sorted_query(fields))
        if not signature or not hex_equal(expected, signature) or len(fields) != 5:
            raise SignatureError("the Acme return signature does not match")
        return PaymentResult(
            status=_STATUSES.get(fields["status"], PaymentStatus.FAILED),
            reference=fields["id"],
            invoice_number=fields["ref"],
            amount=Money.from_minor(int(fields["amount_minor"]), fields["currency"]),
            transaction_id=fields["id"],
            raw=fields,
        )

    @hookimpl
    def payhub_capture(self, reference: str, amount: Money | None) -> Flow[PaymentResult]:
        body = {} if amount is None else {"amount_minor": amount.minor_units}
        response = yield self._request("POST", f"/payments/{reference}/capture", body)
        return self._result(response)

    @hookimpl
    def payhub_cancel(self, reference: str) -> Flow[PaymentResult]:
        response = yield self._request("POST", f"/payments/{reference}/cancel")
        return self._result(response)

    @hookimpl
    def payhub_refund(self, reference: str, amount: Money | None) -> Flow[PaymentResult]:
        body = {} if amount is None else {"amount_minor": amount.minor_units}
        response = yield self._request("POST", f"/payments/{reference}/refunds", body)
        return self._result(response)

    @hookimpl
    def payhub_status(self, reference: str) -> Flow[PaymentResult]:
        response = yield idempotent(self._request("GET", f"/payments/{reference}"))
        return self._result(response, money_moves=False)
