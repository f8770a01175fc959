"""Same-run ratios from alternating rounds.

Machines here share cores and show heavy CPU steal, so an absolute time means little and
"baseline first, then payhub" compares two different moments. Instead every round times
both sides back to back, in alternating chunks (ABBA...), the side that goes first flipped
each round, and the result is the median of the per-round ratios (with min and max, so a
noisy run shows itself).

In-process cases are timed with ``time.thread_time`` (CPU time of this thread: time the
thread spends descheduled is not counted). Whole-process cases are timed by the CPU time
the child used (``RUSAGE_CHILDREN``), with wall time shown alongside.
"""

from __future__ import annotations

import gc
import os
import resource
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

CHUNKS = 4
"""Chunks per side per round (see :func:`alternate`)."""

Batch = Callable[[int], object]
"""Runs one side of a case ``n`` times."""


@dataclass
class Result:
    """One case: ``subject / baseline`` per round, and the per-operation times."""

    case: str
    baseline: str
    ratios: list[float]
    subject_s: list[float]
    baseline_s: list[float]
    unit: str = "µs"
    kind: str = "cpu"
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.ratios)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["median"] = self.median
        return data


def _timed(batch: Batch, n: int, clock: Callable[[], float]) -> float:
    gc.collect()
    started = clock()
    batch(n)
    return clock() - started


def calibrate(batch: Batch, target_s: float, clock: Callable[[], float] = time.thread_time) -> int:
    """How many operations make one batch last about ``target_s``."""
    n = 1
    while True:
        elapsed = _timed(batch, n, clock)
        if elapsed >= target_s or n >= 1 << 20:
            break
        n = n * 2 if elapsed <= 0 else max(n * 2, int(n * target_s / elapsed * 1.1))
    return n


def alternate(
    case: str,
    baseline: str,
    subject_batch: Batch,
    baseline_batch: Batch,
    *,
    rounds: int,
    target_s: float,
    note: str = "",
) -> Result:
    """Time both sides ``rounds`` times, alternating which goes first."""
    subject_batch(2)  # warm caches, imports, pools
    baseline_batch(2)
    chunk = max(1, calibrate(baseline_batch, target_s / CHUNKS))
    n = chunk * CHUNKS
    ratios: list[float] = []
    subject_s: list[float] = []
    baseline_s: list[float] = []
    for index in range(rounds):
        # Within a round the sides alternate in chunks, ABBA..., so that a burst of
        # interference lasting part of a round lands on both; the round's first side
        # flips every round.
        s = b = 0.0
        for step in range(CHUNKS):
            if (index + step) % 2 == 0:
                s += _timed(subject_batch, chunk, time.thread_time)
                b += _timed(baseline_batch, chunk, time.thread_time)
            else:
                b += _timed(baseline_batch, chunk, time.thread_time)
                s += _timed(subject_batch, chunk, time.thread_time)
        subject_s.append(s / n)
        baseline_s.append(b / n)
        ratios.append(s / b)
    return Result(case, baseline, ratios, subject_s, baseline_s, note=note)


def child_run(
    argv: Sequence[str], env: Mapping[str, str] | None = None
) -> tuple[float, float, str]:
    """Run ``argv`` to completion: (CPU seconds it used, wall seconds, its stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(
        list(argv),
        env={**os.environ, **env} if env is not None else None,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise RuntimeError(f"{argv!r} failed:\n{completed.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, completed.stdout


def alternate_processes(
    case: str,
    baseline: str,
    subject: Callable[[], float],
    base: Callable[[], float],
    *,
    rounds: int,
    unit: str = "ms",
    note: str = "",
) -> Result:
    """Like :func:`alternate`, one process per side per round; each callable runs a
    process and returns the seconds to compare."""
    subject()
    base()  # warm the OS file cache for both
    ratios: list[float] = []
    subject_s: list[float] = []
    baseline_s: list[float] = []
    for index in range(rounds):
        if index % 2 == 0:
            s, b = subject(), base()
        else:
            b = base()
            s = subject()
        subject_s.append(s)
        baseline_s.append(b)
        ratios.append(s / b)
    return Result(case, baseline, ratios, subject_s, baseline_s, unit=unit, kind="process",
                  note=note)  # fmt: skip
