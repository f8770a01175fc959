"""Both bundled emulator packages follow one layout: their constants, scenarios, signing
and demo cases import without the ``sandbox`` extra; the Starlette app (and the emulator
class) is imported on first use; the app keeps its emulator on ``app.state.emulator``."""

from __future__ import annotations

import importlib
import subprocess
import sys
from importlib.resources import files
from types import ModuleType

import pytest

# (adapter package, emulator class, the emulator's mount path)
EMULATORS = [
    ("payhub_plutu", "PlutuEmulator", "plutu"),
    ("payhub_plural", "PluralEmulator", "plural"),
]
PACKAGES = [package for package, _, _ in EMULATORS]


def _sandbox(package: str) -> ModuleType:
    return importlib.import_module(f"{package}.sandbox")


@pytest.mark.parametrize(("package", "emulator", "mount"), EMULATORS)
def test_importing_the_package_does_not_import_the_app(
    package: str, emulator: str, mount: str
) -> None:
    code = (
        f"import sys, {package}.sandbox as s; "
        f"s.demo_cases('http://127.0.0.1:8808/{mount}'); "
        "print(sorted(m for m in sys.modules if m.startswith('starlette') "
        f"or m == '{package}.sandbox._app'))"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(("package", "emulator", "mount"), EMULATORS)
def test_the_emulator_class_is_there_when_asked_for(
    package: str, emulator: str, mount: str
) -> None:
    sandbox = _sandbox(package)
    cls = getattr(sandbox, emulator)
    assert cls.__name__ == emulator
    assert emulator in sandbox.__all__


@pytest.mark.parametrize(("package", "emulator", "mount"), EMULATORS)
def test_the_app_keeps_its_emulator_on_its_state(package: str, emulator: str, mount: str) -> None:
    sandbox = _sandbox(package)
    app = sandbox.create_app(f"http://127.0.0.1:8808/{mount}")
    assert isinstance(app.state.emulator, getattr(sandbox, emulator))


def test_both_emulators_have_the_same_module_names() -> None:
    names = {
        package: sorted(
            entry.name
            for entry in files(f"{package}.sandbox").iterdir()
            if entry.name.endswith(".py")
        )
        for package in PACKAGES
    }
    expected = [
        "__init__.py",
        "_app.py",
        "_constants.py",
        "_demo.py",
        "_scenarios.py",
        "_signing.py",
        "_state.py",
        "_validation.py",
    ]
    assert names == dict.fromkeys(PACKAGES, expected)
