"""Every documented scenario, triggered by invoice prefix and by magic amount."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx
import pytest
from plutu_sandbox_kit import (
    HEADERS,
    SECRET,
    Receiver,
    action_of,
    api,
    error_of,
    query_pairs,
    sdk_verifies,
    token_of,
)

from payhub_plutu.sandbox import (
    ADFALI_OTP,
    SADAD_OTP,
    SCENARIOS,
    TEST_MOBILE,
    UNSUBSCRIBED_MOBILE,
)
from payhub_plutu.sandbox._app import WRONG_SECRET_KEY, PlutuEmulator
from payhub_plutu.sandbox._scenarios import Kind, match_scenario, slow_seconds

pytestmark = pytest.mark.anyio

OTP = {"sadadapi": SADAD_OTP, "edfali": ADFALI_OTP}


def scenario(kind: Kind) -> tuple[str, str]:
    """(invoice prefix, magic amount) of a scenario."""
    (found,) = [s for s in SCENARIOS if s.kind is kind]
    assert found.invoice_prefix is not None
    assert found.amount is not None
    return found.invoice_prefix, f"{found.amount:.2f}"


def triggers(kind: Kind) -> list[tuple[str, str]]:
    """(invoice_no, amount) pairs that trigger ``kind``: by prefix, then by amount."""
    prefix, amount = scenario(kind)
    return [(f"{prefix}1", "5.00"), ("PLAIN-1", amount)]


async def wallet_confirm(
    client: httpx.AsyncClient, service: str, invoice_no: str, amount: str
) -> httpx.Response:
    verify_fields = {"mobile_number": TEST_MOBILE, "amount": amount}
    if service == "sadadapi":
        verify_fields["birth_year"] = "1990"
    verified = await client.post(api(service, "verify"), data=verify_fields, headers=HEADERS)
    try:
        process_id = verified.json()["result"]["process_id"]
    except (ValueError, KeyError):
        return verified  # a magic amount puts verify in the scenario already
    fields = {
        "process_id": str(process_id),
        "code": OTP[service],
        "amount": amount,
        "invoice_no": invoice_no,
    }
    return await client.post(api(service, "confirm"), data=fields, headers=HEADERS)


async def redirect_confirm(
    client: httpx.AsyncClient,
    service: str,
    invoice_no: str,
    amount: str,
    callback_url: str = "http://127.0.0.1:9/cb",
) -> httpx.Response:
    fields = {"amount": amount, "invoice_no": invoice_no, "return_url": "https://shop.example/r"}
    if service == "tlync":
        fields |= {"mobile_number": TEST_MOBILE, "callback_url": callback_url}
    return await client.post(api(service, "confirm"), data=fields, headers=HEADERS)


async def approve(client: httpx.AsyncClient, redirect_url: str) -> str:
    response = await client.post(
        action_of(redirect_url), data={"decision": "approve", "token": token_of(redirect_url)}
    )
    assert response.status_code == 303
    return response.headers["location"]


def test_the_table_is_consistent() -> None:
    names = [s.name for s in SCENARIOS]
    assert len(names) == len(set(names)) == len(Kind)
    prefixes = [s.invoice_prefix for s in SCENARIOS if s.invoice_prefix]
    amounts = [s.amount for s in SCENARIOS if s.amount is not None]
    assert len(prefixes) == len(set(prefixes))
    assert len(amounts) == len(set(amounts))
    for s in SCENARIOS:
        assert s.effect
        if s.amount is not None:
            assert s.amount == s.amount.quantize(Decimal("0.01"))
        if s.invoice_prefix:
            assert s.invoice_prefix.isupper()


def test_matching_rules() -> None:
    assert match_scenario("tlync", invoice_no="twice-7") is not None  # any case
    assert match_scenario("localbankcards", invoice_no="TWICE-7") is None  # T-Lync only
    hit = match_scenario("tlync", invoice_no="DECLINE-1", amount=Decimal("222.22"))
    assert hit is not None
    assert hit.kind is Kind.DECLINE  # the prefix wins over the amount
    assert match_scenario("sadadapi", amount=Decimal("500.050")) is not None
    hit = match_scenario("sadadapi", mobile=UNSUBSCRIBED_MOBILE[1:])
    assert hit is not None
    assert hit.kind is Kind.UNKNOWN_SUBSCRIBER
    assert match_scenario("sadadapi", invoice_no="INV-1", amount=Decimal("25.50")) is None
    slow = match_scenario("mpgs", invoice_no="SLOW12-A")
    assert slow is not None
    assert slow.kind is Kind.SLOW
    assert slow_seconds("SLOW12-A", 35) == 12
    assert slow_seconds("SLOW-A", 35) == 35
    assert slow_seconds(None, 35) == 35


# ------------------------------------------------------------------ wallet outcomes


@pytest.mark.parametrize("service", ["sadadapi", "edfali"])
@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (Kind.DECLINE, "CONFIRMATION_ERROR"),
        (Kind.INSUFFICIENT_BALANCE, "INSUFFICIENT_BALANCE"),
        (Kind.OTP_EXPIRED, "OTP_EXPIRED"),
    ],
)
async def test_wallet_confirm_failures(
    client: httpx.AsyncClient, sandbox: PlutuEmulator, service: str, kind: Kind, code: str
) -> None:
    for invoice_no, amount in triggers(kind):
        response = await wallet_confirm(client, service, invoice_no, amount)
        assert response.status_code == 400
        assert error_of(response)["code"] == code
        used = invoice_no in sandbox.state.invoices
        assert used is (kind is not Kind.OTP_EXPIRED)


@pytest.mark.parametrize(
    ("service", "code"),
    [("sadadapi", "INVALID_MOBILE_NUMBER_OR_BIRTH_YEAR"), ("edfali", "NOT_SUBSCRIBED")],
)
async def test_unknown_subscriber(client: httpx.AsyncClient, service: str, code: str) -> None:
    fields = {"mobile_number": UNSUBSCRIBED_MOBILE, "amount": "5", "birth_year": "1990"}
    response = await client.post(api(service, "verify"), data=fields, headers=HEADERS)
    assert response.status_code == 400
    assert error_of(response)["code"] == code


# ------------------------------------------------------------ transport-level scenarios


ALL_CALLS = ["sadadapi", "edfali", "localbankcards", "mpgs", "tlync"]


@pytest.mark.parametrize("service", ALL_CALLS)
async def test_gateway_error(
    client: httpx.AsyncClient, sandbox: PlutuEmulator, service: str
) -> None:
    for invoice_no, amount in triggers(Kind.GATEWAY_ERROR):
        if service in ("sadadapi", "edfali"):
            response = await wallet_confirm(client, service, invoice_no, amount)
        else:
            response = await redirect_confirm(client, service, invoice_no, amount)
        assert response.status_code == 500
        assert error_of(response)["code"] == "BACKEND_ERROR"
        assert invoice_no not in sandbox.state.invoices  # nothing recorded
    if service in ("sadadapi", "edfali"):
        # The prefix hit confirm after a good verify; the magic amount hit verify.
        assert len(sandbox.state.processes) == 1


@pytest.mark.parametrize("service", ["edfali", "mpgs"])
async def test_rate_limited(client: httpx.AsyncClient, service: str) -> None:
    for invoice_no, amount in triggers(Kind.RATE_LIMITED):
        if service == "edfali":
            response = await wallet_confirm(client, service, invoice_no, amount)
        else:
            response = await redirect_confirm(client, service, invoice_no, amount)
        assert response.status_code == 429
        assert response.headers["retry-after"] == "1"
        assert error_of(response)["code"] == "TOO_MAY_REQUESTS"


@pytest.mark.parametrize("service", ["sadadapi", "localbankcards"])
async def test_malformed_body_but_processed(
    client: httpx.AsyncClient, sandbox: PlutuEmulator, service: str
) -> None:
    for invoice_no, amount in triggers(Kind.MALFORMED):
        if service == "sadadapi":
            response = await wallet_confirm(client, service, invoice_no, amount)
        else:
            response = await redirect_confirm(client, service, invoice_no, amount)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.text.startswith('{"status":200')
        with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
            response.json()
        if service == "localbankcards" or invoice_no.startswith("MALFORMED-"):
            assert invoice_no in sandbox.state.invoices  # the payment happened
        else:
            assert len(sandbox.state.processes) == 2  # verify (the amount's target) happened


async def test_slow_answer_is_processed(client: httpx.AsyncClient, sandbox: PlutuEmulator) -> None:
    # config fixture: slow_seconds=0.2
    for invoice_no, amount in [*triggers(Kind.SLOW), ("SLOW1-X", "5.00")]:
        started = time.monotonic()
        response = await redirect_confirm(client, "localbankcards", invoice_no, amount)
        elapsed = time.monotonic() - started
        assert response.status_code == 200
        assert elapsed >= (1.0 if invoice_no.startswith("SLOW1") else 0.2)
        assert invoice_no in sandbox.state.invoices


# ------------------------------------------------------------ checkout scenarios


@pytest.mark.parametrize("kind", [Kind.DECLINE, Kind.INSUFFICIENT_BALANCE])
@pytest.mark.parametrize("service", ["localbankcards", "mpgs"])
async def test_approve_is_declined(client: httpx.AsyncClient, service: str, kind: Kind) -> None:
    for invoice_no, amount in triggers(kind):
        response = await redirect_confirm(client, service, invoice_no, amount)
        url = response.json()["result"]["redirect_url"]
        page = await client.get(url)
        assert kind.value in page.text  # the page says which scenario runs
        location = await approve(client, url)
        params = dict(query_pairs(location))
        assert "approved" not in params
        assert "canceled" not in params
        assert params["invoice_no"] == invoice_no
        assert sdk_verifies(SECRET, query_pairs(location), service)


@pytest.mark.parametrize("kind", [Kind.DECLINE, Kind.INSUFFICIENT_BALANCE])
async def test_tlync_approve_is_declined(
    client: httpx.AsyncClient, sandbox: PlutuEmulator, receiver: Receiver, kind: Kind
) -> None:
    for number, (invoice_no, amount) in enumerate(triggers(kind)):
        response = await redirect_confirm(client, "tlync", invoice_no, amount, receiver.url)
        location = await approve(client, response.json()["result"]["redirect_url"])
        assert dict(query_pairs(location))["approved"] == "0"
        await sandbox.notifier.drain()
        callback = receiver.wait_for(number + 1)[-1]
        assert dict(callback.json())["approved"] == "0"
        assert sdk_verifies(SECRET, callback.json(), "tlync_callback")


async def test_callback_twice(
    client: httpx.AsyncClient, sandbox: PlutuEmulator, receiver: Receiver
) -> None:
    for number, (invoice_no, amount) in enumerate(triggers(Kind.CALLBACK_TWICE)):
        response = await redirect_confirm(client, "tlync", invoice_no, amount, receiver.url)
        await approve(client, response.json()["result"]["redirect_url"])
        await sandbox.notifier.drain()
        first, second = receiver.wait_for(2 * number + 2)[-2:]
        assert first.body == second.body
        assert dict(first.json())["invoice_no"] == invoice_no
        assert sdk_verifies(SECRET, first.json(), "tlync_callback")


async def test_callback_late(
    client: httpx.AsyncClient, sandbox: PlutuEmulator, receiver: Receiver
) -> None:
    # config fixture: late_callback_seconds=1.0
    invoice_no, amount = triggers(Kind.CALLBACK_LATE)[0]
    response = await redirect_confirm(client, "tlync", invoice_no, amount, receiver.url)
    started = time.monotonic()
    await approve(client, response.json()["result"]["redirect_url"])
    assert receiver.received == []  # the browser is back before the callback
    await sandbox.notifier.drain()
    assert time.monotonic() - started >= 1.0
    (callback,) = receiver.wait_for(1)
    assert sdk_verifies(SECRET, callback.json(), "tlync_callback")


async def test_no_callback(
    client: httpx.AsyncClient, sandbox: PlutuEmulator, receiver: Receiver
) -> None:
    for invoice_no, amount in triggers(Kind.NO_CALLBACK):
        response = await redirect_confirm(client, "tlync", invoice_no, amount, receiver.url)
        location = await approve(client, response.json()["result"]["redirect_url"])
        assert dict(query_pairs(location))["approved"] == "1"
        assert sdk_verifies(SECRET, query_pairs(location), "tlync_return")
    await sandbox.notifier.drain()
    assert receiver.received == []


@pytest.mark.parametrize("service", ["localbankcards", "mpgs", "tlync"])
async def test_bad_signature(
    client: httpx.AsyncClient, sandbox: PlutuEmulator, receiver: Receiver, service: str
) -> None:
    whitelist = "tlync_return" if service == "tlync" else service
    for invoice_no, amount in triggers(Kind.BAD_SIGNATURE):
        response = await redirect_confirm(client, service, invoice_no, amount, receiver.url)
        location = await approve(client, response.json()["result"]["redirect_url"])
        pairs = query_pairs(location)
        assert dict(pairs).get("approved") == "1"
        assert not sdk_verifies(SECRET, pairs, whitelist)
        assert sdk_verifies(WRONG_SECRET_KEY, pairs, whitelist)
    if service == "tlync":
        await sandbox.notifier.drain()
        for callback in receiver.wait_for(2):
            assert not sdk_verifies(SECRET, callback.json(), "tlync_callback")
