"""Hypothesis strategies for payhub values, for adapter authors' property tests.

::

    from hypothesis import given
    from payhub_core.testing.strategies import callbacks, currencies, invoices

    @given(invoices(amounts=money(currency=currencies(decimals=3))))
    def test_every_lyd_invoice_goes_on_the_wire(invoice): ...

Every strategy produces valid objects (an :class:`~payhub_core.Invoice` that the model
accepts, a :class:`~payhub_core.Callback` whose parsed view gives back the pairs it was
built from). Money is always built from an integer count of minor units, never from a
float. Needs hypothesis: ``pip install "payhub-core[testing]"``.
"""

from __future__ import annotations

import string
from collections.abc import Collection, Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal
from urllib.parse import quote

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from payhub_core._iso4217 import MINOR_UNITS
from payhub_core._models import Callback, Customer, Invoice
from payhub_core._money import Money
from payhub_core.signing import http_build_query

__all__ = [
    "INVOICE_NUMBER_ALPHABET",
    "PhpScalar",
    "callbacks",
    "currencies",
    "customers",
    "invoice_numbers",
    "invoices",
    "money",
    "php_params",
    "query_params",
]

INVOICE_NUMBER_ALPHABET = string.ascii_letters + string.digits + "-_"
"""What most gateways accept in an invoice number (Plutu: ``[A-Za-z0-9._-]``)."""

PhpScalar = str | int | float | bool | None
"""A value as PHP's ``json_decode`` hands it to ``http_build_query``."""

Via = Literal["query", "form"]


def currencies(decimals: int | Collection[int] | None = None) -> SearchStrategy[str]:
    """ISO 4217 codes, optionally only those with the given minor-unit digits.

    ``currencies(decimals=3)`` gives LYD, KWD, BHD...; ``currencies(decimals={0, 4})``
    JPY, CLF and the rest of the awkward ones.
    """
    if decimals is None:
        codes = sorted(MINOR_UNITS)
    else:
        wanted = {decimals} if isinstance(decimals, int) else set(decimals)
        codes = sorted(code for code, digits in MINOR_UNITS.items() if digits in wanted)
        if not codes:
            raise ValueError(f"no ISO 4217 currency has {sorted(wanted)} minor-unit digits")
    return st.sampled_from(codes)


def _bound(value: Decimal | int | str, name: str) -> Decimal:
    if isinstance(value, (bool, float)) or not isinstance(value, (Decimal, int, str)):
        raise TypeError(f"{name} must be a Decimal, int or str (never a float)")
    bound = Decimal(value)
    if not bound.is_finite():
        raise ValueError(f"{name} must be finite")
    return bound


def _minor_range(low: Decimal, high: Decimal, digits: int) -> tuple[int, int]:
    return (
        int(low.scaleb(digits).to_integral_value(rounding=ROUND_CEILING)),
        int(high.scaleb(digits).to_integral_value(rounding=ROUND_FLOOR)),
    )


def money(
    currency: str | SearchStrategy[str] | None = None,
    *,
    min_value: Decimal | int | str = 0,
    max_value: Decimal | int | str = 1_000_000,
) -> SearchStrategy[Money]:
    """:class:`~payhub_core.Money` between ``min_value`` and ``max_value`` (inclusive, in
    major units), built from integer minor units.

    ``currency`` is a code, a strategy of codes, or ``None`` for any ISO 4217 currency.
    Pass ``min_value=Decimal("0.0001")`` for strictly positive amounts in any currency.
    """
    low, high = _bound(min_value, "min_value"), _bound(max_value, "max_value")
    if low > high:
        raise ValueError("min_value is greater than max_value")

    def in_currency(code: str) -> SearchStrategy[Money]:
        first, last = _minor_range(low, high, MINOR_UNITS[code])
        if first > last:
            return st.nothing()
        return st.integers(first, last).map(lambda units: Money.from_minor(units, code))

    if isinstance(currency, str):
        code = Money(0, currency).currency  # refuses unknown currencies now, not per example
        first, last = _minor_range(low, high, MINOR_UNITS[code])
        if first > last:
            raise ValueError(f"no {code} amount lies between {low} and {high}")
        return in_currency(code)
    return (currencies() if currency is None else currency).flatmap(in_currency)


def invoice_numbers(
    alphabet: str | SearchStrategy[str] = INVOICE_NUMBER_ALPHABET,
    *,
    min_size: int = 1,
    max_size: int = 32,
) -> SearchStrategy[str]:
    """Invoice numbers an :class:`~payhub_core.Invoice` accepts: 1 to 100 characters from
    ``alphabet``, no leading or trailing white space."""
    if not 1 <= min_size <= max_size <= 100:
        raise ValueError("invoice numbers have 1 to 100 characters")
    return st.text(alphabet, min_size=min_size, max_size=max_size).filter(
        lambda text: text.strip() == text
    )


def customers() -> SearchStrategy[Customer]:
    """Customers with any combination of the optional fields filled in."""
    return st.builds(
        Customer,
        mobile=st.none() | st.from_regex(r"(\+2189|09)[1-5][0-9]{7}", fullmatch=True),
        email=st.none() | st.emails(),
        first_name=st.none() | st.text(min_size=1, max_size=30),
        last_name=st.none() | st.text(min_size=1, max_size=30),
        birth_year=st.none() | st.integers(1900, 2015),
        ip=st.none() | st.ip_addresses().map(str),
    )


def _urls() -> SearchStrategy[str]:
    return st.builds(
        lambda scheme, host, path: f"{scheme}://{host}/{quote(path)}",
        st.sampled_from(["https", "http"]),
        st.sampled_from(["shop.example", "localhost:8000", "127.0.0.1", "[::1]:8443"]),
        st.text(max_size=20),
    )


def invoices(
    *,
    numbers: SearchStrategy[str] | None = None,
    amounts: SearchStrategy[Money] | None = None,
    return_urls: SearchStrategy[str | None] | None = None,
    callback_urls: SearchStrategy[str | None] | None = None,
    customer: SearchStrategy[Customer | None] | None = None,
    capture: SearchStrategy[Literal["automatic", "manual"]] | None = None,
) -> SearchStrategy[Invoice]:
    """Valid invoices: a positive amount, absolute http(s) URLs (or none), an unpadded
    number. Each argument replaces the default strategy for that field."""
    return st.builds(
        Invoice,
        number=invoice_numbers() if numbers is None else numbers,
        amount=money(min_value=Decimal("0.0001")) if amounts is None else amounts,
        return_url=(st.none() | _urls()) if return_urls is None else return_urls,
        callback_url=(st.none() | _urls()) if callback_urls is None else callback_urls,
        customer=(st.none() | customers()) if customer is None else customer,
        lang=st.none() | st.sampled_from(["en", "ar", "hi"]),
        description=st.none() | st.text(max_size=60),
        metadata=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=3),
        capture=st.sampled_from(["automatic", "manual"]) if capture is None else capture,
    )


def query_params(
    keys: SearchStrategy[str] | None = None,
    values: SearchStrategy[str] | None = None,
    *,
    min_size: int = 0,
    max_size: int = 8,
    unique_keys: bool = False,
) -> SearchStrategy[list[tuple[str, str]]]:
    """Ordered ``(key, value)`` lists with arbitrary Unicode (no lone surrogates: those are
    not text a browser or a gateway can send). Repeated keys unless ``unique_keys``."""
    return st.lists(
        st.tuples(
            st.text(min_size=1) if keys is None else keys, st.text() if values is None else values
        ),
        min_size=min_size,
        max_size=max_size,
        unique_by=(lambda pair: pair[0]) if unique_keys else None,
    )


def php_params(
    keys: SearchStrategy[str] | None = None, *, min_size: int = 0, max_size: int = 8
) -> SearchStrategy[list[tuple[str, PhpScalar]]]:
    """Ordered parameters with the scalar types ``json_decode`` produces: text, int64
    integers, finite floats, booleans and ``None`` (which ``http_build_query`` skips).
    Keys are unique, as in a PHP array."""
    scalars: SearchStrategy[PhpScalar] = st.one_of(
        st.text(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.none(),
    )
    return st.lists(
        st.tuples(st.text(min_size=1) if keys is None else keys, scalars),
        min_size=min_size,
        max_size=max_size,
        unique_by=lambda pair: pair[0],
    )


def _callback(pairs: Sequence[tuple[str, str]], via: Via, headers: Mapping[str, str]) -> Callback:
    encoded = http_build_query(pairs)
    if via == "query":
        return Callback(method="GET", query=encoded, headers=dict(headers))
    return Callback(
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        body=encoded.encode("ascii"),
    )


def callbacks(
    pairs: SearchStrategy[list[tuple[str, str]]] | None = None,
    *,
    via: Via | Collection[Via] = ("query", "form"),
    headers: Mapping[str, str] | None = None,
) -> SearchStrategy[Callback]:
    """:class:`~payhub_core.Callback` objects carrying ``pairs`` as a GET query string or a
    POST form body (``via``), encoded as PHP's ``http_build_query`` does.

    ``callback.params()`` gives the pairs back in order, repeats included.
    """
    ways: list[Via] = [via] if isinstance(via, str) else list(via)
    return st.builds(
        _callback,
        query_params() if pairs is None else pairs,
        st.sampled_from(ways),
        st.just(dict(headers or {})),
    )
