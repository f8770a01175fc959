"""Properties of the emulator's signed returns: whatever the merchant's return URL and the
invoice, the SDK's check passes and the merchant's own query stays as it was."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from hypothesis import given
from hypothesis import strategies as st
from plutu_sandbox_kit import php_query, query_pairs, sdk_verifies

from payhub_plutu.sandbox._signing import append_query, sign, signed

INVOICE = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-",
    min_size=1,
    max_size=40,
)
AMOUNT = st.decimals(min_value="0.01", max_value="999999.99", places=2).map(lambda d: f"{d:.2f}")
SECRET = st.from_regex(r"sk_[0-9a-f]{40}", fullmatch=True)
# The merchant's own query: any text, percent-encoded as a browser would.
OWN_QUERY = st.lists(st.tuples(st.text(min_size=1, max_size=8), st.text(max_size=8)), max_size=4)


@given(secret=SECRET, invoice=INVOICE, amount=AMOUNT, own=OWN_QUERY, approved=st.booleans())
def test_lbc_return_always_verifies(
    secret: str, invoice: str, amount: str, own: list[tuple[str, str]], approved: bool
) -> None:
    own_query = php_query(own)
    return_url = "https://shop.example/ret" + (f"?{own_query}" if own_query else "")
    params = [
        ("gateway", "localbankcards"),
        *([("approved", "1")] if approved else []),
        ("invoice_no", invoice),
        ("amount", amount),
        ("transaction_id", "100901"),
    ]
    location = append_query(return_url, signed(secret, params))
    parts = urlsplit(location)
    assert parts.path == "/ret"
    if own_query:
        assert parts.query.startswith(own_query + "&")
    pairs = query_pairs(location)
    assert pairs[len(own) :] == [*params, ("hashed", sign(secret, params))]
    assert sdk_verifies(secret, pairs, "localbankcards")


@given(secret=SECRET, values=st.lists(st.text(max_size=12), min_size=1, max_size=6))
def test_sign_is_php_http_build_query_hmac(secret: str, values: list[str]) -> None:
    """Any text (spaces, ~, non-ASCII) is encoded as PHP's urlencode would."""
    params = [(f"k{index}", value) for index, value in enumerate(values)]
    expected = hmac.new(secret.encode(), php_query(params).encode(), hashlib.sha256)
    assert sign(secret, params) == expected.hexdigest().upper()
