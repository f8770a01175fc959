"""Amounts as Plutu writes and reads them: one precision rule and one parser.

Plutu takes amounts with at most two decimals, in every currency (LYD has three: 5.125 LYD
is refused before sending, never rounded). What Plutu reports back (the amount an OTP
wallet charged, the signed amount of a return or callback) is read by :func:`read_amount`,
whatever the carrier: a JSON number, a decimal string, a query parameter.
"""

from __future__ import annotations

import re
from decimal import Decimal

from payhub_core import InvalidRequest, Money

__all__ = ["WIRE_DECIMALS", "read_amount"]

WIRE_DECIMALS = 2
"""Decimals Plutu accepts in a request's ``amount``: Plutu's API documentation allows whole
amounts and amounts with one or two decimals (``125``, ``12.5``, ``12.50``) on every payment
page."""

_AMOUNT_TEXT = re.compile(r"[0-9]{1,20}(\.[0-9]{1,10})?")


def read_amount(value: object, currency: str) -> Money:
    """``value`` (as Plutu sent it) in ``currency``: a positive decimal amount.

    Accepted: an integer, a ``Decimal`` (JSON numbers are parsed as ``Decimal``, never
    float) and plain decimal text (``"5"``, ``"5.00"``: no sign, exponent or spaces).
    Raises ``ValueError`` saying what is wrong, for the caller to turn into the error its
    context calls for (a malformed callback, an unreadable answer).
    """
    if isinstance(value, str):
        if not _AMOUNT_TEXT.fullmatch(value):
            raise ValueError("'amount' is not a decimal amount")
        amount = Decimal(value)
    elif isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ValueError("'amount' is not a decimal amount")
    else:
        amount = Decimal(value)
    if not amount.is_finite() or amount <= 0:
        raise ValueError("'amount' is not a positive amount")
    try:
        return Money(amount, currency)
    except InvalidRequest:
        raise ValueError(f"'amount' has more decimals than {currency} allows") from None
