"""``payhub pay`` against the real sandbox over HTTP; for an OTP wallet it prints the
``payhub verify`` command that completes the payment, and that command works."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import run, write

from payhub_core.cli import build_parser
from payhub_core.sandbox import SandboxServer

plutu_sandbox = pytest.importorskip("payhub_plutu.sandbox")

CAPSYS = pytest.CaptureFixture[str]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(port=0) as server:
        yield server


@pytest.fixture(autouse=True)
def _config(tmp_path: Path, sandbox: SandboxServer) -> Path:
    settings = (
        f'environment = "sandbox"\nbase_url = "{sandbox.url}/plutu"\n'
        f'api_key = "{plutu_sandbox.API_KEY}"\naccess_token = "{plutu_sandbox.ACCESS_TOKEN}"\n'
        f'secret_key = "{plutu_sandbox.SECRET_KEY}"\n'
    )
    return write(
        tmp_path / "payhub.toml",
        f'default = "cards"\n[gateways.wallet]\nadapter = "plutu.sadad"\n{settings}'
        f'[gateways.cards]\nadapter = "plutu.localbankcards"\n{settings}',
    )


def _pay_wallet(capsys: CAPSYS, invoice: str, *extra: str):  # type: ignore[no-untyped-def]
    return run(
        capsys,
        "pay",
        *("--gateway", "wallet", "--amount", "25.50", "--currency", "LYD"),
        *("--invoice", invoice, "--mobile", plutu_sandbox.TEST_MOBILE),
        *("--birth-year", str(plutu_sandbox.TEST_BIRTH_YEAR)),
        *extra,
    )


def _verify_line(output: str) -> list[str]:
    [line] = [line.strip() for line in output.splitlines() if "payhub verify" in line]
    return shlex.split(line[line.index("payhub verify") :])


def test_an_otp_wallet_payment_is_completed_by_the_command_pay_prints(capsys: CAPSYS) -> None:
    ran = _pay_wallet(capsys, "INV-CLI-OTP-1")
    assert ran.code == 0, ran.err
    command = _verify_line(ran.out)
    assert command[:2] == ["payhub", "verify"]
    build_parser().parse_args(command[1:])  # every flag it prints exists

    wrong = run(capsys, *[("000000" if arg == "CODE" else arg) for arg in command[1:]])
    assert wrong.code == 1
    assert "verified" not in wrong.out

    right = [(plutu_sandbox.SADAD_OTP if arg == "CODE" else arg) for arg in command[1:]]
    verified = run(capsys, *right, "--json")
    assert verified.code == 0, verified.out
    document = verified.json()
    assert document["status"] == "paid"
    assert document["invoice_number"] == "INV-CLI-OTP-1"
    assert document["checked"] == ["otp", "invoice_number", "amount", "currency"]


def test_the_otp_form_checks_the_amount(capsys: CAPSYS) -> None:
    ran = _pay_wallet(capsys, "INV-CLI-OTP-2", "--json")
    assert ran.code == 0
    document = ran.json()
    assert document["action"]["type"] == "OtpChallenge"
    command = shlex.split(document["next"])
    assert "--otp-reference" in command
    command = [plutu_sandbox.SADAD_OTP if arg == "CODE" else arg for arg in command]
    command[command.index("--expect-amount") + 1] = "2.550"  # not what was initiated
    ran = run(capsys, *command[1:])
    assert ran.code == 1
    assert ran.out == ""


def test_a_card_payment_points_to_the_checkout_page(capsys: CAPSYS, sandbox: SandboxServer) -> None:
    ran = run(
        capsys,
        "pay",
        *("--amount", "40", "--currency", "LYD", "--invoice", "INV-CLI-CARD-1"),
        *("--return-url", "https://shop.example/return"),
    )
    assert ran.code == 0, ran.err
    assert f"next:      send the customer to {sandbox.url}/plutu/checkout/" in ran.out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--amount", "ten", "--currency", "LYD", "--invoice", "I"], "invalid payment arguments"),
        (["--amount", "1", "--currency", "LYD", "--invoice", ""], "invalid payment arguments"),
        (["--amount", "1", "--currency", "LYD"], "required: --invoice"),
        (["--amount", "1", "--currency", "LYD", "--invoice", "I", "--birth-year", "x"], "int"),
    ],
)
def test_bad_payment_arguments_exit_2(capsys: CAPSYS, argv: list[str], says: str) -> None:
    ran = run(capsys, "pay", *argv)
    assert ran.code == 2
    assert ran.err.startswith("payhub pay: bad arguments:")
    assert says in ran.err


def test_an_unknown_gateway_is_a_configuration_error(capsys: CAPSYS) -> None:
    ran = run(
        capsys, "pay", "--gateway", "paypal", "--amount", "1", "--currency", "LYD", "--invoice", "I"
    )
    assert ran.code == 3
    assert "'paypal' is not configured" in ran.err


def test_the_printed_command_keeps_the_configuration_file(capsys: CAPSYS, tmp_path: Path) -> None:
    (tmp_path / "payhub.toml").rename(tmp_path / "shop config.toml")
    ran = _pay_wallet(capsys, "INV-CLI-3", "--config", "shop config.toml")
    assert ran.code == 0, ran.err
    command = _verify_line(ran.out)
    assert command[command.index("--config") + 1] == "shop config.toml"
    assert command[command.index("--expect-invoice") + 1] == "INV-CLI-3"
    code = [plutu_sandbox.SADAD_OTP if arg == "CODE" else arg for arg in command]
    assert run(capsys, *code[1:]).code == 0


def test_with_a_ledger_the_wallet_code_confirmed_by_verify_is_recorded(
    capsys: CAPSYS, tmp_path: Path
) -> None:
    """Confirming a wallet's code moves the money: with a [ledger], ``payhub verify`` records
    it (``receive``), so the ledger says paid rather than pending for a paid payment."""
    pytest.importorskip("sqlalchemy")
    config = tmp_path / "payhub.toml"
    db = tmp_path / "ledger.sqlite3"
    config.write_text(
        config.read_text(encoding="utf-8") + f'\n[ledger]\nurl = "sqlite:///{db}"\n',
        encoding="utf-8",
    )
    assert run(capsys, "ledger", "upgrade").code == 0
    ran = _pay_wallet(capsys, "INV-CLI-LEDGER-1")
    assert ran.code == 0, ran.err
    command = [plutu_sandbox.SADAD_OTP if arg == "CODE" else arg for arg in _verify_line(ran.out)]

    verified = run(capsys, *command[1:])
    assert verified.code == 0, verified.err
    assert "status:         paid" in verified.out
    assert "ledger:         pending -> paid" in verified.out
    [payment] = run(capsys, "payments", "--json").json()
    assert payment["invoice_number"] == "INV-CLI-LEDGER-1"
    assert payment["status"] == "paid"
    assert verified.out.count("ledger:") == 1


def test_with_a_ledger_the_printed_verify_run_twice_confirms_once(
    capsys: CAPSYS, tmp_path: Path
) -> None:
    """The second run of the printed ``payhub verify`` line is answered by the ledger (the
    payment is paid): it succeeds, says so, and is not sent to the gateway, which would
    refuse it as already processed."""
    pytest.importorskip("sqlalchemy")
    config = tmp_path / "payhub.toml"
    db = tmp_path / "ledger.sqlite3"
    config.write_text(
        config.read_text(encoding="utf-8") + f'\n[ledger]\nurl = "sqlite:///{db}"\n',
        encoding="utf-8",
    )
    assert run(capsys, "ledger", "upgrade").code == 0
    ran = _pay_wallet(capsys, "INV-CLI-LEDGER-2")
    assert ran.code == 0, ran.err
    again = _pay_wallet(capsys, "INV-CLI-LEDGER-2")
    assert again.code == 0, again.err
    assert "already initiated: same checkout, nothing sent" in again.out
    assert "already initiated" not in ran.out
    command = [plutu_sandbox.SADAD_OTP if arg == "CODE" else arg for arg in _verify_line(ran.out)]
    first = run(capsys, *command[1:])
    assert first.code == 0, first.err
    second = run(capsys, *command[1:])
    assert second.code == 0, second.err
    assert "status:         paid" in second.out
    assert "already recorded; the code was not sent again" in second.out
    assert "CONFIRMATION_ERROR" not in second.out + second.err
