"""Wiring the example shop to a running payhub sandbox: one gateway alias per sandbox
adapter, a SQLite ledger, and the ``[web]`` table that tells ``initiate`` where the
endpoints are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from examples.shop.app import Fulfilment, Gateway, create_app
from payhub_core import AsyncHub
from payhub_core.ledger import upgrade
from payhub_core.sandbox import DemoCase, load_emulators

# alias, adapter, title; the first sandbox demo case of the adapter gives its settings and
# its test customer (wallet mobile numbers, the Plural test card).
OFFERED = (
    ("sadad", "plutu.sadad", "Sadad wallet (code by SMS)"),
    ("adfali", "plutu.adfali", "Adfali wallet (code by SMS)"),
    ("cards", "plutu.localbankcards", "Libyan bank card"),
    ("mpgs", "plutu.mpgs", "Visa / Mastercard (USD)"),
    ("tlync", "plutu.tlync", "T-Lync"),
    ("plural", "plural.checkout", "Plural hosted checkout (INR)"),
    ("plural-card", "plural.seamless", "Card through Plural (INR)"),
)


def _cases(sandbox_url: str) -> dict[str, DemoCase]:
    cases: dict[str, DemoCase] = {}
    for emulator in load_emulators():
        for case in emulator.demo_cases(f"{sandbox_url}/{emulator.name}"):
            cases.setdefault(case.adapter, case)
    return cases


def shop_setup(sandbox_url: str, public_url: str, db: Path) -> tuple[dict[str, Any], list[Gateway]]:
    """The hub configuration and the gateways offered, for the sandbox at ``sandbox_url``
    and the shop reached at ``public_url``."""
    cases = _cases(sandbox_url.rstrip("/"))
    gateways: list[Gateway] = []
    tables: dict[str, Any] = {}
    for alias, adapter, title in OFFERED:
        case = cases.get(adapter)
        if case is None:
            continue  # that adapter's package is not installed
        sample = case.invoice("SAMPLE", "https://shop.invalid/r", "https://shop.invalid/c")
        extras: dict[str, Any] = {"customer": sample.customer}
        if sample.payment_method is not None:
            extras["payment_method"] = sample.payment_method
        gateways.append(
            Gateway(
                alias=alias,
                title=title,
                currency=sample.amount.currency,
                otp=case.otp_code is not None,
                invoice_extras=extras,
            )
        )
        tables[alias] = {"adapter": adapter, **case.settings}
    config = {
        "gateways": tables,
        "ledger": {"url": f"sqlite:///{db}"},
        "web": {
            "public_url": public_url,
            "pages": {"default": "/orders/{invoice}", "error": "/problem"},
        },
    }
    return config, gateways


def point_plural_webhooks(sandbox_url: str, public_url: str) -> None:
    """Plural has one webhook URL per account: the shop's shared webhook endpoint."""
    response = httpx.put(
        f"{sandbox_url.rstrip('/')}/plural/_sandbox/config",
        json={"webhook_url": f"{public_url}/payhub/webhook"},
        timeout=5,
    )
    if response.status_code != 404:  # 404: the Plural emulator is not installed
        response.raise_for_status()


def build_shop(sandbox_url: str, public_url: str, db: Path) -> tuple[Any, AsyncHub, Fulfilment]:
    """The shop's ASGI app, its hub and its fulfilment record."""
    config, gateways = shop_setup(sandbox_url, public_url, db)
    upgrade(config["ledger"]["url"])  # the ledger's tables; nothing to do when up to date
    fulfilment = Fulfilment()
    hub = AsyncHub.from_config(config, plugins=[fulfilment])
    point_plural_webhooks(sandbox_url, public_url)
    return create_app(hub, gateways, fulfilment), hub, fulfilment
