"""``payhub adapters`` runs the load checks ``payhub check`` (the hub) runs, so that an
adapter a hub would refuse is never listed as healthy.

Discovery already checks what it can see from the class (a class, a ``Settings`` model, no
unknown ``payhub_*`` method). Building a gateway also registers the adapter with pluggy and
compares its hooks with its declared capabilities; that needs no settings, so it is run
here on the class itself, through the same code the hub uses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from payhub_core import _assembly, _registry
from payhub_core._errors import PayhubError
from payhub_core._registry import AdapterInfo

__all__ = ["adapter_problems"]


def _hook_problem(name: str) -> str | None:
    """Why a hub would refuse adapter ``name`` whatever its settings, or ``None``."""
    try:
        cls = _registry.load_adapter(name)
        _assembly._register(name, name, cls, ())
    except PayhubError as error:
        # The hub's messages start with the gateway alias; here there is none.
        message = error.message.removeprefix(f"gateway {name!r}: ")
        return f"{type(error).__name__}: {message}"
    return None


def adapter_problems(infos: Iterable[AdapterInfo]) -> list[AdapterInfo]:
    """``infos`` with every adapter the hub's load checks reject marked broken."""
    checked: list[AdapterInfo] = []
    for info in infos:
        problem = _hook_problem(info.name) if info.ok else None
        if problem is not None:
            info = dataclasses.replace(info, capabilities=None, error=problem)
        checked.append(info)
    return checked
