"""The demo walks for the Plural adapters (``payhub demo`` and the end-to-end tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import SecretStr

from payhub_core import Card, Customer, Invoice, Money, PaymentMethod
from payhub_core.sandbox import DemoCase
from payhub_plural.sandbox._constants import CLIENT_ID, CLIENT_SECRET, SECRET_KEY, TEST_CARD

__all__ = ["demo_cases", "sandbox_settings"]

_CUSTOMER = Customer(
    email="asha.rao@example.in", first_name="Asha", last_name="Rao", mobile="9876543210"
)


def sandbox_settings(base_url: str) -> dict[str, Any]:
    """Adapter settings pointing at the emulator mounted at ``base_url``."""
    return {
        "environment": "sandbox",
        "base_url": base_url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "secret_key": SECRET_KEY,
    }


def _invoice(
    amount: str,
    capture: Literal["automatic", "manual"],
    method: PaymentMethod | None = None,
) -> Callable[[str, str, str], Invoice]:
    def build(number: str, return_url: str, callback_url: str) -> Invoice:
        return Invoice(
            number=number,
            amount=Money(amount, "INR"),
            return_url=return_url,
            callback_url=callback_url,
            customer=_CUSTOMER,
            description="payhub sandbox demo",
            capture=capture,
            payment_method=method,
        )

    return build


def demo_cases(base_url: str) -> list[DemoCase]:
    settings = sandbox_settings(base_url)
    card = Card(
        number=SecretStr(TEST_CARD["card_number"]),
        cvv=SecretStr(TEST_CARD["cvv"]),
        expiry_month=int(TEST_CARD["expiry_month"]),
        expiry_year=int(TEST_CARD["expiry_year"]),
        holder_name=TEST_CARD["name"],
    )
    return [
        DemoCase(
            adapter="plural.checkout",
            title="Plural hosted checkout, pre-auth: approve, capture, refund",
            settings=settings,
            invoice=_invoice("1499.00", "manual"),
            evidence="return",
            after_verify=("capture", "refund", "status"),
            expected_status="authorized",
        ),
        DemoCase(
            adapter="plural.checkout",
            title="Plural hosted checkout, automatic capture: webhook, refund",
            settings=settings,
            invoice=_invoice("799.50", "automatic"),
            evidence="webhook",
            after_verify=("refund", "status"),
            expected_status="paid",
        ),
        DemoCase(
            adapter="plural.seamless",
            title="Plural seamless card, pre-auth: 3-D Secure challenge, cancel",
            settings=settings,
            invoice=_invoice("2500.00", "manual", card),
            evidence="return",
            after_verify=("cancel", "status"),
            expected_status="authorized",
        ),
    ]
