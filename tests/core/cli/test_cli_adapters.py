"""``payhub adapters``: the same load checks as ``payhub check`` (an adapter a hub refuses
is never listed healthy), and JSON output that does not change from run to run."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import stevedore
from cli_support import run, run_process, write

from payhub_core._registry import ADAPTER_GROUP, refresh

CAPSYS = pytest.CaptureFixture[str]

# Adapters discovery accepts (a class, a Settings model, only known hook names) but a hub
# refuses when it builds a gateway with them.
REFUSED_BY_THE_HUB = '''
from pydantic import BaseModel

from payhub_core import Capabilities, hookimpl


class Settings(BaseModel):
    pass


class Unmarked:
    """payhub_verify without @hookimpl: pluggy would never call it."""

    Settings = Settings

    def __init__(self, settings):
        self.settings = settings

    @hookimpl
    def payhub_initiate(self, invoice):
        return None

    def payhub_verify(self, evidence):
        return None


class Overclaims:
    """Declares a refund it does not implement."""

    Settings = Settings
    capabilities = Capabilities(
        currencies=frozenset({"USD"}), operations=frozenset({"initiate", "refund"})
    )

    def __init__(self, settings):
        self.settings = settings

    @hookimpl
    def payhub_initiate(self, invoice):
        return None
'''


@pytest.fixture
def refused_adapters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A throw-away distribution declaring ``cli.unmarked`` and ``cli.overclaims``."""
    site = tmp_path / "site"
    dist_info = site / "payhub_cli_refused-1.0.dist-info"
    dist_info.mkdir(parents=True)
    write(dist_info / "METADATA", "Metadata-Version: 2.1\nName: payhub-cli-refused\nVersion: 1.0\n")
    write(
        dist_info / "entry_points.txt",
        f"[{ADAPTER_GROUP}]\n"
        "cli.unmarked = payhub_cli_refused:Unmarked\n"
        "cli.overclaims = payhub_cli_refused:Overclaims\n",
    )
    write(site / "payhub_cli_refused.py", textwrap.dedent(REFUSED_BY_THE_HUB))
    if hasattr(stevedore._cache, "_c"):  # stevedore's on-disk cache, out of the user's home
        monkeypatch.setattr(stevedore._cache._c, "_dir", str(tmp_path / "stevedore-cache"))
    if ADAPTER_GROUP in stevedore.ExtensionManager.ENTRY_POINT_CACHE:
        monkeypatch.delitem(stevedore.ExtensionManager.ENTRY_POINT_CACHE, ADAPTER_GROUP)
    monkeypatch.syspath_prepend(str(site))
    refresh()
    yield
    sys.modules.pop("payhub_cli_refused", None)
    monkeypatch.undo()
    refresh()


@pytest.mark.usefixtures("refused_adapters")
@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("cli.unmarked", "defines payhub_verify without @hookimpl"),
        ("cli.overclaims", "declares operations ['initiate', 'refund'] but implements"),
    ],
)
def test_an_adapter_the_hub_refuses_is_listed_broken(
    capsys: CAPSYS, tmp_path: Path, name: str, why: str
) -> None:
    ran = run(capsys, "adapters", "--json")
    assert ran.code == 1  # a broken adapter is installed
    [listed] = [entry for entry in ran.json()["adapters"] if entry["name"] == name]
    assert listed["ok"] is False
    assert listed["capabilities"] is None
    assert why in listed["error"]

    ran = run(capsys, "adapters")
    [line] = [line for line in ran.out.splitlines() if line.startswith(name)]
    assert "BROKEN" in line
    assert why in line

    # ... for the reason check gives when a gateway uses it
    write(tmp_path / "payhub.toml", f'[gateways.x]\nadapter = "{name}"\n')
    ran = run(capsys, "check")
    assert ran.code == 3
    assert why in ran.err


def test_healthy_adapters_stay_healthy(capsys: CAPSYS) -> None:
    listing = {
        entry["name"]: entry for entry in run(capsys, "adapters", "--json").json()["adapters"]
    }
    assert listing["plutu.localbankcards"]["ok"] is True
    assert listing["plural.checkout"]["capabilities"]["operations"] == [
        "initiate",
        "verify",
        "capture",
        "cancel",
        "refund",
        "status",
    ]
    assert listing["acme.broken"]["ok"] is False


def test_json_output_is_the_same_every_run(tmp_path: Path) -> None:
    # separate processes: set and frozenset order changes with the hash seed
    first = run_process("adapters", "--json", cwd=tmp_path, env={"PYTHONHASHSEED": "1"})
    second = run_process("adapters", "--json", cwd=tmp_path, env={"PYTHONHASHSEED": "2"})
    assert first.out == second.out
    adapters = first.json()["adapters"]
    assert [entry["name"] for entry in adapters] == sorted(entry["name"] for entry in adapters)
    for entry in adapters:
        caps = entry["capabilities"]
        if caps is not None:
            assert caps["currencies"] == sorted(caps["currencies"])
            assert caps["flows"] == sorted(caps["flows"])


def test_the_table_lists_every_adapter_once(capsys: CAPSYS) -> None:
    ran = run(capsys, "adapters")
    names = [line.split()[0] for line in ran.out.splitlines()[2:]]
    assert len(names) == len(set(names))
    assert "plutu.sadad" in names
