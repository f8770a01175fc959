"""/_sandbox: credentials, configuration, controls; registration and demo cases."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

import httpx
import pytest
from plural_sandbox_helpers import PLURAL, Api, assert_error, order_body

import payhub_plural.sandbox as sandbox
from payhub_core import Invoice, Money
from payhub_core.sandbox import SANDBOX_GROUP, Emulator, load_emulators
from payhub_plural.sandbox import (
    CLIENT_ID,
    CLIENT_SECRET,
    SECRET_KEY,
    TEST_CARD,
    demo_cases,
    emulator,
    scenario_for,
)
from payhub_plural.sandbox._validation import order_request

pytestmark = pytest.mark.anyio


async def test_sandbox_info(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{PLURAL}/_sandbox")
    assert response.status_code == 200
    info = response.json()
    assert info["client_id"] == CLIENT_ID
    assert info["client_secret"] == CLIENT_SECRET
    assert info["secret_key"] == SECRET_KEY
    assert len(bytes.fromhex(info["secret_key"])) == 16
    assert info["webhook_secret"] == CLIENT_SECRET  # the default, as the official plugins do
    assert info["webhook_url"] is None
    assert info["base_url"] == PLURAL
    assert info["adapter_settings"] == {
        "environment": "sandbox",
        "base_url": PLURAL,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "secret_key": SECRET_KEY,
    }
    assert info["test_instruments"]["card"] == TEST_CARD
    assert info["scenarios"]
    assert set(info["controls"]) >= {"PUT /_sandbox/config", "POST /_sandbox/expire-tokens"}


async def test_config_round_trip(client: httpx.AsyncClient) -> None:
    wanted = {
        "webhook_url": "http://127.0.0.1:9/hooks",
        "webhook_secret": "another secret",
        "token_ttl": 60,
        "slow_seconds": 1.5,
        "reorder_delay": 0,
    }
    response = await client.put(f"{PLURAL}/_sandbox/config", json=wanted)
    assert response.status_code == 200
    assert response.json() == {**wanted, "token_ttl": 60.0, "reorder_delay": 0.0}
    assert (await client.get(f"{PLURAL}/_sandbox/config")).json() == response.json()
    info = (await client.get(f"{PLURAL}/_sandbox")).json()
    assert info["webhook_url"] == wanted["webhook_url"]
    assert info["webhook_secret"] == "another secret"
    cleared = await client.put(f"{PLURAL}/_sandbox/config", json={"webhook_url": None})
    assert cleared.json()["webhook_url"] is None
    assert cleared.json()["token_ttl"] == 60.0  # a partial update keeps the rest


@pytest.mark.parametrize(
    "body",
    [
        {"webhook_url": "ftp://x"},
        {"webhook_url": "/relative"},
        {"webhook_url": 5},
        {"webhook_secret": ""},
        {"token_ttl": -1},
        {"token_ttl": True},
        {"slow_seconds": "5"},
        {"reorder_delay": None},
        {"surprise": 1},
        [],
    ],
)
async def test_config_validation(client: httpx.AsyncClient, body: Any) -> None:
    response = await client.put(f"{PLURAL}/_sandbox/config", json=body)
    assert_error(response, 400, "INVALID_REQUEST")
    assert (await client.get(f"{PLURAL}/_sandbox/config")).json()["webhook_url"] is None


async def test_reset_forgets_orders_tokens_and_config(api: Api) -> None:
    created = await api.hosted_order("INV-R1")
    await api.config(token_ttl=5)
    assert (await api.client.post(f"{PLURAL}/_sandbox/reset")).json() == {"reset": True}
    assert (await api.client.get(f"{PLURAL}/_sandbox/config")).json()["token_ttl"] == 3600
    assert_error(await api.get(created["order_id"]), 401, "UNAUTHORIZED")
    await api.login()
    assert_error(await api.get(created["order_id"]), 404, "ORDER_NOT_FOUND")


async def test_unknown_paths_and_methods_answer_in_plurals_shape(api: Api) -> None:
    assert_error(await api.client.get(f"{PLURAL}/api/pay/v1/nothing"), 404, "NOT_FOUND")
    response = await api.client.delete(f"{PLURAL}/api/pay/v1/orders/v1-1", headers=api.auth)
    assert_error(response, 405, "METHOD_NOT_ALLOWED")


def test_registered_under_payhub_sandboxes() -> None:
    (entry,) = [ep for ep in entry_points(group=SANDBOX_GROUP) if ep.name == "plural"]
    assert entry.load() is emulator
    assert emulator in load_emulators()
    assert isinstance(emulator, Emulator)
    assert emulator.name == "plural"
    assert emulator.description
    assert callable(emulator.create_app("http://127.0.0.1:8808/plural"))
    assert sandbox.__all__.count("emulator") == 1


def test_demo_cases() -> None:
    base = "http://127.0.0.1:8808/plural"
    cases = demo_cases(base)
    assert emulator.demo_cases is demo_cases
    summary = [
        (case.adapter, case.evidence, case.after_verify, case.expected_status) for case in cases
    ]
    assert summary == [
        ("plural.checkout", "return", ("capture", "refund", "status"), "authorized"),
        ("plural.checkout", "webhook", ("refund", "status"), "paid"),
        ("plural.seamless", "return", ("cancel", "status"), "authorized"),
    ]
    number = "DEMO-plural-checkout-1a2b3c4d"
    invoices: list[Invoice] = []
    for case in cases:
        assert case.settings == {
            "environment": "sandbox",
            "base_url": base,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "secret_key": SECRET_KEY,
        }
        invoice = case.invoice(number, "http://m/return/x", "http://m/callback/x")
        assert invoice.number == number
        assert invoice.return_url == "http://m/return/x"
        assert invoice.amount.currency == "INR"
        assert Money("1.00", "INR") <= invoice.amount <= Money("1000000.00", "INR")
        invoices.append(invoice)
        # the demo's invoice numbers are valid references and trigger no scenario
        assert order_request(order_body(number), hosted=True).reference == number
        assert scenario_for(number) is None
    assert [invoice.capture for invoice in invoices] == ["manual", "automatic", "manual"]
    card = invoices[2].payment_method
    assert card is not None
    assert not isinstance(card, str)
    assert card.kind == "card"
    assert card.number.get_secret_value() == "4012001037141112"
    assert card.cvv.get_secret_value() == "123"
    assert (card.expiry_month, card.expiry_year) == (12, 2030)
