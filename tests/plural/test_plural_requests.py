"""What goes on the wire (paths, JSON bodies, headers) and what is refused before anything
is sent."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from plural_support import (
    CARD_NUMBER,
    CLIENT_ID,
    CLIENT_SECRET,
    CVV,
    ROOT,
    TIMESTAMP,
    TOKEN_PREFIX,
    UUID,
    FakePlural,
    adapter_of,
    card,
    config,
    customer,
    invoice,
)

from payhub_core import (
    Customer,
    InvalidRequest,
    Invoice,
    Money,
    Netbanking,
    PaymentStatus,
    Redirect,
    Upi,
)
from payhub_plural._wire import check_reference, request_timestamp, wire_amount

NOW = 1_720_511_828.022  # 2024-07-09T07:57:08.022Z, the example in Plural's API samples
RETURN_URL = "https://shop.example/payhub/return"
# 16 random bytes in hex, its digits spelt g-p: no digit, so never masked as a card number
REFERENCE = re.compile(r"(pay|cap|rf)-[a-p]{32}")


def check_headers(request: Any, *, token: str | None, json_body: bool) -> None:
    headers = request.headers
    assert UUID.fullmatch(headers["request-id"])
    assert headers["request-timestamp"] == "2024-07-09T07:57:08.022Z"
    assert headers["accept"] == "application/json"
    if token is None:
        assert "authorization" not in headers
    else:
        assert headers["authorization"] == f"Bearer {token}"
    if json_body:
        assert headers["content-type"] == "application/json"
    else:
        assert request.content == b""


def hub_with_clock(factory: Any, fake: FakePlural, adapter: str = "plural.checkout") -> Any:
    hub, transport = factory(config(adapter), fake)
    adapter_of(hub).clock = lambda: NOW
    return hub, transport


def test_request_timestamp_format() -> None:
    assert request_timestamp(NOW) == "2024-07-09T07:57:08.022Z"
    assert request_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert TIMESTAMP.fullmatch(request_timestamp(1_800_000_000.9999))


@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
def test_request_timestamp_reads_as_the_datetime_of_that_moment(now: float) -> None:
    # Formatted without datetime for speed; the text must be datetime's, rounding included.
    from datetime import datetime, timezone

    moment = datetime.fromtimestamp(now, tz=timezone.utc)
    expected = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    assert request_timestamp(now) == expected


def test_token_request(payhub_hub_factory: Any) -> None:
    fake = FakePlural()
    order_id = fake.add_order()
    hub, transport = hub_with_clock(payhub_hub_factory, fake)
    hub.status(order_id)
    token = transport.requests[0]
    assert (token.method, str(token.url)) == ("POST", f"{ROOT}/api/auth/v1/token")
    assert token.json() == {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "grant_type": "client_credentials",
    }
    check_headers(token, token=None, json_body=True)
    status = transport.requests[1]
    assert (status.method, str(status.url)) == ("GET", f"{ROOT}/api/pay/v1/orders/{order_id}")
    check_headers(status, token=f"{TOKEN_PREFIX}1", json_body=False)
    assert token.headers["request-id"] != status.headers["request-id"]


def test_hosted_initiate(payhub_hub_factory: Any) -> None:
    hub, transport = hub_with_clock(payhub_hub_factory, FakePlural())
    checkout = hub.initiate(
        invoice(
            "INV_1001-a",
            "1234.56",
            customer=customer(),
            description="2 books",
            metadata={"cart": "42"},
            payment_method="upi, CARD,upi",
        )
    )
    create = transport.requests[1]
    assert (create.method, str(create.url)) == ("POST", f"{ROOT}/api/checkout/v1/orders")
    check_headers(create, token=f"{TOKEN_PREFIX}1", json_body=True)
    assert create.json() == {
        "merchant_order_reference": "INV_1001-a",
        "order_amount": {"value": 123456, "currency": "INR"},
        "pre_auth": False,
        "callback_url": RETURN_URL,
        "failure_callback_url": RETURN_URL,
        "notes": "2 books",
        "purchase_details": {
            "customer": {
                "email_id": "asha@example.in",
                "first_name": "Asha",
                "last_name": "Rao",
                "country_code": "91",
                "mobile_number": "9876543210",
            },
            "merchant_metadata": {"cart": "42"},
        },
        "allowed_payment_methods": ["UPI", "CARD"],
    }
    assert checkout.reference == "v1-0000000001-aa-Tst001"
    assert checkout.action == Redirect(
        url="https://api.pluralonline.com/api/v3/checkout-bff/redirect/checkout"
        "?token=redirect-token-1"
    )
    assert checkout.status is PaymentStatus.PENDING
    assert checkout.gateway == "india"


def test_minimal_hosted_order_and_manual_capture(payhub_hub_factory: Any) -> None:
    hub, transport = payhub_hub_factory(config(), FakePlural())
    bare = Invoice(number="1", amount=Money("1.00", "INR"), capture="manual")
    hub.initiate(bare)
    assert transport.requests[1].json() == {
        "merchant_order_reference": "1",
        "order_amount": {"value": 100, "currency": "INR"},
        "pre_auth": True,
    }


@pytest.mark.parametrize(
    ("method", "wire_method", "option"),
    [
        (
            card(holder_name="ASHA RAO"),
            "CARD",
            {
                "card_details": {
                    "name": "ASHA RAO",
                    "card_number": CARD_NUMBER,
                    "cvv": CVV,
                    "expiry_month": "12",
                    "expiry_year": "2030",
                }
            },
        ),
        (
            Upi(mode="collect", vpa="asha@okbank"),
            "UPI",
            {"upi_details": {"txn_mode": "COLLECT", "payer": {"vpa": "asha@okbank"}}},
        ),
        (Upi(mode="intent"), "UPI", {"upi_details": {"txn_mode": "INTENT"}}),
        (
            Netbanking(bank_code="NB1531"),
            "NETBANKING",
            {"netbanking_details": {"pay_code": "NB1531"}},
        ),
    ],
    ids=["card", "upi-collect", "upi-intent", "netbanking"],
)
def test_seamless_initiate(
    payhub_hub_factory: Any, method: Any, wire_method: str, option: dict[str, Any]
) -> None:
    hub, transport = hub_with_clock(payhub_hub_factory, FakePlural(), "plural.seamless")
    checkout = hub.initiate(invoice("INV-7", "11.00", payment_method=method))
    order, payment = transport.requests[1], transport.requests[2]
    assert (order.method, str(order.url)) == ("POST", f"{ROOT}/api/pay/v1/orders")
    assert order.json() == {
        "merchant_order_reference": "INV-7",
        "order_amount": {"value": 1100, "currency": "INR"},
        "pre_auth": False,
        "callback_url": RETURN_URL,
        "failure_callback_url": RETURN_URL,
    }
    order_id = "v1-0000000001-aa-Tst001"
    assert str(payment.url) == f"{ROOT}/api/pay/v1/orders/{order_id}/payments"
    check_headers(payment, token=f"{TOKEN_PREFIX}1", json_body=True)
    body = payment.json()
    reference = body["payments"][0].pop("merchant_payment_reference")
    assert REFERENCE.fullmatch(reference)
    assert reference.startswith("pay-")
    assert body == {
        "payments": [
            {
                "payment_amount": {"value": 1100, "currency": "INR"},
                "payment_method": wire_method,
                "payment_option": option,
            }
        ]
    }
    assert checkout.reference == order_id
    assert checkout.status is PaymentStatus.PENDING
    if option.get("upi_details", {}).get("txn_mode") == "COLLECT":
        assert checkout.action is None  # the payer approves in their UPI app
    else:
        assert checkout.action == Redirect(
            url=f"https://redirect-listener-service-uat.v2.pinepg.in/challenge?order={order_id}"
        )


def test_seamless_manual_capture_with_a_card(payhub_hub_factory: Any) -> None:
    hub, transport = payhub_hub_factory(config("plural.seamless"), FakePlural())
    hub.initiate(invoice(capture="manual", payment_method=card()))
    assert transport.requests[1].json()["pre_auth"] is True


def test_capture_cancel_refund_status_requests(payhub_hub_factory: Any) -> None:
    fake = FakePlural()
    full = fake.add_order(status="AUTHORIZED", pre_auth=True, value=5000)
    partial = fake.add_order(status="AUTHORIZED", pre_auth=True, value=5000)
    voided = fake.add_order(status="AUTHORIZED", pre_auth=True)
    hub, transport = hub_with_clock(payhub_hub_factory, fake)

    hub.capture(full)
    capture = transport.requests[-1]
    assert (capture.method, str(capture.url)) == (
        "PUT",
        f"{ROOT}/api/pay/v1/orders/{full}/capture",
    )
    check_headers(capture, token=f"{TOKEN_PREFIX}1", json_body=True)
    body = capture.json()
    assert list(body) == ["merchant_capture_reference"]
    assert REFERENCE.fullmatch(body["merchant_capture_reference"])

    hub.capture(partial, amount=Money("40.00", "INR"))
    body = transport.requests[-1].json()
    assert body["capture_amount"] == {"value": 4000, "currency": "INR"}
    assert body["merchant_capture_reference"] != capture.json()["merchant_capture_reference"]

    hub.cancel(voided)
    cancel = transport.requests[-1]
    assert (cancel.method, cancel.path) == ("PUT", f"/api/pay/v1/orders/{voided}/cancel")
    check_headers(cancel, token=f"{TOKEN_PREFIX}1", json_body=False)

    hub.refund(full, amount=Money("10.00", "INR"))
    lookup, refund = transport.requests[-2:]
    assert (lookup.method, lookup.path) == ("GET", f"/api/pay/v1/orders/{full}")
    assert (refund.method, str(refund.url)) == ("POST", f"{ROOT}/api/pay/v1/refunds/{full}")
    check_headers(refund, token=f"{TOKEN_PREFIX}1", json_body=True)
    body = refund.json()
    assert REFERENCE.fullmatch(body.pop("merchant_order_reference"))
    assert body == {"order_amount": {"value": 1000, "currency": "INR"}}

    hub.status(full)
    status = transport.requests[-1]
    assert (status.method, status.path) == ("GET", f"/api/pay/v1/orders/{full}")
    check_headers(status, token=f"{TOKEN_PREFIX}1", json_body=False)


@pytest.mark.parametrize(
    ("environment", "base_url", "root"),
    [
        ("uat", None, "https://pluraluat.v2.pinepg.in"),
        ("production", None, "https://api.pluralpay.in"),
        ("sandbox", None, "http://127.0.0.1:8808/plural"),
        ("production", "https://proxy.example/plural/", "https://proxy.example/plural"),
    ],
)
def test_roots(
    payhub_hub_factory: Any,
    monkeypatch: Any,
    environment: str,
    base_url: str | None,
    root: str,
) -> None:
    monkeypatch.delenv("PAYHUB_SANDBOX_URL", raising=False)
    fake = FakePlural()
    order_id = fake.add_order()
    hub, transport = payhub_hub_factory(config(environment=environment, base_url=base_url), fake)
    hub.status(order_id)
    assert [str(r.url) for r in transport.requests] == [
        f"{root}/api/auth/v1/token",
        f"{root}/api/pay/v1/orders/{order_id}",
    ]


# -- refused before sending -------------------------------------------------------------------


def refused(factory: Any, adapter: str, bad: Invoice, field: str) -> InvalidRequest:
    hub, transport = factory(config(adapter), FakePlural())
    with pytest.raises(InvalidRequest) as caught:
        hub.initiate(bad)
    assert caught.value.field == field
    assert caught.value.rule
    assert transport.requests == []
    return caught.value


@pytest.mark.parametrize("adapter", ["plural.checkout", "plural.seamless"])
@pytest.mark.parametrize(
    ("amount", "currency"),
    [("100", "JPY"), ("1.000", "KWD"), ("10.00", "USD")],
    ids=["0-decimals", "3-decimals", "2-decimals-not-INR"],
)
def test_other_currencies_are_refused(
    payhub_hub_factory: Any, adapter: str, amount: str, currency: str
) -> None:
    method = card() if adapter == "plural.seamless" else None
    bad = Invoice(number="INV-1", amount=Money(amount, currency), payment_method=method)
    error = refused(payhub_hub_factory, adapter, bad, "amount.currency")
    assert currency in error.message


@pytest.mark.parametrize("amount", ["0.99", "1000000.01", "0.01"])
def test_amount_limits(payhub_hub_factory: Any, amount: str) -> None:
    refused(payhub_hub_factory, "plural.checkout", invoice(amount=amount), "amount")


@given(st.integers(min_value=1, max_value=10**10))
def test_wire_amounts_are_paise_within_limits(paise: int) -> None:
    money = Money.from_minor(paise, "INR")
    if 100 <= paise <= 100_000_000:
        assert wire_amount(money) == {"value": paise, "currency": "INR"}
    else:
        with pytest.raises(InvalidRequest):
            wire_amount(money)


@given(st.text(max_size=60))
def test_references_are_checked(text: str) -> None:
    if re.fullmatch(r"[A-Za-z0-9_-]{1,50}", text):
        assert check_reference(text, "number") == text
    else:
        with pytest.raises(InvalidRequest):
            check_reference(text, "number")


@pytest.mark.parametrize("number", ["INV 1", "INV/1", "x" * 51, "ÄB", "INV.1"])
def test_invoice_numbers(payhub_hub_factory: Any, number: str) -> None:
    refused(payhub_hub_factory, "plural.checkout", invoice(number), "number")


@pytest.mark.parametrize(
    ("customer_fields", "field"),
    [
        ({"mobile": "+44 20 7946 0958"}, "customer.mobile"),
        ({"mobile": "98765"}, "customer.mobile"),
        ({"mobile": "+91 98765 4321x"}, "customer.mobile"),
        ({"first_name": "A" * 51}, "customer.first_name"),
        ({"last_name": "B" * 51}, "customer.last_name"),
        ({"email": "a" * 45 + "@example.in"}, "customer.email"),
    ],
)
def test_customer_limits(
    payhub_hub_factory: Any, customer_fields: dict[str, str], field: str
) -> None:
    bad = invoice(customer=Customer(**customer_fields))
    refused(payhub_hub_factory, "plural.checkout", bad, field)


@pytest.mark.parametrize(
    "metadata",
    [{f"k{i}": "v" for i in range(11)}, {"k": "v" * 257}, {"k" * 257: "v"}, {"": "v"}],
    ids=["11-pairs", "long-value", "long-key", "empty-key"],
)
def test_metadata_limits(payhub_hub_factory: Any, metadata: dict[str, str]) -> None:
    refused(payhub_hub_factory, "plural.checkout", invoice(metadata=metadata), "metadata")


@pytest.mark.parametrize(
    ("method", "field"),
    [
        (card(), "payment_method"),
        (Upi(vpa="a@b"), "payment_method"),
        ("bitcoin", "payment_method"),
        (" , ", "payment_method"),
    ],
)
def test_hosted_payment_method(payhub_hub_factory: Any, method: Any, field: str) -> None:
    error = refused(payhub_hub_factory, "plural.checkout", invoice(payment_method=method), field)
    assert CARD_NUMBER not in str(error)


@pytest.mark.parametrize(
    ("method", "capture", "field"),
    [
        (None, "automatic", "payment_method"),
        ("card", "automatic", "payment_method"),
        (Upi(mode="collect"), "automatic", "payment_method.vpa"),
        (Upi(mode="collect", vpa="not-a-vpa"), "automatic", "payment_method.vpa"),
        (Netbanking(bank_code="NB 1531"), "automatic", "payment_method.bank_code"),
        (Upi(mode="intent"), "manual", "capture"),
        (Netbanking(bank_code="NB1531"), "manual", "capture"),
        (card(holder_name="N" * 101), "automatic", "payment_method.holder_name"),
    ],
)
def test_seamless_payment_method(
    payhub_hub_factory: Any, method: Any, capture: str, field: str
) -> None:
    refused(
        payhub_hub_factory,
        "plural.seamless",
        invoice(payment_method=method, capture=capture),
        field,
    )


@pytest.mark.parametrize("reference", ["../v1-1", "v1 1", "", "v1-1?x=1", "x" * 51])
@pytest.mark.parametrize("operation", ["capture", "cancel", "refund", "status"])
def test_references_never_reach_a_path_unchecked(
    payhub_hub_factory: Any, reference: str, operation: str
) -> None:
    hub, transport = payhub_hub_factory(config(), FakePlural())
    with pytest.raises(InvalidRequest) as caught:
        getattr(hub, operation)(reference)
    assert caught.value.field == "reference"
    assert transport.requests == []


@pytest.mark.parametrize(
    ("amount", "field"),
    [(Money("5.00", "USD"), "amount.currency"), (Money("0.50", "INR"), "amount")],
)
@pytest.mark.parametrize("operation", ["capture", "refund"])
def test_capture_and_refund_amounts(
    payhub_hub_factory: Any, amount: Money, field: str, operation: str
) -> None:
    hub, transport = payhub_hub_factory(config(), FakePlural())
    with pytest.raises(InvalidRequest) as caught:
        getattr(hub, operation)("v1-1", amount=amount)
    assert caught.value.field == field
    assert transport.requests == []
