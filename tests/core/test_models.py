"""The shared models: contract fields, strictness, secrets, Callback."""

from __future__ import annotations

import json
import traceback
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import BaseModel, SecretStr

from payhub_core import (
    Callback,
    Capabilities,
    Card,
    Checkout,
    Customer,
    FloatAmountError,
    InvalidRequest,
    Invoice,
    MalformedCallback,
    Money,
    Netbanking,
    OtpChallenge,
    OtpCode,
    PaymentResult,
    PaymentStatus,
    Redirect,
    Upi,
)
from payhub_core.signing import http_build_query

CARD_NUMBER = "4111111111111111"
CANARY = "sk_live_Canary7731"

_MISSING = object()


def _invoice(**changes: Any) -> Invoice:
    fields: dict[str, Any] = {"number": "INV-1001", "amount": Money("25.50", "LYD")}
    fields.update(changes)
    return Invoice(**fields)


def _card(**changes: Any) -> Card:
    fields: dict[str, Any] = {
        "number": CARD_NUMBER,
        "cvv": "123",
        "expiry_month": 12,
        "expiry_year": 2030,
    }
    fields.update(changes)
    return Card(**fields)


# -- the contract fields -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "contract"),
    [
        (
            Invoice,
            {
                "number": _MISSING,
                "amount": _MISSING,
                "return_url": None,
                "callback_url": None,
                "customer": None,
                "lang": None,
                "description": None,
                "metadata": {},
                "capture": "automatic",
                "payment_method": None,
            },
        ),
        (
            Customer,
            {
                "mobile": None,
                "email": None,
                "first_name": None,
                "last_name": None,
                "birth_year": None,
                "ip": None,
            },
        ),
        (Redirect, {"url": _MISSING}),
        (OtpChallenge, {"reference": _MISSING, "message": None}),
        (Callback, {"method": "GET", "query": "", "headers": {}, "body": b""}),
        (OtpCode, {"reference": _MISSING, "code": _MISSING, "invoice": _MISSING}),
        (
            PaymentResult,
            {
                "status": _MISSING,
                "reference": _MISSING,
                "invoice_number": None,
                "amount": None,
                "transaction_id": None,
            },
        ),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else "",
)
def test_contract_fields_exist_with_their_defaults(
    model: type[BaseModel], contract: dict[str, Any]
) -> None:
    fields = model.model_fields
    for name, default in contract.items():
        assert name in fields, name
        if default is _MISSING:
            assert fields[name].is_required(), name
        else:
            assert not fields[name].is_required(), name
            assert fields[name].get_default(call_default_factory=True) == default, name


@pytest.mark.parametrize(
    ("model", "names"),
    [
        (Checkout, {"gateway", "reference", "action", "status", "raw"}),
        (
            PaymentResult,
            {"gateway", "status", "invoice_number", "amount", "reference", "transaction_id", "raw"},
        ),
        (Capabilities, {"currencies", "operations", "flows", "amount_decimals"}),
    ],
    ids=["Checkout", "PaymentResult", "Capabilities"],
)
def test_contract_field_names_exist(model: type[BaseModel], names: set[str]) -> None:
    assert names <= set(model.model_fields)


def test_payment_status_has_exactly_the_contract_values() -> None:
    assert {status.value for status in PaymentStatus} == {
        "pending",
        "authorized",
        "paid",
        "canceled",
        "failed",
        "partially_refunded",
        "refunded",
    }
    assert str(PaymentStatus.PAID) == "paid"
    assert PaymentStatus("refunded") is PaymentStatus.REFUNDED


def test_checkout_action_is_a_redirect_an_otp_challenge_or_none() -> None:
    assert Checkout(reference="r", action=Redirect(url="https://pay.example/x")).action == Redirect(
        url="https://pay.example/x"
    )
    assert isinstance(
        Checkout(reference="r", action={"reference": "o", "message": "sent"}).action, OtpChallenge
    )
    assert Checkout(reference="r").action is None
    assert Checkout(reference="r").status is PaymentStatus.PENDING


def test_payment_result_is_paid_only_when_paid() -> None:
    assert PaymentResult(status=PaymentStatus.PAID, reference="r").is_paid
    assert not PaymentResult(status="authorized", reference="r").is_paid


def test_capabilities_supports_names_the_declared_operations() -> None:
    caps = Capabilities(currencies={"LYD"}, operations={"initiate", "verify"})
    assert caps.supports("verify")
    assert not caps.supports("refund")
    with pytest.raises(InvalidRequest) as caught:
        Capabilities(currencies={"LYD"}, operations={"teleport"})
    assert caught.value.field.startswith("operations")


@pytest.mark.parametrize("capture", ["automatic", "manual"])
def test_invoice_capture_is_automatic_or_manual(capture: str) -> None:
    assert _invoice(capture=capture).capture == capture


def test_invoice_capture_refuses_anything_else() -> None:
    with pytest.raises(InvalidRequest) as caught:
        _invoice(capture="later")
    assert caught.value.field == "capture"


def test_invoice_payment_method_accepts_the_tagged_methods_and_free_text() -> None:
    assert isinstance(_invoice(payment_method={"kind": "upi", "vpa": "a@b"}).payment_method, Upi)
    assert isinstance(
        _invoice(payment_method={"kind": "netbanking", "bank_code": "HDFC"}).payment_method,
        Netbanking,
    )
    assert isinstance(_invoice(payment_method=_card()).payment_method, Card)
    assert _invoice(payment_method="mobicash").payment_method == "mobicash"


# -- frozen and strict ---------------------------------------------------------------------


def test_models_are_frozen() -> None:
    invoice = _invoice()
    with pytest.raises((AttributeError, TypeError, ValueError)):
        invoice.number = "INV-2"  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError, ValueError)):
        del invoice.number
    assert invoice.number == "INV-1001"


def test_assigning_a_secret_to_a_frozen_model_does_not_echo_it() -> None:
    card = _card()
    with pytest.raises((AttributeError, TypeError, ValueError)) as caught:
        card.holder_name = CANARY  # type: ignore[misc]
    assert CANARY not in str(caught.value)
    assert CANARY not in "".join(traceback.format_exception(caught.value))


@pytest.mark.parametrize(
    "build",
    [
        lambda: _invoice(colour="red"),
        lambda: Customer(nickname="x"),
        lambda: Callback(cookies="x"),
        lambda: Invoice.model_validate(
            {"number": "1", "amount": {"amount": "1", "currency": "USD"}, "colour": "red"}
        ),
        lambda: Invoice.model_validate_json(
            '{"number": "1", "amount": {"amount": "1", "currency": "USD"}, "colour": "red"}'
        ),
    ],
    ids=["Invoice", "Customer", "Callback", "model_validate", "model_validate_json"],
)
def test_unknown_fields_are_refused_as_invalid_request(build: Any) -> None:
    with pytest.raises(InvalidRequest) as caught:
        build()
    assert caught.value.field in {"colour", "nickname", "cookies"}


def test_model_validate_errors_are_invalid_request_naming_the_field() -> None:
    with pytest.raises(InvalidRequest) as caught:
        Invoice.model_validate({"number": " padded", "amount": {"amount": "1", "currency": "USD"}})
    assert caught.value.field == "number"


def test_a_nested_error_names_the_full_path() -> None:
    with pytest.raises(InvalidRequest) as caught:
        _invoice(customer={"ip": "not an address"})
    assert caught.value.field == "customer.ip"


def test_a_nested_float_amount_is_still_a_type_error() -> None:
    with pytest.raises(FloatAmountError):
        PaymentResult(status="paid", reference="r", amount={"amount": 1.5, "currency": "USD"})
    with pytest.raises(FloatAmountError):
        Capabilities(currencies={"USD"}, operations=set(), min_amount=(0.5,))


# -- errors never echo values --------------------------------------------------------------


def _error_text(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)) + repr(error) + repr(error.args)


@pytest.mark.parametrize(
    "build",
    [
        lambda: _card(cvv=CARD_NUMBER),
        lambda: _card(number=CARD_NUMBER + "X"),
        lambda: _card(number=CANARY),
        lambda: Customer(ip=CANARY),
        lambda: Customer(email=f" {CANARY}"),
        lambda: Customer(birth_year=CANARY),
        lambda: _invoice(number=f"{CANARY} "),
        lambda: _invoice(return_url=f"ftp://{CANARY}.example/"),
        lambda: _invoice(payment_method={"kind": CANARY}),
        lambda: _invoice(payment_method={"kind": "card", "number": CANARY, "cvv": "1"}),
        lambda: _invoice(capture=CANARY),
        lambda: _invoice(amount={"amount": CANARY, "currency": "USD"}),
        lambda: _invoice(amount={"amount": "1", "currency": CANARY}),
        lambda: _invoice(metadata={"k": [CANARY]}),
        lambda: OtpCode(reference="r", code=CANARY, invoice=None),
        lambda: Checkout(reference="r", status=CANARY),
        lambda: Invoice.model_validate_json(json.dumps({"number": 5, "amount": CANARY})),
    ],
)
def test_construction_errors_never_echo_the_value(build: Any) -> None:
    with pytest.raises(InvalidRequest) as caught:
        build()
    assert caught.value.field
    text = _error_text(caught.value)
    assert CANARY not in text
    assert CARD_NUMBER not in text


@given(
    secret=st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=10),
    field=st.sampled_from(["ip", "email", "birth_year", "mobile"]),
)
def test_no_invalid_customer_field_is_echoed(secret: str, field: str) -> None:
    def error_text(text: str) -> str:
        value: Any = {
            "ip": text,
            "email": f" {text} ",
            "birth_year": f"{text}!",
            "mobile": [text],
        }[field]
        with pytest.raises(InvalidRequest) as caught:
            Customer(**{field: value})
        assert caught.value.field.startswith(field)
        return _error_text(caught.value)

    # A "secret" that is a word of the message anyway ("InvalidRequest") proves nothing.
    assume(secret not in error_text(CANARY))
    assert secret not in error_text(secret)


# -- secrets -------------------------------------------------------------------------------


def test_card_secrets_are_secret_str_and_masked_everywhere() -> None:
    card = _card(cvv="9876")
    assert isinstance(card.number, SecretStr)
    assert card.number.get_secret_value() == CARD_NUMBER
    assert card.last4 == "1111"
    invoice = _invoice(payment_method=card)
    for text in (
        repr(card),
        str(card),
        card.model_dump_json(),
        json.dumps(card.model_dump(mode="json")),
        repr(invoice),
        str(invoice),
        invoice.model_dump_json(),
    ):
        assert CARD_NUMBER not in text
        assert "9876" not in text
        assert "**********" in text


def test_card_number_spaces_are_removed() -> None:
    assert _card(number="4111 1111 1111 1111").number.get_secret_value() == CARD_NUMBER


@pytest.mark.parametrize(
    "number",
    [
        "١١١١١١١١١١١١١١١١",  # ARABIC-INDIC digits: str.isdigit() says yes
        "４１１１１１１１１１１１１１１１",  # FULLWIDTH digits
        "4111111111111²",  # SUPERSCRIPT TWO
        "41111111111",  # 11 digits
        "41111111111111111111",  # 20 digits
    ],
)
def test_card_number_must_be_12_to_19_ascii_digits(number: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        _card(number=number)
    assert caught.value.field == "number"


@pytest.mark.parametrize("cvv", ["12", "12345", "١٢٣", "12a"])
def test_cvv_must_be_3_or_4_ascii_digits(cvv: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        _card(cvv=cvv)
    assert caught.value.field == "cvv"


def test_otp_code_is_masked_everywhere() -> None:
    otp = OtpCode(reference="ref-1", code="482913", invoice=_invoice())
    assert otp.code.get_secret_value() == "482913"
    for text in (repr(otp), str(otp), otp.model_dump_json()):
        assert "482913" not in text


# -- Callback: raw query and body kept exactly ----------------------------------------------


def test_callback_keeps_the_query_string_exactly() -> None:
    raw = "b=2&a=1&a=3&x=%7e~+%20&empty=&flag&%C3%A9=%e2%82%AC"
    assert Callback(query=raw).query == raw


def test_callback_takes_a_bytes_query_as_flask_gives_it() -> None:
    assert Callback(query=b"a=1&b=%C3%A9").query == "a=1&b=%C3%A9"
    assert Callback(query=bytearray(b"a=1")).query == "a=1"


@pytest.mark.parametrize("query", ["?a=1&b=2", b"?a=1&b=2"])
def test_callback_drops_a_leading_question_mark(query: str | bytes) -> None:
    assert Callback(query=query).query == "a=1&b=2"


def test_callback_keeps_the_body_bytes_exactly() -> None:
    body = b'{"a": 1}\r\n\xff\x00 '
    assert Callback(method="POST", body=body).body == body
    assert Callback(method="POST", body="é").body == "é".encode()


def test_callback_method_is_upper_case() -> None:
    assert Callback(method="post").method == "POST"


def test_query_params_keep_order_repeats_and_blanks() -> None:
    callback = Callback(query="b=2&a=1&a=3&empty=&flag&sp=a+b%20c&e=%C3%A9")
    assert callback.query_params() == [
        ("b", "2"),
        ("a", "1"),
        ("a", "3"),
        ("empty", ""),
        ("flag", ""),
        ("sp", "a b c"),
        ("e", "é"),
    ]


@given(
    pairs=st.lists(st.tuples(st.text(), st.text()), max_size=8),
    leading=st.sampled_from(["", "?"]),
    as_bytes=st.booleans(),
)
def test_query_params_give_back_any_encoded_pairs(
    pairs: list[tuple[str, str]], leading: str, as_bytes: bool
) -> None:
    query = leading + http_build_query(pairs)
    callback = Callback(query=query.encode("ascii") if as_bytes else query)
    assert callback.query_params() == pairs
    assert callback.params() == pairs


@given(st.lists(st.tuples(st.text(), st.text()), max_size=8))
def test_form_gives_back_any_encoded_pairs(pairs: list[tuple[str, str]]) -> None:
    body = http_build_query(pairs).encode("ascii")
    callback = Callback(
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
        body=body,
    )
    assert callback.form() == pairs
    assert callback.params() == pairs
    assert callback.body == body


def test_params_are_query_then_form_fields_in_received_order() -> None:
    callback = Callback(
        method="POST",
        query="q=1&z=2",
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=b"order_id=o-1&status=AUTHORIZED&q=3",
    )
    assert callback.params() == [
        ("q", "1"),
        ("z", "2"),
        ("order_id", "o-1"),
        ("status", "AUTHORIZED"),
        ("q", "3"),
    ]


def test_params_leave_a_json_body_out() -> None:
    callback = Callback(
        method="POST", query="a=1", headers={"Content-Type": "application/json"}, body=b'{"b": 2}'
    )
    assert callback.params() == [("a", "1")]


@pytest.mark.parametrize(
    "query",
    ["a=%FF", "a=%C3", "%ED%A0%80=1", "a=%C0%AF", b"a=\xff", b"a=\xc3\x28", b"\xe9=1"],
)
def test_invalid_percent_encoded_utf8_in_the_query_is_malformed(query: str | bytes) -> None:
    with pytest.raises(MalformedCallback):
        Callback(query=query).query_params()


@pytest.mark.parametrize("body", [b"a=%FF", b"a=\xff", b"\xc3=1"])
def test_invalid_utf8_in_a_form_body_is_malformed(body: bytes) -> None:
    callback = Callback(
        method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}, body=body
    )
    with pytest.raises(MalformedCallback):
        callback.form()
    with pytest.raises(MalformedCallback):
        callback.params()


def test_json_keeps_key_order_and_uses_decimal_for_fractions() -> None:
    callback = Callback(
        method="POST",
        body=b'{"z": 1, "amount": 6.01, "a": [5.00, 1e2, -0.0], "big": 12345678901234567890}',
    )
    data = callback.json()
    assert list(data) == ["z", "amount", "a", "big"]
    assert data["amount"] == Decimal("6.01")
    assert isinstance(data["amount"], Decimal)
    assert data["a"][0].as_tuple() == Decimal("5.00").as_tuple()
    assert data["a"][1] == Decimal(100)
    assert isinstance(data["z"], int)
    assert data["big"] == 12345678901234567890


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=15,
)


def _floats_in(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, list):
        return [f for item in value for f in _floats_in(item)]
    if isinstance(value, dict):
        return [f for item in value.values() for f in _floats_in(item)]
    return []


@given(_json_values)
def test_json_never_produces_a_float(value: Any) -> None:
    parsed = Callback(method="POST", body=json.dumps(value).encode()).json()
    assert _floats_in(parsed) == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"{'a': 1}",
        b"\xff\xfe{",
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b"[-Infinity]",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a": "\\ud800"}',
        b'{"\\udc00": 1}',
    ],
    ids=[
        "empty",
        "truncated",
        "single-quotes",
        "bad-bytes",
        "nan",
        "infinity",
        "minus-infinity",
        "deeply-nested",
        "lone-surrogate-value",
        "lone-surrogate-key",
    ],
)
def test_malformed_json_is_a_malformed_callback(body: bytes) -> None:
    with pytest.raises(MalformedCallback):
        Callback(method="POST", body=body).json()


def test_json_accepts_a_surrogate_pair_escape() -> None:
    assert Callback(body=b'{"e": "\\ud83d\\ude00"}').json() == {"e": "\U0001f600"}


def test_header_lookup_ignores_case() -> None:
    callback = Callback(headers={"Webhook-Signature": "v1,x", "content-type": "text/plain"})
    assert callback.header("webhook-signature") == "v1,x"
    assert callback.header("WEBHOOK-SIGNATURE") == "v1,x"
    assert callback.header("Content-Type") == "text/plain"
    assert callback.header("missing") is None
    assert callback.content_type == "text/plain"


def test_content_type_drops_parameters_and_case() -> None:
    callback = Callback(
        headers={"Content-Type": "Application/X-WWW-Form-Urlencoded; charset=UTF-8"}
    )
    assert callback.content_type == "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    "name",
    ["Authorization", "authorization", "Cookie", "Set-Cookie", "X-Api-Key", "Proxy-Authorization"],
)
def test_callback_repr_hides_credential_headers(name: str) -> None:
    callback = Callback(headers={name: f"Bearer {CANARY}", "X-Trace": "visible-trace"})
    for text in (repr(callback), str(callback)):
        assert CANARY not in text
        assert "visible-trace" in text
    assert callback.header(name) == f"Bearer {CANARY}"


def test_callback_repr_shows_the_body_size_not_the_body() -> None:
    callback = Callback(method="POST", body=f"card={CARD_NUMBER}".encode())
    assert CARD_NUMBER not in repr(callback)
    assert f"{len(callback.body)} bytes" in repr(callback)


@given(
    query=st.text(),
    body=st.binary(),
    headers=st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=20), max_size=3),
)
def test_callback_survives_a_json_round_trip_byte_for_byte(
    query: str, body: bytes, headers: dict[str, str]
) -> None:
    callback = Callback(method="POST", query=query.lstrip("?"), headers=headers, body=body)
    restored = Callback.model_validate_json(callback.model_dump_json())
    assert restored.body == body
    assert restored.query == callback.query
    assert restored == callback


def test_callback_validation_is_idempotent() -> None:
    callback = Callback(query="??a=1")
    assert Callback.model_validate(callback.model_dump()) == callback
    assert Callback.model_validate_json(callback.model_dump_json()) == callback


# -- Invoice rules -------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [Money("0", "LYD"), Money("-1", "LYD"), Money("-0.001", "LYD")])
def test_invoice_amount_must_be_positive(amount: Money) -> None:
    with pytest.raises(InvalidRequest) as caught:
        _invoice(amount=amount)
    assert caught.value.field == "amount"


@pytest.mark.parametrize(
    "url",
    [
        "/payhub/return",
        "shop.example/return",
        "ftp://shop.example/return",
        "javascript:alert(1)",
        "https://",
        "https:///path",
        "mailto:a@shop.example",
        " https://shop.example/return",
        "https://shop.example/return ",
        "https://shop.example/re turn",
        "https://shop.example/return\n",
        "https://shop.example/\x00",
        "https://[::1/",
        "",
    ],
)
@pytest.mark.parametrize("field", ["return_url", "callback_url"])
def test_invoice_urls_must_be_absolute_http_urls(field: str, url: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        _invoice(**{field: url})
    assert caught.value.field == field


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example/payhub/return?order=1&x=%20",
        "http://localhost:8000/return",
        "HTTPS://SHOP.EXAMPLE/",
        "https://[::1]:8443/r",
        "https://xn--mgbh0fb.example/عودة",
    ],
)
def test_invoice_urls_are_kept_exactly(url: str) -> None:
    assert _invoice(return_url=url).return_url == url
    assert _invoice(callback_url=url).callback_url == url


@pytest.mark.parametrize("number", ["", " INV-1", "INV-1 ", "INV-1\t", "\u00a0INV", "x" * 101])
def test_invoice_number_is_1_to_100_characters_without_padding(number: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        _invoice(number=number)
    assert caught.value.field == "number"


def test_invoice_number_may_hold_inner_spaces_and_any_script() -> None:
    assert _invoice(number="INV 1001/فاتورة").number == "INV 1001/فاتورة"
    assert _invoice(number="x" * 100).number == "x" * 100


@pytest.mark.parametrize("ip", ["203.0.113.5", "2001:db8::1"])
def test_customer_ip_accepts_v4_and_v6(ip: str) -> None:
    assert Customer(ip=ip).ip == ip


@pytest.mark.parametrize("email", ["no-at-sign", " padded@shop.example", "x@y.example\n"])
def test_customer_email_must_look_like_an_email(email: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        Customer(email=email)
    assert caught.value.field == "email"
