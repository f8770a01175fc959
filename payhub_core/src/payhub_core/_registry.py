"""Adapter discovery through the entry point group ``payhub.adapters`` (stevedore).

Loading is per name and lazy: building a hub imports only the adapters it configures. A
broken adapter (import error, not a class, no ``Settings``) does not stop the others; its
error is reported when it is asked for or listed. Two distributions claiming one name is an
error naming both.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from payhub_core._errors import AdapterNotFound, ConfigurationError
from payhub_core._models import OPERATIONS, Capabilities, Operation

__all__ = [
    "ADAPTER_GROUP",
    "AdapterInfo",
    "available_adapters",
    "derived_capabilities",
    "implemented_operations",
    "load_adapter",
]

ADAPTER_GROUP = "payhub.adapters"


@dataclass(frozen=True)
class AdapterInfo:
    """One installed adapter: where it comes from and what it can do, or why it is broken."""

    name: str
    distribution: str
    version: str
    target: str
    capabilities: Capabilities | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def implemented_operations(adapter: type | object) -> frozenset[Operation]:
    """The operations whose ``payhub_<operation>`` hook the adapter implements."""
    return frozenset(op for op in OPERATIONS if callable(getattr(adapter, f"payhub_{op}", None)))


def derived_capabilities(adapter: type | object) -> Capabilities:
    """Capabilities of an adapter that declares none: its implemented hooks, any currency."""
    return Capabilities(currencies=frozenset(), operations=implemented_operations(adapter))


def check_adapter_class(name: str, candidate: object) -> type:
    """The adapter class behind entry point ``name``, or a ConfigurationError saying why not."""
    if not inspect.isclass(candidate):
        raise ConfigurationError(
            f"adapter {name!r} does not point to a class but to {type(candidate).__name__}"
        )
    settings = getattr(candidate, "Settings", None)
    if not (inspect.isclass(settings) and issubclass(settings, BaseModel)):
        raise ConfigurationError(
            f"adapter {name!r} ({candidate.__qualname__}) has no Settings pydantic model"
        )
    unknown = sorted(
        attr
        for attr in dir(candidate)
        if attr.startswith("payhub_") and attr[len("payhub_") :] not in OPERATIONS
    )
    if unknown:
        raise ConfigurationError(
            f"adapter {name!r} has methods that match no payhub hook: {', '.join(unknown)} "
            f"(hooks are payhub_{', payhub_'.join(OPERATIONS)})"
        )
    return candidate


def _entry_points() -> list[Any]:
    from importlib.metadata import entry_points

    return list(entry_points(group=ADAPTER_GROUP))


def _distribution(entry_point: Any) -> tuple[str, str]:
    """(distribution name, version) of an entry point, found through importlib.metadata
    (stevedore's cached entry points do not carry their distribution)."""
    for candidate in _entry_points():
        if candidate.name == entry_point.name and candidate.value == entry_point.value:
            dist = candidate.dist
            if dist is not None:
                return (dist.metadata["Name"] or "unknown", dist.version or "unknown")
    return ("unknown", "unknown")


@dataclass(frozen=True)
class _Loaded:
    entry_point: Any
    plugin: Any
    error: Exception | None


def _load(names: list[str] | None) -> dict[str, list[_Loaded]]:
    """name -> what stevedore loaded for it (more than one when names collide).

    With ``names``, only those entry points are imported.
    """
    from stevedore import ExtensionManager, NamedExtensionManager

    failures: list[_Loaded] = []

    def on_failure(_manager: Any, entry_point: Any, error: Exception) -> None:
        failures.append(_Loaded(entry_point, None, error))

    manager = (
        ExtensionManager(ADAPTER_GROUP, on_load_failure_callback=on_failure)
        if names is None
        else NamedExtensionManager(ADAPTER_GROUP, names=names, on_load_failure_callback=on_failure)
    )
    loaded: dict[str, list[_Loaded]] = {}
    for extension in manager.extensions:
        loaded.setdefault(extension.name, []).append(
            _Loaded(extension.entry_point, extension.plugin, None)
        )
    for failure in failures:
        loaded.setdefault(failure.entry_point.name, []).append(failure)
    return loaded


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def load_adapter(name: str) -> type:
    """The adapter class registered as ``name``; ``AdapterNotFound`` lists what is installed."""
    candidates = _load([name]).get(name, [])
    if not candidates:
        installed = sorted({ep.name for ep in _entry_points()})
        raise AdapterNotFound(
            f"no adapter named {name!r} is installed; installed: "
            + (", ".join(installed) if installed else "none (pip install payhub-plutu, ...)"),
            name=name,
            installed=installed,
        )
    if len(candidates) > 1:
        claimants = ", ".join(
            f"{_distribution(c.entry_point)[0]} ({c.entry_point.value})" for c in candidates
        )
        raise ConfigurationError(
            f"adapter name {name!r} is claimed by more than one distribution: {claimants}; "
            "uninstall one of them"
        )
    only = candidates[0]
    if only.error is not None:
        raise AdapterNotFound(
            f"adapter {name!r} from {_distribution(only.entry_point)[0]} failed to load: "
            f"{_describe(only.error)}",
            name=name,
        ) from only.error
    return check_adapter_class(name, only.plugin)


def available_adapters() -> list[AdapterInfo]:
    """Every installed adapter, sorted by name, with its capabilities or its load error.

    Capabilities that depend on settings are shown as the class declares them (or derived
    from its hooks when it declares none).
    """
    infos: list[AdapterInfo] = []
    for name, candidates in sorted(_load(None).items()):
        for candidate in candidates:
            dist, version = _distribution(candidate.entry_point)
            problem = _describe(candidate.error) if candidate.error is not None else None
            capabilities = None
            if problem is None and len(candidates) > 1:
                problem = "ConfigurationError: name claimed by more than one distribution"
            if problem is None:
                try:
                    cls = check_adapter_class(name, candidate.plugin)
                    declared = getattr(cls, "capabilities", None)
                    capabilities = (
                        declared
                        if isinstance(declared, Capabilities)
                        else derived_capabilities(cls)
                    )
                except ConfigurationError as exc:
                    problem = _describe(exc)
            infos.append(
                AdapterInfo(
                    name=name,
                    distribution=dist,
                    version=version,
                    target=candidate.entry_point.value,
                    capabilities=capabilities,
                    error=problem,
                )
            )
    return infos
