"""Access tokens: one request per cache lifetime, one request for many concurrent cold
calls (Hub threads and AsyncHub tasks), refresh before expiry, and the 401 rule."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import httpx
import pytest
from plural_support import TOKEN_PREFIX, FakePlural, adapter_of, config

from payhub_core import GatewayError, GatewayUnavailable, PaymentStatus
from payhub_plural._tokens import DEFAULT_LIFETIME, TokenCache, parse_expiry, parse_timestamp

CALLS = 100


class Clock:
    def __init__(self, now: float = 1_720_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def token_paths(transport: Any) -> int:
    return transport.paths().count("/api/auth/v1/token")


def test_token_is_cached_across_operations(payhub_hub_factory: Any) -> None:
    fake = FakePlural()
    order_id = fake.add_order()
    hub, transport = payhub_hub_factory(config(), fake)
    for _ in range(5):
        assert hub.status(order_id).status is PaymentStatus.PAID
    assert fake.token_requests == 1
    assert token_paths(transport) == 1


def test_hub_concurrent_cold_calls_fetch_one_token(
    payhub_hub_factory: Any, record_property: Any
) -> None:
    """100 threads start together with no token; the token answer is slow, so all of them
    find the cache empty and queue on the gateway's token lock. One request results."""
    fake = FakePlural(token_delay=0.2)
    order_id = fake.add_order()
    hub, transport = payhub_hub_factory(config(), fake)
    start = threading.Barrier(CALLS)

    def call(_: int) -> PaymentStatus:
        start.wait(timeout=30)
        return hub.status(order_id).status

    with ThreadPoolExecutor(max_workers=CALLS) as pool:
        statuses = list(pool.map(call, range(CALLS)))
    record_property("hub_token_requests_per_100_cold_calls", fake.token_requests)
    print(f"Hub: {fake.token_requests} token request(s) for {CALLS} concurrent cold calls")
    assert statuses == [PaymentStatus.PAID] * CALLS
    assert fake.token_requests == 1
    assert transport.paths().count(f"/api/pay/v1/orders/{order_id}") == CALLS


@pytest.mark.anyio
async def test_async_hub_concurrent_cold_calls_fetch_one_token(
    payhub_async_hub_factory: Any, record_property: Any
) -> None:
    fake = FakePlural()
    order_id = fake.add_order()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/auth/v1/token":
            await anyio.sleep(0.2)  # every other task reaches the lock meanwhile
        return fake(request)

    hub, transport = payhub_async_hub_factory(config(), handler)
    statuses: list[PaymentStatus] = []

    async def call() -> None:
        statuses.append((await hub.status(order_id)).status)

    async with hub, anyio.create_task_group() as group:
        for _ in range(CALLS):
            group.start_soon(call)
    record_property("async_hub_token_requests_per_100_cold_calls", fake.token_requests)
    print(f"AsyncHub: {fake.token_requests} token request(s) for {CALLS} concurrent cold calls")
    assert statuses == [PaymentStatus.PAID] * CALLS
    assert fake.token_requests == 1
    assert token_paths(transport) == 1


def test_token_refreshed_shortly_before_expiry(payhub_hub_factory: Any) -> None:
    fake = FakePlural()
    fake.token_expiry = {"expires_in": 3600}
    order_id = fake.add_order()
    hub, _ = payhub_hub_factory(config(), fake)
    clock = Clock()
    adapter_of(hub).clock = clock
    hub.status(order_id)
    clock.now += 3600 - 61  # still more than a minute to go
    hub.status(order_id)
    assert fake.token_requests == 1
    clock.now += 1  # a minute before expiry: refresh
    hub.status(order_id)
    assert fake.token_requests == 2
    clock.now += 3000
    hub.status(order_id)
    assert fake.token_requests == 2


def test_expires_at_is_honoured(payhub_hub_factory: Any) -> None:
    fake = FakePlural()
    clock = Clock(parse_timestamp("2024-06-28T12:26:06.909140Z"))
    fake.token_expiry = {"expires_at": "2024-06-28T13:26:06.909140Z"}  # one hour later
    order_id = fake.add_order()
    hub, _ = payhub_hub_factory(config(), fake)
    adapter_of(hub).clock = clock
    hub.status(order_id)
    clock.now += 3539
    hub.status(order_id)
    assert fake.token_requests == 1
    clock.now += 1
    hub.status(order_id)
    assert fake.token_requests == 2


def test_earlier_of_expires_at_and_expires_in_wins() -> None:
    now = parse_timestamp("2024-06-28T12:00:00Z")
    assert parse_expiry({"expires_in": 600, "expires_at": "2024-06-28T13:00:00Z"}, now) == (
        now + 600
    )
    assert parse_expiry({"expires_in": "7200", "expires_at": "2024-06-28T13:00:00Z"}, now) == (
        now + 3600
    )
    assert parse_expiry({}, now) == now + DEFAULT_LIFETIME
    for bad in (
        {"expires_in": "soon"},
        {"expires_in": True},
        {"expires_at": 5},
        {"expires_at": "yesterday"},
        {"expires_in": "nan"},
    ):
        with pytest.raises(ValueError):  # noqa: PT011 - parse_expiry raises bare ValueError
            parse_expiry(bad, now)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-06-28T13:26:06.909140Z", "2024-06-28T13:26:06.909140+00:00"),
        ("2024-06-28T13:26:06.9Z", "2024-06-28T13:26:06.900000+00:00"),
        ("2024-06-28T13:26:06.123456789Z", "2024-06-28T13:26:06.123456+00:00"),
        ("2024-06-28T18:56:06+05:30", "2024-06-28T13:26:06+00:00"),
        ("2024-06-28T13:26:06", "2024-06-28T13:26:06+00:00"),
    ],
)
def test_timestamps(text: str, expected: str) -> None:
    from datetime import datetime

    assert parse_timestamp(text) == datetime.fromisoformat(expected).timestamp()


def test_clock_disagreement_does_not_refetch_on_every_call() -> None:
    """expires_at already past by our clock: keep the token a little (401 catches the rest)."""
    clock = Clock()
    cache = TokenCache(clock)
    cache.store("t", received_at=clock.now, expires_at=clock.now - 100)
    assert cache.current() == "t"
    clock.now += 15
    assert cache.current() is None
    assert "t'" not in repr(cache)
    assert "**********" in repr(cache)


def test_401_refreshes_once_and_repeats_once(payhub_hub_factory: Any) -> None:
    fake = FakePlural()
    order_id = fake.add_order(status="AUTHORIZED", pre_auth=True)
    hub, transport = payhub_hub_factory(config(), fake)
    hub.status(order_id)
    fake.revoke_tokens()
    result = hub.capture(order_id)
    assert result.status is PaymentStatus.PAID
    assert [(r.method, r.path) for r in transport.requests][1:] == [
        ("GET", f"/api/pay/v1/orders/{order_id}"),
        ("PUT", f"/api/pay/v1/orders/{order_id}/capture"),
        ("POST", "/api/auth/v1/token"),
        ("PUT", f"/api/pay/v1/orders/{order_id}/capture"),
    ]
    first, repeat = transport.requests[2], transport.requests[4]
    assert first.headers["authorization"] == f"Bearer {TOKEN_PREFIX}1"
    assert repeat.headers["authorization"] == f"Bearer {TOKEN_PREFIX}2"
    assert first.json() == repeat.json()  # the same capture, same merchant reference
    assert first.headers["request-id"] != repeat.headers["request-id"]


def test_second_401_is_a_gateway_error(payhub_hub_factory: Any) -> None:
    fake = FakePlural()
    order_id = fake.add_order()
    unauthorized = httpx.Response(401, json={"code": "UNAUTHORIZED", "message": "Unauthorized"})
    fake.script("GET", "/orders/", unauthorized, unauthorized)
    hub, transport = payhub_hub_factory(config(), fake)
    with pytest.raises(GatewayError) as caught:
        hub.status(order_id)
    assert (caught.value.http_status, caught.value.code) == (401, "UNAUTHORIZED")
    assert transport.paths() == [
        "/api/auth/v1/token",
        f"/api/pay/v1/orders/{order_id}",
        "/api/auth/v1/token",
        f"/api/pay/v1/orders/{order_id}",
    ]
    # The token refused twice is dropped too: the next call starts with a fresh one
    # (the fake would still have accepted the old one).
    hub.status(order_id)
    assert transport.paths()[4:] == ["/api/auth/v1/token", f"/api/pay/v1/orders/{order_id}"]
    assert transport.requests[-1].headers["authorization"] == f"Bearer {TOKEN_PREFIX}3"


def test_concurrent_401s_refresh_once(payhub_hub_factory: Any) -> None:
    fake = FakePlural(token_delay=0.1)
    order_id = fake.add_order()
    hub, _ = payhub_hub_factory(config(), fake)
    hub.status(order_id)
    fake.revoke_tokens()
    start = threading.Barrier(20)

    def call(_: int) -> PaymentStatus:
        start.wait(timeout=30)
        return hub.status(order_id).status

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert set(pool.map(call, range(20))) == {PaymentStatus.PAID}
    assert fake.token_requests == 2


def test_refused_credentials(payhub_hub_factory: Any) -> None:
    hub, _ = payhub_hub_factory(config(client_secret="wrong-secret"), FakePlural())
    with pytest.raises(GatewayError) as caught:
        hub.status("v1-1")
    assert (caught.value.http_status, caught.value.code) == (401, "UNAUTHORIZED")
    assert "token request" in caught.value.message


def test_oauth_style_token_error(payhub_hub_factory: Any) -> None:
    fake = FakePlural()
    fake.script(
        "POST",
        "/token",
        httpx.Response(400, json={"error": "invalid_client", "error_description": "Bad client"}),
    )
    hub, _ = payhub_hub_factory(config(), fake)
    with pytest.raises(GatewayError) as caught:
        hub.status("v1-1")
    assert (caught.value.code, caught.value.gateway_message) == ("invalid_client", "Bad client")


def test_token_request_is_retried_when_unavailable(payhub_hub_factory: Any) -> None:
    """The token request is safe to repeat, so 5xx answers are retried (max_retries)."""
    fake = FakePlural()
    order_id = fake.add_order()
    fake.script("POST", "/token", httpx.Response(503), httpx.Response(502))
    hub, _ = payhub_hub_factory(config(max_retries=2), fake)
    assert hub.status(order_id).is_paid
    assert fake.token_requests == 1  # the two scripted failures never reached the fake

    fake.script("POST", "/token", *[httpx.Response(503)] * 3)
    fake.revoke_tokens()
    with pytest.raises(GatewayUnavailable):
        hub.status(order_id)


def test_no_token_means_nothing_was_sent(payhub_hub_factory: Any) -> None:
    """A capture that never got a token never left: its outcome is not in doubt."""
    fake = FakePlural()
    order_id = fake.add_order(status="AUTHORIZED", pre_auth=True)
    fake.script("POST", "/token", httpx.ReadTimeout("slow"), httpx.Response(502))
    hub, transport = payhub_hub_factory(config(max_retries=1), fake)
    with pytest.raises(GatewayUnavailable, match="nothing else was sent") as caught:
        hub.capture(order_id)
    assert caught.value.outcome_unknown is False
    assert transport.paths() == ["/api/auth/v1/token"] * 2


@pytest.mark.parametrize(
    "body",
    [
        {"expires_in": 3600},
        {"access_token": "", "expires_in": 3600},
        {"access_token": "has space", "expires_in": 3600},
        {"access_token": "t", "expires_in": "later"},
        {"access_token": "t", "expires_at": "2024-13-45T00:00:00Z"},
    ],
)
def test_malformed_token_answers(payhub_hub_factory: Any, body: dict[str, Any]) -> None:
    fake = FakePlural()
    fake.script("POST", "/token", httpx.Response(200, json=body))
    hub, transport = payhub_hub_factory(config(), fake)
    with pytest.raises(GatewayError, match="malformed") as caught:
        hub.status("v1-1")
    assert caught.value.code == "MALFORMED_RESPONSE"
    assert transport.paths() == ["/api/auth/v1/token"]
