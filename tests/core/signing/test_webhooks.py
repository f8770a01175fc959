"""Standard Webhooks verification (webhook-id, webhook-timestamp, webhook-signature)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from payhub_core import Callback, SignatureError
from payhub_core.signing import (
    DEFAULT_TOLERANCE,
    WebhookMessage,
    sign_webhook,
    verify_webhook,
    webhook_key,
)

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
VECTOR = json.loads((VECTORS / "plural_webhook.json").read_text("utf-8"))["vectors"][0]

KEY = VECTOR["secret"].encode()
ID = VECTOR["webhook_id"]
STAMP = int(VECTOR["webhook_timestamp"])
BODY = VECTOR["body"].encode()
SIGNATURE = VECTOR["signature"]


def _headers(
    signature: str = SIGNATURE, msg_id: str = ID, stamp: str | int = STAMP
) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": signature}


def _model_signature(key: bytes, msg_id: str, stamp: str, body: bytes) -> str:
    signed = f"{msg_id}.{stamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


# -- the published example ----------------------------------------------------------------


def test_the_published_example_verifies() -> None:
    message = verify_webhook(KEY, _headers(), BODY, now=STAMP)
    assert message == WebhookMessage(id=ID, timestamp=STAMP)


def test_sign_webhook_reproduces_the_published_signature() -> None:
    assert sign_webhook(KEY, ID, STAMP, BODY) == SIGNATURE
    assert _model_signature(KEY, ID, str(STAMP), BODY) == SIGNATURE


def test_verification_reads_headers_from_a_callback() -> None:
    callback = Callback(
        method="POST",
        headers={"Webhook-Id": ID, "Webhook-Timestamp": str(STAMP), "Webhook-Signature": SIGNATURE},
        body=BODY,
    )
    assert verify_webhook(KEY, callback.headers, callback.body, now=STAMP).id == ID


# -- several signatures --------------------------------------------------------------------

OTHER = sign_webhook(b"rotated-out-key", ID, STAMP, BODY)


@pytest.mark.parametrize(
    "header",
    [
        f"{OTHER} {SIGNATURE}",
        f"{SIGNATURE} {OTHER}",
        f"v1,garbage {SIGNATURE}",
        f"v2,{SIGNATURE.removeprefix('v1,')} {SIGNATURE}",
        f"  {SIGNATURE}  ",
        f"{OTHER}\t{SIGNATURE}",
    ],
)
def test_any_one_matching_v1_signature_passes(header: str) -> None:
    assert verify_webhook(KEY, _headers(header), BODY, now=STAMP).id == ID


@pytest.mark.parametrize(
    "header",
    [
        OTHER,
        f"{OTHER} v1,AAAA",
        f"v2,{SIGNATURE.removeprefix('v1,')}",
        SIGNATURE.removeprefix("v1,"),
        f"v1{SIGNATURE.removeprefix('v1,')}",
        f"V1,{SIGNATURE.removeprefix('v1,')}",
        "",
        "v1,",
        SIGNATURE.lower(),
        SIGNATURE[:-2] + "A=",
    ],
)
def test_no_matching_v1_signature_is_a_signature_error(header: str) -> None:
    with pytest.raises(SignatureError):
        verify_webhook(KEY, _headers(header), BODY, now=STAMP)


# -- tolerance -----------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [0, 1, -1, DEFAULT_TOLERANCE, -DEFAULT_TOLERANCE, 299.5])
def test_a_timestamp_inside_the_tolerance_passes(offset: float) -> None:
    assert verify_webhook(KEY, _headers(), BODY, now=STAMP + offset).timestamp == STAMP


@pytest.mark.parametrize("offset", [DEFAULT_TOLERANCE + 1, -DEFAULT_TOLERANCE - 1, 300.5, 10**9])
def test_a_timestamp_outside_the_tolerance_is_refused(offset: float) -> None:
    with pytest.raises(SignatureError, match=r"replayed|skew"):
        verify_webhook(KEY, _headers(), BODY, now=STAMP + offset)


def test_the_tolerance_is_configurable() -> None:
    verify_webhook(KEY, _headers(), BODY, now=STAMP + 3600, tolerance=3600)
    with pytest.raises(SignatureError):
        verify_webhook(KEY, _headers(), BODY, now=STAMP + 11, tolerance=10)


def test_tolerance_none_turns_the_age_check_off() -> None:
    assert verify_webhook(KEY, _headers(), BODY, tolerance=None).id == ID
    assert verify_webhook(KEY, _headers(), BODY, now=0, tolerance=None).id == ID


def test_the_default_clock_is_now() -> None:
    stamp = int(time.time())
    signature = sign_webhook(KEY, "msg_now", stamp, b"{}")
    assert verify_webhook(KEY, _headers(signature, "msg_now", stamp), b"{}").timestamp == stamp
    with pytest.raises(SignatureError):
        verify_webhook(KEY, _headers(), BODY)  # the example is from 2024


def test_a_stale_delivery_is_refused_even_with_a_valid_signature() -> None:
    # Age is checked as well as the signature: a replayed valid delivery fails.
    with pytest.raises(SignatureError):
        verify_webhook(KEY, _headers(), BODY, now=STAMP + 86400)


# -- tampering ------------------------------------------------------------------------------

ids = st.text(min_size=1, max_size=40)
stamps = st.integers(0, 2**40)


@given(
    key=st.binary(min_size=1, max_size=64), msg_id=ids, stamp=stamps, body=st.binary(max_size=200)
)
def test_sign_then_verify_passes_for_any_delivery(
    key: bytes, msg_id: str, stamp: int, body: bytes
) -> None:
    signature = sign_webhook(key, msg_id, stamp, body)
    assert signature == _model_signature(key, msg_id, str(stamp), body)
    assert verify_webhook(
        key, _headers(signature, msg_id, stamp), body, now=stamp
    ) == WebhookMessage(id=msg_id, timestamp=stamp)


@given(msg_id=ids, stamp=stamps, body=st.binary(max_size=200), data=st.data())
def test_tampering_with_the_body_is_rejected(
    msg_id: str, stamp: int, body: bytes, data: st.DataObject
) -> None:
    other = data.draw(st.binary(max_size=200).filter(lambda b: b != body))
    signature = sign_webhook(KEY, msg_id, stamp, body)
    with pytest.raises(SignatureError):
        verify_webhook(KEY, _headers(signature, msg_id, stamp), other, tolerance=None)


@given(msg_id=ids, other=ids, stamp=stamps)
def test_tampering_with_the_id_is_rejected(msg_id: str, other: str, stamp: int) -> None:
    assume(other != msg_id)
    signature = sign_webhook(KEY, msg_id, stamp, BODY)
    with pytest.raises(SignatureError):
        verify_webhook(KEY, _headers(signature, other, stamp), BODY, tolerance=None)


@given(stamp=stamps, other=stamps)
def test_tampering_with_the_timestamp_is_rejected(stamp: int, other: int) -> None:
    assume(other != stamp)
    signature = sign_webhook(KEY, ID, stamp, BODY)
    with pytest.raises(SignatureError):
        verify_webhook(KEY, _headers(signature, ID, other), BODY, tolerance=None)


@given(position=st.integers(3, len(SIGNATURE) - 2), char=st.sampled_from("ABCabc0189+/"))
def test_tampering_with_the_signature_is_rejected(position: int, char: str) -> None:
    tampered = SIGNATURE[:position] + char + SIGNATURE[position + 1 :]
    assume(tampered != SIGNATURE)
    with pytest.raises(SignatureError):
        verify_webhook(KEY, _headers(tampered), BODY, now=STAMP)


@given(key=st.binary(min_size=1, max_size=32))
def test_a_different_key_is_rejected(key: bytes) -> None:
    assume(key != KEY)
    with pytest.raises(SignatureError):
        verify_webhook(key, _headers(), BODY, now=STAMP)


# -- headers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_a_signature_error_naming_it(missing: str) -> None:
    headers = {k: v for k, v in _headers().items() if k != missing}
    with pytest.raises(SignatureError, match=missing):
        verify_webhook(KEY, headers, BODY, now=STAMP)


@pytest.mark.parametrize(
    "stamp",
    ["", "abc", "-5", "1.5", "1e9", "0x10", "١٧٢٨٥٤٣٠٢٨", "1728543028abc", "1" * 5000, "9" * 400],
)
def test_a_timestamp_that_is_not_unix_seconds_is_a_signature_error(stamp: str) -> None:
    with pytest.raises(SignatureError):
        verify_webhook(KEY, _headers(stamp=stamp), BODY, now=STAMP)
    with pytest.raises(SignatureError):
        verify_webhook(KEY, _headers(stamp=stamp), BODY, tolerance=None)
    with pytest.raises(SignatureError):
        verify_webhook(KEY, _headers(stamp=stamp), BODY)  # against the float clock


@given(st.text())
def test_any_timestamp_header_gives_a_result_or_a_signature_error(stamp: str) -> None:
    # Nothing but SignatureError may escape, whatever the header holds.
    with contextlib.suppress(SignatureError):
        verify_webhook(KEY, _headers(stamp=stamp), BODY, now=STAMP)


@pytest.mark.parametrize(
    "case",
    [str.upper, str.title, lambda name: name.replace("webhook", "WebHook")],
    ids=["upper", "title", "mixed"],
)
def test_header_names_are_case_insensitive(case: Any) -> None:
    headers = {case(name): value for name, value in _headers().items()}
    assert verify_webhook(KEY, headers, BODY, now=STAMP).id == ID


# -- keys ------------------------------------------------------------------------------------


def test_webhook_key_is_the_utf8_bytes_of_the_secret_by_default() -> None:
    assert webhook_key("abc1234") == b"abc1234"
    assert webhook_key("مفتاح") == "مفتاح".encode()


def test_webhook_key_decodes_base64_secrets_with_or_without_whsec_prefix() -> None:
    encoded = base64.b64encode(b"abc1234").decode()  # the guide's YWJjMTIzNA==
    assert encoded == "YWJjMTIzNA=="
    assert webhook_key(encoded, base64_encoded=True) == b"abc1234"
    assert webhook_key("whsec_" + encoded, base64_encoded=True) == b"abc1234"
    verify_webhook(
        webhook_key("whsec_" + encoded, base64_encoded=True), _headers(), BODY, now=STAMP
    )


@pytest.mark.parametrize("secret", ["not base64!", "YWJj MTIzNA==", "whsec_%%%", "YWJjMTIzNA="])
def test_webhook_key_refuses_invalid_base64(secret: str) -> None:
    with pytest.raises(ValueError, match="Base64"):
        webhook_key(secret, base64_encoded=True)


@pytest.mark.parametrize(("secret", "encoded"), [("", False), ("", True), ("whsec_", True)])
def test_webhook_key_refuses_an_empty_secret(secret: str, encoded: bool) -> None:
    # An empty HMAC key is a key everybody has.
    with pytest.raises(ValueError, match="empty"):
        webhook_key(secret, base64_encoded=encoded)
