"""The signed browser return: properties of the signature check, and verify through the hub
(Get Order confirmation on and off, POST form and GET query)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from plural_support import (
    SECRET_KEY,
    FakePlural,
    config,
    invoice,
    return_callback,
    return_signature,
)

from payhub_core import (
    AmountMismatch,
    Callback,
    GatewayError,
    InvalidRequest,
    MalformedCallback,
    Money,
    OtpCode,
    PaymentStatus,
    SignatureError,
    UnsupportedOperation,
    VerificationError,
)
from payhub_core.flows import is_idempotent
from payhub_core.signing import sorted_query
from payhub_plural._returns import SignedReturn, verify_return

# -- strategies ----------------------------------------------------------------------------

order_ids = st.from_regex(r"[A-Za-z0-9_-]{1,50}", fullmatch=True)
statuses = st.sampled_from(["AUTHORIZED", "PROCESSED", "FAILED", "CANCELLED", "PENDING"])
error_codes = st.from_regex(r"[A-Z][A-Z_]{0,40}", fullmatch=True)
# Free text as a customer might see it: spaces, punctuation, '&', '=', '+', '%', non-ASCII.
messages = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=60)
keys = st.binary(min_size=1, max_size=64)


@st.composite
def returns(draw: st.DrawFn) -> dict[str, str]:
    fields = {
        "order_id": draw(order_ids),
        draw(st.sampled_from(["status", "payment_status"])): (draw(statuses)),
    }
    if draw(st.booleans()):
        fields["error_code"] = draw(error_codes)
        fields["error_message"] = draw(messages)
    return fields


def pairs_of(fields: dict[str, str], key: bytes) -> list[tuple[str, str]]:
    return [*fields.items(), ("signature", return_signature(fields, key.hex()))]


# -- properties ----------------------------------------------------------------------------


@given(
    returns(),
    keys,
    st.randoms(use_true_random=False),
    st.lists(st.tuples(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), messages), max_size=4),
)
def test_any_order_of_fields_gives_one_result(
    fields: dict[str, str], key: bytes, random: Any, unrelated: list[tuple[str, str]]
) -> None:
    """Received order does not matter, nor do parameters Plural does not sign (the
    merchant's own query on the return URL)."""
    unrelated = [
        (name, value)
        for name, value in unrelated
        if name
        not in ("order_id", "status", "payment_status", "error_code", "error_message", "signature")
    ]
    reference = verify_return(pairs_of(fields, key), key)
    shuffled = pairs_of(fields, key) + unrelated
    random.shuffle(shuffled)
    assert verify_return(shuffled, key) == reference
    assert reference.order_id == fields["order_id"]
    assert reference.fields == fields


@given(returns(), keys, st.data())
def test_any_changed_value_is_rejected(fields: dict[str, str], key: bytes, data: Any) -> None:
    name = data.draw(st.sampled_from(sorted(fields)))
    new = data.draw(messages if name == "error_message" else st.text(max_size=50))
    assume(new != fields[name])
    pairs = [(k, new if k == name else v) for k, v in pairs_of(fields, key)]
    with pytest.raises(VerificationError):
        verify_return(pairs, key)


@given(returns(), keys, st.data())
def test_any_added_removed_or_renamed_field_is_rejected(
    fields: dict[str, str], key: bytes, data: Any
) -> None:
    pairs = pairs_of(fields, key)
    change = data.draw(st.sampled_from(["add", "remove", "rename"]))
    if change == "add":
        missing = sorted({"error_code", "error_message"} - set(fields))
        assume(missing)
        pairs.insert(0, (data.draw(st.sampled_from(missing)), "X"))
    elif change == "remove":
        victim = data.draw(st.sampled_from(sorted(fields)))
        pairs = [(k, v) for k, v in pairs if k != victim]
    else:
        status_key = "status" if "status" in fields else "payment_status"
        other = "payment_status" if status_key == "status" else "status"
        pairs = [(other if k == status_key else k, v) for k, v in pairs]
    with pytest.raises(VerificationError):
        verify_return(pairs, key)


@given(returns(), keys, st.data())
def test_any_other_signature_or_key_is_rejected(
    fields: dict[str, str], key: bytes, data: Any
) -> None:
    good = return_signature(fields, key.hex())
    bad = data.draw(st.from_regex(r"[0-9A-F]{64}", fullmatch=True))
    assume(bad != good)
    with pytest.raises(SignatureError):
        verify_return([*fields.items(), ("signature", bad)], key)
    other_key = data.draw(keys)
    assume(other_key != key)
    with pytest.raises(SignatureError):
        verify_return(pairs_of(fields, key), other_key)


@given(returns(), keys, st.sampled_from(["GET", "POST"]))
def test_values_with_spaces_and_punctuation_survive_transport(
    fields: dict[str, str], key: bytes, method: str
) -> None:
    """Form- or query-encoded as a browser would, decoded by Callback, signed raw."""
    callback = return_callback(fields, key_hex=key.hex(), method=method)
    signed = verify_return(callback.params(), key)
    assert signed.fields == fields


@given(returns(), keys, st.sampled_from(["order_id", "status"]))
def test_free_text_cannot_stand_in_for_a_required_field(
    fields: dict[str, str], key: bytes, absorbed: str
) -> None:
    """``error_message`` is free text and sorts before ``order_id`` and ``status``: the
    canonical string of {error_message: "m&order_id=O", ...} equals that of
    {error_message: "m", order_id: "O", ...}. The signature alone cannot tell them apart;
    requiring ``order_id`` and a status after it does."""
    fields = {
        "order_id": fields["order_id"],
        "status": fields.get("status") or fields["payment_status"],
        "error_code": fields.get("error_code", "E"),
        "error_message": fields.get("error_message", "m"),
    }
    signature = return_signature(fields, key.hex())
    tail = [name for name in ("order_id", "status") if name <= absorbed]
    forged = {name: value for name, value in fields.items() if name not in tail}
    forged["error_message"] += "".join(f"&{name}={fields[name]}" for name in tail)
    assert sorted_query(forged) == sorted_query(fields)  # the strings do collide
    with pytest.raises(MalformedCallback):
        verify_return([*forged.items(), ("signature", signature)], key)


# -- example cases -------------------------------------------------------------------------


_FIELDS = {"order_id": "v1-1", "status": "PROCESSED"}
_GOOD = return_signature(_FIELDS)


@pytest.mark.parametrize(
    "signatures",
    [[], [_GOOD, _GOOD], [""], [f"{_GOOD[:32]} {_GOOD[32:]}"], [_GOOD[:-2]], [_GOOD + "00"]],
    ids=["missing", "twice", "empty", "spaced", "short", "long"],
)
def test_signature_problems_are_signature_errors(signatures: list[str]) -> None:
    pairs = [*_FIELDS.items(), *(("signature", value) for value in signatures)]
    with pytest.raises(SignatureError):
        verify_return(pairs, bytes.fromhex(SECRET_KEY))
    assert verify_return([*_FIELDS.items(), ("signature", _GOOD)], bytes.fromhex(SECRET_KEY))


def test_malformed_documented_fields() -> None:
    key = bytes.fromhex(SECRET_KEY)
    for fields in (
        {"status": "PROCESSED"},
        {"order_id": "v1-1"},
        {"order_id": "v1-1", "status": "PROCESSED", "payment_status": "FAILED"},
        {"order_id": "../etc", "status": "PROCESSED"},
    ):
        with pytest.raises(MalformedCallback):
            verify_return([*fields.items(), ("signature", return_signature(fields))], key)
    with pytest.raises(MalformedCallback, match="more than once"):
        verify_return([("order_id", "a"), ("order_id", "a"), ("status", "X")], key)


def test_status_and_payment_status_may_agree() -> None:
    fields = {"order_id": "v1-1", "status": "processed", "payment_status": "PROCESSED"}
    signed = verify_return(
        [*fields.items(), ("signature", return_signature(fields))], bytes.fromhex(SECRET_KEY)
    )
    assert signed == SignedReturn("v1-1", "PROCESSED", fields, True)


# -- through the hub -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_return_is_confirmed_with_get_order(payhub_hub_factory: Any, method: str) -> None:
    fake = FakePlural()
    order_id = fake.add_order(reference="INV-1001", value=1100, status="PROCESSED")
    hub, transport = payhub_hub_factory(config(), fake)
    # The return says FAILED; the order (the authority) says PROCESSED.
    callback = return_callback({"order_id": order_id, "status": "FAILED"}, method=method)
    result = hub.verify(callback, expected=invoice("INV-1001", "11.00"))
    assert result.status is PaymentStatus.PAID
    assert result.amount == Money("11.00", "INR")
    assert result.invoice_number == "INV-1001"
    assert result.reference == order_id
    assert result.transaction_id == f"{order_id}-cc-1"
    assert result.payment_method == "CARD"
    assert result.event_id is None
    assert [(r.method, r.path) for r in transport.requests] == [
        ("POST", "/api/auth/v1/token"),
        ("GET", f"/api/pay/v1/orders/{order_id}"),
    ]


def test_get_order_is_marked_idempotent(payhub_hub_factory: Any) -> None:
    fake = FakePlural()
    order_id = fake.add_order()
    seen: list[bool] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(is_idempotent(request))
        return fake(request)

    hub, _ = payhub_hub_factory(config(), handler)
    hub.verify(return_callback({"order_id": order_id, "status": "PROCESSED"}))
    assert seen == [True, True]  # token and Get Order


@pytest.mark.parametrize(
    ("field", "order_kwargs"),
    [("amount", {"value": 1000}), ("invoice_number", {"reference": "INV-9999"})],
)
def test_expected_invoice_mismatch(
    payhub_hub_factory: Any, field: str, order_kwargs: dict[str, Any]
) -> None:
    fake = FakePlural()
    order_id = fake.add_order(**{"reference": "INV-1001", "value": 1100, **order_kwargs})
    hub, _ = payhub_hub_factory(config(), fake)
    callback = return_callback({"order_id": order_id, "status": "PROCESSED"})
    with pytest.raises(AmountMismatch) as caught:
        hub.verify(callback, expected=invoice("INV-1001", "11.00"))
    assert caught.value.field == field


def test_unconfirmed_return_carries_no_amount(payhub_hub_factory: Any) -> None:
    hub, transport = payhub_hub_factory(
        config(confirm_with_get_order=False), lambda request: pytest.fail("sent")
    )
    callback = return_callback({"order_id": "v1-77", "status": "PROCESSED"})
    result = hub.verify(callback)
    assert (result.status, result.reference, result.amount) == (PaymentStatus.PAID, "v1-77", None)
    with pytest.raises(AmountMismatch, match="did not state"):
        hub.verify(callback, expected=invoice())
    assert transport.requests == []


def test_bad_signature_sends_nothing(payhub_hub_factory: Any) -> None:
    hub, transport = payhub_hub_factory(config(), FakePlural())
    fields = {"order_id": "v1-1", "status": "PROCESSED"}
    with pytest.raises(SignatureError):
        hub.verify(return_callback(fields, key_hex="00" * 16))
    with pytest.raises(SignatureError):
        hub.verify(Callback(method="GET", query=urlencode(fields)))
    assert transport.requests == []


def test_without_secret_key_the_order_is_the_only_authority(payhub_hub_factory: Any) -> None:
    fake = FakePlural()
    order_id = fake.add_order(status="AUTHORIZED", pre_auth=True)
    hub, transport = payhub_hub_factory(config(secret_key=None), fake)
    unsigned = Callback(method="GET", query=urlencode({"order_id": order_id, "status": "X"}))
    assert hub.verify(unsigned).status is PaymentStatus.AUTHORIZED
    assert transport.paths()[-1] == f"/api/pay/v1/orders/{order_id}"


def test_return_for_an_unknown_order(payhub_hub_factory: Any) -> None:
    hub, _ = payhub_hub_factory(config(), FakePlural())
    with pytest.raises(GatewayError) as caught:
        hub.verify(return_callback({"order_id": "v1-nope", "status": "PROCESSED"}))
    assert (caught.value.http_status, caught.value.code) == (404, "ORDER_NOT_FOUND")


def test_get_order_for_another_order_is_refused(payhub_hub_factory: Any) -> None:
    fake = FakePlural()
    order_id = fake.add_order()
    other = fake.add_order(reference="INV-2")
    fake.script("GET", order_id, lambda request: fake._data(fake.orders[other]))
    hub, _ = payhub_hub_factory(config(), fake)
    with pytest.raises(GatewayError, match="another order"):
        hub.verify(return_callback({"order_id": order_id, "status": "PROCESSED"}))


def test_otp_codes_are_not_a_plural_thing(payhub_hub_factory: Any) -> None:
    hub, transport = payhub_hub_factory(config(), FakePlural())
    with pytest.raises(InvalidRequest, match="OTP") as raised:
        hub.verify(OtpCode(reference="x", code="1234", invoice=invoice()))
    assert (raised.value.field, raised.value.rule) == ("evidence", "Callback")
    assert not isinstance(raised.value, UnsupportedOperation)
    assert transport.requests == []
