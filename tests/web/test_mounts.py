"""The other ways in: the ASGI app mounted by Starlette's ``Mount`` and by a Litestar
``@asgi(is_mount=True)`` handler, and the plain WSGI app behind Werkzeug's dispatcher,
each serving a genuine return from the sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from web_support import Uvicorn, Waitress, bound_socket, hub_config

from payhub_core import AsyncHub, ConfigurationError, Hub, PaymentStatus, Redirect
from payhub_core.demo import DemoEnvironment, ScriptedBrowser
from payhub_core.ledger import upgrade
from payhub_core.sandbox import DemoCase
from payhub_core.web import asgi_app, wsgi_app


def _starlette(hub: AsyncHub) -> Any:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    return Starlette(routes=[Mount("/shop", routes=[Mount("/payhub", app=asgi_app(hub))])])


def _litestar(hub: AsyncHub) -> Any:
    from litestar import Litestar, asgi
    from litestar.types import Receive, Scope, Send

    endpoints = asgi_app(hub)

    @asgi("/shop/payhub", is_mount=True, copy_scope=True)
    async def payhub(scope: Scope, receive: Receive, send: Send) -> None:
        await endpoints(scope, receive, send)

    return Litestar(route_handlers=[payhub])


def _wsgi(hub: Hub) -> Any:
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.wrappers import Response

    return DispatcherMiddleware(Response("the shop", status=404), {"/shop/payhub": wsgi_app(hub)})


@pytest.fixture(params=["starlette", "litestar", "wsgi"])
def mounted(
    request: pytest.FixtureRequest,
    cases: dict[str, DemoCase],
    tmp_path: Path,
) -> Iterator[tuple[str, Hub]]:
    with ExitStack() as cleanup:
        sock, url = bound_socket()
        cleanup.callback(sock.close)
        db = tmp_path / "ledger.sqlite3"
        config = hub_config({"cards": cases["cards"]}, db, url, "/shop/payhub")
        upgrade(config["ledger"]["url"])
        hub = Hub.from_config(config)
        cleanup.callback(hub.close)
        server: Uvicorn | Waitress
        if request.param == "wsgi":
            server = Waitress(_wsgi(hub), sock)
        else:
            serving = AsyncHub.from_config(config)
            build = _starlette if request.param == "starlette" else _litestar
            server = Uvicorn(build(serving), sock, serving.aclose)
        server.start()
        cleanup.callback(server.stop)
        yield url, hub


def test_a_mounted_app_records_a_genuine_return(
    mounted: tuple[str, Hub], sandbox: DemoEnvironment, cases: dict[str, DemoCase]
) -> None:
    url, hub = mounted
    number = sandbox.invoice_number(cases["cards"])
    invoice = cases["cards"].invoice(number, "https://x.invalid/r", "https://x.invalid/c")
    invoice = invoice.model_copy(update={"return_url": None, "callback_url": None})
    checkout = hub.initiate(invoice, gateway="cards")
    assert isinstance(checkout.action, Redirect)
    assert hub.payment(number).invoice.return_url == f"{url}/shop/payhub/cards/return"
    browser = ScriptedBrowser(url)
    try:
        response = browser.press(checkout.action.url, "approve")
    finally:
        browser.close()
    assert response.status_code == 303
    assert response.headers["location"] == f"{url}/done/{number}?status=paid"
    assert hub.payment(number).status is PaymentStatus.PAID


def test_wsgi_and_flask_refuse_an_async_hub(cases: dict[str, DemoCase], tmp_path: Path) -> None:
    from payhub_core.web.flask import blueprint

    config = hub_config({"cards": cases["cards"]}, tmp_path / "l.sqlite3", "http://x.test", "/p")
    hub = AsyncHub.from_config(config)
    with pytest.raises(ConfigurationError, match="not an AsyncHub"):
        wsgi_app(hub)
    with pytest.raises(ConfigurationError, match="not an AsyncHub"):
        blueprint(hub)


def test_endpoints_refuse_a_hub_without_a_ledger(cases: dict[str, DemoCase]) -> None:
    hub = Hub.from_config(
        {"gateways": {"cards": {"adapter": "plutu.localbankcards", **cases["cards"].settings}}}
    )
    with hub, pytest.raises(ConfigurationError, match=r"\[ledger\]"):
        asgi_app(hub)
