"""Server-to-server notifications from an emulator (callbacks, webhooks), sent in the
background like a real gateway: a few attempts, never blocking the page that caused them."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

__all__ = ["Delivery", "Notifier"]


@dataclass
class Delivery:
    url: str
    body: bytes
    headers: dict[str, str]
    attempts: int = 0
    status: int | None = None
    error: str | None = None


@dataclass
class Notifier:
    """Sends POSTs in background tasks and keeps a log of every delivery."""

    attempts: int = 3
    retry_delay: float = 0.5
    timeout: float = 5.0
    deliveries: list[Delivery] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def send(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        delay: float = 0.0,
    ) -> Delivery:
        delivery = Delivery(url=url, body=body, headers=dict(headers))
        self.deliveries.append(delivery)
        task = asyncio.get_running_loop().create_task(self._deliver(delivery, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return delivery

    async def _deliver(self, delivery: Delivery, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            for attempt in range(1, self.attempts + 1):
                delivery.attempts = attempt
                try:
                    response = await client.post(
                        delivery.url, content=delivery.body, headers=delivery.headers
                    )
                    delivery.status, delivery.error = response.status_code, None
                    if response.status_code < 300:
                        return
                except httpx.HTTPError as error:
                    delivery.error = type(error).__name__
                if attempt < self.attempts:
                    await asyncio.sleep(self.retry_delay * attempt)

    async def aclose(self) -> None:
        """Cancel every pending delivery (when the emulator's loop is about to close)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def drain(self) -> None:
        """Wait until every pending delivery has finished (for tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
