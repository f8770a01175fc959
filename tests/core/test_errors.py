"""The exception tree (docs/errors.md) and what each error carries."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import payhub_core
from payhub_core import (
    AdapterError,
    AdapterNotFound,
    AmountMismatch,
    ConfigurationError,
    FloatAmountError,
    GatewayError,
    GatewayUnavailable,
    InvalidMoney,
    InvalidRequest,
    MalformedCallback,
    PayhubError,
    SignatureError,
    UnsupportedOperation,
    VerificationError,
)

MASK = "**********"


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        (ConfigurationError, PayhubError),
        (AdapterNotFound, ConfigurationError),
        (InvalidRequest, PayhubError),
        (InvalidRequest, ValueError),
        (InvalidMoney, InvalidRequest),
        (FloatAmountError, InvalidMoney),
        (FloatAmountError, TypeError),
        (UnsupportedOperation, PayhubError),
        (VerificationError, PayhubError),
        (SignatureError, VerificationError),
        (AmountMismatch, VerificationError),
        (MalformedCallback, VerificationError),
        (GatewayError, PayhubError),
        (GatewayUnavailable, PayhubError),
        (AdapterError, PayhubError),
        (PayhubError, Exception),
    ],
    ids=lambda cls: cls.__name__,
)
def test_the_error_tree_follows_the_design(child: type, parent: type) -> None:
    assert issubclass(child, parent)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (GatewayError, GatewayUnavailable),
        (VerificationError, GatewayError),
        (InvalidRequest, VerificationError),
        (ConfigurationError, InvalidRequest),
        (SignatureError, AmountMismatch),
    ],
    ids=lambda cls: cls.__name__,
)
def test_sibling_branches_are_distinct(one: type, other: type) -> None:
    assert not issubclass(one, other)
    assert not issubclass(other, one)


def test_a_verification_error_is_not_a_value_error() -> None:
    # `except ValueError` around a bad amount must never swallow a forged signature.
    assert not issubclass(VerificationError, ValueError)


def test_every_error_class_is_exported_from_the_package() -> None:
    errors = {
        name
        for name in payhub_core.__all__
        if isinstance(getattr(payhub_core, name), type)
        and issubclass(getattr(payhub_core, name), BaseException)
    }
    assert errors == {
        "PayhubError",
        "ConfigurationError",
        "AdapterNotFound",
        "InvalidRequest",
        "InvalidMoney",
        "FloatAmountError",
        "UnsupportedOperation",
        "VerificationError",
        "SignatureError",
        "AmountMismatch",
        "MalformedCallback",
        "GatewayError",
        "GatewayUnavailable",
        "ResponseTooLarge",
        "AdapterError",
        "LedgerError",
        "LedgerUnavailable",
        "PaymentNotFound",
        "OperationBlocked",
        "InvoiceConflict",
    }


EXAMPLES: list[tuple[type[PayhubError], dict[str, Any]]] = [
    (PayhubError, {}),
    (ConfigurationError, {}),
    (AdapterNotFound, {"name": "plutu.sadad", "installed": ["plural.checkout"]}),
    (InvalidRequest, {"field": "amount", "rule": "positive"}),
    (InvalidMoney, {"field": "currency", "rule": "ISO 4217"}),
    (FloatAmountError, {"field": "amount"}),
    (UnsupportedOperation, {}),
    (VerificationError, {}),
    (SignatureError, {}),
    (AmountMismatch, {"field": "amount", "expected_value": "5.00", "actual_value": "4.00"}),
    (MalformedCallback, {}),
    (GatewayError, {"http_status": 400, "code": "INVALID_MOBILE", "gateway_message": "bad"}),
    (GatewayUnavailable, {"outcome_unknown": True, "http_status": 503}),
    (AdapterError, {}),
]


@pytest.mark.parametrize(("cls", "kwargs"), EXAMPLES, ids=lambda v: getattr(v, "__name__", ""))
def test_every_error_carries_gateway_operation_and_request_id(
    cls: type[PayhubError], kwargs: dict[str, Any]
) -> None:
    error = cls("it went wrong", **kwargs)
    assert error.message == "it went wrong"
    assert error.gateway is None
    assert error.request_id is None
    error.with_context(gateway="cards", operation="initiate", request_id="req-1")
    assert error.gateway == "cards"
    assert error.request_id == "req-1"
    assert error.operation == ("verify" if cls is AmountMismatch else "initiate")
    text = str(error)
    assert "it went wrong" in text
    assert "'cards'" in text
    assert "req-1" in text


def test_str_is_the_bare_message_without_context() -> None:
    assert str(PayhubError("plain")) == "plain"


def test_with_context_never_overwrites_what_the_raiser_said() -> None:
    error = GatewayError("refused", gateway="india", operation="refund")
    returned = error.with_context(gateway="cards", operation="initiate", request_id="r-9")
    assert returned is error
    assert (error.gateway, error.operation, error.request_id) == ("india", "refund", "r-9")


def test_constructor_context_is_kept() -> None:
    error = InvalidRequest(
        "bad", field="customer.mobile", rule="Libyan mobile", gateway="cards", operation="initiate"
    )
    assert (error.field, error.rule, error.gateway, error.operation) == (
        "customer.mobile",
        "Libyan mobile",
        "cards",
        "initiate",
    )
    assert "operation='initiate'" in str(error)


def test_gateway_errors_carry_status_code_and_message() -> None:
    error = GatewayError(
        "refused", http_status=422, code="INVALID_AMOUNT", gateway_message="Amount too small"
    )
    assert (error.http_status, error.code, error.gateway_message) == (
        422,
        "INVALID_AMOUNT",
        "Amount too small",
    )
    down = GatewayUnavailable("timed out; the outcome is unknown", outcome_unknown=True)
    assert down.outcome_unknown is True
    assert down.http_status is None


def test_amount_mismatch_carries_both_values() -> None:
    error = AmountMismatch(
        "paid amount differs",
        field="amount",
        expected_value="5.00 LYD",
        actual_value="4.00 LYD",
        gateway="cards",
    )
    assert (error.field, error.expected_value, error.actual_value) == (
        "amount",
        "5.00 LYD",
        "4.00 LYD",
    )
    assert error.operation == "verify"
    assert error.gateway == "cards"


def test_adapter_not_found_lists_what_is_installed() -> None:
    error = AdapterNotFound("no adapter", name="x", installed=iter(["a", "b"]))
    assert error.name == "x"
    assert error.installed == ("a", "b")


def test_errors_can_be_raised_and_caught_by_their_parents() -> None:
    with pytest.raises(VerificationError):
        raise SignatureError("forged")
    with pytest.raises(TypeError):
        raise FloatAmountError("float", field="amount")


# -- scrub ---------------------------------------------------------------------------------


def test_scrub_removes_a_secret_from_message_str_and_args() -> None:
    error = GatewayError("bad key sk_live_123 for sk_live_123", gateway="cards")
    returned = error.scrub(["sk_live_123"])
    assert returned is error
    assert "sk_live_123" not in str(error)
    assert "sk_live_123" not in error.message
    assert "sk_live_123" not in repr(error.args)
    assert error.message == f"bad key {MASK} for {MASK}"


def test_scrub_removes_a_secret_from_the_gateway_message_too() -> None:
    error = GatewayError("refused", gateway_message="token tok_999 is not valid", code="AUTH")
    error.scrub(["tok_999"])
    assert "tok_999" not in (error.gateway_message or "")


def test_scrub_masks_a_longer_secret_whole_before_a_shorter_one_inside_it() -> None:
    error = PayhubError("key=abcdef;")
    error.scrub(["cd", "abcdef"])
    assert error.message == f"key={MASK};"


def test_scrub_ignores_empty_secrets() -> None:
    error = PayhubError("nothing to hide")
    error.scrub(["", ""])
    assert error.message == "nothing to hide"


@given(
    before=st.text(),
    after=st.text(),
    # short digits-only secrets (a CVV) are hidden only where they stand alone: see
    # test_redaction.py::test_a_digits_only_secret_is_hidden_only_where_it_stands_alone
    secrets=st.lists(
        st.text(min_size=1).filter(
            lambda s: "*" not in s and not (s.isascii() and s.isdigit() and len(s) < 6)
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_scrub_leaves_no_secret_in_the_message(before: str, after: str, secrets: list[str]) -> None:
    error = PayhubError(before + secrets[0] + after + "".join(secrets))
    error.scrub(secrets)
    for secret in secrets:
        assert secret not in error.message
        assert secret not in str(error)
