"""How the hub calls a gateway's hooks: directly when the adapter alone implements them,
through pluggy as soon as anything else takes part (payhub_core/_hooks.py)."""

from __future__ import annotations

import gc
from collections.abc import Generator
from typing import Any

import pluggy
import pytest
from _hubkit import LocalSettings, PlainAdapter, local_config, use_local_adapters

from payhub_core import Hub, PaymentResult, PaymentStatus, hookimpl, hookspecs
from payhub_core._hooks import _Direct, gateway_hooks
from payhub_core.hookspecs import PROJECT


def _managers() -> int:
    gc.collect()
    return sum(isinstance(item, pluggy.PluginManager) for item in gc.get_objects())


class _Wrapper:
    def __init__(self) -> None:
        self.seen: list[str] = []

    @hookimpl(wrapper=True)
    def payhub_status(self, reference: str) -> Generator[None, Any, Any]:
        self.seen.append(reference)
        return (yield)


class _FindsByMerchantReference(PlainAdapter):
    """``status`` declares the optional argument and shows what it received."""

    @hookimpl
    def payhub_status(  # type: ignore[override]
        self, reference: str, merchant_reference: str | None
    ) -> PaymentResult:
        return PaymentResult(
            status=PaymentStatus.PAID,
            reference=reference or "found",
            raw={"asked_with": repr(merchant_reference)},
        )


def test_a_hub_whose_adapters_alone_implement_the_hooks_keeps_no_plugin_manager(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_local_adapters(monkeypatch, local_plain=PlainAdapter)
    before = _managers()
    hubs = [Hub.from_config(local_config("local.plain")) for _ in range(3)]
    assert _managers() == before  # each gateway's manager was let go once validated
    assert hubs[0].status("ref-9").reference == "ref-9"  # and the hooks are still called
    for hub in hubs:
        hub.close()


def test_a_plugin_keeps_the_manager_and_pluggy_calls_it_around_the_adapter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_local_adapters(monkeypatch, local_plain=PlainAdapter)
    before = _managers()
    wrapper = _Wrapper()
    with Hub.from_config(local_config("local.plain"), plugins=[wrapper]) as hub:
        assert _managers() == before + 1
        assert hub.status("ref-7").reference == "ref-7"
    assert wrapper.seen == ["ref-7"]


def test_a_direct_hook_passes_only_the_arguments_the_implementation_declares(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # PlainAdapter.payhub_status takes no merchant_reference; the hub passes it to every
    # hook (as None), as it does through pluggy.
    use_local_adapters(monkeypatch, local_plain=PlainAdapter, local_finds=_FindsByMerchantReference)
    config = {
        "gateways": {
            "plain": {"adapter": "local.plain"},
            "finds": {"adapter": "local.finds"},
        }
    }
    with Hub.from_config(config) as hub:
        assert hub.status("r-1", gateway="plain").reference == "r-1"
        assert hub.status("r-2", gateway="finds").raw == {"asked_with": "None"}
        # what the ledger asks before reconciling a lost initiate
        assert not hub._gateways["plain"].hooks.accepts("status", "merchant_reference")
        assert hub._gateways["finds"].hooks.accepts("status", "merchant_reference")


def _manager_with(*plugins: object) -> pluggy.PluginManager:
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(hookspecs)
    for plugin in plugins:
        manager.register(plugin)
    return manager


def test_a_direct_call_fails_like_pluggy_when_an_argument_is_missing() -> None:
    adapter = PlainAdapter(LocalSettings())
    manager = _manager_with(adapter)
    direct = gateway_hooks(manager).caller("status")
    assert isinstance(direct, _Direct)
    with pytest.raises(pluggy.HookCallError, match="'reference'") as ours:
        direct()
    with pytest.raises(pluggy.HookCallError) as theirs, pytest.warns(UserWarning, match="hookspec"):
        manager.hook.payhub_status()  # pluggy also warns about the spec's arguments
    assert str(ours.value) == str(theirs.value)


def test_direct_and_pluggy_calls_return_the_same_for_every_operation() -> None:
    adapter = PlainAdapter(LocalSettings())
    manager = _manager_with(adapter)
    hooks = gateway_hooks(manager)
    arguments: dict[str, dict[str, Any]] = {
        "capture": {"reference": "r", "amount": None, "idempotency_key": None},
        "cancel": {"reference": "r", "idempotency_key": None},
        "refund": {"reference": "r", "amount": None, "idempotency_key": None},
        "status": {"reference": "r", "merchant_reference": None},
    }
    for operation, kwargs in arguments.items():
        through_pluggy = getattr(manager.hook, f"payhub_{operation}")(**kwargs)
        assert hooks.caller(operation)(**kwargs) == through_pluggy


def test_nothing_listens_for_payment_changes_unless_something_implements_the_hook() -> None:
    class Listener:
        def __init__(self) -> None:
            self.changes: list[object] = []

        @hookimpl
        def payhub_payment_changed(self, payment: object, change: object) -> None:
            self.changes.append(change)

    adapter = PlainAdapter(LocalSettings())
    assert not gateway_hooks(_manager_with(adapter)).listening
    listener = Listener()
    hooks = gateway_hooks(_manager_with(adapter, listener))
    assert hooks.listening
    hooks.notify(payment=object(), change="c-1")  # type: ignore[arg-type]
    assert listener.changes == ["c-1"]
