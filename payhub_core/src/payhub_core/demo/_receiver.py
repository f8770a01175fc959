"""The merchant's side of the demo: a tiny site that records every return, callback and
webhook exactly as received, as payhub ``Callback`` objects."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from payhub_core._models import Callback
from payhub_core.sandbox._emulator import ASGIApp, Emulator

__all__ = ["Arrival", "MerchantReceiver"]


@dataclass(frozen=True)
class Arrival:
    kind: str  # "return", "callback" or "webhook"
    key: str  # the invoice number from the URL (empty for webhooks)
    callback: Callback


@dataclass
class MerchantReceiver:
    """Mounted at ``/merchant`` next to the emulators. URLs:
    ``/merchant/return/<invoice>``, ``/merchant/callback/<invoice>``, ``/merchant/webhook``.
    """

    arrivals: list[Arrival] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def emulator(self) -> Emulator:
        return Emulator(
            name="merchant",
            create_app=self._create_app,
            description="the demo merchant: records returns, callbacks and webhooks",
        )

    def _create_app(self, base_url: str) -> ASGIApp:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import HTMLResponse, Response
        from starlette.routing import Route

        async def record(request: Request) -> Response:
            kind = request.path_params["kind"]
            key = request.path_params.get("key", "")
            callback = Callback(
                method=request.method,
                query=request.scope.get("query_string", b""),
                headers=dict(request.headers),
                body=await request.body(),
            )
            with self._changed:
                self.arrivals.append(Arrival(kind=kind, key=key, callback=callback))
                self._changed.notify_all()
            if kind == "return":
                return HTMLResponse("<!doctype html><title>Thank you</title><h1>Thank you</h1>")
            return Response(status_code=200)

        return Starlette(
            routes=[
                Route("/{kind:str}/{key:str}", record, methods=["GET", "POST"]),
                Route("/{kind:str}", record, methods=["GET", "POST"]),
            ]
        )

    def wait_for(
        self, matches: Callable[[Arrival], bool], *, timeout: float = 10.0
    ) -> Arrival | None:
        """The first arrival for which ``matches`` is true, waiting up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for arrival in self.arrivals:
                    if matches(arrival):
                        return arrival
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)
