"""Plutu's answers: refusals, broken bodies, 5xx, timeouts; and where requests go."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from plutu_support import (
    ADAPTERS,
    OTP_ADAPTERS,
    REDIRECT_ADAPTERS,
    SADAD_OTP,
    FakePlutu,
    config,
    error_response,
    invoice,
)

from payhub_core import (
    ConfigurationError,
    GatewayError,
    GatewayUnavailable,
    Hub,
    OtpCode,
    PayhubError,
)
from payhub_core.redaction import MASK
from payhub_plutu import ERROR_CODES

Handler = Callable[[httpx.Request], httpx.Response]


def _currency(adapter: str) -> str:
    return "USD" if adapter == "plutu.mpgs" else "LYD"


def _initiate(payhub_hub_factory: Any, adapter: str, handler: Handler, **settings: Any) -> Any:
    hub, transport = payhub_hub_factory(config(adapter, **settings), handler)
    with pytest.raises(PayhubError) as raised:
        hub.initiate(invoice(_currency(adapter)))
    return raised.value, transport


def _confirm(payhub_hub_factory: Any, adapter: str, handler: Handler, **settings: Any) -> Any:
    """Sadad/Adfali confirm (the call that charges), answered by ``handler``."""
    plutu = FakePlutu()
    calls: list[int] = []

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/verify"):
            return plutu(request)
        calls.append(1)
        return handler(request)

    hub, _ = payhub_hub_factory(config(adapter, **settings), route)
    inv = invoice()
    checkout = hub.initiate(inv)
    code = SADAD_OTP if adapter == "plutu.sadad" else "1111"
    with pytest.raises(PayhubError) as raised:
        hub.verify(OtpCode(reference=checkout.reference, code=code, invoice=inv))
    return raised.value, len(calls)


def _first_call(payhub_hub_factory: Any, adapter: str, handler: Handler, **settings: Any) -> Any:
    """The call that moves money or opens the checkout: confirm for every service."""
    if adapter in OTP_ADAPTERS:
        return _confirm(payhub_hub_factory, adapter, handler, **settings)
    error, transport = _initiate(payhub_hub_factory, adapter, handler, **settings)
    return error, len(transport.requests)


# -- Plutu's error body --------------------------------------------------------------------


@pytest.mark.parametrize("adapter", list(ADAPTERS))
@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_error_body_becomes_gateway_error(
    adapter: str, status: int, payhub_hub_factory: Any
) -> None:
    error, transport = _initiate(
        payhub_hub_factory,
        adapter,
        lambda request: error_response(status, "NOT_ALLOWED_AMOUNT", "Amount not allowed"),
    )
    assert type(error) is GatewayError
    assert error.http_status == status
    assert error.code == "NOT_ALLOWED_AMOUNT"
    assert error.gateway_message == "Amount not allowed"
    assert error.gateway == "plutu"
    assert error.operation == "initiate"
    assert "NOT_ALLOWED_AMOUNT" in str(error)
    assert ERROR_CODES["NOT_ALLOWED_AMOUNT"].meaning in str(error)
    assert len(transport.requests) == 1


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_every_known_code_is_explained(code: str, payhub_hub_factory: Any) -> None:
    error, _ = _initiate(
        payhub_hub_factory, "plutu.localbankcards", lambda r: error_response(400, code)
    )
    assert isinstance(error, GatewayError)
    assert error.code == code
    assert ERROR_CODES[code].action in str(error)


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_unknown_code_is_a_clean_gateway_error(adapter: str, payhub_hub_factory: Any) -> None:
    error, _ = _initiate(
        payhub_hub_factory, adapter, lambda r: error_response(400, "BRAND_NEW_CODE")
    )
    assert type(error) is GatewayError
    assert error.code == "BRAND_NEW_CODE"
    assert "does not know" in str(error)


@pytest.mark.parametrize(
    "error_body",
    [
        {},
        {"status": 400},
        {"code": 17, "message": ["x"]},
        {"code": "", "message": None},
        {"code": "weird code with spaces " * 10, "message": "m"},
    ],
)
def test_odd_error_bodies_are_clean_gateway_errors(
    error_body: dict[str, Any], payhub_hub_factory: Any
) -> None:
    error, _ = _initiate(
        payhub_hub_factory, "plutu.tlync", lambda r: httpx.Response(400, json={"error": error_body})
    )
    assert type(error) is GatewayError
    assert error.http_status == 400
    assert error.code is None or isinstance(error.code, str)
    assert len(str(error)) < 600


def test_error_body_with_http_200_is_a_refusal(payhub_hub_factory: Any) -> None:
    error, _ = _initiate(
        payhub_hub_factory, "plutu.sadad", lambda r: error_response(200, "INVALID_MOBILE_NUMBER")
    )
    assert type(error) is GatewayError
    assert (error.http_status, error.code) == (200, "INVALID_MOBILE_NUMBER")


@pytest.mark.parametrize("adapter", OTP_ADAPTERS)
def test_confirm_refusal_is_a_gateway_error(adapter: str, payhub_hub_factory: Any) -> None:
    error, calls = _confirm(
        payhub_hub_factory, adapter, lambda r: error_response(400, "INVLIAD_OTP", "Invalid OTP")
    )
    assert type(error) is GatewayError
    assert error.code == "INVLIAD_OTP"
    assert error.operation == "verify"
    assert calls == 1


def test_otp_echoed_by_plutu_is_blanked(payhub_hub_factory: Any) -> None:
    error, _ = _confirm(
        payhub_hub_factory,
        "plutu.sadad",
        lambda r: error_response(400, "INVLIAD_OTP", f"OTP {SADAD_OTP} is wrong"),
    )
    assert isinstance(error, GatewayError)
    assert SADAD_OTP not in (error.gateway_message or "")
    assert error.gateway_message == f"OTP {MASK} is wrong"


# -- success-looking answers that are not --------------------------------------------------

UNREADABLE_BODIES = [
    pytest.param(b"<html>502 Bad Gateway</html>", id="html"),
    pytest.param(b"", id="empty"),
    pytest.param(b"[]", id="list"),
    pytest.param(b'{"result": {}}', id="no-status"),
    pytest.param(b'{"status": "200", "result": {}}', id="string-status"),
    pytest.param(b'{"status": 200.0, "result": {}}', id="float-status"),
    pytest.param(b'{"status": true, "result": {}}', id="bool-status"),
    pytest.param(b'{"status": 200}', id="no-result"),
    pytest.param(b'{"status": 200, "result": []}', id="list-result"),
    pytest.param(b'{"status": 200, "result": {}}', id="empty-result"),
    pytest.param(b"\xff\xfe", id="binary"),
    pytest.param(b"[" * 100_000, id="deep"),
]


@pytest.mark.parametrize("adapter", list(ADAPTERS))
@pytest.mark.parametrize("body", UNREADABLE_BODIES)
def test_unreadable_answer_to_initiate_is_a_gateway_error(
    adapter: str, body: bytes, payhub_hub_factory: Any
) -> None:
    error, transport = _initiate(
        payhub_hub_factory, adapter, lambda r: httpx.Response(200, content=body)
    )
    assert type(error) is GatewayError
    assert error.http_status == 200
    assert error.code is None
    assert len(transport.requests) == 1


@pytest.mark.parametrize("adapter", OTP_ADAPTERS)
@pytest.mark.parametrize(
    "body",
    [
        *UNREADABLE_BODIES,
        pytest.param(b'{"status": 200, "result": {"amount": 5}}', id="no-transaction-id"),
        pytest.param(
            b'{"status": 200, "result": {"transaction_id": true}}', id="bool-transaction-id"
        ),
        pytest.param(
            b'{"status": 200, "result": {"transaction_id": 1, "amount": "five"}}', id="text-amount"
        ),
        pytest.param(
            b'{"status": 200, "result": {"transaction_id": 1, "amount": -5}}', id="negative-amount"
        ),
        pytest.param(
            b'{"status": 200, "result": {"transaction_id": 1, "amount": 5.0001}}', id="too-precise"
        ),
        pytest.param(
            b'{"status": 200, "result": {"transaction_id": 1, "amount": true}}', id="bool-amount"
        ),
    ],
)
def test_unreadable_answer_to_confirm_is_an_unknown_outcome(
    adapter: str, body: bytes, payhub_hub_factory: Any
) -> None:
    """A 2xx answer to the charging call that cannot be read may hide a payment."""
    error, calls = _confirm(
        payhub_hub_factory, adapter, lambda r: httpx.Response(200, content=body)
    )
    assert type(error) is GatewayUnavailable
    assert error.outcome_unknown is True
    assert error.http_status == 200
    assert "dashboard" in str(error)
    assert calls == 1


@pytest.mark.parametrize("adapter", list(ADAPTERS))
@pytest.mark.parametrize("body_status", [400, 500, 0, 201])
def test_body_status_other_than_200_with_http_200(
    adapter: str, body_status: int, payhub_hub_factory: Any
) -> None:
    error, calls = _first_call(
        payhub_hub_factory,
        adapter,
        lambda r: httpx.Response(
            200,
            json={
                "status": body_status,
                "result": {"transaction_id": 1, "redirect_url": "https://x.ly"},
            },
        ),
    )
    assert type(error) is GatewayError
    assert error.http_status == 200
    assert str(body_status) in str(error)
    assert calls == 1


@pytest.mark.parametrize("adapter", list(ADAPTERS))
@pytest.mark.parametrize("status", [201, 204])
def test_other_2xx_with_a_good_body_is_a_success(
    adapter: str, status: int, payhub_hub_factory: Any
) -> None:
    plutu = FakePlutu()

    def answer(request: httpx.Request) -> httpx.Response:
        good = plutu(request)
        return httpx.Response(status, content=good.content)

    hub, _ = payhub_hub_factory(config(adapter), answer)
    checkout = hub.initiate(invoice(_currency(adapter)))
    assert checkout.reference


@pytest.mark.parametrize("adapter", list(ADAPTERS))
@pytest.mark.parametrize("status", [301, 302, 400, 404])
def test_non_2xx_without_error_body(adapter: str, status: int, payhub_hub_factory: Any) -> None:
    error, calls = _first_call(
        payhub_hub_factory, adapter, lambda r: httpx.Response(status, content=b"<html>nope</html>")
    )
    assert type(error) is GatewayError
    assert error.http_status == status
    assert error.code is None
    assert calls == 1


@pytest.mark.parametrize(
    "result",
    [
        {},
        {"redirect_url": None},
        {"redirect_url": 5},
        {"redirect_url": "/relative"},
        {"redirect_url": "javascript:x"},
    ],
)
def test_checkout_without_a_usable_redirect_url(
    result: dict[str, Any], payhub_hub_factory: Any
) -> None:
    error, _ = _initiate(
        payhub_hub_factory,
        "plutu.localbankcards",
        lambda r: httpx.Response(200, json={"status": 200, "result": result}),
    )
    assert type(error) is GatewayError
    assert "redirect_url" in str(error)


@pytest.mark.parametrize("process_id", [None, "", "abc", True, -5, 0, 1.5, [1]])
def test_otp_answer_without_a_process_id(process_id: Any, payhub_hub_factory: Any) -> None:
    error, _ = _initiate(
        payhub_hub_factory,
        "plutu.adfali",
        lambda r: httpx.Response(200, json={"status": 200, "result": {"process_id": process_id}}),
    )
    assert type(error) is GatewayError
    assert "process_id" in str(error)


def test_string_process_id_is_accepted(payhub_hub_factory: Any) -> None:
    hub, _ = payhub_hub_factory(
        config("plutu.adfali"),
        lambda r: httpx.Response(200, json={"status": 200, "result": {"process_id": "0123456789"}}),
    )
    assert hub.initiate(invoice()).reference == "0123456789"


@pytest.mark.parametrize("amount", [None, "5.00", 5, "5"])
def test_confirm_amount_forms(amount: Any, payhub_hub_factory: Any) -> None:
    plutu = FakePlutu()

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/verify"):
            return plutu(request)
        result: dict[str, Any] = {"transaction_id": "T-1"}
        if amount is not None:
            result["amount"] = amount
        return httpx.Response(200, json={"status": 200, "result": result})

    hub, _ = payhub_hub_factory(config("plutu.sadad"), route)
    inv = invoice(amount="5")
    checkout = hub.initiate(inv)
    result = hub.verify(
        OtpCode(reference=checkout.reference, code=SADAD_OTP, invoice=inv), expected=inv
    )
    assert result.is_paid
    assert result.transaction_id == "T-1"
    assert result.amount == inv.amount


# -- 5xx, 429, timeouts: never a second confirm --------------------------------------------


@pytest.mark.parametrize("adapter", list(ADAPTERS))
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_on_confirm_is_unknown_and_not_retried(
    adapter: str, status: int, payhub_hub_factory: Any
) -> None:
    error, calls = _first_call(
        payhub_hub_factory,
        adapter,
        lambda r: error_response(status, "BACKEND_ERROR"),
        max_retries=3,
    )
    assert type(error) is GatewayUnavailable
    assert error.outcome_unknown is True
    assert error.http_status == status
    assert calls == 1


@pytest.mark.parametrize("adapter", list(ADAPTERS))
@pytest.mark.parametrize(
    "exception", [httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError]
)
def test_timeout_on_confirm_is_unknown_and_sent_once(
    adapter: str, exception: type[Exception], payhub_hub_factory: Any
) -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise exception("simulated", request=request)  # type: ignore[call-arg]

    error, calls = _first_call(payhub_hub_factory, adapter, boom, max_retries=3)
    assert type(error) is GatewayUnavailable
    assert error.outcome_unknown is True
    assert "unknown" in str(error)
    assert calls == 1


@pytest.mark.parametrize("adapter", OTP_ADAPTERS)
def test_timeout_on_otp_request_is_not_retried_either(
    adapter: str, payhub_hub_factory: Any
) -> None:
    """Repeating `verify` would send the customer a second SMS and register a second invoice."""

    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("simulated", request=request)

    error, transport = _initiate(payhub_hub_factory, adapter, boom, max_retries=3)
    assert type(error) is GatewayUnavailable
    assert error.outcome_unknown is True
    assert len(transport.requests) == 1


def test_connection_never_made_is_retried_and_then_safe(payhub_hub_factory: Any) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    error, transport = _initiate(payhub_hub_factory, "plutu.localbankcards", refuse, max_retries=2)
    assert type(error) is GatewayUnavailable
    assert error.outcome_unknown is False
    assert len(transport.requests) == 3


def test_rate_limited(payhub_hub_factory: Any) -> None:
    error, transport = _initiate(
        payhub_hub_factory, "plutu.mpgs", lambda r: error_response(429, "TOO_MAY_REQUESTS")
    )
    assert type(error) is GatewayUnavailable
    assert error.outcome_unknown is False
    assert error.http_status == 429
    assert len(transport.requests) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("adapter", list(ADAPTERS))
async def test_async_timeout_on_confirm_is_unknown_and_sent_once(
    adapter: str, payhub_async_hub_factory: Any
) -> None:
    plutu = FakePlutu()
    confirms: list[int] = []

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/verify"):
            return plutu(request)
        confirms.append(1)
        raise httpx.ReadTimeout("simulated", request=request)

    hub, _ = payhub_async_hub_factory(config(adapter, max_retries=3), route)
    async with hub:
        inv = invoice(_currency(adapter))
        if adapter in OTP_ADAPTERS:
            checkout = await hub.initiate(inv)
            code = SADAD_OTP if adapter == "plutu.sadad" else "1111"
            with pytest.raises(GatewayUnavailable) as raised:
                await hub.verify(OtpCode(reference=checkout.reference, code=code, invoice=inv))
        else:
            with pytest.raises(GatewayUnavailable) as raised:
                await hub.initiate(inv)
    assert raised.value.outcome_unknown is True
    assert confirms == [1]


@pytest.mark.anyio
async def test_async_gateway_error(payhub_async_hub_factory: Any) -> None:
    hub, _ = payhub_async_hub_factory(
        config("plutu.tlync"), lambda r: error_response(422, "INVALID_INPUTS")
    )
    async with hub:
        with pytest.raises(GatewayError) as raised:
            await hub.initiate(invoice())
    assert (raised.value.http_status, raised.value.code) == (422, "INVALID_INPUTS")


def test_duplicate_invoice_number_from_plutu(payhub_hub_factory: Any) -> None:
    plutu = FakePlutu()
    hub, _ = payhub_hub_factory(config("plutu.localbankcards"), plutu)
    inv = invoice()
    hub.initiate(inv)
    with pytest.raises(GatewayError) as raised:
        hub.initiate(inv)
    assert raised.value.code == "DUPLICATED_INVOICE_NUMBER"
    assert "new invoice number" in str(raised.value)


def test_wrong_credentials(payhub_hub_factory: Any) -> None:
    hub, _ = payhub_hub_factory(
        config("plutu.localbankcards", api_key="wrong-api-key"), FakePlutu()
    )
    with pytest.raises(GatewayError) as raised:
        hub.initiate(invoice())
    assert (raised.value.http_status, raised.value.code) == (401, "UNAUTHORIZED")


# -- where requests go; settings -----------------------------------------------------------


def _url_of(adapter: str, **settings: Any) -> str:
    seen: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return error_response(400, "X")

    transport = httpx.MockTransport(record)
    with Hub.from_config(config(adapter, **settings), transport=transport) as hub:
        inv = invoice(_currency(adapter))
        with pytest.raises(GatewayError):
            hub.initiate(inv)
    return seen[0]


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_production_url(adapter: str) -> None:
    action = "verify" if adapter in OTP_ADAPTERS else "confirm"
    assert (
        _url_of(adapter) == f"https://api.plutus.ly/api/v1/transaction/{ADAPTERS[adapter]}/{action}"
    )


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_sandbox_url(adapter: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAYHUB_SANDBOX_URL", raising=False)
    action = "verify" if adapter in OTP_ADAPTERS else "confirm"
    url = _url_of(adapter, environment="sandbox")
    assert url == f"http://127.0.0.1:8808/plutu/api/v1/transaction/{ADAPTERS[adapter]}/{action}"


def test_sandbox_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYHUB_SANDBOX_URL", "http://127.0.0.1:9999/")
    url = _url_of("plutu.localbankcards", environment="sandbox")
    assert url == "http://127.0.0.1:9999/plutu/api/v1/transaction/localbankcards/confirm"


@pytest.mark.parametrize(
    "base_url", ["https://proxy.example.ly/plutu", "https://proxy.example.ly/plutu/"]
)
def test_base_url_override(base_url: str) -> None:
    url = _url_of("plutu.mpgs", base_url=base_url)
    assert url == "https://proxy.example.ly/plutu/api/v1/transaction/mpgs/confirm"


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"environment": "test"}, "environment"),
        ({"environment": None}, "environment"),
        ({"api_key": ""}, "api_key"),
        ({"access_token": None}, "access_token"),
        ({"base_url": "https://api.plutus.ly/api/v1"}, "base_url"),
        ({"base_url": "https://api.plutus.ly/api/v1/"}, "base_url"),
        ({"base_url": "api.plutus.ly"}, "base_url"),
        ({"base_url": "https://api.plutus.ly?x=1"}, "base_url"),
        ({"timeout": 0}, "timeout"),
        ({"unknown_setting": 1}, "unknown_setting"),
    ],
)
@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_bad_settings_name_the_gateway_and_field(
    adapter: str, settings: dict[str, Any], field: str
) -> None:
    table = config(adapter, **settings)
    table["gateways"]["plutu"] = {
        k: v for k, v in table["gateways"]["plutu"].items() if v is not None
    }
    with pytest.raises(ConfigurationError) as raised:
        Hub.from_config(table)
    assert raised.value.gateway == "plutu"
    assert field in str(raised.value)


@pytest.mark.parametrize("adapter", REDIRECT_ADAPTERS)
def test_secret_key_is_required_for_signed_services(adapter: str) -> None:
    table = config(adapter)
    del table["gateways"]["plutu"]["secret_key"]
    with pytest.raises(ConfigurationError, match="secret_key"):
        Hub.from_config(table)


@pytest.mark.parametrize("adapter", OTP_ADAPTERS)
def test_wallets_need_no_secret_key(adapter: str) -> None:
    table = config(adapter)
    del table["gateways"]["plutu"]["secret_key"]
    with Hub.from_config(table) as hub:
        assert hub.capabilities().operations == {"initiate", "verify"}


@pytest.mark.parametrize("currency", ["usd", "EUR", " gbp "])
def test_mpgs_currency_setting(currency: str) -> None:
    with Hub.from_config(config("plutu.mpgs", currency=currency)) as hub:
        assert hub.capabilities().currencies == {currency.strip().upper()}


@pytest.mark.parametrize("currency", ["DOLLARS", "XXQ", "", 840])
def test_mpgs_bad_currency_setting(currency: Any) -> None:
    with pytest.raises(ConfigurationError, match="currency"):
        Hub.from_config(config("plutu.mpgs", currency=currency))


@pytest.mark.parametrize("adapter", ["plutu.sadad", "plutu.localbankcards", "plutu.tlync"])
def test_currency_is_an_mpgs_setting_only(adapter: str) -> None:
    with pytest.raises(ConfigurationError, match="currency"):
        Hub.from_config(config(adapter, currency="USD"))


def test_settings_from_the_environment() -> None:
    env = {
        "PAYHUB_CARDS__ADAPTER": "plutu.localbankcards",
        "PAYHUB_CARDS__ENVIRONMENT": "production",
        "PAYHUB_CARDS__API_KEY": "env-api-key",
        "PAYHUB_CARDS__ACCESS_TOKEN": "env-access-token",
        "PAYHUB_CARDS__SECRET_KEY": "env-secret-key",
        "PAYHUB_CARDS__TIMEOUT": "12.5",
    }
    with Hub.from_env(env) as hub:
        assert hub.gateways == ("cards",)
        assert hub.capabilities().flows == {"redirect"}


def test_default_timeout_is_longer_than_the_cores() -> None:
    from payhub_plutu import PlutuSettings

    settings = PlutuSettings(
        environment="production", api_key="api-key-1", access_token="access-token-1"
    )
    assert settings.timeout == 60.0
    assert settings.root() == "https://api.plutus.ly"


@pytest.mark.parametrize("adapter", OTP_ADAPTERS)
def test_confirm_of_an_already_processed_payment_is_not_called_a_failure(
    adapter: str, payhub_hub_factory: Any
) -> None:
    """Plutu answers a repeated confirm with CONFIRMATION_ERROR "This payment has already
    been processed.": the first confirm may well have paid, so the error must say so and
    never that the payment failed."""
    error, calls = _confirm(
        payhub_hub_factory,
        adapter,
        lambda r: error_response(
            400, "CONFIRMATION_ERROR", "This payment has already been processed."
        ),
    )
    assert type(error) is GatewayError
    assert (error.code, error.http_status, calls) == ("CONFIRMATION_ERROR", 400, 1)
    text = str(error)
    assert "already processed" in text
    assert "check" in text
    assert "failed" not in text
    assert "new invoice number" not in text
