"""Receiving returns, callbacks and webhooks in a web application.

- ``Callback`` from the requests of ASGI, WSGI, Starlette/FastAPI, Django and Flask, with
  the raw query string and body kept byte for byte (:func:`callback_from_asgi` ...).
- The endpoints, written once (:class:`Endpoints`, no I/O) and served by an ASGI app
  (:func:`asgi_app`: FastAPI, Starlette, Litestar), a WSGI app (:func:`wsgi_app`), Django
  views (:mod:`payhub_core.web.django`) and a Flask blueprint (:mod:`payhub_core.web.flask`).
- The ``[web]`` table (:class:`WebSettings`): the public URL the endpoints are reached at,
  which ``initiate`` uses to fill in an invoice's missing return and callback URLs, and the
  merchant's pages a returning customer is sent to.

The endpoints record evidence through the hub's ledger (``[ledger]`` must be configured);
what the merchant does when a payment changes is the ``payhub_payment_changed`` hook.
"""

from payhub_core.web._asgi import PayhubASGI, asgi_app
from payhub_core.web._endpoint import (
    KINDS,
    Endpoints,
    Flow,
    Kind,
    PaymentView,
    ReceiptView,
    Receive,
    Route,
    WebResponse,
    adrive,
    drive,
)
from payhub_core.web._requests import (
    DEFAULT_MAX_BODY,
    BodyTooLarge,
    callback_from_asgi,
    callback_from_django,
    callback_from_flask,
    callback_from_starlette,
    callback_from_wsgi,
    read_wsgi_body,
)
from payhub_core.web._settings import (
    PAGE_FIELDS,
    WebSettings,
    endpoint_url,
    fill_urls,
    web_settings,
)
from payhub_core.web._wsgi import PayhubWSGI, wsgi_app

__all__ = [
    "DEFAULT_MAX_BODY",
    "KINDS",
    "PAGE_FIELDS",
    "BodyTooLarge",
    "Endpoints",
    "Flow",
    "Kind",
    "PayhubASGI",
    "PayhubWSGI",
    "PaymentView",
    "ReceiptView",
    "Receive",
    "Route",
    "WebResponse",
    "WebSettings",
    "adrive",
    "asgi_app",
    "callback_from_asgi",
    "callback_from_django",
    "callback_from_flask",
    "callback_from_starlette",
    "callback_from_wsgi",
    "drive",
    "endpoint_url",
    "fill_urls",
    "read_wsgi_body",
    "web_settings",
    "wsgi_app",
]
