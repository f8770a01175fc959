"""The official vectors (tests/vectors): the return signature computed with Plural's Java
sample, and the worked example of Plural's webhook signature guide."""

from __future__ import annotations

import time
from typing import Any

import pytest
from plural_support import adapter_of, config, load_vectors, return_callback, webhook_callback

from payhub_core import MalformedCallback, PaymentStatus, SignatureError
from payhub_core.signing import sorted_query, verify_webhook
from payhub_plural import PluralSettings
from payhub_plural._returns import RETURN_FIELDS, return_signature, verify_return

RETURN_VECTORS = load_vectors("plural_return.json")
WEBHOOK_VECTORS = load_vectors("plural_webhook.json")


def test_vector_files_are_found() -> None:
    assert len(RETURN_VECTORS) == 2
    assert len(WEBHOOK_VECTORS) == 1


@pytest.mark.parametrize("vector", RETURN_VECTORS, ids=lambda v: v["fields"]["status"])
def test_return_vector_signed_string_and_signature(vector: dict[str, Any]) -> None:
    key = bytes.fromhex(vector["secret_key_hex"])
    fields = RETURN_FIELDS.select(vector["fields"].items())
    assert sorted_query(fields) == vector["signed_string"]
    assert return_signature(fields, key) == vector["signature"]


@pytest.mark.parametrize("vector", RETURN_VECTORS, ids=lambda v: v["fields"]["status"])
@pytest.mark.parametrize("case", [str.upper, str.lower])
def test_return_vector_verifies_in_either_case(vector: dict[str, Any], case: Any) -> None:
    key = bytes.fromhex(vector["secret_key_hex"])
    pairs = [*vector["fields"].items(), ("signature", case(vector["signature"]))]
    signed = verify_return(pairs, key)
    assert signed.signed
    assert signed.order_id == vector["fields"]["order_id"]
    assert signed.status == vector["fields"]["status"]
    assert signed.error_message == vector["fields"].get("error_message")


@pytest.mark.parametrize("vector", RETURN_VECTORS, ids=lambda v: v["fields"]["status"])
def test_return_vector_through_the_hub(payhub_hub_factory: Any, vector: dict[str, Any]) -> None:
    """End to end, without Get Order: the vector's form body verifies as received."""
    hub, transport = payhub_hub_factory(
        config(secret_key=vector["secret_key_hex"], confirm_with_get_order=False),
        lambda request: pytest.fail("no request expected"),
    )
    callback = return_callback(vector["fields"], signature=vector["signature"])
    result = hub.verify(callback)
    expected = (
        PaymentStatus.AUTHORIZED
        if vector["fields"]["status"] == "AUTHORIZED"
        else (PaymentStatus.FAILED)
    )
    assert result.status is expected
    assert result.reference == vector["fields"]["order_id"]
    assert result.amount is None
    assert result.invoice_number is None
    assert transport.requests == []


@pytest.mark.parametrize("vector", RETURN_VECTORS, ids=lambda v: v["fields"]["status"])
def test_return_vector_with_another_key_is_refused(vector: dict[str, Any]) -> None:
    pairs = [*vector["fields"].items(), ("signature", vector["signature"])]
    with pytest.raises(SignatureError):
        verify_return(pairs, bytes.fromhex("00" * 16))


# The guide's example secret is seven characters, shorter than any secret payhub accepts in
# its settings (payhub_core.redaction.MIN_SECRET_LENGTH); configured as Base64 text
# (``webhook_secret_is_base64``) it gives the same key.
GUIDE_SECRET_AS_BASE64 = "YWJjMTIzNA=="


@pytest.mark.parametrize("vector", WEBHOOK_VECTORS, ids=lambda v: v["webhook_id"])
def test_webhook_vector_key_and_signature(vector: dict[str, Any]) -> None:
    """The guide's key is the secret's UTF-8 bytes; configured as Base64 text the same key
    results."""
    settings = PluralSettings(
        environment="uat",
        client_id="id",
        client_secret="unrelated",
        secret_key="00" * 16,
        webhook_secret=GUIDE_SECRET_AS_BASE64,
        webhook_secret_is_base64=True,
    )
    assert settings.webhook_key() == vector["secret"].encode()
    headers = {
        "webhook-id": vector["webhook_id"],
        "webhook-timestamp": vector["webhook_timestamp"],
        "webhook-signature": vector["signature"],
    }
    message = verify_webhook(
        settings.webhook_key(),
        headers,
        vector["body"].encode(),
        now=float(vector["webhook_timestamp"]),
    )
    assert message.id == vector["webhook_id"]


@pytest.mark.parametrize("vector", WEBHOOK_VECTORS, ids=lambda v: v["webhook_id"])
def test_webhook_vector_through_the_hub(payhub_hub_factory: Any, vector: dict[str, Any]) -> None:
    """The guide's body is not a Plural event: the signature is accepted (so the error is
    about the content, not SignatureError); a one-byte change is a SignatureError."""
    hub, _ = payhub_hub_factory(
        config(webhook_secret=GUIDE_SECRET_AS_BASE64, webhook_secret_is_base64=True),
        lambda request: pytest.fail("no request expected"),
    )
    timestamp = int(vector["webhook_timestamp"])
    adapter_of(hub).clock = lambda: timestamp + 299.0
    callback = webhook_callback(
        vector["body"].encode(),
        msg_id=vector["webhook_id"],
        timestamp=timestamp,
        signature=vector["signature"],
    )
    with pytest.raises(MalformedCallback, match="event_type") as caught:
        hub.verify(callback)
    assert not isinstance(caught.value, SignatureError)
    tampered = webhook_callback(
        vector["body"].replace("payload", "pay1oad", 1).encode(),
        msg_id=vector["webhook_id"],
        timestamp=timestamp,
        signature=vector["signature"],
    )
    with pytest.raises(SignatureError):
        hub.verify(tampered)
    adapter_of(hub).clock = time.time  # the real now is years after the example
    with pytest.raises(SignatureError, match="from now"):
        hub.verify(callback)
