"""payhub benchmarks: every number is a ratio against a baseline measured in the same run
(machines here are noisy; absolute times are printed for context only).

    make bench            # or: .venv/bin/python bench/run.py [--quick]

1. import cost of payhub_core vs importing httpx + pydantic + pluggy alone (-X importtime,
   fresh interpreters, median of N);
2. a cold process building Hub.from_config with two gateways vs a cold process importing
   httpx + pydantic + pluggy;
3. a hub operation over httpx.MockTransport vs the same request sent with a bare
   httpx.Client (the cost of hooks, flow driving, policy and logging);
4. Money arithmetic vs bare Decimal arithmetic;
5. PHP-exact http_build_query vs urllib.parse.urlencode.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from decimal import Decimal

BASELINE_IMPORTS = "import httpx, pydantic, pluggy"

TWO_GATEWAYS = """
import httpx
from payhub_core import Hub
hub = Hub.from_config({"default": "a", "gateways": {
    "a": {"adapter": "plutu.localbankcards", "environment": "sandbox",
          "api_key": "k", "access_token": "t", "secret_key": "s"},
    "b": {"adapter": "plural.checkout", "environment": "sandbox",
          "client_id": "c", "client_secret": "s", "secret_key": "ab"}}},
    transport=httpx.MockTransport(lambda r: httpx.Response(200)))
hub.close()
"""


def _import_time_us(statement: str, modules: set[str]) -> int:
    """Microseconds (cumulative, per -X importtime) of importing ``modules`` via ``statement``
    in a fresh interpreter: the sum of their top-level lines."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        check=True,
    )
    total = 0
    for line in result.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        if name.strip() in modules and not name[1:].startswith(" "):
            total += int(cumulative)
    return total


def _wall(statement: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], check=True)
    return time.perf_counter() - started


def _median(samples: int, run: Callable[[], float]) -> float:
    return statistics.median(run() for _ in range(samples))


def _report(label: str, value: float, baseline_label: str, baseline: float, unit: str) -> None:
    scale = {"ms": 1e3, "µs": 1e6, "ns": 1e9}[unit]
    print(
        f"{label:26}{value * scale:10.1f} {unit}   {baseline_label:24}"
        f"{baseline * scale:10.1f} {unit}   ratio {value / baseline:5.2f}"
    )


def _per_call(statement: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(statement, number=number, repeat=5)) / number


def bench_imports(samples: int) -> None:
    base = _median(
        samples, lambda: _import_time_us(BASELINE_IMPORTS, {"httpx", "pydantic", "pluggy"})
    )
    core = _median(samples, lambda: _import_time_us("import payhub_core", {"payhub_core"}))
    _report("import payhub_core", core / 1e6, "httpx+pydantic+pluggy", base / 1e6, "ms")


def bench_cold_hub(samples: int) -> None:
    base = _median(samples, lambda: _wall(BASELINE_IMPORTS))
    cold = _median(samples, lambda: _wall(TWO_GATEWAYS))
    _report("cold Hub, 2 gateways", cold, "cold baseline imports", base, "ms")


def bench_operation(number: int) -> None:
    import httpx

    from payhub_core import Hub

    body = {
        "data": {
            "order_id": "o1",
            "merchant_order_reference": "INV-1",
            "status": "PROCESSED",
            "order_amount": {"value": 1000, "currency": "INR"},
            "payments": [],
        }
    }

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(
                200, json={"access_token": "t", "expires_at": "2999-01-01T00:00:00Z"}
            )
        return httpx.Response(200, json=body)

    transport = httpx.MockTransport(answer)
    hub = Hub.from_config(
        {
            "gateways": {
                "p": {
                    "adapter": "plural.checkout",
                    "environment": "sandbox",
                    "client_id": "c",
                    "client_secret": "s",
                }
            }
        },
        transport=transport,
    )
    client = httpx.Client(transport=transport)
    hub.status("o1")  # fetch the token once
    bare = _per_call(
        lambda: client.get("http://127.0.0.1:8808/plural/api/pay/v1/orders/o1").json(), number
    )
    through = _per_call(lambda: hub.status("o1"), number)
    _report("hub.status over mock", through, "bare httpx get+json", bare, "µs")
    hub.close()
    client.close()


def bench_money(number: int) -> None:
    from payhub_core import Money

    a, b = Money("25.50", "USD"), Money("0.75", "USD")
    x, y = Decimal("25.50"), Decimal("0.75")
    money = _per_call(lambda: a + b, number)
    decimal = _per_call(lambda: x + y, number)
    _report("Money + Money", money, "Decimal + Decimal", decimal, "ns")


def bench_encoding(number: int) -> None:
    from urllib.parse import urlencode

    from payhub_core.signing import http_build_query

    params = [
        ("gateway", "tlync"),
        ("approved", "1"),
        ("amount", "6.01"),
        ("invoice_no", "43321"),
        ("payment_method", "mobicash"),
        ("transaction_id", "100932"),
    ]
    php = _per_call(lambda: http_build_query(params), number)
    std = _per_call(lambda: urlencode(params), number)
    _report("http_build_query", php, "urllib urlencode", std, "µs")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    args = parser.parse_args()
    samples, number = (3, 200) if args.quick else (9, 2000)
    print(
        f"payhub benchmarks (python {sys.version.split()[0]}; ratios against same-run baselines)\n"
    )
    bench_imports(samples)
    bench_cold_hub(samples)
    bench_operation(number // 4)
    bench_money(number * 10)
    bench_encoding(number)


if __name__ == "__main__":
    main()
