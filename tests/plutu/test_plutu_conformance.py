"""The five Plutu adapters pass payhub's conformance suite, against the in-memory fake
Plutu of ``plutu_support`` (signing done independently of the adapters)."""

from __future__ import annotations

from typing import ClassVar, Literal

from plutu_support import (
    ACCESS_TOKEN,
    ADFALI_OTP,
    API_KEY,
    SADAD_OTP,
    SECRET_KEY,
    FakePlutu,
    json_callback,
    return_to,
    sign_pairs,
)
from pydantic import SecretStr

from payhub_core import Callback, Checkout, Customer, Invoice, Money, OtpCode
from payhub_core.testing.conformance import AdapterConformance, GatewayHandler

SETTINGS = {
    "environment": "production",
    "api_key": API_KEY,
    "access_token": ACCESS_TOKEN,
    "secret_key": SECRET_KEY,
}
RETURN_URL = "https://shop.example.ly/payhub/return?order=42"


def _fake(gateway: GatewayHandler) -> FakePlutu:
    assert isinstance(gateway, FakePlutu)
    return gateway


class _PlutuConformance(AdapterConformance):
    settings: ClassVar[dict[str, str]] = SETTINGS
    amount_field = "amount"
    amount_unit = "major"

    def gateway(self) -> FakePlutu:
        return FakePlutu()

    def invoice(
        self, number: str, amount: Money, capture: Literal["automatic", "manual"] = "automatic"
    ) -> Invoice:
        return Invoice(
            number=number,
            amount=amount,
            return_url=RETURN_URL,
            callback_url="https://shop.example.ly/payhub/callback",
            customer=Customer(mobile="0913632323", birth_year=1990, email="a@shop.example.ly"),
            capture=capture,
        )


class _OtpConformance(_PlutuConformance):
    code: ClassVar[str]

    def evidence(self, gateway: GatewayHandler, invoice: Invoice, checkout: Checkout) -> OtpCode:
        return OtpCode(reference=checkout.reference, code=SecretStr(self.code), invoice=invoice)


def _signed_return(service: str, invoice: Invoice, currency: str = "USD") -> Callback:
    """A genuine-looking return of another Plutu service, signed with the shared key."""
    amount = f"{invoice.amount.amount:.2f}"
    pairs = [("gateway", service), ("approved", "1"), ("invoice_no", invoice.number)]
    pairs.append(("amount", amount))
    if service == "mpgs":
        pairs.append(("currency", currency))
    pairs.append(("transaction_id", "777001"))
    return return_to(RETURN_URL, pairs, SECRET_KEY, service)


def _tlync_callback(invoice: Invoice) -> Callback:
    pairs = [
        ("gateway", "tlync"),
        ("approved", "1"),
        ("amount", f"{invoice.amount.amount:.2f}"),
        ("invoice_no", invoice.number),
        ("payment_method", "mobicash"),
        ("transaction_id", "777002"),
    ]
    return json_callback({**dict(pairs), "hashed": sign_pairs(SECRET_KEY, pairs, "tlync")})


class _RedirectConformance(_PlutuConformance):
    service: ClassVar[str]

    def evidence(self, gateway: GatewayHandler, invoice: Invoice, checkout: Checkout) -> Callback:
        return _fake(gateway).complete(invoice.number)

    def foreign_evidence(
        self, gateway: GatewayHandler, invoice: Invoice, checkout: Checkout
    ) -> list[Callback]:
        foreign = [
            _signed_return(service, invoice)
            for service in ("localbankcards", "mpgs")
            if service != self.service
        ]
        if self.service != "tlync":
            foreign.append(_tlync_callback(invoice))
        return foreign


class TestSadadConformance(_OtpConformance):
    adapter = "plutu.sadad"
    code = SADAD_OTP


class TestAdfaliConformance(_OtpConformance):
    adapter = "plutu.adfali"
    code = ADFALI_OTP


class TestLocalBankCardsConformance(_RedirectConformance):
    adapter = "plutu.localbankcards"
    service = "localbankcards"


class TestMpgsConformance(_RedirectConformance):
    adapter = "plutu.mpgs"
    service = "mpgs"


class TestTlyncConformance(_RedirectConformance):
    adapter = "plutu.tlync"
    service = "tlync"
