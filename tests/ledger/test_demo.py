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
    # The history reads as a merchant expects: where each change came from, from which
    # state to which ("new" for the first), one line each.
    assert "initiate: new -> pending" in text
    assert "webhook: pending -> paid" in text
    assert "refund: paid -> partially_refunded" in text
    assert " - -> " not in text
    printed = ledger_lines(demo)
    assert all(len(line) <= 100 for line in printed), printed
    # Nothing needed wrapping: every line of the section is printed as one line.
    assert len(printed) == len(demo.lines) + 2, printed
    assert "history:" in [line.strip() for line in printed]
    assert ledger_json(demo)["ok"] is True
