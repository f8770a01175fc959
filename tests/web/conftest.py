"""Fixtures of the web tests: the sandbox (every emulator plus a recording merchant), and
payhub's endpoints served over real HTTP by each supported server:

- ``asgi``: the ASGI app mounted in FastAPI, under uvicorn, with an ``AsyncHub``;
- ``django-asgi``: Django's ASGI handler with async views, under uvicorn, ``AsyncHub``;
- ``django-wsgi``: Django's WSGI handler with sync views, under waitress, ``Hub``;
- ``flask``: a Flask app with the blueprint, under waitress, ``Hub``;
- ``asgi-postgres`` and ``flask-postgres``: the first and the last again, with their
  ledger on a real PostgreSQL server instead of a SQLite file.

Each has its own ledger, and the merchant's ``payhub_payment_changed`` hook recorded.
"The ledger is down" is a SQLite write lock held by another connection, or the
PostgreSQL server stopped. ``site.hub`` is a synchronous hub on the same configuration and ledger,
for the test's own calls (initiate, reading payments).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from web_support import (
    HookRecorder,
    Site,
    Uvicorn,
    Waitress,
    bound_socket,
    hub_config,
    point_webhooks,
    postgres_stopped,
    sqlite_locked,
)

from payhub_core import AsyncHub, Hub
from payhub_core.demo import DemoEnvironment
from payhub_core.ledger import upgrade
from payhub_core.sandbox import DemoCase

# The example shop (examples/shop) is imported from the repository's root.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

SERVERS = ("asgi", "django-asgi", "django-wsgi", "flask", "asgi-postgres", "flask-postgres")

# Aliases of the suite's gateways: Plural's seamless alias comes first and shares the
# hosted alias's credentials, so the shared webhook URL has to find the right one.
ALIASES = {
    "cards": ("plutu.localbankcards", None),
    "mpgs": ("plutu.mpgs", None),
    "tlync": ("plutu.tlync", None),
    "sadad": ("plutu.sadad", None),
    "adfali": ("plutu.adfali", None),
    "plural-seamless": ("plural.seamless", None),
    "plural": ("plural.checkout", "webhook"),
}


@pytest.fixture(scope="session")
def sandbox() -> Iterator[DemoEnvironment]:
    with DemoEnvironment() as env:
        yield env


@pytest.fixture(scope="session")
def cases(sandbox: DemoEnvironment) -> dict[str, DemoCase]:
    """One demo case per suite alias."""
    found: dict[str, DemoCase] = {}
    all_cases = [case for _, case in sandbox.cases()]
    for alias, (adapter, evidence) in ALIASES.items():
        found[alias] = next(
            case
            for case in all_cases
            if case.adapter == adapter and evidence in (None, case.evidence)
        )
    return found


def _asgi_app(hub: AsyncHub) -> Any:
    from fastapi import FastAPI

    from payhub_core.web import asgi_app

    app = FastAPI()
    app.mount("/payhub", asgi_app(hub))
    return app


def _flask_app(hub: Hub) -> Any:
    from flask import Flask

    from payhub_core.web.flask import blueprint

    app = Flask("payhub_web_tests")
    app.register_blueprint(blueprint(hub), url_prefix="/payhub")
    return app


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A PostgreSQL server of its own (the ledger tests' runner: initdb + pg_ctl)."""
    sys.path.append(str(ROOT / "tests" / "ledger"))
    from ledger_support import PostgresServer, postgres_bin

    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries under /usr/lib/postgresql (make test installs them)")
    server = PostgresServer(bindir).start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session", params=SERVERS)
def site(
    request: pytest.FixtureRequest,
    cases: dict[str, DemoCase],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Site]:
    kind: str = request.param
    mount = {"django-asgi": "/async/payhub", "django-wsgi": "/sync/payhub"}.get(kind, "/payhub")
    db: Path | str
    if kind.endswith("-postgres"):
        server_pg = request.getfixturevalue("postgres")
        db = server_pg.create_database()
        ledger_down = partial(postgres_stopped, server_pg)
        kind = kind.removesuffix("-postgres")
    else:
        db = tmp_path_factory.mktemp(kind) / "ledger.sqlite3"
        ledger_down = partial(sqlite_locked, db)
    with ExitStack() as cleanup:  # whatever fails half-way is closed again
        sock, url = bound_socket()
        cleanup.callback(sock.close)
        recorder = HookRecorder()
        config = hub_config(cases, db, url, mount)
        upgrade(config["ledger"]["url"])
        hub = Hub.from_config(config, plugins=[recorder])
        cleanup.callback(hub.close)
        server: Uvicorn | Waitress
        if kind in ("asgi", "django-asgi"):
            serving = AsyncHub.from_config(config, plugins=[recorder])
            server = Uvicorn(_asgi_site(kind, serving), sock, serving.aclose)
        else:
            server = Waitress(_wsgi_site(kind, hub), sock)
        server.start()
        cleanup.callback(server.stop)
        yield Site(
            kind=request.param,
            url=url,
            mount=mount,
            hub=hub,
            recorder=recorder,
            ledger_down=ledger_down,
        )


def _asgi_site(kind: str, hub: AsyncHub) -> Any:
    if kind == "asgi":
        return _asgi_app(hub)
    from web_django_urls import configure
    from web_django_urls import mount as django_mount

    configure()
    from django.core.handlers.asgi import ASGIHandler

    django_mount("async/payhub", hub)
    return ASGIHandler()


def _wsgi_site(kind: str, hub: Hub) -> Any:
    if kind == "flask":
        return _flask_app(hub)
    from web_django_urls import configure
    from web_django_urls import mount as django_mount

    configure()
    from django.core.handlers.wsgi import WSGIHandler

    django_mount("sync/payhub", hub)
    return WSGIHandler()


@pytest.fixture
def webhooks_to_recorder(sandbox: DemoEnvironment) -> None:
    point_webhooks(sandbox, f"{sandbox.merchant_url}/webhook")
