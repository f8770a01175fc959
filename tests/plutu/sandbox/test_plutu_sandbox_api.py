"""The emulator's API: paths, auth, body encodings, validation, error bodies, the OTP
wallets' state machine and invoice-number uniqueness."""

from __future__ import annotations

import asyncio
import datetime
import re
from typing import Any

import httpx
import pytest
from plutu_sandbox_kit import BASE, HEADERS, api, error_of, make_app

from payhub_plutu.sandbox import (
    ADFALI_OTP,
    SADAD_OTP,
    TEST_BIRTH_YEAR,
    TEST_MOBILE,
    SandboxConfig,
)
from payhub_plutu.sandbox._app import PlutuEmulator

pytestmark = pytest.mark.anyio

SADAD_VERIFY = {"mobile_number": TEST_MOBILE, "birth_year": str(TEST_BIRTH_YEAR), "amount": "25.50"}
ADFALI_VERIFY = {"mobile_number": TEST_MOBILE, "amount": "12.75"}
LBC = {"amount": "5.00", "invoice_no": "INV-1", "return_url": "https://shop.example/ret"}
TLYNC = {
    **LBC,
    "mobile_number": TEST_MOBILE,
    "callback_url": "https://shop.example/cb",
}


async def post(
    client: httpx.AsyncClient,
    service: str,
    action: str,
    data: dict[str, str],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(api(service, action), data=data, headers=headers or HEADERS)


async def verify(client: httpx.AsyncClient, service: str = "sadadapi", **over: str) -> str:
    fields = {**(SADAD_VERIFY if service == "sadadapi" else ADFALI_VERIFY), **over}
    response = await post(client, service, "verify", fields)
    assert response.status_code == 200, response.text
    return str(response.json()["result"]["process_id"])


async def confirm(
    client: httpx.AsyncClient, process_id: str, service: str = "sadadapi", **over: str
) -> httpx.Response:
    fields = {
        "process_id": process_id,
        "code": SADAD_OTP if service == "sadadapi" else ADFALI_OTP,
        "amount": "25.50" if service == "sadadapi" else "12.75",
        "invoice_no": "INV-1",
        **over,
    }
    return await post(client, service, "confirm", fields)


# ------------------------------------------------------------------------- routes, auth


@pytest.mark.parametrize(
    ("service", "action"),
    [
        ("sadadapi", "verify"),
        ("sadadapi", "confirm"),
        ("edfali", "verify"),
        ("edfali", "confirm"),
        ("localbankcards", "confirm"),
        ("mpgs", "confirm"),
        ("tlync", "confirm"),
    ],
)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-KEY": "plutu-sandbox-api-key"},
        {"Authorization": "Bearer plutu-sandbox-access-token"},
        {"X-API-KEY": "wrong", "Authorization": "Bearer plutu-sandbox-access-token"},
        {"X-API-KEY": "plutu-sandbox-api-key", "Authorization": "Bearer wrong"},
        {"X-API-KEY": "plutu-sandbox-api-key", "Authorization": "Basic plutu-sandbox-access-token"},
        {"X-API-KEY": "plutu-sandbox-api-key", "Authorization": "plutu-sandbox-access-token"},
    ],
)
async def test_every_endpoint_needs_both_credentials(
    client: httpx.AsyncClient, service: str, action: str, headers: dict[str, str]
) -> None:
    response = await client.post(api(service, action), data={}, headers=headers)
    assert response.status_code == 401
    assert error_of(response)["code"] == "UNAUTHORIZED"


async def test_bearer_scheme_is_case_insensitive(client: httpx.AsyncClient) -> None:
    headers = {**HEADERS, "Authorization": "bearer plutu-sandbox-access-token"}
    response = await post(client, "sadadapi", "verify", SADAD_VERIFY, headers)
    assert response.status_code == 200


async def test_credentials_come_from_the_config() -> None:
    _, app = make_app(SandboxConfig(api_key="k1", access_token="t1"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        default = await c.post(api("edfali", "verify"), data=ADFALI_VERIFY, headers=HEADERS)
        own = await c.post(
            api("edfali", "verify"),
            data=ADFALI_VERIFY,
            headers={"X-API-KEY": "k1", "Authorization": "Bearer t1"},
        )
    assert default.status_code == 401
    assert own.status_code == 200


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/transaction/paypal/confirm", 404, "INVALID_GATEWAY"),
        ("/api/v1/transaction/localbankcards/verify", 404, "NOT_FOUND"),
        ("/api/v1/transaction/tlync/verify", 404, "NOT_FOUND"),
        ("/api/v1/transaction/sadadapi/refund", 404, "NOT_FOUND"),
        ("/api/v2/transaction/sadadapi/verify", 404, "NOT_FOUND"),
    ],
)
async def test_unknown_paths(client: httpx.AsyncClient, path: str, status: int, code: str) -> None:
    response = await client.post(path, data={}, headers=HEADERS)
    assert response.status_code == status
    assert error_of(response)["code"] == code


async def test_api_answers_post_only(client: httpx.AsyncClient) -> None:
    response = await client.get(api("localbankcards", "confirm"), headers=HEADERS)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert error_of(response)["code"] == "METHOD_NOT_ALLOWED"


# -------------------------------------------------------------------------- body formats


async def test_sadad_verify_success_envelope(client: httpx.AsyncClient) -> None:
    response = await post(client, "sadadapi", "verify", SADAD_VERIFY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["status"] == 200
    assert body["message"] == "OTP has been sent to your mobile number"
    result = body["result"]
    assert isinstance(result["process_id"], int)
    assert re.fullmatch(r"[1-9][0-9]{12}", str(result["process_id"]))
    assert result["amount"] == 25.5
    assert result["commission"] == 0


@pytest.mark.parametrize("encoding", ["form", "multipart", "json"])
async def test_fields_in_every_encoding(client: httpx.AsyncClient, encoding: str) -> None:
    encodings: dict[str, dict[str, Any]] = {
        "form": {"data": ADFALI_VERIFY},
        "multipart": {"files": {key: (None, value) for key, value in ADFALI_VERIFY.items()}},
        "json": {"json": {"mobile_number": TEST_MOBILE, "amount": 12.75}},
    }
    kwargs = encodings[encoding]
    response = await client.post(api("edfali", "verify"), headers=HEADERS, **kwargs)
    assert response.status_code == 200, response.text
    process_id = str(response.json()["result"]["process_id"])
    done = await confirm(client, process_id, "edfali")
    assert done.status_code == 200, done.text


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"amount=%FF", "application/x-www-form-urlencoded"),
        (b"garbage", "multipart/form-data; boundary=xyz"),
    ],
)
async def test_unreadable_bodies(
    client: httpx.AsyncClient, content: bytes, content_type: str
) -> None:
    response = await client.post(
        api("edfali", "verify"), content=content, headers={**HEADERS, "Content-Type": content_type}
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "INVALID_INPUTS"


async def test_json_values_must_be_scalars(client: httpx.AsyncClient) -> None:
    response = await client.post(
        api("edfali", "verify"),
        json={"mobile_number": TEST_MOBILE, "amount": [1]},
        headers=HEADERS,
    )
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"amount": "must be a string or a number"}


async def test_other_content_types_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        api("edfali", "verify"),
        content=b"amount=5",
        headers={**HEADERS, "Content-Type": "text/plain"},
    )
    assert response.status_code == 415
    assert error_of(response)["code"] == "INVALID_INPUTS"


async def test_values_are_trimmed_and_last_repeat_wins(client: httpx.AsyncClient) -> None:
    response = await client.post(
        api("edfali", "verify"),
        content=f"mobile_number=+{TEST_MOBILE}+&amount=1&amount=12.75".encode(),
        headers={**HEADERS, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["result"]["amount"] == 12.75


# -------------------------------------------------------------------------- validation


def bad(field: str, value: str | None, base: dict[str, str]) -> dict[str, str]:
    fields = dict(base)
    if value is None:
        del fields[field]
    else:
        fields[field] = value
    return fields


LATEST_YEAR = datetime.date.today().year - 12

VALIDATION_CASES = [
    # (service, action, base fields, field, bad value, code)
    ("sadadapi", "verify", SADAD_VERIFY, "mobile_number", None, "MISSING_PARAMETER"),
    ("sadadapi", "verify", SADAD_VERIFY, "mobile_number", "", "EMPTY_MOBILE_NUMBER"),
    ("sadadapi", "verify", SADAD_VERIFY, "mobile_number", "0923632323", "INVALID_MOBILE_NUMBER"),
    ("sadadapi", "verify", SADAD_VERIFY, "mobile_number", "091363232", "INVALID_MOBILE_NUMBER"),
    ("sadadapi", "verify", SADAD_VERIFY, "mobile_number", "+218913632323", "INVALID_MOBILE_NUMBER"),
    ("sadadapi", "verify", SADAD_VERIFY, "birth_year", None, "MISSING_PARAMETER"),
    ("sadadapi", "verify", SADAD_VERIFY, "birth_year", "", "EMPTY_BIRTH_YEAR"),
    (
        "sadadapi",
        "verify",
        SADAD_VERIFY,
        "birth_year",
        "1939",
        "INVALID_MOBILE_NUMBER_OR_BIRTH_YEAR",
    ),
    (
        "sadadapi",
        "verify",
        SADAD_VERIFY,
        "birth_year",
        str(LATEST_YEAR + 1),
        "INVALID_MOBILE_NUMBER_OR_BIRTH_YEAR",
    ),
    ("sadadapi", "verify", SADAD_VERIFY, "birth_year", "90", "INVALID_MOBILE_NUMBER_OR_BIRTH_YEAR"),
    ("sadadapi", "verify", SADAD_VERIFY, "amount", None, "MISSING_PARAMETER"),
    ("sadadapi", "verify", SADAD_VERIFY, "amount", "0", "INVALID_AMOUNT"),
    ("sadadapi", "verify", SADAD_VERIFY, "amount", "0.00", "INVALID_AMOUNT"),
    ("sadadapi", "verify", SADAD_VERIFY, "amount", "-5", "INVALID_AMOUNT"),
    ("sadadapi", "verify", SADAD_VERIFY, "amount", "25.500", "INVALID_AMOUNT"),
    ("sadadapi", "verify", SADAD_VERIFY, "amount", "1e3", "INVALID_AMOUNT"),
    ("sadadapi", "verify", SADAD_VERIFY, "amount", "5.", "INVALID_AMOUNT"),
    ("sadadapi", "verify", SADAD_VERIFY, "amount", "abc", "INVALID_AMOUNT"),
    ("edfali", "verify", ADFALI_VERIFY, "mobile_number", "0973632323", "INVALID_MOBILE_NUMBER"),
    ("edfali", "verify", ADFALI_VERIFY, "mobile_number", "", "EMPTY_MOBILE_NUMBER"),
    ("edfali", "verify", ADFALI_VERIFY, "amount", "1,5", "INVALID_AMOUNT"),
    ("localbankcards", "confirm", LBC, "amount", None, "MISSING_PARAMETER"),
    ("localbankcards", "confirm", LBC, "amount", "5.001", "INVALID_AMOUNT"),
    ("localbankcards", "confirm", LBC, "invoice_no", None, "MISSING_PARAMETER"),
    ("localbankcards", "confirm", LBC, "invoice_no", "INV 1", "INVALID_INPUTS"),
    ("localbankcards", "confirm", LBC, "invoice_no", "INV/1", "INVALID_INPUTS"),
    ("localbankcards", "confirm", LBC, "invoice_no", "x" * 256, "INVALID_INPUTS"),
    ("localbankcards", "confirm", LBC, "return_url", None, "MISSING_PARAMETER"),
    ("localbankcards", "confirm", LBC, "return_url", "/relative", "INVALID_INPUTS"),
    ("localbankcards", "confirm", LBC, "return_url", "ftp://shop.example/", "INVALID_INPUTS"),
    ("localbankcards", "confirm", LBC, "return_url", "https://", "INVALID_INPUTS"),
    ("localbankcards", "confirm", LBC, "lang", "fr", "INVALID_INPUTS"),
    ("localbankcards", "confirm", LBC, "customer_ip", "300.1.1.1", "INVALID_INPUTS"),
    ("mpgs", "confirm", LBC, "amount", "0", "INVALID_AMOUNT"),
    ("mpgs", "confirm", LBC, "return_url", "shop.example", "INVALID_INPUTS"),
    ("tlync", "confirm", TLYNC, "mobile_number", None, "MISSING_PARAMETER"),
    ("tlync", "confirm", TLYNC, "mobile_number", "0991234567", "INVALID_MOBILE_NUMBER"),
    ("tlync", "confirm", TLYNC, "callback_url", None, "MISSING_PARAMETER"),
    ("tlync", "confirm", TLYNC, "callback_url", "not a url", "INVALID_INPUTS"),
    ("tlync", "confirm", TLYNC, "email", "nobody", "INVALID_INPUTS"),
]


@pytest.mark.parametrize(
    ("service", "action", "base", "field", "value", "code"),
    VALIDATION_CASES,
    ids=[f"{c[0]}-{c[3]}-{c[4]!r}"[:60] for c in VALIDATION_CASES],
)
async def test_field_validation(
    client: httpx.AsyncClient,
    service: str,
    action: str,
    base: dict[str, str],
    field: str,
    value: str | None,
    code: str,
) -> None:
    response = await post(client, service, action, bad(field, value, base))
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == code
    assert list(error["fields"]) == [field]


WALLET_CONFIRM = {
    "process_id": "1234567890123",
    "code": SADAD_OTP,
    "amount": "1",
    "invoice_no": "A",
}


@pytest.mark.parametrize(
    ("service", "field", "value", "code"),
    [
        ("sadadapi", "process_id", None, "MISSING_PARAMETER"),
        ("sadadapi", "process_id", "12ab", "INVALID_INPUTS"),
        ("sadadapi", "code", None, "MISSING_PARAMETER"),
        ("sadadapi", "code", "1111", "INVALID_INPUTS"),
        ("sadadapi", "code", "11111a", "INVALID_INPUTS"),
        ("edfali", "code", "111111", "INVALID_INPUTS"),
        ("sadadapi", "invoice_no", "#1", "INVALID_INPUTS"),
        ("sadadapi", "amount", "1.234", "INVALID_AMOUNT"),
        ("edfali", "customer_ip", "localhost", "INVALID_INPUTS"),
    ],
)
async def test_wallet_confirm_validation(
    client: httpx.AsyncClient, service: str, field: str, value: str | None, code: str
) -> None:
    base = {**WALLET_CONFIRM, "code": SADAD_OTP if service == "sadadapi" else ADFALI_OTP}
    response = await post(client, service, "confirm", bad(field, value, base))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == code
    assert list(error["fields"]) == [field]


async def test_every_problem_is_listed_and_the_first_names_the_code(
    client: httpx.AsyncClient,
) -> None:
    response = await post(client, "tlync", "confirm", {"amount": "x", "return_url": "nope"})
    error = error_of(response)
    assert error["code"] == "MISSING_PARAMETER"  # mobile_number comes first
    assert list(error["fields"]) == [
        "mobile_number",
        "amount",
        "invoice_no",
        "return_url",
        "callback_url",
    ]


@pytest.mark.parametrize("mobile", ["0913632323", "913632323", "0933632323"])
async def test_sadad_mobile_forms(client: httpx.AsyncClient, mobile: str) -> None:
    response = await post(client, "sadadapi", "verify", {**SADAD_VERIFY, "mobile_number": mobile})
    assert response.status_code == 200


@pytest.mark.parametrize("year", ["1940", str(LATEST_YEAR)])
async def test_birth_year_bounds(client: httpx.AsyncClient, year: str) -> None:
    response = await post(client, "sadadapi", "verify", {**SADAD_VERIFY, "birth_year": year})
    assert response.status_code == 200


@pytest.mark.parametrize("amount", ["5", "5.5", "5.50", "0.01", "100000"])
async def test_accepted_amount_forms(client: httpx.AsyncClient, amount: str) -> None:
    response = await post(client, "localbankcards", "confirm", {**LBC, "amount": amount})
    assert response.status_code == 200, response.text


async def test_localhost_urls_and_optional_fields_are_accepted(client: httpx.AsyncClient) -> None:
    fields = {
        **TLYNC,
        "return_url": "http://127.0.0.1:9000/ret?order=7",
        "callback_url": "http://localhost:9000/cb",
        "email": "buyer@example.ly",
        "customer_ip": "10.0.0.8",
        "lang": "en",
    }
    response = await post(client, "tlync", "confirm", fields)
    assert response.status_code == 200, response.text


# ------------------------------------------------------------------------- OTP wallets


@pytest.mark.parametrize("service", ["sadadapi", "edfali"])
async def test_wallet_payment(client: httpx.AsyncClient, service: str) -> None:
    process_id = await verify(client, service)
    response = await confirm(client, process_id, service, customer_ip="192.0.2.1")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == 200
    assert body["message"] == "Transaction completed successfully"
    assert isinstance(body["result"]["transaction_id"], int)
    assert body["result"]["amount"] == (25.5 if service == "sadadapi" else 12.75)


@pytest.mark.parametrize(("service", "wrong"), [("sadadapi", "123456"), ("edfali", "1234")])
async def test_wrong_otp_then_right_one(
    client: httpx.AsyncClient, service: str, wrong: str
) -> None:
    process_id = await verify(client, service)
    response = await confirm(client, process_id, service, code=wrong)
    assert response.status_code == 400
    assert error_of(response)["code"] == "INVLIAD_OTP"
    # A wrong code does not use up the invoice number: the customer may try again.
    assert (await confirm(client, process_id, service)).status_code == 200


async def test_too_many_wrong_codes_close_the_process(client: httpx.AsyncClient) -> None:
    process_id = await verify(client)
    for _ in range(3):
        response = await confirm(client, process_id, code="000000")
        assert error_of(response)["code"] == "INVLIAD_OTP"
    response = await confirm(client, process_id)
    assert response.status_code == 400
    assert error_of(response)["code"] == "OTP_EXPIRED"


async def test_a_confirmed_process_cannot_be_confirmed_again(client: httpx.AsyncClient) -> None:
    process_id = await verify(client)
    assert (await confirm(client, process_id)).status_code == 200
    for invoice in ("INV-1", "INV-2"):
        again = await confirm(client, process_id, invoice_no=invoice)
        assert again.status_code == 400
        assert error_of(again)["code"] == "CONFIRMATION_ERROR"


async def test_unknown_process(client: httpx.AsyncClient) -> None:
    response = await confirm(client, "1234567890123")
    assert response.status_code == 400
    assert error_of(response)["code"] == "REFERENCE_NUMBER_DOES_NOT_EXIST"


async def test_a_process_belongs_to_its_service(client: httpx.AsyncClient) -> None:
    process_id = await verify(client, "sadadapi")
    response = await confirm(client, process_id, "edfali", amount="25.50")
    assert error_of(response)["code"] == "REFERENCE_NUMBER_DOES_NOT_EXIST"


async def test_confirm_amount_must_match_verify(client: httpx.AsyncClient) -> None:
    process_id = await verify(client)
    response = await confirm(client, process_id, amount="25.51")
    assert response.status_code == 400
    assert error_of(response)["code"] == "INVALID_INVOICE_AMOUNT_OR_NUMBER"
    # Same value, other spelling: accepted.
    assert (await confirm(client, process_id, amount="25.5")).status_code == 200


async def test_otp_expires_after_its_ttl() -> None:
    now = [1000.0]
    sandbox, app = make_app(SandboxConfig(otp_ttl=60, clock=lambda: now[0]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        process_id = await verify(c)
        now[0] += 61
        response = await confirm(c, process_id)
    assert response.status_code == 400
    assert error_of(response)["code"] == "OTP_EXPIRED"
    assert sandbox.state.processes[process_id].status == "expired"


# ------------------------------------------------------------------- invoice numbers


async def test_invoice_numbers_are_never_reused(client: httpx.AsyncClient) -> None:
    first = await post(client, "localbankcards", "confirm", LBC)
    assert first.status_code == 200
    for service, fields in (("localbankcards", LBC), ("mpgs", LBC), ("tlync", TLYNC)):
        again = await post(client, service, "confirm", fields)
        assert again.status_code == 400
        assert error_of(again)["code"] == "DUPLICATED_INVOICE_NUMBER"
    process_id = await verify(client)
    wallet = await confirm(client, process_id)
    assert error_of(wallet)["code"] == "DUPLICATED_INVOICE_NUMBER"


async def test_a_failed_attempt_uses_up_the_invoice_number(client: httpx.AsyncClient) -> None:
    process_id = await verify(client, amount="402.02")  # insufficient_balance
    failed = await confirm(client, process_id, amount="402.02", invoice_no="INV-9")
    assert error_of(failed)["code"] == "INSUFFICIENT_BALANCE"
    retry = await confirm(client, await verify(client), invoice_no="INV-9")
    assert error_of(retry)["code"] == "DUPLICATED_INVOICE_NUMBER"


async def test_concurrent_confirms_claim_an_invoice_once(
    client: httpx.AsyncClient, sandbox: PlutuEmulator
) -> None:
    responses = await asyncio.gather(
        *(post(client, "localbankcards", "confirm", LBC) for _ in range(20))
    )
    assert sorted(response.status_code for response in responses) == [200] + [400] * 19
    assert sandbox.state.invoices == {"INV-1": "localbankcards"}


# ------------------------------------------------------------------------ redirects


@pytest.mark.parametrize(
    ("service", "fields"), [("localbankcards", LBC), ("mpgs", LBC), ("tlync", TLYNC)]
)
async def test_redirect_confirm(
    client: httpx.AsyncClient, service: str, fields: dict[str, str]
) -> None:
    response = await post(client, service, "confirm", fields)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "result"}
    assert body["status"] == 200
    assert body["result"]["code"] == "CHECKOUT_REDIRECT"
    url = httpx.URL(body["result"]["redirect_url"])
    assert str(url).startswith(f"{BASE}/checkout/")
    assert url.params["token"]
    assert url.params["lang"] == "ar"
