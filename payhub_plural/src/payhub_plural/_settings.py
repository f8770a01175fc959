"""Settings shared by the two Plural adapters (hosted and seamless checkout).

``base_url`` is the gateway *root* (``https://api.pluralpay.in``): every path payhub sends
starts with ``/api/...``, exactly as Plural documents them, so the same setting also points
at the local sandbox emulator (``http://127.0.0.1:8808/plural``) or at a forwarding proxy.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from payhub_core import GatewaySettings, sandbox_url
from payhub_core.signing import webhook_key

__all__ = ["PRODUCTION_URL", "UAT_URL", "PluralSettings"]

UAT_URL = "https://pluraluat.v2.pinepg.in"
"""Plural's UAT (test) host: test credentials, no real money."""

PRODUCTION_URL = "https://api.pluralpay.in"
"""Plural's production host: real payments."""

_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})+")

NonEmptySecret = Annotated[SecretStr, Field(min_length=1)]


class PluralSettings(GatewaySettings):
    """One Plural merchant account.

    - ``client_id`` / ``client_secret``: the API credentials that buy access tokens.
    - ``secret_key``: the hex "secret key" from onboarding, which signs the browser return
      to ``callback_url``. Optional: without it a return is trusted only through Get Order
      (so ``confirm_with_get_order`` must then stay on).
    - ``webhook_secret``: the key of webhook signatures. Plural's own plugins use the
      client secret, which is the default; ``webhook_secret_is_base64`` says the
      configured secret is Base64 text to be decoded (the generic Standard Webhooks
      convention) rather than used as its UTF-8 bytes (Plural's worked example).
    - ``webhook_tolerance``: how far (seconds) a webhook's timestamp may be from now.
    - ``confirm_with_get_order``: after a valid return signature, ask Plural for the
      order before reporting anything, and take status, amount and invoice number from it.
    """

    environment: Literal["uat", "production", "sandbox"]
    client_id: Annotated[str, Field(min_length=1, max_length=200)]
    client_secret: NonEmptySecret
    secret_key: NonEmptySecret | None = None
    webhook_secret: NonEmptySecret | None = None
    webhook_secret_is_base64: bool = False
    webhook_tolerance: int = Field(default=300, ge=1, le=86_400)
    confirm_with_get_order: bool = True

    @field_validator("base_url")
    @classmethod
    def _without_api_path(cls, value: str | None) -> str | None:
        # GatewaySettings has checked it is a plain http(s) root.
        if value is not None and "/api/" in urlsplit(value).path + "/":
            raise ValueError("is the gateway root without /api (payhub appends /api/...)")
        return value

    @field_validator("secret_key")
    @classmethod
    def _hex_key(cls, value: SecretStr | None) -> SecretStr | None:
        # The message never quotes the value: it is a secret.
        if value is not None and not _HEX.fullmatch(value.get_secret_value()):
            raise ValueError("must be the hex secret key (an even number of 0-9/a-f digits)")
        return value

    @model_validator(mode="after")
    def _usable(self) -> PluralSettings:
        if self.secret_key is None and not self.confirm_with_get_order:
            raise ValueError(
                "secret_key is required when confirm_with_get_order is false: otherwise "
                "nothing could verify a browser return"
            )
        try:
            self.webhook_key()
        except ValueError:
            raise ValueError(
                "webhook_secret (or client_secret, its default) is not valid Base64 although "
                "webhook_secret_is_base64 is true"
            ) from None
        return self

    def root(self) -> str:
        """Where requests go: ``base_url``, else the environment's host."""
        if self.base_url is not None:
            return self.base_url
        if self.environment == "sandbox":
            return sandbox_url("plural")
        return PRODUCTION_URL if self.environment == "production" else UAT_URL

    def webhook_key(self) -> bytes:
        """The HMAC key of webhook signatures (``webhook_secret``, else ``client_secret``)."""
        secret = self.webhook_secret or self.client_secret
        return webhook_key(secret.get_secret_value(), base64_encoded=self.webhook_secret_is_base64)

    def return_key(self) -> bytes | None:
        """The HMAC key of return signatures: the hex-decoded ``secret_key``."""
        if self.secret_key is None:
            return None
        return bytes.fromhex(self.secret_key.get_secret_value())
