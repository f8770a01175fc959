"""Over real HTTP on 127.0.0.1: the emulator in a SandboxServer next to a merchant receiver
that records returns and webhooks. The customer is payhub's scripted browser."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from plural_sandbox_helpers import card_payment, documented_signature

from payhub_core.demo import Arrival, MerchantReceiver, ScriptedBrowser
from payhub_core.sandbox import SandboxServer
from payhub_core.signing import verify_webhook, webhook_key
from payhub_plural.sandbox import CLIENT_ID, CLIENT_SECRET, emulator


@dataclass
class Live:
    url: str
    receiver: MerchantReceiver
    client: httpx.Client
    token: str = ""

    @property
    def plural(self) -> str:
        return f"{self.url}/plural"

    @property
    def merchant(self) -> str:
        return f"{self.url}/merchant"

    def login(self) -> None:
        response = self.client.post(
            f"{self.plural}/api/auth/v1/token",
            json={
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "grant_type": "client_credentials",
            },
        )
        self.token = response.json()["access_token"]

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.client.request(
            method, f"{self.plural}{path}", json=body, headers=headers, **kwargs
        )

    def order(self, reference: str, *, hosted: bool = True, **extra: Any) -> dict[str, Any]:
        body = {
            "merchant_order_reference": reference,
            "order_amount": {"value": 1100, "currency": "INR"},
            "callback_url": f"{self.merchant}/return/{reference}",
            **extra,
        }
        path = "/api/checkout/v1/orders" if hosted else "/api/pay/v1/orders"
        response = self.call("POST", path, body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def press(self, url: str, button: str = "approve") -> httpx.Response:
        browser = ScriptedBrowser(self.merchant)
        try:
            return browser.press(url, button)
        finally:
            browser.close()

    def webhooks(self, reference: str, count: int, timeout: float = 10.0) -> list[Arrival]:
        """Wait for ``count`` webhooks mentioning ``reference``; the ones that came, in order."""

        def mine() -> list[Arrival]:
            return [
                arrival
                for arrival in list(self.receiver.arrivals)
                if arrival.kind == "webhook" and reference.encode() in arrival.callback.body
            ]

        deadline = time.monotonic() + timeout
        while len(mine()) < count and time.monotonic() < deadline:
            self.receiver.wait_for(lambda _arrival: False, timeout=0.05)
        return mine()


@pytest.fixture
def live() -> Iterator[Live]:
    receiver = MerchantReceiver()
    with (
        SandboxServer([emulator, receiver.emulator()], port=0) as server,
        httpx.Client(timeout=10) as client,
    ):
        response = client.put(
            f"{server.url}/plural/_sandbox/config",
            json={"webhook_url": f"{server.url}/merchant/webhook"},
        )
        assert response.status_code == 200
        live = Live(server.url, receiver, client)
        live.login()
        yield live


def _verified(arrival: Arrival, secret: str = CLIENT_SECRET) -> dict[str, Any]:
    callback = arrival.callback
    assert callback.method == "POST"
    assert callback.content_type == "application/json"
    verify_webhook(webhook_key(secret), callback.headers, callback.body)
    body: dict[str, Any] = json.loads(callback.body)
    return body


def _returned(live: Live, reference: str) -> dict[str, str]:
    arrival = live.receiver.wait_for(lambda a: a.kind == "return" and a.key == reference)
    assert arrival is not None
    assert arrival.callback.method == "POST"
    assert arrival.callback.content_type == "application/x-www-form-urlencoded"
    return dict(parse_qsl(arrival.callback.body.decode()))


def test_hosted_approval_reaches_the_merchant_signed(live: Live) -> None:
    created = live.order("LIVE-1")
    response = live.press(created["redirect_url"])
    assert response.status_code == 200
    assert str(response.url) == f"{live.merchant}/return/LIVE-1"
    fields = _returned(live, "LIVE-1")
    assert fields["order_id"] == created["order_id"]
    assert fields["status"] == "PROCESSED"
    assert fields["signature"] == documented_signature(fields)
    (webhook,) = live.webhooks("LIVE-1", 1)
    body = _verified(webhook)
    assert body["event_type"] == "ORDER_PROCESSED"
    assert body["data"]["order_id"] == created["order_id"]
    assert body["data"]["merchant_order_reference"] == "LIVE-1"


def test_seamless_life_with_webhooks(live: Live) -> None:
    created = live.order("LIVE-2", hosted=False, pre_auth=True)["data"]
    paid = live.call("POST", f"/api/pay/v1/orders/{created['order_id']}/payments", card_payment())
    challenge = paid.json()["data"]["challenge_url"]
    live.press(challenge)
    fields = _returned(live, "LIVE-2")
    assert fields["status"] == "AUTHORIZED"
    assert fields["signature"] == documented_signature(fields)
    captured = live.call(
        "PUT",
        f"/api/pay/v1/orders/{created['order_id']}/capture",
        {"merchant_capture_reference": "cap-1"},
    )
    assert captured.status_code == 200
    refunded = live.call(
        "POST", f"/api/pay/v1/refunds/{created['order_id']}", {"merchant_order_reference": "LR-2"}
    )
    assert refunded.status_code == 200
    # the refund's webhook carries the refund order, whose parent is our order
    events = live.webhooks(created["order_id"], 3)
    assert [_verified(item)["event_type"] for item in events] == [
        "ORDER_AUTHORIZED",
        "ORDER_PROCESSED",
        "REFUND_PROCESSED",
    ]
    assert _verified(events[2])["data"]["parent_order_id"] == created["order_id"]


def test_customer_decline_and_cancel(live: Live) -> None:
    declined = live.order("LIVE-3")
    live.press(declined["redirect_url"], "decline")
    fields = _returned(live, "LIVE-3")
    assert (fields["status"], fields["error_code"]) == ("FAILED", "USER_AUTHENTICATION_FAILED")
    assert fields["signature"] == documented_signature(fields)
    assert _verified(live.webhooks("LIVE-3", 1)[0])["event_type"] == "ORDER_FAILED"
    cancelled = live.order("LIVE-4")
    live.press(cancelled["redirect_url"], "cancel")
    assert _returned(live, "LIVE-4")["status"] == "CANCELLED"
    assert _verified(live.webhooks("LIVE-4", 1)[0])["event_type"] == "ORDER_CANCELLED"


def test_webhook_delivered_twice(live: Live) -> None:
    created = live.order("DUPWEBHOOK-1")
    live.press(created["redirect_url"])
    first, second = live.webhooks("DUPWEBHOOK-1", 2)
    assert first.callback.header("webhook-id") == second.callback.header("webhook-id")
    assert first.callback.body == second.callback.body
    assert _verified(first) == _verified(second)
    time.sleep(0.3)
    assert len(live.webhooks("DUPWEBHOOK-1", 2)) == 2  # exactly twice


def test_webhooks_out_of_order(live: Live) -> None:
    live.client.put(f"{live.plural}/_sandbox/config", json={"reorder_delay": 0.5})
    created = live.order("REORDER-1")
    live.press(created["redirect_url"])
    refund = live.call(
        "POST", f"/api/pay/v1/refunds/{created['order_id']}", {"merchant_order_reference": "RR-1"}
    )
    assert refund.status_code == 200
    events = [_verified(item) for item in live.webhooks(created["order_id"], 2)]
    assert [event["event_type"] for event in events] == ["REFUND_PROCESSED", "ORDER_PROCESSED"]
    # the late one still describes the order as it was when it happened
    assert events[1]["data"]["status"] == "PROCESSED"


def test_webhook_secret_can_be_changed(live: Live) -> None:
    live.client.put(f"{live.plural}/_sandbox/config", json={"webhook_secret": "whsec-plain"})
    created = live.order("LIVE-5")
    live.press(created["redirect_url"])
    (webhook,) = live.webhooks("LIVE-5", 1)
    assert _verified(webhook, "whsec-plain")["event_type"] == "ORDER_PROCESSED"


def test_slow_answer_times_the_client_out(live: Live) -> None:
    live.client.put(f"{live.plural}/_sandbox/config", json={"slow_seconds": 1.0})
    body = {
        "merchant_order_reference": "SLOW-1",
        "order_amount": {"value": 1100, "currency": "INR"},
    }
    with pytest.raises(httpx.ReadTimeout):
        live.call("POST", "/api/pay/v1/orders", body, timeout=0.3)
    # The client gave up after 0.3 s, maybe before a loaded server even read the request:
    # it is processed all the same, so the order shows up (soon, not necessarily at once).
    deadline = time.monotonic() + 10
    found = live.call("GET", "/api/pay/v1/orders/reference/SLOW-1")
    while found.status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.05)
        found = live.call("GET", "/api/pay/v1/orders/reference/SLOW-1")
    assert found.status_code == 200  # the order was created: check before retrying
    assert found.json()["data"]["status"] == "CREATED"


def test_demo_cases_run_end_to_end() -> None:
    """payhub's own demo walk through the emulator, once the Plural adapters are installed."""
    import payhub_plural

    if not hasattr(payhub_plural, "HostedCheckoutAdapter"):
        pytest.skip("the Plural adapters are not installed yet")
    from payhub_core import Hub
    from payhub_core.demo import DemoEnvironment, run_case

    with DemoEnvironment([emulator]) as env:
        cases = env.cases()
        with Hub.from_config(env.hub_config(cases)) as hub:
            results = [run_case(env, hub, alias, case) for alias, case in cases]
    failures = [(result.alias, result.error) for result in results if not result.ok]
    assert not failures
