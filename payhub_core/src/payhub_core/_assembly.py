"""Gateway assembly: from one configured gateway to a ready adapter the hub can call.

For each gateway the hub is configured with this module loads the adapter class (through
the registry), validates the gateway's settings against the adapter's ``Settings`` model,
starts the adapter, registers it and the hub's cross-cutting plugins with a pluggy plugin
manager of the gateway's own (so a gateway's hooks are only ever called for that gateway),
and checks that the hooks it registered are the operations it declares. What the hub keeps
of the manager is ``_hooks``' business. Everything that can
be wrong with a configuration is found here, when the hub is built, not on the first call.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pluggy
from pydantic import BaseModel, ValidationError

from payhub_core import _registry, hookspecs
from payhub_core._config import GatewayConfig
from payhub_core._driver import RequestContext
from payhub_core._errors import ConfigurationError, PayhubError
from payhub_core._hooks import GatewayHooks, gateway_hooks
from payhub_core._models import Capabilities, validation_message
from payhub_core._policy import RetryPolicy
from payhub_core._registry import adapter_capabilities, check_adapter_class, implemented_operations
from payhub_core._settings import secret_values

__all__ = ["Gateway", "build_gateway"]

_MAX_RETRIES = 10  # GatewaySettings' own upper bound


@dataclass(frozen=True)
class Gateway:
    """One assembled gateway: its adapter, validated settings, hooks and driver knobs."""

    alias: str
    adapter_name: str
    adapter: Any
    settings: BaseModel
    hooks: GatewayHooks
    capabilities: Capabilities
    timeout: httpx.Timeout
    policy: RetryPolicy
    secrets: tuple[str, ...] = field(repr=False)  # raw values, for redaction only
    # What every call's RequestContext shares, worked out once here rather than per call
    context: RequestContext = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "context", RequestContext.template(self))


def build_gateway(config: GatewayConfig, plugins: Iterable[object]) -> Gateway:
    """Assemble ``config``'s gateway with the hub's ``plugins``; ``ConfigurationError`` (or
    ``AdapterNotFound``) naming the gateway when any part of it does not fit."""
    alias, name = config.alias, config.adapter
    try:
        # Looked up through the module so that tests (and tools) can swap the registry.
        cls: Any = check_adapter_class(name, _registry.load_adapter(name))
    except PayhubError as error:
        error.with_context(gateway=alias)
        raise
    try:
        settings = cls.Settings.model_validate(dict(config.settings))
    except ValidationError as error:
        message, _ = validation_message(error)
        raise ConfigurationError(
            f"gateway {alias!r} ({name}): invalid settings: {message}", gateway=alias
        ) from None
    secrets = tuple(secret_values(settings))
    try:
        adapter = cls(settings)
    except PayhubError as error:
        error.with_context(gateway=alias).scrub(secrets)
        raise
    except Exception as error:
        raise ConfigurationError(
            f"gateway {alias!r}: adapter {name!r} failed to start ({type(error).__name__})",
            gateway=alias,
        ) from error

    try:
        hooks, capabilities = _register(alias, name, adapter, plugins)
    except PayhubError as error:
        # pluggy's messages show the adapter's repr, which may hold what it was given
        error.scrub(secrets)
        raise

    timeout_seconds = float(getattr(settings, "timeout", 30.0))
    connect_seconds = float(getattr(settings, "connect_timeout", 10.0))
    # Settings models that do not extend GatewaySettings are not bounded by it: the
    # retry budget stays bounded whatever they allow.
    max_retries = min(max(int(getattr(settings, "max_retries", 2)), 0), _MAX_RETRIES)
    backoff = max(float(getattr(settings, "retry_backoff", 0.25)), 0.0)
    return Gateway(
        alias=alias,
        adapter_name=name,
        adapter=adapter,
        settings=settings,
        hooks=hooks,
        capabilities=capabilities,
        timeout=httpx.Timeout(timeout_seconds, connect=connect_seconds),
        policy=RetryPolicy(max_retries=max_retries, backoff=backoff),
        secrets=secrets,
    )


def _register(
    alias: str, name: str, adapter: object, plugins: Iterable[object]
) -> tuple[GatewayHooks, Capabilities]:
    """Register ``adapter`` and the cross-cutting ``plugins`` with a plugin manager of their
    own; check that they fit the hooks. Returns the gateway's hooks and capabilities."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)

    def register(plugin: object, what: str, plugin_name: str | None = None) -> None:
        try:
            manager.register(plugin, name=plugin_name)
            manager.check_pending()
        except pluggy.PluginValidationError as error:
            raise ConfigurationError(
                f"gateway {alias!r}: {what} does not fit the payhub hooks: {error}",
                gateway=alias,
            ) from error

    register(adapter, f"adapter {name!r}", f"adapter:{alias}")
    for plugin in plugins:
        what = f"plugin {type(plugin).__qualname__}"
        if manager.is_registered(plugin):
            raise ConfigurationError(f"{what} is given more than once", gateway=alias)
        register(plugin, what)
    callers = manager.get_hookcallers(adapter) or []
    for caller in callers:
        for impl in caller.get_hookimpls():
            if impl.plugin is adapter and (
                inspect.iscoroutinefunction(impl.function)
                or inspect.isasyncgenfunction(impl.function)
            ):
                raise ConfigurationError(
                    f"gateway {alias!r}: adapter {name!r} implements {caller.name} as an "
                    "async function; hooks must return a result or a flow (a plain "
                    "generator): the hub does the I/O",
                    gateway=alias,
                )
    registered = frozenset(caller.name.removeprefix("payhub_") for caller in callers)
    return gateway_hooks(manager), _checked_capabilities(alias, name, adapter, registered)


def _checked_capabilities(
    alias: str, name: str, adapter: object, registered: frozenset[str]
) -> Capabilities:
    """The adapter's capabilities (as the registry derives them for every adapter), checked
    against the hooks pluggy actually registered: a ``payhub_*`` method without
    ``@hookimpl`` would never be called, and a declaration that differs from the hooks
    would make the hub refuse an operation the adapter has, or accept one it has not."""
    unmarked = sorted(implemented_operations(adapter) - registered)
    if unmarked:
        raise ConfigurationError(
            f"gateway {alias!r}: adapter {name!r} defines "
            + ", ".join(f"payhub_{op}" for op in unmarked)
            + " without @hookimpl",
            gateway=alias,
        )
    try:
        capabilities = adapter_capabilities(name, adapter)
    except ConfigurationError as error:
        raise ConfigurationError(f"gateway {alias!r}: {error.message}", gateway=alias) from None
    if capabilities.operations != registered:
        raise ConfigurationError(
            f"gateway {alias!r}: adapter {name!r} declares operations "
            f"{sorted(capabilities.operations)} but implements {sorted(registered)}",
            gateway=alias,
        )
    return capabilities
