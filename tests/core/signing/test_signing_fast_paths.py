"""The shortcuts of the signing helpers give exactly what the plain computation gives:
HMAC from keyed states made once per key, the query of text pairs joined without
per-string encoding, a schema's canonical string in an order worked out once, the
signature found in the same pass as the documented fields, and the three webhook
headers found in one pass."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payhub_core import MalformedCallback, SignatureError
from payhub_core.signing import (
    FieldSchema,
    _hmac,
    hmac_sha256,
    http_build_query,
    php_urlencode,
    sign_webhook,
    sorted_query,
    verify_webhook,
)

# -- HMAC ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 31, 32, 63, 64, 65, 127, 128, 129, 1000])
def test_hmac_agrees_with_the_standard_library_around_the_block_size(size: int) -> None:
    # Keys longer than SHA-256's 64-byte block are hashed first; shorter ones padded.
    key = bytes(range(256))[:size] if size <= 256 else b"k" * size
    for message in (b"", b"abc", b"m" * 5000):
        expected = hmac.new(key, message, hashlib.sha256).digest()
        assert hmac_sha256(key, message) == expected
        assert hmac_sha256(key, message) == expected  # from the cached keyed states
        assert hmac_sha256(bytearray(key), message) == expected  # type: ignore[arg-type]


@given(key=st.binary(max_size=200) | st.text(max_size=100), messages=st.lists(st.binary()))
def test_hmac_of_several_messages_under_one_key_matches_each_time(
    key: str | bytes, messages: list[bytes]
) -> None:
    raw = key.encode() if isinstance(key, str) else key
    for message in messages:
        assert hmac_sha256(key, message) == hmac.new(raw, message, hashlib.sha256).digest()


def test_text_and_byte_keys_of_the_same_bytes_sign_alike() -> None:
    assert hmac_sha256("same-key", b"m") == hmac_sha256(b"same-key", b"m")


def test_more_keys_than_the_cache_holds_all_still_sign_correctly() -> None:
    keys = [f"key-{index}".encode() for index in range(3 * _hmac._KEYED_LIMIT)]
    for key in keys * 2:
        assert hmac_sha256(key, b"m") == hmac.new(key, b"m", hashlib.sha256).digest()
    assert len(_hmac._keyed_bytes) <= _hmac._KEYED_LIMIT


# -- http_build_query of text pairs -------------------------------------------------------

_TEXT = st.text(alphabet="aZ09._-~ +&=%é€/\x00", max_size=8)


@given(st.lists(st.tuples(_TEXT, _TEXT), max_size=8))
def test_text_pairs_are_encoded_exactly_as_string_by_string(pairs: list[tuple[str, str]]) -> None:
    expected = "&".join(f"{php_urlencode(key)}={php_urlencode(value)}" for key, value in pairs)
    assert http_build_query(pairs) == expected
    assert http_build_query(iter(pairs)) == expected  # an iterator is read once
    assert http_build_query(dict(pairs)) == http_build_query(list(dict(pairs).items()))


def test_text_pairs_mixed_with_other_values_take_the_php_rules() -> None:
    assert http_build_query([("a", "x y"), ("b", 5), ("c", True)]) == "a=x+y&b=5&c=1"
    assert http_build_query([("amount", "25.50"), ("n", None)]) == "amount=25.50"


def test_a_str_subclass_is_written_as_its_text_not_taken_as_plain_text() -> None:
    class Shouting(str):
        def __str__(self) -> str:
            return self.upper()

    assert http_build_query([(Shouting("key"), "v")]) == "KEY=v"


# -- FieldSchema.canonical and select_with -------------------------------------------------

SCHEMA = FieldSchema(
    {
        "order_id": r"[A-Za-z0-9_-]{1,50}",
        "status": r"[A-Za-z_]{1,40}",
        "payment_status": r"[A-Za-z_]{1,40}",
        "error_code": r"[A-Za-z0-9_.-]{1,100}",
        "error_message": None,
    }
)
_NAMES = st.sampled_from(
    ["order_id", "status", "payment_status", "error_code", "error_message", "signature", "x"]
)
_VALUES = st.sampled_from(["v1-1", "PROCESSED", "E_1", "a & b = c", "", "é", "&status=X"])


def _select(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], list[str]] | str:
    try:
        return SCHEMA.select_with(pairs, "signature")
    except MalformedCallback as error:
        return str(error)


@given(st.lists(st.tuples(_NAMES, _VALUES), max_size=8))
def test_select_with_is_select_plus_every_signature_in_order(
    pairs: list[tuple[str, str]],
) -> None:
    try:
        fields: dict[str, str] | str = SCHEMA.select(pairs)
    except MalformedCallback as error:
        fields = str(error)
    signatures = [value for name, value in pairs if name == "signature"]
    found = _select(pairs)
    if isinstance(fields, str):
        assert found == fields  # the same refusal
    else:
        assert found == (fields, signatures)
        assert list(found[0]) == list(fields)  # in received order


@given(st.lists(st.tuples(_NAMES, _VALUES), max_size=8))
def test_canonical_is_the_sorted_query_of_the_selected_fields(
    pairs: list[tuple[str, str]],
) -> None:
    found = _select(pairs)
    if not isinstance(found, str):
        assert SCHEMA.canonical(found[0]) == sorted_query(found[0])


def test_canonical_leaves_out_keys_outside_the_schema() -> None:
    assert SCHEMA.canonical({"status": "A", "zzz": "1", "order_id": "1"}) == "order_id=1&status=A"


def test_select_with_refuses_a_documented_name_as_the_other_parameter() -> None:
    with pytest.raises(ValueError, match="documented field"):
        SCHEMA.select_with([], "status")


# -- webhook headers ----------------------------------------------------------------------

KEY = b"whsec-test-key"
BODY = b'{"event_type":"ORDER_PROCESSED"}'


def _signed(now: int) -> dict[str, str]:
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(now),
        "webhook-signature": sign_webhook(KEY, "msg_1", now, BODY),
    }


def test_webhook_headers_are_found_whatever_their_case_and_the_first_wins() -> None:
    now = int(time.time())
    headers: dict[str, Any] = {k.upper(): v for k, v in _signed(now).items()}
    assert verify_webhook(KEY, headers, BODY, now=now).id == "msg_1"
    # A second spelling of a header after the first is not read (as before: first wins).
    headers["webhook-signature"] = "v1,AAAA"
    assert verify_webhook(KEY, headers, BODY, now=now).id == "msg_1"
    reordered = {"webhook-signature": "v1,AAAA", **{k.upper(): v for k, v in _signed(now).items()}}
    with pytest.raises(SignatureError, match="no webhook signature matches"):
        verify_webhook(KEY, reordered, BODY, now=now)


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        (("webhook-id",), "webhook-id"),
        (("webhook-timestamp",), "webhook-timestamp"),
        (("webhook-signature",), "webhook-signature"),
        (("webhook-id", "webhook-signature"), "webhook-id"),  # the first in that order
        (("webhook-timestamp", "webhook-signature"), "webhook-timestamp"),
    ],
)
def test_a_missing_webhook_header_is_named(missing: tuple[str, ...], named: str) -> None:
    now = int(time.time())
    headers = {k: v for k, v in _signed(now).items() if k not in missing}
    with pytest.raises(SignatureError, match=f"the {named} header is missing"):
        verify_webhook(KEY, headers, BODY, now=now)


def test_each_signature_entry_is_compared_and_a_later_one_may_match() -> None:
    now = int(time.time())
    headers = _signed(now)
    good = headers["webhook-signature"]
    digest = hmac.new(KEY, f"msg_1.{now}.".encode() + BODY, hashlib.sha256).digest()
    assert good == "v1," + base64.b64encode(digest).decode()
    headers["webhook-signature"] = f"v2,{good[3:]} v1,AAAA {good} v1,é"
    assert verify_webhook(KEY, headers, BODY, now=now).timestamp == now
    headers["webhook-signature"] = f"v2,{good[3:]} v1,é"
    with pytest.raises(SignatureError, match="no webhook signature matches"):
        verify_webhook(KEY, headers, BODY, now=now)
