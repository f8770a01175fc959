"""Shared pieces for the core machinery tests (hub, drivers, flows, hooks, redaction).

Two kinds of adapters are used:

- ``acme.pay``: the real third-party example distribution (tests/example_adapter), found
  through the ``payhub.adapters`` entry point like any installed package.
- test-local adapter classes, for cases no installed adapter should have (a misspelled
  hook, a flow that yields junk...). ``use_local_adapters`` makes the registry return them
  for their names by monkeypatching ``payhub_core._registry.load_adapter``; every other
  name still goes through real discovery.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from payhub_core import (
    Checkout,
    GatewaySettings,
    Invoice,
    Money,
    PaymentResult,
    PaymentStatus,
    Redirect,
    _registry,
    hookimpl,
)
from payhub_core.flows import Flow, idempotent

ACME_BASE = "https://api.acme.example"
LOCAL_BASE = "https://gw.local.example"


def acme_config(
    api_key: str = "acme-key", secret: str = "acme-secret", **extra: Any
) -> dict[str, Any]:
    return {
        "gateways": {"acme": {"adapter": "acme.pay", "api_key": api_key, "secret": secret, **extra}}
    }


def acme_payment(
    status: str = "paid", *, ref: str = "INV-1", amount_minor: int = 2550, currency: str = "USD"
) -> dict[str, Any]:
    return {
        "id": "pay_1",
        "status": status,
        "ref": ref,
        "amount_minor": amount_minor,
        "currency": currency,
        "redirect_url": "https://pay.acme.example/checkout/pay_1",
    }


def acme_return_query(
    secret: str,
    *,
    status: str = "paid",
    ref: str = "INV-1",
    amount_minor: int = 2550,
    currency: str = "USD",
    payment_id: str = "pay_1",
) -> str:
    """The query string Acme appends to the return URL, signed as its docs say."""
    fields = {
        "amount_minor": str(amount_minor),
        "currency": currency,
        "id": payment_id,
        "ref": ref,
        "status": status,
    }
    canonical = "&".join(f"{key}={fields[key]}" for key in sorted(fields))
    sig = hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    return (
        f"id={payment_id}&ref={ref}&status={status}&amount_minor={amount_minor}"
        f"&currency={currency}&sig={sig}"
    )


def invoice(number: str = "INV-1", amount: str = "25.50", currency: str = "USD") -> Invoice:
    return Invoice(
        number=number,
        amount=Money(amount, currency),
        return_url="https://shop.example/payhub/return",
    )


def json_response(data: Any, status: int = 200, **kwargs: Any) -> httpx.Response:
    return httpx.Response(status, json=data, **kwargs)


def no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request may be sent, but {request.method} {request.url} was")


class LocalSettings(GatewaySettings):
    """Driver knobs of GatewaySettings plus one secret; retries are instant by default."""

    environment: str = "test"
    api_key: SecretStr = SecretStr("local-key")
    retry_backoff: float = 0.0


def paid(reference: str = "ref-1", **fields: Any) -> PaymentResult:
    return PaymentResult(status=PaymentStatus.PAID, reference=reference, **fields)


class PlainAdapter:
    """Every hook answers at once, without a flow (no I/O at all)."""

    Settings = LocalSettings

    def __init__(self, settings: LocalSettings) -> None:
        self.settings = settings

    @hookimpl
    def payhub_initiate(self, invoice: Invoice) -> Checkout:
        return Checkout(
            reference=f"plain-{invoice.number}", action=Redirect(url="https://r.example/x")
        )

    @hookimpl
    def payhub_verify(self, evidence: Any) -> PaymentResult:
        return paid("plain-verify")

    @hookimpl
    def payhub_capture(self, reference: str, amount: Money | None) -> PaymentResult:
        return paid(reference, amount=amount)

    @hookimpl
    def payhub_cancel(self, reference: str) -> PaymentResult:
        return PaymentResult(status=PaymentStatus.CANCELED, reference=reference)

    @hookimpl
    def payhub_refund(self, reference: str, amount: Money | None) -> PaymentResult:
        return PaymentResult(status=PaymentStatus.REFUNDED, reference=reference, amount=amount)

    @hookimpl
    def payhub_status(self, reference: str) -> PaymentResult:
        return paid(reference)


class FlowAdapter:
    """Every hook is a one-request flow against LOCAL_BASE; ``status`` is idempotent.

    The API key travels in the X-API-KEY header; the answer's JSON ``status`` becomes the
    payment status.
    """

    Settings = LocalSettings

    def __init__(self, settings: LocalSettings) -> None:
        self.settings = settings

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Request:
        base = self.settings.base_url or LOCAL_BASE
        headers = {"X-API-KEY": self.settings.api_key.get_secret_value()}
        return httpx.Request(method, f"{base}{path}", headers=headers, **kwargs)

    @staticmethod
    def _result(response: httpx.Response, reference: str) -> PaymentResult:
        data = response.json()
        return PaymentResult(status=PaymentStatus(data["status"]), reference=reference, raw=data)

    @hookimpl
    def payhub_initiate(self, invoice: Invoice) -> Flow[Checkout]:
        response = yield self._request("POST", "/orders", json={"number": invoice.number})
        return Checkout(reference=response.json()["reference"])

    @hookimpl
    def payhub_verify(self, evidence: Any) -> Flow[PaymentResult]:
        response = yield self._request("POST", "/verify")
        return self._result(response, "verified")

    @hookimpl
    def payhub_capture(self, reference: str, amount: Money | None) -> Flow[PaymentResult]:
        response = yield self._request("POST", f"/orders/{reference}/capture")
        return self._result(response, reference)

    @hookimpl
    def payhub_cancel(self, reference: str) -> Flow[PaymentResult]:
        response = yield self._request("POST", f"/orders/{reference}/cancel")
        return self._result(response, reference)

    @hookimpl
    def payhub_refund(self, reference: str, amount: Money | None) -> Flow[PaymentResult]:
        response = yield self._request("POST", f"/orders/{reference}/refund")
        return self._result(response, reference)

    @hookimpl
    def payhub_status(self, reference: str) -> Flow[PaymentResult]:
        response = yield idempotent(self._request("GET", f"/orders/{reference}"))
        return self._result(response, reference)


def local_config(
    adapter: str = "local.flow", alias: str = "local", **settings: Any
) -> dict[str, Any]:
    return {"gateways": {alias: {"adapter": adapter, **settings}}}


def use_local_adapters(monkeypatch: pytest.MonkeyPatch, **classes: type) -> None:
    """Make ``load_adapter`` return these test-local classes for their entry point names
    (keyword ``local_flow`` is the name ``local.flow``); other names are discovered for real."""
    real = _registry.load_adapter
    by_name = {name.replace("_", "."): cls for name, cls in classes.items()}

    def load(name: str) -> type:
        return by_name[name] if name in by_name else real(name)

    monkeypatch.setattr(_registry, "load_adapter", load)
