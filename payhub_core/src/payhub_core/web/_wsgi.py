"""The endpoints as a plain WSGI application, and the synchronous steps the Django and
Flask shells share."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from payhub_core._errors import ConfigurationError, PayhubError
from payhub_core._models import Callback
from payhub_core.web._endpoint import Endpoints, Outcome, Receive, Route, WebResponse, drive
from payhub_core.web._requests import callback_from_wsgi
from payhub_core.web._settings import WebSettings

__all__ = ["PayhubWSGI", "respond_sync", "sync_hub", "wsgi_app"]

_REASONS = {
    200: "OK",
    303: "See Other",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}

StartResponse = Callable[..., Any]


def sync_hub(hub: Any, framework: str) -> Any:
    """``hub`` if it is a synchronous ``Hub``; a WSGI server has no event loop for an
    ``AsyncHub`` (its HTTP client belongs to one loop)."""
    if inspect.iscoroutinefunction(getattr(hub, "receive", None)):
        raise ConfigurationError(
            f"{framework} serves requests synchronously: give it a Hub, not an AsyncHub"
        )
    return hub


def respond_sync(
    hub: Any, endpoints: Endpoints, route: Route, read: Callable[[], Callback]
) -> WebResponse:
    """Read the request with ``read`` and run the endpoint flow with ``hub.receive``."""
    try:
        callback = read()
    except PayhubError as error:
        return endpoints.failed(route, error)

    def receive(step: Receive) -> Any:
        return hub.receive(step.callback, gateway=step.gateway, source=step.source)

    return drive(endpoints.handle(route, callback), receive)


class PayhubWSGI:
    """payhub's endpoints for a synchronous ``Hub`` as a WSGI app (mount it at
    ``[web] mount``, e.g. with Werkzeug's ``DispatcherMiddleware``)."""

    def __init__(
        self, hub: Any, *, outcome: Outcome | None = None, settings: WebSettings | None = None
    ) -> None:
        self.hub = sync_hub(hub, "WSGI")
        self.endpoints = Endpoints.for_hub(hub, outcome=outcome, settings=settings)

    def __call__(
        self, environ: Mapping[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        routed = self.endpoints.route(
            str(environ.get("REQUEST_METHOD", "GET")), str(environ.get("PATH_INFO", "/"))
        )
        if isinstance(routed, WebResponse):
            response = routed
        else:
            limit = self.endpoints.max_body
            response = respond_sync(
                self.hub, self.endpoints, routed, lambda: callback_from_wsgi(environ, limit=limit)
            )
        reason = _REASONS.get(response.status, "Unknown")
        start_response(
            f"{response.status} {reason}",
            [*response.headers, ("content-length", str(len(response.body)))],
        )
        return [response.body]


def wsgi_app(
    hub: Any, *, outcome: Outcome | None = None, settings: WebSettings | None = None
) -> PayhubWSGI:
    """The endpoints of a synchronous ``hub`` as a WSGI app."""
    return PayhubWSGI(hub, outcome=outcome, settings=settings)
