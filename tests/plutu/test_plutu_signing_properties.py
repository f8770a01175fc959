"""Property-based checks of callback verification.

Signatures here are computed by the tests' own signer (stdlib ``hmac`` over PHP's rules
spelled with ``quote_plus``), never by the adapter, so a shared mistake cannot hide.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from plutu_support import (
    ACCESS_TOKEN,
    API_KEY,
    SECRET_KEY,
    WHITELIST,
    hmac_upper,
    json_callback,
    php_query,
    php_urlencode,
    sign_pairs,
)

from payhub_core import (
    Callback,
    MalformedCallback,
    Money,
    PaymentStatus,
    SignatureError,
    VerificationError,
)
from payhub_plutu import (
    LocalBankCardsAdapter,
    MpgsAdapter,
    MpgsSettings,
    SignedPlutuSettings,
    TlyncAdapter,
    callback_signature,
)
from payhub_plutu._callbacks import canonical_string

_SETTINGS: dict[str, Any] = {
    "environment": "production",
    "api_key": API_KEY,
    "access_token": ACCESS_TOKEN,
    "secret_key": SECRET_KEY,
}
ADAPTERS: dict[str, Any] = {
    "localbankcards": LocalBankCardsAdapter(SignedPlutuSettings(**_SETTINGS)),
    "mpgs": MpgsAdapter(MpgsSettings(**_SETTINGS)),
    "tlync": TlyncAdapter(SignedPlutuSettings(**_SETTINGS)),
}
ADAPTERS["tlync_return"] = ADAPTERS["tlync"]
ALL_SIGNED_NAMES = {name for names in WHITELIST.values() for name in names}

invoice_numbers = st.from_regex(r"[A-Za-z0-9._-]{1,24}", fullmatch=True)
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999"), places=2)
transaction_ids = st.integers(min_value=1, max_value=10**15).map(str)
# Merchant parameters in return_url: anything that is not signed, including names that
# are signed by *other* services.
extra_keys = (
    st.sampled_from(["checkout_page", "wc-api", "order", "payment_method", "currency", "lang"])
    | st.text(min_size=1, max_size=12)
).filter(lambda key: key != "hashed")
extra_values = st.text(max_size=20)


def _fields(draw: st.DrawFn, kind: str) -> list[tuple[str, str]]:
    """A well-formed set of signed fields for ``kind``, in the documented order."""
    invoice_no = draw(invoice_numbers)
    if kind == "tlync_return":
        return [("approved", draw(st.sampled_from(["1", "0"]))), ("invoice_no", invoice_no)]
    outcome = draw(st.sampled_from(["approved", "canceled", "failed"]))
    service = "tlync" if kind == "tlync" else kind
    fields = [("gateway", service)]
    if kind == "tlync":
        fields.append(("approved", "1" if outcome == "approved" else "0"))
    elif outcome != "failed":
        fields.append((outcome, "1"))
    fields += [("invoice_no", invoice_no), ("amount", f"{draw(amounts):f}")]
    if kind == "mpgs":
        fields.append(("currency", draw(st.sampled_from(["USD", "EUR"]))))
    if kind == "tlync":
        fields.append(("payment_method", draw(st.sampled_from(["tadawul", "sadad", "mobicash"]))))
    fields.append(("transaction_id", draw(transaction_ids)))
    return fields


@st.composite
def signed_callbacks(draw: st.DrawFn, kind: str) -> tuple[list[tuple[str, str]], str]:
    """(pairs in received order with merchant extras interleaved, the signature)."""
    signed = draw(st.permutations(_fields(draw, kind)))
    extras = [
        (key, value)
        for key, value in draw(
            st.lists(st.tuples(extra_keys, extra_values), max_size=5, unique_by=lambda p: p[0])
        )
        if key not in WHITELIST[kind]
    ]
    pairs = list(signed)
    for extra in extras:
        pairs.insert(draw(st.integers(min_value=0, max_value=len(pairs))), extra)
    return pairs, sign_pairs(SECRET_KEY, pairs, kind)


def _evidence(kind: str, pairs: list[tuple[str, Any]], hashed: Any, at: int = -1) -> Callback:
    everything = list(pairs)
    everything.insert(at if at >= 0 else len(everything), ("hashed", hashed))
    if kind == "tlync":
        body: dict[str, Any] = {}
        for key, value in everything:
            body[key] = value
        return json_callback(body)
    return Callback(method="GET", query=php_query(everything))


def _verify(kind: str, evidence: Callback) -> Any:
    return ADAPTERS[kind].payhub_verify(evidence=evidence)


KINDS = ["localbankcards", "mpgs", "tlync", "tlync_return"]


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_any_order_with_merchant_extras_verifies(kind: str, data: st.DataObject) -> None:
    pairs, hashed = data.draw(signed_callbacks(kind))
    assert callback_signature(SECRET_KEY, pairs, kind) == hashed
    at = data.draw(st.integers(min_value=0, max_value=len(pairs)))
    result = _verify(kind, _evidence(kind, pairs, hashed, at))
    values = {k: v for k, v in pairs if k in WHITELIST[kind]}
    assert result.invoice_number == values["invoice_no"]
    approved = values.get("approved") == "1"
    if kind == "tlync_return":
        assert result.status is (PaymentStatus.PENDING if approved else PaymentStatus.FAILED)
        return
    expected_status = (
        PaymentStatus.PAID
        if approved
        else PaymentStatus.CANCELED
        if values.get("canceled") == "1"
        else PaymentStatus.FAILED
    )
    assert result.status is expected_status
    assert result.amount == Money(
        values["amount"], values.get("currency", "USD" if kind == "mpgs" else "LYD")
    )
    assert result.transaction_id == values["transaction_id"]
    assert dict(result.raw) == values


def _mutations(
    draw: st.DrawFn, kind: str, pairs: list[tuple[str, str]]
) -> tuple[str, list[tuple[str, str]]]:
    signed_positions = [i for i, (key, _) in enumerate(pairs) if key in WHITELIST[kind]]
    mutation = draw(st.sampled_from(["value", "key", "swap", "drop", "add"]))
    mutated = list(pairs)
    position = draw(st.sampled_from(signed_positions))
    key, value = pairs[position]
    if mutation == "value":
        new_value = draw(st.text(max_size=10).filter(lambda v: v != value))
        mutated[position] = (key, new_value)
    elif mutation == "key":
        new_key = draw(
            (st.sampled_from(sorted(ALL_SIGNED_NAMES)) | st.text(min_size=1, max_size=10)).filter(
                lambda k: k != key
            )
        )
        mutated[position] = (new_key, value)
    elif mutation == "swap":
        other = draw(st.sampled_from([i for i in signed_positions if i != position]))
        mutated[position], mutated[other] = mutated[other], mutated[position]
    elif mutation == "drop":
        del mutated[position]
    else:
        present = {k for k, _ in pairs}
        missing = [name for name in WHITELIST[kind] if name not in present]
        assume(missing)
        new = (draw(st.sampled_from(missing)), draw(st.text(max_size=10)))
        mutated.insert(draw(st.integers(min_value=0, max_value=len(mutated))), new)
    return mutation, mutated


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_any_single_change_is_rejected(kind: str, data: st.DataObject) -> None:
    pairs, hashed = data.draw(signed_callbacks(kind))
    _, mutated = _mutations(data.draw, kind, pairs)
    if kind == "tlync":  # a JSON object cannot repeat a key
        assume(len({k for k, _ in mutated}) == len(mutated))
    with pytest.raises(SignatureError):
        _verify(kind, _evidence(kind, mutated, hashed))


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_any_change_to_hashed_is_rejected(kind: str, data: st.DataObject) -> None:
    pairs, hashed = data.draw(signed_callbacks(kind))
    index = data.draw(st.integers(min_value=0, max_value=len(hashed) - 1))
    replacement = data.draw(
        st.sampled_from("0123456789ABCDEFabcdef").filter(lambda c: c != hashed[index])
    )
    with pytest.raises(SignatureError):
        _verify(kind, _evidence(kind, pairs, hashed[:index] + replacement + hashed[index + 1 :]))


@given(st.lists(st.tuples(st.sampled_from(sorted(ALL_SIGNED_NAMES)) | st.text(), st.text())))
def test_encoding_agrees_with_php_rules_on_arbitrary_unicode(pairs: list[tuple[str, str]]) -> None:
    for kind, whitelist in WHITELIST.items():
        kept: dict[str, str] = {}
        for key, value in pairs:
            if key in whitelist:
                kept[key] = value
        expected = "&".join(f"{php_urlencode(k)}={php_urlencode(v)}" for k, v in kept.items())
        assert canonical_string(pairs, whitelist) == expected, kind
        # What the adapter reads back from a PHP-encoded query string signs the same.
        received = Callback(query=php_query(pairs)).query_params()
        assert canonical_string(received, whitelist) == expected, kind


@given(approved=st.text(), invoice_no=invoice_numbers)
def test_arbitrary_unicode_values_verify_and_never_pay(approved: str, invoice_no: str) -> None:
    pairs = [("approved", approved), ("invoice_no", invoice_no)]
    evidence = Callback(
        query=php_query([*pairs, ("hashed", sign_pairs(SECRET_KEY, pairs, "tlync_return"))])
    )
    result = _verify("tlync_return", evidence)
    assert result.status in (PaymentStatus.PENDING, PaymentStatus.FAILED)


@given(gateway=st.text())
def test_signed_but_foreign_gateway_is_refused(gateway: str) -> None:
    assume(gateway != "localbankcards")
    pairs = [
        ("gateway", gateway),
        ("approved", "1"),
        ("invoice_no", "INV-1"),
        ("amount", "5.00"),
        ("transaction_id", "1"),
    ]
    evidence = Callback(
        query=php_query([*pairs, ("hashed", sign_pairs(SECRET_KEY, pairs, "localbankcards"))])
    )
    with pytest.raises(MalformedCallback):
        _verify("localbankcards", evidence)


@pytest.mark.parametrize(
    ("approved", "status"),
    [
        ("1", PaymentStatus.PENDING),
        ("01", PaymentStatus.PENDING),
        ("1.0", PaymentStatus.PENDING),
        (" 1", PaymentStatus.PENDING),
        ("1 ", PaymentStatus.PENDING),
        ("1e0", PaymentStatus.PENDING),
        ("+1", PaymentStatus.PENDING),
        ("0", PaymentStatus.FAILED),
        ("", PaymentStatus.FAILED),
        ("1a", PaymentStatus.FAILED),
        ("true", PaymentStatus.FAILED),
        ("0x1", PaymentStatus.FAILED),
        ("2", PaymentStatus.FAILED),
    ],
)
def test_approved_is_php_loose_equal_to_one(approved: str, status: PaymentStatus) -> None:
    pairs = [("approved", approved), ("invoice_no", "INV-1")]
    evidence = Callback(
        query=php_query([*pairs, ("hashed", sign_pairs(SECRET_KEY, pairs, "tlync_return"))])
    )
    assert _verify("tlync_return", evidence).status is status


# -- JSON number and boolean forms (T-Lync callback) -------------------------------------


def _php_number(text: str) -> str:
    """What PHP's http_build_query writes for a JSON number json_decode made a float."""
    return f"{float(text):.14G}"


@given(
    amount=amounts,
    form=st.sampled_from(["plain", "normalized", "one_decimal"]),
    approved=st.sampled_from(["true", "1", '"1"']),
    transaction_id=st.integers(min_value=1, max_value=2**63 - 1),
    invoice_no=invoice_numbers,
)
def test_json_numbers_and_booleans_sign_as_php_sees_them(
    amount: Decimal, form: str, approved: str, transaction_id: int, invoice_no: str
) -> None:
    text = {
        "plain": f"{amount:f}",
        "normalized": f"{amount.normalize():f}",
        "one_decimal": f"{amount.quantize(Decimal('0.1')):f}",
    }[form]
    assume(Decimal(text) > 0)
    body = (
        f'{{"gateway":"tlync","approved":{approved},"amount":{text},'
        f'"invoice_no":{json.dumps(invoice_no)},"payment_method":"sadad",'
        f'"transaction_id":{transaction_id},"hashed":"HASHED"}}'
    )
    php_view = (
        f"gateway=tlync&approved=1&amount={php_urlencode(_php_number(text))}"
        f"&invoice_no={php_urlencode(invoice_no)}&payment_method=sadad"
        f"&transaction_id={transaction_id}"
    )
    result = _verify(
        "tlync", json_callback(body.replace("HASHED", hmac_upper(SECRET_KEY, php_view)))
    )
    assert result.status is PaymentStatus.PAID
    assert result.amount == Money(Decimal(text), "LYD")
    assert result.transaction_id == str(transaction_id)
    # Signing the number's *text* instead is what a naive verifier would do: it only
    # agrees with PHP where the text is already PHP's float form.
    as_text = php_view.replace(f"amount={php_urlencode(_php_number(text))}", f"amount={text}")
    if as_text != php_view:
        with pytest.raises(SignatureError):
            _verify("tlync", json_callback(body.replace("HASHED", hmac_upper(SECRET_KEY, as_text))))


def test_json_number_5_00_signs_as_5_and_true_as_1() -> None:
    body = (
        '{"gateway":"tlync","approved":true,"amount":5.00,"invoice_no":"A1",'
        '"payment_method":"sadad","transaction_id":7,"hashed":"HASHED"}'
    )
    signed = "gateway=tlync&approved=1&amount=5&invoice_no=A1&payment_method=sadad&transaction_id=7"
    result = _verify("tlync", json_callback(body.replace("HASHED", hmac_upper(SECRET_KEY, signed))))
    assert result.is_paid
    assert result.amount == Money("5", "LYD")


def test_json_false_signs_as_0_and_is_failed() -> None:
    body = (
        '{"gateway":"tlync","approved":false,"amount":"5.00","invoice_no":"A1",'
        '"payment_method":"sadad","transaction_id":7,"hashed":"HASHED"}'
    )
    signed = (
        "gateway=tlync&approved=0&amount=5.00&invoice_no=A1&payment_method=sadad&transaction_id=7"
    )
    result = _verify("tlync", json_callback(body.replace("HASHED", hmac_upper(SECRET_KEY, signed))))
    assert result.status is PaymentStatus.FAILED


# -- nothing unverified is ever paid ------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
keys = st.sampled_from([*sorted(ALL_SIGNED_NAMES), "hashed", "paymet_method"]) | st.text(max_size=8)


@given(st.dictionaries(keys, json_values, max_size=10))
def test_arbitrary_json_callbacks_are_refused_cleanly(body: dict[str, Any]) -> None:
    with pytest.raises(VerificationError):
        _verify("tlync", json_callback(body))


@pytest.mark.parametrize("kind", ["localbankcards", "mpgs", "tlync_return"])
@given(pairs=st.lists(st.tuples(keys, st.text(max_size=12)), max_size=10))
def test_arbitrary_queries_are_refused_cleanly(kind: str, pairs: list[tuple[str, str]]) -> None:
    with pytest.raises(VerificationError):
        _verify(kind, Callback(query=php_query(pairs)))


@given(st.binary(max_size=40))
def test_arbitrary_json_bodies_are_refused_cleanly(body: bytes) -> None:
    with pytest.raises(VerificationError):
        _verify("tlync", Callback(method="POST", body=body))
