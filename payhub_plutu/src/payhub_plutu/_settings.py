"""Settings shared by the five Plutu adapters.

One Plutu merchant account has one API key, one access token and one secret key; the
services differ only in which of them they need. ``base_url`` is the gateway *root*
(``https://api.plutus.ly``): payhub appends ``/api/v1/transaction/<service>/<action>``
itself, exactly as the official SDK does, so the same setting also points at the local
sandbox emulator (``http://127.0.0.1:8808/plutu``) or at a forwarding proxy.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from payhub_core import GatewaySettings, InvalidRequest, currency_exponent, sandbox_url

__all__ = [
    "PRODUCTION_URL",
    "MpgsSettings",
    "PlutuSettings",
    "SignedPlutuSettings",
]

PRODUCTION_URL = "https://api.plutus.ly"
"""Plutu's only documented host (note: plutu**s**.ly). Test and live access tokens both
use it; which one you configure decides whether payments are real."""

NonEmptySecret = Annotated[SecretStr, Field(min_length=1)]


class PlutuSettings(GatewaySettings):
    """Settings of the OTP wallets (Sadad, Adfali), which never need the secret key.

    ``environment = "production"`` talks to ``https://api.plutus.ly`` (with a test or a
    live access token: Plutu has no separate test host); ``"sandbox"`` talks to the local
    emulator started by ``payhub sandbox`` and relaxes the rule that T-Lync's callback URL
    must be publicly reachable.
    """

    environment: Literal["production", "sandbox"]
    api_key: NonEmptySecret
    access_token: NonEmptySecret
    secret_key: NonEmptySecret | None = None
    # Plutu's own clients wait up to 600 s; a confirm that times out has an unknown
    # outcome, so wait longer than the core's 30 s default before giving up.
    timeout: float = Field(default=60.0, gt=0)

    @field_validator("base_url")
    @classmethod
    def _without_api_path(cls, value: str | None) -> str | None:
        # GatewaySettings has checked it is a plain http(s) root, without a trailing slash.
        if value is not None and urlsplit(value).path.endswith("/api/v1"):
            raise ValueError(
                "is the gateway root without /api/v1 (payhub appends /api/v1/transaction/...)"
            )
        return value

    def root(self) -> str:
        """Where requests go: ``base_url``, else the sandbox mount or Plutu's host."""
        if self.base_url is not None:
            return self.base_url
        if self.environment == "sandbox":
            return sandbox_url("plutu")
        return PRODUCTION_URL


class SignedPlutuSettings(PlutuSettings):
    """Settings of the redirect services (Local Bank Cards, MPGS, T-Lync), whose returns
    and callbacks are signed with the secret key: it is required."""

    secret_key: NonEmptySecret


class MpgsSettings(SignedPlutuSettings):
    """MPGS settles in the currency of the merchant's Plutu/MPGS account: USD unless the
    account says otherwise (Plutu's WooCommerce plugin also offers EUR)."""

    currency: str = "USD"

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        code = value.strip().upper()
        try:
            currency_exponent(code)
        except InvalidRequest:
            raise ValueError("must be an ISO 4217 currency code such as 'USD'") from None
        return code
