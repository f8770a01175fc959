"""The merchant hook and the optional ``idempotency_key`` hook argument."""

from __future__ import annotations

import inspect

import pluggy

from payhub_core import hookspecs


def test_payment_changed_is_a_plain_notification_hook() -> None:
    manager = pluggy.PluginManager("payhub")
    manager.add_hookspecs(hookspecs)
    caller = manager.hook.payhub_payment_changed
    assert caller.spec is not None
    assert list(caller.spec.argnames) == ["payment", "change"]
    assert caller.spec.opts["firstresult"] is False


def test_idempotency_key_is_optional_for_adapters() -> None:
    """pluggy passes an implementation only the arguments it declares: an adapter written
    before the ledger (``payhub_capture(self, reference, amount)``) still registers."""

    class OldAdapter:
        @hookspecs.hookimpl
        def payhub_capture(self, reference: str, amount: object) -> None:
            return None

    manager = pluggy.PluginManager("payhub")
    manager.add_hookspecs(hookspecs)
    manager.register(OldAdapter())
    manager.check_pending()
    for name in ("payhub_capture", "payhub_cancel", "payhub_refund"):
        assert "idempotency_key" in inspect.signature(getattr(hookspecs, name)).parameters
    assert manager.hook.payhub_capture(reference="r", amount=None, idempotency_key="k") is None
