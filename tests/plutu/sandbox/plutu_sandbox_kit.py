"""Helpers for the Plutu emulator tests: an in-process client, the SDK's callback check
re-implemented independently, and a callback receiver on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlsplit

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from payhub_core.signing import hmac_sha256_hex, http_build_query
from payhub_plutu.sandbox import ACCESS_TOKEN, API_KEY, SECRET_KEY, SandboxConfig
from payhub_plutu.sandbox._app import PlutuEmulator

BASE = "http://plutu.test/plutu"
HEADERS = {
    "Accept": "application/json",
    "X-API-KEY": API_KEY,
    "Authorization": f"Bearer {ACCESS_TOKEN}",
}

# The SDK's whitelists: membership only; the received order is what counts.
WHITELISTS = {
    "localbankcards": {"gateway", "approved", "canceled", "invoice_no", "amount", "transaction_id"},
    "mpgs": {
        "gateway",
        "approved",
        "canceled",
        "amount",
        "currency",
        "invoice_no",
        "transaction_id",
    },
    "tlync_callback": {
        "gateway",
        "approved",
        "invoice_no",
        "amount",
        "transaction_id",
        "payment_method",
    },
    "tlync_return": {"approved", "invoice_no"},
}

# The official vectors (plutu-php tests, tests/vectors/plutu_callbacks.json).
VECTORS: list[dict[str, Any]] = [
    {
        "whitelist": "localbankcards",
        "secret_key": "sk_ac63978fe4bc6defb55045fe84492021d1e87555",
        "params": [
            ("gateway", "localbankcards"),
            ("approved", "1"),
            ("invoice_no", "14022023"),
            ("amount", "5.00"),
            ("transaction_id", "100900"),
        ],
        "signed_string": "gateway=localbankcards&approved=1&invoice_no=14022023&amount=5.00"
        "&transaction_id=100900",
        "hashed": "79CA9C64A7DF0BB5E634CFA67A90219F5A6C7197265B8732CC5372EF519F761F",
    },
    {
        "whitelist": "mpgs",
        "secret_key": "sk_caf8cdd67e554180100dbee62d57dd12eb57acbd",
        "params": [
            ("gateway", "mpgs"),
            ("approved", "1"),
            ("amount", "5.00"),
            ("currency", "USD"),
            ("invoice_no", "232323"),
            ("transaction_id", "100918"),
        ],
        "signed_string": "gateway=mpgs&approved=1&amount=5.00&currency=USD&invoice_no=232323"
        "&transaction_id=100918",
        "hashed": "046F9997A41F83CA7414EE0412D8DD2C22EB5168AC4324BA82C5E4BBCEF0C880",
    },
    {
        "whitelist": "tlync_callback",
        "secret_key": "sk_40a07a6c0e63818dc2b292c8e302894e08acedfb",
        "params": [
            ("gateway", "tlync"),
            ("approved", "1"),
            ("amount", "6.01"),
            ("invoice_no", "43321"),
            ("payment_method", "mobicash"),
            ("transaction_id", "100932"),
        ],
        "signed_string": "gateway=tlync&approved=1&amount=6.01&invoice_no=43321"
        "&payment_method=mobicash&transaction_id=100932",
        "hashed": "1DDC1EE6D589555B58D70CAAB5118D1BECC5DF1BED1E0EFA5B51AED7E6C69FD6",
    },
    {
        "whitelist": "tlync_return",
        "secret_key": "sk_40a07a6c0e63818dc2b292c8e302894e08acedfb",
        "params": [("approved", "1"), ("invoice_no", "43321")],
        "signed_string": "approved=1&invoice_no=43321",
        "hashed": "E6E3486C137F4260C2C598C7A903836CDDBC1FAF87240A58660FA91F363D5DBA",
    },
]


def php_query(params: Iterable[tuple[str, str]]) -> str:
    """http_build_query for string values, written from scratch (not payhub_core's)."""
    return "&".join(
        f"{quote_plus(key, safe='')}={quote_plus(value, safe='')}".replace("~", "%7E")
        for key, value in params
    )


def sdk_expected_hash(secret: str, received: Sequence[tuple[str, str]], whitelist: str) -> str:
    """What the SDK computes, twice: with payhub_core.signing and from scratch."""
    kept = [(key, value) for key, value in received if key in WHITELISTS[whitelist]]
    with_core = hmac_sha256_hex(secret, http_build_query(kept))
    from_scratch = (
        hmac.new(secret.encode(), php_query(kept).encode(), hashlib.sha256).hexdigest().upper()
    )
    assert with_core == from_scratch
    return from_scratch


def sdk_verifies(secret: str, received: Sequence[tuple[str, str]], whitelist: str) -> bool:
    """PlutuValidationTrait::checkValidCallbackHash: case-sensitive hash_equals."""
    hashed = dict(received).get("hashed", "")
    expected = sdk_expected_hash(secret, received, whitelist)
    return bool(hashed) and hmac.compare_digest(expected, hashed)


def query_pairs(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def make_app(config: SandboxConfig | None = None) -> tuple[PlutuEmulator, Starlette]:
    """The emulator mounted at /plutu, as the sandbox server mounts it."""
    sandbox = PlutuEmulator(BASE, config or SandboxConfig())
    return sandbox, Starlette(routes=[Mount("/plutu", app=sandbox.app)])


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


def api(service: str, action: str) -> str:
    return f"/api/v1/transaction/{service}/{action}"


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The ``error`` object of a Plutu error body, checking the envelope."""
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert error["status"] == response.status_code
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


def token_of(redirect_url: str) -> str:
    return dict(query_pairs(redirect_url))["token"]


def action_of(redirect_url: str) -> str:
    parts = urlsplit(redirect_url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body, object_pairs_hook=list)


@dataclass
class Receiver:
    """A merchant's callback endpoint on 127.0.0.1 (a real HTTP server in a thread)."""

    statuses: list[int] = field(default_factory=list)  # answers to give first, then 200
    received: list[Received] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/plutu/callback"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._cond:
                    receiver.received.append(Received(self.path, dict(self.headers), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} callbacks, got {len(self.received)}")
                self._cond.wait(remaining)
            return list(self.received)


SECRET = SECRET_KEY
