"""Each extra of payhub-core installs what its modules import, so that a new user's
``pip install 'payhub-core[ledger]'`` (the quick start's line) gives a working ledger: the
ledger's AsyncHub side imports ``sqlalchemy.ext.asyncio``, which needs greenlet, and
SQLAlchemy 2.1 installs greenlet only with its ``asyncio`` extra."""

from __future__ import annotations

import sys
from pathlib import Path

from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parents[2] / "payhub_core" / "pyproject.toml"


def _extra(name: str) -> dict[str, Requirement]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(line) for line in project["optional-dependencies"][name]]
    return {requirement.name.lower(): requirement for requirement in requirements}


def test_the_ledger_extra_brings_sqlalchemys_asyncio_support() -> None:
    ledger = _extra("ledger")
    assert "asyncio" in ledger["sqlalchemy"].extras or "greenlet" in ledger
