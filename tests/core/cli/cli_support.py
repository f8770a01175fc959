"""Running the ``payhub`` command in tests: in-process through ``main`` (most tests) or as
the installed console script in a subprocess (a few, for what only a real process shows:
exit codes through ``sys.exit``, pipes, signals).

The callback used throughout is the official Plutu SDK vector for Local Bank Cards: a
genuine, signed return for invoice 14022023 of 5.00 LYD.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from payhub_core.cli import main

PAYHUB = Path(sys.executable).parent / "payhub"

SECRET_KEY = "sk_ac63978fe4bc6defb55045fe84492021d1e87555"
API_KEY = "api-key-canary-7f3a9c1e"
ACCESS_TOKEN = "access-token-canary-51d0b2"
CALLBACK_QUERY = (
    "gateway=localbankcards&approved=1&invoice_no=14022023&amount=5.00&transaction_id=100900"
    "&hashed=79CA9C64A7DF0BB5E634CFA67A90219F5A6C7197265B8732CC5372EF519F761F"
)
SECRETS = (SECRET_KEY, API_KEY, ACCESS_TOKEN)

CARDS_TOML = f"""
default = "cards"

[gateways.cards]
adapter = "plutu.localbankcards"
environment = "sandbox"
api_key = "{API_KEY}"
access_token = "{ACCESS_TOKEN}"
secret_key = "{SECRET_KEY}"
"""


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def assert_no_secret(self) -> None:
        for secret in SECRETS:
            assert secret not in self.out
            assert secret not in self.err


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Ran:
    """``payhub ARGV`` in this process; what it returned and printed."""
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err)


def run_process(
    *argv: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> Ran:
    """The installed ``payhub`` console script, as a user runs it."""
    completed = subprocess.run(  # noqa: S603 - our own console script
        [str(PAYHUB), *argv],
        cwd=cwd,
        env=clean_environ(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Ran(completed.returncode, completed.stdout, completed.stderr)


def clean_environ(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The process environment without any PAYHUB_ variable, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PAYHUB_")}
    return {**env, **(extra or {})}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
