"""The example third-party adapter (tests/example_adapter, ``acme.pay``) passes the
conformance suite, discovered through its entry point like any installed adapter."""

from __future__ import annotations

from acme_fake import SETTINGS, FakeAcme

from payhub_core import Callback, Checkout, Invoice
from payhub_core.testing.conformance import AdapterConformance, GatewayHandler


class TestAcmeConformance(AdapterConformance):
    adapter = "acme.pay"
    settings = SETTINGS
    amount_field = "amount_minor"
    amount_unit = "minor"

    def gateway(self) -> FakeAcme:
        return FakeAcme()

    def evidence(self, gateway: GatewayHandler, invoice: Invoice, checkout: Checkout) -> Callback:
        assert isinstance(gateway, FakeAcme)
        return gateway.pay(checkout.reference)
