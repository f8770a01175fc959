"""Adapter discovery through the entry point group ``payhub.adapters`` (stevedore).

Loading is per name and lazy: building a hub imports only the adapters it configures. A
broken adapter (import error, not a class, no ``Settings``) does not stop the others; its
error is reported when it is asked for or listed. Two distributions claiming one name is an
error naming both.

Who claims which name is read from the installed distributions' metadata
(``importlib.metadata``) on every lookup; stevedore imports the entry points. stevedore's own
entry point cache is not enough for the first job: it does not know distributions, merges
two distributions' identical declarations into one, and is read once per process.
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


def _claims() -> dict[str, list[_Claim]]:
    """name -> every distribution that declares it, read from the installed metadata.

    This is the authority on who claims what: stevedore's entry point cache does not carry
    distributions, merges identical declarations from different distributions, and is
    read once per process.
    """
    from importlib.metadata import entry_points

    claims: dict[str, list[_Claim]] = {}
    seen: set[tuple[str, str, str]] = set()
    for entry_point in entry_points(group=ADAPTER_GROUP):
        dist_name, version = _distribution(entry_point)
        key = (entry_point.name, dist_name.lower().replace("_", "-"), entry_point.value)
        if key in seen:  # one distribution found twice on sys.path
            continue
        seen.add(key)
        claims.setdefault(entry_point.name, []).append(_Claim(entry_point, dist_name, version))
    return claims


def _distribution(entry_point: Any) -> tuple[str, str]:
    """(name, version) of the distribution declaring ``entry_point``; "unknown" for what
    its metadata does not say."""
    dist = getattr(entry_point, "dist", None)
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


def _conflict(name: str, claims: list[_Claim]) -> ConfigurationError:
    return ConfigurationError(
        f"adapter name {name!r} is claimed by more than one distribution: "
        + " and ".join(claim.describe() for claim in claims)
        + "; uninstall all but one of them"
    )


def _load(claims: list[_Claim]) -> dict[tuple[str, str], tuple[Any, BaseException | None]]:
    """(name, target) -> (the loaded object, None) or (None, the error loading it).

    stevedore imports the named entry points; one it does not know yet (installed after
    this process first listed the group) is loaded from its metadata directly.
    """
    from stevedore import NamedExtensionManager

    loaded: dict[tuple[str, str], tuple[Any, BaseException | None]] = {}

    def on_failure(_manager: Any, entry_point: Any, error: BaseException) -> None:
        loaded[(entry_point.name, entry_point.value)] = (None, error)

    if claims:
        manager: NamedExtensionManager[Any] = NamedExtensionManager(
            ADAPTER_GROUP,
            names=sorted({claim.name for claim in claims}),
            on_load_failure_callback=on_failure,
            on_missing_entrypoints_callback=lambda _missing: None,
        )
        for extension in manager.extensions:
            key = (extension.name, extension.entry_point.value)
            loaded[key] = (extension.plugin, None)
    for claim in claims:
        key = (claim.name, claim.target)
        if key not in loaded:
            try:
                loaded[key] = (claim.entry_point.load(), None)
            except Exception as error:
                loaded[key] = (None, error)
    return loaded


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def load_adapter(name: str) -> type:
    """The adapter class registered as ``name``; ``AdapterNotFound`` lists what is installed."""
    claims = _claims()
    mine = claims.get(name, [])
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
    plugin, error = _load(mine)[(only.name, only.target)]
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
    unique = [mine[0] for mine in claims.values() if len(mine) == 1]
    loaded = _load(unique)
    infos: list[AdapterInfo] = []
    for name, mine in sorted(claims.items()):
        for claim in mine:
            capabilities = None
            if len(mine) > 1:
                problem: str | None = _describe(_conflict(name, mine))
            else:
                plugin, error = loaded[(claim.name, claim.target)]
                problem = _describe(error) if error is not None else None
            if problem is None:
                try:
                    cls = check_adapter_class(name, plugin)
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
                    distribution=claim.distribution,
                    version=claim.version,
                    target=claim.target,
                    capabilities=capabilities,
                    error=problem,
                )
            )
    return infos
