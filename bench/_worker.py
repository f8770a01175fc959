"""Runs one group of in-process cases under whichever interpreter ``run.py`` was told to
use, and prints one JSON object per case (``run.py`` reads and tabulates them)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator

from _measure import Result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("group", choices=["network", "verification", "peers", "memory"])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--target", type=float, default=0.05, help="seconds per batch")
    parser.add_argument("--operations", type=int, default=10_000, help="soak length")
    args = parser.parse_args()
    logging.getLogger("payhub").setLevel(logging.WARNING)  # as in production: INFO off
    results: Iterator[Result]
    if args.group == "network":
        from _cases import network_cases

        results = network_cases(args.rounds, args.target)
    elif args.group == "verification":
        from _cases import verification_cases

        results = verification_cases(args.rounds, args.target)
    elif args.group == "peers":
        from _cases import peer_cases

        results = peer_cases(args.rounds, args.target)
    else:
        from _memory import memory_cases

        results = memory_cases(max(3, args.rounds // 3), args.operations)
    for result in results:
        print(json.dumps(result.as_dict()), flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
