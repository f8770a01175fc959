"""Helpers for the Plural emulator tests: a small API client, HTML form parsing, and an
independent implementation of the return signature (docs/plural/returns.md) to check the
emulator by."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from payhub_plural.sandbox import CLIENT_ID, CLIENT_SECRET, SECRET_KEY

BASE = "http://sandbox.test"
PLURAL = f"{BASE}/plural"
MERCHANT = "http://merchant.test"

CARD_OPTION = {
    "card_details": {
        "name": "Asha Rao",
        "card_number": "4012001037141112",
        "cvv": "123",
        "expiry_month": "12",
        "expiry_year": "2030",
    }
}


def documented_signature(fields: dict[str, str], secret_hex: str = SECRET_KEY) -> str:
    """The return signature written out again without payhub_core: sorted k=v&..., raw
    values, HMAC-SHA256 keyed with the hex-decoded secret, upper-case hex."""
    message = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "signature")
    return hmac.new(bytes.fromhex(secret_hex), message.encode(), hashlib.sha256).hexdigest().upper()


@dataclass
class Form:
    action: str
    method: str
    form_id: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # name, value, label


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._button: tuple[str, str] | None = None
        self._label = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get"), a.get("id", "")))
        elif tag == "input" and self.forms and a.get("type") == "hidden":
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms:
            self._button, self._label = (a.get("name", ""), a.get("value", "")), ""

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._label += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None:
            self.forms[-1].buttons.append((*self._button, self._label.strip()))
            self._button = None


def forms(html: str) -> list[Form]:
    parser = _Parser()
    parser.feed(html)
    return parser.forms


def return_form(response: httpx.Response) -> Form:
    """The auto-submitted return form of a decision's answer."""
    assert response.status_code == 200, response.text
    found = [form for form in forms(response.text) if form.form_id == "payhub-return"]
    assert len(found) == 1, response.text
    assert found[0].method.lower() == "post"
    assert "submit()" in response.text  # submitted by script on load
    return found[0]


def order_body(reference: str, value: int = 1100, **extra: Any) -> dict[str, Any]:
    return {
        "merchant_order_reference": reference,
        "order_amount": {"value": value, "currency": "INR"},
        "callback_url": f"{MERCHANT}/return",
        "failure_callback_url": f"{MERCHANT}/failure",
        **extra,
    }


def card_payment(
    value: int = 1100, reference: str = "pay-1", option: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "payments": [
            {
                "merchant_payment_reference": reference,
                "payment_amount": {"value": value, "currency": "INR"},
                "payment_method": "CARD",
                "payment_option": option or CARD_OPTION,
            }
        ]
    }


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    return body


class Api:
    """The merchant's backend talking to the emulator, plus the customer's button presses."""

    def __init__(self, client: httpx.AsyncClient, root: str = PLURAL) -> None:
        self.client = client
        self.root = root
        self.token = ""

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def login(self) -> str:
        response = await self.client.post(
            f"{self.root}/api/auth/v1/token",
            json={
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "grant_type": "client_credentials",
            },
        )
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        return self.token

    async def hosted(self, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(
            f"{self.root}/api/checkout/v1/orders", json=body, headers=self.auth
        )

    async def seamless(self, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(
            f"{self.root}/api/pay/v1/orders", json=body, headers=self.auth
        )

    async def pay(self, order_id: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(
            f"{self.root}/api/pay/v1/orders/{order_id}/payments", json=body, headers=self.auth
        )

    async def get(self, order_id: str) -> httpx.Response:
        return await self.client.get(f"{self.root}/api/pay/v1/orders/{order_id}", headers=self.auth)

    async def by_reference(self, reference: str) -> httpx.Response:
        return await self.client.get(
            f"{self.root}/api/pay/v1/orders/reference/{reference}", headers=self.auth
        )

    async def status(self, order_id: str) -> str:
        response = await self.get(order_id)
        assert response.status_code == 200, response.text
        return str(response.json()["data"]["status"])

    async def capture(self, order_id: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.put(
            f"{self.root}/api/pay/v1/orders/{order_id}/capture", json=body, headers=self.auth
        )

    async def cancel(self, order_id: str) -> httpx.Response:
        return await self.client.put(
            f"{self.root}/api/pay/v1/orders/{order_id}/cancel", headers=self.auth
        )

    async def refund(self, order_id: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(
            f"{self.root}/api/pay/v1/refunds/{order_id}", json=body, headers=self.auth
        )

    async def config(self, **settings: Any) -> dict[str, Any]:
        response = await self.client.put(f"{self.root}/_sandbox/config", json=settings)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def webhooks(self) -> list[dict[str, Any]]:
        response = await self.client.get(f"{self.root}/_sandbox/webhooks")
        result: list[dict[str, Any]] = response.json()
        return result

    # the customer

    async def open_checkout(self, redirect_url: str) -> tuple[httpx.Response, Form]:
        page = await self.client.get(redirect_url)
        assert page.status_code == 200, page.text
        (form,) = forms(page.text)
        return page, form

    async def press(self, page_url: str, decision: str) -> httpx.Response:
        """Open the checkout or challenge page at ``page_url`` and press a button."""
        _page, form = await self.open_checkout(page_url)
        return await self.client.post(form.action, data={**form.fields, "decision": decision})

    # composite steps

    async def hosted_order(self, reference: str, **extra: Any) -> dict[str, Any]:
        response = await self.hosted(order_body(reference, **extra))
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def approved(self, reference: str, **extra: Any) -> str:
        """A hosted order the customer approved; its order id."""
        created = await self.hosted_order(reference, **extra)
        return_form(await self.press(created["redirect_url"], "approve"))
        return str(created["order_id"])

    async def seamless_pending(self, reference: str, **extra: Any) -> dict[str, Any]:
        created = await self.seamless(order_body(reference, **extra))
        assert created.status_code == 200, created.text
        value = created.json()["data"]["order_amount"]["value"]
        paid = await self.pay(created.json()["data"]["order_id"], card_payment(value))
        assert paid.status_code == 200, paid.text
        result: dict[str, Any] = paid.json()["data"]
        return result


def query_token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def event_body(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(event["body"])
    return result
