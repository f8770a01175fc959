"""``payhub verify``: every expectation given is checked on its own, and the command never
says "verified" for a payment that is not the one expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import CALLBACK_QUERY, CARDS_TOML, run, write

CAPSYS = pytest.CaptureFixture[str]


@pytest.fixture(autouse=True)
def _config(tmp_path: Path) -> Path:
    return write(tmp_path / "payhub.toml", CARDS_TOML)


def verify(capsys: CAPSYS, *extra: str):  # type: ignore[no-untyped-def]
    return run(capsys, "verify", "--query", CALLBACK_QUERY, *extra)


# -- expectations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [("6.00", "USD", "currency"), ("6.000", "LYD", "amount"), ("5.001", "LYD", "amount")],
)
def test_amount_and_currency_without_an_invoice_are_checked(
    capsys: CAPSYS, amount: str, currency: str, field: str
) -> None:
    # The callback is a genuine 5.000 LYD payment: another amount must never say verified.
    ran = verify(capsys, "--expect-amount", amount, "--expect-currency", currency)
    assert ran.code == 1
    assert "verified" not in ran.out
    assert ran.out == ""
    assert ran.err.count("\n") == 1
    assert "AmountMismatch" in ran.err

    ran = verify(capsys, "--expect-amount", amount, "--expect-currency", currency, "--json")
    assert ran.code == 1
    error = ran.json()["error"]
    assert error["type"] == "AmountMismatch"
    assert error["field"] == field
    assert error["exit_code"] == 1
    assert "verified" not in ran.json()
    ran.assert_no_secret()


def test_the_right_amount_alone_verifies_and_says_the_invoice_was_not_compared(
    capsys: CAPSYS,
) -> None:
    ran = verify(capsys, "--expect-amount", "5", "--expect-currency", "LYD", "--json")
    assert ran.code == 0
    document = ran.json()
    assert document["verified"] is True
    assert document["checked"] == ["signature", "amount", "currency"]
    assert document["amount"] == {"amount": "5.000", "currency": "LYD"}

    ran = verify(capsys, "--expect-amount", "5.00", "--expect-currency", "LYD")
    assert ran.code == 0
    assert "not checked:    the invoice number" in ran.out
    assert "the amount" not in ran.out


def test_an_invoice_number_alone_is_checked(capsys: CAPSYS) -> None:
    ran = verify(capsys, "--expect-invoice", "INV-OTHER", "--json")
    assert ran.code == 1
    assert ran.json()["error"]["field"] == "invoice_number"
    assert ran.json()["error"]["actual_value"] == "14022023"

    ran = verify(capsys, "--expect-invoice", "14022023")
    assert ran.code == 0
    assert "not checked:    the amount" in ran.out


@pytest.mark.parametrize(
    ("invoice", "amount", "code"),
    [("14022023", "5.000", 0), ("14022023", "50.00", 1), ("1402202", "5.000", 1)],
)
def test_all_three_expectations_together(
    capsys: CAPSYS, invoice: str, amount: str, code: int
) -> None:
    ran = verify(
        capsys,
        *("--expect-invoice", invoice, "--expect-amount", amount, "--expect-currency", "LYD"),
    )
    assert ran.code == code
    assert ("verified:       True" in ran.out) is (code == 0)
    if code == 0:
        assert "not checked" not in ran.out


def test_without_expectations_it_verifies_the_signature_and_says_what_it_did_not_check(
    capsys: CAPSYS,
) -> None:
    ran = verify(capsys)
    assert ran.code == 0
    assert "checked:        signature\n" in ran.out
    assert "not checked:    the invoice number" in ran.out
    assert "not checked:    the amount" in ran.out
    ran.assert_no_secret()


def test_a_field_the_gateway_did_not_send_is_left_out_not_printed_empty(
    capsys: CAPSYS,
) -> None:
    # a Local Bank Cards return carries no event id: no "event_id:" line with nothing after it
    ran = verify(capsys, "--expect-invoice", "14022023")
    assert ran.code == 0
    assert "event_id" not in ran.out
    assert all(line.split(":", 1)[1].strip() for line in ran.out.splitlines())
    assert verify(capsys, "--json").json()["event_id"] is None  # JSON keeps every key


def test_a_tampered_callback_is_not_verified(capsys: CAPSYS) -> None:
    ran = run(capsys, "verify", "--query", CALLBACK_QUERY.replace("amount=5.00", "amount=0.01"))
    assert ran.code == 1
    assert "SignatureError" in ran.err
    assert ran.out == ""


# -- bad arguments: exit 2, one line (or one JSON error) ------------------------------------


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--expect-amount", "5.00"], "--expect-amount and --expect-currency go together"),
        (["--expect-currency", "LYD"], "--expect-amount and --expect-currency go together"),
        (["--expect-amount", "five", "--expect-currency", "LYD"], "--expect-amount"),
        (["--expect-amount", "5", "--expect-currency", "XXQ"], "--expect-amount"),
        (["--header", "bad"], "--header takes 'Name: value'"),
        (["--header", ": no name"], "--header takes 'Name: value'"),
        (["--body", "a", "--body-file", "b"], "not allowed with argument"),
        (["--body-file", "missing.json"], "cannot read --body-file 'missing.json'"),
        (["--body-file", "."], "cannot read --body-file '.'"),
        (["--otp-reference", "R1"], "--otp-reference and --otp-code go together"),
        (["--otp-code", "111111"], "--otp-reference and --otp-code go together"),
        (["--otp-reference", "R1", "--otp-code", "1"], "--expect-invoice, --expect-amount"),
        (["--method", "PUT"], "invalid choice"),
        (["--no-such-flag"], "unrecognized arguments"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(capsys: CAPSYS, argv: list[str], says: str) -> None:
    ran = run(capsys, "verify", *argv)
    assert ran.code == 2
    assert ran.out == ""
    assert ran.err.startswith("payhub verify: bad arguments: ")
    assert ran.err.count("\n") == 1
    assert says in ran.err

    ran = run(capsys, "verify", *argv, "--json")
    assert ran.code == 2
    assert ran.err == ""
    error = ran.json()["error"]
    assert error["type"] == "UsageError"
    assert error["exit_code"] == 2
    assert says in error["message"]


def test_an_otp_is_not_mixed_with_a_callback(capsys: CAPSYS) -> None:
    ran = run(
        capsys,
        "verify",
        *("--otp-reference", "R1", "--otp-code", "111111", "--query", CALLBACK_QUERY),
        *("--expect-invoice", "I", "--expect-amount", "1", "--expect-currency", "LYD"),
    )
    assert ran.code == 2
    assert "drop --query" in ran.err


def test_a_body_file_is_read_as_bytes(capsys: CAPSYS, tmp_path: Path) -> None:
    # A POST body that is not a signed callback: read, then refused by the adapter (exit 1),
    # never a traceback.
    (tmp_path / "body.bin").write_bytes(b"\xff\xfe not json")
    ran = run(capsys, "verify", "--body-file", "body.bin", "--header", "Content-Type: x")
    assert ran.code == 1
    assert ran.err.count("\n") == 1
