"""A wallet payment confirmed with a one-time code (Plutu Sadad) through the ledger.

Confirming a code moves money. With a ledger, a confirmation for a payment the ledger
already holds as paid is answered from the ledger (a duplicate receipt) and never sent to
the gateway again: the gateway would refuse it anyway, and a refusal must not turn a paid
order into a "failed" one on the merchant's side.
"""

from __future__ import annotations

from typing import Any

import pytest
from ledger_support import Sandbox

from payhub_core import (
    AmountMismatch,
    AsyncHub,
    Customer,
    Hub,
    Invoice,
    Money,
    OtpCode,
    PaymentStatus,
)
from payhub_plutu.sandbox import SADAD_OTP, TEST_BIRTH_YEAR, TEST_MOBILE
from payhub_plutu.sandbox import sandbox_settings as plutu_settings

CONFIRM = "/sadadapi/confirm"


def _config(sandbox: Sandbox, ledger_url: str) -> dict[str, Any]:
    config = sandbox.config(ledger_url)
    config["gateways"]["wallet"] = {
        "adapter": "plutu.sadad",
        **plutu_settings(f"{sandbox.url}/plutu"),
    }
    return config


def _invoice(sandbox: Sandbox, prefix: str) -> Invoice:
    number = sandbox.invoice(prefix).number
    return Invoice(
        number=number,
        amount=Money("25.00", "LYD"),
        customer=Customer(mobile=TEST_MOBILE, birth_year=TEST_BIRTH_YEAR),
    )


def _code(reference: str, invoice: Invoice, code: str = SADAD_OTP) -> OtpCode:
    return OtpCode(reference=reference, code=code, invoice=invoice)  # type: ignore[arg-type]


def test_a_second_confirmation_of_a_paid_payment_is_not_sent(
    sandbox: Sandbox, ledger_url: str
) -> None:
    with Hub(_config(sandbox, ledger_url)) as hub:
        invoice = _invoice(sandbox, "OTP-")
        checkout = hub.initiate(invoice, gateway="wallet")
        sent = sandbox.counter.count("POST", CONFIRM)
        first = hub.receive(_code(checkout.reference, invoice), gateway="wallet", source="otp")
        assert (first.duplicate, first.payment.status) == (False, PaymentStatus.PAID)
        assert sandbox.counter.count("POST", CONFIRM) == sent + 1

        again = hub.receive(_code(checkout.reference, invoice), gateway="wallet", source="otp")
        assert again.duplicate is True
        assert again.change is None
        assert again.payment.status is PaymentStatus.PAID
        assert again.result.status is PaymentStatus.PAID
        assert again.result.invoice_number == invoice.number
        assert again.result.amount == invoice.amount
        assert again.result.reference == checkout.reference

        verified = hub.verify(_code(checkout.reference, invoice), gateway="wallet")
        assert verified.status is PaymentStatus.PAID
        assert verified.invoice_number == invoice.number
        # Neither the second receive nor the verify reached the gateway.
        assert sandbox.counter.count("POST", CONFIRM) == sent + 1
        assert [c.source for c in hub.payment(invoice.number).history] == ["initiate", "otp"]


def test_a_confirmation_that_disagrees_with_the_paid_invoice_is_refused(
    sandbox: Sandbox, ledger_url: str
) -> None:
    with Hub(_config(sandbox, ledger_url)) as hub:
        invoice = _invoice(sandbox, "OTPX-")
        checkout = hub.initiate(invoice, gateway="wallet")
        hub.receive(_code(checkout.reference, invoice), gateway="wallet", source="otp")
        sent = sandbox.counter.count("POST", CONFIRM)
        other = invoice.model_copy(update={"amount": Money("1.00", "LYD")})
        with pytest.raises(AmountMismatch):
            hub.verify(_code(checkout.reference, other), gateway="wallet")
        assert sandbox.counter.count("POST", CONFIRM) == sent


def test_a_pending_payment_is_still_confirmed_at_the_gateway(
    sandbox: Sandbox, ledger_url: str
) -> None:
    with Hub(_config(sandbox, ledger_url)) as hub:
        invoice = _invoice(sandbox, "OTPP-")
        checkout = hub.initiate(invoice, gateway="wallet")
        sent = sandbox.counter.count("POST", CONFIRM)
        result = hub.verify(_code(checkout.reference, invoice), gateway="wallet")
        assert result.status is PaymentStatus.PAID
        assert result.transaction_id is not None  # the gateway's own answer
        assert sandbox.counter.count("POST", CONFIRM) == sent + 1


@pytest.mark.anyio
async def test_async_a_second_confirmation_of_a_paid_payment_is_not_sent(
    sandbox: Sandbox, ledger_url: str
) -> None:
    hub = AsyncHub(_config(sandbox, ledger_url))
    try:
        invoice = _invoice(sandbox, "AOTP-")
        checkout = await hub.initiate(invoice, gateway="wallet")
        sent = sandbox.counter.count("POST", CONFIRM)
        code = _code(checkout.reference, invoice)
        first = await hub.receive(code, gateway="wallet", source="otp")
        assert first.payment.status is PaymentStatus.PAID
        again = await hub.receive(code, gateway="wallet", source="otp")
        assert (again.duplicate, again.change) == (True, None)
        assert again.result.status is PaymentStatus.PAID
        verified = await hub.verify(code, gateway="wallet")
        assert verified.status is PaymentStatus.PAID
        assert sandbox.counter.count("POST", CONFIRM) == sent + 1
    finally:
        await hub.aclose()
