"""Flows: gateway conversations written without I/O.

A hook that needs the network returns a generator instead of a result::

    @hookimpl
    def payhub_status(self, reference):
        response = yield httpx.Request("GET", f"{self.base}/orders/{reference}")
        return self._result_from(response)

The hub's driver sends each yielded request (``httpx.Client`` in ``Hub``,
``httpx.AsyncClient`` in ``AsyncHub``) and sends the response back in. Transport failures
come back into the flow as exceptions (``GatewayUnavailable``), thrown at the ``yield``,
so an adapter may catch them where it knows better.

What a flow may yield:

- an ``httpx.Request``: the driver answers with the ``httpx.Response``. Mark a request
  with :func:`idempotent` when repeating it cannot charge twice (a status query, a token
  request); only those are retried after they may have reached the gateway.
- :func:`exclusive` steps, for state that outlives one call: the driver holds a lock,
  named per gateway, around a sub-flow, so that of many concurrent calls needing a fresh
  OAuth token exactly one fetches it (threads in ``Hub``, tasks in ``AsyncHub``).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

__all__ = [
    "Acquire",
    "Flow",
    "Release",
    "Step",
    "exclusive",
    "idempotent",
    "is_idempotent",
]

T = TypeVar("T")

IDEMPOTENT_EXTENSION = "payhub.idempotent"


@dataclass(frozen=True)
class Acquire:
    """Hold the gateway's lock ``key`` until the matching :class:`Release`."""

    key: str


@dataclass(frozen=True)
class Release:
    key: str


Step = httpx.Request | Acquire | Release
Flow = Generator[Step, Any, T]
"""A generator yielding :data:`Step` objects and returning ``T``."""


def idempotent(request: httpx.Request) -> httpx.Request:
    """Mark ``request`` as safe to repeat: sending it twice cannot charge, capture or refund
    twice. The driver retries such requests after timeouts, dropped connections, 429 and 5xx
    answers; all other requests are retried only when the connection was never made."""
    request.extensions[IDEMPOTENT_EXTENSION] = True
    return request


def is_idempotent(request: httpx.Request) -> bool:
    return bool(request.extensions.get(IDEMPOTENT_EXTENSION, False))


def exclusive(key: str, flow: Flow[T]) -> Flow[T]:
    """Run ``flow`` while holding the lock ``key`` (scoped to this gateway of this hub).

    Callers waiting on the lock run the sub-flow after the holder is done, so the sub-flow
    should look at the shared state again first (check, lock, check again)::

        token = yield from exclusive("token", self._token_flow())

    The lock is released as soon as the sub-flow ends, also when it raises: the error
    reaches the caller's flow after the release, so a flow that catches it may go on (and
    take the lock again). The driver also releases whatever a flow still holds when the
    flow itself ends, however it ends.
    """
    yield Acquire(key)
    try:
        result = yield from flow
    except GeneratorExit:  # the flow is being closed: the driver releases the lock
        raise
    except BaseException:
        yield Release(key)
        raise
    yield Release(key)
    return result
