"""Finding a short digits-only canary (an OTP code, a CVV) in text without false alarms.

A long canary (``CANARY-secret-a93c11``) cannot turn up by chance, so a plain substring
test finds it. A 4-digit one can: inside a random request id, a uuid, a hex or base64
signature, a process id, a log record's timestamps. Two rules together rule that out:

- the canary starts with ``0``. No printed integer starts with ``0`` (a process id, a line
  number, ``relativeCreated``), so a number can equal it only as a fraction's digits,
  which the next rule covers;
- it counts only standing alone: not next to a letter, a digit, ``.``, ``-``, ``_``,
  ``+`` or ``/``. Every random id and signature is a longer run of exactly those
  characters, and every fraction follows a ``.``.

What a leak really looks like (``code=0486``, ``cvv 0917``, ``'0486'``, JSON ``"0486"``) is
still found.
"""

from __future__ import annotations

import re

__all__ = ["leaks"]

_LONG = 8  # digits enough that chance cannot produce them (a card number)
_RUN = r"0-9A-Za-z._+/-"


def leaks(canary: str, text: str) -> bool:
    """Whether ``canary`` shows in ``text`` (see the module docstring for short codes)."""
    if len(canary) >= _LONG or not canary.isdigit():
        return canary in text
    if not canary.startswith("0"):
        raise ValueError(f"a digits-only canary must start with 0 to be unmistakable: {canary}")
    return re.search(rf"(?<![{_RUN}]){canary}(?![{_RUN}])", text) is not None
