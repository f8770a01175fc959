"""The Pine Labs Plural gateway emulator for the payhub sandbox.

Registered as ``plural`` in the entry point group ``payhub.sandboxes``; ``payhub sandbox``
mounts it at ``/plural`` with Plural's real API paths below (``/plural/api/auth/v1/token``,
``/plural/api/pay/v1/orders``...). ``GET /plural/_sandbox`` lists the test credentials and
the scenarios; docs/sandbox-plural.md explains them. This is the gateway's side: it shares
nothing with the adapters but ``payhub_core``.
"""

from payhub_core.sandbox import Emulator
from payhub_plural.sandbox._app import PluralEmulator, create_app, return_signature
from payhub_plural.sandbox._demo import demo_cases, sandbox_settings
from payhub_plural.sandbox._fixtures import (
    CLIENT_ID,
    CLIENT_SECRET,
    MERCHANT_ID,
    SCENARIOS,
    SECRET_KEY,
    TEST_CARD,
    Scenario,
    scenario_for,
)

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

emulator = Emulator(
    name="plural",
    create_app=create_app,
    demo_cases=demo_cases,
    description="Pine Labs Plural: hosted checkout and seamless card/UPI/netbanking, "
    "pre-auth, capture, cancel, refunds, signed returns and Standard Webhooks",
)
