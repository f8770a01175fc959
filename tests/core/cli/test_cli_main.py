"""The ``payhub`` entry point as a whole: exit codes as docs/cli.md documents them, closed
pipes, ``schema`` and ``demo`` output."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import PAYHUB, clean_environ, run, run_process

from payhub_core.cli import COMMANDS, main

CAPSYS = pytest.CaptureFixture[str]
DOCS = Path(__file__).resolve().parents[3] / "docs" / "cli.md"


def test_every_command_is_documented_with_the_exit_codes() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"`payhub {name}" in text, name
    for code in ("`0`", "`1`", "`2`", "`3`", "`141`"):
        assert code in text


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        ([], 2),
        (["nope"], 2),
        (["--json"], 2),
        (["schema", "--nope"], 2),
        (["check", "a.toml", "b.toml"], 2),
    ],
)
def test_bad_arguments_exit_2(capsys: CAPSYS, argv: list[str], code: int) -> None:
    ran = run(capsys, *argv)
    assert ran.code == code
    assert ran.err.count("\n") + ran.out.count("\n") >= 1
    assert "Traceback" not in ran.err


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_exit_0(capsys: CAPSYS, flag: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main([flag])
    assert exited.value.code == 0
    assert "payhub" in capsys.readouterr().out


def test_schema_prints_json(capsys: CAPSYS) -> None:
    ran = run(capsys, "schema")
    assert ran.code == 0
    assert "Invoice" in json.dumps(ran.json())


class _ClosedPipe(io.StringIO):
    def write(self, _text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("argv", [["schema"], ["adapters", "--json"], ["adapters"]])
def test_a_closed_stdout_ends_quietly_with_141(
    monkeypatch: pytest.MonkeyPatch, capsys: CAPSYS, argv: list[str]
) -> None:
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main(argv) == 141
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("argv", [["schema"], ["adapters", "--json"]])
def test_the_real_command_into_a_closed_pipe(tmp_path: Path, argv: list[str]) -> None:
    # `payhub schema | head -1` once head has exited: the reader is gone before payhub writes
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        completed = subprocess.run(  # noqa: S603 - our own console script
            [str(PAYHUB), *argv],
            cwd=tmp_path,
            env=clean_environ(),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert completed.returncode == 141
    assert completed.stderr == ""


def test_the_real_command_with_head(tmp_path: Path) -> None:
    completed = subprocess.run(  # noqa: S602 - the pipe is the point
        f"'{PAYHUB}' schema | head -1; '{PAYHUB}' adapters --json | head -2",
        shell=True,
        cwd=tmp_path,
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.stdout.splitlines()[0] == "{"
    assert "Traceback" not in completed.stderr
    assert "Error" not in completed.stderr


# -- demo ----------------------------------------------------------------------------------


def test_the_demo_reads_like_a_merchant_would_and_says_what_to_do_next(capsys: CAPSYS) -> None:
    pytest.importorskip("payhub_plutu.sandbox")
    ran = run(capsys, "demo")
    assert ran.code == 0, ran.out + ran.err
    lines = ran.out.splitlines()
    assert max(len(line) for line in lines) <= 100
    for words in ("payment lives", "arrival", "lives"):
        assert words not in ran.out
    outcomes = [line for line in lines if re.match(r"  (ok  |FAIL)  ", line)]
    titles = [line[8:70].strip() for line in outcomes]
    assert len(titles) == len(set(titles)) >= 8  # each case once
    for title in titles:
        assert sum(title in line for line in lines) == 1
    tail = "\n".join(lines[-6:])
    assert "payhub sandbox" in tail
    assert "docs/quickstart.md" in tail
    assert re.search(r"(\d+) of \1 test payments ended as expected", ran.out)


def test_the_demo_in_json(capsys: CAPSYS) -> None:
    pytest.importorskip("payhub_plutu.sandbox")
    ran = run(capsys, "demo", "--json")
    assert ran.code == 0
    document = ran.json()
    assert document["ok"] is True
    steps = {step["name"] for case in document["cases"] for step in case["steps"]}
    assert "arrival" not in steps
    assert {"initiate", "verify", "approve", "code", "return", "callback"} <= steps


def test_the_real_entry_point_runs(tmp_path: Path) -> None:
    ran = run_process("--version", cwd=tmp_path)
    assert ran.code == 0
    assert ran.out.startswith("payhub ")
    ran = run_process("verify", "--header", "bad", "--json", cwd=tmp_path)
    assert ran.code == 2
    assert ran.json()["error"]["type"] == "UsageError"
