"""The pytest plugin (entry point ``pytest11``): fixtures for testing adapters.

- ``payhub_hub_factory``: build a ``Hub`` from a configuration and a request handler;
  returns ``(hub, transport)`` and closes the hub after the test.
- ``payhub_async_hub_factory``: the same for ``AsyncHub``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

import httpx
import pytest

from payhub_core._hub import AsyncHub, Hub
from payhub_core.testing._recorder import AsyncRecordingTransport, RecordingTransport

HubFactory = Callable[
    [Mapping[str, Any], Callable[[httpx.Request], httpx.Response]],
    tuple[Hub, RecordingTransport],
]
AsyncHubFactory = Callable[
    [Mapping[str, Any], Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]],
    tuple[AsyncHub, AsyncRecordingTransport],
]


@pytest.fixture
def payhub_hub_factory() -> Iterator[HubFactory]:
    hubs: list[Hub] = []

    def build(
        config: Mapping[str, Any], handler: Callable[[httpx.Request], httpx.Response]
    ) -> tuple[Hub, RecordingTransport]:
        transport = RecordingTransport(handler)
        hub = Hub.from_config(config, transport=transport)
        hubs.append(hub)
        return hub, transport

    yield build
    for hub in hubs:
        hub.close()


@pytest.fixture
def payhub_async_hub_factory() -> AsyncHubFactory:
    """Build an ``AsyncHub``; close it with ``await hub.aclose()`` (or ``async with``)."""

    def build(
        config: Mapping[str, Any],
        handler: Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]],
    ) -> tuple[AsyncHub, AsyncRecordingTransport]:
        transport = AsyncRecordingTransport(handler)
        return AsyncHub.from_config(config, transport=transport), transport

    return build
