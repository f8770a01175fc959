"""What Plural's adapters say about evidence that is not theirs.

- Evidence of the wrong kind (an ``OtpCode``: Plural has no OTP step) is ``InvalidRequest``
  naming ``evidence``, and nothing is sent: the same rule as Plutu's adapters
  (docs/decisions.md).
- Evidence of another adapter (a Plutu return, a T-Lync JSON callback) says it does not
  belong to this gateway, rather than "the Plural return has no signature".
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from plural_support import FakePlural, config, invoice, return_callback

from payhub_core import (
    Callback,
    InvalidRequest,
    MalformedCallback,
    OtpCode,
    SignatureError,
    UnsupportedOperation,
)

ADAPTERS = ("plural.checkout", "plural.seamless")

PLUTU_RETURN = Callback(
    query="gateway=localbankcards&approved=1&canceled=0&invoice_no=INV-1&amount=5.00"
    "&transaction_id=9&hashed=" + "AB" * 32
)
TLYNC_CALLBACK = Callback(
    method="POST",
    headers={"Content-Type": "application/json"},
    body=json.dumps(
        {"gateway": "tlync", "approved": 1, "invoice_no": "INV-1", "amount": "5.00",
         "transaction_id": "9", "payment_method": "sadad", "hashed": "AB" * 32}
    ).encode(),
)  # fmt: skip
PLUTU_RETURN_POSTED = Callback(
    method="POST",
    headers={"Content-Type": "application/x-www-form-urlencoded"},
    body=PLUTU_RETURN.query.encode(),
)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_otp_code_is_an_invalid_request(adapter: str, payhub_hub_factory: Any) -> None:
    hub, transport = payhub_hub_factory(config(adapter), FakePlural())
    with pytest.raises(InvalidRequest) as raised:
        hub.verify(OtpCode(reference="x", code="1234", invoice=invoice()))
    assert (raised.value.field, raised.value.rule) == ("evidence", "Callback")
    assert not isinstance(raised.value, UnsupportedOperation)
    assert transport.requests == []


@pytest.mark.anyio
async def test_an_otp_code_is_an_invalid_request_in_the_async_hub(
    payhub_async_hub_factory: Any,
) -> None:
    hub, _ = payhub_async_hub_factory(config(), FakePlural())
    async with hub:
        with pytest.raises(InvalidRequest) as raised:
            await hub.verify(OtpCode(reference="x", code="1234", invoice=invoice()))
    assert raised.value.field == "evidence"


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(
    "evidence",
    [PLUTU_RETURN, PLUTU_RETURN_POSTED, TLYNC_CALLBACK],
    ids=["plutu-return", "plutu-return-posted", "tlync-callback"],
)
@pytest.mark.parametrize("confirm", [True, False])
def test_another_adapters_callback_is_said_not_to_belong_here(
    adapter: str, evidence: Callback, confirm: bool, payhub_hub_factory: Any
) -> None:
    hub, transport = payhub_hub_factory(
        config(adapter, confirm_with_get_order=confirm), FakePlural()
    )
    with pytest.raises(MalformedCallback) as raised:
        hub.verify(evidence)
    message = str(raised.value)
    assert "does not belong to this gateway" in message
    assert "another adapter" in message
    assert "has no signature" not in message
    assert transport.requests == []


def test_a_plural_return_without_its_signature_is_still_a_signature_error(
    payhub_hub_factory: Any,
) -> None:
    """Recognisably Plural's (its fields), unsigned: a signature problem, not a misrouted
    callback."""
    hub, _ = payhub_hub_factory(config(), FakePlural())
    with pytest.raises(SignatureError, match="no signature"):
        hub.verify(Callback(query="order_id=v1-1&status=PROCESSED"))


def test_a_plural_return_with_extra_parameters_is_still_plurals(payhub_hub_factory: Any) -> None:
    fake = FakePlural()
    order_id = fake.add_order()
    fake.complete(order_id)
    hub, _ = payhub_hub_factory(config(), fake)
    evidence = return_callback(
        {"order_id": order_id, "status": "PROCESSED"}, extra=[("invoice_no", "INV-1")]
    )
    assert hub.verify(evidence).is_paid
