"""The test kit: a pytest plugin registered through the ``pytest11`` entry point, with hub
factories over recording mock transports.

The plugin tests run a small test file in a fresh pytest session (``pytester``), as an
adapter author's project would, so the fixtures come from the installed entry point and
nowhere else.
"""

from __future__ import annotations

import json
import threading
from importlib.metadata import entry_points

import httpx
import pytest
from _hubkit import acme_config, acme_payment

from payhub_core import AsyncHub, Hub
from payhub_core.testing import AsyncRecordingTransport, Recorded, RecordingTransport

pytest_plugins = ["pytester"]

# pytest-asyncio, when installed, warns at configure time about an unset option; the inner
# sessions have no use for it either way.
INNER_ARGS = ("-p", "no:asyncio", "-p", "no:cacheprovider")


def test_the_plugin_is_declared_as_a_pytest11_entry_point() -> None:
    [entry_point] = [ep for ep in entry_points(group="pytest11") if ep.name == "payhub"]
    assert entry_point.value == "payhub_core.testing.plugin"
    assert entry_point.dist is not None
    assert entry_point.dist.metadata["Name"] == "payhub-core"


USES_SYNC_FACTORY = """
import httpx

from payhub_core import Hub, PaymentStatus

CONFIG = {"gateways": {"acme": {"adapter": "acme.pay", "api_key": "k", "secret": "s"}}}
BUILT = []


def handler(request):
    return httpx.Response(200, json={"id": "pay_1", "status": "paid", "ref": "INV-1",
                                     "amount_minor": 100, "currency": "USD"})


def test_factory_builds_a_hub_over_a_recording_transport(payhub_hub_factory, request):
    plugin = request.config.pluginmanager.get_plugin("payhub")
    assert plugin is not None and plugin.__name__ == "payhub_core.testing.plugin"
    hub, transport = payhub_hub_factory(CONFIG, handler)
    BUILT.append(hub)
    assert isinstance(hub, Hub)
    assert hub.status("pay_1").status is PaymentStatus.PAID
    assert transport.paths() == ["/payments/pay_1"]
    assert transport.requests[0].method == "GET"
    assert transport.requests[0].headers["authorization"] == "Bearer k"


def test_the_hub_was_closed_after_the_test():
    [hub] = BUILT
    assert hub._client.is_closed
"""


def test_payhub_hub_factory_comes_from_the_entry_point_plugin(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_adapter=USES_SYNC_FACTORY)
    result = pytester.runpytest(*INNER_ARGS)
    result.assert_outcomes(passed=2)


def test_without_the_plugin_the_fixture_does_not_exist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_adapter=USES_SYNC_FACTORY)
    result = pytester.runpytest(*INNER_ARGS, "-p", "no:payhub")
    result.assert_outcomes(errors=1, failed=1)
    result.stdout.fnmatch_lines(["*fixture 'payhub_hub_factory' not found*"])


USES_ASYNC_FACTORY = """
import httpx
import pytest

from payhub_core import AsyncHub

CONFIG = {"gateways": {"acme": {"adapter": "acme.pay", "api_key": "k", "secret": "s"}}}


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def handler(request):
    return httpx.Response(200, json={"id": "pay_1", "status": "canceled", "ref": "INV-1",
                                     "amount_minor": 100, "currency": "USD"})


@pytest.mark.anyio
async def test_async_factory(payhub_async_hub_factory):
    hub, transport = payhub_async_hub_factory(CONFIG, handler)
    assert isinstance(hub, AsyncHub)
    async with hub:
        assert (await hub.cancel("pay_1")).status.value == "canceled"
    assert transport.paths() == ["/payments/pay_1/cancel"]
"""


def test_payhub_async_hub_factory_builds_an_async_hub(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_adapter=USES_ASYNC_FACTORY)
    result = pytester.runpytest(*INNER_ARGS)
    result.assert_outcomes(passed=1)


# -- the recording transports ----------------------------------------------------------


def test_recording_transport_records_each_request_with_its_body() -> None:
    transport = RecordingTransport(lambda request: httpx.Response(200, json=acme_payment()))
    with Hub.from_config(acme_config(), transport=transport) as hub:
        hub.capture("pay_1")
        hub.status("pay_1")
    first, second = transport.requests
    assert isinstance(first, Recorded)
    assert (first.method, first.path) == ("POST", "/payments/pay_1/capture")
    assert first.json() == {}
    assert first.headers["authorization"] == "Bearer acme-key"
    assert str(first.url) == "https://api.acme.example/payments/pay_1/capture"
    assert (second.method, second.content) == ("GET", b"")
    assert transport.paths() == ["/payments/pay_1/capture", "/payments/pay_1"]


def test_recorded_form_bodies_are_parsed_in_order() -> None:
    transport = RecordingTransport(lambda request: httpx.Response(204))
    with httpx.Client(transport=transport) as client:
        client.post("https://gw.example/pay", data={"b": "2", "a": "x y", "empty": ""})
    [recorded] = transport.requests
    assert recorded.form() == {"b": "2", "a": "x y", "empty": ""}
    assert list(recorded.form()) == ["b", "a", "empty"]
    assert recorded.content == b"b=2&a=x+y&empty="


def test_recording_transport_answers_with_the_handler() -> None:
    transport = RecordingTransport(lambda request: httpx.Response(418, text=request.url.path))
    with httpx.Client(transport=transport) as client:
        response = client.get("https://gw.example/teapot")
    assert (response.status_code, response.text) == (418, "/teapot")


def test_recording_transport_keeps_every_request_from_many_threads() -> None:
    transport = RecordingTransport(lambda request: httpx.Response(200))
    with httpx.Client(transport=transport) as client:
        threads = [
            threading.Thread(
                target=lambda i=i: [client.get(f"https://gw.example/{i}/{j}") for j in range(25)]
            )
            for i in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(transport.requests) == 200
    assert len(set(transport.paths())) == 200


@pytest.mark.anyio
async def test_async_recording_transport_takes_sync_and_async_handlers() -> None:
    def sync_handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=acme_payment("refunded"))

    async def async_handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=acme_payment("canceled"))

    for handler, status in ((sync_handler, "refunded"), (async_handler, "canceled")):
        transport = AsyncRecordingTransport(handler)
        async with AsyncHub.from_config(acme_config(), transport=transport) as hub:
            result = await hub.refund("pay_1")
        assert result.status.value == status
        [recorded] = transport.requests
        assert (recorded.method, recorded.path) == ("POST", "/payments/pay_1/refunds")
        assert json.loads(recorded.content) == {}
