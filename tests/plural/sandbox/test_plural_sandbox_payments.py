"""Create Payment (seamless) and the challenge page that decides it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from plural_sandbox_helpers import (
    CARD_OPTION,
    MERCHANT,
    PLURAL,
    Api,
    assert_error,
    card_payment,
    documented_signature,
    event_body,
    forms,
    order_body,
    return_form,
)

from payhub_core.signing import verify_webhook, webhook_key
from payhub_plural.sandbox import CLIENT_SECRET

pytestmark = pytest.mark.anyio


async def _order(api: Api, reference: str = "INV-P1", **extra: Any) -> str:
    response = await api.seamless(order_body(reference, **extra))
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["order_id"])


async def test_card_payment_links_a_challenge(api: Api) -> None:
    order_id = await _order(api)
    response = await api.pay(order_id, card_payment())
    assert response.status_code == 200, response.text
    assert "4012001037141112" not in response.text  # the card number never comes back
    order = response.json()["data"]
    assert order["status"] == "PENDING"
    assert order["challenge_url"].startswith(f"{PLURAL}/challenge/")
    (payment,) = order["payments"]
    assert payment["id"].startswith(f"{order_id}-cc-")
    assert payment["merchant_payment_reference"] == "pay-1"
    assert payment["status"] == "PENDING"
    assert payment["payment_amount"] == {"value": 1100, "currency": "INR"}
    assert payment["payment_method"] == "CARD"
    card = payment["payment_option"]["card_data"]
    assert card["network_name"] == "VISA"
    assert card["last4_digit"] == "1112"
    assert (await api.get(order_id)).json()["data"] == order


@pytest.mark.parametrize(
    ("method", "option", "shown"),
    [
        (
            "UPI",
            {"upi_details": {"txn_mode": "COLLECT", "payer": {"vpa": "success@upi"}}},
            {"upi_data": {"txn_mode": "COLLECT", "payer": {"vpa": "success@upi"}}},
        ),
        ("UPI", {"upi_details": {"txn_mode": "INTENT"}}, {"upi_data": {"txn_mode": "INTENT"}}),
        (
            "NETBANKING",
            {"netbanking_details": {"pay_code": "NB1531"}},
            {"netbanking_data": {"pay_code": "NB1531", "txn_mode": "REDIRECT"}},
        ),
        (
            "CARD",
            {
                "card_token_details": {
                    "token": "tok_123",
                    "token_txn_type": "ALT_TOKEN",
                    "expiry_month": "01",
                    "expiry_year": "2099",
                    "last4_digit": "4242",
                }
            },
            None,
        ),
    ],
)
async def test_other_payment_options(
    api: Api, method: str, option: dict[str, Any], shown: dict[str, Any] | None
) -> None:
    order_id = await _order(api)
    body = card_payment()
    body["payments"][0]["payment_method"] = method
    body["payments"][0]["payment_option"] = option
    response = await api.pay(order_id, body)
    assert response.status_code == 200, response.text
    (payment,) = response.json()["data"]["payments"]
    if shown is not None:
        assert payment["payment_option"] == shown
    else:
        assert payment["payment_option"]["card_data"]["token_txn_type"] == "ALT_TOKEN"
        assert payment["payment_option"]["card_data"]["last4_digit"] == "4242"


def _card(**changes: Any) -> dict[str, Any]:
    option = copy.deepcopy(CARD_OPTION)
    option["card_details"].update(changes)
    return card_payment(option=option)


def _item(**changes: Any) -> dict[str, Any]:
    body = card_payment()
    body["payments"][0].update(changes)
    for key, value in changes.items():
        if value is None:
            del body["payments"][0][key]
    return body


BAD_PAYMENTS: list[tuple[str, Any]] = [
    ("no payments", {}),
    ("empty payments", {"payments": []}),
    ("two payments", {"payments": card_payment()["payments"] * 2}),
    ("item not object", {"payments": ["x"]}),
    ("no reference", _item(merchant_payment_reference=None)),
    ("long reference", _item(merchant_payment_reference="r" * 51)),
    ("no amount", _item(payment_amount=None)),
    ("amount mismatch", card_payment(value=1000)),
    ("no method", _item(payment_method=None)),
    ("unknown method", _item(payment_method="CASH")),
    ("no option", _item(payment_option=None)),
    ("no card details", _item(payment_option={})),
    ("bad luhn", _card(card_number="4012001037141113")),
    ("short number", _card(card_number="40120010")),
    ("letters", _card(card_number="4012abcd37141112")),
    ("short cvv", _card(cvv="12")),
    ("no cvv", _card(cvv=None)),
    ("month 13", _card(expiry_month="13")),
    ("month 1", _card(expiry_month="1")),
    ("year 30", _card(expiry_year="30")),
    ("year number", _card(expiry_year=2030)),
    (
        "bad token type",
        card_payment(
            option={
                "card_token_details": {
                    "token": "t",
                    "token_txn_type": "MAGIC",
                    "expiry_month": "01",
                    "expiry_year": "2099",
                }
            }
        ),
    ),
    (
        "upi bad mode",
        _item(payment_method="UPI", payment_option={"upi_details": {"txn_mode": "PUSH"}}),
    ),
    (
        "upi no vpa",
        _item(payment_method="UPI", payment_option={"upi_details": {"txn_mode": "COLLECT"}}),
    ),
    (
        "upi bad vpa",
        _item(
            payment_method="UPI",
            payment_option={"upi_details": {"txn_mode": "COLLECT", "payer": {"vpa": "no-at"}}},
        ),
    ),
    ("nb no code", _item(payment_method="NETBANKING", payment_option={"netbanking_details": {}})),
]


@pytest.mark.parametrize(("case", "body"), BAD_PAYMENTS, ids=[case for case, _ in BAD_PAYMENTS])
async def test_invalid_payments_are_400(api: Api, case: str, body: Any) -> None:
    order_id = await _order(api)
    assert_error(await api.pay(order_id, body), 400, "INVALID_REQUEST")
    assert await api.status(order_id) == "CREATED"


async def test_expired_card_is_422(api: Api) -> None:
    order_id = await _order(api)
    response = await api.pay(order_id, _card(expiry_month="01", expiry_year="2020"))
    assert_error(response, 422, "CARD_EXPIRED")


async def test_methods_the_sandbox_does_not_enable_are_422(api: Api) -> None:
    order_id = await _order(api)
    body = _item(payment_method="WALLET", payment_option={"wallet_details": {"wallet_code": "X"}})
    assert_error(await api.pay(order_id, body), 422, "PAYMENT_METHOD_NOT_ENABLED")


async def test_allowed_payment_methods_are_enforced(api: Api) -> None:
    order_id = await _order(api, allowed_payment_methods=["UPI"])
    assert_error(await api.pay(order_id, card_payment()), 422, "PAYMENT_METHOD_NOT_ENABLED")


async def test_pre_auth_takes_cards_only(api: Api) -> None:
    order_id = await _order(api, pre_auth=True)
    body = _item(
        payment_method="NETBANKING", payment_option={"netbanking_details": {"pay_code": "NB1531"}}
    )
    assert_error(await api.pay(order_id, body), 422, "PAYMENT_METHOD_NOT_ENABLED")


async def test_payment_reference_is_idempotent_and_one_payment_at_a_time(api: Api) -> None:
    order_id = await _order(api)
    first = (await api.pay(order_id, card_payment())).json()
    again = await api.pay(order_id, card_payment())
    assert again.json() == first
    other = await api.pay(order_id, card_payment(reference="pay-2"))
    assert_error(other, 422, "OPERATION_NOT_ALLOWED")


async def test_payment_on_unknown_order_is_404(api: Api) -> None:
    assert_error(await api.pay("v1-1234567890-aa-abcdef", card_payment()), 404, "ORDER_NOT_FOUND")


async def test_challenge_page_has_the_three_buttons(api: Api) -> None:
    order = await api.seamless_pending("INV-CH1", value=250050)
    page = await api.client.get(order["challenge_url"])
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    (form,) = forms(page.text)
    assert form.method.lower() == "post"
    assert form.buttons == [
        ("decision", "approve", "Approve"),
        ("decision", "decline", "Decline"),
        ("decision", "cancel", "Cancel"),
    ]
    assert "₹2,500.50" in page.text
    assert "INV-CH1" in page.text
    assert "Card ending 1112" in page.text


@pytest.mark.parametrize(
    ("pre_auth", "decision", "status", "target", "error"),
    [
        (False, "approve", "PROCESSED", "return", None),
        (True, "approve", "AUTHORIZED", "return", None),
        (False, "decline", "FAILED", "failure", "USER_AUTHENTICATION_FAILED"),
        (True, "cancel", "CANCELLED", "failure", "ORDER_CANCELLED"),
    ],
)
async def test_challenge_decisions(
    api: Api, pre_auth: bool, decision: str, status: str, target: str, error: str | None
) -> None:
    order = await api.seamless_pending("INV-CH2", pre_auth=pre_auth)
    form = return_form(await api.press(order["challenge_url"], decision))
    assert form.action == f"{MERCHANT}/{target}"
    assert form.fields["order_id"] == order["order_id"]
    assert form.fields["status"] == status
    assert form.fields.get("error_code") == error
    assert form.fields["signature"] == documented_signature(form.fields)
    data = (await api.get(order["order_id"])).json()["data"]
    assert data["status"] == status
    assert data["payments"][0]["status"] == status
    if decision == "decline":
        assert data["payments"][0]["error_detail"]["code"] == error
    (event,) = await api.webhooks()
    assert (
        event["event_type"]
        == {
            "PROCESSED": "ORDER_PROCESSED",
            "AUTHORIZED": "ORDER_AUTHORIZED",
            "FAILED": "ORDER_FAILED",
            "CANCELLED": "ORDER_CANCELLED",
        }[status]
    )
    body = event["body"].encode()
    verify_webhook(webhook_key(CLIENT_SECRET), event["headers"], body)
    assert event_body(event)["data"]["status"] == status


async def test_challenge_link_works_once(api: Api) -> None:
    order = await api.seamless_pending("INV-CH3")
    return_form(await api.press(order["challenge_url"], "approve"))
    assert (await api.client.get(order["challenge_url"])).status_code == 409
    again = await api.client.post(order["challenge_url"], data={"decision": "decline"})
    assert again.status_code == 409
    assert await api.status(order["order_id"]) == "PROCESSED"
    assert (await api.client.get(f"{PLURAL}/challenge/unknown")).status_code == 404


async def test_challenge_refuses_unknown_decisions(api: Api) -> None:
    order = await api.seamless_pending("INV-CH4")
    response = await api.client.post(order["challenge_url"], data={"decision": "maybe"})
    assert response.status_code == 400
    assert await api.status(order["order_id"]) == "PENDING"
