"""Create Order (seamless), Generate Checkout Link (hosted), Get Order."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from plural_sandbox_helpers import MERCHANT, PLURAL, Api, assert_error, order_body, query_token

from payhub_plural.sandbox import MERCHANT_ID
from payhub_plural.sandbox._validation import PluralError, order_request

pytestmark = pytest.mark.anyio

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
ORDER_ID = re.compile(r"v1-\d{10}-aa-[A-Za-z0-9]{6}")


async def test_hosted_order_answers_a_checkout_link(api: Api) -> None:
    response = await api.hosted(order_body("INV-1001"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "order_id", "redirect_url", "response_code", "response_message"}
    assert body["response_code"] == 200
    assert body["response_message"] == "Order Creation Successful."
    assert ORDER_ID.fullmatch(body["order_id"])
    assert body["redirect_url"].startswith(f"{PLURAL}/checkout/")
    assert query_token(body["redirect_url"]) == body["token"]
    order = (await api.get(body["order_id"])).json()["data"]
    assert order["status"] == "CREATED"
    assert order["integration_mode"] == "REDIRECT"
    assert order["payments"] == []


async def test_seamless_order_is_created(api: Api) -> None:
    details = {
        "customer": {
            "email_id": "asha@example.in",
            "first_name": "Asha",
            "mobile_number": "9876543210",
            "country_code": "91",
            "billing_address": {"address1": "1 MG Road", "pincode": "560001", "city": "Bengaluru"},
        },
        "merchant_metadata": {"cart": "42"},
    }
    response = await api.seamless(
        order_body("INV-1002", 2500, pre_auth=True, notes="hi", purchase_details=details)
    )
    assert response.status_code == 200
    order = response.json()["data"]
    assert ORDER_ID.fullmatch(order["order_id"])
    assert order["merchant_order_reference"] == "INV-1002"
    assert order["type"] == "CHARGE"
    assert order["status"] == "CREATED"
    assert order["merchant_id"] == MERCHANT_ID
    assert order["order_amount"] == {"value": 2500, "currency": "INR"}
    assert order["pre_auth"] is True
    assert order["payments"] == []
    assert order["purchase_details"] == details
    assert order["callback_url"] == f"{MERCHANT}/return"
    assert order["failure_callback_url"] == f"{MERCHANT}/failure"
    assert order["integration_mode"] == "SEAMLESS"
    assert "challenge_url" not in order  # only once a payment is linked
    assert ISO.fullmatch(order["created_at"])
    assert ISO.fullmatch(order["updated_at"])


@pytest.mark.parametrize("create", ["hosted", "seamless"])
async def test_same_reference_returns_the_existing_order(api: Api, create: str) -> None:
    send = api.hosted if create == "hosted" else api.seamless
    first = (await send(order_body("INV-SAME"))).json()
    second = await send(order_body("INV-SAME"))
    assert second.status_code == 200
    assert second.json() == first
    other = await send(order_body("INV-SAME", 2000))  # the key reused for another order
    assert_error(other, 422, "DUPLICATE_REQUEST")


async def test_hosted_and_seamless_share_references(api: Api) -> None:
    seamless = (await api.seamless(order_body("INV-BOTH"))).json()["data"]
    hosted = (await api.hosted(order_body("INV-BOTH"))).json()
    assert hosted["order_id"] == seamless["order_id"]


async def test_numeric_reference_is_taken_as_text(api: Api) -> None:
    body = order_body("x")
    body["merchant_order_reference"] = 112345
    response = await api.seamless(body)
    assert response.json()["data"]["merchant_order_reference"] == "112345"


async def test_get_order_by_id_and_by_reference(api: Api) -> None:
    created = (await api.seamless(order_body("INV-GET"))).json()["data"]
    by_id = await api.get(created["order_id"])
    by_reference = await api.by_reference("INV-GET")
    assert by_id.status_code == by_reference.status_code == 200
    assert by_id.json() == by_reference.json() == {"data": created}


async def test_unknown_orders_are_404(api: Api) -> None:
    assert_error(await api.get("v1-1234567890-aa-abcdef"), 404, "ORDER_NOT_FOUND")
    assert_error(await api.by_reference("NOPE"), 404, "ORDER_NOT_FOUND")


def _without(key: str) -> dict[str, Any]:
    body = order_body("INV-1")
    del body[key]
    return body


BAD_ORDERS: list[tuple[str, dict[str, Any] | list[int]]] = [
    ("no reference", _without("merchant_order_reference")),
    ("empty reference", order_body("")),
    ("long reference", order_body("x" * 51)),
    ("space in reference", order_body("INV 1")),
    ("hash in reference", order_body("INV#1")),
    ("no amount", _without("order_amount")),
    ("amount not object", {**order_body("INV-1"), "order_amount": 1100}),
    ("below 100", order_body("INV-1", 99)),
    ("above max", order_body("INV-1", 100_000_001)),
    ("float", {**order_body("INV-1"), "order_amount": {"value": 1100.5, "currency": "INR"}}),
    ("text", {**order_body("INV-1"), "order_amount": {"value": "1100", "currency": "INR"}}),
    ("bool", {**order_body("INV-1"), "order_amount": {"value": True, "currency": "INR"}}),
    ("no currency", {**order_body("INV-1"), "order_amount": {"value": 1100}}),
    ("USD", {**order_body("INV-1"), "order_amount": {"value": 1100, "currency": "USD"}}),
    ("lower inr", {**order_body("INV-1"), "order_amount": {"value": 1100, "currency": "inr"}}),
    ("pre_auth text", order_body("INV-1", pre_auth="yes")),
    ("ftp callback", order_body("INV-1", callback_url="ftp://x/y")),
    ("relative failure", order_body("INV-1", failure_callback_url="/fail")),
    ("bad method", order_body("INV-1", allowed_payment_methods=["CASH"])),
    ("no methods", order_body("INV-1", allowed_payment_methods=[])),
    ("notes number", order_body("INV-1", notes=5)),
    ("details list", order_body("INV-1", purchase_details=[])),
    (
        "long email",
        order_body("INV-1", purchase_details={"customer": {"email_id": "a" * 45 + "@x.com"}}),
    ),
    ("bad email", order_body("INV-1", purchase_details={"customer": {"email_id": "nobody"}})),
    ("bad mobile", order_body("INV-1", purchase_details={"customer": {"mobile_number": "98x"}})),
    (
        "bad pincode",
        order_body(
            "INV-1",
            purchase_details={"customer": {"billing_address": {"pincode": "12"}}},
        ),
    ),
    (
        "11 metadata pairs",
        order_body(
            "INV-1",
            purchase_details={"merchant_metadata": {f"k{i}": "v" for i in range(11)}},
        ),
    ),
    (
        "long metadata",
        order_body("INV-1", purchase_details={"merchant_metadata": {"k": "v" * 257}}),
    ),
    ("not an object", [1, 2]),
]


@pytest.mark.parametrize("create", ["hosted", "seamless"])
@pytest.mark.parametrize(("case", "body"), BAD_ORDERS, ids=[case for case, _ in BAD_ORDERS])
async def test_invalid_orders_are_400(api: Api, create: str, case: str, body: Any) -> None:
    send = api.hosted if create == "hosted" else api.seamless
    assert_error(await send(body), 400, "INVALID_REQUEST")
    assert_error(await api.by_reference("INV-1"), 404, "ORDER_NOT_FOUND")


async def test_missing_reference_message_is_plurals(api: Api) -> None:
    body = assert_error(
        await api.seamless(_without("merchant_order_reference")), 400, "INVALID_REQUEST"
    )
    assert body["message"] == "Merchant Order Reference must not be empty"


async def test_integration_mode_is_checked_on_hosted_orders(api: Api) -> None:
    assert_error(
        await api.hosted(order_body("INV-1", integration_mode="POPUP")), 400, "INVALID_REQUEST"
    )
    response = await api.hosted(order_body("INV-2", integration_mode="IFRAME"))
    order = (await api.get(response.json()["order_id"])).json()["data"]
    assert order["integration_mode"] == "IFRAME"


async def test_body_that_is_not_json_is_400(api: Api) -> None:
    response = await api.client.post(
        f"{PLURAL}/api/pay/v1/orders", content=b"{not json", headers=api.auth
    )
    assert_error(response, 400, "INVALID_REQUEST")


@given(st.text(max_size=60))
def test_reference_rule(reference: str) -> None:
    valid = 1 <= len(reference) <= 50 and all(
        c.isascii() and (c.isalnum() or c in "-_") for c in reference
    )
    if valid:
        assert order_request(order_body(reference), hosted=False).reference == reference
    else:
        with pytest.raises(PluralError) as raised:
            order_request(order_body(reference), hosted=False)
        assert (raised.value.status, raised.value.code) == (400, "INVALID_REQUEST")


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_amount_rule(value: int) -> None:
    if 100 <= value <= 100_000_000:
        assert order_request(order_body("INV-1", value), hosted=True).amount.value == value
    else:
        with pytest.raises(PluralError, match="between 100 and 100000000"):
            order_request(order_body("INV-1", value), hosted=True)
