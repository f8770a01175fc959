"""The ledger part of ``payhub demo``: one Plural payment with the payment ledger on (a
SQLite file in a temporary folder), showing that a repeated ``initiate`` sends nothing,
that a webhook delivered twice is counted once, and the payment's history.

Needs the ``ledger`` extra; without it the section says so and is skipped.
"""

from __future__ import annotations

import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from payhub_core._errors import PayhubError
from payhub_core._hub import Hub
from payhub_core._models import Invoice, PaymentStatus, Redirect
from payhub_core._money import Money
from payhub_core.demo._browser import BrowserError, ScriptedBrowser
from payhub_core.demo._receiver import Arrival
from payhub_core.demo._runner import DemoEnvironment

__all__ = ["LedgerDemo", "ledger_json", "ledger_lines", "run_ledger_demo"]

_CREATE = "/api/checkout/v1/orders"


class _CountingTransport(httpx.HTTPTransport):
    """Real HTTP, counting the requests that create a Plural order."""

    def __init__(self) -> None:
        super().__init__()
        self.creates = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith(_CREATE):
            self.creates += 1
        return super().handle_request(request)


@dataclass
class LedgerDemo:
    """What the ledger section showed: ``lines`` to print, ``ok`` whether every claim
    held, ``seconds`` how long it took."""

    ok: bool | None = None
    """``None`` when skipped (a missing extra does not fail the demo)."""
    lines: list[str] = field(default_factory=list)
    seconds: float = 0.0
    skipped: str | None = None


def _plural_settings(env: DemoEnvironment) -> dict[str, Any] | None:
    for _alias, case in env.cases():
        if case.adapter == "plural.checkout":
            return {"adapter": case.adapter, **case.settings}
    return None


def run_ledger_demo(env: DemoEnvironment) -> LedgerDemo:
    """Run the ledger section against ``env``'s sandbox (the Plural emulator)."""
    demo = LedgerDemo()
    started = time.perf_counter()
    gateway = _plural_settings(env)
    if gateway is None:
        demo.skipped = "the Plural emulator is not installed"
        return demo
    try:
        import sqlalchemy  # noqa: F401 - the ledger extra is installed
    except ImportError:
        demo.skipped = "the ledger extra is not installed (pip install 'payhub-core[ledger]')"
        return demo
    from payhub_core.ledger import upgrade

    with tempfile.TemporaryDirectory(prefix="payhub-demo-") as folder:
        url = f"sqlite:///{Path(folder) / 'payhub.sqlite3'}"
        upgrade(url)
        transport = _CountingTransport()
        config = {"gateways": {"india": gateway}, "ledger": {"url": url}}
        try:
            with Hub(config, transport=transport) as hub:
                demo.ok = _walk(env, hub, transport, demo.lines)
        except (PayhubError, BrowserError, httpx.HTTPError) as error:
            demo.lines.append(f"failed: {type(error).__name__}: {error}")
            demo.ok = False
    demo.seconds = time.perf_counter() - started
    return demo


def _walk(env: DemoEnvironment, hub: Hub, transport: _CountingTransport, out: list[str]) -> bool:
    number = f"LEDGER-{env.invoice_number(env.cases()[0][1]).rsplit('-', 1)[-1]}"
    merchant = env.merchant_url
    invoice = Invoice(
        number=number,
        amount=Money("799.50", "INR"),
        return_url=f"{merchant}/return/{number}",
        callback_url=f"{merchant}/callback/{number}",
    )
    first = hub.initiate(invoice)
    again = hub.initiate(invoice)
    same = again == first and transport.creates == 1
    out.append(
        f"initiate twice: the same checkout {first.reference}, "
        f"{transport.creates} order created at the gateway"
    )
    if not isinstance(first.action, Redirect):
        out.append("the checkout has no page to send the customer to")
        return False
    browser = ScriptedBrowser(merchant)
    try:
        browser.press(first.action.url, "approve")
    finally:
        browser.close()

    def webhook(arrival: Arrival) -> bool:
        return arrival.kind == "webhook" and number.encode() in arrival.callback.body

    arrival = env.receiver.wait_for(webhook)
    if arrival is None:
        out.append("no webhook arrived within 10 s")
        return False
    one = hub.receive(arrival.callback, source="webhook")
    two = hub.receive(arrival.callback, source="webhook")
    counted_once = (one.change is not None and one.change.status is PaymentStatus.PAID) and (
        two.duplicate and two.change is None
    )
    moved = (
        f"moved it {one.change.previous or 'new'} -> {one.change.status}"
        if one.change
        else "changed nothing"
    )
    second = (
        "was recognised as a duplicate and changed nothing"
        if two.duplicate
        else "was applied again"
    )
    out.append(f"the same webhook twice: the first {moved};")
    out.append(f"  the second {second}")
    hub.refund(first.reference, amount=Money("100.00", "INR"))
    payment = hub.payment(number)
    out.append(f"payment {number}: {payment.status}")
    out.append(f"  captured {payment.captured}, refunded {payment.refunded}")
    out.append("history:")
    for change in payment.history:
        before = change.previous.value if change.previous else "new"
        out.append(
            f"  {change.at.strftime('%H:%M:%S.%f')[:-3]}  "
            f"{change.source}: {before} -> {change.status.value}"
        )
    return same and counted_once and payment.status is PaymentStatus.PARTIALLY_REFUNDED


def ledger_lines(demo: LedgerDemo) -> list[str]:
    """The section as printed by ``payhub demo``."""
    if demo.skipped is not None:
        return ["", f"  --    the payment ledger: skipped ({demo.skipped})"]
    mark = "ok  " if demo.ok else "FAIL"
    title = "the payment ledger (SQLite in a temporary folder)"
    lines = ["", f"  {mark}  {title:62}  {'':<10} {demo.seconds:5.2f} s".rstrip()]
    for line in demo.lines:
        indent = " " * (8 + len(line) - len(line.lstrip()))
        lines += textwrap.wrap(
            line.strip(), 100, initial_indent=indent, subsequent_indent=indent + "  "
        )
    return lines


def ledger_json(demo: LedgerDemo) -> dict[str, Any]:
    return {
        "ok": demo.ok,
        "skipped": demo.skipped,
        "seconds": round(demo.seconds, 3),
        "lines": demo.lines,
    }
