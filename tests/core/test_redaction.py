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
from hypothesis import given
from hypothesis import strategies as st
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
    monkeypatch.setattr("payhub_core._assembly.check_adapter_class", lambda name, cls: cls)
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


# -- the redaction module --------------------------------------------------------------


def test_scrub_masks_the_longest_secret_first() -> None:
    from payhub_core.redaction import MASK, scrub

    # "abcdefgh" is inside the longer secret: masked first, it would leave "ijkl" visible
    assert scrub("x abcdefghijkl y", ["abcdefgh", "abcdefghijkl"]) == f"x {MASK} y"
    assert scrub("nothing here", ["abcdefgh"]) == "nothing here"
    assert scrub("empty secrets are ignored", ["", ""]) == "empty secrets are ignored"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("card 4012888888881881 declined", "card ************1881 declined"),
        ("card 4012 8888 8888 1881 declined", "card **** **** **** 1881 declined"),
        ("card 4012-8888-8888-1881 declined", "card ****-****-****-1881 declined"),
        ("amex 3782 822463 10005.", "amex **** ****** *0005."),
        ("pan=4111111111111111&x=1", "pan=************1111&x=1"),
    ],
)
def test_card_numbers_keep_only_their_last_four_digits(text: str, masked: str) -> None:
    from payhub_core.redaction import mask_card_numbers, scrub

    assert mask_card_numbers(text) == masked
    assert scrub(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "order 4012888888881882",  # fails the Luhn check
        "call +218 91 234 5678",  # a Libyan mobile number
        "at 1700000000000 ms",  # a millisecond timestamp (leading 1)
        "ref 2024-01-15 12:30:45",
        "id 12345",
    ],
)
def test_numbers_that_are_not_card_numbers_are_kept(text: str) -> None:
    from payhub_core.redaction import mask_card_numbers

    assert mask_card_numbers(text) == text


def test_scrub_data_scrubs_every_string_in_nested_data() -> None:
    from payhub_core.redaction import MASK, scrub_data

    raw = {
        "status": 200,
        "result": {"echo": f"key={KEY}", "cards": ["4012 8888 8888 1881", 4012888888881881]},
        KEY: True,
    }
    cleaned = scrub_data(raw, [KEY])
    assert cleaned == {
        "status": 200,
        "result": {"echo": f"key={MASK}", "cards": ["**** **** **** 1881", 4012888888881881]},
        MASK: True,
    }
    assert raw["result"]["echo"] == f"key={KEY}"  # a copy: the input is untouched


def test_sensitive_headers_are_masked_and_others_scrubbed() -> None:
    from payhub_core.redaction import MASK, SENSITIVE_HEADERS, redact_headers

    headers = [("Authorization", "Bearer x"), ("X-Merchant", f"id={KEY}"), ("Accept", "json")]
    assert redact_headers(headers, [KEY]) == {
        "Authorization": MASK,
        "X-Merchant": f"id={MASK}",
        "Accept": "json",
    }
    assert {"authorization", "x-api-key", "cookie"} <= SENSITIVE_HEADERS


def test_secret_values_come_from_the_secret_fields_of_any_model() -> None:
    from payhub_core import Card, Invoice, Money, OtpCode
    from payhub_core.redaction import secret_values

    settings = NestedSecretsSettings(
        api_key=SecretStr(KEY),
        merchant_keys={"LYD": SecretStr(SECRET)},
        signing_keys=(SecretStr("CANARY-SIGN-1"),),
        certificate=SecretBytes(b"CANARY-CERT"),
    )
    assert set(secret_values(settings)) == {KEY, SECRET, "CANARY-SIGN-1", "CANARY-CERT"}
    card = Card(number="4012888888881881", expiry_month=12, expiry_year=2030, cvv="123")
    bill = Invoice(
        number="INV-1",
        amount=Money("5", "USD"),
        return_url="https://shop.example/r",
        payment_method=card,
    )
    assert set(secret_values(bill, OtpCode(reference="r", code="975318", invoice=bill))) == {
        "4012888888881881",
        "123",
        "975318",
    }


def test_one_mask_everywhere() -> None:
    from payhub_core._models import Callback as CallbackModel
    from payhub_core.redaction import MASK

    shown = repr(CallbackModel(headers={"Authorization": f"Bearer {KEY}"}))
    assert MASK in shown
    assert KEY not in shown


# -- results are scrubbed too ----------------------------------------------------------

CARD_SPACED = "4012 8888 8888 1881"
CARD_DASHED = "4012-8888-8888-1881"


class Echoes:
    """A gateway that echoes the key, the OTP and card numbers in successful answers and
    in its refusals."""

    Settings = LocalSettings

    def __init__(self, settings: LocalSettings) -> None:
        self.key = settings.api_key.get_secret_value()

    @hookimpl
    def payhub_initiate(self, invoice: Any) -> Any:
        from payhub_core import Checkout, OtpChallenge

        return Checkout(
            reference="r-1",
            action=OtpChallenge(reference="r-1", message=f"code sent, key {self.key}"),
            raw={"echo": self.key, "card": CARD_SPACED, "nested": [{"card": CARD_DASHED}]},
        )

    @hookimpl
    def payhub_verify(self, evidence: Any) -> Any:
        from payhub_core import PaymentResult, PaymentStatus

        code = evidence.code.get_secret_value()
        return PaymentResult(
            status=PaymentStatus.FAILED,
            reference="r-1",
            raw={"message": f"wrong code {code}", "key": self.key},
        )

    @hookimpl
    def payhub_capture(self, reference: str, amount: Any) -> Any:
        raise GatewayError(
            f"card {CARD_SPACED} declined",
            gateway_message=f"card {CARD_DASHED} declined for {self.key}",
        )


@pytest.mark.usefixtures("logs")
def test_results_are_scrubbed_like_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    from payhub_core import OtpCode

    use_local_adapters(monkeypatch, local_flow=Echoes)
    config = {"gateways": {"local": {"adapter": "local.flow", "api_key": KEY}}}
    with Hub.from_config(
        config, transport=httpx.MockTransport(lambda r: httpx.Response(200))
    ) as hub:
        checkout = hub.initiate(invoice())
        result = hub.verify(OtpCode(reference="r-1", code="975318", invoice=invoice()))
        with pytest.raises(GatewayError) as refused:
            hub.capture("r-1")
    for text in (repr(checkout), repr(checkout.raw), repr(checkout.action), repr(result.raw)):
        assert not _leaks(text), text
        assert "8888" not in text
    assert "975318" not in repr(result.raw)
    assert checkout.raw["card"] == "**** **** **** 1881"
    assert checkout.raw["nested"][0]["card"] == "****-****-****-1881"
    _check_error(refused.value)
    assert "8888" not in str(refused.value)
    assert "8888" not in (refused.value.gateway_message or "")


def test_a_digits_only_secret_is_hidden_only_where_it_stands_alone() -> None:
    from payhub_core.redaction import MASK, scrub

    assert scrub("cvv 123, code=8642.", ["123", "8642"]) == f"cvv {MASK}, code={MASK}."
    assert scrub("amount 1234.500 ref 98642", ["123", "8642"]) == "amount 1234.500 ref 98642"
    assert scrub("otp8642x", ["8642"]) == f"otp{MASK}x"


def test_an_errors_own_context_is_not_scrubbed() -> None:
    error = GatewayError("code 8642 refused").with_context(
        gateway="plutu", operation="verify", request_id="ab8642cd"
    )
    error.scrub(["8642"])
    assert error.request_id == "ab8642cd"
    assert "8642" not in error.message


def _luhn_complete(body: str) -> str:
    total = 0
    for index, char in enumerate(reversed(body)):
        value = int(char)
        if index % 2 == 0:  # doubled once the check digit is appended
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return body + str((10 - total % 10) % 10)


@given(
    first=st.sampled_from("23456789"),
    rest=st.text("0123456789", min_size=11, max_size=17),
    separators=st.lists(st.sampled_from(["", "", " ", "-"]), min_size=19, max_size=19),
    before=st.text(st.characters(blacklist_characters="0123456789*"), max_size=5),
    after=st.text(st.characters(blacklist_characters="0123456789*"), max_size=5),
)
def test_every_card_number_keeps_only_its_last_four_digits(
    first: str, rest: str, separators: list[str], before: str, after: str
) -> None:
    from payhub_core.redaction import mask_card_numbers

    pan = _luhn_complete(first + rest)
    written = "".join(digit + separators[index] for index, digit in enumerate(pan[:-1]))
    written += pan[-1]
    masked = mask_card_numbers(f"{before} {written} {after}")
    shown = [char for char in masked if char in "0123456789*"]
    assert "".join(shown).endswith(pan[-4:])
    assert shown.count("*") >= len(pan) - 4
    assert pan[:-4] not in masked.replace(" ", "").replace("-", "")


@given(st.text(st.sampled_from("0123456789 -x"), max_size=60))
def test_the_shortcut_for_text_without_a_card_length_run_changes_nothing(text: str) -> None:
    # mask_card_numbers skips text with no run of 13 digits; the full scan must agree.
    from payhub_core.redaction import _DIGIT_RUN, _mask_run, mask_card_numbers

    assert mask_card_numbers(text) == _DIGIT_RUN.sub(_mask_run, text)


_json_text = st.text(st.sampled_from('ab0123456789 -"\\\n\u00e9x'), max_size=20)
_json_data = st.recursive(
    st.none() | st.integers() | _json_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_json_text, inner, max_size=4),
    max_leaves=12,
)


@given(_json_data, st.lists(_json_text, max_size=3))
def test_data_found_clean_in_one_pass_is_what_scrubbing_leaves_unchanged(
    data: Any, secrets: list[str]
) -> None:
    # The hub skips scrub_data for answers _nothing_to_scrub finds clean: never wrongly.
    from payhub_core.redaction import _nothing_to_scrub, scrub_data

    if _nothing_to_scrub(data, secrets):
        assert scrub_data(data, secrets) == data


def test_data_holding_a_secret_or_a_card_number_is_not_found_clean() -> None:
    from payhub_core.redaction import _nothing_to_scrub

    answer = {"order_id": "v1-241010055924-aa-AHbN0s", "payments": [{"amount": 5000}]}
    assert _nothing_to_scrub(answer, ["s3cret-key"])
    assert not _nothing_to_scrub({**answer, "echo": "x s3cret-key"}, ["s3cret-key"])
    assert not _nothing_to_scrub({**answer, "card": "4012 8888 8888 1881"}, [])
    # A secret JSON would escape: plain data is looked at in its marshal bytes, where every
    # string is itself, so the answer is found clean there (and not if it holds the
    # secret); with a Decimal the JSON text decides, and takes no shortcut.
    assert _nothing_to_scrub(answer, ['quote"d-secret'])
    assert not _nothing_to_scrub({**answer, "echo": 'a quote"d-secret'}, ['quote"d-secret'])
    from decimal import Decimal

    with_decimal = {**answer, "fee": Decimal("1.5")}
    assert not _nothing_to_scrub(with_decimal, ['quote"d-secret'])
