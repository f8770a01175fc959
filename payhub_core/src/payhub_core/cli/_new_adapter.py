"""``payhub new-adapter NAME``: generate a complete adapter distribution from templates.

The templates (Jinja2, in ``payhub_core/templates/adapter``) give a pyproject with the
``payhub.adapters`` and ``payhub.sandboxes`` entry points, settings, a redirect or an OTP
adapter, an in-memory gateway with its sandbox emulator, the conformance tests and a
README. What is generated installs and passes the conformance suite unedited; the author
then replaces the example wire format with the gateway's own.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Literal

from payhub_core._errors import ConfigurationError
from payhub_core.cli._base import EXIT_OK, Command, UsageError

__all__ = ["COMMANDS", "KINDS", "generate"]

KINDS = ("redirect", "otp")
Kind = Literal["redirect", "otp"]

_NAME = re.compile(r"[a-z][a-z0-9]{1,30}")

# (template, where it goes); "{package}" is the import name.
_FILES: tuple[tuple[str, str, Kind | None], ...] = (
    ("pyproject.toml.jinja", "pyproject.toml", None),
    ("README.md.jinja", "README.md", None),
    ("package/__init__.py.jinja", "src/{package}/__init__.py", None),
    ("package/_settings.py.jinja", "src/{package}/_settings.py", None),
    ("package/_wire.py.jinja", "src/{package}/_wire.py", None),
    ("package/_redirect.py.jinja", "src/{package}/_adapter.py", "redirect"),
    ("package/_otp.py.jinja", "src/{package}/_adapter.py", "otp"),
    ("package/sandbox/__init__.py.jinja", "src/{package}/sandbox/__init__.py", None),
    ("package/sandbox/_gateway.py.jinja", "src/{package}/sandbox/_gateway.py", None),
    ("package/sandbox/_app.py.jinja", "src/{package}/sandbox/_app.py", None),
    ("tests/test_conformance.py.jinja", "tests/test_conformance.py", None),
    ("tests/test_emulator.py.jinja", "tests/test_emulator.py", None),
)


def _variables(name: str, kind: Kind) -> dict[str, str]:
    title = name.capitalize()
    return {
        "name": name,
        "kind": kind,
        "title": title,
        "cls": title,
        "dist": f"payhub-{name}",
        "package": f"payhub_{name}",
        "adapter_name": f"{name}.{'checkout' if kind == 'redirect' else 'wallet'}",
        "canary": secrets.token_hex(4),
    }


def generate(name: str, kind: Kind = "redirect", directory: str | Path = ".") -> Path:
    """Write the distribution ``payhub-<name>`` into ``directory``; returns its folder.

    ``name`` is the gateway's short name (lower-case letters and digits, starting with a
    letter); the adapter is registered as ``<name>.checkout`` (redirect) or
    ``<name>.wallet`` (OTP). An existing, non-empty target folder is never overwritten.
    """
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"NAME must be 2 to 31 lower-case letters and digits, starting with a letter, "
            f"not {name!r}"
        )
    if kind not in KINDS:
        raise UsageError(f"--kind must be one of {', '.join(KINDS)}")
    try:
        import jinja2
    except ImportError:
        raise ConfigurationError(
            "payhub new-adapter needs Jinja2: pip install 'payhub-core[testing]'"
        ) from None
    variables = _variables(name, kind)
    target = Path(directory) / variables["dist"]
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target} exists and is not empty; choose another --dir")
    templates = resources.files("payhub_core").joinpath("templates").joinpath("adapter")
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - Python and TOML sources, not HTML
    )
    rendered: dict[Path, str] = {}
    for template, output, only in _FILES:
        if only is not None and only != kind:
            continue
        source = templates
        for part in template.split("/"):
            source = source.joinpath(part)
        text = environment.from_string(source.read_text("utf-8")).render(variables)
        rendered[target / output.format(package=variables["package"])] = text
    rendered[target / "src" / variables["package"] / "py.typed"] = ""
    try:
        for path, text in rendered.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the path
        reason = error.strerror if isinstance(error, OSError) else str(error)
        raise UsageError(f"cannot write {variables['dist']} into {directory!r}: {reason}") from None
    return target


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the gateway's short name, e.g. acme")
    parser.add_argument(
        "--kind",
        choices=KINDS,
        default="redirect",
        help="redirect: a hosted checkout page and a signed return; otp: a code texted "
        "to the customer (default: redirect)",
    )
    parser.add_argument("--dir", default=".", help="where to create payhub-NAME (default: .)")


def _run(args: argparse.Namespace) -> int:
    target = generate(args.name, args.kind, args.dir)
    files = sorted(str(path.relative_to(target)) for path in target.rglob("*") if path.is_file())
    if args.json:
        document: Mapping[str, object] = {"path": str(target), "files": files}
        print(json.dumps(document, indent=2))
    else:
        print(f"created {target} ({len(files)} files)")
        print(f"next: pip install -e '{target}[test]' && pytest {target}")
    return EXIT_OK


COMMANDS = {
    "new-adapter": Command(
        "generate an adapter distribution that passes the conformance suite",
        _run,
        _arguments,
    )
}
