"""Python heap (``tracemalloc``): per hub, per in-flight async operation, and a soak.

Each figure is the traced heap that stays allocated, divided by how many objects or
operations hold it; imports and first-use caches are warmed before tracing starts, so only
what each new hub or operation costs is counted.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import statistics
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator

import httpx
from _fixtures import ORDER_ID, TOKEN, answer, config, plural_headers, transport
from _measure import Result

from payhub_core import AsyncHub, Hub

ORDERS_URL = "https://plural.bench.invalid/api/pay/v1/orders"


def _retained(make: Callable[[], object], count: int) -> float:
    """Bytes of heap each of ``count`` objects made by ``make`` keeps."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = [make() for _ in range(count)]
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    for item in kept:
        close = getattr(item, "close", None)
        if close is not None:
            close()
    return (after - before) / count


def hub_heap(rounds: int) -> Result:
    """A hub with two gateways (each with its default transport) vs a bare httpx.Client."""
    Hub.from_config(config()).close()
    httpx.Client().close()
    count = 10
    ratios, subject, base = [], [], []
    for index in range(rounds):
        if index % 2 == 0:
            s = _retained(lambda: Hub.from_config(config()), count)
            b = _retained(httpx.Client, count)
        else:
            b = _retained(httpx.Client, count)
            s = _retained(lambda: Hub.from_config(config()), count)
        subject.append(s)
        base.append(b)
        ratios.append(s / b)
    return Result("heap per Hub (2 gateways)", "bare httpx.Client()", ratios, subject, base,
                  unit="KiB", kind="heap")  # fmt: skip


class _Gate(httpx.AsyncBaseTransport):
    """Holds every request until released, so that many operations are in flight at once."""

    def __init__(self) -> None:
        self.waiting = 0
        self.expected = 0
        self.open: asyncio.Event | None = None
        self.full: asyncio.Event | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert self.open is not None
        self.waiting += 1
        if self.full is not None and self.waiting >= self.expected:
            self.full.set()
        await self.open.wait()
        self.waiting -= 1
        return answer(request)


async def _in_flight(gate: _Gate, op: Callable[[], Awaitable[object]], count: int) -> float:
    gate.open, gate.full, gate.expected = asyncio.Event(), asyncio.Event(), count
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tasks = [asyncio.ensure_future(op()) for _ in range(count)]
    await gate.full.wait()
    gc.collect()
    during = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    gate.open.set()
    await asyncio.gather(*tasks)
    return (during - before) / count


def in_flight_heap(rounds: int) -> Result:
    """Heap per in-flight ``AsyncHub.status`` vs the same GET with a bare AsyncClient."""

    async def main() -> Result:
        hub_gate, bare_gate = _Gate(), _Gate()
        hub = AsyncHub.from_config(config(), transport=hub_gate)
        client = httpx.AsyncClient(transport=bare_gate)

        async def bare() -> object:
            response = await client.get(f"{ORDERS_URL}/{ORDER_ID}", headers=plural_headers(TOKEN))
            return response.json()

        async def through() -> object:
            return await hub.status(ORDER_ID)

        count = 200
        for gate in (hub_gate, bare_gate):  # an open gate: token fetched, caches warm
            gate.open = asyncio.Event()
            gate.open.set()
        for _ in range(3):
            await through()
            await bare()
        ratios, subject, base = [], [], []
        for index in range(rounds):
            if index % 2 == 0:
                s = await _in_flight(hub_gate, through, count)
                b = await _in_flight(bare_gate, bare, count)
            else:
                b = await _in_flight(bare_gate, bare, count)
                s = await _in_flight(hub_gate, through, count)
            subject.append(s)
            base.append(b)
            ratios.append(s / b)
        await hub.aclose()
        await client.aclose()
        return Result("heap per in-flight async status", "bare httpx.AsyncClient", ratios,
                      subject, base, unit="KiB", kind="heap")  # fmt: skip

    return asyncio.run(main())


def soak(operations: int) -> Result:
    """Heap after every tenth of ``operations`` ``Hub.status`` calls: it must stay flat.
    Tracing starts before the hub is built, so every sample holds the hub, its warm
    caches and whatever the calls leave behind; the ratio is the heap at the end over the
    heap after the first tenth (1.00x: nothing grows)."""
    gc.collect()
    tracemalloc.start()
    hub = Hub.from_config(config(), transport=transport())
    for _ in range(200):
        hub.status(ORDER_ID)
    step = operations // 10
    samples = []
    for _ in range(10):
        for _ in range(step):
            hub.status(ORDER_ID)
        gc.collect()
        samples.append(tracemalloc.get_traced_memory()[0])
    tracemalloc.stop()
    hub.close()
    growth = samples[-1] - samples[0]
    return Result(
        f"soak: heap after {operations} Hub.status", "heap after the first tenth",
        [samples[-1] / max(samples[0], 1)], [samples[-1]], [samples[0]],
        unit="KiB", kind="heap",
        note=f"growth {growth / 1024:+.1f} KiB over {operations - step} operations "
        f"(median step {statistics.median(b - a for a, b in itertools.pairwise(samples)):+.0f} B)",
        extra={"samples": samples},
    )  # fmt: skip


def memory_cases(rounds: int, operations: int) -> Iterator[Result]:
    yield hub_heap(rounds)
    yield in_flight_heap(rounds)
    yield soak(operations)
