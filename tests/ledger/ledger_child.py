"""A separate OS process for the ledger tests (run as ``python ledger_child.py MODE JSON``).

``initiate``: 50 concurrent ``initiate`` of one invoice, with threads (``Hub``) or asyncio
tasks (``AsyncHub``), all released at once when a start file appears; prints the
checkouts as JSON lines.

``crash``: capture a payment and get killed (``kill -9``, by the parent) between the
gateway's answer and the ledger's commit: the process announces "answered" and waits.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))


from payhub_core import AsyncHub, Hub, Invoice


def _wait_for(start: Path) -> None:
    while not start.exists():
        time.sleep(0.001)


def initiate_threads(config: dict[str, Any], invoice: Invoice, start: Path, count: int) -> None:
    hub = Hub(config)
    results: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one() -> None:
        _wait_for(start)
        try:
            checkout = hub.initiate(invoice)
            with lock:
                results.append(checkout.model_dump_json())
        except Exception as error:
            with lock:
                errors.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    print("ready", flush=True)
    for thread in threads:
        thread.join()
    hub.close()
    print(json.dumps({"checkouts": results, "errors": errors}), flush=True)


async def initiate_tasks(config: dict[str, Any], invoice: Invoice, start: Path, count: int) -> None:
    hub = AsyncHub(config)
    print("ready", flush=True)
    await asyncio.to_thread(_wait_for, start)

    async def one() -> str:
        checkout = await hub.initiate(invoice)
        return checkout.model_dump_json()

    outcomes = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
    await hub.aclose()
    checkouts = [item for item in outcomes if isinstance(item, str)]
    errors = [f"{type(item).__name__}: {item}" for item in outcomes if not isinstance(item, str)]
    print(json.dumps({"checkouts": checkouts, "errors": errors}), flush=True)


def crash_during_capture(config: dict[str, Any], reference: str) -> None:
    """Capture, and stop dead after the gateway answered, before the ledger commits."""
    from payhub_core.ledger import _service

    original = _service.SyncLedger.run

    def run_then_hang(self: Any, plan: Any) -> Any:
        # Wrap the plan: when the gateway's answer comes back into it, announce it and
        # wait to be killed, so the commit that would follow never happens.
        def watched() -> Any:
            value: Any = None
            while True:
                try:
                    step = plan.send(value)
                except StopIteration as done:
                    return done.value
                value = yield step
                if isinstance(step, _service.Call) and step.operation == "capture":
                    print("answered", flush=True)
                    time.sleep(600)

        return original(self, watched())

    _service.SyncLedger.run = run_then_hang  # type: ignore[method-assign]
    hub = Hub(config)
    hub.capture(reference)
    print("committed (should have been killed)", flush=True)


def main() -> None:
    mode, raw = sys.argv[1], sys.argv[2]
    spec = json.loads(raw)
    config = spec["config"]
    if mode == "crash":
        crash_during_capture(config, spec["reference"])
        return
    invoice = Invoice.model_validate(spec["invoice"])
    start = Path(spec["start"])
    if mode == "threads":
        initiate_threads(config, invoice, start, spec["count"])
    else:
        asyncio.run(initiate_tasks(config, invoice, start, spec["count"]))
    os._exit(0)


if __name__ == "__main__":
    main()
