"""The emulator over real HTTP (payhub_core's SandboxServer on 127.0.0.1), its entry point,
``GET /_sandbox`` and the demo cases."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from plutu_sandbox_kit import (
    HEADERS,
    SECRET,
    Receiver,
    action_of,
    api,
    query_pairs,
    sdk_verifies,
    token_of,
)
from starlette.applications import Starlette

from payhub_core import Invoice
from payhub_core.sandbox import DemoCase, Emulator, SandboxServer, load_emulators
from payhub_plutu import sandbox as plutu_sandbox
from payhub_plutu.sandbox import (
    ACCESS_TOKEN,
    ADFALI_OTP,
    API_KEY,
    SADAD_OTP,
    SCENARIOS,
    SECRET_KEY,
    TEST_MOBILE,
    SandboxConfig,
    demo_cases,
    emulator,
)
from payhub_plutu.sandbox._app import PlutuEmulator


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SandboxServer, list[PlutuEmulator]]]:
    made: list[PlutuEmulator] = []

    def create_app(base_url: str) -> Starlette:
        instance = PlutuEmulator(base_url, SandboxConfig(slow_seconds=30))
        made.append(instance)
        return instance.app

    test_emulator = Emulator(name="plutu", create_app=create_app)
    with SandboxServer([test_emulator]) as server:
        yield server, made


@pytest.fixture
def http(served: tuple[SandboxServer, list[PlutuEmulator]]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{served[0].url}/plutu", timeout=10) as client:
        yield client


def test_entry_point_is_this_emulator() -> None:
    loaded = {found.name: found for found in load_emulators()}
    assert loaded["plutu"] is emulator
    assert emulator.name == "plutu"
    assert emulator.create_app is plutu_sandbox.create_app


def test_the_real_emulator_serves() -> None:
    with SandboxServer([emulator]) as server, httpx.Client(timeout=10) as client:
        index = client.get(f"{server.url}/").json()
        assert index["emulators"]["plutu"]["info"] == f"{server.url}/plutu/_sandbox"
        info = client.get(f"{server.url}/plutu/_sandbox").json()
        assert info["base_url"] == f"{server.url}/plutu"


def test_sandbox_info(
    http: httpx.Client, served: tuple[SandboxServer, list[PlutuEmulator]]
) -> None:
    response = http.get("/_sandbox")
    assert response.status_code == 200
    info = response.json()
    base = f"{served[0].url}/plutu"
    assert info["base_url"] == base
    assert (info["api_key"], info["access_token"], info["secret_key"]) == (
        API_KEY,
        ACCESS_TOKEN,
        SECRET_KEY,
    )
    assert re.fullmatch(r"sk_[0-9a-f]{40}", info["secret_key"])
    assert info["otp_codes"] == {"sadad": SADAD_OTP, "adfali": ADFALI_OTP}
    assert info["otp_codes"] == {"sadad": "111111", "adfali": "1111"}
    assert TEST_MOBILE in info["test_mobiles"]
    assert info["settings"] == {
        "environment": "sandbox",
        "base_url": base,
        "api_key": API_KEY,
        "access_token": ACCESS_TOKEN,
        "secret_key": SECRET_KEY,
    }
    assert [s["name"] for s in info["scenarios"]] == [s.name for s in SCENARIOS]
    for scenario in info["scenarios"]:
        assert scenario["effect"]
        assert scenario["adapters"]
        assert scenario["invoice_prefix"] or scenario["mobile"]
    paths = {path for service in info["services"] for path in service["paths"]}
    assert "/api/v1/transaction/localbankcards/confirm" in paths
    assert len(paths) == 7


def test_lbc_over_http(http: httpx.Client) -> None:
    response = http.post(
        api("localbankcards", "confirm"),
        data={"amount": "40", "invoice_no": "HTTP-LBC-1", "return_url": "http://127.0.0.1:1/r"},
        headers=HEADERS,
    )
    assert response.status_code == 200
    url = response.json()["result"]["redirect_url"]
    assert http.get(url).status_code == 200
    decided = http.post(action_of(url), data={"decision": "approve", "token": token_of(url)})
    assert decided.status_code == 303
    location = decided.headers["location"]
    assert location.startswith("http://127.0.0.1:1/r?gateway=localbankcards&approved=1&")
    assert sdk_verifies(SECRET, query_pairs(location), "localbankcards")


def test_sadad_over_http(http: httpx.Client) -> None:
    verify = http.post(
        api("sadadapi", "verify"),
        data={"mobile_number": TEST_MOBILE, "birth_year": "1990", "amount": "25.50"},
        headers=HEADERS,
    )
    process_id = verify.json()["result"]["process_id"]
    confirm = http.post(
        api("sadadapi", "confirm"),
        files={
            "process_id": (None, str(process_id)),
            "code": (None, SADAD_OTP),
            "amount": (None, "25.50"),
            "invoice_no": (None, "HTTP-SADAD-1"),
        },
        headers=HEADERS,
    )
    assert confirm.status_code == 200, confirm.text
    assert confirm.json()["result"]["amount"] == 25.5


def test_tlync_callback_over_http(http: httpx.Client) -> None:
    receiver = Receiver().start()
    try:
        for invoice_no, expected in (("HTTP-TLYNC-1", 1), ("TWICE-HTTP-1", 3)):
            response = http.post(
                api("tlync", "confirm"),
                data={
                    "mobile_number": TEST_MOBILE,
                    "amount": "6.01",
                    "invoice_no": invoice_no,
                    "return_url": "http://127.0.0.1:1/r",
                    "callback_url": receiver.url,
                },
                headers=HEADERS,
            )
            url = response.json()["result"]["redirect_url"]
            decided = http.post(
                action_of(url), data={"decision": "approve", "token": token_of(url)}
            )
            assert sdk_verifies(SECRET, query_pairs(decided.headers["location"]), "tlync_return")
            callbacks = receiver.wait_for(expected)
            for callback in callbacks[expected - 1 :]:
                body = callback.json()
                assert dict(body)["invoice_no"] == invoice_no
                assert sdk_verifies(SECRET, body, "tlync_callback")
        first, second = receiver.received[1:]
        assert first.body == second.body
    finally:
        receiver.stop()


def test_slow_answer_outlives_the_client_timeout(http: httpx.Client) -> None:
    fields = {"amount": "5", "invoice_no": "SLOW5-HTTP-1", "return_url": "http://127.0.0.1:1/r"}
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        http.post(api("mpgs", "confirm"), data=fields, headers=HEADERS, timeout=0.5)
    # The request is processed all the same (outcome unknown for the client): its invoice
    # number shows up as used. The emulator stops waiting once the client has hung up.
    deadline = time.monotonic() + 10
    while not any(
        entry["invoice_no"] == "SLOW5-HTTP-1"
        for entry in http.get("/_sandbox/transactions").json()["transactions"]
    ):
        assert time.monotonic() < deadline, "the slow request was never processed"
        time.sleep(0.05)
    assert time.monotonic() - started < 4.5


# ------------------------------------------------------------------------ demo cases


def test_demo_cases() -> None:
    base = "http://127.0.0.1:8808/plutu"
    cases = {case.adapter: case for case in demo_cases(base)}
    assert list(cases) == [
        "plutu.sadad",
        "plutu.adfali",
        "plutu.localbankcards",
        "plutu.mpgs",
        "plutu.tlync",
    ]
    assert [case.adapter for case in emulator.demo_cases(base)] == list(cases)
    for case in cases.values():
        assert isinstance(case, DemoCase)
        assert case.settings["environment"] == "sandbox"
        assert case.settings["base_url"] == base
        assert case.settings["api_key"] == API_KEY
        assert case.settings["access_token"] == ACCESS_TOKEN
        assert case.settings["secret_key"] == SECRET_KEY
        invoice = case.invoice("DEMO-1_a.b", "http://127.0.0.1:1/r", "http://127.0.0.1:1/c")
        assert isinstance(invoice, Invoice)
        assert invoice.number == "DEMO-1_a.b"
        assert invoice.amount.amount == invoice.amount.amount.quantize(Decimal("0.01"))
        assert case.expected_status == "paid"
    assert cases["plutu.sadad"].otp_code == "111111"
    assert cases["plutu.adfali"].otp_code == "1111"
    sadad = cases["plutu.sadad"].invoice("N", "http://a/r", "http://a/c")
    assert sadad.customer is not None
    assert (sadad.customer.mobile, sadad.customer.birth_year) == ("0913632323", 1990)
    assert sadad.amount.currency == "LYD"
    mpgs = cases["plutu.mpgs"]
    assert mpgs.settings["currency"] == "USD"
    assert mpgs.invoice("N", "http://a/r", "http://a/c").amount.currency == "USD"
    assert (cases["plutu.localbankcards"].evidence, mpgs.evidence) == ("return", "return")
    tlync = cases["plutu.tlync"]
    assert tlync.evidence == "callback"
    tlync_invoice = tlync.invoice("N", "http://a/r", "http://a/c")
    assert tlync_invoice.customer is not None
    assert tlync_invoice.customer.mobile == TEST_MOBILE
    assert tlync_invoice.callback_url == "http://a/c"


def test_the_docs_match_the_emulator() -> None:
    docs = (Path(__file__).parents[3] / "docs" / "sandbox-plutu.md").read_text(encoding="utf-8")
    for value in (API_KEY, ACCESS_TOKEN, SECRET_KEY, SADAD_OTP, ADFALI_OTP, TEST_MOBILE):
        assert f"`{value}`" in docs
    for scenario in SCENARIOS:
        row = next(line for line in docs.splitlines() if line.startswith(f"| `{scenario.name}` |"))
        if scenario.invoice_prefix:
            assert f"`{scenario.invoice_prefix}`" in row
        if scenario.amount is not None:
            assert f"`{scenario.amount:.2f}`" in row
        if scenario.mobile:
            assert f"`{scenario.mobile}`" in row
