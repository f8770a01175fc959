"""The sandbox's fixed test data: credentials, merchant, test instruments, defaults.

Everything here is published on purpose (``GET /plural/_sandbox`` and
docs/sandbox-plural.md): none of it is a secret anywhere but in this sandbox.
"""

from __future__ import annotations

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "DEFAULT_REORDER_DELAY",
    "DEFAULT_SLOW_SECONDS",
    "DEFAULT_TOKEN_TTL",
    "MERCHANT_ID",
    "MERCHANT_NAME",
    "SECRET_KEY",
    "TEST_CARD",
    "TEST_NETBANKING_CODE",
    "TEST_UPI_VPA",
]

CLIENT_ID = "5a4d1b2c-0b5d-4f5e-9c1e-a17ce30e5a4d"
CLIENT_SECRET = "sbx_plural_client_secret_7f3a9c2e"  # noqa: S105 - published test credential
SECRET_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"  # noqa: S105 - hex, published test credential
MERCHANT_ID = "104359"
MERCHANT_NAME = "payhub Sandbox Store"

TEST_CARD = {
    "card_number": "4012001037141112",
    "cvv": "123",
    "expiry_month": "12",
    "expiry_year": "2030",
    "name": "Asha Rao",
}
TEST_UPI_VPA = "success@upi"
TEST_NETBANKING_CODE = "NB1531"

DEFAULT_TOKEN_TTL = 3600.0
DEFAULT_SLOW_SECONDS = 35.0  # past the hub's default 30 s read timeout
DEFAULT_REORDER_DELAY = 3.0
