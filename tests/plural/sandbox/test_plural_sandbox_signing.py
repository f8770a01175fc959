"""The emulator signs returns and webhooks exactly as Plural documents and the vectors say."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from plural_sandbox_helpers import documented_signature

from payhub_core.signing import sign_webhook, sorted_query, verify_webhook, webhook_key
from payhub_plural.sandbox import SECRET_KEY, return_signature

VECTORS = Path(__file__).resolve().parents[2] / "vectors"


def _vectors(name: str) -> list[dict[str, object]]:
    data = json.loads((VECTORS / name).read_text())
    vectors: list[dict[str, object]] = data["vectors"]
    return vectors


def test_return_signature_matches_the_published_vectors() -> None:
    for vector in _vectors("plural_return.json"):
        fields = vector["fields"]
        assert isinstance(fields, dict)
        assert sorted_query(fields) == vector["signed_string"]
        assert return_signature(fields, str(vector["secret_key_hex"])) == vector["signature"]
        assert documented_signature(fields, str(vector["secret_key_hex"])) == vector["signature"]


def test_webhook_signature_matches_the_published_vector() -> None:
    (vector,) = _vectors("plural_webhook.json")
    body = str(vector["body"]).encode()
    key = webhook_key(str(vector["secret"]))
    stamp = int(str(vector["webhook_timestamp"]))
    assert sign_webhook(key, str(vector["webhook_id"]), stamp, body) == vector["signature"]
    headers = {
        "webhook-id": str(vector["webhook_id"]),
        "webhook-timestamp": str(stamp),
        "webhook-signature": str(vector["signature"]),
    }
    assert verify_webhook(key, headers, body, now=stamp).id == vector["webhook_id"]


_value = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="&="), max_size=40
)


@given(
    order_id=_value,
    status=st.sampled_from(["AUTHORIZED", "PROCESSED", "FAILED", "CANCELLED"]),
    error=st.none() | st.tuples(_value, _value),
)
def test_return_signature_is_the_documented_algorithm(
    order_id: str, status: str, error: tuple[str, str] | None
) -> None:
    fields = {"order_id": order_id, "status": status}
    if error is not None:
        fields["error_code"], fields["error_message"] = error
    expected = documented_signature(fields)
    assert return_signature(fields, SECRET_KEY) == expected
    # the signature field itself never takes part
    assert return_signature({**fields, "signature": "X"}, SECRET_KEY) == expected
