"""payhub's endpoints as Django views::

    # urls.py
    from django.urls import include, path
    from payhub_core.web.django import urls as payhub_urls

    urlpatterns = [path("payhub/", include(payhub_urls(hub)))]

The views are exempt from CSRF: a gateway's server and a browser coming back from a
gateway's page cannot carry your CSRF token, and the evidence they bring is authenticated
by the gateway's signature instead. With an ``AsyncHub`` the views are async (serve the
project with an ASGI server); with a ``Hub`` they are sync (WSGI, or ASGI in Django's
thread pool).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

from payhub_core._errors import PayhubError
from payhub_core._models import Callback
from payhub_core.web._endpoint import (
    Endpoints,
    Outcome,
    Receive,
    Route,
    WebResponse,
    adrive,
)
from payhub_core.web._requests import BodyTooLarge, callback_from_django
from payhub_core.web._settings import WebSettings
from payhub_core.web._wsgi import respond_sync

__all__ = ["urls", "view"]


def _read(endpoints: Endpoints, request: HttpRequest) -> Callback:
    try:
        callback = callback_from_django(request)
    except RequestDataTooBig:
        raise BodyTooLarge("the request body is larger than Django accepts") from None
    if len(callback.body) > endpoints.max_body:
        raise BodyTooLarge(f"the request body is larger than {endpoints.max_body} bytes")
    return callback


def _django_response(response: WebResponse) -> HttpResponse:
    answer = HttpResponse(response.body, status=response.status)
    for name, value in response.headers:
        answer[name] = value
    return answer


def view(
    hub: Any, *, outcome: Outcome | None = None, settings: WebSettings | None = None
) -> Callable[..., Any]:
    """The one view serving every endpoint (its ``path`` argument is the part of the URL
    below the mount); async for an ``AsyncHub``, sync for a ``Hub``; CSRF-exempt."""
    endpoints = Endpoints.for_hub(hub, outcome=outcome, settings=settings)

    if inspect.iscoroutinefunction(hub.receive):

        async def receive(step: Receive) -> Any:
            return await hub.receive(step.callback, gateway=step.gateway, source=step.source)

        async def async_view(request: HttpRequest, path: str = "") -> HttpResponse:
            routed = endpoints.route(request.method or "GET", "/" + path)
            if isinstance(routed, WebResponse):
                return _django_response(routed)
            return _django_response(await _async_respond(routed, request))

        async def _async_respond(route: Route, request: HttpRequest) -> WebResponse:
            try:
                callback = _read(endpoints, request)
            except PayhubError as error:
                return endpoints.failed(route, error)
            return await adrive(endpoints.handle(route, callback), receive)

        return csrf_exempt(async_view)  # type: ignore[no-any-return]

    def sync_view(request: HttpRequest, path: str = "") -> HttpResponse:
        routed = endpoints.route(request.method or "GET", "/" + path)
        if isinstance(routed, WebResponse):
            return _django_response(routed)
        return _django_response(
            respond_sync(hub, endpoints, routed, lambda: _read(endpoints, request))
        )

    return csrf_exempt(sync_view)  # type: ignore[no-any-return]


def urls(
    hub: Any,
    *,
    outcome: Outcome | None = None,
    settings: WebSettings | None = None,
    name: str = "payhub",
) -> list[Any]:
    """URL patterns to ``include`` at ``[web] mount`` (without its leading slash)."""
    endpoint = view(hub, outcome=outcome, settings=settings)
    return [re_path(r"^(?P<path>.*)$", endpoint, name=name)]
