"""Money: an exact Decimal amount in an ISO 4217 currency."""

from __future__ import annotations

import copy
import importlib.util
import json
import pickle
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import iso4217
import pytest
from hypothesis import given
from hypothesis import strategies as st

from payhub_core import (
    FloatAmountError,
    InvalidMoney,
    InvalidRequest,
    Invoice,
    Money,
    PayhubError,
    currency_exponent,
)
from payhub_core import _iso4217 as iso_table
from payhub_core.testing.strategies import currencies, money

REPO = Path(__file__).resolve().parents[2]
CODES = sorted(iso_table.MINOR_UNITS)


# -- what an amount may be ----------------------------------------------------------------


@given(st.floats())
def test_every_float_amount_is_refused_with_a_type_error(value: float) -> None:
    with pytest.raises(FloatAmountError) as caught:
        Money(value, "USD")  # type: ignore[arg-type]
    assert isinstance(caught.value, TypeError)
    assert isinstance(caught.value, InvalidRequest)
    assert isinstance(caught.value, InvalidMoney)
    assert caught.value.field == "amount"


@pytest.mark.parametrize("value", [True, False])
def test_bool_amounts_are_refused_with_a_type_error(value: bool) -> None:
    with pytest.raises(FloatAmountError):
        Money(value, "USD")


@pytest.mark.parametrize("units", [2.0, True, Decimal(2), "2"])
def test_from_minor_takes_only_an_int(units: Any) -> None:
    with pytest.raises(FloatAmountError):
        Money.from_minor(units, "USD")


@pytest.mark.parametrize("value", [None, [1], b"5", object()])
def test_other_amount_types_are_refused(value: Any) -> None:
    with pytest.raises(InvalidMoney):
        Money(value, "USD")


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("5.001", "USD"),
        ("0.5", "JPY"),
        ("1.0001", "LYD"),
        ("0.00001", "CLF"),
        (Decimal("25.505"), "INR"),
        (Decimal("1E-30"), "KWD"),
    ],
)
def test_more_decimals_than_the_currency_has_is_refused_not_rounded(
    amount: str | Decimal, currency: str
) -> None:
    with pytest.raises(InvalidMoney) as caught:
        Money(amount, currency)
    assert caught.value.field == "amount"
    assert str(currency_exponent(currency)) in (caught.value.rule or "")


def test_trailing_zeros_beyond_the_currency_precision_are_not_rounding() -> None:
    assert Money("5.000", "USD") == Money("5", "USD")
    assert Money("5.000", "USD").amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "currency", ["XYZ", "", "US", "USDD", "XAU", "XXX", "XTS", "uſd", "ＵＳＤ", " ", "U S"]
)
def test_unknown_currencies_are_refused(currency: str) -> None:
    # XAU (gold), XXX and XTS have no minor units in ISO 4217: nobody pays in them.
    # "uſd" upper-cases to "USD" in Unicode; a currency code is three ASCII letters.
    with pytest.raises(InvalidMoney) as caught:
        Money("1", currency)
    assert caught.value.field == "currency"


@pytest.mark.parametrize("currency", [None, 840, b"USD"])
def test_a_currency_that_is_not_text_is_refused(currency: Any) -> None:
    with pytest.raises(InvalidMoney):
        Money("1", currency)


def test_currency_codes_are_normalised_to_upper_case() -> None:
    assert Money("1", "usd").currency == "USD"
    assert Money("1", "usd") == Money("1", "USD")


@pytest.mark.parametrize(
    "amount",
    [
        Decimal("NaN"),
        Decimal("-NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        "NaN",
        "nan",
        "Infinity",
        "-inf",
    ],
)
def test_nan_and_infinity_are_refused(amount: str | Decimal) -> None:
    with pytest.raises(InvalidMoney):
        Money(amount, "USD")


@pytest.mark.parametrize(
    "text",
    [
        "1e3",
        "1E3",
        "1.5e-2",
        "1_000",
        "1_000.00",
        "",
        "   ",
        "\t\n",
        "+5",
        "5.",
        ".5",
        "1,50",
        "٥",  # ARABIC-INDIC DIGIT FIVE: Decimal() would take it
        "５",  # FULLWIDTH DIGIT FIVE
        "0x10",
        "5 00",
        "--5",
        "5-",
    ],
)
def test_amount_text_must_be_a_plain_decimal_number(text: str) -> None:
    with pytest.raises(InvalidMoney) as caught:
        Money(text, "USD")
    assert caught.value.field == "amount"


def test_a_huge_amount_is_refused_as_invalid_money() -> None:
    with pytest.raises(InvalidMoney):
        Money(10**100, "USD")
    with pytest.raises(InvalidMoney):
        Money("9" * 80, "JPY")


def test_an_error_about_an_amount_does_not_repeat_the_amount() -> None:
    # Errors are built from field names and rules, never from what the caller passed.
    with pytest.raises(InvalidMoney) as caught:
        Money("4111111111111111.123", "USD")
    assert "4111111111111111" not in str(caught.value)


def test_an_error_about_an_unusual_currency_does_not_repeat_it() -> None:
    with pytest.raises(InvalidMoney) as caught:
        Money("1", "sk_live_4111111111111111")
    assert "4111111111111111" not in str(caught.value)


# -- minor units -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "decimals", "text", "minor"),
    [
        ("JPY", 0, "1500", 1500),
        ("USD", 2, "25.50", 2550),
        ("INR", 2, "10.05", 1005),
        ("LYD", 3, "5.125", 5125),
        ("KWD", 3, "0.001", 1),
        ("CLF", 4, "1.2345", 12345),
    ],
)
def test_minor_units_follow_the_iso_table(
    currency: str, decimals: int, text: str, minor: int
) -> None:
    assert currency_exponent(currency) == decimals
    value = Money(text, currency)
    assert value.exponent == decimals
    assert value.minor_units == minor
    assert Money.from_minor(minor, currency) == value
    assert value.amount == Decimal(text)
    assert value.amount.as_tuple().exponent == -decimals


def test_an_amount_is_stored_at_the_currency_precision() -> None:
    assert Money("5", "LYD").amount.as_tuple() == Decimal("5.000").as_tuple()
    assert repr(Money("5", "LYD")) == "Money('5.000', 'LYD')"
    assert str(Money("25.5", "USD")) == "25.50 USD"


@given(units=st.integers(-(10**30), 10**30), currency=st.sampled_from(CODES))
def test_from_minor_and_minor_units_round_trip(units: int, currency: str) -> None:
    value = Money.from_minor(units, currency)
    assert value.minor_units == units
    assert value.amount.as_tuple().exponent == -currency_exponent(currency)
    assert Money(value.amount, currency) == value
    assert Money(format(value.amount, "f"), currency) == value


@pytest.mark.parametrize("units", [10**28 + 1, -(10**28) - 1, 12345678901234567890123456789012])
def test_from_minor_keeps_every_digit_of_a_long_amount(units: int) -> None:
    # Decimal's default context has 28 digits: scaleb() there would round silently.
    assert Money.from_minor(units, "USD").minor_units == units


def test_negation_and_abs_keep_every_digit_of_a_long_amount() -> None:
    value = Money(12345678901234567890123456789012, "JPY")
    assert (-value).amount == value.amount.copy_negate()
    assert abs(-value) == value


def test_negative_zero_is_zero() -> None:
    zero = Money("-0.00", "USD")
    assert zero == Money("0", "USD")
    assert str(zero) == "0.00 USD"
    assert not zero


# -- arithmetic and ordering -------------------------------------------------------------


@given(
    a=st.integers(-(10**40), 10**40) | st.integers(-(10**6), 10**6),
    b=st.integers(-(10**40), 10**40) | st.integers(-(10**6), 10**6),
    k=st.integers(-1000, 1000),
    currency=st.sampled_from(CODES),
)
def test_same_currency_arithmetic_is_exact(a: int, b: int, k: int, currency: str) -> None:
    x, y = Money.from_minor(a, currency), Money.from_minor(b, currency)
    assert (x + y).minor_units == a + b
    assert (x - y).minor_units == a - b
    assert (x * k).minor_units == a * k
    assert (k * x).minor_units == a * k
    assert (-x).minor_units == -a
    assert abs(x).minor_units == abs(a)
    assert (x + y).currency == currency
    assert bool(x) is (a != 0)


@given(a=st.integers(-(10**15), 10**15), b=st.integers(-(10**15), 10**15))
def test_same_currency_ordering_follows_the_amounts(a: int, b: int) -> None:
    x, y = Money.from_minor(a, "LYD"), Money.from_minor(b, "LYD")
    assert (x < y) is (a < b)
    assert (x <= y) is (a <= b)
    assert (x > y) is (a > b)
    assert (x >= y) is (a >= b)
    assert (x == y) is (a == b)


def test_money_times_a_float_or_decimal_is_refused() -> None:
    with pytest.raises(TypeError):
        Money("1", "USD") * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        Money("1", "USD") * Decimal("1.5")  # type: ignore[operator]


def test_money_plus_a_number_is_refused() -> None:
    with pytest.raises(TypeError):
        Money("1", "USD") + 1  # type: ignore[operator]
    with pytest.raises(TypeError):
        Money("1", "USD") < 1  # type: ignore[operator]  # noqa: B015


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
    ids=["add", "sub", "lt", "le", "gt", "ge"],
)
def test_mixed_currency_arithmetic_and_ordering_are_refused(operation: Any) -> None:
    with pytest.raises(InvalidMoney) as caught:
        operation(Money("1", "USD"), Money("1", "EUR"))
    assert caught.value.field == "currency"


def test_money_in_different_currencies_is_never_equal() -> None:
    assert Money("1", "USD") != Money("1", "EUR")
    assert (Money("1", "USD") == Money("1", "EUR")) is False
    assert Money("0", "USD") != Money("0", "JPY")


def test_money_is_not_equal_to_a_bare_number() -> None:
    assert Money("1", "USD") != Decimal("1.00")
    assert Money("1", "USD") != 1
    assert Money("1", "USD") != "1.00"


@given(
    a=st.integers(-(10**6), 10**6),
    b=st.integers(-(10**6), 10**6),
    ca=st.sampled_from(["USD", "EUR", "JPY", "LYD", "CLF"]),
    cb=st.sampled_from(["USD", "EUR", "JPY", "LYD", "CLF"]),
)
def test_equal_money_has_equal_hashes(a: int, b: int, ca: str, cb: str) -> None:
    x, y = Money.from_minor(a, ca), Money.from_minor(b, cb)
    if x == y:
        assert hash(x) == hash(y)
    assert (x == y) is (ca == cb and x.amount == y.amount)


def test_money_deduplicates_in_sets_and_dicts() -> None:
    assert len({Money("1", "USD"), Money("1.00", "USD"), Money("1", "EUR")}) == 2
    assert {Money("1", "USD"): "a"}[Money("1.0", "USD")] == "a"


# -- immutability and pickling -----------------------------------------------------------


def test_money_is_immutable() -> None:
    value = Money("1", "USD")
    with pytest.raises(AttributeError):
        value.amount = Decimal(2)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        value._amount = Decimal(2)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        value.extra = 1  # type: ignore[attr-defined]
    assert value == Money("1", "USD")


def test_money_attributes_cannot_be_deleted() -> None:
    value = Money("1", "USD")
    with pytest.raises(AttributeError):
        del value._amount  # type: ignore[misc]
    assert value.amount == Decimal("1.00")


@given(money(currency=currencies(), min_value=-(10**9), max_value=10**9))
def test_money_survives_pickling_and_copying(value: Money) -> None:
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        restored = pickle.loads(pickle.dumps(value, protocol=protocol))  # noqa: S301
        assert restored == value
        assert restored.amount.as_tuple() == value.amount.as_tuple()
    assert copy.copy(value) == value
    assert copy.deepcopy(value) == value


# -- formatting ---------------------------------------------------------------------------


def test_format_amount_writes_the_currency_precision_by_default() -> None:
    assert Money("5", "LYD").format_amount() == "5.000"
    assert Money("5", "JPY").format_amount() == "5"
    assert Money("-0.5", "USD").format_amount() == "-0.50"


def test_format_amount_pads_and_trims_only_zeros() -> None:
    assert Money("5.12", "LYD").format_amount(2) == "5.12"
    assert Money("5", "USD").format_amount(4) == "5.0000"
    assert Money("5", "LYD").format_amount(0) == "5"


@pytest.mark.parametrize(
    ("amount", "currency", "places"), [("5.125", "LYD", 2), ("0.01", "USD", 0)]
)
def test_format_amount_refuses_to_drop_a_digit(amount: str, currency: str, places: int) -> None:
    with pytest.raises(InvalidMoney):
        Money(amount, currency).format_amount(places)


def test_format_amount_refuses_negative_places_as_invalid_money() -> None:
    with pytest.raises(InvalidMoney):
        Money("5", "USD").format_amount(-1)


@pytest.mark.parametrize("places", [101, 10**7, 10**9, 2**63])
def test_format_amount_refuses_absurd_places_as_invalid_money(places: int) -> None:
    # 10**7 used to escape as decimal.InvalidOperation, 2**63 as OverflowError
    with pytest.raises(InvalidMoney, match="places") as raised:
        Money("5", "LYD").format_amount(places)
    assert raised.value.field == "places"


def test_format_amount_takes_up_to_100_places() -> None:
    assert Money("5", "LYD").format_amount(100) == "5." + "0" * 100


def test_format_amount_never_uses_exponent_notation() -> None:
    assert Money(10**40, "JPY").format_amount() == "1" + "0" * 40
    assert Money("0.0001", "CLF").format_amount() == "0.0001"
    assert Money("0", "CLF").format_amount() == "0.0000"


@pytest.mark.parametrize(
    ("value", "places"),
    [(Money("1", "USD"), 70), (Money(10**57, "USD"), 4), (Money(10**57, "USD"), 2)],
)
def test_format_amount_handles_any_precision_without_decimal_errors(
    value: Money, places: int
) -> None:
    text = value.format_amount(places)
    assert Decimal(text) == value.amount
    assert len(text.partition(".")[2]) == places


@given(
    value=money(currency=currencies(), min_value=-(10**12), max_value=10**12),
    extra=st.integers(0, 30),
)
def test_format_amount_round_trips_at_any_sufficient_precision(value: Money, extra: int) -> None:
    text = value.format_amount(value.exponent + extra)
    assert "E" not in text.upper()
    assert Decimal(text) == value.amount
    assert Money(text, value.currency) == value


def test_arithmetic_overflow_is_invalid_money() -> None:
    big = Money("9" * 58, "USD")  # 60 significant digits: the most Money keeps
    with pytest.raises(InvalidMoney):
        big * 10
    with pytest.raises(InvalidMoney):
        big + big


# -- JSON inside models -------------------------------------------------------------------


def _invoice(amount: Money) -> Invoice:
    return Invoice(number="INV-1", amount=amount)


def test_money_serializes_as_a_string_amount_in_json() -> None:
    data = json.loads(_invoice(Money("25.5", "LYD")).model_dump_json())
    assert data["amount"] == {"amount": "25.500", "currency": "LYD"}


@given(money(currency=currencies(), min_value=Decimal("0.0001"), max_value=10**15))
def test_money_round_trips_through_model_json(value: Money) -> None:
    invoice = _invoice(value)
    dumped = invoice.model_dump_json()
    assert isinstance(json.loads(dumped)["amount"]["amount"], str)
    restored = Invoice.model_validate_json(dumped)
    assert restored.amount == value
    assert restored.amount.amount.as_tuple() == value.amount.as_tuple()
    assert restored == invoice


def test_a_json_float_amount_is_refused_with_a_type_error() -> None:
    text = '{"number": "INV-1", "amount": {"amount": 25.5, "currency": "LYD"}}'
    with pytest.raises(FloatAmountError):
        Invoice.model_validate_json(text)
    with pytest.raises(FloatAmountError):
        Invoice.model_validate(json.loads(text))


def test_a_python_float_amount_in_a_model_is_refused_with_a_type_error() -> None:
    with pytest.raises(FloatAmountError):
        Invoice(number="INV-1", amount=25.5)  # type: ignore[arg-type]
    with pytest.raises(FloatAmountError):
        Invoice(number="INV-1", amount={"amount": 25.5, "currency": "LYD"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "amount",
    [{"amount": "1.234", "currency": "USD"}, {"amount": "1", "currency": "XYZ"}, "25.50 LYD"],
)
def test_invalid_money_inside_a_model_stays_invalid_money(amount: Any) -> None:
    with pytest.raises(InvalidMoney) as caught:
        Invoice(number="INV-1", amount=amount)
    assert caught.value.field == "amount"


def test_money_errors_are_payhub_errors() -> None:
    assert issubclass(InvalidMoney, PayhubError)
    assert issubclass(InvalidMoney, ValueError)


# -- the ISO 4217 table -------------------------------------------------------------------


def test_every_iso_currency_with_minor_units_matches_the_iso4217_package() -> None:
    # iso4217 (PyPI) ships the SIX Group XML: an independent reading of the same list.
    reference = {c.code: c.exponent for c in iso4217.Currency if c.exponent is not None}
    assert reference == iso_table.MINOR_UNITS


def test_codes_without_minor_units_are_left_out() -> None:
    without = {c.code for c in iso4217.Currency if c.exponent is None}
    assert {"XAU", "XXX", "XTS"} <= without
    assert not without & set(iso_table.MINOR_UNITS)


def test_the_table_is_the_full_list_not_a_handful() -> None:
    assert len(iso_table.MINOR_UNITS) > 150
    assert {0, 2, 3, 4} <= set(iso_table.MINOR_UNITS.values())


def test_the_generated_table_names_its_source_and_publication_date() -> None:
    doc = iso_table.__doc__ or ""
    assert "SIX" in doc
    assert "ISO 4217" in doc
    assert "scripts/update_iso4217.py" in doc
    assert iso_table.PUBLISHED in doc
    assert iso4217.__published__.isoformat() == iso_table.PUBLISHED


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "update_iso4217", REPO / "scripts" / "update_iso4217.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_checked_in_table_is_what_the_generator_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _load_script()
    target = tmp_path / "_iso4217.py"
    monkeypatch.setattr(script, "TARGET", target)
    xml = Path(iso4217.__file__).parent / "table.xml"
    script.main(str(xml))
    capsys.readouterr()
    assert target.read_text("utf-8") == Path(iso_table.__file__).read_text("utf-8")


@given(
    st.integers(-(10**20), 10**20),
    st.integers(-(10**20), 10**20),
    st.integers(-1000, 1000),
    st.sampled_from(["JPY", "USD", "LYD", "CLF"]),
)
def test_arithmetic_results_equal_freshly_validated_money(
    a: int, b: int, factor: int, currency: str
) -> None:
    # Results skip re-validation; they must be indistinguishable from validated Money.
    x, y = Money.from_minor(a, currency), Money.from_minor(b, currency)
    for result in (x + y, x - y, x * factor, -x, abs(x)):
        fresh = Money(result.amount, currency)
        assert result == fresh
        assert str(result.amount) == str(fresh.amount)  # same exponent, same zero spelling
        assert result.minor_units == fresh.minor_units
