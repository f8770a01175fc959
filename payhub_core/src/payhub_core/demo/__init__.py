"""``payhub demo``: every installed adapter's payment life against the local sandbox,
and the same machinery for the end-to-end tests (needs the ``sandbox`` extra)."""

from payhub_core.demo._browser import BrowserError, ScriptedBrowser
from payhub_core.demo._receiver import Arrival, MerchantReceiver
from payhub_core.demo._runner import (
    CaseResult,
    DemoEnvironment,
    StepResult,
    run_case,
    run_case_async,
)

__all__ = [
    "Arrival",
    "BrowserError",
    "CaseResult",
    "DemoEnvironment",
    "MerchantReceiver",
    "ScriptedBrowser",
    "StepResult",
    "run_case",
    "run_case_async",
]
