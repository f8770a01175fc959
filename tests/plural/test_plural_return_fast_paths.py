"""The shortcuts on the verify path keep every guarantee: a lower-case signature still
matches (case-insensitive hex), a foreign callback is still named as such, and a secret
or card number in a return's fields is still redacted from the result."""

from __future__ import annotations

from typing import Any

import pytest
from plural_support import SECRET_KEY, return_signature

from payhub_core import Callback, MalformedCallback, SignatureError
from payhub_core._driver import scrub_result
from payhub_core._models import PaymentResult
from payhub_core.redaction import MASK, secret_values
from payhub_plural._returns import verify_return

_FIELDS = {"order_id": "v1-1", "status": "PROCESSED"}
_KEY = bytes.fromhex(SECRET_KEY)


def test_signature_compares_without_regard_to_case() -> None:
    good = return_signature(_FIELDS)
    for signature in (good.upper(), good.lower()):
        assert verify_return([*_FIELDS.items(), ("signature", signature)], _KEY).signed
    flipped = ("0" if good[0] != "0" else "1") + good[1:]
    with pytest.raises(SignatureError, match="does not match"):
        verify_return([*_FIELDS.items(), ("signature", flipped.lower())], _KEY)


@pytest.mark.parametrize("key", [_KEY, None])
def test_foreign_parameters_are_named_as_another_gateways(key: bytes | None) -> None:
    with pytest.raises(MalformedCallback, match="does not belong to this gateway"):
        verify_return([("hashed", "AB"), ("invoice_no", "1")], key)
    # a lone signature is Plural's (and is then missing its fields), not foreign
    with pytest.raises(MalformedCallback, match="no order_id"):
        verify_return([("signature", return_signature({}))], key)


def test_repeated_documented_field_is_refused_before_the_foreign_check() -> None:
    with pytest.raises(MalformedCallback, match="more than once"):
        verify_return([("status", "X"), ("status", "X")], None)


def test_free_text_with_an_ampersand_but_no_field_name_is_kept() -> None:
    fields = {**_FIELDS, "error_code": "E1", "error_message": "a & b = c"}
    signed = verify_return([*fields.items(), ("signature", return_signature(fields))], _KEY)
    assert signed.error_message == "a & b = c"


@pytest.mark.parametrize(
    "raw",
    [
        {"order_id": "v1-canary-secret-1"},
        {"canary-secret-1": "x"},
        {"order_id": "4012888888881881"},
        {"a": "b", "note": "card 4012 8888 8888 1881"},
    ],
)
def test_flat_raw_with_a_secret_or_card_is_still_scrubbed(raw: dict[str, Any]) -> None:
    result = PaymentResult(status="paid", reference="r", raw=raw)
    scrubbed = scrub_result(result, ("canary-secret-1",), gateway="g")
    text = repr(dict(scrubbed.raw))
    assert "canary-secret-1" not in text
    assert "4012888888881881" not in text
    assert "4012 8888 8888 1881" not in text
    assert MASK in text or "**** **** **** 1881" in text or "************1881" in text


def test_clean_flat_raw_is_kept_as_the_same_mapping() -> None:
    raw = {"order_id": "v1-1", "status": "PROCESSED"}
    result = PaymentResult(status="paid", reference="r", raw=raw)
    assert scrub_result(result, ("canary-secret-1", ""), gateway="g").raw == raw


def test_callbacks_hold_no_secret_but_models_with_secret_fields_are_walked() -> None:
    from pydantic import BaseModel, SecretStr

    class Holder(BaseModel):
        plain: str
        nested: dict[str, SecretStr | None]

    assert secret_values(Callback(query="a=canary-secret-1", headers={"x": "y"})) == []
    holder = Holder(plain="p", nested={"k": SecretStr("canary-secret-1"), "n": None})
    assert secret_values(holder) == ["canary-secret-1"]
