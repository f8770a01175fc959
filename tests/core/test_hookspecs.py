"""The hook contract: pluggy project "payhub", six firstresult operation hooks, and loud
failures at hub build time for adapters that do not fit it.

Adapters that no installed distribution should ship (misspelled hooks and the like) are
test-local classes handed to the hub by ``use_local_adapters``.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator
from typing import Any

import httpx
import pluggy
import pytest
from _hubkit import (
    FlowAdapter,
    LocalSettings,
    PlainAdapter,
    acme_config,
    invoice,
    local_config,
    no_network,
    paid,
    use_local_adapters,
)

from payhub_core import (
    OPERATIONS,
    AsyncHub,
    Capabilities,
    Checkout,
    ConfigurationError,
    Hub,
    PaymentResult,
    UnsupportedOperation,
    hookimpl,
    hookspec,
    hookspecs,
)

HOOK_ARGUMENTS = {
    "payhub_initiate": ["invoice"],
    "payhub_verify": ["evidence"],
    "payhub_capture": ["reference", "amount", "idempotency_key"],
    "payhub_cancel": ["reference", "idempotency_key"],
    "payhub_refund": ["reference", "amount", "idempotency_key"],
    "payhub_status": ["reference", "merchant_reference"],
}


def _build(monkeypatch: pytest.MonkeyPatch, adapter: type, **settings: Any) -> Hub:
    use_local_adapters(monkeypatch, local_flow=adapter)
    return Hub.from_config(local_config(**settings), transport=httpx.MockTransport(no_network))


# -- the specification -----------------------------------------------------------------


def test_markers_belong_to_the_payhub_project() -> None:
    assert hookspecs.PROJECT == "payhub"
    assert hookimpl.project_name == "payhub"
    assert hookspec.project_name == "payhub"


def test_the_six_operation_hooks_have_the_contract_arguments_and_are_firstresult() -> None:
    manager = pluggy.PluginManager("payhub")
    manager.add_hookspecs(hookspecs)
    declared = {name for name in dir(manager.hook) if name.startswith("payhub_")}
    declared.discard("payhub_payment_changed")  # the ledger's merchant hook (tests/ledger)
    assert declared == set(HOOK_ARGUMENTS)
    assert declared == {f"payhub_{op}" for op in OPERATIONS}
    for name, arguments in HOOK_ARGUMENTS.items():
        caller = getattr(manager.hook, name)
        assert caller.spec is not None
        assert list(caller.spec.argnames) == arguments
        assert caller.spec.opts["firstresult"] is True
        assert list(inspect.signature(getattr(hookspecs, name)).parameters) == arguments


# -- adapters that do not fit fail at load ---------------------------------------------


class MisspelledHook(PlainAdapter):
    @hookimpl
    def payhub_captrue(self, reference: str, amount: Any) -> PaymentResult:
        return paid(reference)


def test_a_misspelled_hookimpl_fails_at_hub_build(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="payhub_captrue") as raised:
        _build(monkeypatch, MisspelledHook)
    assert raised.value.gateway == "local"


class MisspelledUnmarked(PlainAdapter):
    def payhub_stauts(self, reference: str) -> PaymentResult:
        return paid(reference)


def test_an_unmarked_misspelled_hook_fails_at_hub_build(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="payhub_stauts") as raised:
        _build(monkeypatch, MisspelledUnmarked)
    assert raised.value.gateway == "local"


class OtherProjectMarker:
    Settings = LocalSettings

    def __init__(self, settings: LocalSettings) -> None:
        pass

    @pluggy.HookimplMarker("payhub")
    def payhub_status(self, reference: str) -> PaymentResult:
        return paid(reference)

    @hookimpl
    def payhub_not_an_operation(self) -> None:
        return None


def test_an_extra_payhub_hook_fails_at_hub_build(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="payhub_not_an_operation"):
        _build(monkeypatch, OtherProjectMarker)


class ExtraHookElsewhere(PlainAdapter):
    @hookimpl
    def pay_status(self, reference: str) -> PaymentResult:
        return paid(reference)


def test_a_hookimpl_matching_no_spec_fails_through_check_pending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConfigurationError, match="pay_status") as raised:
        _build(monkeypatch, ExtraHookElsewhere)
    assert isinstance(raised.value.__cause__, pluggy.PluginValidationError)


class UnmarkedHook(PlainAdapter):
    def payhub_refund(self, reference: str, amount: Any) -> PaymentResult:  # no @hookimpl
        return paid(reference)


def test_an_operation_method_without_hookimpl_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match=r"payhub_refund without @hookimpl"):
        _build(monkeypatch, UnmarkedHook)


class UnknownArgument(PlainAdapter):
    @hookimpl
    def payhub_status(self, reference: str, currency: str) -> PaymentResult:  # type: ignore[override]
        return paid(reference)


def test_a_hookimpl_with_an_unknown_argument_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="currency") as raised:
        _build(monkeypatch, UnknownArgument)
    assert raised.value.gateway == "local"
    assert isinstance(raised.value.__cause__, pluggy.PluginValidationError)


class AsyncHook(PlainAdapter):
    @hookimpl
    async def payhub_status(self, reference: str) -> PaymentResult:  # type: ignore[override]
        return paid(reference)


class AsyncGeneratorHook(PlainAdapter):
    @hookimpl
    async def payhub_cancel(self, reference: str) -> Any:  # type: ignore[override]
        yield httpx.Request("POST", "https://x.example/cancel")


@pytest.mark.parametrize("adapter", [AsyncHook, AsyncGeneratorHook])
def test_an_async_hookimpl_is_refused_at_load(
    monkeypatch: pytest.MonkeyPatch, adapter: type
) -> None:
    # Adapters do no I/O: an async hook breaks firstresult and wrappers, and its coroutine
    # would never be awaited. Say so when the hub is built, not on the first payment.
    with pytest.raises(ConfigurationError, match="async") as raised:
        _build(monkeypatch, adapter)
    assert raised.value.gateway == "local"


# -- capabilities ----------------------------------------------------------------------


class OnlyStatus:
    Settings = LocalSettings

    def __init__(self, settings: LocalSettings) -> None:
        pass

    @hookimpl
    def payhub_status(self, reference: str) -> PaymentResult:
        return paid(reference)


class DeclaresMoreThanItDoes(OnlyStatus):
    capabilities = Capabilities(
        currencies=frozenset({"USD"}), operations=frozenset({"status", "refund"})
    )


class DeclaresLessThanItDoes(PlainAdapter):
    capabilities = Capabilities(currencies=frozenset({"USD"}), operations=frozenset({"status"}))


@pytest.mark.parametrize("adapter", [DeclaresMoreThanItDoes, DeclaresLessThanItDoes])
def test_declared_capabilities_must_equal_the_implemented_hooks(
    monkeypatch: pytest.MonkeyPatch, adapter: type
) -> None:
    with pytest.raises(ConfigurationError, match="declares operations") as raised:
        _build(monkeypatch, adapter)
    assert raised.value.gateway == "local"


class DeclaresJunk(OnlyStatus):
    capabilities = ("status",)


def test_capabilities_must_be_a_capabilities_model(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="must be a Capabilities"):
        _build(monkeypatch, DeclaresJunk)


class DeclaresExactly(OnlyStatus):
    capabilities = Capabilities(
        currencies=frozenset({"LYD"}), operations=frozenset({"status"}), amount_decimals=2
    )


def test_declared_capabilities_are_returned_as_declared(monkeypatch: pytest.MonkeyPatch) -> None:
    with _build(monkeypatch, DeclaresExactly) as hub:
        assert hub.capabilities("local") == DeclaresExactly.capabilities


def test_capabilities_are_derived_from_implemented_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    with _build(monkeypatch, OnlyStatus) as hub:
        capabilities = hub.capabilities()
    assert capabilities.operations == {"status"}
    assert capabilities.supports("status")
    assert not capabilities.supports("refund")


# -- unsupported operations ------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        ("initiate", lambda hub: hub.initiate(invoice())),
        ("capture", lambda hub: hub.capture("ref-1")),
        ("cancel", lambda hub: hub.cancel("ref-1")),
        ("refund", lambda hub: hub.refund("ref-1")),
    ],
)
def test_an_unimplemented_operation_is_unsupported_and_nothing_is_sent(
    monkeypatch: pytest.MonkeyPatch, operation: str, call: Any
) -> None:
    # no_network fails any request
    with _build(monkeypatch, OnlyStatus) as hub, pytest.raises(UnsupportedOperation) as raised:
        call(hub)
    assert raised.value.gateway == "local"
    assert raised.value.operation == operation
    assert "'local'" in str(raised.value)
    assert operation in str(raised.value)


@pytest.mark.anyio
async def test_an_unimplemented_operation_is_unsupported_on_the_async_hub(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_local_adapters(monkeypatch, local_flow=OnlyStatus)
    async with AsyncHub.from_config(
        local_config(), transport=httpx.MockTransport(no_network)
    ) as hub:
        with pytest.raises(UnsupportedOperation) as raised:
            await hub.refund("ref-1")
    assert (raised.value.gateway, raised.value.operation) == ("local", "refund")


# -- cross-cutting plugins -------------------------------------------------------------


class Recorder:
    """A cross-cutting plugin: wraps every operation hook of every gateway."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def _wrap(self, operation: str) -> Generator[None, Any, Any]:
        outcome = yield
        self.seen.append((operation, outcome))
        return outcome

    @hookimpl(wrapper=True)
    def payhub_initiate(self, invoice: Any) -> Generator[None, Any, Any]:
        return (yield from self._wrap("initiate"))

    @hookimpl(wrapper=True)
    def payhub_status(self, reference: str) -> Generator[None, Any, Any]:
        return (yield from self._wrap("status"))


def _two_gateways() -> dict[str, Any]:
    return {
        "default": "plain",
        "gateways": {
            "plain": {"adapter": "local.plain"},
            "flow": {"adapter": "local.flow"},
        },
    }


def _orders(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/orders":
        return httpx.Response(200, json={"reference": "ord-9"})
    return httpx.Response(200, json={"status": "paid"})


def test_a_wrapper_plugin_wraps_every_gateways_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    use_local_adapters(monkeypatch, local_plain=PlainAdapter, local_flow=FlowAdapter)
    recorder = Recorder()
    hub = Hub.from_config(
        _two_gateways(), transport=httpx.MockTransport(_orders), plugins=[recorder]
    )
    with hub:
        hub.initiate(invoice(), gateway="plain")
        hub.initiate(invoice(), gateway="flow")
        hub.status("ref-1", gateway="plain")
        hub.status("ref-1", gateway="flow")
        hub.cancel("ref-1", gateway="flow")  # not wrapped: the plugin has no payhub_cancel
    operations = [operation for operation, _ in recorder.seen]
    assert operations == ["initiate", "initiate", "status", "status"]
    # the wrapper sees the hook's outcome: a result, or a flow the driver will run
    assert isinstance(recorder.seen[0][1], Checkout)
    assert inspect.isgenerator(recorder.seen[1][1])
    assert isinstance(recorder.seen[2][1], PaymentResult)


@pytest.mark.anyio
async def test_a_wrapper_plugin_wraps_hooks_in_the_async_hub(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_local_adapters(monkeypatch, local_plain=PlainAdapter, local_flow=FlowAdapter)
    recorder = Recorder()
    hub = AsyncHub.from_config(
        _two_gateways(), transport=httpx.MockTransport(_orders), plugins=[recorder]
    )
    async with hub:
        await hub.status("ref-1", gateway="plain")
        await hub.status("ref-1", gateway="flow")
    assert [operation for operation, _ in recorder.seen] == ["status", "status"]


class ReplacingWrapper:
    @hookimpl(wrapper=True)
    def payhub_status(self, reference: str) -> Generator[None, Any, Any]:
        yield
        return paid("replaced-by-plugin")


def test_a_wrapper_can_change_the_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    use_local_adapters(monkeypatch, local_plain=PlainAdapter)
    config = local_config(adapter="local.plain")
    with Hub.from_config(
        config, transport=httpx.MockTransport(no_network), plugins=[ReplacingWrapper()]
    ) as hub:
        assert hub.status("ref-1").reference == "replaced-by-plugin"


class BadPlugin:
    @hookimpl
    def payhub_status(self, reference: str, verbose: bool) -> None:
        return None


def test_a_plugin_that_does_not_fit_the_hooks_fails_at_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_local_adapters(monkeypatch, local_plain=PlainAdapter)
    with pytest.raises(ConfigurationError, match="verbose") as raised:
        Hub.from_config(
            local_config(adapter="local.plain"),
            transport=httpx.MockTransport(no_network),
            plugins=[BadPlugin()],
        )
    assert "BadPlugin" in str(raised.value)
    assert raised.value.gateway == "local"


def test_the_same_plugin_given_twice_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_local_adapters(monkeypatch, local_plain=PlainAdapter)
    recorder = Recorder()
    with pytest.raises(ConfigurationError, match="more than once"):
        Hub.from_config(
            local_config(adapter="local.plain"),
            transport=httpx.MockTransport(no_network),
            plugins=[recorder, recorder],
        )


def test_an_adapters_hooks_are_only_called_for_its_own_gateway() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.host)
        return httpx.Response(
            200,
            json={
                "id": "p",
                "status": "paid",
                "ref": "INV-1",
                "amount_minor": 1,
                "currency": "USD",
            },
        )

    config = acme_config()
    config["gateways"]["eu"] = {**config["gateways"]["acme"], "base_url": "https://eu.acme.example"}
    with Hub.from_config(config, transport=httpx.MockTransport(handler)) as hub:
        hub.status("p", gateway="eu")
        hub.status("p", gateway="acme")
    assert calls == ["eu.acme.example", "api.acme.example"]
