"""The Pine Labs Plural gateway emulator for the payhub sandbox (entry point ``plural`` in
``payhub.sandboxes``).

``payhub sandbox`` mounts it at ``/plural`` with Plural's real API paths below
(``/plural/api/auth/v1/token``, ``/plural/api/pay/v1/orders``...): orders, hosted checkout
and seamless card/UPI/netbanking payments, pre-auth, capture, cancel, refunds, signed
returns and Standard Webhooks; fixed test credentials; and scenarios triggered by invoice
prefix. ``GET /plural/_sandbox`` describes it all. See docs/sandbox-plural.md. This is the
gateway's side: it shares nothing with the adapters but ``payhub_core``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from payhub_core.sandbox import Emulator
from payhub_plural.sandbox._constants import (
    CLIENT_ID,
    CLIENT_SECRET,
    MERCHANT_ID,
    SECRET_KEY,
    TEST_CARD,
)
from payhub_plural.sandbox._demo import demo_cases, sandbox_settings
from payhub_plural.sandbox._scenarios import SCENARIOS, Scenario, scenario_for
from payhub_plural.sandbox._signing import return_signature

if TYPE_CHECKING:  # the app needs the ``sandbox`` extra: imported on first use
    from payhub_core.sandbox import ASGIApp
    from payhub_plural.sandbox._app import PluralEmulator

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "MERCHANT_ID",
    "SCENARIOS",
    "SECRET_KEY",
    "TEST_CARD",
    "PluralEmulator",
    "Scenario",
    "create_app",
    "demo_cases",
    "emulator",
    "return_signature",
    "sandbox_settings",
    "scenario_for",
]


def create_app(base_url: str) -> ASGIApp:
    """The emulator's ASGI app mounted at ``base_url`` (needs the ``sandbox`` extra)."""
    from payhub_plural.sandbox._app import create_app as _create_app

    return _create_app(base_url)


def __getattr__(name: str) -> object:
    if name == "PluralEmulator":
        from payhub_plural.sandbox._app import PluralEmulator

        return PluralEmulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


emulator = Emulator(
    name="plural",
    create_app=create_app,
    demo_cases=demo_cases,
    description="Pine Labs Plural: hosted checkout and seamless card/UPI/netbanking, "
    "pre-auth, capture, cancel, refunds, signed returns and Standard Webhooks",
)
