"""docs/testing-kit.md is the reference a failing author searches: every check has its own
heading there, and every fixture and strategy is listed with its signature."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from payhub_core.testing import strategies
from payhub_core.testing.conformance import CHECKS, AdapterConformance

PAGE = (Path(__file__).resolve().parents[3] / "docs" / "testing-kit.md").read_text("utf-8")


def test_every_check_has_a_heading_and_a_test_method() -> None:
    headings = re.findall(r"^#### `([a-z_]+)`$", PAGE, flags=re.MULTILINE)
    assert headings == list(CHECKS)
    for check in CHECKS:
        assert callable(getattr(AdapterConformance, f"test_{check}"))


def test_every_strategy_and_fixture_is_listed_with_its_parameters() -> None:
    for name in strategies.__all__:
        obj = getattr(strategies, name)
        if not inspect.isfunction(obj):
            assert f"`{name}`" in PAGE
            continue
        assert f"| `{name}` | `{name}(" in PAGE, name
        for parameter in inspect.signature(obj).parameters:
            assert parameter in PAGE, (name, parameter)
    for fixture in ("payhub_hub_factory", "payhub_async_hub_factory"):
        assert f"### `{fixture}`" in PAGE
        assert f"`{fixture}(config: Mapping[str, Any], handler:" in PAGE
