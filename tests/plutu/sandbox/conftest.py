from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from plutu_sandbox_kit import Receiver, client_for, make_app
from starlette.applications import Starlette

from payhub_plutu.sandbox import SandboxConfig
from payhub_plutu.sandbox._app import PlutuEmulator


@pytest.fixture
def config() -> SandboxConfig:
    # late_callback_seconds: long enough that a loaded machine still has the browser back first
    return SandboxConfig(slow_seconds=0.2, late_callback_seconds=1.0, duplicate_callback_delay=0.1)


@pytest.fixture
def emulator_app(config: SandboxConfig) -> tuple[PlutuEmulator, Starlette]:
    return make_app(config)


@pytest.fixture
def sandbox(emulator_app: tuple[PlutuEmulator, Starlette]) -> PlutuEmulator:
    return emulator_app[0]


@pytest.fixture
async def client(emulator_app: tuple[PlutuEmulator, Starlette]) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(emulator_app[1]) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()
