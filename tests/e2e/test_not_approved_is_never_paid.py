"""A customer who declines or cancels on the checkout page never yields a paid result."""

from __future__ import annotations

import pytest
from e2e_support import case_ids

from payhub_core import Hub, PaymentStatus, Redirect, VerificationError
from payhub_core.demo import DemoEnvironment, ScriptedBrowser
from payhub_core.sandbox import DemoCase

CASES = case_ids()


@pytest.mark.parametrize("button", ["decline", "cancel"])
@pytest.mark.parametrize("alias", CASES)
def test_declined_or_canceled_checkout_is_not_paid(
    sandbox: DemoEnvironment, cases: dict[str, DemoCase], alias: str, button: str
) -> None:
    case = cases[alias]
    if case.otp_code is not None:
        pytest.skip("OTP wallets have no checkout page")
    number = sandbox.invoice_number(case)
    invoice = case.invoice(
        number,
        f"{sandbox.merchant_url}/return/{number}",
        f"{sandbox.merchant_url}/callback/{number}",
    )
    with Hub(sandbox.hub_config([(alias, case)])) as hub:
        checkout = hub.initiate(invoice, gateway=alias)
        assert isinstance(checkout.action, Redirect)
        browser = ScriptedBrowser(sandbox.merchant_url)
        try:
            browser.press(checkout.action.url, button)
        finally:
            browser.close()
        arrival = sandbox.receiver.wait_for(
            lambda a: a.kind == "return" and a.key == number, timeout=10
        )
        assert arrival is not None, "the customer's browser must come back to the merchant"
        try:
            result = hub.verify(arrival.callback, gateway=alias, expected=invoice)
        except VerificationError:
            return  # refusing to trust it is also not reporting it paid
        assert result.status not in (PaymentStatus.PAID, PaymentStatus.AUTHORIZED)
        assert result.status in (
            PaymentStatus.FAILED,
            PaymentStatus.CANCELED,
            PaymentStatus.PENDING,
        )
