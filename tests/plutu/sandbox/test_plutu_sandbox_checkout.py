"""The hosted checkout page, the customer's decision, the signed returns and the T-Lync
callback, checked against the SDK's verification (re-implemented here, and proven on the
official vectors)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from plutu_sandbox_kit import (
    BASE,
    HEADERS,
    SECRET,
    VECTORS,
    Receiver,
    action_of,
    api,
    query_pairs,
    sdk_expected_hash,
    sdk_verifies,
    token_of,
)

from payhub_plutu.sandbox import TEST_MOBILE
from payhub_plutu.sandbox._app import PlutuEmulator
from payhub_plutu.sandbox._signing import sign

pytestmark = pytest.mark.anyio

RETURN_URL = "https://shop.example/payhub/return?order=77&checkout_page=Y"


async def start(
    client: httpx.AsyncClient,
    service: str,
    *,
    invoice_no: str = "INV-100",
    amount: str = "5",
    return_url: str = RETURN_URL,
    callback_url: str = "https://shop.example/payhub/callback",
    lang: str | None = None,
) -> str:
    fields = {"amount": amount, "invoice_no": invoice_no, "return_url": return_url}
    if service == "tlync":
        fields |= {"mobile_number": TEST_MOBILE, "callback_url": callback_url}
    if lang:
        fields["lang"] = lang
    response = await client.post(api(service, "confirm"), data=fields, headers=HEADERS)
    assert response.status_code == 200, response.text
    return str(response.json()["result"]["redirect_url"])


async def decide(client: httpx.AsyncClient, redirect_url: str, decision: str, **extra: str) -> str:
    """Load the page like a browser, press a button; the Location sent back."""
    page = await client.get(redirect_url)
    assert page.status_code == 200
    response = await client.post(
        action_of(redirect_url),
        data={"token": token_of(redirect_url), "decision": decision, **extra},
    )
    assert response.status_code == 303, response.text
    return response.headers["location"]


def own_params_kept(location: str) -> list[tuple[str, str]]:
    """The merchant's own query comes first, untouched; the gateway's follow it."""
    assert location.startswith("https://shop.example/payhub/return?order=77&checkout_page=Y&")
    pairs = query_pairs(location)
    assert pairs[:2] == [("order", "77"), ("checkout_page", "Y")]
    return pairs[2:]


# ------------------------------------------------------------------ the SDK's check


@pytest.mark.parametrize("vector", VECTORS, ids=[v["whitelist"] for v in VECTORS])
def test_the_sdk_check_reproduces_the_official_vectors(vector: dict[str, object]) -> None:
    params = vector["params"]
    assert isinstance(params, list)
    secret = str(vector["secret_key"])
    whitelist = str(vector["whitelist"])
    assert sdk_expected_hash(secret, params, whitelist) == vector["hashed"]
    assert sdk_verifies(secret, [*params, ("hashed", str(vector["hashed"]))], whitelist)
    # And the emulator's own signer gives the same.
    assert sign(secret, params) == vector["hashed"]
    # Negative checks: lower case, sorted keys.
    assert not sdk_verifies(secret, [*params, ("hashed", str(vector["hashed"]).lower())], whitelist)
    if whitelist == "tlync_callback":
        assert not sdk_verifies(
            secret, [*sorted(params), ("hashed", str(vector["hashed"]))], whitelist
        )


# -------------------------------------------------------------------- checkout page


@pytest.mark.parametrize("service", ["localbankcards", "mpgs", "tlync"])
async def test_checkout_page(client: httpx.AsyncClient, service: str) -> None:
    url = await start(client, service, amount="25.5", lang="en")
    page = await client.get(url)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert html.count("<form") == 1
    assert '<form method="post"' in html
    for value, label in (("approve", "Approve"), ("decline", "Decline"), ("cancel", "Cancel")):
        assert f'name="decision" value="{value}">{label}</button>' in html
    currency = "USD" if service == "mpgs" else "LYD"
    assert f"25.50 {currency}" in html
    assert "INV-100" in html
    assert "payhub sandbox merchant" in html
    assert f'name="token" value="{token_of(url)}"' in html


@pytest.mark.parametrize(
    "mangle",
    [
        lambda url: url.split("?")[0],  # query stripped: the adapter must keep it intact
        lambda url: url.replace("token=", "token=x"),
        lambda url: url.replace("/checkout/", "/checkout/0"),
    ],
)
async def test_checkout_needs_the_exact_redirect_url(
    client: httpx.AsyncClient, mangle: Callable[[str], str]
) -> None:
    url = await start(client, "localbankcards")
    page = await client.get(mangle(url))
    assert page.status_code == 404
    assert "redirect_url exactly" in page.text


async def test_decision_needs_the_token(client: httpx.AsyncClient) -> None:
    url = await start(client, "localbankcards")
    response = await client.post(action_of(url), data={"decision": "approve"})
    assert response.status_code == 404
    response = await client.post(action_of(url), data={"decision": "approve", "token": "nope"})
    assert response.status_code == 404


async def test_unknown_decision(client: httpx.AsyncClient) -> None:
    url = await start(client, "localbankcards")
    response = await client.post(action_of(url), data={"decision": "maybe", "token": token_of(url)})
    assert response.status_code == 400


async def test_a_decision_is_final(client: httpx.AsyncClient, sandbox: PlutuEmulator) -> None:
    url = await start(client, "localbankcards")
    await decide(client, url, "approve")
    page = await client.get(url)
    assert page.status_code == 409
    again = await client.post(action_of(url), data={"decision": "cancel", "token": token_of(url)})
    assert again.status_code == 409
    (session,) = sandbox.state.sessions.values()
    assert session.status == "approved"


# ---------------------------------------------------------------- LBC and MPGS returns


@pytest.mark.parametrize(
    ("decision", "status_params"),
    [("approve", [("approved", "1")]), ("decline", []), ("cancel", [("canceled", "1")])],
)
async def test_lbc_return(
    client: httpx.AsyncClient, decision: str, status_params: list[tuple[str, str]]
) -> None:
    location = await decide(client, await start(client, "localbankcards"), decision)
    params = own_params_kept(location)
    transaction_id = dict(params)["transaction_id"]
    assert transaction_id.isdigit()
    assert params[:-1] == [
        ("gateway", "localbankcards"),
        *status_params,
        ("invoice_no", "INV-100"),
        ("amount", "5.00"),
        ("transaction_id", transaction_id),
    ]
    assert params[-1][0] == "hashed"
    assert sdk_verifies(SECRET, query_pairs(location), "localbankcards")


@pytest.mark.parametrize(
    ("decision", "status_params"),
    [("approve", [("approved", "1")]), ("decline", []), ("cancel", [("canceled", "1")])],
)
async def test_mpgs_return(
    client: httpx.AsyncClient, decision: str, status_params: list[tuple[str, str]]
) -> None:
    location = await decide(client, await start(client, "mpgs", amount="19.9"), decision)
    params = own_params_kept(location)
    transaction_id = dict(params)["transaction_id"]
    assert params[:-1] == [
        ("gateway", "mpgs"),
        *status_params,
        ("amount", "19.90"),
        ("currency", "USD"),
        ("invoice_no", "INV-100"),
        ("transaction_id", transaction_id),
    ]
    assert sdk_verifies(SECRET, query_pairs(location), "mpgs")


async def test_return_url_without_query_and_with_fragment(client: httpx.AsyncClient) -> None:
    url = await start(client, "localbankcards", return_url="http://127.0.0.1:8000/done#top")
    location = await decide(client, url, "approve")
    assert location.startswith("http://127.0.0.1:8000/done?gateway=localbankcards&approved=1&")
    assert location.endswith("#top")
    assert sdk_verifies(SECRET, query_pairs(location), "localbankcards")


async def test_the_signature_covers_what_is_sent(client: httpx.AsyncClient) -> None:
    location = await decide(client, await start(client, "localbankcards"), "approve")
    pairs = query_pairs(location)
    tampered = [("amount", "0.01") if key == "amount" else (key, value) for key, value in pairs]
    assert not sdk_verifies(SECRET, tampered, "localbankcards")
    assert not sdk_verifies("sk_" + "1" * 40, pairs, "localbankcards")


async def test_transaction_ids_are_unique(client: httpx.AsyncClient) -> None:
    ids = set()
    for number in range(5):
        location = await decide(
            client, await start(client, "localbankcards", invoice_no=f"N{number}"), "approve"
        )
        ids.add(dict(query_pairs(location))["transaction_id"])
    assert len(ids) == 5


# ----------------------------------------------------------------------- T-Lync


async def test_tlync_approve_sends_a_signed_json_callback(
    client: httpx.AsyncClient, sandbox: PlutuEmulator, receiver: Receiver
) -> None:
    url = await start(client, "tlync", amount="6.01", callback_url=receiver.url)
    location = await decide(client, url, "approve")

    params = own_params_kept(location)
    assert [key for key, _ in params] == ["approved", "invoice_no", "hashed"]
    assert params[:2] == [("approved", "1"), ("invoice_no", "INV-100")]
    assert sdk_verifies(SECRET, query_pairs(location), "tlync_return")

    await sandbox.notifier.drain()
    (callback,) = receiver.wait_for(1)
    assert callback.path == "/plutu/callback"
    assert callback.headers["Content-Type"] == "application/json"
    pairs = callback.json()
    keys = [key for key, _ in pairs]
    assert keys == [
        "gateway",
        "approved",
        "amount",
        "invoice_no",
        "payment_method",
        "transaction_id",
        "hashed",
    ]
    body = dict(pairs)
    assert all(isinstance(value, str) for value in body.values())
    assert body["gateway"] == "tlync"
    assert body["approved"] == "1"
    assert body["amount"] == "6.01"
    assert body["invoice_no"] == "INV-100"
    assert body["payment_method"] == "mobicash"
    assert body["transaction_id"].isdigit()
    assert sdk_verifies(SECRET, pairs, "tlync_callback")
    # PHP json_encode's compact form.
    assert b'{"gateway":"tlync","approved":"1","amount":"6.01",' in callback.body
    assert json.loads(callback.body)["hashed"] == body["hashed"]


async def test_tlync_payment_method_from_the_form(
    client: httpx.AsyncClient, sandbox: PlutuEmulator, receiver: Receiver
) -> None:
    url = await start(client, "tlync", callback_url=receiver.url)
    await decide(client, url, "approve", payment_method="sadad")
    await sandbox.notifier.drain()
    (callback,) = receiver.wait_for(1)
    assert dict(callback.json())["payment_method"] == "sadad"
    assert sdk_verifies(SECRET, callback.json(), "tlync_callback")


async def test_tlync_decline_reports_approved_0(
    client: httpx.AsyncClient, sandbox: PlutuEmulator, receiver: Receiver
) -> None:
    url = await start(client, "tlync", callback_url=receiver.url)
    location = await decide(client, url, "decline")
    assert dict(query_pairs(location))["approved"] == "0"
    assert sdk_verifies(SECRET, query_pairs(location), "tlync_return")
    await sandbox.notifier.drain()
    (callback,) = receiver.wait_for(1)
    assert dict(callback.json())["approved"] == "0"
    assert sdk_verifies(SECRET, callback.json(), "tlync_callback")


async def test_tlync_cancel_sends_no_callback(
    client: httpx.AsyncClient, sandbox: PlutuEmulator, receiver: Receiver
) -> None:
    url = await start(client, "tlync", callback_url=receiver.url)
    location = await decide(client, url, "cancel")
    assert dict(query_pairs(location))["approved"] == "0"
    assert "canceled" not in dict(query_pairs(location))
    await sandbox.notifier.drain()
    assert receiver.received == []
    assert sandbox.notifier.deliveries == []


async def test_tlync_callback_is_retried_until_accepted(
    client: httpx.AsyncClient, sandbox: PlutuEmulator, receiver: Receiver
) -> None:
    sandbox.notifier.retry_delay = 0.01
    receiver.statuses = [500]
    url = await start(client, "tlync", callback_url=receiver.url)
    await decide(client, url, "approve")
    await sandbox.notifier.drain()
    first, second = receiver.wait_for(2)
    assert first.body == second.body
    (delivery,) = sandbox.notifier.deliveries
    assert (delivery.attempts, delivery.status) == (2, 200)


async def test_transactions_log(
    client: httpx.AsyncClient, sandbox: PlutuEmulator, receiver: Receiver
) -> None:
    url = await start(client, "tlync", callback_url=receiver.url)
    await decide(client, url, "approve")
    await sandbox.notifier.drain()
    log = (await client.get("/_sandbox/transactions")).json()
    (transaction,) = log["transactions"]
    assert transaction["status"] == "approved"
    assert transaction["invoice_no"] == "INV-100"
    (callback,) = log["callbacks"]
    assert callback["url"] == receiver.url
    assert callback["status"] == 200
    assert callback["body"]["invoice_no"] == "INV-100"


async def test_base_url_is_used_for_links(client: httpx.AsyncClient) -> None:
    url = await start(client, "mpgs")
    assert url.startswith(f"{BASE}/checkout/")
    page = await client.get(url)
    assert f'action="{action_of(url)}"' in page.text
