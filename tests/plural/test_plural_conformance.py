"""Both Plural adapters pass payhub's conformance suite, against the in-memory fake Plural
of ``plural_support`` (signing done independently of the adapters)."""

from __future__ import annotations

from typing import Any, Literal

import httpx
from plural_support import (
    FakePlural,
    card,
    order_event,
    return_callback,
    settings,
    webhook_callback,
)

from payhub_core import Callback, Checkout, Invoice, Money
from payhub_core.testing.conformance import AdapterConformance, GatewayHandler

OTHER_MERCHANTS_KEY = "0f" * 16


def _fake(gateway: GatewayHandler) -> FakePlural:
    assert isinstance(gateway, FakePlural)
    return gateway


class _PluralConformance(AdapterConformance):
    settings = settings()
    amount_field = "order_amount.value"
    amount_unit = "minor"

    def gateway(self) -> FakePlural:
        return FakePlural()

    def invoice_extra(self) -> dict[str, Any]:
        return {}

    def invoice(
        self, number: str, amount: Money, capture: Literal["automatic", "manual"] = "automatic"
    ) -> Invoice:
        return Invoice(
            number=number,
            amount=amount,
            return_url="https://shop.example/payhub/return",
            capture=capture,
            **self.invoice_extra(),
        )

    def evidence(self, gateway: GatewayHandler, invoice: Invoice, checkout: Checkout) -> Callback:
        _fake(gateway).complete(checkout.reference)  # the customer pays on Plural's page
        status = "AUTHORIZED" if invoice.capture == "manual" else "PROCESSED"
        return return_callback({"order_id": checkout.reference, "status": status})

    def foreign_evidence(
        self, gateway: GatewayHandler, invoice: Invoice, checkout: Checkout
    ) -> list[Callback]:
        fake = _fake(gateway)
        fake.complete(checkout.reference)
        order = fake.orders[checkout.reference]
        fields = {"order_id": checkout.reference, "status": "PROCESSED"}
        return [
            return_callback(fields, key_hex=OTHER_MERCHANTS_KEY),
            webhook_callback(order_event("ORDER_PROCESSED", order), secret="another-merchant"),
        ]

    def safe_to_repeat(self, request: httpx.Request) -> bool:
        # Buying an access token moves no money: the adapter may repeat it.
        return request.url.path == "/api/auth/v1/token" or super().safe_to_repeat(request)


class TestHostedCheckoutConformance(_PluralConformance):
    adapter = "plural.checkout"


class TestSeamlessCheckoutConformance(_PluralConformance):
    adapter = "plural.seamless"

    def invoice_extra(self) -> dict[str, Any]:
        return {"payment_method": card()}


class TestHostedCheckoutWebhookConformance(_PluralConformance):
    """The same adapter, paid evidence arriving as a signed webhook instead of the return:
    the mutations then reach the Standard Webhooks headers and the raw JSON body."""

    adapter = "plural.checkout"

    def evidence(self, gateway: GatewayHandler, invoice: Invoice, checkout: Checkout) -> Callback:
        fake = _fake(gateway)
        fake.complete(checkout.reference)
        event = "ORDER_AUTHORIZED" if invoice.capture == "manual" else "ORDER_PROCESSED"
        return webhook_callback(order_event(event, fake.orders[checkout.reference]))
