"""Output for the ``payhub`` command: aligned tables for people, JSON for machines."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

__all__ = ["Progress", "error_json", "print_json", "table"]


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(headers, widths, strict=True)).rstrip(),
        "  ".join("-" * width for width in widths).rstrip(),
    ]
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines)


def print_json(value: Any, out: TextIO | None = None) -> None:
    print(json.dumps(value, indent=2, sort_keys=False, default=str), file=out or sys.stdout)


def error_json(error: BaseException, exit_code: int) -> dict[str, Any]:
    """``{"error": {...}}`` for ``error``: its type, message and exit code, and what the
    error carries for a program to act on (gateway, operation, field, HTTP status, gateway
    code, ``outcome_unknown``...). Payhub errors never carry secrets."""
    document: dict[str, Any] = {
        "type": type(error).__name__,
        "message": getattr(error, "message", None) or str(error),
        "exit_code": exit_code,
    }
    for key, value in sorted(vars(error).items()):
        if key.startswith("_") or key in document or value is None:
            continue
        if isinstance(value, (str, int, float, bool)):
            document[key] = value
        elif isinstance(value, (tuple, list, frozenset, set)) and all(
            isinstance(item, str) for item in value
        ):
            document[key] = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    return {"error": document}


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
