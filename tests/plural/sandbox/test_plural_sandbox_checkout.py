"""The hosted checkout page and the signed return it sends the browser back with."""

from __future__ import annotations

import pytest
from plural_sandbox_helpers import (
    MERCHANT,
    PLURAL,
    Api,
    documented_signature,
    event_body,
    forms,
    order_body,
    return_form,
)

from payhub_core.signing import verify_webhook, webhook_key
from payhub_plural.sandbox import CLIENT_SECRET, MERCHANT_ID

pytestmark = pytest.mark.anyio


async def test_checkout_page_shows_the_order_and_three_buttons(api: Api) -> None:
    created = await api.hosted_order("INV-HC1", value=149900, pre_auth=True)
    page, form = await api.open_checkout(created["redirect_url"])
    assert "text/html" in page.headers["content-type"]
    assert form.buttons == [
        ("decision", "approve", "Approve"),
        ("decision", "decline", "Decline"),
        ("decision", "cancel", "Cancel"),
    ]
    assert form.action == f"{PLURAL}/checkout/redirect"
    assert form.fields == {"token": created["token"]}
    for shown in ("₹1,499.00", "INV-HC1", created["order_id"], "payhub Sandbox Store", "pre-auth"):
        assert shown in page.text


@pytest.mark.parametrize(
    ("pre_auth", "decision", "status", "target", "error"),
    [
        (False, "approve", "PROCESSED", "return", None),
        (True, "approve", "AUTHORIZED", "return", None),
        (False, "decline", "FAILED", "failure", "USER_AUTHENTICATION_FAILED"),
        (False, "cancel", "CANCELLED", "failure", "ORDER_CANCELLED"),
    ],
)
async def test_decisions_return_a_signed_form(
    api: Api, pre_auth: bool, decision: str, status: str, target: str, error: str | None
) -> None:
    created = await api.hosted_order("INV-HC2", pre_auth=pre_auth)
    form = return_form(await api.press(created["redirect_url"], decision))
    assert form.action == f"{MERCHANT}/{target}"
    expected = {"order_id": created["order_id"], "status": status}
    if error is not None:
        assert set(form.fields) == {*expected, "error_code", "error_message", "signature"}
        assert form.fields["error_code"] == error
        assert form.fields["error_message"]
    else:
        assert set(form.fields) == {*expected, "signature"}
    assert {key: form.fields[key] for key in expected} == expected
    assert form.fields["signature"] == documented_signature(form.fields)
    assert form.fields["signature"].isupper()

    order = (await api.get(created["order_id"])).json()["data"]
    assert order["status"] == status
    if decision == "cancel":
        assert order["payments"] == []
    else:
        (payment,) = order["payments"]
        assert payment["status"] == status
        assert payment["payment_method"] == "CARD"
        if error is None:
            assert set(payment["acquirer_data"]) >= {"approval_code", "rrn"}
        else:
            assert payment["error_detail"]["code"] == error


async def test_decision_sends_a_signed_webhook(api: Api) -> None:
    created = await api.hosted_order("INV-HC3")
    return_form(await api.press(created["redirect_url"], "approve"))
    (event,) = await api.webhooks()
    assert event["url"] is None  # no webhook URL configured: signed, logged, not sent
    headers = event["headers"]
    assert headers["webhook-id"].startswith("msg_")
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json"
    message = verify_webhook(webhook_key(CLIENT_SECRET), headers, event["body"].encode())
    assert message.id == headers["webhook-id"]
    body = event_body(event)
    assert body["event_type"] == "ORDER_PROCESSED"
    data = body["data"]
    assert data["order_id"] == created["order_id"]
    assert data["merchant_order_reference"] == "INV-HC3"
    assert data["merchant_id"] == MERCHANT_ID
    assert data["status"] == "PROCESSED"


async def test_failure_goes_to_callback_url_without_failure_callback_url(api: Api) -> None:
    body = order_body("INV-HC4")
    del body["failure_callback_url"]
    created = (await api.hosted(body)).json()
    form = return_form(await api.press(created["redirect_url"], "decline"))
    assert form.action == f"{MERCHANT}/return"
    assert form.fields["status"] == "FAILED"


async def test_without_callback_url_the_fields_are_shown(api: Api) -> None:
    body = order_body("INV-HC5")
    del body["failure_callback_url"], body["callback_url"]
    created = (await api.hosted(body)).json()
    response = await api.press(created["redirect_url"], "approve")
    assert response.status_code == 200
    assert forms(response.text) == []
    assert created["order_id"] in response.text
    assert "PROCESSED" in response.text


async def test_checkout_link_works_once(api: Api) -> None:
    created = await api.hosted_order("INV-HC6")
    return_form(await api.press(created["redirect_url"], "cancel"))
    assert (await api.client.get(created["redirect_url"])).status_code == 409
    again = await api.client.post(
        f"{PLURAL}/checkout/redirect", data={"token": created["token"], "decision": "approve"}
    )
    assert again.status_code == 409
    assert await api.status(created["order_id"]) == "CANCELLED"
    assert len(await api.webhooks()) == 1


async def test_unknown_links_and_decisions(api: Api) -> None:
    missing = await api.client.get(f"{PLURAL}/checkout/redirect?token=nope")
    assert missing.status_code == 404
    assert (await api.client.get(f"{PLURAL}/checkout/redirect")).status_code == 404
    created = await api.hosted_order("INV-HC7")
    bad = await api.client.post(
        f"{PLURAL}/checkout/redirect", data={"token": created["token"], "decision": "maybe"}
    )
    assert bad.status_code == 400
    assert await api.status(created["order_id"]) == "CREATED"
