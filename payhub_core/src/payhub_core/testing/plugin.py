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
    """Build a ``Hub`` whose network is a request handler: ``build(config, handler)``.

    ``config`` is what ``Hub.from_config`` takes (a gateway table needs ``adapter`` and
    ``environment``); ``handler`` receives each ``httpx.Request`` the drivers send and
    returns the ``httpx.Response`` to answer with. Returns ``(hub, transport)``:
    ``transport`` is a :class:`~payhub_core.testing.RecordingTransport`; its ``requests``
    are what was sent, in order, as :class:`~payhub_core.testing.Recorded` (``method``,
    ``url``, ``headers``, ``content``, ``.path``, ``.form()``, ``.json()``). Every hub built
    is closed after the test.
    """
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
    """Build an ``AsyncHub`` whose network is a request handler: ``build(config, handler)``.

    The same as ``payhub_hub_factory`` for ``AsyncHub``; ``handler`` may be a plain or an
    ``async`` function. Returns ``(hub, transport)`` with an
    :class:`~payhub_core.testing.AsyncRecordingTransport`. The hub is not closed for you (a
    sync fixture cannot await): use ``async with hub:`` or ``await hub.aclose()`` in the
    test.
    """

    def build(
        config: Mapping[str, Any],
        handler: Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]],
    ) -> tuple[AsyncHub, AsyncRecordingTransport]:
        transport = AsyncRecordingTransport(handler)
        return AsyncHub.from_config(config, transport=transport), transport

    return build
