"""``payhub_core`` and ``payhub_core.ledger`` import their public names on first use.

``import payhub_core`` must stay cheap (no models, no hub, no HTTP stack), a hub without a
``[ledger]`` table must not import the ledger's records or settings, and yet every public
name resolves to exactly the object its private module defines, for attribute access,
``from ... import`` and ``import *`` alike. Each import-state check runs in a fresh
interpreter: this test process has long imported everything.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

import payhub_core
import payhub_core.ledger


def _fresh(code: str) -> list[str]:
    """Run ``code`` in a new interpreter; it prints a JSON list, which is returned."""
    completed = subprocess.run(  # noqa: S603 - this interpreter and our own code
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return list(json.loads(completed.stdout))


def _type_checking_imports(package: ModuleType) -> dict[str, str]:
    """name -> module of the imports under ``if TYPE_CHECKING:`` in ``package``'s source."""
    assert package.__file__ is not None
    tree = ast.parse(Path(package.__file__).read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom)
                assert statement.module is not None
                for alias in statement.names:
                    found[alias.asname or alias.name] = statement.module
    return found


PACKAGES = [payhub_core, payhub_core.ledger]


def test_importing_payhub_core_imports_no_model_hub_or_http_stack() -> None:
    loaded = _fresh(
        """
        import json, sys
        import payhub_core
        print(json.dumps(sorted(sys.modules)))
        """
    )
    mine = [name for name in loaded if name.startswith("payhub")]
    assert mine == ["payhub_core", "payhub_core._lazy"]  # the package and its lookup
    for heavy in ("payhub_core._hub", "payhub_core._models", "httpx", "httpcore", "pydantic"):
        assert heavy not in loaded


def test_a_hub_without_a_ledger_table_imports_no_ledger_records_or_settings() -> None:
    loaded = _fresh(
        """
        import json, sys
        import httpx
        from payhub_core import Hub
        config = {"gateways": {"acme": {"adapter": "acme.pay", "api_key": "acme-key",
                                        "secret": "acme-secret"}}}
        with Hub.from_config(config, transport=httpx.MockTransport(httpx.Response)) as hub:
            assert hub.config.ledger is None
        print(json.dumps(sorted(sys.modules)))
        """
    )
    assert "payhub_core._hub" in loaded
    assert "payhub_core.ledger._methods" in loaded  # the hub's ledger methods are there...
    assert "payhub_core.ledger._records" not in loaded  # ...without what only a ledger needs
    assert "payhub_core.ledger._settings" not in loaded
    assert "sqlalchemy" not in loaded


def test_a_sync_hub_making_calls_imports_no_asyncio() -> None:
    # asyncio (and what it pulls in) costs a sync process ~10 ms at start-up; only the
    # async driver needs it, and a running asyncio loop means it is imported already.
    loaded = _fresh(
        """
        import json, sys
        import httpx
        from payhub_core import Hub
        answer = {"id": "pay_1", "status": "paid", "ref": "INV-1", "amount_minor": 2550,
                  "currency": "USD"}
        config = {"gateways": {"acme": {"adapter": "acme.pay", "api_key": "acme-key",
                                        "secret": "acme-secret"}}}
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
        with Hub.from_config(config, transport=transport) as hub:
            assert hub.status("pay_1").reference == "pay_1"
        print(json.dumps(sorted(sys.modules)))
        """
    )
    assert "payhub_core._driver" in loaded
    assert "asyncio" not in loaded


def test_a_name_resolves_to_the_object_of_its_module_and_only_that_name_is_imported() -> None:
    loaded = _fresh(
        """
        import json, sys
        from payhub_core import Money
        import payhub_core._money
        assert Money is payhub_core._money.Money
        print(json.dumps(sorted(sys.modules)))
        """
    )
    assert "payhub_core._money" in loaded
    assert "payhub_core._hub" not in loaded
    assert "payhub_core._models" not in loaded


@pytest.mark.parametrize("package", PACKAGES, ids=lambda package: package.__name__)
def test_the_lazy_table_matches_all_and_the_type_checking_imports(package: ModuleType) -> None:
    table: dict[str, str] = package._SOURCES
    eager = {"__version__", "upgrade"}  # plain attributes of the packages, not imported
    assert set(table) == set(package.__all__) - eager
    assert _type_checking_imports(package) == table


@pytest.mark.parametrize("package", PACKAGES, ids=lambda package: package.__name__)
def test_every_public_name_is_its_private_modules_object(package: ModuleType) -> None:
    for name, source in package._SOURCES.items():
        assert getattr(package, name) is getattr(importlib.import_module(source), name), name
        assert name in vars(package)  # kept: the next lookup is a plain attribute


@pytest.mark.parametrize("package", PACKAGES, ids=lambda package: package.__name__)
def test_an_unknown_name_raises_the_usual_attribute_error(package: ModuleType) -> None:
    with pytest.raises(AttributeError) as raised:
        package.NoSuchName  # noqa: B018
    assert str(raised.value) == f"module {package.__name__!r} has no attribute 'NoSuchName'"
    with pytest.raises(ImportError, match="cannot import name 'NoSuchName'"):
        exec(f"from {package.__name__} import NoSuchName", {})  # noqa: S102 - the statement tested


@pytest.mark.parametrize("package", PACKAGES, ids=lambda package: package.__name__)
def test_star_import_and_dir_give_every_public_name(package: ModuleType) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {package.__name__} import *", namespace)  # noqa: S102 - the statement tested
    namespace.pop("__builtins__")
    assert set(namespace) == set(package.__all__)
    for name, value in namespace.items():
        assert value is getattr(package, name)
    assert set(package.__all__) <= set(dir(package))


def test_star_import_in_a_fresh_interpreter() -> None:
    names = _fresh(
        """
        import json
        from payhub_core import *
        import payhub_core
        print(json.dumps(sorted(name for name in payhub_core.__all__ if name in globals())))
        """
    )
    assert names == sorted(payhub_core.__all__)


def test_submodules_still_import() -> None:
    loaded = _fresh(
        """
        import json, sys
        import payhub_core.flows, payhub_core.signing, payhub_core.redaction
        import payhub_core.testing, payhub_core.web, payhub_core.ledger, payhub_core.cli
        from payhub_core import _registry, flows
        from payhub_core.ledger import _methods
        assert flows is payhub_core.flows and _registry.available_adapters
        assert _methods.SyncLedgerMethods
        print(json.dumps(sorted(sys.modules)))
        """
    )
    assert "payhub_core.cli" in loaded
    assert "payhub_core.web" in loaded


def test_a_submodule_is_imported_on_first_attribute_access() -> None:
    # As when the package imported them itself: documented spellings such as
    # `payhub_core.ledger.upgrade(url)` and `payhub_core._registry.refresh()`.
    loaded = _fresh(
        """
        import json, sys
        import payhub_core
        before = sorted(sys.modules)
        assert callable(payhub_core.ledger.upgrade)
        assert callable(payhub_core._registry.refresh)
        assert payhub_core.flows is sys.modules["payhub_core.flows"]
        assert payhub_core.ledger._records is sys.modules["payhub_core.ledger._records"]
        print(json.dumps(before))
        """
    )
    assert "payhub_core.ledger" not in loaded  # imported by the attribute access above
    assert not hasattr(payhub_core, "no_such_module")
    assert not hasattr(payhub_core.ledger, "_no_such_module")
