"""The drivers and their retry policy: only what cannot double-charge is repeated.

``RetryPolicy.after`` is pure and tested directly; the drivers are tested through ``Hub``
and ``AsyncHub`` with transports that fail on purpose. Retries are instant in these tests
(``retry_backoff = 0``) or their sleeps are recorded instead of slept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from _hubkit import (
    FlowAdapter,
    LocalSettings,
    acme_config,
    invoice,
    local_config,
    paid,
    use_local_adapters,
)

from payhub_core import (
    AsyncHub,
    ConfigurationError,
    GatewayUnavailable,
    Hub,
    PaymentResult,
    PaymentStatus,
    hookimpl,
)
from payhub_core._policy import RetryPolicy
from payhub_core.flows import Flow, idempotent

URL = "https://gw.example/orders"


def _post() -> httpx.Request:
    return httpx.Request("POST", URL, json={"amount": 1})


def _get() -> httpx.Request:
    return idempotent(httpx.Request("GET", URL))


def _response(status: int, request: httpx.Request, **headers: str) -> httpx.Response:
    # as UTF-8 bytes, the way a server may send them (httpx takes str headers as ASCII)
    raw = [(name.encode(), value.encode()) for name, value in headers.items()]
    return httpx.Response(status, headers=raw, request=request)


NEVER_SENT = [
    httpx.ConnectError("refused"),
    httpx.ConnectTimeout("no connection"),
    httpx.PoolTimeout("pool exhausted"),
]
MAYBE_SENT = [
    httpx.ReadTimeout("read"),
    httpx.WriteTimeout("write"),
    httpx.ReadError("reset"),
    httpx.RemoteProtocolError("server hung up"),
]


# -- the pure policy -------------------------------------------------------------------


@pytest.mark.parametrize("error", NEVER_SENT, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("request_", [_post(), _get()], ids=["post", "idempotent"])
def test_a_connection_never_made_is_retried_up_to_max_retries(
    error: Exception, request_: httpx.Request
) -> None:
    policy = RetryPolicy(max_retries=2, backoff=0.0)
    assert policy.after(request_, 1, None, error).retry_in is not None
    assert policy.after(request_, 2, None, error).retry_in is not None
    final = policy.after(request_, 3, None, error)
    assert final.retry_in is None
    assert isinstance(final.error, GatewayUnavailable)
    assert final.error.outcome_unknown is False
    assert "nothing was sent" in final.error.message


@pytest.mark.parametrize("error", MAYBE_SENT, ids=lambda e: type(e).__name__)
def test_a_request_that_may_have_arrived_is_never_repeated(error: Exception) -> None:
    policy = RetryPolicy(max_retries=5, backoff=0.0)
    decision = policy.after(_post(), 1, None, error)
    assert decision.retry_in is None
    assert isinstance(decision.error, GatewayUnavailable)
    assert decision.error.outcome_unknown is True
    assert "outcome is unknown" in decision.error.message


@pytest.mark.parametrize("error", MAYBE_SENT, ids=lambda e: type(e).__name__)
def test_an_idempotent_request_is_retried_after_it_may_have_arrived(error: Exception) -> None:
    policy = RetryPolicy(max_retries=2, backoff=0.0)
    assert policy.after(_get(), 1, None, error).retry_in is not None
    assert policy.after(_get(), 2, None, error).retry_in is not None
    final = policy.after(_get(), 3, None, error).error
    assert isinstance(final, GatewayUnavailable)
    # repeating a status query or token request changes nothing: no outcome to check
    assert final.outcome_unknown is False
    assert "unknown" not in final.message


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_answer_to_a_non_idempotent_request_is_not_repeated(status: int) -> None:
    request = _post()
    decision = RetryPolicy(max_retries=5).after(request, 1, _response(status, request), None)
    assert decision.retry_in is None
    assert isinstance(decision.error, GatewayUnavailable)
    assert decision.error.outcome_unknown is True
    assert decision.error.http_status == status
    assert "outcome is unknown" in decision.error.message


@pytest.mark.parametrize("status", [500, 503])
def test_a_5xx_answer_to_an_idempotent_request_is_retried(status: int) -> None:
    request = _get()
    policy = RetryPolicy(max_retries=1, backoff=0.0)
    assert policy.after(request, 1, _response(status, request), None).retry_in is not None
    final = policy.after(request, 2, _response(status, request), None).error
    assert isinstance(final, GatewayUnavailable)
    assert final.http_status == status


@pytest.mark.parametrize("request_", [_post(), _get()], ids=["post", "idempotent"])
def test_429_is_retried_then_reported_as_refused_not_unknown(request_: httpx.Request) -> None:
    policy = RetryPolicy(max_retries=2, backoff=0.0)
    response = _response(429, request_)
    assert policy.after(request_, 1, response, None).retry_in is not None
    assert policy.after(request_, 2, response, None).retry_in is not None
    final = policy.after(request_, 3, response, None).error
    assert isinstance(final, GatewayUnavailable)
    assert final.outcome_unknown is False
    assert final.http_status == 429


@pytest.mark.parametrize("status", [200, 201, 302, 400, 401, 404, 409, 422])
def test_other_answers_go_to_the_flow(status: int) -> None:
    request = _post()
    decision = RetryPolicy().after(request, 1, _response(status, request), None)
    assert (decision.retry_in, decision.error) == (None, None)


def test_max_retries_zero_never_retries() -> None:
    policy = RetryPolicy(max_retries=0)
    decision = policy.after(_post(), 1, None, httpx.ConnectError("x"))
    assert isinstance(decision.error, GatewayUnavailable)


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(max_retries=10, backoff=0.2, max_delay=1.0)
    for attempt, ceiling in [(1, 0.2), (2, 0.4), (3, 0.8)]:
        delays = [
            policy.after(_get(), attempt, None, httpx.ConnectError("x")).retry_in for _ in range(50)
        ]
        assert all(d is not None and ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1, "delays must be jittered"
    late = [policy.after(_get(), 8, None, httpx.ConnectError("x")).retry_in for _ in range(20)]
    assert all(d is not None and 0 < d <= 1.0 for d in late)


def test_retry_after_seconds_is_honoured() -> None:
    request = _get()
    decision = RetryPolicy(backoff=0.0, max_delay=10.0).after(
        request, 1, _response(429, request, **{"Retry-After": "3"}), None
    )
    assert decision.retry_in == 3.0


def test_retry_after_is_capped_at_max_delay() -> None:
    request = _get()
    decision = RetryPolicy(backoff=0.0, max_delay=5.0).after(
        request, 1, _response(503, request, **{"Retry-After": "3600"}), None
    )
    assert decision.retry_in == 5.0


def test_retry_after_as_an_http_date_is_honoured() -> None:
    request = _post()
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=4), usegmt=True)
    decision = RetryPolicy(backoff=0.0, max_delay=10.0).after(
        request, 1, _response(429, request, **{"Retry-After": when}), None
    )
    assert decision.retry_in is not None
    assert 2.0 <= decision.retry_in <= 4.0


@pytest.mark.parametrize(
    "value",
    ["soon", "-5", "", "1.5e9x", "1.5", "+3", "3 s", "\u00b2", "\u0663", "3\u00b2", "0x10", "1e3"],
)
def test_a_malformed_retry_after_falls_back_to_backoff(value: str) -> None:
    # '\u00b2' (superscript two) and '\u0663' (Arabic-Indic three) pass str.isdigit()
    # and used to crash float() into an AdapterError
    request = _get()
    decision = RetryPolicy(backoff=0.0, max_delay=10.0).after(
        request, 1, _response(429, request, **{"Retry-After": value}), None
    )
    assert decision.retry_in == 0.0


def test_a_huge_retry_after_is_capped_without_overflow() -> None:
    request = _get()
    decision = RetryPolicy(backoff=0.0, max_delay=5.0).after(
        request, 1, _response(503, request, **{"Retry-After": "9" * 400}), None
    )
    assert decision.retry_in == 5.0


def test_a_past_http_date_retry_after_means_now() -> None:
    request = _get()
    decision = RetryPolicy(backoff=0.0, max_delay=5.0).after(
        request,
        1,
        _response(503, request, **{"Retry-After": "Sun, 06 Nov 1994 08:49:37 GMT"}),
        None,
    )
    assert decision.retry_in == 0.0


def test_a_wait_that_would_end_past_the_deadline_is_not_made() -> None:
    request = _get()
    policy = RetryPolicy(max_retries=5, backoff=0.0, max_delay=5.0)
    limited = _response(503, request, **{"Retry-After": "99999"})
    assert policy.after(request, 1, limited, None, remaining=10.0).retry_in == 5.0
    final = policy.after(request, 1, limited, None, remaining=4.0)
    assert final.retry_in is None
    assert isinstance(final.error, GatewayUnavailable)
    assert final.error.http_status == 503


def test_the_unknown_outcome_advice_follows_the_status_capability() -> None:
    policy = RetryPolicy(max_retries=0)
    with_status = policy.after(_post(), 1, None, httpx.ReadTimeout("slow"), status_check=True)
    without = policy.after(_post(), 1, None, httpx.ReadTimeout("slow"), status_check=False)
    assert isinstance(with_status.error, GatewayUnavailable)
    assert isinstance(without.error, GatewayUnavailable)
    assert "check the payment's status" in with_status.error.message
    assert "check the payment's status" not in without.error.message
    assert "merchant dashboard" in without.error.message
    request = _post()
    answered = policy.after(request, 1, _response(502, request), None, status_check=False)
    assert isinstance(answered.error, GatewayUnavailable)
    assert "merchant dashboard" in answered.error.message


def test_a_request_the_http_layer_refused_to_send_is_never_outcome_unknown() -> None:
    decision = RetryPolicy(max_retries=3).after(
        _post(), 1, None, httpx.LocalProtocolError("Illegal header value b'x\\n'")
    )
    assert decision.retry_in is None
    assert isinstance(decision.error, ConfigurationError)
    assert "nothing was sent" in decision.error.message


def test_an_unusable_url_is_a_configuration_error() -> None:
    request = httpx.Request("POST", "ftp://gw.example/x")
    decision = RetryPolicy().after(request, 1, None, httpx.UnsupportedProtocol("ftp"))
    assert isinstance(decision.error, ConfigurationError)


# -- the sync driver through Hub -------------------------------------------------------


class Transport:
    """Answers with a scripted sequence: exceptions are raised, ints become statuses."""

    def __init__(self, *script: Any, final: Any = 200) -> None:
        self.script = list(script)
        self.final = final
        self.requests: list[httpx.Request] = []

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script.pop(0) if self.script else self.final
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return httpx.Response(step, json={"status": "paid", "reference": "ord-1"})

    def sync(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.answer)

    def async_(self) -> httpx.MockTransport:
        async def handler(request: httpx.Request) -> httpx.Response:
            return self.answer(request)

        return httpx.MockTransport(handler)


@pytest.fixture
def hub_for(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Hub]:
    use_local_adapters(monkeypatch, local_flow=FlowAdapter)
    hubs: list[Hub] = []

    def build(transport: Transport, **settings: Any) -> Hub:
        hub = Hub.from_config(local_config(**settings), transport=transport.sync())
        hubs.append(hub)
        return hub

    yield build  # type: ignore[misc]
    for hub in hubs:
        hub.close()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr("payhub_core._driver.time.sleep", recorded.append)
    return recorded


def test_connect_errors_are_retried_then_reported_as_nothing_sent(
    hub_for: Callable[..., Hub], sleeps: list[float]
) -> None:
    transport = Transport(final=httpx.ConnectError("refused"))
    with pytest.raises(GatewayUnavailable) as raised:
        hub_for(transport, max_retries=2).capture("o")
    assert len(transport.requests) == 3
    assert len(sleeps) == 2
    assert raised.value.outcome_unknown is False
    assert (raised.value.gateway, raised.value.operation) == ("local", "capture")
    assert isinstance(raised.value.__cause__, httpx.ConnectError)


def test_a_connect_error_then_success_returns_the_result(
    hub_for: Callable[..., Hub], sleeps: list[float]
) -> None:
    transport = Transport(httpx.ConnectError("refused"))
    assert hub_for(transport).capture("o").status is PaymentStatus.PAID
    assert len(transport.requests) == 2


def test_a_read_timeout_on_a_payment_is_sent_once_and_the_outcome_is_unknown(
    hub_for: Callable[..., Hub], sleeps: list[float]
) -> None:
    transport = Transport(final=httpx.ReadTimeout("slow"))
    with pytest.raises(GatewayUnavailable) as raised:
        hub_for(transport, max_retries=5).capture("o")
    assert len(transport.requests) == 1
    assert sleeps == []
    assert raised.value.outcome_unknown is True
    assert "outcome is unknown" in str(raised.value)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_on_a_payment_is_sent_once(hub_for: Callable[..., Hub], status: int) -> None:
    transport = Transport(final=status)
    with pytest.raises(GatewayUnavailable) as raised:
        hub_for(transport, max_retries=5).refund("o")
    assert len(transport.requests) == 1
    assert raised.value.http_status == status
    assert raised.value.outcome_unknown is True


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout("slow"), 500, 503, 429], ids=["timeout", "500", "503", "429"]
)
def test_an_idempotent_request_is_retried_until_it_succeeds(
    hub_for: Callable[..., Hub], sleeps: list[float], failure: Any
) -> None:
    transport = Transport(failure, failure)
    result = hub_for(transport, max_retries=2).status("o")
    assert result.status is PaymentStatus.PAID
    assert len(transport.requests) == 3
    assert len(sleeps) == 2
    assert all(request.method == "GET" for request in transport.requests)


def test_idempotent_retries_are_bounded(hub_for: Callable[..., Hub], sleeps: list[float]) -> None:
    transport = Transport(final=503)
    with pytest.raises(GatewayUnavailable):
        hub_for(transport, max_retries=3).status("o")
    assert len(transport.requests) == 4


def test_429_on_a_payment_is_retried_and_finally_reported_as_refused(
    hub_for: Callable[..., Hub], sleeps: list[float]
) -> None:
    transport = Transport(final=429)
    with pytest.raises(GatewayUnavailable) as raised:
        hub_for(transport, max_retries=2).capture("o")
    assert len(transport.requests) == 3
    assert raised.value.outcome_unknown is False
    assert raised.value.http_status == 429


def test_retry_delays_back_off_with_jitter(
    hub_for: Callable[..., Hub], sleeps: list[float]
) -> None:
    transport = Transport(final=httpx.ConnectError("refused"))
    with pytest.raises(GatewayUnavailable):
        hub_for(transport, max_retries=4, retry_backoff=0.1).capture("o")
    assert len(sleeps) == 4
    for attempt, delay in enumerate(sleeps, start=1):
        ceiling = 0.1 * 2 ** (attempt - 1)
        assert ceiling / 2 <= delay <= ceiling


def test_retry_after_is_honoured_but_capped_by_the_driver(
    hub_for: Callable[..., Hub], sleeps: list[float]
) -> None:
    def limited(seconds: str) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": seconds})

    transport = Transport(limited("2"), limited("86400"))
    hub_for(transport, max_retries=2).capture("o")
    assert sleeps == [2.0, 5.0]


@pytest.mark.parametrize("value", ["\u00b2", "\u0663", "-1"])
def test_a_non_ascii_retry_after_is_ignored_not_a_crash(
    hub_for: Callable[..., Hub], sleeps: list[float], value: str
) -> None:
    transport = Transport(httpx.Response(429, headers=[(b"Retry-After", value.encode())]))
    assert hub_for(transport, max_retries=1).capture("o").status is PaymentStatus.PAID
    assert len(transport.requests) == 2
    assert sleeps == [0.0]  # retry_backoff = 0 in these tests


def test_each_attempt_is_logged_with_its_number_and_delay(
    hub_for: Callable[..., Hub], sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="payhub")
    hub_for(Transport(503), max_retries=1).status("o")
    attempts = [r.payhub for r in caplog.records if r.name == "payhub" and "attempt" in r.payhub]  # type: ignore[attr-defined]
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, 503), (2, 200)]
    assert attempts[0]["retry_in"] == 0.0
    assert attempts[1]["retry_in"] is None
    warning = next(r for r in caplog.records if r.name == "payhub" and r.levelno == logging.WARNING)
    assert "retrying" in warning.getMessage()


# -- timeouts --------------------------------------------------------------------------


class TimeoutPerRequest:
    Settings = LocalSettings

    def __init__(self, settings: LocalSettings) -> None:
        pass

    @hookimpl
    def payhub_status(self, reference: str) -> Flow[PaymentResult]:
        request = httpx.Request("GET", URL, extensions={"timeout": httpx.Timeout(1.0).as_dict()})
        yield request
        return paid(reference)


def test_requests_carry_the_default_timeouts(hub_for: Callable[..., Hub]) -> None:
    transport = Transport()
    hub_for(transport).status("o")
    assert transport.requests[0].extensions["timeout"] == {
        "connect": 10.0,
        "read": 30.0,
        "write": 30.0,
        "pool": 30.0,
    }


def test_requests_carry_the_gateways_own_timeouts(hub_for: Callable[..., Hub]) -> None:
    transport = Transport()
    hub_for(transport, timeout=4.5, connect_timeout=1.5).capture("o")
    assert transport.requests[0].extensions["timeout"] == {
        "connect": 1.5,
        "read": 4.5,
        "write": 4.5,
        "pool": 4.5,
    }


def test_timeouts_from_the_environment_are_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    use_local_adapters(monkeypatch, local_flow=FlowAdapter)
    transport = Transport()
    env = {"PAYHUB_LOCAL__ADAPTER": "local.flow", "PAYHUB_LOCAL__TIMEOUT": "7.5"}
    with Hub.from_env(env, transport=transport.sync()) as hub:
        hub.status("o")
    assert transport.requests[0].extensions["timeout"]["read"] == 7.5


def test_a_timeout_the_adapter_set_on_a_request_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    use_local_adapters(monkeypatch, local_flow=TimeoutPerRequest)
    transport = Transport()
    with Hub.from_config(local_config(timeout=20), transport=transport.sync()) as hub:
        hub.status("o")
    assert transport.requests[0].extensions["timeout"]["read"] == 1.0


@pytest.mark.parametrize("setting", [{"timeout": 0}, {"connect_timeout": -1}, {"max_retries": 11}])
def test_out_of_range_driver_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, setting: dict[str, Any]
) -> None:
    use_local_adapters(monkeypatch, local_flow=FlowAdapter)
    [(field, _)] = setting.items()
    with pytest.raises(ConfigurationError, match=field) as raised:
        Hub.from_config(local_config(**setting), transport=Transport().sync())
    assert raised.value.gateway == "local"


# -- the async driver through AsyncHub -------------------------------------------------


@pytest.fixture
def async_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []

    async def sleep(delay: float) -> None:
        recorded.append(delay)

    monkeypatch.setattr("payhub_core._driver.anyio.sleep", sleep)
    return recorded


def _async_hub(monkeypatch: pytest.MonkeyPatch, transport: Transport, **settings: Any) -> AsyncHub:
    use_local_adapters(monkeypatch, local_flow=FlowAdapter)
    return AsyncHub.from_config(local_config(**settings), transport=transport.async_())


@pytest.mark.anyio
async def test_async_connect_errors_are_retried_then_reported(
    monkeypatch: pytest.MonkeyPatch, async_sleeps: list[float]
) -> None:
    transport = Transport(final=httpx.ConnectError("refused"))
    async with _async_hub(monkeypatch, transport, max_retries=2) as hub:
        with pytest.raises(GatewayUnavailable) as raised:
            await hub.capture("o")
    assert len(transport.requests) == 3
    assert len(async_sleeps) == 2
    assert raised.value.outcome_unknown is False


@pytest.mark.anyio
async def test_async_read_timeout_on_a_payment_is_sent_once(
    monkeypatch: pytest.MonkeyPatch, async_sleeps: list[float]
) -> None:
    transport = Transport(final=httpx.ReadTimeout("slow"))
    async with _async_hub(monkeypatch, transport, max_retries=3) as hub:
        with pytest.raises(GatewayUnavailable) as raised:
            await hub.initiate(invoice())
    assert len(transport.requests) == 1
    assert async_sleeps == []
    assert raised.value.outcome_unknown is True
    assert "outcome is unknown" in str(raised.value)


@pytest.mark.anyio
async def test_async_idempotent_requests_are_retried_with_retry_after(
    monkeypatch: pytest.MonkeyPatch, async_sleeps: list[float]
) -> None:
    transport = Transport(
        httpx.Response(503, headers={"Retry-After": "1"}), httpx.ReadTimeout("slow")
    )
    async with _async_hub(monkeypatch, transport, max_retries=2) as hub:
        assert (await hub.status("o")).status is PaymentStatus.PAID
    assert len(transport.requests) == 3
    assert async_sleeps[0] == 1.0


@pytest.mark.anyio
async def test_async_429_is_finally_reported_as_refused(
    monkeypatch: pytest.MonkeyPatch, async_sleeps: list[float]
) -> None:
    transport = Transport(final=429)
    async with _async_hub(monkeypatch, transport, max_retries=1) as hub:
        with pytest.raises(GatewayUnavailable) as raised:
            await hub.cancel("o")
    assert len(transport.requests) == 2
    assert (raised.value.outcome_unknown, raised.value.http_status) == (False, 429)


@pytest.mark.anyio
async def test_async_requests_carry_the_gateways_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    transport = Transport()
    async with _async_hub(monkeypatch, transport, timeout=3, connect_timeout=2) as hub:
        await hub.status("o")
    assert transport.requests[0].extensions["timeout"] == {
        "connect": 2.0,
        "read": 3.0,
        "write": 3.0,
        "pool": 3.0,
    }


def test_retries_stay_bounded_when_an_adapters_settings_do_not_bound_them(
    sleeps: list[float],
) -> None:
    # acme.pay's Settings (not a GatewaySettings) accept any max_retries
    transport = Transport(final=httpx.ConnectError("refused"))
    with (
        Hub.from_config(acme_config(max_retries=1000), transport=transport.sync()) as hub,
        pytest.raises(GatewayUnavailable),
    ):
        hub.status("pay_1")
    assert len(transport.requests) == 11  # GatewaySettings' own ceiling: 10 retries


def test_a_negative_max_retries_means_no_retries(sleeps: list[float]) -> None:
    transport = Transport(final=httpx.ConnectError("refused"))
    with (
        Hub.from_config(
            acme_config(max_retries=-3, retry_backoff=-1.0), transport=transport.sync()
        ) as hub,
        pytest.raises(GatewayUnavailable),
    ):
        hub.status("pay_1")
    assert len(transport.requests) == 1
