"""Adapter discovery over the ``payhub.adapters`` entry point group, for real.

The installed example distribution ``payhub-example-adapter`` 1.2.3 provides ``acme.pay``
(a working adapter), ``acme.broken`` (its module fails to import) and ``acme.notaclass``
(points to an int). Cases that must not live in the shared environment (two distributions
claiming one name, an adapter without ``Settings``) use a second, throw-away distribution:
a real ``.dist-info`` directory on ``sys.path``, found by ``importlib.metadata`` exactly as
an installed wheel would be.
"""

from __future__ import annotations

import importlib.metadata
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stevedore
import stevedore._cache
from _hubkit import acme_config, no_network

from payhub_core import (
    AdapterInfo,
    AdapterNotFound,
    ConfigurationError,
    Hub,
    available_adapters,
)
from payhub_core._registry import ADAPTER_GROUP, load_adapter, refresh

EXAMPLE_DIST = "payhub-example-adapter"
EXAMPLE_VERSION = "1.2.3"

MakeDistribution = Callable[..., Path]


def _by_name(infos: list[AdapterInfo]) -> dict[str, list[AdapterInfo]]:
    found: dict[str, list[AdapterInfo]] = {}
    for info in infos:
        found.setdefault(info.name, []).append(info)
    return found


# -- the installed example distribution ------------------------------------------------


def test_available_adapters_describes_the_installed_example_adapter() -> None:
    infos = _by_name(available_adapters())
    [acme] = infos["acme.pay"]
    assert acme.ok
    assert acme.error is None
    assert (acme.distribution, acme.version) == (EXAMPLE_DIST, EXAMPLE_VERSION)
    assert acme.target == "payhub_example:AcmeAdapter"
    assert acme.capabilities is not None
    assert acme.capabilities.operations == {
        "initiate",
        "verify",
        "capture",
        "cancel",
        "refund",
        "status",
    }


def test_broken_adapters_are_listed_with_their_error_and_do_not_stop_the_others() -> None:
    infos = _by_name(available_adapters())
    [broken] = infos["acme.broken"]
    assert not broken.ok
    assert broken.capabilities is None
    assert broken.error is not None
    assert broken.error.startswith("ImportError:")
    assert "needs a library that is not installed" in broken.error
    assert (broken.distribution, broken.version) == (EXAMPLE_DIST, EXAMPLE_VERSION)

    [notaclass] = infos["acme.notaclass"]
    assert not notaclass.ok
    assert notaclass.error is not None
    assert "does not point to a class" in notaclass.error
    assert notaclass.distribution == EXAMPLE_DIST

    assert infos["acme.pay"][0].ok  # listed and usable despite its broken siblings


def test_available_adapters_are_sorted_by_name() -> None:
    names = [info.name for info in available_adapters()]
    assert names == sorted(names)


def test_load_adapter_returns_the_class_behind_the_entry_point() -> None:
    from payhub_example import AcmeAdapter

    assert load_adapter("acme.pay") is AcmeAdapter


def test_an_unknown_adapter_name_lists_what_is_installed() -> None:
    with pytest.raises(AdapterNotFound) as raised:
        load_adapter("acme.nope")
    error = raised.value
    assert error.name == "acme.nope"
    assert {"acme.pay", "acme.broken", "acme.notaclass"} <= set(error.installed)
    assert "'acme.nope'" in str(error)
    assert "acme.pay" in str(error)


def test_a_hub_configured_with_an_unknown_adapter_names_the_gateway_and_the_installed() -> None:
    config = {"gateways": {"cards": {"adapter": "acme.typo"}}}
    with pytest.raises(AdapterNotFound) as raised:
        Hub.from_config(config, transport=httpx.MockTransport(no_network))
    assert raised.value.gateway == "cards"
    assert "acme.pay" in str(raised.value)
    assert "cards" in str(raised.value)


def test_a_broken_adapter_reports_its_import_error_when_used() -> None:
    config = {"gateways": {"cards": {"adapter": "acme.broken"}}}
    with pytest.raises(ConfigurationError) as raised:
        Hub.from_config(config, transport=httpx.MockTransport(no_network))
    message = str(raised.value)
    assert "acme.broken" in message
    assert "ImportError" in message
    assert "needs a library that is not installed" in message
    assert EXAMPLE_DIST in message
    assert raised.value.gateway == "cards"
    assert isinstance(raised.value.__cause__, ImportError)


def test_an_entry_point_that_is_not_a_class_is_refused_when_used() -> None:
    config = {"gateways": {"cards": {"adapter": "acme.notaclass"}}}
    with pytest.raises(ConfigurationError, match="does not point to a class") as raised:
        Hub.from_config(config, transport=httpx.MockTransport(no_network))
    assert raised.value.gateway == "cards"


def test_a_broken_adapter_does_not_stop_a_hub_that_does_not_use_it() -> None:
    with Hub.from_config(acme_config(), transport=httpx.MockTransport(no_network)) as hub:
        assert hub.gateways == ("acme",)


# -- throw-away distributions ----------------------------------------------------------


@pytest.fixture(params=["stevedore-list-stale", "stevedore-list-fresh"])
def make_distribution(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MakeDistribution]:
    """Install a distribution into a fresh ``sys.path`` entry, then refresh discovery (it
    reads the entry points once per process).

    stevedore keeps its own list of a group's entry points for the life of the process.
    Discovery must not depend on it: "stale" makes stevedore believe the group is empty,
    "fresh" makes it read the group again.
    """
    site = tmp_path / "site"
    site.mkdir()
    created: list[str] = []
    # keep stevedore's on-disk cache for this throw-away sys.path out of the user's home
    if hasattr(stevedore._cache, "_c"):
        monkeypatch.setattr(stevedore._cache._c, "_dir", str(tmp_path / "stevedore-cache"))
    stevedore_list = stevedore.ExtensionManager.ENTRY_POINT_CACHE
    if request.param == "stevedore-list-stale":
        monkeypatch.setitem(stevedore_list, ADAPTER_GROUP, [])
    elif ADAPTER_GROUP in stevedore_list:
        monkeypatch.delitem(stevedore_list, ADAPTER_GROUP)

    def make(
        name: str,
        version: str,
        entry_points: dict[str, str],
        modules: dict[str, str] | None = None,
        *,
        refresh_discovery: bool = True,
    ) -> Path:
        dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
        )
        lines = [f"{key} = {value}" for key, value in entry_points.items()]
        (dist_info / "entry_points.txt").write_text(
            f"[{ADAPTER_GROUP}]\n" + "\n".join(lines) + "\n", encoding="utf-8"
        )
        for module, source in (modules or {}).items():
            (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
            created.append(module)
        monkeypatch.syspath_prepend(str(site))
        if refresh_discovery:
            refresh()
        return site

    yield make
    for module in created:  # the next test's distribution of the same name is another one
        sys.modules.pop(module, None)
    monkeypatch.undo()  # sys.path without the throw-away site ...
    refresh()  # ... and discovery without its adapters


def test_a_name_claimed_by_two_distributions_is_an_error_naming_both(
    make_distribution: MakeDistribution,
) -> None:
    # A fork that ships the same module under another distribution name.
    make_distribution("acme-pay-fork", "0.9", {"acme.pay": "payhub_example:AcmeAdapter"})
    with pytest.raises(ConfigurationError) as raised:
        load_adapter("acme.pay")
    message = str(raised.value)
    assert "acme.pay" in message
    assert f"{EXAMPLE_DIST} {EXAMPLE_VERSION}" in message
    assert "acme-pay-fork 0.9" in message
    assert not isinstance(raised.value, AdapterNotFound)


def test_a_name_claimed_by_two_distributions_with_different_targets_names_both(
    make_distribution: MakeDistribution,
) -> None:
    make_distribution(
        "acme-rival",
        "2.0",
        {"acme.pay": "acme_rival:Adapter"},
        {"acme_rival": "raise ImportError('the rival must not even be imported')\n"},
    )
    with pytest.raises(ConfigurationError) as raised:
        Hub.from_config(acme_config(), transport=httpx.MockTransport(no_network))
    message = str(raised.value)
    assert f"{EXAMPLE_DIST} {EXAMPLE_VERSION} (payhub_example:AcmeAdapter)" in message
    assert "acme-rival 2.0 (acme_rival:Adapter)" in message
    assert raised.value.gateway == "acme"


def test_available_adapters_reports_a_conflict_on_each_claimant(
    make_distribution: MakeDistribution,
) -> None:
    make_distribution("acme-pay-fork", "0.9", {"acme.pay": "payhub_example:AcmeAdapter"})
    claimants = _by_name(available_adapters())["acme.pay"]
    assert sorted((info.distribution, info.version) for info in claimants) == [
        ("acme-pay-fork", "0.9"),
        (EXAMPLE_DIST, EXAMPLE_VERSION),
    ]
    for info in claimants:
        assert not info.ok
        assert info.capabilities is None
        assert info.error is not None
        assert EXAMPLE_DIST in info.error
        assert "acme-pay-fork" in info.error


def test_an_adapter_installed_after_the_first_lookup_is_found_after_refresh(
    make_distribution: MakeDistribution,
) -> None:
    load_adapter("acme.pay")  # the process has looked adapters up before
    make_distribution(
        "payhub-late",
        "0.1",
        {"late.pay": "payhub_late:LateAdapter"},
        {
            "payhub_late": """
            from pydantic import BaseModel

            class LateAdapter:
                class Settings(BaseModel):
                    pass

                def __init__(self, settings):
                    self.settings = settings
            """
        },
        refresh_discovery=False,
    )
    with pytest.raises(AdapterNotFound):  # read once per process ...
        load_adapter("late.pay")
    refresh()  # ... until the process says it installed something
    adapter = load_adapter("late.pay")
    assert adapter.__name__ == "LateAdapter"
    [info] = _by_name(available_adapters())["late.pay"]
    assert (info.distribution, info.version, info.ok) == ("payhub-late", "0.1", True)
    assert info.capabilities is not None
    assert info.capabilities.operations == frozenset()


def test_an_adapter_class_without_settings_is_reported(
    make_distribution: MakeDistribution,
) -> None:
    make_distribution(
        "payhub-nosettings",
        "0.1",
        {"nosettings.pay": "payhub_nosettings:Adapter"},
        {"payhub_nosettings": "class Adapter:\n    pass\n"},
    )
    with pytest.raises(ConfigurationError, match="no Settings pydantic model"):
        load_adapter("nosettings.pay")
    [info] = _by_name(available_adapters())["nosettings.pay"]
    assert info.error is not None
    assert "no Settings pydantic model" in info.error


def test_an_adapter_with_a_misspelled_hook_is_refused_at_discovery(
    make_distribution: MakeDistribution,
) -> None:
    make_distribution(
        "payhub-typo",
        "0.1",
        {"typo.pay": "payhub_typo:Adapter"},
        {
            "payhub_typo": """
            from pydantic import BaseModel

            class Adapter:
                class Settings(BaseModel):
                    pass

                def payhub_refnud(self, reference, amount):
                    return None
            """
        },
    )
    with pytest.raises(ConfigurationError, match="payhub_refnud"):
        load_adapter("typo.pay")
    [info] = _by_name(available_adapters())["typo.pay"]
    assert info.error is not None
    assert "payhub_refnud" in info.error


# -- discovery reads the installed distributions once per process ----------------------


@pytest.fixture
def metadata_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every scan of the installed distributions' entry points (by payhub or by stevedore,
    which both read them through ``importlib.metadata.entry_points``), from now on."""
    reads: list[str] = []
    real_entry_points = importlib.metadata.entry_points

    def entry_points(**selection: Any) -> Any:
        reads.append(f"entry_points({selection})")
        return real_entry_points(**selection)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    return reads


def test_building_hubs_scans_the_installed_distributions_once(metadata_reads: list[str]) -> None:
    refresh()
    config = {
        "gateways": {
            "one": acme_config()["gateways"]["acme"],
            "two": acme_config(api_key="other-key")["gateways"]["acme"],
        }
    }
    for _ in range(3):
        with Hub.from_config(config, transport=httpx.MockTransport(no_network)) as hub:
            assert hub.gateways == ("one", "two")
    load_adapter("acme.pay")
    available_adapters()
    assert len(metadata_reads) == 1, metadata_reads


def test_discovery_reads_nothing_until_it_is_used(metadata_reads: list[str]) -> None:
    refresh()
    assert metadata_reads == []
    load_adapter("acme.pay")
    assert len(metadata_reads) == 1


def test_unrelated_distributions_installed_later_cost_a_hub_nothing(
    make_distribution: MakeDistribution, metadata_reads: list[str]
) -> None:
    load_adapter("acme.pay")
    metadata_reads.clear()
    for number in range(30):
        make_distribution(f"unrelated-{number}", "1.0", {}, refresh_discovery=False)
    with Hub.from_config(acme_config(), transport=httpx.MockTransport(no_network)) as hub:
        assert hub.gateways == ("acme",)
    assert metadata_reads == []


def test_a_failed_import_is_reported_again_on_the_next_lookup() -> None:
    for _ in range(2):
        with pytest.raises(AdapterNotFound, match="needs a library that is not installed"):
            load_adapter("acme.broken")


def test_capabilities_are_derived_by_one_rule_for_listing_and_for_the_hub(
    make_distribution: MakeDistribution,
) -> None:
    """``payhub adapters`` and the hub read capabilities the same way: a ``capabilities``
    that is not a Capabilities is an error in both (the listing used to show it as healthy
    with capabilities derived from its hooks, which the hub then refused)."""
    make_distribution(
        "payhub-junkcaps",
        "0.1",
        {"junkcaps.pay": "payhub_junkcaps:Adapter"},
        {
            "payhub_junkcaps": """
            from pydantic import BaseModel

            class Adapter:
                capabilities = ("status",)

                class Settings(BaseModel):
                    pass

                def __init__(self, settings):
                    self.settings = settings
            """
        },
    )
    [info] = _by_name(available_adapters())["junkcaps.pay"]
    assert not info.ok
    assert info.error is not None
    assert "must be a Capabilities" in info.error
    config = {"gateways": {"junk": {"adapter": "junkcaps.pay"}}}
    with pytest.raises(ConfigurationError, match="must be a Capabilities") as raised:
        Hub.from_config(config, transport=httpx.MockTransport(no_network))
    assert raised.value.gateway == "junk"


def test_an_adapter_whose_import_fails_an_assertion_is_reported_like_any_broken_one(
    make_distribution: MakeDistribution,
) -> None:
    """stevedore lets an ``AssertionError`` from an entry point's import through its failure
    callback; discovery still reports it as that adapter's load error."""
    make_distribution(
        "payhub-asserts",
        "0.1",
        {"asserts.pay": "payhub_asserts:Adapter"},
        {"payhub_asserts": "assert False, 'needs a newer Python'\n"},
    )
    with pytest.raises(AdapterNotFound, match="needs a newer Python") as raised:
        Hub.from_config(
            {"gateways": {"a": {"adapter": "asserts.pay"}}},
            transport=httpx.MockTransport(no_network),
        )
    assert raised.value.gateway == "a"
    assert isinstance(raised.value.__cause__, AssertionError)
    infos = _by_name(available_adapters())
    [info] = infos["asserts.pay"]
    assert info.error is not None
    assert info.error.startswith("AssertionError:")
    assert infos["acme.pay"][0].ok
