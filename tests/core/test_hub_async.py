"""``AsyncHub``: the same operations as ``Hub``, awaited, over one ``httpx.AsyncClient``.

The same adapters serve both hubs: these tests repeat the essentials of test_hub.py for
the async driver (results and flows, the shared client, transports on every constructor,
gateway choice, error translation, request ids, ``verify(expected=)``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from _hubkit import (
    FlowAdapter,
    LocalSettings,
    PlainAdapter,
    acme_config,
    acme_payment,
    invoice,
    local_config,
    no_network,
    use_local_adapters,
)

from payhub_core import (
    AdapterError,
    AmountMismatch,
    AsyncHub,
    Callback,
    ConfigurationError,
    GatewayError,
    HubConfig,
    Money,
    PaymentResult,
    PaymentStatus,
    hookimpl,
)
from payhub_core.flows import Flow


def _answer(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/orders":
        return httpx.Response(200, json={"reference": "ord-1"})
    return httpx.Response(200, json={"status": "paid"})


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch) -> None:
    use_local_adapters(monkeypatch, local_plain=PlainAdapter, local_flow=FlowAdapter)


TWO_GATEWAYS = {
    "default": "plain",
    "gateways": {"plain": {"adapter": "local.plain"}, "flow": {"adapter": "local.flow"}},
}


@pytest.mark.anyio
@pytest.mark.usefixtures("local")
async def test_plain_results_and_flows_both_work() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return _answer(request)

    async with AsyncHub.from_config(TWO_GATEWAYS, transport=httpx.MockTransport(handler)) as hub:
        for gateway in ("plain", "flow"):
            checkout = await hub.initiate(invoice(), gateway=gateway)
            assert checkout.gateway == gateway
            assert (await hub.verify(Callback(), gateway=gateway)).gateway == gateway
            assert (await hub.capture("o", gateway=gateway)).gateway == gateway
            assert (await hub.cancel("o", gateway=gateway)).gateway == gateway
            assert (await hub.refund("o", gateway=gateway)).gateway == gateway
            assert (await hub.status("o", gateway=gateway)).status is PaymentStatus.PAID
        assert (await hub.status("o")).gateway == "plain"
    assert paths == [
        "/orders",
        "/verify",
        "/orders/o/capture",
        "/orders/o/cancel",
        "/orders/o/refund",
        "/orders/o",
    ]


@pytest.mark.anyio
@pytest.mark.usefixtures("local")
async def test_one_async_client_serves_every_gateway_and_concurrent_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clients: set[int] = set()
    real_send = httpx.AsyncClient.send

    async def spy(self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        clients.add(id(self))
        return await real_send(self, request, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "send", spy)
    config = {
        "default": "a",
        "gateways": {"a": {"adapter": "local.flow"}, "b": {"adapter": "local.flow"}},
    }
    results: list[PaymentResult] = []
    async with AsyncHub.from_config(config, transport=httpx.MockTransport(_answer)) as hub:

        async def call(gateway: str) -> None:
            results.append(await hub.status("o", gateway=gateway))

        async with anyio.create_task_group() as group:
            for gateway in ("a", "b", "a", "b"):
                group.start_soon(call, gateway)
    assert len(results) == 4
    assert len(clients) == 1


ACME_TOML = '[gateways.acme]\nadapter = "acme.pay"\napi_key = "k"\nsecret = "s"\n'


@pytest.mark.anyio
@pytest.mark.parametrize(
    "constructor", ["AsyncHub", "from_config", "HubConfig", "from_file", "from_env"]
)
async def test_every_async_constructor_takes_a_transport(tmp_path: Path, constructor: str) -> None:
    calls: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(200, json=acme_payment())

    transport = httpx.MockTransport(handler)
    path = tmp_path / "payhub.toml"
    path.write_text(ACME_TOML, encoding="utf-8")
    build = {
        "AsyncHub": lambda: AsyncHub(acme_config(), transport=transport),
        "from_config": lambda: AsyncHub.from_config(acme_config(), transport=transport),
        "HubConfig": lambda: AsyncHub(HubConfig.from_file(path), transport=transport),
        "from_file": lambda: AsyncHub.from_file(path, transport=transport),
        "from_env": lambda: AsyncHub.from_env({"PAYHUB_CONFIG": str(path)}, transport=transport),
    }[constructor]
    async with build() as hub:
        await hub.status("pay_1")
    assert calls == ["https://api.acme.example/payments/pay_1"]


@pytest.mark.anyio
@pytest.mark.usefixtures("local")
async def test_an_unknown_gateway_lists_the_configured_ones() -> None:
    async with AsyncHub.from_config(TWO_GATEWAYS, transport=httpx.MockTransport(no_network)) as hub:
        with pytest.raises(ConfigurationError, match="flow, plain") as raised:
            await hub.status("o", gateway="nope")
    assert raised.value.gateway == "nope"


class Crashes:
    Settings = LocalSettings

    def __init__(self, settings: LocalSettings) -> None:
        pass

    @hookimpl
    def payhub_status(self, reference: str) -> Flow[PaymentResult]:
        response = yield httpx.Request("GET", "https://gw.example/status")
        return PaymentResult(status=response.json()["state"], reference=reference)

    @hookimpl
    def payhub_cancel(self, reference: str) -> PaymentResult:
        raise GatewayError("too late to cancel", http_status=409, code="CAPTURED")


@pytest.mark.anyio
async def test_an_exception_inside_an_async_driven_flow_is_wrapped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="payhub")
    use_local_adapters(monkeypatch, local_flow=Crashes)
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"status": "paid"}))
    async with AsyncHub.from_config(local_config(), transport=transport) as hub:
        with pytest.raises(AdapterError) as raised:
            await hub.status("o")
    assert isinstance(raised.value.__cause__, KeyError)
    assert (raised.value.gateway, raised.value.operation) == ("local", "status")
    ids = {r.payhub["request_id"] for r in caplog.records if r.name == "payhub"}  # type: ignore[attr-defined]
    assert ids == {raised.value.request_id}


@pytest.mark.anyio
async def test_a_payhub_error_gets_the_async_call_context(monkeypatch: pytest.MonkeyPatch) -> None:
    use_local_adapters(monkeypatch, local_flow=Crashes)
    async with AsyncHub.from_config(
        local_config(), transport=httpx.MockTransport(no_network)
    ) as hub:
        with pytest.raises(GatewayError) as raised:
            await hub.cancel("o")
    assert (raised.value.gateway, raised.value.operation, raised.value.code) == (
        "local",
        "cancel",
        "CAPTURED",
    )
    assert raised.value.request_id


@pytest.mark.anyio
async def test_async_verify_with_expected_refuses_another_amount(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Verifies:
        Settings = LocalSettings

        def __init__(self, settings: LocalSettings) -> None:
            pass

        @hookimpl
        def payhub_verify(self, evidence: Any) -> PaymentResult:
            return PaymentResult(
                status=PaymentStatus.PAID,
                reference="r",
                invoice_number="INV-1",
                amount=Money("1.00", "USD"),
            )

    use_local_adapters(monkeypatch, local_flow=Verifies)
    async with AsyncHub.from_config(
        local_config(), transport=httpx.MockTransport(no_network)
    ) as hub:
        with pytest.raises(AmountMismatch) as raised:
            await hub.verify(Callback(), expected=invoice())
        assert (await hub.verify(Callback(), expected=invoice(amount="1.00"))).is_paid
    assert raised.value.field == "amount"


@pytest.mark.anyio
@pytest.mark.usefixtures("local")
async def test_a_closed_async_hub_says_so() -> None:
    hub = AsyncHub.from_config(TWO_GATEWAYS, transport=httpx.MockTransport(_answer))
    await hub.aclose()
    with pytest.raises(ConfigurationError, match="closed"):
        await hub.status("o", gateway="flow")


@pytest.mark.anyio
@pytest.mark.usefixtures("local")
async def test_capabilities_of_the_async_hub_need_no_request() -> None:
    async with AsyncHub.from_config(TWO_GATEWAYS, transport=httpx.MockTransport(no_network)) as hub:
        assert hub.capabilities("flow").operations == hub.capabilities().operations
        assert hub.default_gateway == "plain"
