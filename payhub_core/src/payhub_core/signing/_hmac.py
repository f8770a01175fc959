"""HMAC-SHA256 helpers and constant-time comparison."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

__all__ = [
    "constant_time_equal",
    "hex_equal",
    "hmac_sha256",
    "hmac_sha256_base64",
    "hmac_sha256_hex",
]


_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})+")


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def hmac_sha256(key: str | bytes, message: str | bytes) -> bytes:
    """HMAC-SHA256; ``str`` arguments are taken as their UTF-8 bytes."""
    return hmac.new(_bytes(key), _bytes(message), hashlib.sha256).digest()


def hmac_sha256_hex(key: str | bytes, message: str | bytes, *, upper: bool = True) -> str:
    digest = hmac_sha256(key, message).hex()
    return digest.upper() if upper else digest


def hmac_sha256_base64(key: str | bytes, message: str | bytes) -> str:
    return base64.b64encode(hmac_sha256(key, message)).decode("ascii")


def constant_time_equal(expected: str | bytes, received: str | bytes) -> bool:
    """Exact comparison in time that does not depend on where the inputs differ."""
    return hmac.compare_digest(_bytes(expected), _bytes(received))


def hex_equal(expected: str, received: str) -> bool:
    """Compare two hex digests without regard to case, in constant time.

    Only whole hex digests compare: non-hex input never matches, including the white
    space ``bytes.fromhex`` would skip and the empty string. (Plutu's own check is
    case-sensitive: use :func:`constant_time_equal` there.)
    """
    if not (_HEX.fullmatch(expected) and _HEX.fullmatch(received)):
        return False
    return hmac.compare_digest(expected.lower().encode("ascii"), received.lower().encode("ascii"))
