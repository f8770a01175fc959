"""The official vectors in tests/vectors, byte for byte, through the signing toolkit.

The files are verbatim copies; tests/vectors/README.md names where each comes from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from payhub_core import Callback
from payhub_core.signing import (
    FieldSchema,
    constant_time_equal,
    hex_equal,
    hmac_sha256_hex,
    http_build_query,
    select,
    sign_webhook,
    sorted_query,
    verify_webhook,
    webhook_key,
)

VECTORS = Path(__file__).resolve().parents[2] / "vectors"


def _vectors(name: str) -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = json.loads((VECTORS / name).read_text("utf-8"))["vectors"]
    assert vectors, name
    return vectors


PLUTU = _vectors("plutu_callbacks.json")
PLURAL = _vectors("plural_return.json")
WEBHOOK = _vectors("plural_webhook.json")

# The plutu-php SDK's per-service whitelists of signed keys (a membership test).
PLUTU_WHITELISTS = {
    ("localbankcards", "callback (GET query)"): {
        "gateway",
        "approved",
        "canceled",
        "invoice_no",
        "amount",
        "transaction_id",
    },
    ("mpgs", "callback (GET query)"): {
        "gateway",
        "approved",
        "canceled",
        "amount",
        "currency",
        "invoice_no",
        "transaction_id",
    },
    ("tlync", "callback (POST JSON)"): {
        "gateway",
        "approved",
        "invoice_no",
        "amount",
        "transaction_id",
        "payment_method",
    },
    ("tlync", "return (GET query)"): {"approved", "invoice_no"},
}

PLURAL_SCHEMA = FieldSchema(
    {
        "order_id": r"[A-Za-z0-9_-]+",
        "status": r"[A-Z_]+",
        "error_code": r"[A-Z_]+",
        "error_message": None,
    }
)


def _id(vector: dict[str, Any]) -> str:
    return f"{vector['service']}-{vector['kind'].split()[0]}"


def test_the_official_vectors_are_in_the_repository() -> None:
    assert (VECTORS / "plutu_callbacks.json").is_file()
    assert len(PLUTU) == 4
    assert len(PLURAL) == 2
    assert len(WEBHOOK) == 1


# -- Plutu: whitelist in received order, http_build_query, HMAC hex upper ------------------


@pytest.mark.parametrize("vector", PLUTU, ids=_id)
def test_plutu_signed_string_and_hash_match_byte_for_byte(vector: dict[str, Any]) -> None:
    params = [tuple(pair) for pair in vector["params"]]
    signed = http_build_query(params)
    assert signed == vector["signed_string"]
    assert hmac_sha256_hex(vector["secret_key"], signed) == vector["hashed"]


def _received(vector: dict[str, Any]) -> Callback:
    """The callback as Plutu sends it, with the hash and a merchant parameter added."""
    params = [tuple(pair) for pair in vector["params"]]
    if "JSON" in vector["kind"]:
        body = dict(params) | {"hashed": vector["hashed"]}
        return Callback(
            method="POST",
            headers={"Content-Type": "application/json"},
            body=json.dumps(body).encode(),
        )
    query = http_build_query([("checkout_page", "Y"), *params, ("hashed", vector["hashed"])])
    return Callback(method="GET", query=query.encode("ascii"))


def _plutu_verify(callback: Callback, secret: str, allowed: set[str]) -> bool:
    received: list[tuple[str, Any]] = (
        list(callback.json().items())
        if callback.content_type == "application/json"
        else callback.query_params()
    )
    hashed = next((str(v) for k, v in received if k == "hashed"), "")
    expected = hmac_sha256_hex(secret, http_build_query(select(received, allowed)))
    return bool(hashed) and constant_time_equal(expected, hashed)


@pytest.mark.parametrize("vector", PLUTU, ids=_id)
def test_plutu_callbacks_verify_as_received(vector: dict[str, Any]) -> None:
    allowed = PLUTU_WHITELISTS[(vector["service"], vector["kind"])]
    assert _plutu_verify(_received(vector), vector["secret_key"], allowed)


def test_plutu_tlync_json_numbers_sign_as_php_prints_them() -> None:
    # json_decode makes 6.01 a float and 1 an int; http_build_query prints them back.
    vector = next(v for v in PLUTU if v["kind"] == "callback (POST JSON)")
    body = (
        b'{"gateway": "tlync", "approved": 1, "amount": 6.01, "invoice_no": 43321, '
        b'"payment_method": "mobicash", "transaction_id": 100932}'
    )
    fields = Callback(method="POST", body=body).json()
    assert http_build_query(select(fields.items(), set(fields))) == vector["signed_string"]


def test_plutu_a_json_amount_of_5_00_signs_as_5() -> None:
    fields = Callback(method="POST", body=b'{"amount": 5.00}').json()
    assert http_build_query(fields) == "amount=5"


def test_plutu_sorted_keys_break_the_official_vector() -> None:
    # Plutu signs keys in the order received: sorting them gives B162E085...93B1, not the hash.
    vector = next(v for v in PLUTU if v["kind"] == "callback (POST JSON)")
    params = sorted(tuple(pair) for pair in vector["params"])
    digest = hmac_sha256_hex(vector["secret_key"], http_build_query(params))
    assert digest.startswith("B162E085")
    assert digest.endswith("93B1")
    assert digest != vector["hashed"]


def test_plutu_a_lower_case_hash_fails() -> None:
    vector = PLUTU[0]
    signed = http_build_query([tuple(pair) for pair in vector["params"]])
    assert not constant_time_equal(
        hmac_sha256_hex(vector["secret_key"], signed), vector["hashed"].lower()
    )


def test_plutu_a_misspelled_signed_key_fails() -> None:
    vector = next(v for v in PLUTU if v["kind"] == "callback (POST JSON)")
    allowed = PLUTU_WHITELISTS[(vector["service"], vector["kind"])]
    params = [("paymet_method" if k == "payment_method" else k, v) for k, v in vector["params"]]
    expected = hmac_sha256_hex(vector["secret_key"], http_build_query(select(params, allowed)))
    assert not constant_time_equal(expected, vector["hashed"])


def test_plutu_an_extra_merchant_key_in_front_passes() -> None:
    vector = next(v for v in PLUTU if v["kind"] == "callback (POST JSON)")
    allowed = PLUTU_WHITELISTS[(vector["service"], vector["kind"])]
    params = [("checkout_page", "Y"), *(tuple(pair) for pair in vector["params"])]
    expected = hmac_sha256_hex(vector["secret_key"], http_build_query(select(params, allowed)))
    assert constant_time_equal(expected, vector["hashed"])


# -- Plural return: sorted k=v&..., raw values, hex-decoded key ---------------------------


@pytest.mark.parametrize("vector", PLURAL, ids=["success", "failure"])
def test_plural_signed_string_and_signature_match_byte_for_byte(vector: dict[str, Any]) -> None:
    signed = sorted_query(vector["fields"])
    assert signed == vector["signed_string"]
    key = bytes.fromhex(vector["secret_key_hex"])
    assert hmac_sha256_hex(key, signed) == vector["signature"]


@pytest.mark.parametrize("vector", PLURAL, ids=["success", "failure"])
def test_plural_returns_verify_as_a_posted_form(vector: dict[str, Any]) -> None:
    form = http_build_query(
        [*reversed(vector["fields"].items()), ("signature", vector["signature"].lower())]
    )
    callback = Callback(
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=form.encode("ascii"),
    )
    pairs = callback.params()
    fields = PLURAL_SCHEMA.select(pairs)
    assert fields == vector["fields"]
    signature = dict(pairs)["signature"]
    expected = hmac_sha256_hex(bytes.fromhex(vector["secret_key_hex"]), sorted_query(fields))
    assert hex_equal(expected, signature)


def test_plural_a_tampered_status_fails() -> None:
    vector = PLURAL[0]
    fields = dict(vector["fields"], status="CAPTURED")
    expected = hmac_sha256_hex(bytes.fromhex(vector["secret_key_hex"]), sorted_query(fields))
    assert not hex_equal(expected, vector["signature"])


# -- Plural webhook: Standard Webhooks ------------------------------------------------------


@pytest.mark.parametrize("vector", WEBHOOK, ids=["guide-example"])
def test_plural_webhook_verifies_byte_for_byte(vector: dict[str, Any]) -> None:
    key = webhook_key(vector["secret"])
    stamp = int(vector["webhook_timestamp"])
    body = vector["body"].encode("utf-8")
    assert sign_webhook(key, vector["webhook_id"], stamp, body) == vector["signature"]
    headers = {
        "webhook-id": vector["webhook_id"],
        "webhook-timestamp": vector["webhook_timestamp"],
        "webhook-signature": vector["signature"],
    }
    message = verify_webhook(key, headers, body, tolerance=None)
    assert (message.id, message.timestamp) == (vector["webhook_id"], stamp)
