"""Canary test: the API key, access token, secret key and OTP codes never show in logs,
reprs or errors, on success and on every failure path."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from canaries import leaks
from plutu_support import (
    ACCESS_TOKEN,
    ADFALI_OTP,
    API_KEY,
    SADAD_OTP,
    FakePlutu,
    config,
    error_response,
    invoice,
    return_to,
)

from payhub_core import Callback, Hub, OtpCode, PayhubError

CANARY_API_KEY = "CANARY-apikey-5d1e0b"
CANARY_TOKEN = "CANARY-token-8e2f47"
CANARY_SECRET = "CANARY-secret-a93c11"
# The one-time codes are digits only, so they start with 0: see tests/canaries.py.
CANARY_SADAD_OTP = "075318"
CANARY_ADFALI_OTP = "0486"
CANARIES = (CANARY_API_KEY, CANARY_TOKEN, CANARY_SECRET, CANARY_SADAD_OTP, CANARY_ADFALI_OTP)


class CanaryPlutu(FakePlutu):
    """FakePlutu with the canary credentials and OTP codes."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        headers = dict(request.headers)
        if (
            headers.get("x-api-key") != CANARY_API_KEY
            or headers.get("authorization") != f"Bearer {CANARY_TOKEN}"
        ):
            return error_response(401, "UNAUTHORIZED")
        body = request.content.replace(
            b"code=" + CANARY_SADAD_OTP.encode(), b"code=" + SADAD_OTP.encode()
        ).replace(b"code=" + CANARY_ADFALI_OTP.encode(), b"code=" + ADFALI_OTP.encode())
        forwarded = httpx.Request(
            request.method,
            request.url,
            headers={**headers, "x-api-key": API_KEY, "authorization": f"Bearer {ACCESS_TOKEN}"},
            content=body,
        )
        return super().__call__(forwarded)


def _config(adapter: str) -> dict[str, Any]:
    return config(
        adapter, api_key=CANARY_API_KEY, access_token=CANARY_TOKEN, secret_key=CANARY_SECRET
    )


def _otp(adapter: str) -> str:
    return CANARY_SADAD_OTP if adapter == "plutu.sadad" else CANARY_ADFALI_OTP


class Seen:
    """Everything a developer or an attacker could read: log records, reprs, errors."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def add(self, *objects: Any) -> None:
        for item in objects:
            self.texts.append(repr(item))
            self.texts.append(str(item))
            if isinstance(item, BaseException):
                self.texts.append("".join(traceback.format_exception(item)))
                self.texts.append(repr(item.args))
                self.texts.append(repr(vars(item)))

    def attempt(self, call: Callable[[], Any]) -> Any:
        try:
            result = call()
        except PayhubError as error:
            self.add(error)
            return error
        self.add(result)
        return result

    def check(self, records: list[logging.LogRecord]) -> None:
        for record in records:
            self.texts.append(record.getMessage())
            self.texts.append(repr(record.__dict__))
        assert self.texts
        for canary in CANARIES:
            found = [text for text in self.texts if leaks(canary, text)]
            assert not found, (canary, found[:1])


@pytest.fixture
def seen(caplog: pytest.LogCaptureFixture) -> Iterator[Seen]:
    caplog.set_level(logging.DEBUG)
    watcher = Seen()
    yield watcher
    watcher.check(caplog.records)


@pytest.mark.parametrize("adapter", ["plutu.sadad", "plutu.adfali"])
def test_otp_wallets_success_and_failures(adapter: str, seen: Seen) -> None:
    plutu = CanaryPlutu()
    with Hub.from_config(_config(adapter), transport=httpx.MockTransport(plutu)) as hub:
        seen.add(hub, hub.capabilities())
        inv = invoice()
        checkout = seen.attempt(lambda: hub.initiate(inv))
        evidence = OtpCode(reference=checkout.reference, code=_otp(adapter), invoice=inv)
        seen.add(evidence)
        result = seen.attempt(lambda: hub.verify(evidence))
        assert result.is_paid
        # The same code again: Plutu refuses the used invoice number.
        error = seen.attempt(lambda: hub.verify(evidence))
        assert error.code == "DUPLICATED_INVOICE_NUMBER"
        # A code of the wrong length is refused before sending, without echoing it.
        bad = OtpCode(reference=checkout.reference, code=_otp(adapter) + "0", invoice=inv)
        seen.add(bad, seen.attempt(lambda: hub.verify(bad)))


@pytest.mark.parametrize(
    "answer",
    [
        lambda r: error_response(
            400, "INVLIAD_OTP", f"OTP {dict(parse_qsl(r.content.decode()))['code']} is wrong"
        ),
        lambda r: error_response(
            401, "UNAUTHORIZED", f"bad key {CANARY_API_KEY} token {CANARY_TOKEN}"
        ),
        lambda r: error_response(400, CANARY_SECRET, CANARY_SECRET),
        lambda r: httpx.Response(200, content=f"<html>{CANARY_API_KEY}</html>".encode()),
        lambda r: error_response(500, "BACKEND_ERROR", CANARY_TOKEN),
        lambda r: httpx.Response(
            200, json={"status": 200, "result": {"transaction_id": CANARY_SECRET, "amount": "x"}}
        ),
    ],
)
@pytest.mark.parametrize("adapter", ["plutu.sadad", "plutu.adfali"])
def test_otp_confirm_error_paths(adapter: str, answer: Any, seen: Seen) -> None:
    plutu = CanaryPlutu()

    def route(request: httpx.Request) -> httpx.Response:
        return plutu(request) if request.url.path.endswith("/verify") else answer(request)

    with Hub.from_config(_config(adapter), transport=httpx.MockTransport(route)) as hub:
        inv = invoice()
        checkout = hub.initiate(inv)
        error = seen.attempt(
            lambda: hub.verify(
                OtpCode(reference=checkout.reference, code=_otp(adapter), invoice=inv)
            )
        )
        assert isinstance(error, PayhubError)
        seen.texts.append(repr(getattr(error, "gateway_message", None)))
        seen.texts.append(repr(getattr(error, "code", None)))


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


@pytest.mark.parametrize("adapter", ["plutu.localbankcards", "plutu.mpgs", "plutu.tlync"])
def test_redirect_services_success_and_failures(adapter: str, seen: Seen) -> None:
    plutu = CanaryPlutu(secret_key=CANARY_SECRET)
    with Hub.from_config(_config(adapter), transport=httpx.MockTransport(plutu)) as hub:
        seen.add(hub, hub.capabilities())
        (currency,) = hub.capabilities().currencies
        inv = invoice(currency)
        seen.add(seen.attempt(lambda: hub.initiate(inv)))
        evidence = plutu.complete(inv.number)
        seen.add(evidence)
        assert seen.attempt(lambda: hub.verify(evidence, expected=inv)).is_paid
        # Tampered, unsigned and mismatched arrivals.
        tampered = Callback(
            query=evidence.query.replace("amount=5.00", "amount=6.00"),
            method=evidence.method,
            body=evidence.body.replace(b'"5.00"', b'"6.00"'),
        )
        seen.attempt(lambda: hub.verify(tampered))
        seen.attempt(lambda: hub.verify(Callback(query="approved=1&invoice_no=1")))
        seen.attempt(lambda: hub.verify(evidence, expected=invoice(currency, amount="9")))
        forged = return_to(
            "https://shop.example.ly/r",
            [("gateway", "x"), ("approved", "1")],
            CANARY_SECRET,
            "localbankcards",
        )
        seen.attempt(lambda: hub.verify(forged))
        # The same invoice number again (Plutu refuses), then validation errors.
        seen.attempt(lambda: hub.initiate(inv))
        seen.attempt(lambda: hub.initiate(invoice(currency, lang="fr")))
        seen.attempt(lambda: hub.capture("ref"))


@pytest.mark.parametrize("adapter", ["plutu.localbankcards", "plutu.tlync", "plutu.sadad"])
@pytest.mark.parametrize(
    "handler",
    [
        lambda r: error_response(403, "FORBIDDEN_IP_ADDRESS", f"{CANARY_API_KEY} {CANARY_TOKEN}"),
        lambda r: error_response(502, "BACKEND_SERVER_ERROR"),
        lambda r: error_response(429, "TOO_MAY_REQUESTS"),
        lambda r: httpx.Response(
            200, json={"status": 200, "result": {"redirect_url": CANARY_TOKEN}}
        ),
        _timeout,
    ],
)
def test_initiate_error_paths(adapter: str, handler: Any, seen: Seen) -> None:
    with Hub.from_config(_config(adapter), transport=httpx.MockTransport(handler)) as hub:
        (currency,) = hub.capabilities().currencies
        error = seen.attempt(lambda: hub.initiate(invoice(currency)))
        assert isinstance(error, PayhubError)
        seen.texts.append(repr(getattr(error, "gateway_message", None)))


def test_bad_settings_do_not_echo_secrets(seen: Seen) -> None:
    table = _config("plutu.localbankcards")
    table["gateways"]["plutu"]["environment"] = CANARY_SECRET
    seen.attempt(lambda: Hub.from_config(table))
    table = _config("plutu.mpgs")
    table["gateways"]["plutu"]["currency"] = CANARY_TOKEN
    seen.attempt(lambda: Hub.from_config(table))


def test_adapter_and_settings_reprs(seen: Seen) -> None:
    from payhub_plutu import MpgsAdapter, MpgsSettings

    settings = MpgsSettings(
        environment="production",
        api_key=CANARY_API_KEY,
        access_token=CANARY_TOKEN,
        secret_key=CANARY_SECRET,
    )
    adapter = MpgsAdapter(settings)
    seen.add(settings, adapter, settings.model_dump(), adapter.capabilities)
