"""HMAC helpers, constant-time comparison, and sign-then-verify round trips."""

from __future__ import annotations

import base64
import hashlib
import hmac
import string
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from payhub_core.signing import (
    FieldSchema,
    constant_time_equal,
    hex_equal,
    hmac_sha256,
    hmac_sha256_base64,
    hmac_sha256_hex,
    http_build_query,
    select,
    sorted_query,
)
from payhub_core.testing.strategies import query_params

keys = st.binary(min_size=1, max_size=64) | st.text(min_size=1, max_size=40)


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


# -- digests ------------------------------------------------------------------------------


@given(key=keys, message=st.binary() | st.text())
def test_hmac_helpers_agree_with_the_standard_library(
    key: str | bytes, message: str | bytes
) -> None:
    digest = hmac.new(_bytes(key), _bytes(message), hashlib.sha256).digest()
    assert hmac_sha256(key, message) == digest
    assert hmac_sha256_hex(key, message) == digest.hex().upper()
    assert hmac_sha256_hex(key, message, upper=False) == digest.hex()
    assert hmac_sha256_base64(key, message) == base64.b64encode(digest).decode()


def test_text_keys_and_messages_are_their_utf8_bytes() -> None:
    assert hmac_sha256("مفتاح", "رسالة") == hmac_sha256("مفتاح".encode(), "رسالة".encode())


# -- constant_time_equal ------------------------------------------------------------------


@given(st.text(), st.text())
def test_constant_time_equal_is_exact_equality(a: str, b: str) -> None:
    assert constant_time_equal(a, b) is (a == b)
    assert constant_time_equal(a.encode(), b) is (a == b)


def test_constant_time_equal_is_case_sensitive() -> None:
    assert not constant_time_equal("ABCDEF", "abcdef")


def test_constant_time_equal_takes_non_ascii_text() -> None:
    # hmac.compare_digest refuses non-ASCII str; the helper compares UTF-8 bytes.
    assert constant_time_equal("é", "é")
    assert not constant_time_equal("é", "e")


def test_comparisons_go_through_hmac_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert constant_time_equal("abc", "abc")
    assert hex_equal("ABCD", "abcd")
    assert len(calls) == 2


# -- hex_equal ----------------------------------------------------------------------------


@given(st.binary(min_size=1, max_size=64), st.randoms(use_true_random=False))
def test_hex_equal_ignores_case(raw: bytes, random: Any) -> None:
    text = raw.hex()
    mixed = "".join(c.upper() if random.random() < 0.5 else c for c in text)
    assert hex_equal(text.upper(), mixed)
    assert hex_equal(mixed, text)


@given(st.binary(min_size=1, max_size=32), st.binary(min_size=1, max_size=32))
def test_hex_equal_tells_different_digests_apart(a: bytes, b: bytes) -> None:
    assert hex_equal(a.hex(), b.hex().upper()) is (a == b)


@pytest.mark.parametrize(
    ("expected", "received"),
    [
        ("abcd", "ab cd"),
        ("abcd", " abcd"),
        ("abcd", "abcd\n"),
        ("", ""),
        ("abc", "abc"),
        ("zz", "zz"),
        ("abcd", "0xabcd"),
        ("ab", "ａｂ"),
        ("ab", "٠١"),
    ],
)
def test_hex_equal_never_matches_non_hex(expected: str, received: str) -> None:
    assert not hex_equal(expected, received)
    assert not hex_equal(received, received)


@given(st.text())
def test_text_that_is_not_hex_never_matches_even_itself(text: str) -> None:
    is_hex = len(text) % 2 == 0 and text != "" and all(c in string.hexdigits for c in text)
    assume(not is_hex)
    assert not hex_equal(text, text)


# -- sign, then verify --------------------------------------------------------------------


def plutu_sign(key: str, params: list[tuple[str, str]], allowed: set[str]) -> str:
    return hmac_sha256_hex(key, http_build_query(select(params, allowed)))


def plutu_verify(
    key: str, params: list[tuple[str, str]], allowed: set[str], signature: str
) -> bool:
    return constant_time_equal(plutu_sign(key, params, allowed), signature)


_params = query_params(min_size=1, unique_keys=True)


@given(key=st.text(min_size=1), params=_params)
def test_sign_then_verify_passes_for_any_unicode_parameters(
    key: str, params: list[tuple[str, str]]
) -> None:
    allowed = {k for k, _ in params}
    signature = plutu_sign(key, params, allowed)
    assert plutu_verify(key, params, allowed, signature)
    assert not plutu_verify(key, params, allowed, signature.lower())


@given(key=st.text(min_size=1), params=_params, data=st.data())
def test_changing_any_one_value_is_rejected(
    key: str, params: list[tuple[str, str]], data: st.DataObject
) -> None:
    allowed = {k for k, _ in params}
    signature = plutu_sign(key, params, allowed)
    index = data.draw(st.integers(0, len(params) - 1))
    name, value = params[index]
    changed = data.draw(st.text().filter(lambda v: v != value))
    tampered = [*params[:index], (name, changed), *params[index + 1 :]]
    assert not plutu_verify(key, tampered, allowed, signature)


@given(key=st.text(min_size=1), params=_params, data=st.data())
def test_changing_any_one_key_is_rejected(
    key: str, params: list[tuple[str, str]], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(params) - 1))
    value = params[index][1]
    renamed = data.draw(st.text(min_size=1).filter(lambda k: k not in {p[0] for p in params}))
    tampered = [*params[:index], (renamed, value), *params[index + 1 :]]
    signature = plutu_sign(key, params, {k for k, _ in params})
    # The verifier's whitelist is what the gateway documents; the renamed key is either
    # dropped (not on it) or signed under its new name.
    for allowed in ({k for k, _ in params}, {k for k, _ in params} | {renamed}):
        assert not plutu_verify(key, tampered, allowed, signature)


@given(key=st.text(min_size=1), params=query_params(min_size=2, unique_keys=True), data=st.data())
def test_reordering_is_rejected_by_the_order_sensitive_scheme(
    key: str, params: list[tuple[str, str]], data: st.DataObject
) -> None:
    allowed = {k for k, _ in params}
    signature = plutu_sign(key, params, allowed)
    i, j = data.draw(st.lists(st.integers(0, len(params) - 1), min_size=2, max_size=2, unique=True))
    swapped = list(params)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    assert not plutu_verify(key, swapped, allowed, signature)


@given(key=st.text(min_size=1), params=_params, wrong=st.text(min_size=1))
def test_a_different_key_is_rejected(key: str, params: list[tuple[str, str]], wrong: str) -> None:
    assume(wrong != key)
    allowed = {k for k, _ in params}
    assert not plutu_verify(wrong, params, allowed, plutu_sign(key, params, allowed))


@given(
    key=st.text(min_size=1),
    params=_params,
    extra=query_params(min_size=1),
    position=st.integers(0, 10),
)
def test_parameters_outside_the_whitelist_never_change_verification(
    key: str, params: list[tuple[str, str]], extra: list[tuple[str, str]], position: int
) -> None:
    allowed = {k for k, _ in params}
    noise = [(k, v) for k, v in extra if k not in allowed]
    signature = plutu_sign(key, params, allowed)
    mixed = [*params[:position], *noise, *params[position:]]
    assert plutu_verify(key, mixed, allowed, signature)


# The sorted scheme (Plural) is order-insensitive by design: any order verifies.

PLURAL = FieldSchema(
    {
        "order_id": r"[A-Za-z0-9_-]+",
        "status": r"[A-Z_]+",
        "error_code": r"[A-Z_]+",
        "error_message": None,
    }
)


def plural_sign(key: bytes, fields: dict[str, str]) -> str:
    return hmac_sha256_hex(key, sorted_query(fields))


@st.composite
def plural_returns(draw: st.DrawFn) -> list[tuple[str, str]]:
    pairs = [
        ("order_id", draw(st.from_regex(r"[A-Za-z0-9_-]+", fullmatch=True))),
        ("status", draw(st.from_regex(r"[A-Z_]+", fullmatch=True))),
    ]
    if draw(st.booleans()):
        pairs += [
            ("error_code", draw(st.from_regex(r"[A-Z_]+", fullmatch=True))),
            ("error_message", draw(st.text(st.characters(exclude_characters="&")))),
        ]
    return draw(st.permutations(pairs))


@given(key=st.binary(min_size=16, max_size=32), pairs=plural_returns(), data=st.data())
def test_sorted_scheme_verifies_in_any_order_and_rejects_any_changed_value(
    key: bytes, pairs: list[tuple[str, str]], data: st.DataObject
) -> None:
    signature = plural_sign(key, PLURAL.select(pairs))
    reordered = data.draw(st.permutations(pairs))
    assert hex_equal(
        plural_sign(key, PLURAL.select([*reordered, ("signature", signature)])), signature
    )
    index = data.draw(st.integers(0, len(pairs) - 1))
    name, value = pairs[index]
    changed = data.draw(st.from_regex(r"[A-Z_]+", fullmatch=True).filter(lambda v: v != value))
    tampered = [*pairs[:index], (name, changed), *pairs[index + 1 :]]
    assert not hex_equal(plural_sign(key, PLURAL.select(tampered)), signature)
