"""Helpers for the end-to-end tests: demo case ids known at collection time, and a
``Shop`` that pays scenario invoices through one adapter's demo configuration."""

from __future__ import annotations

from typing import Any

from payhub_core import Hub, Invoice, Redirect
from payhub_core.demo import Arrival, DemoEnvironment, ScriptedBrowser
from payhub_core.sandbox import DemoCase, load_emulators


def case_ids() -> list[str]:
    """Stable ids for every demo case of every installed emulator (known at collection)."""
    ids = []
    for emulator in load_emulators():
        for index, case in enumerate(emulator.demo_cases("http://127.0.0.1:1/" + emulator.name)):
            ids.append(f"{case.adapter.replace('.', '-')}-{index + 1}")
    return ids


class Shop:
    """One adapter's demo case with its own hub, for scenario invoices."""

    def __init__(self, sandbox: DemoEnvironment, alias: str, case: DemoCase, **overrides: Any):
        self.sandbox, self.alias, self.case = sandbox, alias, case
        config = sandbox.hub_config([(alias, case)])
        config["gateways"][alias].update(overrides)
        self.hub = Hub(config)

    def invoice(self, prefix: str) -> Invoice:
        number = prefix + self.sandbox.invoice_number(self.case)
        merchant = self.sandbox.merchant_url
        return self.case.invoice(
            number, f"{merchant}/return/{number}", f"{merchant}/callback/{number}"
        )

    def approve(self, invoice: Invoice) -> None:
        checkout = self.hub.initiate(invoice, gateway=self.alias)
        assert isinstance(checkout.action, Redirect)
        browser = ScriptedBrowser(self.sandbox.merchant_url)
        try:
            browser.press(checkout.action.url, "approve")
        finally:
            browser.close()

    def arrivals(self, kind: str, invoice: Invoice, count: int = 1) -> list[Arrival]:
        def matches(arrival: Arrival) -> bool:
            return arrival.kind == kind and arrival.key == invoice.number

        assert self.sandbox.receiver.wait_for(matches, timeout=10) is not None
        if count > 1:
            self.sandbox.receiver.wait_for(
                lambda _: sum(map(matches, self.sandbox.receiver.arrivals)) >= count, timeout=10
            )
        return [arrival for arrival in self.sandbox.receiver.arrivals if matches(arrival)]
