"""The ``hashed`` parameter, made the way Plutu's SDK checks it: PHP
``http_build_query`` over the parameters in the order they are sent, HMAC-SHA256 with the
secret key, upper-case hex. The emulator sends exactly the whitelisted keys, so the
signature covers every parameter it sends except ``hashed`` itself."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from payhub_core.signing import hmac_sha256_hex, http_build_query

__all__ = ["append_query", "sign", "signed"]

Params = Sequence[tuple[str, str]]


def sign(secret_key: str, params: Params) -> str:
    return hmac_sha256_hex(secret_key, http_build_query(list(params)))


def signed(secret_key: str, params: Params) -> list[tuple[str, str]]:
    """``params`` followed by ``hashed``."""
    return [*params, ("hashed", sign(secret_key, params))]


def append_query(url: str, params: Params) -> str:
    """``url`` with ``params`` appended after its own query (kept byte for byte), the
    fragment left at the end."""
    parts = urlsplit(url)
    added = http_build_query(list(params))
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
