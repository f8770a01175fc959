"""One rule for the amounts Plutu reports, wherever it reports them: the amount an OTP
wallet's ``confirm`` says it charged, and the signed amount of a return or callback.

A positive decimal: an integer, a JSON number, or plain decimal text (no sign, exponent
or spaces), with no more decimals than the currency has. And one rule for what payhub
sends: at most two decimals (``WIRE_DECIMALS``), also what the capabilities say.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from plutu_support import (
    ADAPTERS,
    SADAD_OTP,
    SECRET_KEY,
    FakePlutu,
    config,
    invoice,
    return_to,
)

from payhub_core import (
    GatewayUnavailable,
    InvalidRequest,
    MalformedCallback,
    Money,
    OtpCode,
)
from payhub_plutu._amounts import WIRE_DECIMALS, read_amount

GOOD = [("5", "5"), ("5.00", "5"), ("5.125", "5.125"), ("100", "100")]
BAD = ["1e2", " 5", "5 ", "+5", "-5", "0", "0.00", "5.1234", "five", "", "5,00", "NaN"]


@pytest.mark.parametrize(("text", "amount"), GOOD)
def test_read_amount_accepts_plain_decimal_text(text: str, amount: str) -> None:
    assert read_amount(text, "LYD") == Money(amount, "LYD")


@pytest.mark.parametrize("value", [*BAD, True, 5.5, None, [5], Decimal("NaN"), Decimal(0)])
def test_read_amount_refuses_everything_else(value: object) -> None:
    with pytest.raises(ValueError, match="'amount'"):
        read_amount(value, "LYD")


def _charged(payhub_hub_factory: Any, amount_json: str) -> Any:
    """Sadad's confirm answered with ``"amount": <amount_json>``."""
    plutu = FakePlutu()

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/verify"):
            return plutu(request)
        body = f'{{"status":200,"result":{{"transaction_id":77,"amount":{amount_json}}}}}'
        return httpx.Response(200, content=body.encode())

    hub, _ = payhub_hub_factory(config("plutu.sadad"), route)
    inv = invoice(amount="5.00")
    checkout = hub.initiate(inv)
    return hub.verify(OtpCode(reference=checkout.reference, code=SADAD_OTP, invoice=inv))


def _returned(payhub_hub_factory: Any, amount: str) -> Any:
    pairs = [("gateway", "localbankcards"), ("approved", "1"), ("invoice_no", "A1"),
             ("amount", amount), ("transaction_id", "9")]  # fmt: skip
    hub, _ = payhub_hub_factory(config("plutu.localbankcards"), FakePlutu())
    return hub.verify(return_to("https://shop.example.ly/r", pairs, SECRET_KEY, "localbankcards"))


@pytest.mark.parametrize(("text", "amount"), GOOD)
def test_good_amounts_read_alike_from_a_charge_and_a_return(
    text: str, amount: str, payhub_hub_factory: Any
) -> None:
    for amount_json in (json.dumps(text), text):  # as a JSON string and as a JSON number
        assert _charged(payhub_hub_factory, amount_json).amount == Money(amount, "LYD")
    assert _returned(payhub_hub_factory, text).amount == Money(amount, "LYD")


@pytest.mark.parametrize("text", BAD)
def test_bad_amounts_are_refused_alike_in_a_charge_and_a_return(
    text: str, payhub_hub_factory: Any
) -> None:
    with pytest.raises(GatewayUnavailable) as charged:
        _charged(payhub_hub_factory, json.dumps(text))
    assert charged.value.outcome_unknown  # the customer may have been charged
    assert "'amount'" in str(charged.value)
    with pytest.raises(MalformedCallback, match="'amount'"):
        _returned(payhub_hub_factory, text)


def test_two_decimals_is_one_rule_for_requests_and_capabilities(payhub_hub_factory: Any) -> None:
    assert WIRE_DECIMALS == 2
    for adapter in ADAPTERS:
        hub, transport = payhub_hub_factory(config(adapter), FakePlutu())
        assert hub.capabilities().amount_decimals == WIRE_DECIMALS
        currency = hub.capabilities().currencies
        [code] = currency
        if code == "LYD":
            with pytest.raises(InvalidRequest, match="2 decimal"):
                hub.initiate(invoice(code, amount="5.125"))
            assert transport.requests == []
