"""``payhub demo``: the sandbox in-process, every installed adapter taken through a test
payment, each case reported once as it finishes, then what to do next; a non-zero exit if
any step fails. Human output fits 100 columns."""

from __future__ import annotations

import sys
import textwrap
import time
from collections.abc import Sequence
from typing import Any

from payhub_core._hub import Hub
from payhub_core.cli._base import EXIT_CONFIG, EXIT_FAILED, EXIT_OK
from payhub_core.cli._render import Progress, print_json
from payhub_core.demo import CaseResult, DemoEnvironment, run_case
from payhub_core.demo._ledger import ledger_json, ledger_lines, run_ledger_demo
from payhub_core.sandbox._server import DEFAULT_HOST, DEFAULT_PORT, require_sandbox_extra

__all__ = ["WIDTH", "case_lines", "next_steps", "run_demo"]

WIDTH = 100
_TITLE = 62
_INDENT = " " * 8

# Step names (see payhub_core.demo._runner) in the words of a merchant.
_STEP_WORDS = {
    "initiate": "start the payment",
    "approve": "customer approves",
    "code": "customer gives the code",
    "return": "customer is sent back",
    "callback": "gateway calls back",
    "webhook": "gateway sends a webhook",
    "verify": "verify",
    "capture": "capture",
    "cancel": "cancel",
    "refund": "refund",
    "status": "check status",
}


def case_lines(result: CaseResult) -> list[str]:
    """One case as printed: a line with the outcome, the steps (wrapped), and why it
    failed when it did."""
    title = textwrap.shorten(result.case.title, _TITLE, placeholder="…")
    mark = "ok  " if result.ok else "FAIL"
    status = result.status if result.ok else "failed"
    lines = [f"  {mark}  {title:{_TITLE}}  {status:<10} {result.seconds:5.2f} s".rstrip()]
    steps = " → ".join(
        _STEP_WORDS.get(step.name, step.name) + ("" if step.ok else " ✗") for step in result.steps
    )
    lines += textwrap.wrap(
        f"{result.case.adapter}: {steps}",
        WIDTH,
        initial_indent=_INDENT,
        subsequent_indent=_INDENT + "  ",
        break_on_hyphens=False,
    )
    if not result.ok:
        lines += textwrap.wrap(
            f"why: {result.error}", WIDTH, initial_indent=_INDENT, subsequent_indent=_INDENT
        )
    return lines


def next_steps() -> list[str]:
    """What to do after the demo: where the docs are and how to start the sandbox."""
    url = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
    return [
        "Next:",
        f"  payhub sandbox              serve these test gateways on {url} for your own app",
        '  environment = "sandbox"     in a gateway\'s configuration sends it to that sandbox',
        "  docs/quickstart.md          take a payment in your code (in the payhub source tree,",
        "                              with docs/sandbox.md for test credentials and",
        "                              docs/cli.md for this command)",
    ]


def _json_case(result: CaseResult) -> dict[str, Any]:
    return {
        "adapter": result.case.adapter,
        "title": result.case.title,
        "ok": result.ok,
        "status": result.status,
        "seconds": round(result.seconds, 3),
        "steps": [
            {"name": s.name, "ok": s.ok, "detail": s.detail, "seconds": round(s.seconds, 3)}
            for s in result.steps
        ],
    }


def _summary(results: Sequence[CaseResult], elapsed: float) -> str:
    passed = sum(result.ok for result in results)
    return f"{passed} of {len(results)} test payments ended as expected in {elapsed:.1f} s."


def run_demo(*, as_json: bool = False) -> int:
    require_sandbox_extra()
    progress = Progress(enabled=not as_json)
    started = time.perf_counter()
    results: list[CaseResult] = []
    with DemoEnvironment() as env:
        cases = env.cases()
        if not cases:
            print(
                "payhub demo: no sandbox emulators with demo cases are installed "
                "(pip install 'payhub-plutu[sandbox]' 'payhub-plural[sandbox]')",
                file=sys.stderr,
            )
            return EXIT_CONFIG
        if not as_json:
            print(
                f"payhub demo: {len(cases)} test payments in the local sandbox at {env.url}, "
                "no real money\n",
                flush=True,
            )
        with Hub(env.hub_config(cases)) as hub:
            for alias, case in cases:
                progress.update(f"{case.adapter}: {case.title}…")
                result = run_case(env, hub, alias, case)
                progress.done()
                results.append(result)
                if not as_json:
                    print("\n".join(case_lines(result)), flush=True)
        # The payment ledger (payhub_core.demo._ledger): a separate section.
        progress.update("the payment ledger…")
        ledger = run_ledger_demo(env)
        progress.done()
        if not as_json:
            print("\n".join(ledger_lines(ledger)), flush=True)
    elapsed = time.perf_counter() - started
    ok = bool(results) and all(result.ok for result in results) and ledger.ok is not False
    if as_json:
        print_json(
            {
                "ok": ok,
                "seconds": round(elapsed, 2),
                "cases": [_json_case(result) for result in results],
                "ledger": ledger_json(ledger),
            }
        )
    else:
        print(f"\n{_summary(results, elapsed)}\n")
        print("\n".join(next_steps()))
    return EXIT_OK if ok else EXIT_FAILED
