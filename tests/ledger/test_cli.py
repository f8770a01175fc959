"""``payhub ledger upgrade``, ``payhub payments``, ``payhub reconcile`` and ``payhub
resolve`` on a configuration file, against the sandbox."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ledger_support import PLURAL_CREATE, Sandbox

from payhub_core import Hub, PaymentStatus
from payhub_core.cli import main


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def write_config(path: Path, sandbox: Sandbox, ledger_url: str) -> Path:
    config = sandbox.config(ledger_url)
    lines = [f'default = "{config["default"]}"']
    for alias, table in config["gateways"].items():
        lines.append(f"[gateways.{alias}]")
        lines += [f"{key} = {_toml(value)}" for key, value in table.items()]
    lines.append("[ledger]")
    lines += [f"{key} = {_toml(value)}" for key, value in config["ledger"].items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_upgrade_payments_reconcile_and_resolve(
    sandbox: Sandbox,
    backend: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres").create_database()
    path = write_config(tmp_path / "payhub.toml", sandbox, url)
    code, out, _ = run(capsys, "ledger", "upgrade", "--config", str(path))
    assert code == 0
    assert "schema upgraded to head" in out
    assert run(capsys, "ledger", "upgrade", "--config", str(path))[0] == 0  # again: nothing to do

    invoice = sandbox.invoice("CLI-", amount="40.00", currency="LYD")
    with Hub.from_file(path) as hub:
        hub.initiate(invoice, gateway="cards")

    code, out, _ = run(capsys, "payments", "--config", str(path), "--json")
    assert code == 0
    (listed,) = json.loads(out)
    assert (listed["invoice_number"], listed["status"]) == (invoice.number, "pending")
    code, out, _ = run(capsys, "payments", "--config", str(path), "--status", "paid")
    assert (code, out.strip()) == (0, "no payments")

    code, out, _ = run(capsys, "reconcile", "--config", str(path), "--older-than", "0s")
    assert code == 0
    assert f"operator  {invoice.number}" in out
    assert f"payhub resolve {invoice.number} --as paid|failed" in out
    assert max(len(line) for line in out.splitlines()) <= 100, out

    code, out, _ = run(
        capsys,
        "resolve",
        invoice.number,
        "--as",
        "failed",
        "--reason",
        "customer left",
        "--actor",
        "ops@shop",
        "--config",
        str(path),
    )
    assert code == 0
    assert "resolved by ops@shop" in out
    with Hub.from_file(path) as hub:
        last = hub.payment(invoice.number).history[-1]
    assert (last.status, last.source, last.actor, last.reason) == (
        PaymentStatus.FAILED,
        "operator",
        "ops@shop",
        "customer left",
    )
    code, _, err = run(
        capsys, "resolve", invoice.number, "--as", "paid", "--reason", " ", "--config", str(path)
    )
    assert code == 2
    assert "--reason" in err


def test_the_database_password_never_shows(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+psycopg://shop:canary-pw-0451@127.0.0.1:1/ledger"
    code, out, err = run(capsys, "ledger", "upgrade", "--url", url, "--json")
    assert code == 1
    assert json.loads(out)["error"]["type"] == "LedgerUnavailable"
    assert "canary-pw-0451" not in out + err
    code, out, err = run(capsys, "ledger", "upgrade", "--url", url)
    assert "canary-pw-0451" not in out + err
    assert "***" in err


def test_a_configuration_without_a_ledger_says_so(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path / "payhub.toml", sandbox, "sqlite:///x.sqlite3")
    text = path.read_text()
    path.write_text(text[: text.index("[ledger]")])
    code, _, err = run(capsys, "payments", "--config", str(path))
    assert code == 3
    assert "[ledger]" in err


def test_upgrade_of_an_unreachable_database_says_what_failed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``ledger upgrade`` moves no money: its message is about the schema, not the gateway."""
    url = "postgresql+psycopg://shop:pw@127.0.0.1:1/ledger"
    code, _, err = run(capsys, "ledger", "upgrade", "--url", url)
    assert code == 1
    assert "LedgerUnavailable" in err
    assert "127.0.0.1:1/ledger is unreachable" in err
    assert "schema" in err
    assert "gateway" not in err


def test_listing_payments_of_an_unreachable_database_does_not_talk_of_money(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path / "payhub.toml", sandbox, "postgresql://shop:pw@127.0.0.1:1/db")
    code, _, err = run(capsys, "payments", "--config", str(path))
    assert code == 1
    assert "is unreachable" in err
    assert "gateway" not in err


def test_a_missing_ledger_dependency_is_named_with_its_extra(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Without greenlet, SQLAlchemy's asyncio module raises an ImportError that names no
    module; the message still says what is missing and what to install."""
    path = write_config(tmp_path / "payhub.toml", sandbox, f"sqlite:///{tmp_path / 'l.db'}")
    script = (
        "import sys\n"
        "sys.modules['greenlet'] = None  # as in a venv without greenlet\n"
        "from payhub_core.cli import main\n"
        f"sys.exit(main(['payments', '--config', {str(path)!r}]))\n"
    )
    ran = subprocess.run(  # noqa: S603 - this interpreter and our own script
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert ran.returncode == 3, ran.stderr
    assert "missing: None" not in ran.stderr
    assert "greenlet" in ran.stderr
    assert "sqlalchemy[asyncio]" in ran.stderr
    assert "payhub-core[ledger]" in ran.stderr


def test_pay_repeated_for_the_same_invoice_says_it_is_a_repeat(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'pay.sqlite3'}"
    path = write_config(tmp_path / "payhub.toml", sandbox, url)
    assert run(capsys, "ledger", "upgrade", "--config", str(path))[0] == 0
    number = sandbox.invoice("PAYTWICE-").number
    pay = ("pay", "--config", str(path), "--gateway", "india", "--invoice", number)
    pay += ("--amount", "10.00", "--currency", "INR", "--return-url", "https://shop.test/r")
    sent = sandbox.counter.count("POST", PLURAL_CREATE)
    code, first, _ = run(capsys, *pay)
    assert code == 0
    assert "already initiated" not in first
    code, again, _ = run(capsys, *pay)
    assert code == 0
    assert "already initiated: same checkout, nothing sent" in again
    assert sandbox.counter.count("POST", PLURAL_CREATE) == sent + 1
    reference = next(line for line in first.splitlines() if line.startswith("reference:"))
    assert reference in again
    code, out, _ = run(capsys, *pay, "--json")
    assert json.loads(out)["created"] is False
