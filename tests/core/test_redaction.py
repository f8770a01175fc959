"""Secrets never leave: a canary as every secret setting must not appear in any log record
(any logger, DEBUG and up: message, arguments and the structured ``payhub`` dict), in the
repr of the hub, its configuration or settings, or in the str/repr of any raised error, on
success and on every failure path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from _hubkit import (
    FlowAdapter,
    LocalSettings,
    acme_payment,
    acme_return_query,
    invoice,
    use_local_adapters,
)
from pydantic import Field, SecretBytes, SecretStr

from payhub_core import (
    AsyncHub,
    Callback,
    ConfigurationError,
    GatewayError,
    Hub,
    PayhubError,
    hookimpl,
)
from payhub_core.flows import Flow

KEY = "CANARY-KEY-5b0c2d9e41f7"
SECRET = "CANARY-SECRET-8e6a1f03bd72"
CANARIES = (KEY, SECRET)


def _leaks(text: str) -> list[str]:
    return [canary for canary in CANARIES if canary in text]


def _record_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), repr(record.msg), repr(record.args), repr(vars(record))]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)  # every logger: payhub, httpx, stevedore...
    yield caplog
    for record in caplog.records:
        leaked = _leaks(_record_text(record))
        assert not leaked, f"{record.name} logged a secret: {record.getMessage()}"


def _check_error(error: BaseException) -> None:
    assert not _leaks(str(error)), str(error)
    assert not _leaks(repr(error)), repr(error)
    assert not _leaks(repr(error.args))


def _check_hub(hub: Hub | AsyncHub) -> None:
    for text in (repr(hub), str(hub), repr(hub.config), repr(vars(hub))):
        assert not _leaks(text), text
    for alias in hub.gateways:
        gateway = hub._gateways[alias]
        for text in (repr(gateway), repr(gateway.settings), str(gateway.settings)):
            assert not _leaks(text), text
        assert not _leaks(gateway.settings.model_dump_json())


def _acme_config() -> dict[str, Any]:
    return {
        "gateways": {
            "acme": {"adapter": "acme.pay", "api_key": KEY, "secret": SECRET, "max_retries": 1}
        }
    }


def _acme_ok(request: httpx.Request) -> httpx.Response:
    assert request.headers["authorization"] == f"Bearer {KEY}"  # it is sent, just not shown
    if request.url.path == "/payments":
        return httpx.Response(201, json={**acme_payment("pending"), "echo": KEY})
    return httpx.Response(200, json=acme_payment())


# -- success paths ---------------------------------------------------------------------


@pytest.mark.usefixtures("logs")
def test_no_secret_leaks_on_the_success_path() -> None:
    with Hub.from_config(_acme_config(), transport=httpx.MockTransport(_acme_ok)) as hub:
        _check_hub(hub)
        checkout = hub.initiate(invoice())
        hub.verify(Callback(query=acme_return_query(SECRET)), expected=invoice())
        hub.capture("pay_1")
        hub.cancel("pay_1")
        hub.refund("pay_1")
        hub.status("pay_1")
        assert not _leaks(repr(checkout))
        _check_hub(hub)


@pytest.mark.anyio
@pytest.mark.usefixtures("logs")
async def test_no_secret_leaks_on_the_async_success_path() -> None:
    async with AsyncHub.from_config(_acme_config(), transport=httpx.MockTransport(_acme_ok)) as hub:
        _check_hub(hub)
        await hub.initiate(invoice())
        await hub.status("pay_1")


@pytest.mark.usefixtures("logs")
def test_secret_headers_are_redacted_in_the_structured_record(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_local_adapters(monkeypatch, local_flow=FlowAdapter)
    config = _acme_config()
    config["gateways"]["local"] = {"adapter": "local.flow", "api_key": SECRET}

    def handler(request: httpx.Request) -> httpx.Response:
        return (
            _acme_ok(request)
            if request.url.host.startswith("api.acme")
            else httpx.Response(200, json={"status": "paid"})
        )

    with Hub.from_config(config, transport=httpx.MockTransport(handler)) as hub:
        hub.status("pay_1", gateway="acme")
        hub.status("o", gateway="local")
    attempts = [r.payhub for r in caplog.records if r.name == "payhub" and "headers" in r.payhub]  # type: ignore[attr-defined]
    sent = [{name.lower(): value for name, value in a["headers"].items()} for a in attempts]
    assert sent[0]["authorization"] == "**********"
    assert sent[1]["x-api-key"] == "**********"


# -- failure paths ---------------------------------------------------------------------


def _raising(exception: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exception

    return handler


FAILURES: list[tuple[str, Callable[[httpx.Request], httpx.Response]]] = [
    ("500", lambda request: httpx.Response(500, text=f"internal error for key {KEY}")),
    ("401", lambda request: httpx.Response(401, json={"error": f"bad key {KEY}"})),
    ("429", lambda request: httpx.Response(429, headers={"Retry-After": "0"})),
    ("read-timeout", _raising(httpx.ReadTimeout(f"timed out talking to {KEY}"))),
    ("connect-error", _raising(httpx.ConnectError(f"refused for {SECRET}"))),
    ("junk-json", lambda request: httpx.Response(200, text=f"<html>{KEY}</html>")),
]


@pytest.mark.parametrize(
    "handler", [handler for _, handler in FAILURES], ids=[name for name, _ in FAILURES]
)
@pytest.mark.usefixtures("logs")
def test_no_secret_leaks_on_failure_paths(
    handler: Callable[[httpx.Request], httpx.Response], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("payhub_core._driver.time.sleep", lambda _: None)
    with Hub.from_config(_acme_config(), transport=httpx.MockTransport(handler)) as hub:
        for call in (
            lambda: hub.capture("pay_1"),
            lambda: hub.status("pay_1"),
            lambda: hub.initiate(invoice()),
        ):
            with pytest.raises(PayhubError) as raised:
                call()
            _check_error(raised.value)
        _check_hub(hub)


@pytest.mark.usefixtures("logs")
def test_a_forged_callback_error_does_not_leak_the_secret() -> None:
    with (
        Hub.from_config(_acme_config(), transport=httpx.MockTransport(_acme_ok)) as hub,
        pytest.raises(PayhubError) as raised,
    ):
        hub.verify(Callback(query=acme_return_query("wrong") + f"&note={SECRET}"))
    _check_error(raised.value)


class Careless:
    """An adapter that puts its key everywhere it should not: error messages, a custom
    header, the URL path."""

    Settings = LocalSettings

    def __init__(self, settings: LocalSettings) -> None:
        self.key = settings.api_key.get_secret_value()

    @hookimpl
    def payhub_status(self, reference: str) -> Flow[Any]:
        response = yield httpx.Request(
            "GET",
            f"https://gw.example/merchants/{self.key}/orders/{reference}",
            headers={"X-Merchant": f"id={self.key}", "X-API-KEY": self.key},
        )
        raise GatewayError(f"gateway refused key {self.key}: {response.text}", http_status=403)

    @hookimpl
    def payhub_cancel(self, reference: str) -> Any:
        raise RuntimeError(f"crashed with key {self.key}")


@pytest.mark.usefixtures("logs")
def test_secrets_an_adapter_puts_in_errors_headers_and_paths_are_scrubbed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    use_local_adapters(monkeypatch, local_flow=Careless)
    # httpx's own logger prints whole URLs; this adapter's URL carries the key, so the
    # check of other loggers is limited to payhub's records for this one case
    caplog.set_level(logging.WARNING, logger="httpx")
    config = {"gateways": {"local": {"adapter": "local.flow", "api_key": KEY}}}
    transport = httpx.MockTransport(lambda request: httpx.Response(403, text=f"no {KEY}"))
    with Hub.from_config(config, transport=transport) as hub:
        with pytest.raises(GatewayError) as refused:
            hub.status("o")
        with pytest.raises(PayhubError) as crashed:
            hub.cancel("o")
        _check_hub(hub)
    _check_error(refused.value)
    _check_error(crashed.value)
    assert "**********" in str(refused.value)


class LeakyInit:
    Settings = LocalSettings

    def __init__(self, settings: LocalSettings) -> None:
        key = settings.api_key.get_secret_value()
        raise ConfigurationError(f"the key {key} is not valid for this environment")


class CrashingInit:
    Settings = LocalSettings

    def __init__(self, settings: LocalSettings) -> None:
        raise ValueError(f"cannot parse {settings.api_key.get_secret_value()}")


@pytest.mark.parametrize("adapter", [LeakyInit, CrashingInit])
@pytest.mark.usefixtures("logs")
def test_an_adapter_failing_to_start_does_not_leak_its_settings(
    monkeypatch: pytest.MonkeyPatch, adapter: type
) -> None:
    use_local_adapters(monkeypatch, local_flow=adapter)
    config = {"gateways": {"local": {"adapter": "local.flow", "api_key": KEY}}}
    with pytest.raises(ConfigurationError) as raised:
        Hub.from_config(config, transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    _check_error(raised.value)
    assert raised.value.gateway == "local"


@pytest.mark.parametrize(
    "settings",
    [
        {"api_key": KEY, "timeout": SECRET},
        {"api_key": KEY, "unknown_field": SECRET},
        {"api_key": {"value": KEY}, "environment": SECRET, "max_retries": SECRET},
    ],
)
@pytest.mark.usefixtures("logs")
def test_invalid_settings_errors_do_not_echo_secrets(
    monkeypatch: pytest.MonkeyPatch, settings: dict[str, Any]
) -> None:
    use_local_adapters(monkeypatch, local_flow=FlowAdapter)
    with pytest.raises(ConfigurationError) as raised:
        Hub.from_config({"gateways": {"local": {"adapter": "local.flow", **settings}}})
    _check_error(raised.value)


@pytest.mark.usefixtures("logs")
def test_env_configuration_errors_do_not_echo_secrets() -> None:
    env = {
        "PAYHUB_SHOP__ADAPTER": "acme.pay",
        "PAYHUB_SHOP__API_KEY": KEY,
        "PAYHUB_SHOP__MAX_RETRIES": SECRET,
    }
    with pytest.raises(ConfigurationError) as raised:
        Hub.from_env(env)
    _check_error(raised.value)


class ReprWithKey:
    """An adapter whose repr shows its key, and with a misspelled hook: pluggy's error
    message quotes the adapter's repr."""

    Settings = LocalSettings

    def __init__(self, settings: LocalSettings) -> None:
        self.key = settings.api_key.get_secret_value()

    def __repr__(self) -> str:
        return f"ReprWithKey(key={self.key})"

    @hookimpl
    def payhub_satus(self, reference: str) -> Any:
        return None


@pytest.mark.usefixtures("logs")
def test_hook_validation_errors_do_not_leak_the_adapters_repr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_local_adapters(monkeypatch, local_flow=ReprWithKey)
    # check_adapter_class catches payhub_* typos before pluggy sees them; go around it
    monkeypatch.setattr("payhub_core._hub.check_adapter_class", lambda name, cls: cls)
    with pytest.raises(ConfigurationError, match="payhub_satus") as raised:
        Hub.from_config({"gateways": {"local": {"adapter": "local.flow", "api_key": KEY}}})
    _check_error(raised.value)


class NestedSecretsSettings(LocalSettings):
    merchant_keys: dict[str, SecretStr] = Field(default_factory=dict)
    signing_keys: tuple[SecretStr, ...] = ()
    certificate: SecretBytes = SecretBytes(b"")


class UsesNestedSecrets:
    """Sends secrets from containers in a header the hub does not know by name."""

    Settings = NestedSecretsSettings

    def __init__(self, settings: NestedSecretsSettings) -> None:
        self.settings = settings

    @hookimpl
    def payhub_status(self, reference: str) -> Flow[Any]:
        keys = self.settings.merchant_keys["LYD"].get_secret_value()
        signing = self.settings.signing_keys[0].get_secret_value()
        certificate = self.settings.certificate.get_secret_value().decode()
        yield httpx.Request(
            "GET",
            "https://gw.example/status",
            headers={"X-Merchant": f"{keys};{signing};{certificate}"},
        )
        raise GatewayError(f"refused {keys} {signing} {certificate}")


@pytest.mark.usefixtures("logs")
def test_secrets_inside_containers_and_secret_bytes_are_redacted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_local_adapters(monkeypatch, local_flow=UsesNestedSecrets)
    config = {
        "gateways": {
            "local": {
                "adapter": "local.flow",
                "merchant_keys": {"LYD": KEY},
                "signing_keys": [SECRET],
                "certificate": "CANARY-CERT-0a9b8c7d",
            }
        }
    }
    with (
        Hub.from_config(
            config, transport=httpx.MockTransport(lambda r: httpx.Response(403))
        ) as hub,
        pytest.raises(GatewayError) as raised,
    ):
        hub.status("o")
    _check_error(raised.value)
    assert "CANARY-CERT-0a9b8c7d" not in str(raised.value)
