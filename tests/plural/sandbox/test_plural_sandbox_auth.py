"""Token endpoint, bearer authentication, token expiry."""

from __future__ import annotations

import time
from datetime import datetime

import httpx
import pytest
from plural_sandbox_helpers import PLURAL, Api, assert_error, order_body

from payhub_plural.sandbox import CLIENT_ID, CLIENT_SECRET

pytestmark = pytest.mark.anyio

TOKEN_URL = f"{PLURAL}/api/auth/v1/token"
GOOD = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "client_credentials"}

PROTECTED = [
    ("POST", "/api/checkout/v1/orders"),
    ("POST", "/api/pay/v1/orders"),
    ("GET", "/api/pay/v1/orders/v1-0000000000-aa-xxxxxx"),
    ("GET", "/api/pay/v1/orders/reference/INV-1"),
    ("POST", "/api/pay/v1/orders/v1-0000000000-aa-xxxxxx/payments"),
    ("PUT", "/api/pay/v1/orders/v1-0000000000-aa-xxxxxx/capture"),
    ("PUT", "/api/pay/v1/orders/v1-0000000000-aa-xxxxxx/cancel"),
    ("POST", "/api/pay/v1/refunds/v1-0000000000-aa-xxxxxx"),
]


async def test_token_is_issued_for_the_sandbox_credentials(client: httpx.AsyncClient) -> None:
    response = await client.post(TOKEN_URL, json=GOOD)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_at"}
    assert 1 <= len(body["access_token"]) <= 8192
    assert body["expires_at"].endswith("Z")
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00")).timestamp()
    assert 3590 < expires - time.time() <= 3600


@pytest.mark.parametrize(
    "change", [{"client_id": "someone-else"}, {"client_secret": "wrong"}], ids=["id", "secret"]
)
async def test_wrong_credentials_are_401(client: httpx.AsyncClient, change: dict[str, str]) -> None:
    response = await client.post(TOKEN_URL, json={**GOOD, **change})
    assert response.status_code == 401
    assert response.json() == {"code": "UNAUTHORIZED", "message": "Unauthorized"}


@pytest.mark.parametrize(
    "body",
    [
        {"client_secret": CLIENT_SECRET, "grant_type": "client_credentials"},
        {"client_id": CLIENT_ID, "grant_type": "client_credentials"},
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        {**GOOD, "grant_type": "password"},
        {**GOOD, "client_id": ""},
        {**GOOD, "client_secret": 12},
        ["not", "an", "object"],
    ],
)
async def test_malformed_token_requests_are_400(client: httpx.AsyncClient, body: object) -> None:
    assert_error(await client.post(TOKEN_URL, json=body), 400, "INVALID_REQUEST")


async def test_token_request_that_is_not_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(TOKEN_URL, content=b"client_id=x", headers={"content-type": "x"})
    assert_error(response, 400, "INVALID_REQUEST")


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-a-token", "Bearer ", "Basic abc", "sbx.token"]
)
async def test_every_api_call_needs_a_valid_bearer_token(
    client: httpx.AsyncClient, method: str, path: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.request(method, PLURAL + path, headers=headers, json={})
    assert response.status_code == 401
    assert response.json() == {"code": "UNAUTHORIZED", "message": "Unauthorized"}


async def test_a_valid_token_is_accepted(api: Api) -> None:
    assert_error(await api.get("v1-0000000000-aa-xxxxxx"), 404, "ORDER_NOT_FOUND")


async def test_tokens_expire_after_token_ttl(api: Api) -> None:
    await api.config(token_ttl=0)
    await api.login()  # born expired
    assert_error(await api.get("v1-0000000000-aa-xxxxxx"), 401, "UNAUTHORIZED")
    await api.config(token_ttl=3600)
    await api.login()
    assert_error(await api.get("v1-0000000000-aa-xxxxxx"), 404, "ORDER_NOT_FOUND")


async def test_expire_tokens_control_expires_every_issued_token(
    api: Api, client: httpx.AsyncClient
) -> None:
    old = api.token
    response = await client.post(f"{PLURAL}/_sandbox/expire-tokens")
    assert response.json() == {"expired": 1}
    assert_error(await api.get("v1-0000000000-aa-xxxxxx"), 401, "UNAUTHORIZED")
    assert await api.login() != old  # the refresh path: a new token works at once
    assert_error(await api.get("v1-0000000000-aa-xxxxxx"), 404, "ORDER_NOT_FOUND")


async def test_request_id_header_is_checked_when_sent(api: Api) -> None:
    headers = {**api.auth, "Request-ID": "x" * 51}
    response = await api.client.get(f"{PLURAL}/api/pay/v1/orders/v1-1", headers=headers)
    assert_error(response, 400, "INVALID_REQUEST")
    headers = {**api.auth, "Request-ID": "5d4c2a9e-2f36-4bd3-a3c3-3f1a5b8f3e21"}
    response = await api.client.get(f"{PLURAL}/api/pay/v1/orders/v1-1", headers=headers)
    assert_error(response, 404, "ORDER_NOT_FOUND")


async def test_token_expiry_scenario_revokes_the_token_once(api: Api) -> None:
    body = order_body("EXPIRETOKEN-1")
    assert_error(await api.hosted(body), 401, "UNAUTHORIZED")
    # the token it carried is dead for every call now
    assert_error(await api.get("v1-0000000000-aa-xxxxxx"), 401, "UNAUTHORIZED")
    await api.login()
    first = await api.hosted(body)
    assert first.status_code == 200, first.text
    again = await api.hosted(body)  # does not fire twice; the order is idempotent
    assert again.json()["order_id"] == first.json()["order_id"]
