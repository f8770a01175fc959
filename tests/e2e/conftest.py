"""End-to-end fixtures: the real sandbox server on 127.0.0.1 with every installed emulator
and the demo merchant, shared by the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from payhub_core.demo import DemoEnvironment
from payhub_core.sandbox import DemoCase


@pytest.fixture(scope="session")
def sandbox() -> Iterator[DemoEnvironment]:
    with DemoEnvironment() as env:
        yield env


@pytest.fixture(scope="session")
def cases(sandbox: DemoEnvironment) -> dict[str, DemoCase]:
    return dict(sandbox.cases())
