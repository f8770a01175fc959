"""Signing helpers adapters build on: PHP-exact form encoding, canonical strings,
HMAC-SHA256, constant-time comparison and Standard Webhooks."""

from payhub_core.signing._canonical import FieldSchema, select, sorted_query
from payhub_core.signing._hmac import (
    constant_time_equal,
    hex_equal,
    hmac_sha256,
    hmac_sha256_base64,
    hmac_sha256_hex,
)
from payhub_core.signing._php import (
    PhpValue,
    http_build_query,
    php_float,
    php_scalar,
    php_urlencode,
)
from payhub_core.signing._webhooks import (
    DEFAULT_TOLERANCE,
    WebhookMessage,
    sign_webhook,
    verify_webhook,
    webhook_key,
)

__all__ = [
    "DEFAULT_TOLERANCE",
    "FieldSchema",
    "PhpValue",
    "WebhookMessage",
    "constant_time_equal",
    "hex_equal",
    "hmac_sha256",
    "hmac_sha256_base64",
    "hmac_sha256_hex",
    "http_build_query",
    "php_float",
    "php_scalar",
    "php_urlencode",
    "select",
    "sign_webhook",
    "sorted_query",
    "verify_webhook",
    "webhook_key",
]
