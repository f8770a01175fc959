"""What Plutu's adapters say about evidence that is not theirs, and how they read
``approved`` (PHP's loose ``== 1`` on the value the signature was computed over).

- Evidence of the wrong kind (an ``OtpCode`` to a redirect service, a ``Callback`` to an
  OTP wallet) is ``InvalidRequest`` naming ``evidence``, and nothing is sent: the same rule
  as Plural's adapters (docs/decisions.md).
- Evidence of another adapter (a Plural return or webhook, another Plutu service's signed
  return) says it does not belong to this gateway, rather than "no signature".
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from plutu_support import (
    ADAPTERS,
    OTP_ADAPTERS,
    REDIRECT_ADAPTERS,
    SECRET_KEY,
    FakePlutu,
    all_gateways_config,
    config,
    hmac_upper,
    invoice,
    json_callback,
    php_query,
    return_to,
)

from payhub_core import (
    Callback,
    InvalidRequest,
    MalformedCallback,
    OtpCode,
    PaymentStatus,
    SignatureError,
    VerificationError,
)

# -- evidence of the wrong kind ---------------------------------------------------------------


@pytest.mark.parametrize("adapter", REDIRECT_ADAPTERS)
def test_an_otp_code_to_a_redirect_service_is_an_invalid_request(
    adapter: str, payhub_hub_factory: Any
) -> None:
    hub, transport = payhub_hub_factory(config(adapter), FakePlutu())
    with pytest.raises(InvalidRequest) as raised:
        hub.verify(OtpCode(reference="123", code="1111", invoice=invoice()))
    assert raised.value.field == "evidence"
    assert raised.value.rule == "Callback"
    assert raised.value.gateway == "plutu"
    assert transport.requests == []


@pytest.mark.parametrize("adapter", OTP_ADAPTERS)
def test_a_callback_to_an_otp_wallet_is_an_invalid_request(
    adapter: str, payhub_hub_factory: Any
) -> None:
    hub, transport = payhub_hub_factory(config(adapter), FakePlutu())
    with pytest.raises(InvalidRequest) as raised:
        hub.verify(Callback(query="approved=1&invoice_no=A1&hashed=AB"))
    assert raised.value.field == "evidence"
    assert raised.value.rule == "OtpCode"
    assert transport.requests == []


@pytest.mark.anyio
async def test_wrong_kind_is_the_same_error_in_the_async_hub(
    payhub_async_hub_factory: Any,
) -> None:
    hub, _ = payhub_async_hub_factory(config("plutu.mpgs"), FakePlutu())
    async with hub:
        with pytest.raises(InvalidRequest) as raised:
            await hub.verify(OtpCode(reference="123", code="1111", invoice=invoice("USD")))
    assert raised.value.field == "evidence"


# -- evidence of another adapter --------------------------------------------------------------

PLURAL_RETURN = Callback(
    method="POST",
    body=b"order_id=v1-250101-abc&status=PROCESSED&signature=" + b"A1" * 32,
    headers={"Content-Type": "application/x-www-form-urlencoded"},
)
PLURAL_RETURN_GET = Callback(query="order_id=v1-250101-abc&status=PROCESSED&signature=" + "A1" * 32)
PLURAL_WEBHOOK = Callback(
    method="POST",
    headers={
        "Content-Type": "application/json",
        "webhook-id": "msg_1",
        "webhook-timestamp": "1700000000",
        "webhook-signature": "v1,AAAA",
    },
    body=json.dumps({"event_type": "ORDER_PROCESSED", "data": {"order_id": "v1-1"}}).encode(),
)


@pytest.mark.parametrize("adapter", REDIRECT_ADAPTERS)
@pytest.mark.parametrize(
    "evidence", [PLURAL_RETURN_GET, PLURAL_WEBHOOK], ids=["plural-return", "plural-webhook"]
)
def test_another_adapters_callback_is_said_not_to_belong_here(
    adapter: str, evidence: Callback, payhub_hub_factory: Any
) -> None:
    hub, transport = payhub_hub_factory(config(adapter), FakePlutu())
    with pytest.raises(MalformedCallback) as raised:
        hub.verify(evidence)
    message = str(raised.value)
    assert "does not belong to this gateway" in message
    assert "another adapter" in message
    assert "no signature" not in message
    assert not isinstance(raised.value, SignatureError)
    assert transport.requests == []


def test_a_plural_return_posted_to_tlync_does_not_belong_there(payhub_hub_factory: Any) -> None:
    hub, _ = payhub_hub_factory(config("plutu.tlync"), FakePlutu())
    with pytest.raises(MalformedCallback, match="does not belong to this gateway"):
        hub.verify(PLURAL_RETURN)


@pytest.mark.parametrize(
    ("signed_by", "given_to", "named"),
    [
        ("localbankcards", "mpgs", "Local Bank Cards (plutu.localbankcards)"),
        ("mpgs", "localbankcards", "MPGS (plutu.mpgs)"),
    ],
)
def test_another_plutu_services_return_names_that_service(
    signed_by: str, given_to: str, named: str, payhub_hub_factory: Any
) -> None:
    pairs = [("gateway", signed_by), ("approved", "1"), ("invoice_no", "A1"),
             ("amount", "5.00"), ("transaction_id", "9")]  # fmt: skip
    evidence = return_to("https://shop.example.ly/r", pairs, SECRET_KEY, signed_by)
    hub, _ = payhub_hub_factory(all_gateways_config(), FakePlutu())
    with pytest.raises(MalformedCallback) as raised:
        hub.verify(evidence, gateway=given_to)
    assert "does not belong to this gateway" in str(raised.value)
    assert named in str(raised.value)


def test_a_plutu_return_without_its_signature_is_still_a_signature_error(
    payhub_hub_factory: Any,
) -> None:
    """Recognisably Plutu's (its fields), unsigned: that is a signature problem, not a
    misrouted callback."""
    hub, _ = payhub_hub_factory(config("plutu.localbankcards"), FakePlutu())
    with pytest.raises(SignatureError, match="no 'hashed'"):
        hub.verify(Callback(query="gateway=localbankcards&approved=1&invoice_no=A1"))


# -- approved, read as PHP reads it ----------------------------------------------------------

TLYNC_TAIL = [("invoice_no", "A1"), ("amount", "5.00"), ("transaction_id", "9"),
              ("payment_method", "sadad")]  # fmt: skip

# (JSON text of "approved", how http_build_query writes PHP's json_decode value, PHP 8's
# `$approved == 1`)
PHP_APPROVED = [
    ("1", "1", True),
    ("true", "1", True),
    ("1.0", "1", True),
    ("1e0", "1", True),
    ("10E-1", "1", True),
    ("1.0000000000000001", "1", True),  # the double 1.0
    ('"1"', "1", True),
    ('"1.0"', "1.0", True),
    ('"01"', "01", True),
    ('"+1"', "+1", True),
    ('" 1"', " 1", True),  # leading white space: numeric in PHP 8
    ('"1 "', "1 ", True),  # trailing white space: numeric in PHP 8
    ('"1e0"', "1e0", True),
    ('"1.0000000000000001"', "1.0000000000000001", True),
    ("0", "0", False),
    ("false", "0", False),
    ("2", "2", False),
    ("-1", "-1", False),
    ("0.1", "0.1", False),
    ("1.000000000000001", "1", False),  # signs as "1" (14 digits) but is not the double 1.0
    ('"0"', "0", False),
    ('""', "", False),
    ('"1abc"', "1abc", False),
    ('"0x1"', "0x1", False),
    ('"true"', "true", False),
    ('"one"', "one", False),
    ("null", None, False),  # skipped by http_build_query
]


def _tlync_body(approved_json: str, signed_as: str | None) -> str:
    pairs = [("gateway", "tlync")]
    if signed_as is not None:
        pairs.append(("approved", signed_as))
    pairs += TLYNC_TAIL
    hashed = hmac_upper(SECRET_KEY, php_query(pairs))
    tail = "".join(f',"{key}":"{value}"' for key, value in TLYNC_TAIL)
    return f'{{"gateway":"tlync","approved":{approved_json}{tail},"hashed":"{hashed}"}}'


@pytest.mark.parametrize(("approved_json", "signed_as", "approved"), PHP_APPROVED)
def test_tlync_callback_approved_follows_php(
    approved_json: str, signed_as: str | None, approved: bool, payhub_hub_factory: Any
) -> None:
    hub, _ = payhub_hub_factory(config("plutu.tlync"), FakePlutu())
    result = hub.verify(json_callback(_tlync_body(approved_json, signed_as)))
    assert result.status is (PaymentStatus.PAID if approved else PaymentStatus.FAILED)


@pytest.mark.parametrize("approved_json", ["[1]", '{"a": 1}'])
def test_tlync_callback_approved_as_an_array_is_not_approved(
    approved_json: str, payhub_hub_factory: Any
) -> None:
    inner = "approved%5B0%5D=1" if approved_json == "[1]" else "approved%5Ba%5D=1"
    signed = php_query([("gateway", "tlync")]) + "&" + inner + "&" + php_query(TLYNC_TAIL)
    hashed = hmac_upper(SECRET_KEY, signed)
    tail = "".join(f',"{key}":"{value}"' for key, value in TLYNC_TAIL)
    body = f'{{"gateway":"tlync","approved":{approved_json}{tail},"hashed":"{hashed}"}}'
    hub, _ = payhub_hub_factory(config("plutu.tlync"), FakePlutu())
    assert hub.verify(json_callback(body)).status is PaymentStatus.FAILED


@pytest.mark.parametrize("adapter", ["plutu.localbankcards", "plutu.mpgs"])
@pytest.mark.parametrize(
    ("approved", "status"),
    [("1", PaymentStatus.PAID), ("1.0", PaymentStatus.PAID), (" 1", PaymentStatus.PAID),
     ("1e0", PaymentStatus.PAID), ("1.0000000000000001", PaymentStatus.PAID),
     ("1abc", PaymentStatus.FAILED), ("0", PaymentStatus.FAILED), ("", PaymentStatus.FAILED),
     ("1.000000000000001", PaymentStatus.FAILED)],
)  # fmt: skip
def test_redirect_return_approved_follows_php(
    adapter: str, approved: str, status: PaymentStatus, payhub_hub_factory: Any
) -> None:
    service = ADAPTERS[adapter]
    pairs = [("gateway", service), ("approved", approved), ("invoice_no", "A1"),
             ("amount", "5.00"), ("transaction_id", "9")]  # fmt: skip
    hub, _ = payhub_hub_factory(config(adapter), FakePlutu())
    result = hub.verify(return_to("https://shop.example.ly/r", pairs, SECRET_KEY, service))
    assert result.status is status


def test_every_refusal_here_is_a_verification_error_or_invalid_request(
    payhub_hub_factory: Any,
) -> None:
    """The two rules never surface as UnsupportedOperation (which means: the gateway has
    no such operation, see hub.capabilities)."""
    hub, _ = payhub_hub_factory(all_gateways_config(), FakePlutu())
    for alias in ("localbankcards", "mpgs", "tlync"):
        with pytest.raises(VerificationError):
            hub.verify(PLURAL_RETURN_GET, gateway=alias)
        with pytest.raises(InvalidRequest):
            hub.verify(OtpCode(reference="1", code="1111", invoice=invoice()), gateway=alias)
    for alias in ("sadad", "adfali"):
        with pytest.raises(InvalidRequest):
            hub.verify(PLURAL_RETURN_GET, gateway=alias)
