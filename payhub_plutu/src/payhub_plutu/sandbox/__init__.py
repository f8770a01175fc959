"""The Plutu gateway emulator for the payhub sandbox (entry point ``plutu`` in
``payhub.sandboxes``).

It serves Plutu's API below its mount (``/plutu/api/v1/transaction/{service}/{action}``)
with Plutu's fields, validation, error bodies and codes; a hosted checkout page for Local
Bank Cards, MPGS and T-Lync; signed returns and T-Lync callbacks made exactly as Plutu's SDK
checks them; fixed test credentials and OTP codes; and scenarios triggered by invoice
prefix or amount. ``GET /plutu/_sandbox`` describes it all. See docs/sandbox-plutu.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from payhub_core.sandbox import Emulator
from payhub_plutu.sandbox._constants import (
    ACCESS_TOKEN,
    ADFALI_OTP,
    API_KEY,
    SADAD_OTP,
    SECRET_KEY,
    TEST_BIRTH_YEAR,
    TEST_MOBILE,
    TLYNC_MOBILE,
    UNSUBSCRIBED_MOBILE,
    SandboxConfig,
)
from payhub_plutu.sandbox._demo import demo_cases, sandbox_settings
from payhub_plutu.sandbox._scenarios import SCENARIOS, Scenario

if TYPE_CHECKING:  # the app needs the ``sandbox`` extra: imported on first use
    from starlette.applications import Starlette

    from payhub_plutu.sandbox._app import PlutuEmulator

__all__ = [
    "ACCESS_TOKEN",
    "ADFALI_OTP",
    "API_KEY",
    "SADAD_OTP",
    "SCENARIOS",
    "SECRET_KEY",
    "TEST_BIRTH_YEAR",
    "TEST_MOBILE",
    "TLYNC_MOBILE",
    "UNSUBSCRIBED_MOBILE",
    "PlutuEmulator",
    "SandboxConfig",
    "Scenario",
    "create_app",
    "demo_cases",
    "emulator",
    "sandbox_settings",
]


def create_app(base_url: str, config: SandboxConfig | None = None) -> Starlette:
    """The emulator's ASGI app mounted at ``base_url`` (needs the ``sandbox`` extra)."""
    from payhub_plutu.sandbox._app import create_app as _create_app

    return _create_app(base_url, config)


def __getattr__(name: str) -> object:
    if name == "PlutuEmulator":
        from payhub_plutu.sandbox._app import PlutuEmulator

        return PlutuEmulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


emulator = Emulator(
    name="plutu",
    create_app=create_app,
    demo_cases=demo_cases,
    description="Plutu (Libya): Sadad, Adfali, Local Bank Cards, MPGS, T-Lync",
)
