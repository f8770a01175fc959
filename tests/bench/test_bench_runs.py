"""The benchmark runs: every in-process group prints one JSON result per case, each a
same-run ratio of two measured sides. Tiny rounds: this guards the benchmark's code, not
payhub's speed (which is never asserted in a test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

EXPECTED = {
    "network": ["Plural status [sync]", "Plutu initiate [async]",
                "Plural return + Get Order [async]"],
    "verification": ["Plutu return verify [sync]", "Plural webhook verify [async]",
                     "Plural return, 1000 parameters [sync]"],
    "memory": ["heap per Hub (2 gateways)", "heap per in-flight async status",
               "soak: heap after 200 Hub.status"],
}  # fmt: skip


@pytest.mark.parametrize("group", sorted(EXPECTED))
def test_each_group_prints_a_ratio_per_case(group: str) -> None:
    completed = subprocess.run(  # noqa: S603 - this interpreter and the repository's bench
        [sys.executable, str(BENCH / "_worker.py"), group, "--rounds", "1", "--target",
         "0.001", "--operations", "200"],
        capture_output=True, text=True, check=False, cwd=BENCH, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    results = [json.loads(line) for line in completed.stdout.splitlines()]
    cases = [result["case"] for result in results]
    for name in EXPECTED[group]:
        assert name in cases
    for result in results:
        assert result["ratios"]
        assert all(ratio > 0 for ratio in result["ratios"])
        assert all(value > 0 for value in (*result["subject_s"], *result["baseline_s"]))
