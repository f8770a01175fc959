"""The plutu emulator package follows the layout both emulators share: its constants,
scenarios, signing and demo cases import without the ``sandbox`` extra; the Starlette app
(and ``PlutuEmulator``) is imported on first use; the app keeps its emulator on
``app.state.emulator``."""

from __future__ import annotations

import subprocess
import sys

import payhub_plutu.sandbox as sandbox

EMULATOR_CLASS = "PlutuEmulator"


def test_importing_the_package_does_not_import_the_app() -> None:
    code = (
        "import sys, payhub_plutu.sandbox as s; "
        "s.demo_cases('http://127.0.0.1:8808/plutu'); "
        "print(sorted(m for m in sys.modules if m.startswith('starlette') "
        "or m == 'payhub_plutu.sandbox._app'))"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_the_emulator_class_is_there_when_asked_for() -> None:
    cls = getattr(sandbox, EMULATOR_CLASS)
    assert cls.__name__ == EMULATOR_CLASS
    assert EMULATOR_CLASS in sandbox.__all__


def test_the_app_keeps_its_emulator_on_its_state() -> None:
    app = sandbox.create_app("http://127.0.0.1:8808/plutu")
    assert isinstance(app.state.emulator, getattr(sandbox, EMULATOR_CLASS))


def test_both_emulators_have_the_same_module_names() -> None:
    from importlib.resources import files

    names = sorted(
        entry.name
        for entry in files("payhub_plutu.sandbox").iterdir()
        if entry.name.endswith(".py")
    )
    assert names == [
        "__init__.py",
        "_app.py",
        "_constants.py",
        "_demo.py",
        "_scenarios.py",
        "_signing.py",
        "_state.py",
        "_validation.py",
    ]
