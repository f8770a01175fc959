"""PHP's http_build_query, urlencode and float printing, against independent models.

The models here are written from PHP's rules, not from payhub's code:

- ``urlencode`` (RFC 1738): via ``urllib.parse.quote`` with nothing extra marked safe,
  then the two places PHP differs from it (``~`` is escaped, space is ``+``);
- float printing: a line-by-line port of PHP's ``php_gcvt`` (main/snprintf.c) driven by
  digits from ``Decimal`` arithmetic (exact binary value, 14 significant digits,
  round-half-even as ``zend_dtoa`` mode 2 does), not from Python's float formatting.
"""

from __future__ import annotations

import math
import string
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from payhub_core.signing import http_build_query, php_float, php_scalar, php_urlencode
from payhub_core.testing.strategies import php_params

# -- independent models ------------------------------------------------------------------


def model_urlencode(text: str) -> str:
    """PHP urlencode(): quote() escapes all but A-Za-z0-9 and "_.-~"; PHP escapes "~"
    too and writes space as "+"."""
    return quote(text, safe="").replace("~", "%7E").replace("%20", "+")


def model_dtoa(value: float, ndigit: int) -> tuple[str, int, bool]:
    """zend_dtoa(value, mode=2, ndigit): significant digits (no trailing zeros), the
    decimal point position (value = 0.DIGITS x 10**decpt) and the sign bit."""
    negative = math.copysign(1.0, value) < 0
    if value == 0:
        return "0", 1, negative
    rounded = Context(prec=ndigit, rounding=ROUND_HALF_EVEN).plus(abs(Decimal(value)))
    _, digits, exponent = rounded.as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    return text.rstrip("0"), len(digits) + exponent, negative


def model_php_gcvt(value: float, precision: int = 14) -> str:
    """php_gcvt(value, precision, '.', 'E'), ported branch by branch."""
    digits, decpt, negative = model_dtoa(value, precision)
    out = "-" if negative else ""
    if (decpt < -3) if decpt < 0 else (decpt > precision):
        # exponential format (e.g. 1.0E+00)
        decpt -= 1
        exponent_sign = "-" if decpt < 0 else "+"
        decpt = abs(decpt)
        out += digits[0] + "."
        out += digits[1:] if len(digits) > 1 else "0"
        return out + "E" + exponent_sign + str(decpt)
    if decpt < 0:
        # standard format 0.
        out += "0."
        while True:
            out += "0"
            decpt += 1
            if decpt >= 0:
                break
        return out + digits
    # standard format
    for i in range(decpt):
        out += digits[i] if i < len(digits) else "0"
    if len(digits) > decpt:
        if decpt == 0:
            out += "0"
        out += "." + digits[decpt:]
    return out


# -- urlencode ----------------------------------------------------------------------------


@given(st.text())
def test_php_urlencode_agrees_with_the_model_on_any_text(text: str) -> None:
    assert php_urlencode(text) == model_urlencode(text)


def test_php_urlencode_agrees_with_the_model_on_every_one_and_two_byte_character() -> None:
    for code in range(0x800):
        char = chr(code)
        assert php_urlencode(char) == model_urlencode(char), hex(code)


@given(
    st.characters(min_codepoint=0x800, exclude_categories=["Cs"])
)  # lone surrogates are not text
def test_php_urlencode_agrees_with_the_model_on_three_and_four_byte_characters(char: str) -> None:
    assert php_urlencode(char) == model_urlencode(char)


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("~", "%7E"),
        (" ", "+"),
        ("-_.", "-_."),
        ("*", "%2A"),
        ("a b&c=d", "a+b%26c%3Dd"),
        ("+", "%2B"),
        ("%", "%25"),
        ("é", "%C3%A9"),
        ("🙂", "%F0%9F%99%82"),
        ("\x00", "%00"),
        ("ليبيا", "%D9%84%D9%8A%D8%A8%D9%8A%D8%A7"),
        (string.ascii_letters + string.digits, string.ascii_letters + string.digits),
    ],
)
def test_php_urlencode_known_outputs(text: str, encoded: str) -> None:
    assert php_urlencode(text) == encoded


@given(st.text())
def test_php_urlencode_output_is_only_literals_plus_and_upper_case_escapes(text: str) -> None:
    encoded = php_urlencode(text)
    allowed = set(string.ascii_letters + string.digits + "-_.+%")
    assert set(encoded) <= allowed
    for index, char in enumerate(encoded):
        if char == "%":
            assert encoded[index + 1 : index + 3] in {f"{b:02X}" for b in range(256)}


# -- http_build_query ---------------------------------------------------------------------


@given(st.lists(st.tuples(st.text(), st.text())))
def test_http_build_query_agrees_with_the_model_on_any_text_pairs(
    pairs: list[tuple[str, str]],
) -> None:
    expected = "&".join(f"{model_urlencode(k)}={model_urlencode(v)}" for k, v in pairs)
    assert http_build_query(pairs) == expected


def _model_scalar(value: Any) -> str | None:
    if value is None:
        return None
    if value is True:
        return "1"
    if value is False:
        return "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return model_php_gcvt(value)
    return str(value)


@given(php_params())
def test_http_build_query_agrees_with_the_model_on_php_scalars(
    params: list[tuple[str, Any]],
) -> None:
    expected = "&".join(
        f"{model_urlencode(key)}={model_urlencode(text)}"
        for key, value in params
        if (text := _model_scalar(value)) is not None
    )
    assert http_build_query(params) == expected
    assert http_build_query(dict(params)) == expected


def test_http_build_query_keeps_the_given_order() -> None:
    assert http_build_query([("b", "2"), ("a", "1")]) == "b=2&a=1"
    assert http_build_query({"b": "2", "a": "1"}) == "b=2&a=1"


@pytest.mark.parametrize(
    ("params", "query"),
    [
        ({"approved": True, "canceled": False}, "approved=1&canceled=0"),
        ({"a": None, "b": "x", "c": None}, "b=x"),
        ({"n": 0, "m": -42, "big": 2**63 - 1}, "n=0&m=-42&big=9223372036854775807"),
        ({"small": -(2**63)}, "small=-9223372036854775808"),
        ({"over": 2**63}, "over=9.2233720368548E%2B18"),
        ({"amount": 5.0, "fee": 6.01}, "amount=5&fee=6.01"),
        ({"amount": Decimal("5.00")}, "amount=5"),
        ({"amount": "5.00"}, "amount=5.00"),
        ({"e": ""}, "e="),
        ({}, ""),
    ],
)
def test_http_build_query_applies_php_scalar_rules(params: dict[str, Any], query: str) -> None:
    assert http_build_query(params) == query


def test_http_build_query_writes_nested_arrays_as_php_does() -> None:
    # php > echo http_build_query(['a' => ['b' => 1, 'c' => [1, 2]], 'd' => []]);
    assert (
        http_build_query({"a": {"b": 1, "c": [1, 2]}, "d": []})
        == "a%5Bb%5D=1&a%5Bc%5D%5B0%5D=1&a%5Bc%5D%5B1%5D=2"
    )


def test_php_scalar_refuses_what_php_would_not_print() -> None:
    with pytest.raises(TypeError):
        php_scalar(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        php_scalar(b"bytes")  # type: ignore[arg-type]


# -- floats as PHP prints them ------------------------------------------------------------


@given(st.floats(allow_nan=False, allow_infinity=False))
@example(5e-324)
@example(2.2250738585072014e-308)
@example(1.7976931348623157e308)
@example(0.0001)
@example(0.00009999999999999999)
@example(99999999999999.99)
@example(123456789012345.0)
def test_php_float_agrees_with_the_php_gcvt_model(value: float) -> None:
    assert php_float(value) == model_php_gcvt(value)


@given(st.floats(min_value=1e-30, max_value=1e30) | st.floats(min_value=-1e30, max_value=-1e-30))
def test_php_float_agrees_with_the_model_near_the_format_switches(value: float) -> None:
    assert php_float(value) == model_php_gcvt(value)


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (5.0, "5"),
        (6.01, "6.01"),
        (0.1 + 0.2, "0.3"),
        (1e14, "1.0E+14"),
        (1e15, "1.0E+15"),
        (99999999999999.0, "99999999999999"),
        (999999999999999.0, "1.0E+15"),
        (0.0001, "0.0001"),
        (0.001, "0.001"),
        (1e-05, "1.0E-5"),
        (-0.0, "-0"),
        (0.0, "0"),
        (-1.5, "-1.5"),
        (0.5, "0.5"),
        (100000000000000000000.0, "1.0E+20"),
        (123456789012345.0, "1.2345678901234E+14"),  # exact tie: half-even keeps the 4
        (123456789012355.0, "1.2345678901236E+14"),  # exact tie: half-even takes the 6
        (1.0 / 3, "0.33333333333333"),
        (2.0 / 3, "0.66666666666667"),
        (1e100, "1.0E+100"),
        (1.5e-7, "1.5E-7"),
        (5e-324, "4.9406564584125E-324"),
        (1.7976931348623157e308, "1.7976931348623E+308"),
        (float("nan"), "NAN"),
        (float("inf"), "INF"),
        (float("-inf"), "-INF"),
    ],
)
def test_php_float_known_outputs(value: float, printed: str) -> None:
    assert php_float(value) == printed


def test_the_gcvt_model_itself_reproduces_the_known_php_outputs() -> None:
    # The model is only trusted because it gives PHP's documented answers.
    known = {
        5.0: "5",
        6.01: "6.01",
        1e14: "1.0E+14",
        1e-05: "1.0E-5",
        0.0001: "0.0001",
        -0.0: "-0",
        123456789012345.0: "1.2345678901234E+14",
        100000000000000000000.0: "1.0E+20",
    }
    for value, printed in known.items():
        assert model_php_gcvt(value) == printed


@pytest.mark.parametrize(
    ("value", "printed"),
    [(10**400, "INF"), (-(10**400), "-INF"), (2**63, "9.2233720368548E+18")],
    ids=["huge", "huge-negative", "int64-max-plus-one"],
)
def test_php_scalar_turns_integers_beyond_a_double_into_php_infinity(
    value: int, printed: str
) -> None:
    # PHP's json_decode reads an integer past int64 as a double, and one past the double
    # range as INF; a hostile callback body must not crash the encoder.
    assert php_scalar(value) == printed
