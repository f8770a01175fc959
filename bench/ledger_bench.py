"""What the payment ledger costs: same-run ratios from alternating rounds.

    .venv/bin/python bench/ledger_bench.py [--rounds 6] [--batch 20] [--no-postgres]

Against the sandbox over real HTTP (Plural hosted checkout), in one process:

- ``initiate``: ``Hub.initiate`` with the ledger on (SQLite file; PostgreSQL server
  started in a temporary folder when its binaries are installed) against the same call
  without a ledger;
- ``evidence``: ``hub.receive(webhook)`` (verify, store once, apply under the row lock,
  notify) against ``hub.verify(webhook)`` without a ledger, on webhooks of distinct paid
  payments;
- ``throughput``: 100 concurrent deliveries (threads) of distinct webhooks through
  ``receive`` against 100 concurrent ``verify`` calls.

Each round times both sides back to back, the order flipped every round; printed is the
median of the per-round ratios ``ledger / baseline`` (min and max alongside), wall-clock,
because the ledger's cost is I/O (the database) as much as CPU. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from payhub_core import Callback, Hub, Invoice, Money, Redirect
from payhub_core.demo import DemoEnvironment, ScriptedBrowser
from payhub_core.ledger import upgrade


@contextmanager
def postgres() -> Iterator[str | None]:
    """A throwaway PostgreSQL server (``initdb`` as the ``postgres`` user when root)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        yield None
        return
    bindir = Path(found[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="payhub-bench-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = root / "data"

    def run(*command: str) -> None:
        subprocess.run([*prefix, *command], check=True, capture_output=True, cwd=root)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "payhub", "-A", "trust", "--no-sync")
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {root} -c max_connections=300"
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(root / "log"),
        "-w",
        "start",
    )
    try:
        yield f"postgresql+psycopg://payhub@127.0.0.1:{port}/postgres"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


class Bench:
    def __init__(self, env: DemoEnvironment) -> None:
        self.env = env
        case = next(c for _a, c in env.cases() if c.adapter == "plural.checkout")
        self.gateway = {"adapter": case.adapter, **case.settings}

    def hub(self, ledger_url: str | None) -> Hub:
        config: dict[str, Any] = {"gateways": {"india": self.gateway}}
        if ledger_url is not None:
            config["ledger"] = {"url": ledger_url}
        return Hub(config)

    def invoice(self) -> Invoice:
        number = f"BENCH-{uuid.uuid4().hex[:12]}"
        merchant = self.env.merchant_url
        return Invoice(
            number=number,
            amount=Money("799.50", "INR"),
            return_url=f"{merchant}/return/{number}",
            callback_url=f"{merchant}/callback/{number}",
        )

    def paid_webhooks(self, hub: Hub, count: int) -> list[Callback]:
        """``count`` payments initiated through ``hub``, approved, and their webhooks."""
        numbers = []
        browser = ScriptedBrowser(self.env.merchant_url)
        try:
            for _ in range(count):
                invoice = self.invoice()
                checkout = hub.initiate(invoice)
                assert isinstance(checkout.action, Redirect)
                browser.press(checkout.action.url, "approve")
                numbers.append(invoice.number)
        finally:
            browser.close()
        hooks = []
        for number in numbers:
            arrival = self.env.receiver.wait_for(
                lambda a, n=number: a.kind == "webhook" and n.encode() in a.callback.body
            )
            assert arrival is not None, number
            hooks.append(arrival.callback)
        return hooks


def alternate(
    rounds: int, baseline: Callable[[], float], subject: Callable[[], float]
) -> tuple[float, float, float]:
    ratios = []
    for index in range(rounds):
        if index % 2:
            s = subject()
            b = baseline()
        else:
            b = baseline()
            s = subject()
        ratios.append(s / b)
    return statistics.median(ratios), min(ratios), max(ratios)


def timed(action: Callable[[], object], times: int) -> float:
    started = time.perf_counter()
    for _ in range(times):
        action()
    return (time.perf_counter() - started) / times


def report(name: str, ratio: tuple[float, float, float]) -> None:
    median, low, high = ratio
    print(f"  {name:<44} x{median:5.2f}   (min x{low:.2f}, max x{high:.2f})", flush=True)


def concurrent(call: Callable[[Callback], object], items: list[Callback]) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(len(items)) as pool:
        list(pool.map(call, items))
    return time.perf_counter() - started


def measure(bench: Bench, plain: Hub, url: str, rounds: int, batch: int) -> None:
    upgrade(url)
    ledger = bench.hub(url)
    try:
        report(
            "initiate, ledger / no ledger",
            alternate(
                rounds,
                lambda: timed(lambda: plain.initiate(bench.invoice()), batch),
                lambda: timed(lambda: ledger.initiate(bench.invoice()), batch),
            ),
        )
        hooks = iter(bench.paid_webhooks(ledger, rounds * batch + 100))
        sample = bench.paid_webhooks(plain, 1)[0]  # verify keeps no state: repeat it
        report(
            "evidence, receive / verify",
            alternate(
                rounds,
                lambda: timed(lambda: plain.verify(sample, gateway="india"), batch),
                lambda: timed(lambda: ledger.receive(next(hooks), source="webhook"), batch),
            ),
        )
        deliveries = [next(hooks) for _ in range(100)]
        verify_s = concurrent(lambda c: plain.verify(c, gateway="india"), deliveries)
        receive_s = concurrent(lambda c: ledger.receive(c, source="webhook"), deliveries)
        label = "100 concurrent deliveries, receive / verify"
        print(
            f"  {label:<44} x{receive_s / verify_s:5.2f}   "
            f"({100 / receive_s:.0f} receipts/s against {100 / verify_s:.0f} verifies/s)",
            flush=True,
        )
    finally:
        ledger.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with DemoEnvironment() as env, tempfile.TemporaryDirectory() as folder:
        bench = Bench(env)
        backends = {"sqlite": f"sqlite:///{Path(folder) / 'bench.sqlite3'}"}
        with _none() if args.no_postgres else postgres() as pg_url:
            if pg_url is not None:
                backends["postgresql"] = pg_url
            print(f"payhub ledger bench: {args.rounds} alternating rounds of {args.batch}")
            with bench.hub(None) as plain:
                for name, url in backends.items():
                    print(f"{name}:", flush=True)
                    measure(bench, plain, url, args.rounds, args.batch)
    return 0


@contextmanager
def _none() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    sys.exit(main())
