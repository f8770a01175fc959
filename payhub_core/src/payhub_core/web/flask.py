"""payhub's endpoints as a Flask blueprint::

    from payhub_core.web.flask import blueprint

    app.register_blueprint(blueprint(hub), url_prefix="/payhub")

Flask has no CSRF protection of its own; with Flask-WTF's ``CSRFProtect``, exempt the
blueprint (``csrf.exempt(bp)``): gateways and returning browsers cannot send your token,
and the evidence is authenticated by the gateway's signature instead.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from payhub_core.web._endpoint import Endpoints, Outcome, WebResponse
from payhub_core.web._requests import BodyTooLarge, callback_from_flask
from payhub_core.web._settings import WebSettings
from payhub_core.web._wsgi import respond_sync, sync_hub

__all__ = ["blueprint"]

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def blueprint(
    hub: Any,
    *,
    name: str = "payhub",
    outcome: Outcome | None = None,
    settings: WebSettings | None = None,
) -> Blueprint:
    """A blueprint serving ``hub``'s endpoints (a synchronous ``Hub``); register it with
    ``url_prefix`` equal to ``[web] mount``."""
    hub = sync_hub(hub, "Flask")
    endpoints = Endpoints.for_hub(hub, outcome=outcome, settings=settings)
    bp = Blueprint(name, __name__)

    def read() -> Any:
        length = request.content_length
        if length is not None and length > endpoints.max_body:
            raise BodyTooLarge(f"the request body is larger than {endpoints.max_body} bytes")
        return callback_from_flask(request)

    def view(path: str = "") -> Response:
        routed = endpoints.route(request.method, "/" + path)
        if isinstance(routed, WebResponse):
            response = routed
        else:
            response = respond_sync(hub, endpoints, routed, read)
        return Response(response.body, status=response.status, headers=list(response.headers))

    bp.add_url_rule("/", "endpoint", view, methods=_METHODS, strict_slashes=False)
    bp.add_url_rule("/<path:path>", "endpoint", view, methods=_METHODS)
    return bp
