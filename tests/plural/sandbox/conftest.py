from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from plural_sandbox_helpers import BASE, Api

from payhub_core.sandbox import ASGIApp, build_app
from payhub_plural.sandbox import PluralEmulator, emulator


@pytest.fixture
def app() -> ASGIApp:
    """A fresh sandbox holding only the Plural emulator, mounted at /plural."""
    return build_app([emulator], BASE)


@pytest.fixture
async def client(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c


@pytest.fixture
async def api(client: httpx.AsyncClient) -> Api:
    """Logged in: holds a valid access token."""
    api = Api(client)
    await api.login()
    return api


@pytest.fixture
def state(app: ASGIApp) -> PluralEmulator:
    """The emulator instance behind ``app`` (its store, events and notifier)."""
    mounted = app.routes[1].app  # type: ignore[attr-defined]
    found: PluralEmulator = mounted.state.emulator
    return found
