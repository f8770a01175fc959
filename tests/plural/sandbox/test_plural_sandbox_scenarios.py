"""Scenarios a developer triggers by the invoice number (merchant_order_reference prefix).

Webhook delivery scenarios (twice, out of order) and the real client timeout need a real
server: they are in test_plural_sandbox_live.py.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
from plural_sandbox_helpers import (
    PLURAL,
    Api,
    assert_error,
    card_payment,
    documented_signature,
    order_body,
    return_form,
)

from payhub_plural.sandbox import SCENARIOS, scenario_for

pytestmark = pytest.mark.anyio


def test_every_scenario_has_a_distinct_prefix() -> None:
    prefixes = [scenario.prefix for scenario in SCENARIOS]
    assert len(set(prefixes)) == len(prefixes)
    for scenario in SCENARIOS:
        assert scenario_for(f"{scenario.prefix}42") is scenario
    assert scenario_for("DEMO-plural-checkout-1a2b3c4d") is None
    assert scenario_for("decline-1") is None  # prefixes are case-sensitive


@pytest.mark.parametrize(
    ("reference", "code"),
    [("DECLINE-1", "PAYMENT_DECLINED"), ("NOFUNDS-1", "INSUFFICIENT_FUNDS")],
)
async def test_approve_fails_on_the_hosted_page(api: Api, reference: str, code: str) -> None:
    created = await api.hosted_order(reference)
    page, _form = await api.open_checkout(created["redirect_url"])
    assert reference in page.text
    form = return_form(await api.press(created["redirect_url"], "approve"))
    assert form.action.endswith("/failure")
    assert form.fields["status"] == "FAILED"
    assert form.fields["error_code"] == code
    assert form.fields["signature"] == documented_signature(form.fields)
    order = (await api.get(created["order_id"])).json()["data"]
    assert order["status"] == "FAILED"
    assert order["payments"][0]["error_detail"]["code"] == code
    assert [event["event_type"] for event in await api.webhooks()] == ["ORDER_FAILED"]


@pytest.mark.parametrize(
    ("reference", "code"),
    [("DECLINE-2", "PAYMENT_DECLINED"), ("NOFUNDS-2", "INSUFFICIENT_FUNDS")],
)
async def test_approve_fails_on_the_challenge(api: Api, reference: str, code: str) -> None:
    order = await api.seamless_pending(reference, pre_auth=True)
    form = return_form(await api.press(order["challenge_url"], "approve"))
    assert (form.fields["status"], form.fields["error_code"]) == ("FAILED", code)
    assert await api.status(order["order_id"]) == "FAILED"


@pytest.mark.parametrize("create", ["hosted", "seamless"])
async def test_gateway_error_on_create(api: Api, create: str) -> None:
    send = api.hosted if create == "hosted" else api.seamless
    response = await send(order_body("ERROR500-1"))
    assert response.json() == {"code": "INTERNAL_ERROR", "message": "Internal server error"}
    assert response.status_code == 500
    assert_error(await api.by_reference("ERROR500-1"), 404, "ORDER_NOT_FOUND")


@pytest.mark.parametrize("create", ["hosted", "seamless"])
async def test_rate_limit_on_create(api: Api, create: str) -> None:
    send = api.hosted if create == "hosted" else api.seamless
    response = await send(order_body("RATELIMIT-1"))
    assert_error(response, 429, "API_RATE_LIMIT")
    assert response.headers["retry-after"] == "1"
    assert_error(await api.by_reference("RATELIMIT-1"), 404, "ORDER_NOT_FOUND")


@pytest.mark.parametrize("create", ["hosted", "seamless"])
async def test_malformed_body_on_create(api: Api, create: str) -> None:
    send = api.hosted if create == "hosted" else api.seamless
    response = await send(order_body("MALFORMED-1"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert_error(await api.by_reference("MALFORMED-1"), 404, "ORDER_NOT_FOUND")


async def test_slow_answer_after_creating_the_order(api: Api) -> None:
    # Long enough that an unslowed call stays well below it on a loaded machine.
    await api.config(slow_seconds=1.5)
    started = time.monotonic()
    response = await api.seamless(order_body("SLOW-1"))
    assert time.monotonic() - started >= 1.5
    assert response.status_code == 200
    started = time.monotonic()
    found = await api.by_reference("SLOW-1")  # the order exists; asking about it is not slowed
    assert time.monotonic() - started < 1.5
    assert found.json()["data"]["order_id"] == response.json()["data"]["order_id"]


async def test_scenarios_leave_other_calls_alone(api: Api) -> None:
    """Only create order misbehaves: payments, Get Order and refunds answer normally."""
    for prefix in ("ERROR500-", "RATELIMIT-", "MALFORMED-"):
        await api.seamless(order_body(f"{prefix}2"))
    created = (await api.seamless(order_body("DUPWEBHOOK-9"))).json()["data"]
    paid = await api.pay(created["order_id"], card_payment())
    assert paid.status_code == 200


async def test_token_expiry_scenario(api: Api) -> None:
    response = await api.seamless(order_body("EXPIRETOKEN-7"))
    assert response.status_code == 401
    assert response.json() == {"code": "UNAUTHORIZED", "message": "Unauthorized"}
    await api.login()
    assert (await api.seamless(order_body("EXPIRETOKEN-7"))).status_code == 200


async def test_sandbox_info_documents_every_scenario(client: httpx.AsyncClient) -> None:
    info = (await client.get(f"{PLURAL}/_sandbox")).json()
    listed = {item["name"]: item for item in info["scenarios"]}
    assert set(listed) == {
        "decline",
        "insufficient_funds",
        "gateway_error",
        "slow",
        "malformed",
        "rate_limit",
        "webhook_twice",
        "webhooks_out_of_order",
        "token_expiry",
    }
    for scenario in SCENARIOS:
        assert listed[scenario.name]["prefix"] == scenario.prefix
        assert listed[scenario.name]["effect"] == scenario.effect
        assert scenario.prefix in listed[scenario.name]["trigger"]
