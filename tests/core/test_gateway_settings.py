"""GatewaySettings refuses what would break every call later: infinite or NaN timeouts,
credentials in ``base_url``, and secrets that are short, padded or not header-safe. Each
error names the field and never the value."""

from __future__ import annotations

import socket
import traceback
from typing import Any

import httpx
import pytest
from _hubkit import FlowAdapter, local_config, use_local_adapters
from pydantic import BaseModel, SecretStr

from payhub_core import ConfigurationError, GatewayUnavailable, Hub, PayhubError, hookimpl
from payhub_core.flows import Flow

CANARY = "CANARY-9f3b71c2e8"


@pytest.fixture(autouse=True)
def local(monkeypatch: pytest.MonkeyPatch) -> None:
    use_local_adapters(monkeypatch, local_flow=FlowAdapter)


def _refused(**settings: Any) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as raised:
        Hub.from_config(local_config(**settings), transport=httpx.MockTransport(_never))
    return raised.value


def _never(request: httpx.Request) -> httpx.Response:
    raise AssertionError("nothing may be sent")


@pytest.mark.parametrize("field", ["timeout", "connect_timeout", "deadline"])
@pytest.mark.parametrize("value", [float("inf"), float("nan"), "inf", "nan", -1.0, 0, 3601.0])
def test_seconds_must_be_finite_positive_and_bounded(field: str, value: Any) -> None:
    # connect_timeout=inf used to fail every call with AdapterError(OverflowError)
    error = _refused(**{field: value})
    assert field in error.message


@pytest.mark.parametrize("value", [float("inf"), float("nan"), -0.5, 3601.0])
def test_retry_backoff_must_be_finite_and_bounded(value: float) -> None:
    from pydantic import ValidationError

    from payhub_core import GatewaySettings

    with pytest.raises(ValidationError, match="retry_backoff"):
        GatewaySettings(environment="test", retry_backoff=value)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 7200.0, -1.0])
def test_an_adapter_that_redefines_a_timeout_is_still_bounded(value: float) -> None:
    from pydantic import Field, ValidationError

    from payhub_core import GatewaySettings

    class Redefines(GatewaySettings):  # as an adapter with a longer default timeout does
        environment: str = "test"
        timeout: float = Field(default=60.0, gt=0)
        retry_backoff: float = 0.0

    with pytest.raises(ValidationError, match="timeout"):
        Redefines(timeout=value)
    with pytest.raises(ValidationError, match="retry_backoff"):
        Redefines(retry_backoff=value)


def test_zero_backoff_is_fine_and_deadline_may_be_set() -> None:
    with Hub.from_config(local_config(retry_backoff=0, deadline=12.5)) as hub:
        assert hub._gateways["local"].settings.deadline == 12.5  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "url",
    [
        f"https://user:{CANARY}@gw.example",
        f"https://{CANARY}@gw.example/api",
        f"http://:{CANARY}@127.0.0.1:8808",
    ],
)
def test_credentials_in_base_url_are_refused_without_echoing_them(url: str) -> None:
    error = _refused(base_url=url)
    assert "base_url" in error.message
    assert "credentials" in error.message
    assert CANARY not in str(error)
    assert CANARY not in repr(error)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (CANARY + "\n", "printable ASCII"),
        (CANARY + "\r\nX-Injected: 1", "printable ASCII"),
        (CANARY + "\x00", "printable ASCII"),
        (" " + CANARY, "whitespace"),
        (CANARY + " ", "whitespace"),
        ("k", "at least 6"),
        ("short", "at least 6"),
        (CANARY + "\u00e9", "printable ASCII"),
    ],
    ids=[
        "newline",
        "crlf-injection",
        "nul",
        "leading-space",
        "trailing-space",
        "1-char",
        "5-char",
        "non-ascii",
    ],
)
def test_a_secret_is_checked_when_the_hub_is_built(value: str, rule: str) -> None:
    error = _refused(api_key=value)
    assert "api_key" in error.message
    assert rule in error.message
    text = str(error) + repr(error) + "".join(traceback.format_exception(error))
    assert CANARY not in text
    assert value not in text or len(value) < 2


def test_secrets_inside_containers_are_checked_too() -> None:
    from pydantic import Field

    from payhub_core import GatewaySettings

    class Nested(GatewaySettings):
        environment: str = "test"
        keys: dict[str, SecretStr] = Field(default_factory=dict)

    with pytest.raises(ValueError, match="keys") as raised:
        Nested(keys={"LYD": SecretStr(CANARY + "\n")})
    assert CANARY not in str(raised.value)


def test_a_good_secret_is_accepted() -> None:
    with Hub.from_config(local_config(api_key=CANARY)) as hub:
        assert hub.gateways == ("local",)


class Unchecked(BaseModel):
    """Settings that do not extend GatewaySettings: nothing checks their secrets."""

    environment: str = "test"
    api_key: SecretStr
    base_url: str = "http://127.0.0.1:9"


class SendsItsKey:
    Settings = Unchecked

    def __init__(self, settings: Unchecked) -> None:
        self.settings = settings

    @hookimpl
    def payhub_capture(self, reference: str, amount: object) -> Flow[Any]:
        headers = {"X-API-KEY": self.settings.api_key.get_secret_value()}
        yield httpx.Request("POST", f"{self.settings.base_url}/capture", headers=headers)
        raise AssertionError("unreachable")


def test_a_request_refused_before_it_was_sent_is_not_outcome_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # no transport injected: h11 itself refuses the header, before connecting
    use_local_adapters(monkeypatch, local_unchecked=SendsItsKey)
    listener = socket.create_server(("127.0.0.1", 0))  # connects; h11 refuses to send
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    config = {
        "gateways": {
            "raw": {"adapter": "local.unchecked", "api_key": CANARY + "\n", "base_url": url}
        }
    }
    with listener, Hub.from_config(config) as hub, pytest.raises(PayhubError) as raised:
        hub.capture("o")
    error = raised.value
    assert not isinstance(error, GatewayUnavailable), error
    assert isinstance(error, ConfigurationError)
    assert "nothing was sent" in error.message
    text = "".join(traceback.format_exception(error))
    assert CANARY not in text, text
