"""Redaction: one place that decides what a secret is and how it is hidden.

Core uses it for log records, errors and results; adapter authors use it for anything
they build from a gateway's text. The rules:

- :data:`MASK` replaces a secret value. Secrets are replaced longest first, so a secret
  that contains a shorter one is hidden whole, never half. A short secret made of digits
  only (a CVV, a four-digit OTP: fewer than :data:`MIN_SECRET_LENGTH` digits) is replaced
  where no other digit touches it, so amounts and ids that contain its digits stay intact.
- Card numbers (13 to 19 digits, optionally grouped by single spaces or dashes, starting
  with 2-9 and passing the Luhn check) keep only their last four digits, as PCI DSS
  allows: ``4012 8888 8888 1881`` becomes ``**** **** **** 1881``. The Luhn check and
  the leading digit keep phone numbers, millisecond timestamps and most ids readable.
- Headers named in :data:`SENSITIVE_HEADERS` are shown as :data:`MASK` whatever they hold.
- :func:`secret_values` finds every ``SecretStr``/``SecretBytes`` in a settings model (also
  inside nested models, mappings and sequences): no adapter writes its secret list by hand.
- :func:`secret_problem` is the rule a configured secret must pass (``GatewaySettings``
  applies it): at least :data:`MIN_SECRET_LENGTH` characters, printable ASCII, no
  surrounding whitespace. A one-character secret would garble every log line and reveal
  itself by position; a trailing newline would be refused by the HTTP layer after payhub
  had already reported the request as sent.
"""

from __future__ import annotations

import json
import marshal
import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretBytes, SecretStr

__all__ = [
    "MASK",
    "MIN_SECRET_LENGTH",
    "SENSITIVE_HEADERS",
    "mask_card_numbers",
    "redact_headers",
    "scrub",
    "scrub_data",
    "secret_problem",
    "secret_values",
]

MASK = "**********"
"""What a secret value is replaced with (ten asterisks: it says nothing of the length)."""

MIN_SECRET_LENGTH = 6
"""The shortest secret a gateway's settings accept. Real keys are far longer; six still
admits the short example secrets of gateways' guides (Plural's webhook example is seven
characters) while a one- or two-character value, which would garble every log line, is
refused."""

SENSITIVE_HEADERS: frozenset[str] = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "cookie", "set-cookie"}
)
"""Header names (lower case) whose value is never shown, secret or not."""

# A run of digits, possibly grouped by single spaces or dashes; candidates for card numbers.
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9]+(?:[ -][0-9]+)*(?![0-9])")
_SEPARATOR = re.compile(r"([ -])")
# A digit from 2 to 9 and twelve more within one such run: without that no run can hold a
# card number, and the text is returned as it is, without splitting every date and id
# (Plural's order ids hold "1-241010055924") into digit groups.
# (The lookahead changes no match, as twelve more digits and separators take at least twelve
# such characters: it only turns most starting digits away before the repetition is tried.)
_CANDIDATE = re.compile(r"[2-9](?=[0-9 -]{12})(?:[ -]?[0-9]){12}")
_CANDIDATE_BYTES = re.compile(_CANDIDATE.pattern.encode("ascii"))
_PAN_DIGITS = range(13, 20)
# Text is looked at as bytes first: [0-9 -] as "0", anything else as "x". A candidate
# needs thirteen such characters in a row, and bytes.find finds those (or their absence)
# many times faster than the expression scans text (which tries its lookahead at every
# digit 2-9 of every date and id); only those runs are then searched.
_RUN_MARKS = bytes(0x30 if byte in b"0123456789 -" else 0x78 for byte in range(256))
_SHORTEST_CANDIDATE = 13
_THIRTEEN = b"0" * _SHORTEST_CANDIDATE
_RUNS_ONE_BY_ONE = 8  # text with more runs worth searching is searched whole past these
_VISIBLE_ASCII = re.compile(r"[\x20-\x7e]*")


def _ordered(secrets: Iterable[str]) -> list[str]:
    return sorted({secret for secret in secrets if secret}, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret value replaced by :data:`MASK` (longest first) and every
    card number masked to its last four digits."""
    return _scrub_text(text, _ordered(secrets))


def _scrub_text(text: str, ordered: list[str]) -> str:
    """:func:`scrub` with ``secrets`` already in :func:`_ordered` form."""
    if len(text) < _PAN_DIGITS[0] and (not ordered or len(text) < len(ordered[-1])):
        return text  # too short to hold a card number or any secret (most keys and codes)
    for secret in ordered:
        if secret in text:
            if len(secret) < MIN_SECRET_LENGTH and secret.isascii() and secret.isdigit():
                # A CVV "123" or an OTP "8642" is hidden where it stands alone, not inside
                # an amount or another number ("1234.500" keeps its digits).
                text = re.sub(f"(?<![0-9]){secret}(?![0-9])", MASK, text)
            else:
                text = text.replace(secret, MASK)
    return mask_card_numbers(text)


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _mask_run(match: re.Match[str]) -> str:
    parts = _SEPARATOR.split(match.group())  # digits, separator, digits, ...
    groups = parts[0::2]
    masked = [False] * len(groups)
    for first in range(len(groups)):
        count = 0
        for last in range(first, len(groups)):
            count += len(groups[last])
            if count > _PAN_DIGITS[-1]:
                break
            if count in _PAN_DIGITS:
                digits = "".join(groups[first : last + 1])
                if digits[0] not in "01" and _luhn(digits):
                    for index in range(first, last + 1):
                        masked[index] = True
    if not any(masked):
        return match.group()
    # Keep the last four digits of each masked stretch; hide the rest digit by digit.
    keep = 0
    for index in reversed(range(len(groups))):
        if not masked[index]:
            keep = 0
            continue
        group = groups[index]
        shown = max(0, min(len(group), 4 - keep))
        groups[index] = "*" * (len(group) - shown) + group[len(group) - shown :]
        keep += shown
        if index == 0 or not masked[index - 1]:
            keep = 0
    parts[0::2] = groups
    return "".join(parts)


def _has_candidate(text: str) -> bool:
    """``_CANDIDATE.search(text) is not None``, found by looking at the UTF-8 bytes (a
    match is ASCII, and no byte of another character's encoding is)."""
    if len(text) < _SHORTEST_CANDIDATE:
        return False
    return _holds_candidate(text.encode("utf-8", "surrogatepass"))


def _holds_candidate(data: bytes) -> bool:
    """Whether ``_CANDIDATE`` matches the text of which ``data`` is the UTF-8 encoding.

    A match lies in a run of digits, spaces and dashes (the expression looks neither
    behind nor past it) of thirteen characters or more, and starts with a digit 2-9
    followed by twelve more digits: a run whose digits, separators left out, have no 2-9
    before their last twelve holds none. Only the other runs are searched.
    """
    marks = data.translate(_RUN_MARKS)
    start = marks.find(_THIRTEEN)
    searched = 0
    while start >= 0:
        end = marks.find(b"x", start)
        if end < 0:
            end = len(marks)
        if data[start:end].translate(None, b" -")[:-12].translate(None, b"01"):
            searched += 1
            if searched > _RUNS_ONE_BY_ONE:  # many such runs: one search of the rest
                return _CANDIDATE_BYTES.search(data, start) is not None
            if _CANDIDATE_BYTES.search(data, start, end) is not None:
                return True
        start = marks.find(_THIRTEEN, end)
    return False


def mask_card_numbers(text: str) -> str:
    """``text`` with every card number reduced to its last four digits."""
    if not _has_candidate(text):
        return text
    return _DIGIT_RUN.sub(_mask_run, text)


def _decimal_text(value: object) -> str:
    if type(value) is Decimal:
        return str(value)
    raise TypeError(type(value).__name__)  # anything else: scrub_data decides, not a shortcut


_JSON_TEXT = json.JSONEncoder(ensure_ascii=False, check_circular=False, default=_decimal_text)
_ESCAPED = re.compile(r'["\\\x00-\x1f]')  # what JSON text writes other than as itself
_FEW_ITEMS = 8  # up to this many flat strings are looked at one by one, not as JSON


def _nothing_to_scrub(value: Any, secrets: Iterable[str] = ()) -> bool:
    """True when :func:`scrub_data` would change nothing in ``value``: no string in it holds
    a secret or a card number.

    Answered in one pass over one text that holds every string of ``value`` as itself,
    rather than string by string: a gateway's answer is mostly ids, codes and dates. What
    lies between the strings in that text only adds matches, so a text without any match
    means a clean answer, and a match (or data the text cannot be made of) answers False,
    which is never wrong: the answer is then scrubbed string by string.

    - A mapping of a few strings to strings (a signed return's fields): the strings
      joined by line breaks.
    - Plain built-in data (a parsed JSON answer without fractions): its ``marshal`` bytes,
      where each string is its own UTF-8 encoding.
    - Anything else JSON can write (a ``Decimal`` amount): the JSON text, where each
      string is itself but for the characters JSON escapes, which no secret tested this
      way holds.
    """
    present = [secret for secret in secrets if secret]  # (any order: only looked for)
    if type(value) is dict and len(value) <= _FEW_ITEMS:
        strings: list[str] = []
        for key, item in value.items():
            if type(key) is not str or type(item) is not str:
                break  # not flat text: one of the passes below decides
            strings += (key, item)
        else:
            # A few flat strings (a signed return's fields), each as itself, one per line:
            # a line break is in no candidate, so the joined text holds a secret or a
            # candidate only if one of the strings does (or a secret holds a line break:
            # then it answers False, which is never wrong). No JSON text built.
            text = "\n".join(strings)
            for secret in present:
                if secret in text:
                    return False
            return not _has_candidate(text)
    try:
        # Plain built-in data only (exact dicts, lists, tuples, str, int...; anything else,
        # a Decimal or a subclass, raises): every string is written in it as its own UTF-8
        # bytes, and nothing is escaped. Four to six times quicker than the JSON text.
        data = marshal.dumps(value)
    except ValueError:
        pass
    else:
        for secret in present:
            if secret.encode("utf-8", "surrogatepass") in data:
                return False
        return not _holds_candidate(data)
    if _ESCAPED.search("".join(present)):  # one of them holds such a character
        return False
    try:
        text = _JSON_TEXT.encode(value)
    except (TypeError, ValueError, RecursionError):
        return False
    return not any(secret in text for secret in present) and not _has_candidate(text)


def scrub_data(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of ``value`` (JSON-like data: a gateway's answer kept as ``raw``) with every
    string scrubbed, mapping keys included. Other values are kept as they are."""
    ordered = _ordered(secrets)
    return _scrub_value(value, ordered)


# JSON leaves that hold no text: returned as they are without the (slower) ABC checks.
_PLAIN_LEAVES = frozenset({int, float, bool, Decimal, type(None)})


def _scrub_value(value: Any, secrets: list[str]) -> Any:
    # ``secrets`` are ordered once by scrub_data, not again for every string of an answer.
    kind = type(value)
    if kind in _PLAIN_LEAVES:
        return value
    if kind is str or isinstance(value, str):
        return _scrub_text(value, secrets)
    if kind is dict or isinstance(value, Mapping):
        return {
            (_scrub_text(key, secrets) if isinstance(key, str) else key): _scrub_value(
                item, secrets
            )
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(_scrub_value(item, secrets) for item in value)
    return value


def redact_headers(
    headers: Iterable[tuple[str, str]], secrets: Iterable[str] = ()
) -> dict[str, str]:
    """Headers fit for a log record: sensitive ones masked, the others scrubbed."""
    ordered = _ordered(secrets)
    return {
        name: MASK if name.lower() in SENSITIVE_HEADERS else scrub(value, ordered)
        for name, value in headers
    }


def secret_values(*objects: object) -> list[str]:
    """Every secret value in ``objects`` (settings, an invoice with a card, an OTP code):
    ``SecretStr`` and ``SecretBytes``, also inside nested models, mappings and sequences."""
    return [secret for item in objects for _, secret, _ in _walk(item, "") if secret]


def secret_fields(value: object) -> Iterator[tuple[str, str]]:
    """``(field, secret)`` for every ``SecretStr`` in ``value`` (a model, or one field's
    value): the text secrets that :func:`secret_problem` applies to. The dotted field name
    is safe to show, the secret is not. (``SecretBytes`` hold binary keys and certificates:
    any byte is fine there.)"""
    for path, secret, is_text in _walk(value, ""):
        if is_text:
            yield path, secret


def _walk(value: object, path: str) -> Iterator[tuple[str, str, bool]]:
    kind = type(value)
    if kind in _PLAIN_LEAVES or kind is str or kind is bytes:
        return  # every call walks its arguments: the common leaves skip the checks below
    if isinstance(value, SecretStr):
        yield path, value.get_secret_value(), True
    elif isinstance(value, SecretBytes):
        yield path, value.get_secret_value().decode("utf-8", "replace"), False
    elif isinstance(value, BaseModel):
        if not _may_hold_secrets(type(value)):
            return  # a Callback: text and bytes as received, walked for nothing every call
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _walk(item, path)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _walk(item, path)


# Field types that hold no secret, and the containers that hold only what their
# arguments say: a model whose every field is made of these never holds a SecretStr.
_PLAIN_TYPES: frozenset[object] = frozenset({str, bytes, int, float, bool, Decimal, type(None)})
_PLAIN_CONTAINERS: frozenset[object] = frozenset(
    {Union, UnionType, Literal, Mapping, dict, list, tuple, set, frozenset}
)
_MODELS_WITH_SECRETS: dict[type[BaseModel], bool] = {}


def _plain(annotation: object) -> bool:
    if isinstance(annotation, type):  # (a class is always hashable; some annotations not)
        return annotation in _PLAIN_TYPES
    if get_origin(annotation) not in _PLAIN_CONTAINERS:
        return False  # Any, a model, SecretStr, ...: walked as before
    if get_origin(annotation) is Literal:
        return True
    return all(arg is Ellipsis or _plain(arg) for arg in get_args(annotation))


def _may_hold_secrets(model: type[BaseModel]) -> bool:
    """False for a model whose fields are all plain text, numbers and containers of them
    (decided from its annotations once per class, which validation enforces)."""
    known = _MODELS_WITH_SECRETS.get(model)
    if known is None:
        known = not all(_plain(field.annotation) for field in model.model_fields.values())
        _MODELS_WITH_SECRETS[model] = known
    return known


def secret_problem(value: str) -> str | None:
    """What is wrong with ``value`` as a configured secret, or ``None``. The answer never
    quotes the value."""
    if len(value) < MIN_SECRET_LENGTH:
        return f"must be at least {MIN_SECRET_LENGTH} characters"
    if not _VISIBLE_ASCII.fullmatch(value):
        return "must be printable ASCII (no control characters such as a newline)"
    if value != value.strip():
        return "must not start or end with whitespace"
    return None
