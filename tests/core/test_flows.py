"""Flows: what an adapter may yield, how errors come back into it, and ``exclusive`` locks.

The token tests model the case ``exclusive`` exists for: many concurrent operations need
one OAuth token; the sub-flow that fetches it re-checks the shared state under the lock, so
exactly one of them fetches it (threads in ``Hub``, tasks in ``AsyncHub``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest
from _hubkit import LOCAL_BASE, LocalSettings, local_config, no_network, paid, use_local_adapters

from payhub_core import (
    AdapterError,
    AsyncHub,
    GatewayError,
    GatewayUnavailable,
    Hub,
    PaymentResult,
    PaymentStatus,
    hookimpl,
)
from payhub_core.flows import Acquire, Flow, Release, exclusive, idempotent, is_idempotent

N = 8
WAIT = 10.0  # seconds; only reached when something is broken


# -- the flow vocabulary ---------------------------------------------------------------


def test_idempotent_marks_a_request_and_nothing_else_is_marked() -> None:
    request = httpx.Request("GET", "https://gw.example/x")
    assert not is_idempotent(request)
    assert idempotent(request) is request
    assert is_idempotent(request)


def test_exclusive_wraps_the_sub_flow_in_acquire_and_release() -> None:
    request = httpx.Request("GET", "https://gw.example/token")

    def sub() -> Flow[str]:
        response = yield request
        return str(response)

    flow = exclusive("token", sub())
    assert next(flow) == Acquire("token")
    assert flow.send(None) is request
    assert flow.send("answer") == Release("token")
    with pytest.raises(StopIteration) as stop:
        flow.send(None)
    assert stop.value.value == "answer"


def test_exclusive_releases_before_a_sub_flow_error_reaches_the_outer_flow() -> None:
    def sub() -> Flow[str]:
        yield httpx.Request("GET", "https://gw.example/token")
        raise GatewayError("no token")

    flow = exclusive("token", sub())
    assert next(flow) == Acquire("token")
    flow.send(None)
    assert flow.throw(GatewayUnavailable("down", outcome_unknown=False)) == Release("token")
    with pytest.raises(GatewayUnavailable):
        flow.send(None)


# -- adapters for the driver tests -----------------------------------------------------


def token_adapter(arrive: Callable[[], None] = lambda: None) -> type:
    """A fresh adapter class whose status needs a shared token, fetched under ``exclusive``."""

    class TokenAdapter:
        Settings = LocalSettings
        fetches = 0  # how often the guarded body ran

        def __init__(self, settings: LocalSettings) -> None:
            self.token: str | None = None

        def _fresh_token(self) -> Flow[str]:
            if self.token is not None:  # someone fetched it while we waited for the lock
                return self.token
            TokenAdapter.fetches += 1
            response = yield idempotent(httpx.Request("POST", f"{LOCAL_BASE}/token"))
            if response.status_code != 200:
                raise GatewayError("token refused", http_status=response.status_code)
            self.token = str(response.json()["token"])
            return self.token

        @hookimpl
        def payhub_status(self, reference: str) -> Flow[PaymentResult]:
            arrive()
            token = self.token or (yield from exclusive("token", self._fresh_token()))
            response = yield httpx.Request(
                "GET",
                f"{LOCAL_BASE}/orders/{reference}",
                headers={"Authorization": f"Bearer {token}"},
            )
            return PaymentResult(status=response.json()["status"], reference=reference)

    return TokenAdapter


def _order(request: httpx.Request) -> httpx.Response:
    assert request.headers["authorization"].startswith("Bearer tok-")
    return httpx.Response(200, json={"status": "paid"})


# -- exclusive with threads (Hub) ------------------------------------------------------


def test_concurrent_threads_fetch_a_shared_token_exactly_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counter_lock = threading.Lock()
    arrived = [0]
    all_in = threading.Event()

    def arrive() -> None:
        with counter_lock:
            arrived[0] += 1
            if arrived[0] == N:
                all_in.set()

    adapter = token_adapter(arrive)
    use_local_adapters(monkeypatch, local_flow=adapter)
    token_requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            token_requests.append(request)
            # hold the token request until every operation is under way: without the
            # lock, each of them would be fetching a token of its own by now
            all_in.wait(WAIT)
            return httpx.Response(200, json={"token": f"tok-{len(token_requests)}"})
        return _order(request)

    results: list[PaymentResult] = []
    errors: list[BaseException] = []
    with Hub.from_config(local_config(), transport=httpx.MockTransport(handler)) as hub:

        def call(index: int) -> None:
            try:
                results.append(hub.status(f"o{index}"))
            except BaseException as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(N)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT)
    assert errors == []
    assert all_in.is_set()
    assert len(results) == N
    assert len(token_requests) == 1
    assert adapter.fetches == 1  # type: ignore[attr-defined]


def _run_in_thread(target: Callable[[], Any]) -> Any:
    """Run ``target`` in a thread and fail (instead of hanging) if it deadlocks."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(("ok", target()))
        except BaseException as error:
            outcome.append(("error", error))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(WAIT)
    assert not thread.is_alive(), "deadlock: the call did not finish"
    kind, value = outcome[0]
    if kind == "error":
        raise value
    return value


def test_the_lock_is_released_when_the_flow_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = token_adapter()
    use_local_adapters(monkeypatch, local_flow=adapter)
    token_answers = [httpx.Response(401), httpx.Response(200, json={"token": "tok-2"})]

    def handler(request: httpx.Request) -> httpx.Response:
        return token_answers.pop(0) if request.url.path == "/token" else _order(request)

    with Hub.from_config(local_config(), transport=httpx.MockTransport(handler)) as hub:
        with pytest.raises(GatewayError, match="token refused"):
            _run_in_thread(lambda: hub.status("o1"))
        assert _run_in_thread(lambda: hub.status("o2")).status is PaymentStatus.PAID
    assert adapter.fetches == 2  # type: ignore[attr-defined]


def test_the_lock_is_released_when_the_sub_flow_fails_and_the_flow_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Fallback:
        Settings = LocalSettings

        def __init__(self, settings: LocalSettings) -> None:
            pass

        def _token(self, path: str) -> Flow[str]:
            response = yield httpx.Request("POST", f"{LOCAL_BASE}{path}")
            if response.status_code != 200:
                raise GatewayError("refused", http_status=response.status_code)
            return "tok-1"

        @hookimpl
        def payhub_status(self, reference: str) -> Flow[PaymentResult]:
            try:
                token = yield from exclusive("token", self._token("/token"))
            except GatewayError:
                token = yield from exclusive("token", self._token("/token-fallback"))
            response = yield httpx.Request(
                "GET",
                f"{LOCAL_BASE}/orders/{reference}",
                headers={"Authorization": f"Bearer {token}"},
            )
            return PaymentResult(status=response.json()["status"], reference=reference)

    use_local_adapters(monkeypatch, local_flow=Fallback)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(503 - 100)  # 403: refused, handed to the flow
        if request.url.path == "/token-fallback":
            return httpx.Response(200)
        return _order(request)

    with Hub.from_config(local_config(), transport=httpx.MockTransport(handler)) as hub:
        assert _run_in_thread(lambda: hub.status("o1")).status is PaymentStatus.PAID


def test_locks_are_per_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = token_adapter()
    use_local_adapters(monkeypatch, local_flow=adapter)
    a_fetching = threading.Event()
    release_a = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token" and request.url.host == "a.example":
            a_fetching.set()
            release_a.wait(WAIT)
        if request.url.path == "/token":
            return httpx.Response(200, json={"token": f"tok-{request.url.host}"})
        return _order(request)

    config = {
        "gateways": {
            "a": {"adapter": "local.flow", "base_url": "https://a.example"},
            "b": {"adapter": "local.flow", "base_url": "https://b.example"},
        }
    }

    class PerGateway(adapter):  # type: ignore[valid-type,misc]
        def _fresh_token(self) -> Flow[str]:
            if self.token is not None:
                return self.token
            response = yield httpx.Request("POST", f"{self._base}/token")
            self.token = str(response.json()["token"])
            return self.token

        def __init__(self, settings: LocalSettings) -> None:
            super().__init__(settings)
            self._base = settings.base_url

    use_local_adapters(monkeypatch, local_flow=PerGateway)
    with Hub.from_config(config, transport=httpx.MockTransport(handler)) as hub:
        first = threading.Thread(target=lambda: hub.status("o", gateway="a"))
        first.start()
        assert a_fetching.wait(WAIT)
        # gateway a holds its "token" lock; gateway b must not wait for it
        assert _run_in_thread(lambda: hub.status("o", gateway="b")).status is PaymentStatus.PAID
        release_a.set()
        first.join(WAIT)


# -- exclusive with tasks (AsyncHub) ---------------------------------------------------


@pytest.mark.anyio
async def test_concurrent_tasks_fetch_a_shared_token_exactly_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    all_in = anyio.Event()
    arrived = [0]

    def arrive() -> None:  # runs in the event loop's thread, inside the flow
        arrived[0] += 1
        if arrived[0] == N:
            all_in.set()

    adapter = token_adapter(arrive)
    use_local_adapters(monkeypatch, local_flow=adapter)
    token_requests: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            token_requests.append(request)
            await all_in.wait()
            return httpx.Response(200, json={"token": f"tok-{len(token_requests)}"})
        return _order(request)

    results: list[PaymentResult] = []
    async with AsyncHub.from_config(local_config(), transport=httpx.MockTransport(handler)) as hub:

        async def call(index: int) -> None:
            results.append(await hub.status(f"o{index}"))

        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as group:
                for index in range(N):
                    group.start_soon(call, index)
    assert len(results) == N
    assert len(token_requests) == 1
    assert adapter.fetches == 1  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_the_async_lock_is_released_when_the_flow_raises(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    adapter = token_adapter()
    use_local_adapters(monkeypatch, local_flow=adapter)
    token_answers = [httpx.Response(401), httpx.Response(200, json={"token": "tok-2"})]

    def handler(request: httpx.Request) -> httpx.Response:
        return token_answers.pop(0) if request.url.path == "/token" else _order(request)

    async with AsyncHub.from_config(local_config(), transport=httpx.MockTransport(handler)) as hub:
        with anyio.fail_after(WAIT):
            with pytest.raises(GatewayError):
                await hub.status("o1")
            assert (await hub.status("o2")).status is PaymentStatus.PAID


@pytest.mark.anyio
async def test_a_task_cancelled_while_waiting_for_the_lock_is_cancelled_cleanly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    adapter = token_adapter()
    use_local_adapters(monkeypatch, local_flow=adapter)
    fetching = anyio.Event()
    release = anyio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            fetching.set()
            await release.wait()
            return httpx.Response(200, json={"token": "tok-1"})
        return _order(request)

    async with AsyncHub.from_config(local_config(), transport=httpx.MockTransport(handler)) as hub:
        with anyio.fail_after(WAIT):
            async with anyio.create_task_group() as group:
                group.start_soon(hub.status, "holder")
                await fetching.wait()
                # this call waits for the lock the holder has, and gives up
                with anyio.move_on_after(0.05) as scope:
                    await hub.status("impatient")
                assert scope.cancelled_caught, "the cancellation must not be turned into an error"
                release.set()
            assert (await hub.status("after")).status is PaymentStatus.PAID
    assert adapter.fetches == 1  # type: ignore[attr-defined]


# -- misbehaving flows -----------------------------------------------------------------


def _flow_adapter(body: Callable[[], Flow[Any]]) -> type:
    class OneFlow:
        Settings = LocalSettings

        def __init__(self, settings: LocalSettings) -> None:
            pass

        @hookimpl
        def payhub_status(self, reference: str) -> Flow[Any]:
            return (yield from body())

    return OneFlow


def _junk() -> Flow[Any]:
    yield "GET https://gw.example/"  # type: ignore[misc]
    return paid()


def _release_unheld() -> Flow[Any]:
    yield Release("token")
    return paid()


def _acquire_twice() -> Flow[Any]:
    yield Acquire("token")
    yield Acquire("token")
    return paid()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_junk, "not str"),
        (_release_unheld, "does not hold"),
        (_acquire_twice, "already holds"),
    ],
)
def test_a_misbehaving_flow_is_an_adapter_error(
    monkeypatch: pytest.MonkeyPatch, body: Callable[[], Flow[Any]], message: str
) -> None:
    use_local_adapters(monkeypatch, local_flow=_flow_adapter(body))
    with Hub.from_config(local_config(), transport=httpx.MockTransport(no_network)) as hub:
        with pytest.raises(AdapterError, match=message) as raised:
            _run_in_thread(lambda: hub.status("o"))
        assert (raised.value.gateway, raised.value.operation) == ("local", "status")
        assert raised.value.request_id
        # and the hub still works: no lock was left behind
        with pytest.raises(AdapterError):
            _run_in_thread(lambda: hub.status("o"))


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "message"),
    [(_junk, "not str"), (_release_unheld, "does not hold"), (_acquire_twice, "already holds")],
)
async def test_a_misbehaving_flow_is_an_adapter_error_in_the_async_hub(
    monkeypatch: pytest.MonkeyPatch, body: Callable[[], Flow[Any]], message: str
) -> None:
    use_local_adapters(monkeypatch, local_flow=_flow_adapter(body))
    async with AsyncHub.from_config(
        local_config(), transport=httpx.MockTransport(no_network)
    ) as hub:
        with anyio.fail_after(WAIT):
            with pytest.raises(AdapterError, match=message):
                await hub.status("o")


def _catches_unavailable() -> Flow[PaymentResult]:
    try:
        yield httpx.Request("POST", "https://gw.example/pay")
    except GatewayUnavailable as error:
        if not error.outcome_unknown:
            raise
        response = yield idempotent(httpx.Request("GET", "https://gw.example/pay/status"))
        return PaymentResult(status=response.json()["status"], reference="checked")
    return paid("unreachable")


def _unavailable_then_status(request: httpx.Request) -> httpx.Response:
    if request.method == "POST":
        raise httpx.ReadTimeout("slow", request=request)
    return httpx.Response(200, json={"status": "pending"})


def test_a_flow_receives_gateway_unavailable_at_its_yield_and_may_catch_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_local_adapters(monkeypatch, local_flow=_flow_adapter(_catches_unavailable))
    with Hub.from_config(
        local_config(), transport=httpx.MockTransport(_unavailable_then_status)
    ) as hub:
        result = hub.status("o")
    assert (result.status, result.reference) == (PaymentStatus.PENDING, "checked")


@pytest.mark.anyio
async def test_an_async_flow_receives_gateway_unavailable_and_may_catch_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_local_adapters(monkeypatch, local_flow=_flow_adapter(_catches_unavailable))
    transport = httpx.MockTransport(_unavailable_then_status)
    async with AsyncHub.from_config(local_config(), transport=transport) as hub:
        result = await hub.status("o")
    assert result.status is PaymentStatus.PENDING


def test_an_uncaught_gateway_unavailable_leaves_the_flow_with_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def flow() -> Flow[PaymentResult]:
        yield httpx.Request("POST", "https://gw.example/pay")
        return paid()

    use_local_adapters(monkeypatch, local_flow=_flow_adapter(flow))
    with (
        Hub.from_config(
            local_config(), transport=httpx.MockTransport(_unavailable_then_status)
        ) as hub,
        pytest.raises(GatewayUnavailable) as raised,
    ):
        hub.status("o")
    assert raised.value.outcome_unknown is True
    assert (raised.value.gateway, raised.value.operation) == ("local", "status")
    assert isinstance(raised.value.__cause__, httpx.ReadTimeout)
