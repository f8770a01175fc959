"""The signed browser return to ``callback_url``.

Plural sends the customer back with ``order_id``, ``status`` (some documents say
``payment_status``), on failure ``error_code`` and ``error_message``, and ``signature``:
the upper-case hex HMAC-SHA256, keyed with the hex-decoded secret key, of the other
fields sorted by key and joined as ``k=v&...`` with raw values (Plural's Java sample).

Only the documented fields are signed and read. Every one but ``error_message`` has a
pattern without ``&`` and ``=``, so the canonical string is injective: no two different
returns sign the same bytes (see ``payhub_core.signing.FieldSchema``). Anything else in the
request (the merchant's own query parameters on the return URL) is ignored.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from payhub_core import MalformedCallback, SignatureError
from payhub_core.signing import (
    FieldSchema,
    hmac_sha256_hex,
    sorted_query,
)

__all__ = [
    "RETURN_FIELDS",
    "SignedReturn",
    "foreign_evidence",
    "return_signature",
    "verify_return",
]

RETURN_FIELDS = FieldSchema(
    {
        "order_id": r"[A-Za-z0-9_-]{1,50}",
        "status": r"[A-Za-z_]{1,40}",
        "payment_status": r"[A-Za-z_]{1,40}",
        "error_code": r"[A-Za-z0-9_.-]{1,100}",
        "error_message": None,  # free text: the one field allowed '&' and '='
    }
)
SIGNATURE_FIELD = "signature"
_SIGNATURE = re.compile(r"[0-9A-Fa-f]{64}")


@dataclass(frozen=True)
class SignedReturn:
    """A return whose signature matched (or that is to be confirmed with Get Order)."""

    order_id: str
    status: str
    fields: Mapping[str, str]
    signed: bool

    @property
    def error_code(self) -> str | None:
        return self.fields.get("error_code")

    @property
    def error_message(self) -> str | None:
        return self.fields.get("error_message")


def return_signature(fields: Mapping[str, str], key: bytes) -> str:
    """The signature Plural computes over ``fields`` (already restricted to the documented
    set, ``signature`` excluded): upper-case hex."""
    return hmac_sha256_hex(key, sorted_query(fields, exclude=(SIGNATURE_FIELD,)))


def foreign_evidence() -> MalformedCallback:
    """The error for a callback with nothing of a Plural return or webhook in it."""
    return MalformedCallback(
        "this callback does not belong to this gateway: it is not a Plural return (no "
        "signature, none of " + ", ".join(sorted(RETURN_FIELDS.names)) + ") nor a Plural "
        "webhook (no webhook-signature header) and looks like another adapter's; verify it "
        "with the gateway that started the payment (gateway=)"
    )


def verify_return(pairs: Sequence[tuple[str, str]], key: bytes | None) -> SignedReturn:
    """Check a return's signature with ``key``; ``key=None`` parses without checking (the
    caller must then confirm with Get Order).

    Raises ``SignatureError`` for a missing, repeated or wrong signature and
    ``MalformedCallback`` for a documented field given twice, out of its form, or missing,
    and for parameters of which none is Plural's (another adapter's evidence).
    """
    # select raises only for a documented field, so a foreign callback still reaches the
    # check below; one pass finds the documented fields and the signatures.
    fields, signatures = RETURN_FIELDS.select_with(pairs, SIGNATURE_FIELD)
    if pairs and not fields and not signatures:
        raise foreign_evidence()
    signed = False
    if key is not None:
        if not signatures:
            raise SignatureError("the Plural return has no signature")
        if len(signatures) > 1:
            raise SignatureError("the Plural return has more than one signature")
        # The received value must be 64 hex digits (hex_equal would skip white space
        # inside the hex; the documented form has none). Both sides are then upper-case
        # ASCII hex, compared in constant time (compare_digest takes ASCII text as is).
        received = signatures[0]
        if not _SIGNATURE.fullmatch(received) or not hmac.compare_digest(
            hmac_sha256_hex(key, RETURN_FIELDS.canonical(fields)), received.upper()
        ):
            raise SignatureError("the Plural return signature does not match")
        signed = True
    order_id = fields.get("order_id")
    if order_id is None:
        raise MalformedCallback("the Plural return has no order_id")
    status = fields.get("status")
    other = fields.get("payment_status")
    if status is not None and other is not None and status.upper() != other.upper():
        raise MalformedCallback("the Plural return has two different statuses")
    status = status or other
    if status is None:
        raise MalformedCallback("the Plural return has no status")
    return SignedReturn(order_id=order_id, status=status.upper(), fields=fields, signed=signed)
