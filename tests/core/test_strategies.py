"""payhub_core.testing.strategies: valid objects, money from integer minor units."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payhub_core import Callback, Customer, InvalidMoney, Invoice, Money, currency_exponent
from payhub_core._iso4217 import MINOR_UNITS
from payhub_core.signing import http_build_query
from payhub_core.testing.strategies import (
    INVOICE_NUMBER_ALPHABET,
    callbacks,
    currencies,
    customers,
    invoice_numbers,
    invoices,
    money,
    php_params,
    query_params,
)


@given(currencies())
def test_currencies_are_iso_codes(code: str) -> None:
    assert code in MINOR_UNITS


@pytest.mark.parametrize("decimals", [0, 2, 3, 4])
def test_currencies_filter_by_decimals(decimals: int) -> None:
    @given(currencies(decimals=decimals))
    def check(code: str) -> None:
        assert currency_exponent(code) == decimals

    check()


@given(currencies(decimals={0, 4}))
def test_currencies_take_several_decimal_counts(code: str) -> None:
    assert currency_exponent(code) in {0, 4}


def test_currencies_refuse_a_decimal_count_no_currency_has() -> None:
    with pytest.raises(ValueError, match="minor-unit"):
        currencies(decimals=7)


@given(money())
def test_money_is_money_never_float(value: Money) -> None:
    assert isinstance(value, Money)
    assert isinstance(value.amount, Decimal)
    assert value.amount.as_tuple().exponent == -value.exponent
    assert Decimal(0) <= value.amount <= Decimal(1_000_000)


@given(money("LYD", min_value="0.001", max_value="1.5"))
def test_money_respects_currency_and_bounds(value: Money) -> None:
    assert value.currency == "LYD"
    assert Decimal("0.001") <= value.amount <= Decimal("1.5")


@given(money(currencies(decimals=0), min_value="0.5", max_value="1.5"))
def test_money_rounds_bounds_inward_to_whole_minor_units(value: Money) -> None:
    assert value.amount == 1


@given(money(min_value=Decimal("0.0001"), max_value=10**40))
def test_money_reaches_large_amounts_exactly(value: Money) -> None:
    assert value.amount > 0
    assert Money.from_minor(value.minor_units, value.currency) == value


@pytest.mark.parametrize("bound", [1.5, True])
def test_money_bounds_refuse_floats_and_bools(bound: Any) -> None:
    with pytest.raises(TypeError):
        money(min_value=bound)


def test_money_refuses_an_empty_range() -> None:
    with pytest.raises(ValueError, match="greater"):
        money(min_value=2, max_value=1)
    with pytest.raises(ValueError, match="JPY"):
        money("JPY", min_value="0.1", max_value="0.9")


def test_money_refuses_an_unknown_currency_up_front() -> None:
    with pytest.raises(InvalidMoney, match="unknown currency"):
        money("XYZ")


@given(invoice_numbers())
def test_invoice_numbers_are_accepted_by_invoice(number: str) -> None:
    assert set(number) <= set(INVOICE_NUMBER_ALPHABET)
    assert Invoice(number=number, amount=Money("1", "USD")).number == number


@given(invoice_numbers(alphabet=" ab", max_size=5))
def test_invoice_numbers_are_never_padded_even_with_spaces_in_the_alphabet(number: str) -> None:
    assert number.strip() == number
    assert number


def test_invoice_numbers_refuse_sizes_invoice_would_refuse() -> None:
    with pytest.raises(ValueError, match="1 to 100"):
        invoice_numbers(max_size=101)
    with pytest.raises(ValueError, match="1 to 100"):
        invoice_numbers(min_size=0)


@given(customers())
def test_customers_are_customers(customer: Customer) -> None:
    assert Customer.model_validate(customer.model_dump()) == customer


@given(invoices())
def test_invoices_are_valid_and_positive(invoice: Invoice) -> None:
    assert invoice.amount.amount > 0
    assert isinstance(invoice.amount.amount, Decimal)
    assert Invoice.model_validate_json(invoice.model_dump_json()) == invoice


@given(invoices(amounts=money("KWD", min_value="0.001", max_value=5), capture=st.just("manual")))
def test_invoices_take_replacement_strategies(invoice: Invoice) -> None:
    assert invoice.amount.currency == "KWD"
    assert invoice.capture == "manual"


@given(query_params())
def test_query_params_are_ordered_text_pairs(pairs: list[tuple[str, str]]) -> None:
    assert all(isinstance(k, str) and k and isinstance(v, str) for k, v in pairs)


@given(query_params(unique_keys=True))
def test_query_params_can_have_unique_keys(pairs: list[tuple[str, str]]) -> None:
    assert len({k for k, _ in pairs}) == len(pairs)


@given(php_params())
def test_php_params_are_php_scalars_with_unique_keys(params: list[tuple[str, Any]]) -> None:
    assert len({k for k, _ in params}) == len(params)
    for _, value in params:
        assert value is None or isinstance(value, (str, int, float, bool))
    http_build_query(params)


@given(st.data())
def test_callbacks_give_back_their_pairs(data: st.DataObject) -> None:
    pairs = data.draw(query_params())
    callback = data.draw(callbacks(st.just(pairs)))
    assert isinstance(callback, Callback)
    assert callback.params() == pairs


@given(callbacks(via="query", headers={"X-Test": "1"}))
def test_callbacks_via_query_are_gets(callback: Callback) -> None:
    assert callback.method == "GET"
    assert callback.body == b""
    assert callback.header("x-test") == "1"


@given(callbacks(via="form"))
def test_callbacks_via_form_are_form_posts(callback: Callback) -> None:
    assert callback.method == "POST"
    assert callback.query == ""
    assert callback.content_type == "application/x-www-form-urlencoded"
