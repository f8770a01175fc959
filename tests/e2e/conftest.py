"""End-to-end fixtures: the real sandbox server on 127.0.0.1 with every installed emulator
and the demo merchant, shared by the whole session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import Shop

from payhub_core.demo import DemoEnvironment
from payhub_core.sandbox import DemoCase


@pytest.fixture(scope="session")
def sandbox() -> Iterator[DemoEnvironment]:
    with DemoEnvironment() as env:
        yield env


@pytest.fixture(scope="session")
def cases(sandbox: DemoEnvironment) -> dict[str, DemoCase]:
    return dict(sandbox.cases())


@pytest.fixture
def shop(sandbox: DemoEnvironment, cases: dict[str, DemoCase]) -> Iterator[Any]:
    opened: list[Shop] = []

    def open_shop(adapter: str, *, evidence: str | None = None, **overrides: Any) -> Shop:
        """A shop on ``adapter``'s first demo case (with that ``evidence``, if given)."""
        alias, case = next(
            (a, c)
            for a, c in cases.items()
            if c.adapter == adapter and evidence in (None, c.evidence)
        )
        opened.append(Shop(sandbox, alias, case, **overrides))
        return opened[-1]

    yield open_shop
    for each in opened:
        each.hub.close()
