"""Adapter discovery through the entry point group ``payhub.adapters`` (stevedore).

Loading is per name and lazy: building a hub imports only the adapters it configures. A
broken adapter (import error, not a class, no ``Settings``) does not stop the others; its
error is reported when it is asked for or listed. Two distributions claiming one name is an
error naming both.

One mechanism: the group's entry points are read once per process, on first use, with the
distribution that declares each (``importlib.metadata``, the same source stevedore reads);
stevedore imports the named ones from that list. Later lookups cost a dictionary access, so
building a hub does not grow with the number of installed distributions. A process that
installs an adapter while it runs calls :func:`refresh`.
"""

from __future__ import annotations

import functools
import inspect
import threading
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from payhub_core._errors import AdapterNotFound, ConfigurationError
from payhub_core._models import OPERATIONS, Capabilities, Operation

__all__ = [
    "ADAPTER_GROUP",
    "AdapterInfo",
    "adapter_capabilities",
    "available_adapters",
    "implemented_operations",
    "load_adapter",
    "refresh",
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


def adapter_capabilities(name: str, adapter: type | object) -> Capabilities:
    """What adapter ``name`` (a class or an instance) can do: its ``capabilities`` as
    declared, or, when it declares none, its implemented hooks with any currency.

    The one derivation: ``payhub adapters`` lists it for classes, the hub checks it against
    the hooks each gateway registered.
    """
    declared = getattr(adapter, "capabilities", None)
    if declared is None:
        return Capabilities(currencies=frozenset(), operations=implemented_operations(adapter))
    if not isinstance(declared, Capabilities):
        raise ConfigurationError(f"adapter {name!r} capabilities must be a Capabilities")
    return declared


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


@dataclass(frozen=True)
class _Claim:
    """One distribution's entry point for an adapter name."""

    entry_point: Any  # importlib.metadata.EntryPoint
    distribution: str
    version: str

    @property
    def name(self) -> str:
        return str(self.entry_point.name)

    @property
    def target(self) -> str:
        return str(self.entry_point.value)

    def describe(self) -> str:
        return f"{self.distribution} {self.version} ({self.target})"


_scanned: dict[str, tuple[_Claim, ...]] | None = None
_scan_lock = threading.Lock()


def refresh() -> None:
    """Forget what discovery read: the next lookup scans the installed distributions again.

    Discovery reads the ``payhub.adapters`` entry points once per process, on first use. A
    process that installs an adapter while it runs (a test that puts a throw-away
    distribution on ``sys.path``) calls this before looking the new adapter up.
    """
    global _scanned
    with _scan_lock:
        _scanned = None


def _claims() -> dict[str, tuple[_Claim, ...]]:
    """name -> every distribution that declares it; scanned once per process.

    A lookup after the first costs a dictionary access, so building a hub does not grow
    with the number of installed distributions.
    """
    global _scanned
    scanned = _scanned
    if scanned is None:
        with _scan_lock:
            if _scanned is None:
                _scanned = _scan()
            scanned = _scanned
    return scanned


def _scan() -> dict[str, tuple[_Claim, ...]]:
    """Read who declares which adapter name from the installed distributions' metadata.

    This list, not stevedore's own, is what stevedore loads from (see ``_manager_class``):
    stevedore's list keeps only (name, target) pairs, so it cannot say which distribution
    an adapter comes from, and it merges two distributions' identical declarations into
    one, which would hide a fork installed beside the original.
    """
    from importlib.metadata import entry_points

    claims: dict[str, list[_Claim]] = {}
    seen: set[tuple[str, str, str]] = set()
    described: dict[int, tuple[str, str]] = {}  # one metadata parse per distribution
    for entry_point in entry_points(group=ADAPTER_GROUP):
        dist = getattr(entry_point, "dist", None)
        if id(dist) not in described:
            described[id(dist)] = _distribution(dist)
        dist_name, version = described[id(dist)]
        key = (entry_point.name, dist_name.lower().replace("_", "-"), entry_point.value)
        if key in seen:  # one distribution found twice on sys.path
            continue
        seen.add(key)
        claims.setdefault(entry_point.name, []).append(_Claim(entry_point, dist_name, version))
    return {name: tuple(mine) for name, mine in claims.items()}


def _distribution(dist: Any) -> tuple[str, str]:
    """(name, version) of a distribution; "unknown" for what its metadata does not say."""
    if dist is None:
        return ("unknown", "unknown")
    try:
        name = dist.metadata["Name"]
    except KeyError:
        name = None
    try:
        version = dist.version
    except KeyError:
        version = None
    return (str(name or "unknown"), str(version or "unknown"))


def _conflict(name: str, claims: tuple[_Claim, ...]) -> ConfigurationError:
    return ConfigurationError(
        f"adapter name {name!r} is claimed by more than one distribution: "
        + " and ".join(claim.describe() for claim in claims)
        + "; uninstall all but one of them"
    )


def _load(claims: list[_Claim]) -> dict[str, tuple[Any, BaseException | None]]:
    """name -> (the loaded object, None) or (None, the error loading it), for claims of
    distinct names. stevedore imports them, and only them, one manager each so that an
    error is always that adapter's."""
    loaded: dict[str, tuple[Any, BaseException | None]] = {}
    if not claims:
        return loaded

    def on_failure(_manager: Any, entry_point: Any, error: BaseException) -> None:
        loaded[entry_point.name] = (None, error)

    manager_class = _manager_class()
    for claim in claims:
        try:
            manager = manager_class(
                [claim.entry_point], names=[claim.name], on_load_failure_callback=on_failure
            )
        except AssertionError as error:  # stevedore lets these through its callback
            loaded[claim.name] = (None, error)
            continue
        for extension in manager.extensions:
            loaded[extension.name] = (extension.plugin, None)
    return loaded


@functools.cache
def _manager_class() -> type[Any]:
    """stevedore's named extension manager over the entry points discovery already read;
    defined on first use, so that importing payhub does not import stevedore.

    stevedore does what it is for (import the named entry points, report each failure to
    the callback without stopping the others); the list it loads from is the process-wide
    scan instead of stevedore's own reading of the same metadata, which is blind to
    distributions.
    """
    from stevedore import NamedExtensionManager

    class AdapterManager(NamedExtensionManager[Any]):
        def __init__(
            self, entry_points: list[Any], *, names: list[str], on_load_failure_callback: Any
        ) -> None:
            self._given = entry_points
            super().__init__(
                ADAPTER_GROUP,
                names=names,
                on_load_failure_callback=on_load_failure_callback,
                # every name is in the list; one that failed to import is reported above
                on_missing_entrypoints_callback=lambda _missing: None,
            )

        def list_entry_points(self) -> list[Any]:
            return self._given

    return AdapterManager


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def load_adapter(name: str) -> type:
    """The adapter class registered as ``name``; ``AdapterNotFound`` lists what is installed."""
    claims = _claims()
    mine = claims.get(name, ())
    if not mine:
        installed = sorted(claims)
        raise AdapterNotFound(
            f"no adapter named {name!r} is installed; installed: "
            + (", ".join(installed) if installed else "none (pip install payhub-plutu, ...)"),
            name=name,
            installed=installed,
        )
    if len(mine) > 1:
        raise _conflict(name, mine)
    [only] = mine
    plugin, error = _load([only])[name]
    if error is not None:
        raise AdapterNotFound(
            f"adapter {name!r} from {only.describe()} failed to load: {_describe(error)}",
            name=name,
        ) from error
    return check_adapter_class(name, plugin)


def available_adapters() -> list[AdapterInfo]:
    """Every installed adapter, sorted by name, with its capabilities or its load error.

    Capabilities that depend on settings are shown as the class declares them (or derived
    from its hooks when it declares none). A name claimed by several distributions is
    listed once per claimant, each with the conflict as its error (and not imported).
    """
    claims = _claims()
    loaded = _load([mine[0] for mine in claims.values() if len(mine) == 1])
    infos: list[AdapterInfo] = []
    for name, mine in sorted(claims.items()):
        for claim in mine:
            capabilities = None
            if len(mine) > 1:
                problem: str | None = _describe(_conflict(name, mine))
            else:
                plugin, error = loaded[name]
                problem = _describe(error) if error is not None else None
            if problem is None:
                try:
                    capabilities = adapter_capabilities(name, check_adapter_class(name, plugin))
                except ConfigurationError as exc:
                    problem = _describe(exc)
            infos.append(
                AdapterInfo(
                    name=name,
                    distribution=claim.distribution,
                    version=claim.version,
                    target=claim.target,
                    capabilities=capabilities,
                    error=problem,
                )
            )
    return infos
