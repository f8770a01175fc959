"""PHP's ``http_build_query`` with default arguments, byte for byte (PHP 8.x).

Plutu's official SDK signs callbacks with ``http_build_query`` over the received
parameters, so a verifier must reproduce PHP exactly: RFC 1738 encoding (only
``A-Z a-z 0-9 - _ .`` literal, space as ``+``, everything else ``%XX`` upper-case, ``~``
included), and PHP's scalar rules for values that came from ``json_decode``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Union

__all__ = ["PhpValue", "http_build_query", "php_float", "php_scalar", "php_urlencode"]

PhpValue = Union[str, int, float, Decimal, bool, None, "Mapping[str, PhpValue]", "list[PhpValue]"]

_LITERAL = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
_ALL_LITERAL = re.compile(r"[A-Za-z0-9._-]*")
_INT64 = range(-(2**63), 2**63)
_PRECISION = 14  # PHP's `precision` ini default, which http_build_query uses for floats


def php_urlencode(text: str) -> str:
    """PHP ``urlencode``: RFC 1738 over the UTF-8 bytes."""
    if _ALL_LITERAL.fullmatch(text):
        return text  # most keys and values (names, amounts, ids) need no encoding
    out = []
    for byte in text.encode("utf-8"):
        if byte in _LITERAL:
            out.append(chr(byte))
        elif byte == 0x20:
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def php_float(value: float) -> str:
    """A double as PHP's ``%.14G`` (``php_gcvt``) prints it: ``5.0`` -> ``5``,
    ``1e14`` -> ``1.0E+14``, ``1e-5`` -> ``1.0E-5``."""
    if math.isnan(value):
        return "NAN"
    if math.isinf(value):
        return "-INF" if value < 0 else "INF"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return f"{sign}0"
    # Correctly rounded to 14 significant digits, as zend_dtoa mode 2 does.
    mantissa, exponent = f"{abs(value):.{_PRECISION - 1}e}".split("e")
    digits = mantissa.replace(".", "").rstrip("0") or "0"
    decpt = int(exponent) + 1  # position of the decimal point relative to the digits
    if (decpt < -3) if decpt < 0 else (decpt > _PRECISION):
        exp = decpt - 1
        body = digits[0] + "." + (digits[1:] or "0")
        return f"{sign}{body}E{'-' if exp < 0 else '+'}{abs(exp)}"
    if decpt <= 0:
        return f"{sign}0.{'0' * -decpt}{digits}"
    if decpt >= len(digits):
        return f"{sign}{digits}{'0' * (decpt - len(digits))}"
    return f"{sign}{digits[:decpt]}.{digits[decpt:]}"


def php_scalar(value: str | int | float | Decimal | bool | None) -> str | None:
    """A scalar as ``http_build_query`` writes it, before encoding; ``None`` is skipped.

    JSON numbers with a fraction or exponent are PHP floats after ``json_decode``
    (pass them as ``float`` or ``Decimal``); integers outside int64 become floats too.
    """
    if type(value) is str:  # what a query string holds: skip the numeric rules
        return value
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        if value in _INT64:
            return str(value)
        try:
            return php_float(float(value))
        except OverflowError:  # past the double range: PHP's strtod gives +-INF
            return "-INF" if value < 0 else "INF"
    if isinstance(value, (float, Decimal)):
        return php_float(float(value))
    if isinstance(value, str):
        return value
    raise TypeError(f"not a PHP scalar: {type(value).__name__}")


def http_build_query(params: Mapping[str, PhpValue] | Iterable[tuple[str, PhpValue]]) -> str:
    """``http_build_query($params)`` with PHP's defaults, in the order given.

    Nested mappings and lists become ``key[sub]=...`` as PHP writes them.
    """
    items = list(params.items() if isinstance(params, Mapping) else params)
    for key, value in items:
        if type(key) is not str or type(value) is not str:
            break
    else:
        # Text only (a query string's pairs). When every key and value is made of the
        # characters urlencode keeps, so is their concatenation, and one look at it says
        # the query is the pairs as they are: no per-string encoding.
        if _ALL_LITERAL.fullmatch("".join([key + value for key, value in items])):
            return "&".join([f"{key}={value}" for key, value in items])
    parts: list[str] = []
    for key, value in items:
        _append(parts, php_urlencode(str(key)), value)
    return "&".join(parts)


def _append(parts: list[str], encoded_key: str, value: PhpValue) -> None:
    if type(value) is str:
        parts.append(f"{encoded_key}={php_urlencode(value)}")
        return
    if isinstance(value, Mapping):
        for sub_key, sub_value in value.items():
            _append(parts, f"{encoded_key}%5B{php_urlencode(str(sub_key))}%5D", sub_value)
        return
    if isinstance(value, list):
        for index, sub_value in enumerate(value):
            _append(parts, f"{encoded_key}%5B{index}%5D", sub_value)
        return
    text = php_scalar(value)
    if text is not None:
        parts.append(f"{encoded_key}={php_urlencode(text)}")
