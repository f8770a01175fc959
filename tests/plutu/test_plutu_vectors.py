"""The official signature vectors (plutu-php's own tests), byte for byte, and their
negative checks, through the adapters as a merchant would call them."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import pytest
from plutu_support import config, hmac_upper, json_callback, load_vectors

from payhub_core import Callback, Hub, Money, PaymentStatus, SignatureError
from payhub_plutu import callback_signature
from payhub_plutu._callbacks import WHITELISTS, canonical_string

VECTORS = load_vectors()
ADAPTER = {"localbankcards": "plutu.localbankcards", "mpgs": "plutu.mpgs", "tlync": "plutu.tlync"}


def _kind(vector: dict[str, Any]) -> str:
    return "tlync_return" if vector["kind"].startswith("return") else str(vector["service"])


def _params(vector: dict[str, Any]) -> list[tuple[str, str]]:
    return [(key, value) for key, value in vector["params"]]


def _hub(vector: dict[str, Any]) -> Hub:
    return Hub.from_config(config(ADAPTER[vector["service"]], secret_key=vector["secret_key"]))


def _evidence(vector: dict[str, Any], params: list[tuple[str, str]], hashed: str) -> Callback:
    """The request as Plutu sends it: the vector's values verbatim (they need no escaping)."""
    if _kind(vector) == "tlync":
        return json_callback(dict([*params, ("hashed", hashed)]))
    query = "&".join(f"{key}={value}" for key, value in [*params, ("hashed", hashed)])
    return Callback(method="GET", query=query)


def _verify(vector: dict[str, Any], params: list[tuple[str, str]], hashed: str) -> Any:
    with _hub(vector) as hub:
        return hub.verify(_evidence(vector, params, hashed))


def test_there_are_four_vectors() -> None:
    assert sorted(_kind(vector) for vector in VECTORS) == [
        "localbankcards",
        "mpgs",
        "tlync",
        "tlync_return",
    ]


@pytest.mark.parametrize("vector", VECTORS, ids=_kind)
def test_signed_string_and_hash_byte_for_byte(vector: dict[str, Any]) -> None:
    kind = _kind(vector)
    signed = canonical_string(_params(vector), WHITELISTS[kind])
    assert signed.encode() == vector["signed_string"].encode()
    assert hmac_upper(vector["secret_key"], signed) == vector["hashed"]
    assert callback_signature(vector["secret_key"], _params(vector), kind) == vector["hashed"]


@pytest.mark.parametrize("vector", VECTORS, ids=_kind)
def test_vector_verifies_through_the_hub(vector: dict[str, Any]) -> None:
    result = _verify(vector, _params(vector), vector["hashed"])
    values = dict(_params(vector))
    assert result.invoice_number == values["invoice_no"]
    assert result.reference == values["invoice_no"]
    if _kind(vector) == "tlync_return":
        # No amount on the return: settlement comes from the signed callback.
        assert result.status is PaymentStatus.PENDING
        assert result.amount is None
        assert result.transaction_id is None
        return
    assert result.status is PaymentStatus.PAID
    currency = values.get("currency", "LYD")
    assert result.amount == Money(values["amount"], currency)
    assert result.amount.amount == Decimal(values["amount"])
    assert result.transaction_id == values["transaction_id"]
    if _kind(vector) == "tlync":
        assert result.payment_method == "mobicash"


@pytest.mark.parametrize("vector", VECTORS, ids=_kind)
def test_lower_case_hashed_fails(vector: dict[str, Any]) -> None:
    with pytest.raises(SignatureError):
        _verify(vector, _params(vector), vector["hashed"].lower())


@pytest.mark.parametrize("vector", VECTORS, ids=_kind)
def test_sorted_or_reordered_keys_fail(vector: dict[str, Any]) -> None:
    params = sorted(_params(vector))
    if params == _params(vector):  # the T-Lync return is already in key order
        params.reverse()
    with pytest.raises(SignatureError):
        _verify(vector, params, vector["hashed"])


def test_sorted_tlync_string_gives_the_documented_hash() -> None:
    vector = next(v for v in VECTORS if _kind(v) == "tlync")
    digest = hmac_upper(
        vector["secret_key"], canonical_string(sorted(_params(vector)), WHITELISTS["tlync"])
    )
    assert digest.startswith("B162E085")
    assert digest.endswith("93B1")


@pytest.mark.parametrize("vector", VECTORS, ids=_kind)
def test_extra_merchant_key_in_front_passes(vector: dict[str, Any]) -> None:
    result = _verify(vector, [("checkout_page", "Y"), *_params(vector)], vector["hashed"])
    assert result.invoice_number == dict(_params(vector))["invoice_no"]


@pytest.mark.parametrize("vector", VECTORS, ids=_kind)
@pytest.mark.parametrize("hashed", ["", None])
def test_missing_or_empty_hashed_fails(vector: dict[str, Any], hashed: str | None) -> None:
    params = _params(vector)
    if hashed is not None:
        evidence = _evidence(vector, params, hashed)
    elif _kind(vector) == "tlync":
        evidence = json_callback(dict(params))
    else:
        evidence = Callback(query="&".join(f"{k}={v}" for k, v in params))
    with _hub(vector) as hub, pytest.raises(SignatureError, match="no 'hashed'"):
        hub.verify(evidence)


def test_json_hashed_that_is_not_a_string_fails() -> None:
    vector = next(v for v in VECTORS if _kind(v) == "tlync")
    body = {**dict(_params(vector)), "hashed": 12345}
    with _hub(vector) as hub, pytest.raises(SignatureError):
        hub.verify(json_callback(body))


def test_repeated_hashed_uses_the_last_as_php_does() -> None:
    vector = next(v for v in VECTORS if _kind(v) == "localbankcards")
    query = "&".join(f"{k}={v}" for k, v in _params(vector))
    with _hub(vector) as hub:
        assert hub.verify(Callback(query=f"hashed=WRONG&{query}&hashed={vector['hashed']}")).is_paid
        with pytest.raises(SignatureError):
            hub.verify(Callback(query=f"hashed={vector['hashed']}&{query}&hashed=WRONG"))


# -- T-Lync's method field: `payment_method` (SDK) vs `paymet_method` (docs) -----------------


def _tlync() -> dict[str, Any]:
    return next(v for v in VECTORS if _kind(v) == "tlync")


def _renamed(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("paymet_method" if k == "payment_method" else k, v) for k, v in params]


def test_docs_spelling_with_the_sdk_hash_fails() -> None:
    vector = _tlync()
    with pytest.raises(SignatureError):
        _verify(vector, _renamed(_params(vector)), vector["hashed"])


def test_docs_spelling_signed_the_sdk_way_verifies_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    vector = _tlync()
    params = _renamed(_params(vector))
    # The SDK's whitelist does not contain `paymet_method`: it is left out of the string.
    hashed = hmac_upper(
        vector["secret_key"],
        "gateway=tlync&approved=1&amount=6.01&invoice_no=43321&transaction_id=100932",
    )
    with caplog.at_level(logging.WARNING, logger="payhub.plutu"):
        result = _verify(vector, params, hashed)
    assert result.status is PaymentStatus.PAID
    assert result.payment_method is None  # present but not signed: not trusted
    assert any(
        r.name == "payhub.plutu" and "paymet_method" in r.getMessage() for r in caplog.records
    )


def test_docs_spelling_signed_in_place_verifies_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    vector = _tlync()
    params = _renamed(_params(vector))
    hashed = hmac_upper(
        vector["secret_key"],
        "gateway=tlync&approved=1&amount=6.01&invoice_no=43321&paymet_method=mobicash"
        "&transaction_id=100932",
    )
    with caplog.at_level(logging.WARNING, logger="payhub.plutu"):
        result = _verify(vector, params, hashed)
    assert result.status is PaymentStatus.PAID
    assert result.payment_method == "mobicash"
    assert [r.levelno for r in caplog.records if r.name == "payhub.plutu"] == [logging.WARNING]


def test_sdk_spelling_does_not_warn(caplog: pytest.LogCaptureFixture) -> None:
    vector = _tlync()
    with caplog.at_level(logging.DEBUG, logger="payhub.plutu"):
        _verify(vector, _params(vector), vector["hashed"])
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_vector_body_as_raw_json_text() -> None:
    """The vector exactly as PHP's json_encode would write the request body."""
    vector = _tlync()
    body = json.dumps(dict([*_params(vector), ("hashed", vector["hashed"])]), separators=(",", ":"))
    with _hub(vector) as hub:
        assert hub.verify(json_callback(body)).is_paid
