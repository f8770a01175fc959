"""The demo walks of the Plutu adapters against the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from payhub_core import Customer, Invoice, Money
from payhub_core.sandbox import DemoCase
from payhub_plutu.sandbox._constants import (
    ACCESS_TOKEN,
    ADFALI_OTP,
    API_KEY,
    SADAD_OTP,
    SECRET_KEY,
    TEST_BIRTH_YEAR,
    TEST_MOBILE,
)

__all__ = ["demo_cases", "sandbox_settings"]


def sandbox_settings(base_url: str, **extra: Any) -> dict[str, Any]:
    """An adapter's settings for the emulator mounted at ``base_url``."""
    return {
        "environment": "sandbox",
        "base_url": base_url.rstrip("/"),
        "api_key": API_KEY,
        "access_token": ACCESS_TOKEN,
        "secret_key": SECRET_KEY,
        **extra,
    }


def _invoice(
    amount: str, currency: str, customer: Customer | None = None
) -> Callable[[str, str, str], Invoice]:
    def build(number: str, return_url: str, callback_url: str) -> Invoice:
        return Invoice(
            number=number,
            amount=Money(amount, currency),
            return_url=return_url,
            callback_url=callback_url,
            customer=customer,
        )

    return build


def demo_cases(base_url: str) -> list[DemoCase]:
    """One walk per Plutu adapter. Plutu has no capture, refund or status API (its
    API documentation has ``verify`` and ``confirm`` only),
    so each walk ends with the verified payment."""
    wallet_customer = Customer(mobile=TEST_MOBILE, birth_year=TEST_BIRTH_YEAR)
    return [
        DemoCase(
            adapter="plutu.sadad",
            title="Plutu Sadad: OTP wallet",
            settings=sandbox_settings(base_url),
            invoice=_invoice("25.50", "LYD", wallet_customer),
            otp_code=SADAD_OTP,
        ),
        DemoCase(
            adapter="plutu.adfali",
            title="Plutu Adfali: OTP wallet",
            settings=sandbox_settings(base_url),
            invoice=_invoice("12.75", "LYD", Customer(mobile=TEST_MOBILE)),
            otp_code=ADFALI_OTP,
        ),
        DemoCase(
            adapter="plutu.localbankcards",
            title="Plutu Local Bank Cards: hosted checkout, signed return",
            settings=sandbox_settings(base_url),
            invoice=_invoice("40.00", "LYD"),
            evidence="return",
        ),
        DemoCase(
            adapter="plutu.mpgs",
            title="Plutu MPGS: hosted checkout in USD, signed return",
            settings=sandbox_settings(base_url, currency="USD"),
            invoice=_invoice("19.99", "USD"),
            evidence="return",
        ),
        DemoCase(
            adapter="plutu.tlync",
            title="Plutu T-Lync: hosted checkout, signed JSON callback",
            settings=sandbox_settings(base_url),
            invoice=_invoice("33.10", "LYD", Customer(mobile=TEST_MOBILE)),
            evidence="callback",
        ),
    ]
