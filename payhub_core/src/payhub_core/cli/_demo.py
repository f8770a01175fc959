"""``payhub demo``: the sandbox in-process, every installed adapter's whole payment life,
one readable table, a non-zero exit if any step fails."""

from __future__ import annotations

import sys
import time

from payhub_core._hub import Hub
from payhub_core.cli._render import Progress, print_json, table
from payhub_core.demo import CaseResult, DemoEnvironment, run_case


def run_demo(*, as_json: bool = False) -> int:
    progress = Progress(enabled=not as_json)
    started = time.perf_counter()
    results: list[CaseResult] = []
    with DemoEnvironment() as env:
        cases = env.cases()
        if not cases:
            print("no sandbox emulators with demo cases are installed", file=sys.stderr)
            return 3
        if not as_json:
            print(f"payhub demo: sandbox on {env.url}, {len(cases)} payment lives\n")
        with Hub(env.hub_config(cases)) as hub:
            for alias, case in cases:
                progress.update(f"{case.adapter}: {case.title}…")
                result = run_case(env, hub, alias, case)
                results.append(result)
                progress.done()
                if not as_json:
                    mark = "ok " if result.ok else "FAIL"
                    print(f"  {mark} {case.adapter:22} {case.title}", flush=True)
    elapsed = time.perf_counter() - started
    if as_json:
        print_json(
            {
                "ok": all(result.ok for result in results),
                "seconds": round(elapsed, 2),
                "cases": [
                    {
                        "adapter": result.case.adapter,
                        "title": result.case.title,
                        "ok": result.ok,
                        "status": result.status,
                        "seconds": round(result.seconds, 3),
                        "steps": [
                            {
                                "name": s.name,
                                "ok": s.ok,
                                "detail": s.detail,
                                "seconds": round(s.seconds, 3),
                            }
                            for s in result.steps
                        ],
                    }
                    for result in results
                ],
            }
        )
    else:
        rows = [
            [
                result.case.adapter,
                result.case.title,
                " → ".join(step.name + ("" if step.ok else " ✗") for step in result.steps),
                result.status if result.ok else "FAILED",
                f"{result.seconds * 1000:.0f} ms",
            ]
            for result in results
        ]
        print()
        print(table(["gateway", "case", "steps", "status", "time"], rows))
        failures = [result for result in results if not result.ok]
        for result in failures:
            print(f"\n{result.case.adapter} ({result.case.title}) failed: {result.error}")
        print(
            f"\n{len(results) - len(failures)}/{len(results)} payment lives succeeded "
            f"in {elapsed:.1f} s"
        )
    return 0 if results and all(result.ok for result in results) else 1
