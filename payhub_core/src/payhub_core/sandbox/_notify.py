"""Server-to-server notifications from an emulator (callbacks, webhooks), sent in the
background like a real gateway: a few attempts, never blocking the page that caused them.

Where a notification may go is restricted. The sandbox has no authentication, and the
targets come from whoever talks to it (a T-Lync ``callback_url``, a webhook URL set with
``PUT /_sandbox/config``): without a limit, anyone who can reach the sandbox could make it
POST to any server its machine can reach. So by default a notifier POSTs only to loopback
hosts (``127.0.0.0/8``, ``::1``, ``localhost``); other hosts must be allowed by name
(``SandboxServer(notify_hosts=...)``, ``payhub sandbox --notify-host``), or all of them
with ``"*"``. A refused notification is not sent: its :class:`Delivery` says why, and a
warning goes to the ``payhub`` logger.
"""

from __future__ import annotations

import asyncio
import contextvars
import ipaddress
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

__all__ = ["ANY_HOST", "Delivery", "Notifier", "is_loopback"]

ANY_HOST = "*"
"""In ``notify_hosts``: every host may receive notifications."""

logger = logging.getLogger("payhub")

# The hosts (besides loopback) the sandbox server currently serving a request allows; set
# by SandboxServer around every request, so an emulator's own Notifier follows the server
# it is mounted in without the emulator knowing about it.
current_notify_hosts: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "payhub_sandbox_notify_hosts", default=frozenset()
)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``)."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


@dataclass
class Delivery:
    """One notification: where it went, how many attempts, the last status or error."""

    url: str
    body: bytes
    headers: dict[str, str]
    attempts: int = 0
    status: int | None = None
    error: str | None = None


@dataclass
class Notifier:
    """Sends POSTs in background tasks and keeps a log of every delivery.

    ``allowed_hosts``: hosts besides loopback it may POST to (``"*"`` for any). ``None``
    follows the sandbox server serving the request (loopback only unless that server was
    told otherwise).
    """

    attempts: int = 3
    retry_delay: float = 0.5
    timeout: float = 5.0
    allowed_hosts: Collection[str] | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def refusal(self, url: str) -> str | None:
        """Why a notification to ``url`` would not be sent, or ``None`` if it would."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            return "refused: not a valid URL"
        if parts.scheme not in ("http", "https") or not host:
            return "refused: not an absolute http(s) URL"
        allowed = current_notify_hosts.get() if self.allowed_hosts is None else self.allowed_hosts
        wanted = {name.lower().rstrip(".") for name in allowed}
        if is_loopback(host) or ANY_HOST in wanted or host.rstrip(".") in wanted:
            return None
        return (
            f"refused: the sandbox only notifies loopback hosts, and {host!r} is not one; "
            f"allow it with `payhub sandbox --notify-host {host}` "
            "(or SandboxServer(notify_hosts=...))"
        )

    def send(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        delay: float = 0.0,
    ) -> Delivery:
        """Deliver ``body`` to ``url`` in the background (after ``delay`` seconds); a
        target that is not allowed gets no request and a delivery saying why."""
        delivery = Delivery(url=url, body=body, headers=dict(headers))
        self.deliveries.append(delivery)
        refusal = self.refusal(url)
        if refusal is not None:
            delivery.error = refusal
            logger.warning("sandbox notification not sent: %s", refusal)
            return delivery
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
