"""A third-party adapter, written against docs/adapters.md alone and installed as its own
distribution (tests/example_adapter, ``payhub-example-adapter``), is discovered by name and
works through every hook in both ``Hub`` and ``AsyncHub`` over ``httpx.MockTransport``.

Nothing here touches the registry: ``acme.pay`` is found through the real
``payhub.adapters`` entry point of the installed distribution.
"""

from __future__ import annotations

import json

import httpx
import pytest
from _hubkit import ACME_BASE, acme_config, acme_payment, acme_return_query, invoice

from payhub_core import (
    AsyncHub,
    Callback,
    GatewayError,
    Hub,
    Money,
    PaymentStatus,
    Redirect,
    SignatureError,
)
from payhub_core.flows import is_idempotent


class AcmeServer:
    """A tiny stand-in for Acme's API: answers each documented call, remembers requests."""

    def __init__(self, api_key: str = "acme-key") -> None:
        self.api_key = api_key
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return httpx.Response(401, json={"error": "unauthorized"})
        path = request.url.path
        body = json.loads(request.content) if request.content else {}
        if request.method == "POST" and path == "/payments":
            return httpx.Response(
                201,
                json={
                    "id": "pay_1",
                    "status": "pending",
                    "redirect_url": f"https://pay.acme.example/checkout/pay_1?ref={body['ref']}",
                },
            )
        if request.method == "POST" and path == "/payments/pay_1/capture":
            return httpx.Response(
                200, json=acme_payment("paid", amount_minor=body.get("amount_minor", 2550))
            )
        if request.method == "POST" and path == "/payments/pay_1/cancel":
            return httpx.Response(200, json=acme_payment("canceled"))
        if request.method == "POST" and path == "/payments/pay_1/refunds":
            return httpx.Response(
                200, json=acme_payment("refunded", amount_minor=body.get("amount_minor", 2550))
            )
        if request.method == "GET" and path == "/payments/pay_1":
            return httpx.Response(200, json=acme_payment("authorized"))
        return httpx.Response(404, json={"error": "not found"})


def test_every_acme_hook_works_through_the_sync_hub() -> None:
    server = AcmeServer()
    with Hub.from_config(acme_config(), transport=httpx.MockTransport(server)) as hub:
        checkout = hub.initiate(invoice())
        assert checkout.gateway == "acme"
        assert checkout.reference == "pay_1"
        assert checkout.action == Redirect(url="https://pay.acme.example/checkout/pay_1?ref=INV-1")
        sent = json.loads(server.requests[-1].content)
        assert sent == {
            "ref": "INV-1",
            "amount_minor": 2550,
            "currency": "USD",
            "return_url": "https://shop.example/payhub/return",
            "capture": "automatic",
        }

        result = hub.verify(Callback(query=acme_return_query("acme-secret")), expected=invoice())
        assert (result.gateway, result.status, result.reference) == (
            "acme",
            PaymentStatus.PAID,
            "pay_1",
        )
        assert result.amount == Money("25.50", "USD")
        assert len(server.requests) == 1  # verify is local: a signature check, no request

        captured = hub.capture("pay_1", amount=Money("10.00", "USD"))
        assert captured.status is PaymentStatus.PAID
        assert json.loads(server.requests[-1].content) == {"amount_minor": 1000}

        assert hub.cancel("pay_1").status is PaymentStatus.CANCELED
        refunded = hub.refund("pay_1", amount=Money("5.00", "USD"))
        assert (refunded.status, refunded.amount) == (PaymentStatus.REFUNDED, Money("5.00", "USD"))
        status = hub.status("pay_1")
        assert status.status is PaymentStatus.AUTHORIZED

    assert [(r.method, r.url.path) for r in server.requests] == [
        ("POST", "/payments"),
        ("POST", "/payments/pay_1/capture"),
        ("POST", "/payments/pay_1/cancel"),
        ("POST", "/payments/pay_1/refunds"),
        ("GET", "/payments/pay_1"),
    ]
    assert all(str(r.url).startswith(ACME_BASE) for r in server.requests)
    # only the status query is marked safe to repeat
    assert [is_idempotent(r) for r in server.requests] == [False, False, False, False, True]


@pytest.mark.anyio
async def test_every_acme_hook_works_through_the_async_hub() -> None:
    server = AcmeServer()
    async with AsyncHub.from_config(acme_config(), transport=httpx.MockTransport(server)) as hub:
        checkout = await hub.initiate(invoice())
        assert (checkout.gateway, checkout.reference) == ("acme", "pay_1")
        result = await hub.verify(
            Callback(query=acme_return_query("acme-secret")), expected=invoice()
        )
        assert (result.status, result.amount) == (PaymentStatus.PAID, Money("25.50", "USD"))
        assert (await hub.capture("pay_1")).status is PaymentStatus.PAID
        assert (await hub.cancel("pay_1")).status is PaymentStatus.CANCELED
        assert (await hub.refund("pay_1")).status is PaymentStatus.REFUNDED
        assert (await hub.status("pay_1")).status is PaymentStatus.AUTHORIZED

    assert [(r.method, r.url.path) for r in server.requests] == [
        ("POST", "/payments"),
        ("POST", "/payments/pay_1/capture"),
        ("POST", "/payments/pay_1/cancel"),
        ("POST", "/payments/pay_1/refunds"),
        ("GET", "/payments/pay_1"),
    ]


@pytest.mark.anyio
async def test_async_hub_accepts_an_async_mock_handler() -> None:
    server = AcmeServer()

    async def handler(request: httpx.Request) -> httpx.Response:
        return server(request)

    async with AsyncHub.from_config(acme_config(), transport=httpx.MockTransport(handler)) as hub:
        assert (await hub.status("pay_1")).status is PaymentStatus.AUTHORIZED


def test_acme_settings_come_from_the_gateway_table() -> None:
    server = AcmeServer(api_key="other-key")
    config = acme_config(api_key="other-key", base_url="https://eu.acme.example")
    with Hub.from_config(config, transport=httpx.MockTransport(server)) as hub:
        hub.status("pay_1")
    assert str(server.requests[0].url) == "https://eu.acme.example/payments/pay_1"


def test_a_forged_acme_return_is_refused() -> None:
    with Hub.from_config(acme_config(), transport=httpx.MockTransport(AcmeServer())) as hub:
        forged = acme_return_query("not-the-secret")
        with pytest.raises(SignatureError) as raised:
            hub.verify(Callback(query=forged))
    assert raised.value.gateway == "acme"
    assert raised.value.operation == "verify"


def test_an_acme_refusal_is_a_gateway_error_with_the_hub_context() -> None:
    server = AcmeServer(api_key="the-right-key")  # the hub sends acme-key: 401
    with (
        Hub.from_config(acme_config(), transport=httpx.MockTransport(server)) as hub,
        pytest.raises(GatewayError) as raised,
    ):
        hub.capture("pay_1")
    assert raised.value.http_status == 401
    assert (raised.value.gateway, raised.value.operation) == ("acme", "capture")
    assert raised.value.request_id


ALL_OPERATIONS = {"initiate", "verify", "capture", "cancel", "refund", "status"}


def _refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"capabilities must not send {request.method} {request.url}")


def test_acme_capabilities_are_derived_from_its_hooks_without_a_request() -> None:
    with Hub.from_config(acme_config(), transport=httpx.MockTransport(_refuse)) as hub:
        assert hub.capabilities("acme").operations == ALL_OPERATIONS
        assert hub.capabilities().operations == ALL_OPERATIONS


@pytest.mark.anyio
async def test_acme_capabilities_on_the_async_hub_need_no_request() -> None:
    async with AsyncHub.from_config(acme_config(), transport=httpx.MockTransport(_refuse)) as hub:
        assert hub.capabilities("acme").operations == ALL_OPERATIONS
