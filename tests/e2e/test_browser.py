"""A real browser: headless Chromium (Debian's package, driven by Playwright with its
``executable_path``; no browser download) clicks through one Plutu and one Plural
checkout (the ``browser`` fixture is in tests/conftest.py). A screenshot of each checkout
page is kept in artifacts/screenshots/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from payhub_core import Hub, PaymentStatus, Redirect
from payhub_core.demo import DemoEnvironment
from payhub_core.sandbox import DemoCase

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.mark.parametrize(
    ("adapter", "approved_status"),
    [
        ("plutu.localbankcards", PaymentStatus.PAID),
        ("plural.checkout", None),  # the case's own expected status (manual capture)
    ],
)
def test_customer_approves_in_a_real_browser(
    sandbox: DemoEnvironment,
    cases: dict[str, DemoCase],
    browser: Any,
    adapter: str,
    approved_status: PaymentStatus | None,
) -> None:
    alias, case = next((a, c) for a, c in cases.items() if c.adapter == adapter)
    number = sandbox.invoice_number(case)
    invoice = case.invoice(
        number,
        f"{sandbox.merchant_url}/return/{number}",
        f"{sandbox.merchant_url}/callback/{number}",
    )
    with Hub(sandbox.hub_config([(alias, case)])) as hub:
        checkout = hub.initiate(invoice, gateway=alias)
        assert isinstance(checkout.action, Redirect)

        page = browser.new_page()
        try:
            page.goto(checkout.action.url)
            assert page.get_by_role("button", name="Approve").is_visible()
            assert page.get_by_role("button", name="Decline").is_visible()
            assert page.get_by_role("button", name="Cancel").is_visible()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{adapter}-checkout.png"), full_page=True)
            page.get_by_role("button", name="Approve").click()
            page.wait_for_url(f"{sandbox.merchant_url}/return/**", timeout=15_000)
            assert "Thank you" in page.content()
        finally:
            page.close()

        arrival = sandbox.receiver.wait_for(
            lambda a: a.kind == "return" and a.key == number, timeout=10
        )
        assert arrival is not None
        result = hub.verify(arrival.callback, gateway=alias, expected=invoice)
        wanted = approved_status or PaymentStatus(case.expected_status)
        if case.evidence != "return":
            # the case settles by callback or webhook; the browser return itself is enough
            # to be verified, and must never claim more than the gateway said
            assert result.status in (wanted, PaymentStatus.PENDING)
        else:
            assert result.status is wanted
