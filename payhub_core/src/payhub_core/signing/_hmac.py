"""HMAC-SHA256 helpers and constant-time comparison."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any

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


# HMAC (RFC 2104) is SHA-256 over the key XOR a pad, then over the key XOR another pad.
# Those two keyed states depend on the key alone: computed once per key and copied per
# message, an HMAC costs under half of what hmac.new costs setting the key up every time.
_BLOCK = 64  # SHA-256's block size
_INNER_PAD = bytes(byte ^ 0x36 for byte in range(256))
_OUTER_PAD = bytes(byte ^ 0x5C for byte in range(256))
_KEYED_LIMIT = 64  # a hub holds a few keys; past this the cache starts again
# Text and byte keys apart: "k" and b"k" hash alike, and comparing them warns under -b.
_keyed_text: dict[str, tuple[Any, Any]] = {}
_keyed_bytes: dict[bytes, tuple[Any, Any]] = {}


def _keyed_states(key: str | bytes) -> tuple[Any, Any]:
    cache: dict[Any, tuple[Any, Any]] = _keyed_text if type(key) is str else _keyed_bytes
    states = cache.get(key)
    if states is None:
        block = _bytes(key)
        if len(block) > _BLOCK:
            block = hashlib.sha256(block).digest()
        block = block.ljust(_BLOCK, b"\0")
        states = (
            hashlib.sha256(block.translate(_INNER_PAD)),
            hashlib.sha256(block.translate(_OUTER_PAD)),
        )
        if len(cache) >= _KEYED_LIMIT:
            cache.clear()
        cache[key] = states
    return states


def hmac_sha256(key: str | bytes, message: str | bytes) -> bytes:
    """HMAC-SHA256; ``str`` arguments are taken as their UTF-8 bytes."""
    if type(key) is not str and type(key) is not bytes:  # a bytearray, a memoryview
        return hmac.new(_bytes(key), _bytes(message), hashlib.sha256).digest()
    inner_state, outer_state = _keyed_states(key)
    inner = inner_state.copy()  # the cached states themselves are never updated
    inner.update(_bytes(message))
    outer = outer_state.copy()
    outer.update(inner.digest())
    digest: bytes = outer.digest()
    return digest


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
