"""payhub benchmarks: every figure is a ratio against a baseline measured in the same run.

    make bench                                   # full run with .venv's interpreter
    .venv/bin/python bench/run.py --quick        # CI: fewer rounds; prints, never fails
    .venv/bin/python bench/run.py --python /tmp/venv-before/bin/python --save before.json
    .venv/bin/python bench/run.py --compare before.json    # before/after table

Each case is timed in alternating rounds (order flipped every round) and reported as the
median of the per-round ratios, with min and max. In-process cases use per-thread CPU
time (``time.thread_time``) in a worker process started with ``--python``; cold-start cases
start a fresh process per sample and compare the CPU time the child used. See
docs/performance.md for what each case compares.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _measure import Result, alternate_processes, child_run  # noqa: E402

DEPS = "import httpx, pydantic, pluggy"
DEPS_AND_CLIENT = DEPS + "; httpx.Client()"
CONFIG = """{"default": "a", "gateways": {
    "a": {"adapter": "plutu.localbankcards", "environment": "sandbox",
          "api_key": "bench-api-key", "access_token": "bench-access-token",
          "secret_key": "bench-secret-key"},
    "b": {"adapter": "plural.checkout", "environment": "sandbox",
          "client_id": "bench-client", "client_secret": "bench-client-secret",
          "secret_key": "abababababababababababababababab"}}}"""
TWO_GATEWAYS = f"""
from payhub_core import Hub
hub = Hub.from_config({CONFIG})
"""
BUILD_ONLY = f"""
import time
import httpx
from payhub_core import Hub
config = {CONFIG}
started = time.thread_time()
hub = Hub.from_config(config)
print(time.thread_time() - started)
"""


def _fake_distributions(root: Path, count: int) -> None:
    """``count`` installed-looking distributions with unrelated entry points."""
    for index in range(count):
        info = root / f"unrelated_{index}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: unrelated-{index}\nVersion: 1.0\n"
            "Summary: a distribution that has nothing to do with payhub\n"
        )
        (info / "entry_points.txt").write_text(
            f"[console_scripts]\nunrelated-{index} = unrelated_{index}:main\n\n"
            f"[unrelated.plugins]\nplugin = unrelated_{index}.plugin:Plugin\n"
        )
        (info / "RECORD").write_text("")


# Cold-start children run with bytecode, as a deployment does: an installed package has
# its .pyc files, and compiling sources on every start would time the compiler, not the
# imports. The variable is set to the empty string (Python then writes and reads .pyc
# files, as when it is unset) because child_run adds to this process's environment; the
# warm-up run of each case (alternate_processes) writes any .pyc that is missing.
BYTECODE = {"PYTHONDONTWRITEBYTECODE": ""}


def cold_cases(python: str, rounds: int) -> Iterator[Result]:
    def cpu(statement: str) -> float:
        return child_run([python, "-c", statement], BYTECODE)[0]

    yield alternate_processes(
        "import payhub_core (whole process)", DEPS,
        lambda: cpu("import payhub_core"), lambda: cpu(DEPS), rounds=rounds,
    )  # fmt: skip
    yield alternate_processes(
        "process building a Hub (Plutu + Plural)", "deps + httpx.Client()",
        lambda: cpu(TWO_GATEWAYS), lambda: cpu(DEPS_AND_CLIENT), rounds=rounds,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as many, tempfile.TemporaryDirectory() as none:
        _fake_distributions(Path(many), 50)

        def build(path: str) -> float:
            env = {**BYTECODE, "PYTHONPATH": path}
            return float(child_run([python, "-c", BUILD_ONLY], env)[2])

        yield alternate_processes(
            "Hub build, 50 extra distributions", "Hub build without them",
            lambda: build(many), lambda: build(none), rounds=rounds,
        )  # fmt: skip


def worker_cases(python: str, group: str, args: argparse.Namespace) -> Iterator[Result]:
    command = [python, str(HERE / "_worker.py"), group, "--rounds", str(args.rounds),
               "--target", str(args.target), "--operations", str(args.operations)]  # fmt: skip
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as process:
        assert process.stdout is not None
        for line in process.stdout:
            data = json.loads(line)
            data.pop("median", None)
            yield Result(**data)
    if process.returncode != 0:
        print(f"  ({group}: the worker failed with exit code {process.returncode})")


def _scale(unit: str) -> float:
    return {"µs": 1e6, "ms": 1e3, "KiB": 1 / 1024}[unit]


def _middle(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def row(result: Result) -> str:
    scale = _scale(result.unit)
    subject = _middle(result.subject_s) * scale
    base = _middle(result.baseline_s) * scale
    spread = f"[{min(result.ratios):.2f}–{max(result.ratios):.2f}]"
    text = (
        f"{result.case:48} {result.median:5.2f}× {spread:13} "
        f"{subject:9.1f} vs {base:8.1f} {result.unit:3}  {result.baseline}"
    )
    return text + (f"  ({result.note})" if result.note else "")


def _cell(item: dict[str, Any] | None) -> str:
    if item is None:
        return "–"
    ratios = item["ratios"]
    if len(ratios) == 1:
        return f"{item['median']:.2f}×"
    return f"{item['median']:.2f}× ({min(ratios):.2f}–{max(ratios):.2f})"


def compare(before_path: Path, after: dict[str, dict[str, Any]]) -> None:
    """A Markdown table: each case's median ratio (and range) before and after."""
    before = {item["case"]: item for item in json.loads(before_path.read_text())["results"]}
    print("\n| case | baseline | before | after |\n|---|---|---|---|")
    for case, item in after.items():
        print(f"| {case} | {item['baseline']} | {_cell(before.get(case))} | {_cell(item)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few rounds (CI); never fails")
    parser.add_argument("--python", default=sys.executable, help="interpreter with payhub")
    parser.add_argument("--only", default="", help="groups: cold,network,verification,peers,"
                        "memory (comma-separated)")  # fmt: skip
    parser.add_argument("--save", type=Path, help="write the results as JSON")
    parser.add_argument("--compare", type=Path, help="a --save file to put beside these")
    parser.add_argument("--load", type=Path, help="a --save file to compare instead of running")
    args = parser.parse_args()
    if args.load and args.compare:
        saved = json.loads(args.load.read_text())["results"]
        compare(args.compare, {item["case"]: item for item in saved})
        return
    args.rounds, args.target, args.operations, cold_rounds = (
        (5, 0.01, 2000, 5) if args.quick else (15, 0.05, 10_000, 15)
    )
    groups = [g for g in (args.only or "cold,network,verification,peers,memory").split(",") if g]
    version = subprocess.run(
        [args.python, "-c", "import sys, payhub_core; print(sys.version.split()[0], "
         "payhub_core.__file__)"], capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    print(f"payhub benchmarks: python {version}; {os.cpu_count()} CPUs")
    print("median of per-round ratios [min–max]; per-operation times (median) for context\n")
    results: dict[str, dict[str, Any]] = {}
    for group in groups:
        print(f"-- {group}")
        cases = (
            cold_cases(args.python, cold_rounds)
            if group == "cold"
            else worker_cases(args.python, group, args)
        )
        for result in cases:
            print(row(result), flush=True)
            results[result.case] = result.as_dict()
        print()
    if args.save:
        args.save.write_text(json.dumps({"python": version, "results": list(results.values())}))
    if args.compare:
        compare(args.compare, results)


if __name__ == "__main__":
    main()
