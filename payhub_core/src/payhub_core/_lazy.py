"""Public names imported on first use (PEP 562), for ``payhub_core`` and its packages.

``import payhub_core`` must stay cheap: the models, the hub and the HTTP stack are imported
when a name that needs them is first looked up, and then kept in the package's namespace
(later lookups never come here). A package lists where each of its names lives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_module"]


def lazy_module(
    package: str, namespace: dict[str, Any], sources: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` (whose globals are
    ``namespace``): each name of ``sources`` comes from the module it maps to; any other
    name is tried as a submodule (``payhub_core.ledger`` after a bare ``import
    payhub_core``), as when the package imported them all itself."""

    def attribute(name: str) -> object:
        source = sources.get(name)
        if source is not None:
            value = getattr(import_module(source), name)
        elif name.startswith("__"):  # no submodule is a dunder: keep probes cheap and quiet
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        else:
            try:
                value = import_module(f"{package}.{name}")
            except ModuleNotFoundError as error:
                if error.name != f"{package}.{name}":
                    raise  # the submodule exists and needs something missing: say so
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        namespace[name] = value
        return value

    def names() -> list[str]:
        return sorted({*namespace, *sources})

    return attribute, names
