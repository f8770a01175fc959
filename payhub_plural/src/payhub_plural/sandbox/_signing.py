"""The signature on a browser return, made the way Plural's documentation computes it (its
Java sample); the adapters check it independently."""

from __future__ import annotations

from payhub_core.signing import hmac_sha256_hex, sorted_query

__all__ = ["return_signature"]


def return_signature(fields: dict[str, str], secret_key_hex: str) -> str:
    """A return's signature as Plural's documentation computes it (its Java sample):
    HMAC-SHA256 keyed with the hex-decoded secret over the sorted ``k=v&...`` of every
    returned field but ``signature``; upper-case hex."""
    message = sorted_query(fields, exclude=("signature",))
    return hmac_sha256_hex(bytes.fromhex(secret_key_hex), message, upper=True)
