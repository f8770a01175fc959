"""The benchmark compares like with like: every baseline sends the same requests as payhub
and reaches the same result, and the hand-written verification really verifies.

(Speed itself is never asserted here: bench/run.py measures it as same-run ratios.)
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import _fixtures as fx
from _cases import Bare

from payhub_core import Callback, Hub, Invoice, Money, PaymentStatus


class Recorder(httpx.MockTransport):
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        super().__init__(self._answer)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path))
        return fx.answer(request)


@pytest.fixture
def pair() -> tuple[Hub, Recorder, Bare, Recorder]:
    hub_transport, bare_transport = Recorder(), Recorder()
    hub = Hub.from_config(fx.config(), transport=hub_transport)
    hub.status(fx.ORDER_ID)  # the token, fetched once, as in the benchmark's warm-up
    hub_transport.sent.clear()
    return hub, hub_transport, Bare(httpx.Client(transport=bare_transport)), bare_transport


@pytest.mark.parametrize("operation", ["status", "capture", "cancel", "refund"])
def test_bare_httpx_sends_the_same_requests_and_reads_the_same_order(pair, operation):
    hub, hub_sent, bare, bare_sent = pair
    result = getattr(hub, operation)(fx.ORDER_ID)
    order = getattr(bare, operation)()
    assert hub_sent.sent == bare_sent.sent
    assert order["amount"] == result.amount.amount
    assert order["currency"] == result.amount.currency
    # a refund's transaction is the refund order; the others' the payment
    wanted = order["reference"] if operation == "refund" else order["transaction_id"]
    assert wanted == result.transaction_id


def test_initiate_fetches_a_token_every_time_on_both_sides(pair):
    _, _, bare, bare_sent = pair
    transport = Recorder()
    hub = Hub.from_config(fx.config(), transport=transport)
    hub.adapter("plural").clock = fx.advancing_clock()
    invoice = Invoice(
        number=fx.INVOICE, amount=Money("500.00", "INR"), return_url="https://shop.example/return"
    )
    first, second = hub.initiate(invoice), hub.initiate(invoice)
    bare.initiate()
    checkout = bare.initiate()
    assert transport.sent == bare_sent.sent
    assert [path.rsplit("/", 1)[-1] for _, path in transport.sent] == ["token", "orders"] * 2
    assert first.reference == second.reference == checkout["reference"]
    assert second.action.url == checkout["redirect_url"]


def test_plutu_initiate_sends_the_same_request(pair):
    hub, hub_sent, bare, bare_sent = pair
    invoice = Invoice(number=fx.INVOICE, amount=Money("25.50", "LYD"),
                      return_url="https://shop.example/r")  # fmt: skip
    checkout = hub.initiate(invoice, gateway="plutu")
    assert bare.plutu_initiate()["redirect_url"] == checkout.action.url
    assert hub_sent.sent == bare_sent.sent


def test_minimal_plutu_verification_agrees_with_payhub():
    hub = Hub.from_config(fx.config(), transport=fx.transport())
    for extra in (0, 1000):
        query = fx.plutu_return_query(extra)
        result = hub.verify(Callback(query=query), gateway="plutu")
        minimal = fx.minimal_plutu_return(query)
        assert result.status is PaymentStatus.PAID
        assert minimal["status"] == "paid"
        assert minimal["amount"] == result.amount.amount == Decimal("25.50")
        assert minimal["transaction_id"] == result.transaction_id


def test_minimal_plural_verification_agrees_with_payhub():
    hub = Hub.from_config(fx.config(confirm=False), transport=fx.transport())
    for extra in (0, 1000):
        query = fx.plural_return_query(extra)
        result = hub.verify(Callback(query=query))
        assert fx.minimal_plural_return(query) == {"reference": result.reference,
                                                   "status": "PROCESSED"}  # fmt: skip
    headers, body = fx.plural_webhook()
    result = hub.verify(Callback(method="POST", headers=headers, body=body))
    minimal = fx.minimal_plural_webhook(headers, body)
    assert (minimal["event"], minimal["reference"]) == (result.event_id, result.reference)
    assert minimal["amount"] == result.amount.amount


@pytest.mark.parametrize(
    ("check", "make"),
    [
        (fx.minimal_plutu_return, fx.plutu_return_query),
        (fx.minimal_plural_return, fx.plural_return_query),
    ],
)
def test_minimal_verification_refuses_a_changed_field(check, make):
    query = make()
    check(query)
    for changed in (query.replace("PROCESSED", "FAILED"), query.replace("25.50", "2550")):
        if changed != query:
            with pytest.raises(ValueError, match="signature"):
                check(changed)


def test_minimal_webhook_verification_refuses_a_changed_body():
    headers, body = fx.plural_webhook()
    with pytest.raises(ValueError, match="signature"):
        fx.minimal_plural_webhook(headers, body.replace(b"50000", b"50001"))
