"""Canonical strings that gateways sign: whitelists in received order, sorted ``k=v&...``."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import TypeVar

from payhub_core._errors import MalformedCallback

__all__ = ["FieldSchema", "select", "sorted_query"]

V = TypeVar("V")


def select(pairs: Iterable[tuple[str, V]], allowed: Collection[str]) -> list[tuple[str, V]]:
    """Keep the pairs whose key is in ``allowed``, in the order received.

    ``allowed`` is a membership test, not an order: this is PHP's ``array_filter`` over the
    received parameters, as Plutu's SDK does it. A repeated key keeps its first position
    and its last value, as PHP's ``$_GET`` does.
    """
    kept: dict[str, V] = {}
    for key, value in pairs:
        if key in allowed:
            kept[key] = value
    return list(kept.items())


def _java_order(key: str) -> bytes:
    # Java's String.compareTo orders UTF-16 code units; for keys outside the BMP that
    # differs from Python's code-point order. (A lone surrogate is a valid Java char.)
    return key.encode("utf-16-be", "surrogatepass")


def sorted_query(params: Mapping[str, str], *, exclude: Collection[str] = ()) -> str:
    """``k1=v1&k2=v2...`` sorted by key (as Java's TreeMap does), values raw, not encoded.

    Not injective by itself: ``{"a": "1&b=2"}`` and ``{"a": "1", "b": "2"}`` give the same
    string. Verify through a :class:`FieldSchema` to rule that out.
    """
    # ASCII keys (every documented field) sort the same by code point: no encoding needed.
    ascii_keys = all(key.isascii() for key in params)
    keys = sorted(params) if ascii_keys else sorted(params, key=_java_order)
    return "&".join(f"{key}={params[key]}" for key in keys if key not in exclude)


_SEPARATORS = ("&", "=")


class FieldSchema:
    """The documented fields of a signed message, with a pattern for each value.

    ``fields`` maps each documented name to a regular expression its whole value must
    match, or to ``None`` for the one free-text field a message may have (an error
    message). Names must not hold ``&`` or ``=``.

    :meth:`select` keeps only documented fields and makes :func:`sorted_query` of what it
    returns injective, so two different field sets never sign the same bytes:

    - a patterned value never holds ``&`` or ``=`` (refused even where a pattern would
      let one through), so it is exactly one ``&``-separated segment;
    - the free-text value may hold both, except ``&name=`` for a documented name that
      sorts after it: only that could pass for a following field. (Without this rule,
      ``error_message="x&order_id=1"`` signs the same bytes as ``error_message="x"``
      plus ``order_id="1"``.)
    """

    def __init__(self, fields: Mapping[str, str | None]) -> None:
        for name in fields:
            if not name or any(separator in name for separator in _SEPARATORS):
                raise ValueError(f"a field name must be non-empty, without '&' or '=': {name!r}")
        free = [name for name, pattern in fields.items() if pattern is None]
        if len(free) > 1:
            raise ValueError(f"at most one free-text field keeps signing injective: {free}")
        self._free = set(free)
        self._patterns = {
            name: re.compile(pattern) for name, pattern in fields.items() if pattern is not None
        }
        for name, compiled in self._patterns.items():
            if any(compiled.fullmatch(separator) for separator in _SEPARATORS):
                raise ValueError(f"the pattern of {name!r} must not accept '&' or '='")
        # What the free-text value must not contain: "&name=" for every later field.
        self._forbidden = {
            name: tuple(f"&{other}=" for other in fields if _java_order(other) > _java_order(name))
            for name in free
        }
        self._names = frozenset(self._patterns) | frozenset(self._free)
        self._order = tuple(sorted(fields, key=_java_order))  # sorted_query's order

    @property
    def names(self) -> frozenset[str]:
        return self._names

    def select(self, pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
        """The documented fields among ``pairs``; a documented field given twice, or with a
        value outside its documented form, raises ``MalformedCallback``."""
        return self.select_with(pairs, None)[0]

    def select_with(
        self, pairs: Iterable[tuple[str, str]], other: str | None
    ) -> tuple[dict[str, str], list[str]]:
        """:meth:`select`, and every value of the undocumented parameter ``other`` (the
        signature) in received order, from one pass over ``pairs``."""
        if other in self._names:
            raise ValueError(f"{other!r} is a documented field, not another parameter")
        chosen: dict[str, str] = {}
        found: list[str] = []
        names = self._names  # built once: a return may carry a thousand other parameters
        for key, value in pairs:
            if key not in names:
                if key == other:
                    found.append(value)
                continue
            if key in chosen:
                raise MalformedCallback(f"field {key!r} is given more than once")
            pattern = self._patterns.get(key)
            if pattern is not None:
                # The separators spelled out (they are _SEPARATORS): no generator per field.
                if not pattern.fullmatch(value) or "&" in value or "=" in value:
                    raise MalformedCallback(f"field {key!r} does not have the documented form")
            # Every forbidden text starts with "&": most free text is cleared by one look.
            elif "&" in value and any(fake in value for fake in self._forbidden[key]):
                raise MalformedCallback(
                    f"field {key!r} holds text that would read as another signed field"
                )
            chosen[key] = value
        return chosen, found

    def canonical(self, fields: Mapping[str, str]) -> str:
        """:func:`sorted_query` of ``fields`` as :meth:`select` returns them (documented
        names only; any other key is left out), in the order worked out once."""
        return "&".join([f"{name}={fields[name]}" for name in self._order if name in fields])
