"""Exact money: a Decimal amount in an ISO 4217 currency.

Floats are refused outright (``0.1 + 0.2`` is not money). An amount is stored at the
currency's minor-unit precision (``Money("5", "LYD")`` is 5.000 LYD), and an amount with
more decimals than the currency has is refused rather than rounded: rounding is a business
decision, not the library's.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic_core import core_schema

from payhub_core._errors import FloatAmountError, InvalidMoney
from payhub_core._iso4217 import MINOR_UNITS

if TYPE_CHECKING:  # annotations only: Money alone does not import pydantic's JSON schema
    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue

__all__ = ["Money", "currency_exponent"]

# No wire format has more decimals than this; more would only build huge strings (and
# past Decimal's exponent limits quantize() fails).
_MAX_PLACES = 100
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_CODE = re.compile(r"[A-Za-z]{3}")
# Enough digits for any real amount; quantize() must not run out of precision.
_CONTEXT = decimal.Context(prec=60, traps=[decimal.InvalidOperation, decimal.Overflow])
# Arithmetic on amounts is exact or refused. (Decimal's default context rounds to 28
# digits without a word, and even unary minus and abs() round in it.)
_EXACT = decimal.Context(
    prec=60, traps=[decimal.InvalidOperation, decimal.Overflow, decimal.Inexact]
)
_SIXTY_DIGITS = 10**60  # minor units below this in size scale exactly in _EXACT
# The quantum of each minor-unit exponent (exact whatever the context), made once.
_QUANTA = {exponent: Decimal(1).scaleb(-exponent) for exponent in set(MINOR_UNITS.values())}


def _exact(operation: Callable[..., Decimal], *operands: Decimal) -> Decimal:
    try:
        return operation(*operands)
    except decimal.DecimalException:
        raise InvalidMoney(
            "the amount is too large to be exact", field="amount", rule="size"
        ) from None


def currency_exponent(currency: str) -> int:
    """Minor-unit digits of an ISO 4217 currency: 2 for USD, 3 for LYD, 0 for JPY."""
    digits = MINOR_UNITS.get(currency) if isinstance(currency, str) else None
    if digits is None:
        # Name the code only when it looks like one: the message must not repeat
        # whatever a caller put in the wrong field.
        named = f" {currency!r}" if isinstance(currency, str) and _CODE.fullmatch(currency) else ""
        raise InvalidMoney(
            f"unknown currency{named}: not an ISO 4217 code with minor units",
            field="currency",
            rule="ISO 4217 alphabetic code",
        )
    return digits


def _currency_code(currency: object) -> str:
    if not isinstance(currency, str):
        raise InvalidMoney("currency must be an ISO 4217 code string", field="currency", rule="str")
    # Three ASCII letters, then upper-cased: str.upper() alone maps "uſd" to "USD".
    code = currency.strip()
    return code.upper() if _CODE.fullmatch(code) else code


def _to_decimal(amount: object) -> Decimal:
    if isinstance(amount, bool):
        raise FloatAmountError(
            "a bool is not an amount", field="amount", rule="str, int or Decimal"
        )
    if isinstance(amount, float):
        raise FloatAmountError(
            "floats cannot represent money exactly: pass the amount as a str or Decimal, "
            "for example Money('25.50', 'LYD')",
            field="amount",
            rule="str, int or Decimal",
        )
    if isinstance(amount, Decimal):
        if not amount.is_finite():
            raise InvalidMoney("amount must be a finite number", field="amount", rule="finite")
        return amount
    if isinstance(amount, int):
        return Decimal(amount)
    if isinstance(amount, str):
        text = amount.strip()
        if not _PLAIN_NUMBER.fullmatch(text):
            raise InvalidMoney(
                "amount text must be a plain decimal number such as '25.50'",
                field="amount",
                rule="plain decimal text",
            )
        return Decimal(text)
    raise InvalidMoney(
        f"amount must be a str, int or Decimal, not {type(amount).__name__}",
        field="amount",
        rule="str, int or Decimal",
    )


class Money:
    """An exact amount of money in one currency.

    >>> Money("25.50", "LYD")
    Money('25.500', 'LYD')
    >>> Money.from_minor(2550, "USD").amount
    Decimal('25.50')
    """

    __slots__ = ("_amount", "_currency")

    _amount: Decimal
    _currency: str

    def __init__(self, amount: Decimal | str | int, currency: str) -> None:
        if type(currency) is str and currency in MINOR_UNITS:
            code, exponent = currency, MINOR_UNITS[currency]  # a known code, as written
        else:
            code = _currency_code(currency)
            exponent = currency_exponent(code)
        # A finite Decimal is taken as it is (what _to_decimal would return).
        value = amount if type(amount) is Decimal and amount.is_finite() else _to_decimal(amount)
        try:
            quantized = value.quantize(_QUANTA[exponent], context=_CONTEXT)
        except decimal.DecimalException:
            raise InvalidMoney("amount is too large", field="amount", rule="size") from None
        if quantized != value:
            raise InvalidMoney(
                f"{code} has {exponent} decimal places and the amount has more "
                "(round it yourself if that is what you mean)",
                field="amount",
                rule=f"at most {exponent} decimal places",
            )
        # -0.00 and 0.00 are the same money; keep one spelling of zero.
        object.__setattr__(self, "_amount", quantized if quantized else quantized.copy_abs())
        object.__setattr__(self, "_currency", code)

    @classmethod
    def from_minor(cls, units: int, currency: str) -> Money:
        """Money from an integer count of minor units (cents, dirhams, paise)."""
        if isinstance(units, bool) or not isinstance(units, int):
            raise FloatAmountError(
                "minor units must be an int", field="amount", rule="integer minor units"
            )
        known = type(currency) is str and currency in MINOR_UNITS
        code = currency if known else _currency_code(currency)
        exponent = currency_exponent(code)
        if cls is Money and -_SIXTY_DIGITS < units < _SIXTY_DIGITS:
            # At most 60 digits: scaling is exact and gives the currency's exponent, so
            # the amount is what __init__ would make of it; its checks are skipped.
            amount = Decimal(units).scaleb(-exponent, _EXACT)
            money = object.__new__(cls)
            object.__setattr__(money, "_amount", amount if amount else amount.copy_abs())
            object.__setattr__(money, "_currency", code)
            return money
        return cls(_exact(_EXACT.scaleb, Decimal(units), Decimal(-exponent)), code)

    @property
    def amount(self) -> Decimal:
        return self._amount

    @property
    def currency(self) -> str:
        return self._currency

    @property
    def exponent(self) -> int:
        """Minor-unit digits of this currency."""
        return MINOR_UNITS[self._currency]

    @property
    def minor_units(self) -> int:
        """The amount as an integer count of minor units: Money('25.50', 'USD') -> 2550."""
        return int(_exact(_EXACT.scaleb, self._amount, Decimal(self.exponent)))

    def format_amount(self, places: int | None = None) -> str:
        """The amount as plain text with exactly ``places`` decimals (default: the currency's).

        Refuses (``InvalidMoney``) to drop a non-zero digit: 5.125 LYD cannot go on a wire
        that takes two decimals. Never uses scientific notation.
        """
        places = self.exponent if places is None else places
        if (
            isinstance(places, bool)
            or not isinstance(places, int)
            or not 0 <= places <= _MAX_PLACES
        ):
            raise InvalidMoney(
                f"places must be an int from 0 to {_MAX_PLACES}",
                field="places",
                rule=f"int from 0 to {_MAX_PLACES}",
            )
        # Enough precision for every digit of the result: quantize() never runs short.
        context = decimal.Context(
            prec=max(_CONTEXT.prec, self._amount.adjusted() + places + 2),
            traps=[decimal.InvalidOperation, decimal.Overflow],
        )
        try:
            quantized = self._amount.quantize(Decimal(1).scaleb(-places), context=context)
        except decimal.DecimalException:  # defence in depth: the bounds above prevent it
            raise InvalidMoney(
                f"{self} cannot be written with {places} decimal places",
                field="places",
                rule=f"int from 0 to {_MAX_PLACES}",
            ) from None
        if quantized != self._amount:
            raise InvalidMoney(
                f"{self} cannot be written with {places} decimal places without rounding",
                field="amount",
                rule=f"at most {places} decimal places",
            )
        return f"{quantized:f}"

    def _same_currency(self, other: Money, verb: str) -> None:
        if self._currency != other._currency:
            raise InvalidMoney(
                f"cannot {verb} {self} and {other}: different currencies",
                field="currency",
                rule="same currency",
            )

    @classmethod
    def _trusted(cls, amount: Decimal, currency: str) -> Money:
        """Money from an exact result of arithmetic on valid Money of ``currency``.

        Adding, subtracting, negating or multiplying by an int amounts that share the
        currency's exponent yields that exponent again (and ``_exact`` traps any rounding),
        so the checks in ``__init__`` would only cost time: 30x a Decimal addition. One
        remains: past 60 digits the context drops trailing zeros (rounded, not inexact),
        which shows as a changed exponent.
        """
        if amount.as_tuple().exponent != -MINOR_UNITS[currency]:
            raise InvalidMoney("the amount is too large to be exact", field="amount", rule="size")
        money = object.__new__(cls)
        object.__setattr__(money, "_amount", amount if amount else amount.copy_abs())
        object.__setattr__(money, "_currency", currency)
        return money

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "add")
        return Money._trusted(_exact(_EXACT.add, self._amount, other._amount), self._currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "subtract")
        return Money._trusted(_exact(_EXACT.subtract, self._amount, other._amount), self._currency)

    def __mul__(self, factor: object) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money._trusted(
            _exact(_EXACT.multiply, self._amount, Decimal(factor)), self._currency
        )

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money._trusted(_exact(_EXACT.minus, self._amount), self._currency)

    def __abs__(self) -> Money:
        return Money._trusted(_exact(_EXACT.abs, self._amount), self._currency)

    def __bool__(self) -> bool:
        return bool(self._amount)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self._currency == other._currency and self._amount == other._amount

    def __hash__(self) -> int:
        return hash((self._amount, self._currency))

    def __lt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compare")
        return self._amount < other._amount

    def __le__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compare")
        return self._amount <= other._amount

    def __gt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compare")
        return self._amount > other._amount

    def __ge__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compare")
        return self._amount >= other._amount

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Money is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Money is immutable")

    def __reduce__(self) -> tuple[type[Money], tuple[str, str]]:
        return (Money, (str(self._amount), self._currency))

    def __repr__(self) -> str:
        return f"Money('{self._amount:f}', '{self._currency}')"

    def __str__(self) -> str:
        return f"{self._amount:f} {self._currency}"

    # -- pydantic integration: Money is a field type in the models -----------------------

    @classmethod
    def _validate(cls, value: Any) -> Money:
        if isinstance(value, Money):
            return value
        if isinstance(value, dict) and set(value) == {"amount", "currency"}:
            return cls(value["amount"], value["currency"])
        if isinstance(value, float):
            _to_decimal(value)  # raises FloatAmountError, a TypeError pydantic lets through
        raise InvalidMoney(
            "expected Money or {'amount': '<decimal text>', 'currency': '<ISO 4217>'}",
            field="amount",
            rule="Money",
        )

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda money: {"amount": f"{money.amount:f}", "currency": money.currency},
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "object",
            "title": "Money",
            "properties": {
                "amount": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"},
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            },
            "required": ["amount", "currency"],
            "additionalProperties": False,
        }
