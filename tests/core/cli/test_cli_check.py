"""``payhub check``: it validates exactly what the application builds (the same constructors,
the same environment overrides), reports every broken gateway, and explains an unusable
file in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import ACCESS_TOKEN, API_KEY, CARDS_TOML, SECRET_KEY, run, run_process, write

from payhub_core import ConfigurationError, Hub

CAPSYS = pytest.CaptureFixture[str]

# The quick start's file: the secrets come from the environment.
QUICKSTART_TOML = """
default = "cards"

[gateways.cards]
adapter = "plutu.localbankcards"
environment = "production"
# api_key, access_token, secret_key from PAYHUB_CARDS__API_KEY etc.
"""
QUICKSTART_ENV = {
    "PAYHUB_CARDS__API_KEY": API_KEY,
    "PAYHUB_CARDS__ACCESS_TOKEN": ACCESS_TOKEN,
    "PAYHUB_CARDS__SECRET_KEY": SECRET_KEY,
}


def test_the_quick_starts_secrets_from_the_environment_work_in_the_app_and_in_check(
    capsys: CAPSYS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "payhub.toml", QUICKSTART_TOML)
    for name, value in QUICKSTART_ENV.items():
        monkeypatch.setenv(name, value)
    with Hub.from_file(path) as hub:  # what the application does
        assert hub.default_gateway == "cards"
    ran = run(capsys, "check")
    assert ran.code == 0
    assert "configuration OK" in ran.out
    assert "PAYHUB_CARDS__SECRET_KEY" in ran.out  # names the overrides it applied...
    ran.assert_no_secret()  # ... never their values


@pytest.mark.parametrize(
    "env",
    [
        {},  # no secrets at all
        {"PAYHUB_CARDS__API_KEY": API_KEY},  # some
        {**QUICKSTART_ENV, "PAYHUB_CARDS__MAX_RETRIES": "many"},  # a malformed override
        {**QUICKSTART_ENV, "PAYHUB_DEFAULT": "india"},  # a default that is not configured
    ],
)
def test_check_fails_exactly_when_the_application_fails(
    capsys: CAPSYS,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
) -> None:
    path = write(tmp_path / "payhub.toml", QUICKSTART_TOML)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as raised:
        Hub.from_file(path)
    ran = run(capsys, "check", str(path))
    assert ran.code == 3
    assert raised.value.message in ran.err  # the one broken gateway's error, in one line
    assert ran.err.count("\n") == 1
    ran.assert_no_secret()
    # from PAYHUB_CONFIG (the application's Hub.from_env) the same
    monkeypatch.setenv("PAYHUB_CONFIG", str(path))
    with pytest.raises(ConfigurationError):
        Hub.from_env()
    assert run(capsys, "check").code == 3


def test_every_broken_gateway_is_reported(capsys: CAPSYS, tmp_path: Path) -> None:
    text = (
        CARDS_TOML
        + '\n[gateways.wallet]\nadapter = "plutu.sadad"\nenvironment = "sandbox"\n'
        + '\n[gateways.typo]\nadapter = "plutu.localbankcard"\n'
    )
    write(tmp_path / "payhub.toml", text)
    ran = run(capsys, "check")
    assert ran.code == 3
    assert "wallet" in ran.out
    assert "typo" in ran.out
    assert ran.out.count("BROKEN") == 2
    assert "wallet: gateway 'wallet' (plutu.sadad): invalid settings" in ran.out
    assert "typo: no adapter named 'plutu.localbankcard'" in ran.out
    assert "2 of 3 gateways cannot be built: typo, wallet" in ran.err

    ran = run(capsys, "check", "--json")
    assert ran.code == 3
    document = ran.json()
    assert document["ok"] is False
    assert document["error"]["exit_code"] == 3
    gateways = document["gateways"]
    assert gateways["cards"]["ok"] is True
    assert gateways["cards"]["operations"] == ["initiate", "verify"]
    assert gateways["wallet"]["ok"] is False
    assert "api_key" in gateways["wallet"]["error"]["message"]
    assert gateways["typo"]["error"]["type"] == "AdapterNotFound"
    ran.assert_no_secret()


def test_a_good_configuration_in_json(capsys: CAPSYS, tmp_path: Path) -> None:
    write(tmp_path / "payhub.toml", CARDS_TOML)
    ran = run(capsys, "check", "--json")
    assert ran.code == 0
    document = ran.json()
    assert document["ok"] is True
    assert document["default"] == "cards"
    assert document["gateways"]["cards"]["currencies"] == ["LYD"]
    assert "error" not in document
    ran.assert_no_secret()


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "is empty"),
        (b"# nothing but a comment\n", "is empty"),
        (b'default = "\xff"\n', "is not UTF-8 text"),
        (b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nests arrays or tables too deeply"),
        (b"[gateways.cards\n", "is not valid TOML"),
        (b'gateways = "cards"\n', "'gateways' must be a table"),
    ],
)
def test_an_unusable_file_is_one_line_and_exit_3(
    capsys: CAPSYS, tmp_path: Path, content: bytes, says: str
) -> None:
    (tmp_path / "payhub.toml").write_bytes(content)
    ran = run(capsys, "check")
    assert ran.code == 3
    assert ran.out == ""
    assert ran.err.count("\n") == 1
    assert ran.err.startswith("payhub check: configuration error: ")
    assert says in ran.err
    ran = run(capsys, "check", "--json")
    assert ran.code == 3
    assert says in ran.json()["error"]["message"]


def test_no_configuration_anywhere_says_where_it_looked(capsys: CAPSYS) -> None:
    ran = run(capsys, "check")
    assert ran.code == 3
    assert "PAYHUB_CONFIG" in ran.err
    # every place it looked, the file first: that is where a new user's config goes
    assert "./payhub.toml" in ran.err
    assert "--config" in ran.err
    assert ran.err.count("\n") == 1


def test_a_missing_file_named_on_the_command_line(capsys: CAPSYS) -> None:
    ran = run(capsys, "check", "nope.toml")
    assert ran.code == 3
    assert "'nope.toml' does not exist" in ran.err


def test_the_real_command_on_a_non_utf8_file_prints_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "payhub.toml").write_bytes(b'default = "\xff"\n')
    ran = run_process("check", cwd=tmp_path)
    assert ran.code == 3
    assert "Traceback" not in ran.err
    assert ran.err.count("\n") == 1


def test_the_real_command_with_secrets_from_the_environment(tmp_path: Path) -> None:
    write(tmp_path / "payhub.toml", QUICKSTART_TOML)
    ran = run_process("check", cwd=tmp_path, env=QUICKSTART_ENV)
    assert ran.code == 0, ran.err
    assert "configuration OK" in ran.out
    ran.assert_no_secret()
