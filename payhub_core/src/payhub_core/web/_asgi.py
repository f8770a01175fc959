"""The endpoints as a plain ASGI application, to mount in FastAPI, Starlette or Litestar
(or to serve alone with any ASGI server). No framework is needed to run it."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread

from payhub_core._errors import MalformedCallback, PayhubError
from payhub_core.web._endpoint import Endpoints, Outcome, Receive, Route, WebResponse, adrive
from payhub_core.web._requests import BodyTooLarge, callback_from_asgi
from payhub_core.web._settings import WebSettings

__all__ = ["PayhubASGI", "asgi_app"]

logger = logging.getLogger("payhub.web")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIReceive = Callable[[], Awaitable[Message]]
ASGISend = Callable[[Message], Awaitable[None]]


def route_path(scope: Scope) -> str:
    """The request path below the mount: servers and Starlette's ``Mount`` keep the full
    ``path`` and put the mount in ``root_path``; others strip it already."""
    path = str(scope.get("path", "/"))
    root = str(scope.get("root_path", ""))
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


async def read_body(receive: ASGIReceive, limit: int) -> bytes:
    """The whole request body; ``BodyTooLarge`` past ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise MalformedCallback("the client disconnected before sending the whole body")
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"the request body is larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def send_response(send: ASGISend, response: WebResponse) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [
                (name.encode("latin-1"), value.encode("latin-1"))
                for name, value in (
                    *response.headers,
                    ("content-length", str(len(response.body))),
                )
            ],
        }
    )
    await send({"type": "http.response.body", "body": response.body})


class PayhubASGI:
    """payhub's return, callback and webhook endpoints for one hub, as an ASGI app.

    ``hub`` is an ``AsyncHub`` (awaited) or a ``Hub`` (run in a worker thread). Mount it
    at ``[web] mount`` (``/payhub`` by default), the path ``initiate`` puts in the URLs it
    fills in.
    """

    def __init__(
        self,
        hub: Any,
        *,
        outcome: Outcome | None = None,
        settings: WebSettings | None = None,
    ) -> None:
        self.hub = hub
        self.endpoints = Endpoints.for_hub(hub, outcome=outcome, settings=settings)
        self._awaitable = inspect.iscoroutinefunction(hub.receive)
        self._warned_mount = False

    async def _receive(self, step: Receive) -> Any:
        arguments = {"gateway": step.gateway, "source": step.source}
        if self._awaitable:
            return await self.hub.receive(step.callback, **arguments)

        def call() -> Any:
            return self.hub.receive(step.callback, **arguments)

        return await anyio.to_thread.run_sync(call)

    def _check_mount(self, scope: Scope) -> None:
        settings = self.endpoints.settings
        root = str(scope.get("root_path", ""))
        if self._warned_mount or settings.public_url is None or not root:
            return
        if not root.endswith(settings.mount):
            self._warned_mount = True
            logger.warning(
                "the payhub endpoints are mounted at %r but [web] mount is %r: the URLs "
                "initiate fills in point at the configured mount",
                root,
                settings.mount,
            )

    async def __call__(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise ValueError(f"the payhub endpoints serve HTTP, not {scope['type']!r}")
        self._check_mount(scope)
        routed = self.endpoints.route(str(scope["method"]), route_path(scope))
        if isinstance(routed, WebResponse):
            await send_response(send, routed)
            return
        await send_response(send, await self._respond(scope, receive, routed))

    async def _respond(self, scope: Scope, receive: ASGIReceive, route: Route) -> WebResponse:
        try:
            body = await read_body(receive, self.endpoints.max_body)
            callback = callback_from_asgi(scope, body)
        except PayhubError as error:
            return self.endpoints.failed(route, error)
        return await adrive(self.endpoints.handle(route, callback), self._receive)


async def _lifespan(receive: ASGIReceive, send: ASGISend) -> None:
    # Served alone, the app has nothing to start: the hub is the caller's to open and close.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def asgi_app(
    hub: Any, *, outcome: Outcome | None = None, settings: WebSettings | None = None
) -> PayhubASGI:
    """The endpoints of ``hub`` as an ASGI app: ``app.mount("/payhub", asgi_app(hub))``."""
    return PayhubASGI(hub, outcome=outcome, settings=settings)
