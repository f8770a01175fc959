"""The in-process cases: payhub against bare httpx, hand-written verification, and the
official Plural SDK, each pair over the same ``httpx.MockTransport``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
from _fixtures import (
    CHECKOUT_BODY,
    INVOICE,
    ORDER_ID,
    PLURAL_ROOT,
    TOKEN,
    TOKEN_REQUEST,
    advancing_clock,
    checkout_result,
    config,
    minimal_plural_return,
    minimal_plural_webhook,
    minimal_plutu_return,
    order_result,
    plural_headers,
    plural_return_query,
    plural_webhook,
    plutu_confirm_request,
    plutu_confirm_result,
    plutu_return_query,
    token_from,
    transport,
)
from _measure import Result, alternate

from payhub_core import AsyncHub, Callback, Hub, Invoice, Money

ORDERS = f"{PLURAL_ROOT}/api/pay/v1/orders"
REFUNDS = f"{PLURAL_ROOT}/api/pay/v1/refunds"
TOKEN_URL = f"{PLURAL_ROOT}/api/auth/v1/token"
CHECKOUT_URL = f"{PLURAL_ROOT}/api/checkout/v1/orders"

Op = Callable[[], object]
AsyncOp = Callable[[], Awaitable[object]]


def _sync(op: Op) -> Callable[[int], None]:
    def batch(n: int) -> None:
        for _ in range(n):
            op()

    return batch


def _async(loop: asyncio.AbstractEventLoop, op: AsyncOp) -> Callable[[int], None]:
    async def repeat(n: int) -> None:
        for _ in range(n):
            await op()

    def batch(n: int) -> None:
        loop.run_until_complete(repeat(n))

    return batch


def _invoices() -> tuple[Invoice, Invoice]:
    plural = Invoice(
        number=INVOICE, amount=Money("500.00", "INR"), return_url="https://shop.example/return"
    )
    plutu = Invoice(
        number=INVOICE, amount=Money("25.50", "LYD"), return_url="https://shop.example/r"
    )
    return plural, plutu


# -- bare httpx: the same requests and the same parsing --------------------------------


class Bare:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def status(self) -> object:
        return order_result(self.client.get(f"{ORDERS}/{ORDER_ID}", headers=plural_headers(TOKEN)))

    def capture(self) -> object:
        body = {"merchant_capture_reference": f"cap-{uuid.uuid4().hex}"}
        url = f"{ORDERS}/{ORDER_ID}/capture"
        return order_result(self.client.put(url, json=body, headers=plural_headers(TOKEN)))

    def cancel(self) -> object:
        url = f"{ORDERS}/{ORDER_ID}/cancel"
        return order_result(self.client.put(url, headers=plural_headers(TOKEN)))

    def refund(self) -> object:
        parent = self.status()
        assert isinstance(parent, dict)
        body = {
            "merchant_order_reference": f"rf-{uuid.uuid4().hex}",
            "order_amount": {"value": int(parent["amount"].scaleb(2)), "currency": "INR"},
        }
        url = f"{REFUNDS}/{ORDER_ID}"
        return order_result(self.client.post(url, json=body, headers=plural_headers(TOKEN)))

    def initiate(self) -> object:
        token = token_from(
            self.client.post(TOKEN_URL, json=TOKEN_REQUEST, headers=plural_headers(None))
        )
        response = self.client.post(CHECKOUT_URL, json=CHECKOUT_BODY, headers=plural_headers(token))
        return checkout_result(response)

    def plutu_initiate(self) -> object:
        url, headers, content = plutu_confirm_request()
        return plutu_confirm_result(self.client.post(url, headers=headers, content=content))

    def return_confirmed(self, query: str) -> object:
        signed = minimal_plural_return(query)
        url = f"{ORDERS}/{signed['reference']}"
        return order_result(self.client.get(url, headers=plural_headers(TOKEN)))


class AsyncBare:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def status(self) -> object:
        response = await self.client.get(f"{ORDERS}/{ORDER_ID}", headers=plural_headers(TOKEN))
        return order_result(response)

    async def capture(self) -> object:
        body = {"merchant_capture_reference": f"cap-{uuid.uuid4().hex}"}
        url = f"{ORDERS}/{ORDER_ID}/capture"
        return order_result(await self.client.put(url, json=body, headers=plural_headers(TOKEN)))

    async def cancel(self) -> object:
        url = f"{ORDERS}/{ORDER_ID}/cancel"
        return order_result(await self.client.put(url, headers=plural_headers(TOKEN)))

    async def refund(self) -> object:
        parent = await self.status()
        assert isinstance(parent, dict)
        body = {
            "merchant_order_reference": f"rf-{uuid.uuid4().hex}",
            "order_amount": {"value": int(parent["amount"].scaleb(2)), "currency": "INR"},
        }
        url = f"{REFUNDS}/{ORDER_ID}"
        return order_result(await self.client.post(url, json=body, headers=plural_headers(TOKEN)))

    async def initiate(self) -> object:
        response = await self.client.post(
            TOKEN_URL, json=TOKEN_REQUEST, headers=plural_headers(None)
        )
        token = token_from(response)
        response = await self.client.post(
            CHECKOUT_URL, json=CHECKOUT_BODY, headers=plural_headers(token)
        )
        return checkout_result(response)

    async def plutu_initiate(self) -> object:
        url, headers, content = plutu_confirm_request()
        response = await self.client.post(url, headers=headers, content=content)
        return plutu_confirm_result(response)

    async def return_confirmed(self, query: str) -> object:
        signed = minimal_plural_return(query)
        url = f"{ORDERS}/{signed['reference']}"
        return order_result(await self.client.get(url, headers=plural_headers(TOKEN)))


# -- the cases -------------------------------------------------------------------------


def network_cases(rounds: int, target_s: float) -> Iterator[Result]:
    """Every network operation, sync then async, against bare httpx."""
    plural_invoice, plutu_invoice = _invoices()
    query = plural_return_query()

    hub = Hub.from_config(config(), transport=transport())
    fresh = Hub.from_config(config(), transport=transport())  # a token per initiate
    fresh.adapter("plural").clock = advancing_clock()
    bare = Bare(httpx.Client(transport=transport()))
    sync_ops: list[tuple[str, Op, Op]] = [
        ("Plural status", lambda: hub.status(ORDER_ID), bare.status),
        ("Plural capture", lambda: hub.capture(ORDER_ID), bare.capture),
        ("Plural cancel", lambda: hub.cancel(ORDER_ID), bare.cancel),
        ("Plural refund (Get Order + refund)", lambda: hub.refund(ORDER_ID), bare.refund),
        ("Plural initiate (token + order)", lambda: fresh.initiate(plural_invoice), bare.initiate),
        (
            "Plutu initiate",
            lambda: hub.initiate(plutu_invoice, gateway="plutu"),
            bare.plutu_initiate,
        ),
        (
            "Plural return + Get Order",
            lambda: hub.verify(Callback(query=query)),
            lambda: bare.return_confirmed(query),
        ),
    ]
    for name, subject, baseline in sync_ops:
        yield alternate(
            f"{name} [sync]", "bare httpx.Client", _sync(subject), _sync(baseline),
            rounds=rounds, target_s=target_s,
        )  # fmt: skip
    hub.close()
    fresh.close()
    bare.client.close()

    loop = asyncio.new_event_loop()
    ahub = AsyncHub.from_config(config(), transport=transport())
    afresh = AsyncHub.from_config(config(), transport=transport())
    afresh.adapter("plural").clock = advancing_clock()
    abare = AsyncBare(httpx.AsyncClient(transport=transport()))

    async def return_confirmed() -> object:
        return await ahub.verify(Callback(query=query))

    async_ops: list[tuple[str, AsyncOp, AsyncOp]] = [
        ("Plural status", lambda: ahub.status(ORDER_ID), abare.status),
        ("Plural capture", lambda: ahub.capture(ORDER_ID), abare.capture),
        ("Plural cancel", lambda: ahub.cancel(ORDER_ID), abare.cancel),
        ("Plural refund (Get Order + refund)", lambda: ahub.refund(ORDER_ID), abare.refund),
        (
            "Plural initiate (token + order)",
            lambda: afresh.initiate(plural_invoice),
            abare.initiate,
        ),
        (
            "Plutu initiate",
            lambda: ahub.initiate(plutu_invoice, gateway="plutu"),
            abare.plutu_initiate,
        ),
        ("Plural return + Get Order", return_confirmed, lambda: abare.return_confirmed(query)),
    ]
    for name, asubject, abaseline in async_ops:
        yield alternate(
            f"{name} [async]", "bare httpx.AsyncClient",
            _async(loop, asubject), _async(loop, abaseline),
            rounds=rounds, target_s=target_s,
        )  # fmt: skip
    loop.run_until_complete(ahub.aclose())
    loop.run_until_complete(afresh.aclose())
    loop.run_until_complete(abare.client.aclose())
    loop.close()


def verification_cases(rounds: int, target_s: float) -> Iterator[Result]:
    """Callbacks verified without the network, against minimal stdlib code."""
    hub = Hub.from_config(config(confirm=False), transport=transport())
    plutu_query = plutu_return_query()
    plural_query = plural_return_query()
    headers, body = plural_webhook()
    big_plutu = plutu_return_query(extra=1000)
    big_plural = plural_return_query(extra=1000)
    minimal = "minimal stdlib code"
    cases: list[tuple[str, Op, Op]] = [
        (
            "Plutu return verify",
            lambda: hub.verify(Callback(query=plutu_query), gateway="plutu"),
            lambda: minimal_plutu_return(plutu_query),
        ),
        (
            "Plural return verify (no Get Order)",
            lambda: hub.verify(Callback(query=plural_query)),
            lambda: minimal_plural_return(plural_query),
        ),
        (
            "Plural webhook verify",
            lambda: hub.verify(Callback(method="POST", headers=headers, body=body)),
            lambda: minimal_plural_webhook(headers, body),
        ),
        (
            "Plutu return, 1000 parameters",
            lambda: hub.verify(Callback(query=big_plutu), gateway="plutu"),
            lambda: minimal_plutu_return(big_plutu),
        ),
        (
            "Plural return, 1000 parameters",
            lambda: hub.verify(Callback(query=big_plural)),
            lambda: minimal_plural_return(big_plural),
        ),
    ]
    for name, subject, baseline in cases:
        yield alternate(
            f"{name} [sync]", minimal, _sync(subject), _sync(baseline),
            rounds=rounds, target_s=target_s,
        )  # fmt: skip
    hub.close()

    loop = asyncio.new_event_loop()
    ahub = AsyncHub.from_config(config(confirm=False), transport=transport())

    async def plutu() -> object:
        return await ahub.verify(Callback(query=plutu_query), gateway="plutu")

    async def plural() -> object:
        return await ahub.verify(Callback(query=plural_query))

    async def webhook() -> object:
        return await ahub.verify(Callback(method="POST", headers=headers, body=body))

    def wrap(function: Callable[[], object]) -> AsyncOp:
        async def call() -> object:  # the minimal code in an async handler
            return function()

        return call

    async_cases: list[tuple[str, AsyncOp, AsyncOp]] = [
        ("Plutu return verify", plutu, wrap(lambda: minimal_plutu_return(plutu_query))),
        (
            "Plural return verify (no Get Order)",
            plural,
            wrap(lambda: minimal_plural_return(plural_query)),
        ),
        ("Plural webhook verify", webhook, wrap(lambda: minimal_plural_webhook(headers, body))),
    ]
    for name, asubject, abaseline in async_cases:
        yield alternate(
            f"{name} [async]", minimal, _async(loop, asubject), _async(loop, abaseline),
            rounds=rounds, target_s=target_s,
        )  # fmt: skip
    loop.run_until_complete(ahub.aclose())
    loop.close()


def peer_cases(rounds: int, target_s: float) -> Iterator[Result]:
    """payhub against the official Plural SDK (``pinelabs-python``, import ``pinelabs``),
    both over the same MockTransport; the SDK gets fresh Request-ID/Timestamp headers per
    call, as Plural requires."""
    try:
        from pinelabs import Amount, AsyncPinelabsApi, PinelabsApi
        from pinelabs.refunds import CreateRefundRequestOrderAmount
    except ImportError:
        return
    plural_invoice, _ = _invoices()
    state = {"token": TOKEN}

    def options() -> Any:
        headers = plural_headers(None)
        return {"additional_headers": {key: headers[key] for key in ("Request-ID",
                "Request-Timestamp")}}  # fmt: skip

    def refund_amount(parent: Any) -> Any:
        assert parent.data is not None
        assert parent.data.order_amount is not None
        return CreateRefundRequestOrderAmount(value=parent.data.order_amount.value, currency="INR")

    # -- sync: PinelabsApi over httpx.Client
    hub = Hub.from_config(config(), transport=transport())
    fresh = Hub.from_config(config(), transport=transport())
    fresh.adapter("plural").clock = advancing_clock()
    sdk = PinelabsApi(
        base_url=PLURAL_ROOT,
        token=lambda: state["token"],
        httpx_client=httpx.Client(transport=transport()),
    )

    def sdk_initiate() -> object:
        token = sdk.authentication.generate_token(
            client_id="bench-client",
            client_secret=TOKEN_REQUEST["client_secret"],
            grant_type="client_credentials",
            request_options=options(),
        )
        state["token"] = token.access_token
        return sdk.checkout.generate_checkout_link(
            merchant_order_reference=INVOICE,
            order_amount=Amount(value=50000, currency="INR"),
            pre_auth=False,
            callback_url="https://shop.example/return",
            request_options=options(),
        )

    def sdk_capture() -> object:
        return sdk.orders.capture_order(
            ORDER_ID,
            merchant_capture_reference=f"cap-{uuid.uuid4().hex}",
            request_options=options(),
        )

    def sdk_refund() -> object:
        parent = sdk.orders.get_order_by_id(ORDER_ID, request_options=options())
        return sdk.refunds.create_refund(
            ORDER_ID,
            merchant_order_reference=f"rf-{uuid.uuid4().hex}",
            order_amount=refund_amount(parent),
            request_options=options(),
        )

    cases: list[tuple[str, Op, Op]] = [
        ("token + create order", lambda: fresh.initiate(plural_invoice), sdk_initiate),
        (
            "get order",
            lambda: hub.status(ORDER_ID),
            lambda: sdk.orders.get_order_by_id(ORDER_ID, request_options=options()),
        ),
        ("capture", lambda: hub.capture(ORDER_ID), sdk_capture),
        ("refund (Get Order + refund)", lambda: hub.refund(ORDER_ID), sdk_refund),
    ]
    for name, subject, baseline in cases:
        yield alternate(
            f"Plural {name} vs SDK [sync]", "pinelabs-python", _sync(subject), _sync(baseline),
            rounds=rounds, target_s=target_s,
        )  # fmt: skip
    hub.close()
    fresh.close()

    # -- async: AsyncPinelabsApi over httpx.AsyncClient, one event loop for both sides
    loop = asyncio.new_event_loop()
    ahub = AsyncHub.from_config(config(), transport=transport())
    afresh = AsyncHub.from_config(config(), transport=transport())
    afresh.adapter("plural").clock = advancing_clock()
    asdk = AsyncPinelabsApi(
        base_url=PLURAL_ROOT,
        token=lambda: state["token"],
        httpx_client=httpx.AsyncClient(transport=transport()),
    )

    async def asdk_initiate() -> object:
        token = await asdk.authentication.generate_token(
            client_id="bench-client",
            client_secret=TOKEN_REQUEST["client_secret"],
            grant_type="client_credentials",
            request_options=options(),
        )
        state["token"] = token.access_token
        return await asdk.checkout.generate_checkout_link(
            merchant_order_reference=INVOICE,
            order_amount=Amount(value=50000, currency="INR"),
            pre_auth=False,
            callback_url="https://shop.example/return",
            request_options=options(),
        )

    async def asdk_capture() -> object:
        return await asdk.orders.capture_order(
            ORDER_ID,
            merchant_capture_reference=f"cap-{uuid.uuid4().hex}",
            request_options=options(),
        )

    async def asdk_refund() -> object:
        parent = await asdk.orders.get_order_by_id(ORDER_ID, request_options=options())
        return await asdk.refunds.create_refund(
            ORDER_ID,
            merchant_order_reference=f"rf-{uuid.uuid4().hex}",
            order_amount=refund_amount(parent),
            request_options=options(),
        )

    async_cases: list[tuple[str, AsyncOp, AsyncOp]] = [
        ("token + create order", lambda: afresh.initiate(plural_invoice), asdk_initiate),
        (
            "get order",
            lambda: ahub.status(ORDER_ID),
            lambda: asdk.orders.get_order_by_id(ORDER_ID, request_options=options()),
        ),
        ("capture", lambda: ahub.capture(ORDER_ID), asdk_capture),
        ("refund (Get Order + refund)", lambda: ahub.refund(ORDER_ID), asdk_refund),
    ]
    for name, asubject, abaseline in async_cases:
        yield alternate(
            f"Plural {name} vs SDK [async]", "pinelabs-python",
            _async(loop, asubject), _async(loop, abaseline),
            rounds=rounds, target_s=target_s,
        )  # fmt: skip
    loop.run_until_complete(ahub.aclose())
    loop.run_until_complete(afresh.aclose())
    loop.close()
