"""How the hub calls one gateway's hooks.

Every gateway is registered with a pluggy plugin manager of its own when the hub is built
(``_assembly``): pluggy validates the adapter and each cross-cutting plugin against the
hook specifications there, and a gateway's hooks are only ever called for that gateway.

What the hub keeps afterwards depends on what was registered. When the adapter alone
implements the gateway's hooks (one plain implementation per hook: no plugin, no
wrapper), calling a hook through pluggy means calling that implementation with the
arguments it declares, so the hub keeps exactly that (:class:`_Direct`) and lets the
manager go: a hub with two gateways then holds about 8 KiB less, and each call skips
pluggy's dispatch. As soon as anything else takes part (a plugin, an adapter wrapping its
own hook), the manager stays and pluggy calls every hook as it always does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    from payhub_core.ledger import Change, Payment

__all__ = ["GatewayHooks", "HookCaller", "gateway_hooks"]

_PAYMENT_CHANGED = "payhub_payment_changed"


class HookCaller(Protocol):
    """Calls one hook with keyword arguments, as ``pluggy.HookCaller`` does."""

    def __call__(self, **kwargs: Any) -> Any: ...


class _Direct:
    """A hook with exactly one plain implementation, called as pluggy would call it: the
    arguments the implementation declares, positionally; its keyword-only ones when given;
    its result as it is (the payhub operation hooks are ``firstresult``)."""

    __slots__ = ("argnames", "function", "kwargnames")

    def __init__(self, implementation: pluggy.HookImpl) -> None:
        self.function: Callable[..., Any] = implementation.function
        self.argnames = tuple(implementation.argnames)
        self.kwargnames = tuple(implementation.kwargnames)

    def __call__(self, **kwargs: Any) -> Any:
        try:
            args = [kwargs[name] for name in self.argnames]
        except KeyError as missing:
            raise pluggy.HookCallError(
                f"hook call must provide argument {missing.args[0]!r}"
            ) from missing
        if self.kwargnames:
            named = {name: kwargs[name] for name in self.kwargnames if name in kwargs}
            return self.function(*args, **named)
        return self.function(*args)


class GatewayHooks:
    """The hooks of one assembled gateway, by hook name (``payhub_status``...)."""

    __slots__ = ("_callers",)

    def __init__(self, callers: Mapping[str, HookCaller]) -> None:
        self._callers = dict(callers)

    def caller(self, operation: str) -> HookCaller:
        """The caller of ``payhub_<operation>`` (``KeyError`` when nothing implements it)."""
        return self._callers[f"payhub_{operation}"]

    def accepts(self, operation: str, argument: str) -> bool:
        """Whether an implementation of ``payhub_<operation>`` declares ``argument`` (an
        optional hook argument such as ``merchant_reference``)."""
        caller = self._callers.get(f"payhub_{operation}")
        if isinstance(caller, _Direct):
            return argument in caller.argnames or argument in caller.kwargnames
        implementations = caller.get_hookimpls() if caller is not None else ()  # type: ignore[attr-defined]
        return any(argument in (*i.argnames, *i.kwargnames) for i in implementations)

    @property
    def listening(self) -> bool:
        """Whether anything implements ``payhub_payment_changed``."""
        return _PAYMENT_CHANGED in self._callers

    def notify(self, payment: Payment, change: Change) -> None:
        caller = self._callers.get(_PAYMENT_CHANGED)
        if caller is not None:
            caller(payment=payment, change=change)


def gateway_hooks(manager: pluggy.PluginManager) -> GatewayHooks:
    """What the hub keeps of ``manager`` (one gateway's, fully registered): its hook
    callers, or the single implementations themselves when nothing else takes part."""
    implemented = {
        name: caller.get_hookimpls()
        for name, caller in vars(manager.hook).items()
        if name.startswith("payhub_") and caller.get_hookimpls()
    }
    plain = all(
        len(impls) == 1 and not impls[0].wrapper and not impls[0].hookwrapper
        for impls in implemented.values()
    )
    callers: dict[str, HookCaller] = {
        name: _Direct(impls[0]) if plain else getattr(manager.hook, name)
        for name, impls in implemented.items()
    }
    return GatewayHooks(callers)
