"""The ledger section of ``payhub demo`` runs with the ledger on and shows what it claims."""

from __future__ import annotations

from ledger_support import PLURAL_CREATE, Sandbox

from payhub_core.demo._ledger import ledger_json, ledger_lines, run_ledger_demo


def test_the_demo_shows_one_request_one_counted_webhook_and_a_history(sandbox: Sandbox) -> None:
    before = sandbox.counter.count("POST", PLURAL_CREATE)
    demo = run_ledger_demo(sandbox.env)
    assert demo.ok is True, demo.lines
    assert sandbox.counter.count("POST", PLURAL_CREATE) - before == 1
    text = "\n".join(demo.lines)
    assert "1 order created at the gateway" in text
    assert "recognised as a duplicate" in text
    assert "pending -> paid" in text
    assert "paid -> partially_refunded" in text
    printed = ledger_lines(demo)
    assert all(len(line) <= 100 for line in printed)
    assert ledger_json(demo)["ok"] is True
