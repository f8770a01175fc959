"""Each bundled adapter package (its adapters and its emulator) uses only payhub_core's
public surface: an adapter written the way the bundled ones are needs nothing a third-party
author cannot import."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGES = ["payhub_plutu", "payhub_plural"]


def _sources(package: str) -> tuple[Path, list[Path]]:
    root = Path(importlib.import_module(package).__file__ or "").parent
    return root, sorted(root.rglob("*.py"))


def _private_core_imports(path: Path) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            parts = node.module.split(".")
            if parts[0] == "payhub_core":
                names = [alias.name for alias in node.names]
                if any(part.startswith("_") for part in parts[1:]):
                    found.append(f"from {node.module} import ...")
                found += [f"from payhub_core import {n}" for n in names if n.startswith("_")]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "payhub_core" and any(p.startswith("_") for p in parts[1:]):
                    found.append(f"import {alias.name}")
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_the_package_has_sources(package: str) -> None:
    _, sources = _sources(package)
    assert len(sources) > 5


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_imports_a_private_core_module(package: str) -> None:
    root, sources = _sources(package)
    offenders = {
        str(path.relative_to(root)): found
        for path in sources
        if (found := _private_core_imports(path))
    }
    assert offenders == {}
