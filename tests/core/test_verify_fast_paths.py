"""The shortcuts on the verification path give exactly what the plain computation gives:
query strings without escapes split without parse_qsl, Money from minor units and from a
known currency code without the normalising steps, and the redaction check that looks for
card numbers in long text through its runs of digits only."""

from __future__ import annotations

import decimal
import re
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payhub_core import Callback, InvalidMoney, MalformedCallback, Money
from payhub_core import _money as money_module
from payhub_core import redaction as redaction_module
from payhub_core._iso4217 import MINOR_UNITS
from payhub_core.redaction import MASK, mask_card_numbers, scrub_data

# -- query strings ------------------------------------------------------------------------

_QUERY = st.text(alphabet="ab=&;?é\x00 0", max_size=40)


@given(_QUERY)
def test_a_query_without_escapes_splits_as_parse_qsl_does(query: str) -> None:
    callback = Callback(query=query)
    expected = parse_qsl(callback.query, keep_blank_values=True, errors="strict")
    assert callback.query_params() == expected
    assert all(type(name) is str and type(value) is str for name, value in expected)


@given(st.text(alphabet="ab=&%+2C8é", max_size=30))
def test_a_query_with_escapes_still_goes_through_parse_qsl(query: str) -> None:
    try:
        expected: Any = parse_qsl(query.lstrip("?"), keep_blank_values=True, errors="strict")
    except (ValueError, UnicodeDecodeError):
        expected = MalformedCallback
    try:
        found: Any = Callback(query=query).query_params()
    except MalformedCallback:
        found = MalformedCallback
    assert found == expected


def test_form_bodies_take_the_same_split() -> None:
    callback = Callback(method="POST", body=b"a=1&&b&c=&=d", headers={})
    assert callback.form() == [("a", "1"), ("b", ""), ("c", ""), ("", "d")]
    assert callback.form() == parse_qsl("a=1&&b&c=&=d", keep_blank_values=True)


# -- Money ---------------------------------------------------------------------------------

_EXACT = decimal.Context(
    prec=60, traps=[decimal.InvalidOperation, decimal.Overflow, decimal.Inexact]
)


def _from_minor_as_before(units: int, currency: str) -> Money | str:
    """Money.from_minor as it was written before its shortcut: scale, then the constructor."""
    try:
        exponent = MINOR_UNITS[currency]
        try:
            value = _EXACT.scaleb(Decimal(units), Decimal(-exponent))
        except decimal.DecimalException:
            return "too large to be exact"
        return Money(value, currency)
    except InvalidMoney as error:
        return error.message


_UNITS = st.integers(-(10**62), 10**62) | st.sampled_from(
    [0, 1, -1, 10**60 - 1, 10**60, -(10**60) + 1, -(10**60), 10**61, 10**70, 123 * 10**59]
)


@given(units=_UNITS, currency=st.sampled_from(["USD", "LYD", "JPY", "INR", "CLF"]))
def test_money_from_minor_units_is_what_it_was(units: int, currency: str) -> None:
    expected = _from_minor_as_before(units, currency)
    try:
        found: Money | str = Money.from_minor(units, currency)
    except InvalidMoney as error:
        found = error.message
    if isinstance(expected, str):
        assert isinstance(found, str)
        assert "too large" in found
    else:
        assert isinstance(found, Money)
        assert found == expected
        assert str(found.amount) == str(expected.amount)  # the same digits and exponent
        assert found.currency == expected.currency


def test_money_from_zero_minor_units_is_positive_zero() -> None:
    assert str(Money.from_minor(0, "USD").amount) == "0.00"
    assert Money.from_minor(0, "USD").amount.is_signed() is False


@pytest.mark.parametrize("code", ["USD", "usd", " USD ", "uSd"])
def test_a_known_code_as_written_is_the_same_money_as_its_other_spellings(code: str) -> None:
    money = Money(Decimal("25.5"), code)
    assert money.currency == "USD"
    assert repr(money) == "Money('25.50', 'USD')"
    assert repr(Money.from_minor(2550, code)) == "Money('25.50', 'USD')"


@given(
    amount=st.decimals(allow_nan=True, allow_infinity=True, places=None)
    | st.integers(-(10**70), 10**70)
    | st.sampled_from(["25.5", " 1 ", "1e3", "-0.00", "abc"]),
    currency=st.sampled_from(["USD", "LYD", "JPY", "usd", "ZZZ", " LYD"]),
)
def test_money_from_a_decimal_and_a_known_code_is_what_the_full_checks_make(
    amount: Decimal | int | str, currency: str
) -> None:
    def full(value: Decimal | int | str, code: str) -> tuple[str, str] | str:
        # The checks spelled out: normalised code, exact decimal, the currency's places.
        try:
            normal = money_module._currency_code(code)
            exponent = money_module.currency_exponent(normal)
            exact = money_module._to_decimal(value)
            quantized = exact.quantize(Decimal(1).scaleb(-exponent), context=money_module._CONTEXT)
        except (InvalidMoney, TypeError) as error:
            return type(error).__name__ + str(error)
        except decimal.DecimalException:
            return "InvalidMoneyamount is too large"
        if quantized != exact:
            return "InvalidMoneyplaces"
        return str(quantized if quantized else quantized.copy_abs()), normal

    expected = full(amount, currency)
    try:
        money = Money(amount, currency)
        found: tuple[str, str] | str = (str(money.amount), money.currency)
    except (InvalidMoney, TypeError) as error:
        found = type(error).__name__ + ("places" if "decimal places" in str(error) else str(error))
    if isinstance(expected, str) and expected.endswith("places"):
        assert found == "InvalidMoneyplaces"
    else:
        assert found == expected


def test_an_unknown_code_is_still_refused_by_name() -> None:
    with pytest.raises(InvalidMoney, match="unknown currency 'ZZZ'"):
        Money("1", "ZZZ")
    with pytest.raises(InvalidMoney, match="unknown currency 'ZZZ'"):
        Money.from_minor(1, "ZZZ")


def test_a_money_subclass_still_goes_through_its_constructor() -> None:
    class Tracked(Money):
        made: list[str] = []  # noqa: RUF012 - a test's record

        def __init__(self, amount: Decimal | str | int, currency: str) -> None:
            Tracked.made.append(currency)
            super().__init__(amount, currency)

    assert isinstance(Tracked.from_minor(5, "USD"), Tracked)
    assert Tracked.made == ["USD"]


# -- card-number candidates in long text ---------------------------------------------------

_CANDIDATE = redaction_module._CANDIDATE


@given(
    st.text(alphabet='0123456789 -x"é', min_size=0, max_size=300)
    | st.text(alphabet="2345678 -", max_size=200)
    | st.lists(st.sampled_from(["4012 8888 8888 1881", "2025-01-01", "1-250101000000-", "ab"])).map(
        " ".join
    )
)
def test_the_run_by_run_search_finds_what_the_expression_finds(text: str) -> None:
    assert redaction_module._has_candidate(text) == (_CANDIDATE.search(text) is not None)


def test_text_with_many_long_runs_is_searched_whole_past_the_first_few() -> None:
    # Each run has thirteen digits and a 2 first, but the double space breaks it: worth a
    # search, and no candidate.
    near_miss = "2  222222222222"
    assert not redaction_module._has_candidate(near_miss)
    runs = [near_miss] * (redaction_module._RUNS_ONE_BY_ONE + 3)
    text = "x".join([*runs, "card 4012888888881881"])
    assert redaction_module._has_candidate(text)
    assert not redaction_module._has_candidate("x".join(runs))
    masked = mask_card_numbers(text)
    assert "4012888888881881" not in masked
    assert masked.startswith(near_miss)  # no card number there


def test_ids_and_dates_with_twelve_digits_after_a_one_are_not_searched() -> None:
    # Plural's order ids ("v1-250101000000-aa-...") hold thirteen digits, the first a 1:
    # no card number can start there, and none is found.
    text = '{"order_id":"v1-250101000000-aa-BeNcH1","created_at":"2025-01-01T10:00:00Z"}'
    assert not redaction_module._has_candidate(text)
    assert redaction_module._has_candidate(text.replace("v1-2501", "v2-2501"))
    assert _CANDIDATE.search(text.replace("v1-2501", "v2-2501"))


_SECRETS = ["canary-secret-1", "4242", "sécret-é"]


class _Text(str):
    """A str subclass: written by neither marshal nor (as itself) by every shortcut."""


_STRINGS = st.sampled_from(
    ["v1-1", "PROCESSED", "4012888888881881", "4012 8888 8888 1881", "x canary-secret-1 y",
     "2025-01-01T10:00:00.000Z", "a\nb", "1-250101000000-", "é", "", "\ud800 4012888888881881",
     "un sécret-é là", 'quote " and \\ canary-secret-1', "2-250101000000-"]
)  # fmt: skip
_LEAVES = (
    _STRINGS
    | _STRINGS.map(_Text)
    | st.integers()
    | st.none()
    | st.booleans()
    | st.sampled_from([Decimal("25.50"), Decimal("4012888888881881"), 1.5, b"canary-secret-1"])
)
_DATA = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(_STRINGS, inner, max_size=9)
        | st.dictionaries(st.integers(0, 3), inner, max_size=2)
    ),
    max_leaves=20,
)


@given(_DATA)
def test_nothing_to_scrub_never_lets_a_secret_or_card_number_through(data: Any) -> None:
    clean = redaction_module._nothing_to_scrub(data, _SECRETS)
    if clean:
        assert scrub_data(data, _SECRETS) == data
        assert repr(scrub_data(data, _SECRETS)) == repr(data)


def test_answers_of_plain_data_are_cleared_without_the_json_text() -> None:
    answer = {
        "data": {
            "order_id": "v1-250101000000-aa-BeNcH1",
            "order_amount": {"value": 50000, "currency": "INR"},
            "payments": [{"id": "v1-pay-1", "created_at": "2025-01-01T10:00:00.000Z"}],
            "notes": "livré",
        }
    }
    assert redaction_module._nothing_to_scrub(answer, _SECRETS)
    for planted in ("x canary-secret-1", "4012 8888 8888 1881", "un sécret-é", "\ud8004242x"):
        dirty = {"data": {**answer["data"], "notes": planted}}
        assert not redaction_module._nothing_to_scrub(dirty, _SECRETS), planted
        assert scrub_data(dirty, _SECRETS) != dirty  # it did need scrubbing
    # With a Decimal (no marshal) the JSON text decides, and still finds the card number.
    with_decimal = {"amount": Decimal("25.50"), "note": "card 4012888888881881"}
    assert not redaction_module._nothing_to_scrub(with_decimal, _SECRETS)
    assert redaction_module._nothing_to_scrub({"amount": Decimal("25.50")}, _SECRETS)


def test_a_flat_mapping_with_a_secret_or_card_number_is_scrubbed() -> None:
    for raw in (
        {"order_id": "v1", "note": "x canary-secret-1 y"},
        {"canary-secret-1": "v"},
        {"a": "4012 8888 8888 1881"},
    ):
        assert not redaction_module._nothing_to_scrub(raw, _SECRETS)
        scrubbed = repr(scrub_data(raw, _SECRETS))
        assert "canary-secret-1" not in scrubbed
        assert not re.search(r"4012.?8888.?8888", scrubbed)
        assert MASK in scrubbed or "1881" in scrubbed
