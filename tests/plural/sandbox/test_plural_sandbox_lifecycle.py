"""The order state machine: capture, cancel and refunds, and what they refuse."""

from __future__ import annotations

from typing import Any

import pytest
from plural_sandbox_helpers import Api, assert_error, event_body, return_form

from payhub_core.signing import verify_webhook, webhook_key
from payhub_plural.sandbox import CLIENT_SECRET

pytestmark = pytest.mark.anyio


def inr(value: int) -> dict[str, Any]:
    return {"value": value, "currency": "INR"}


async def _authorized(api: Api, reference: str = "INV-L1", value: int = 1100) -> str:
    return await api.approved(reference, value=value, pre_auth=True)


async def _refund(api: Api, order_id: str, reference: str, value: int | None = None) -> Any:
    body: dict[str, Any] = {"merchant_order_reference": reference}
    if value is not None:
        body["order_amount"] = inr(value)
    return await api.refund(order_id, body)


async def _events(api: Api) -> list[str]:
    return [event["event_type"] for event in await api.webhooks()]


# -- capture ------------------------------------------------------------------------------


async def test_full_capture(api: Api) -> None:
    order_id = await _authorized(api)
    response = await api.capture(order_id, {"merchant_capture_reference": "cap-1"})
    assert response.status_code == 200, response.text
    order = response.json()["data"]
    assert order["status"] == "PROCESSED"
    (payment,) = order["payments"]
    assert payment["status"] == "PROCESSED"
    (capture,) = payment["capture_data"]
    assert capture["merchant_capture_reference"] == "cap-1"
    assert capture["capture_amount"] == inr(1100)
    assert await _events(api) == ["ORDER_AUTHORIZED", "ORDER_PROCESSED"]
    last = (await api.webhooks())[-1]
    verify_webhook(webhook_key(CLIENT_SECRET), last["headers"], last["body"].encode())


async def test_one_partial_capture_only(api: Api) -> None:
    order_id = await _authorized(api)
    partial = await api.capture(
        order_id, {"merchant_capture_reference": "cap-1", "capture_amount": inr(400)}
    )
    assert partial.json()["data"]["status"] == "PROCESSED"
    second = await api.capture(
        order_id, {"merchant_capture_reference": "cap-2", "capture_amount": inr(300)}
    )
    assert_error(second, 422, "OPERATION_NOT_ALLOWED")
    repeat = await api.capture(
        order_id, {"merchant_capture_reference": "cap-1", "capture_amount": inr(400)}
    )
    assert repeat.status_code == 200  # the same capture again changes nothing
    assert repeat.json() == (await api.get(order_id)).json()
    # only what was captured can be refunded
    too_much = await api.refund(
        order_id, {"merchant_order_reference": "R-1", "order_amount": inr(401)}
    )
    assert_error(too_much, 422, "AMOUNT_LIMIT_EXCEEDED")
    full = await _refund(api, order_id, "R-2")
    assert full.json()["data"]["order_amount"] == inr(400)
    assert await api.status(order_id) == "FULLY_REFUNDED"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "INVALID_REQUEST"),
        ({"merchant_capture_reference": ""}, 400, "INVALID_REQUEST"),
        ({"merchant_capture_reference": "c" * 51}, 400, "INVALID_REQUEST"),
        ({"merchant_capture_reference": "c", "capture_amount": inr(99)}, 400, "INVALID_REQUEST"),
        (
            {
                "merchant_capture_reference": "c",
                "capture_amount": {"value": 500, "currency": "USD"},
            },
            400,
            "INVALID_REQUEST",
        ),
        (
            {"merchant_capture_reference": "c", "capture_amount": inr(1101)},
            422,
            "AMOUNT_LIMIT_EXCEEDED",
        ),
    ],
)
async def test_capture_validation(api: Api, body: dict[str, Any], status: int, code: str) -> None:
    order_id = await _authorized(api)
    assert_error(await api.capture(order_id, body), status, code)
    assert await api.status(order_id) == "AUTHORIZED"


async def test_capture_needs_an_authorized_pre_auth_order(api: Api) -> None:
    body = {"merchant_capture_reference": "cap"}
    paid = await api.approved("INV-L2")  # automatic capture: PROCESSED already
    assert_error(await api.capture(paid, body), 422, "OPERATION_NOT_ALLOWED")
    created = (await api.hosted_order("INV-L3", pre_auth=True))["order_id"]
    assert_error(await api.capture(created, body), 422, "OPERATION_NOT_ALLOWED")
    pending = (await api.seamless_pending("INV-L4", pre_auth=True))["order_id"]
    assert_error(await api.capture(pending, body), 422, "OPERATION_NOT_ALLOWED")
    declined = await api.hosted_order("INV-L5", pre_auth=True)
    return_form(await api.press(declined["redirect_url"], "decline"))
    assert_error(await api.capture(declined["order_id"], body), 422, "OPERATION_NOT_ALLOWED")
    assert_error(await api.capture("v1-1234567890-aa-abcdef", body), 404, "ORDER_NOT_FOUND")


# -- cancel -------------------------------------------------------------------------------


async def test_cancel_an_authorization(api: Api) -> None:
    order_id = await _authorized(api)
    response = await api.cancel(order_id)
    assert response.status_code == 200
    order = response.json()["data"]
    assert order["status"] == "CANCELLED"
    assert order["payments"][0]["status"] == "CANCELLED"
    assert await _events(api) == ["ORDER_AUTHORIZED", "ORDER_CANCELLED"]
    assert_error(await api.cancel(order_id), 422, "ORDER_CANCELLED")
    capture = await api.capture(order_id, {"merchant_capture_reference": "cap"})
    assert_error(capture, 422, "OPERATION_NOT_ALLOWED")
    assert_error(
        await _refund(api, order_id, "R-1"),
        422,
        "OPERATION_NOT_ALLOWED",
    )


async def test_cancel_needs_an_authorized_pre_auth_order(api: Api) -> None:
    paid = await api.approved("INV-L6")
    assert_error(await api.cancel(paid), 422, "OPERATION_NOT_ALLOWED")
    captured = await _authorized(api, "INV-L7")
    await api.capture(captured, {"merchant_capture_reference": "cap"})
    assert_error(await api.cancel(captured), 422, "OPERATION_NOT_ALLOWED")
    created = (await api.hosted_order("INV-L8", pre_auth=True))["order_id"]
    assert_error(await api.cancel(created), 422, "OPERATION_NOT_ALLOWED")
    assert_error(await api.cancel("v1-1234567890-aa-abcdef"), 404, "ORDER_NOT_FOUND")


# -- refunds ------------------------------------------------------------------------------


async def test_partial_then_full_refund(api: Api) -> None:
    order_id = await api.approved("INV-L9", value=10000)
    first = await api.refund(
        order_id,
        {
            "merchant_order_reference": "RF-1",
            "order_amount": inr(2500),
            "merchant_metadata": {"reason": "damaged"},
        },
    )
    assert first.status_code == 200, first.text
    refund = first.json()["data"]
    assert refund["parent_order_id"] == order_id
    assert refund["type"] == "REFUND"
    assert refund["status"] == "PROCESSED"
    assert refund["merchant_order_reference"] == "RF-1"
    assert refund["order_amount"] == inr(2500)
    assert refund["order_id"] != order_id
    assert refund["payments"][0]["status"] == "PROCESSED"
    parent = (await api.get(order_id)).json()["data"]
    assert parent["status"] == "PARTIALLY_REFUNDED"
    assert [item["order_id"] for item in parent["refunds"]] == [refund["order_id"]]

    too_much = await api.refund(
        order_id, {"merchant_order_reference": "RF-2", "order_amount": inr(7501)}
    )
    assert_error(too_much, 422, "AMOUNT_LIMIT_EXCEEDED")
    rest = await api.refund(
        order_id, {"merchant_order_reference": "RF-3", "order_amount": inr(7500)}
    )
    assert rest.status_code == 200
    assert await api.status(order_id) == "FULLY_REFUNDED"
    after = await api.refund(
        order_id, {"merchant_order_reference": "RF-4", "order_amount": inr(100)}
    )
    assert_error(after, 422, "OPERATION_NOT_ALLOWED")

    # refunds are orders: found by id and by their own reference
    by_reference = (await api.by_reference("RF-1")).json()["data"]
    assert by_reference == (await api.get(refund["order_id"])).json()["data"]
    events = await api.webhooks()
    assert [event["event_type"] for event in events] == [
        "ORDER_PROCESSED",
        "REFUND_PROCESSED",
        "REFUND_PROCESSED",
    ]
    data = event_body(events[1])["data"]
    assert data["type"] == "REFUND"
    assert data["parent_order_id"] == order_id


async def test_refund_without_amount_refunds_the_rest(api: Api) -> None:
    order_id = await api.approved("INV-L10", value=5000)
    await _refund(api, order_id, "RF-1", 1000)
    rest = await _refund(api, order_id, "RF-2")
    assert rest.json()["data"]["order_amount"] == inr(4000)
    assert await api.status(order_id) == "FULLY_REFUNDED"


async def test_refund_reference_is_an_idempotency_key(api: Api) -> None:
    order_id = await api.approved("INV-L11", value=5000)
    body = {"merchant_order_reference": "RF-1", "order_amount": inr(1000)}
    first = (await api.refund(order_id, body)).json()
    assert (await api.refund(order_id, body)).json() == first
    parent = (await api.get(order_id)).json()["data"]
    assert len(parent["refunds"]) == 1
    other_amount = await api.refund(order_id, {**body, "order_amount": inr(2000)})
    assert_error(other_amount, 422, "DUPLICATE_REQUEST")
    charge_reference = await _refund(api, order_id, "INV-L11")
    assert_error(charge_reference, 422, "DUPLICATE_REQUEST")
    refund_of_refund = await api.refund(
        first["data"]["order_id"], {"merchant_order_reference": "RF-9"}
    )
    assert_error(refund_of_refund, 422, "OPERATION_NOT_ALLOWED")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"merchant_order_reference": ""},
        {"merchant_order_reference": "bad ref"},
        {"merchant_order_reference": "RF-1", "order_amount": inr(99)},
        {"merchant_order_reference": "RF-1", "order_amount": {"value": 100, "currency": "USD"}},
        {"merchant_order_reference": "RF-1", "order_amount": inr(100), "merchant_metadata": []},
    ],
)
async def test_refund_validation(api: Api, body: dict[str, Any]) -> None:
    order_id = await api.approved("INV-L12")
    assert_error(await api.refund(order_id, body), 400, "INVALID_REQUEST")
    assert await api.status(order_id) == "PROCESSED"


async def test_refund_needs_a_processed_order(api: Api) -> None:
    body = {"merchant_order_reference": "RF-1"}
    created = (await api.hosted_order("INV-L13"))["order_id"]
    assert_error(await api.refund(created, body), 422, "OPERATION_NOT_ALLOWED")
    authorized = await _authorized(api, "INV-L14")
    assert_error(await api.refund(authorized, body), 422, "OPERATION_NOT_ALLOWED")
    failed = await api.hosted_order("INV-L15")
    return_form(await api.press(failed["redirect_url"], "decline"))
    assert_error(await api.refund(failed["order_id"], body), 422, "OPERATION_NOT_ALLOWED")
    assert_error(await api.refund("v1-1234567890-aa-abcdef", body), 404, "ORDER_NOT_FOUND")


async def test_refunds_never_exceed_what_was_paid(api: Api) -> None:
    order_id = await api.approved("INV-L16", value=1000)
    accepted = 0
    for index, value in enumerate([300, 300, 300, 300, 100, 100]):
        response = await _refund(api, order_id, f"RF-{index}", value)
        if accepted == 1000:
            assert_error(response, 422, "OPERATION_NOT_ALLOWED")  # FULLY_REFUNDED
        elif accepted + value <= 1000:
            assert response.status_code == 200, response.text
            accepted += value
        else:
            assert_error(response, 422, "AMOUNT_LIMIT_EXCEEDED")
    assert accepted == 1000
    assert await api.status(order_id) == "FULLY_REFUNDED"
