"""Output for the ``payhub`` command: aligned tables for people, JSON for machines."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

__all__ = ["Progress", "print_json", "table"]


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(headers, widths, strict=True)).rstrip(),
        "  ".join("-" * width for width in widths),
    ]
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines)


def print_json(value: Any, out: TextIO | None = None) -> None:
    print(json.dumps(value, indent=2, sort_keys=False, default=str), file=out or sys.stdout)


class Progress:
    """One-line progress on stderr, only when stderr is a terminal (never in pipes or CI
    logs, and never in ``--json`` output)."""

    def __init__(self, enabled: bool = True, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._enabled = enabled and self._stream.isatty()

    def update(self, message: str) -> None:
        if self._enabled:
            self._stream.write(f"\r\033[K{message}")
            self._stream.flush()

    def done(self) -> None:
        if self._enabled:
            self._stream.write("\r\033[K")
            self._stream.flush()
