"""JSON Schema export of the public models (for API docs and other languages)."""

from __future__ import annotations

from typing import Any

from payhub_core import _models

_EXPORTED = (
    "Invoice",
    "Customer",
    "Checkout",
    "Redirect",
    "OtpChallenge",
    "Callback",
    "OtpCode",
    "PaymentResult",
    "Capabilities",
    "Card",
    "Upi",
    "Netbanking",
)


def json_schemas() -> dict[str, dict[str, Any]]:
    """Model name -> JSON Schema (validation mode) of each public model."""
    return {name: getattr(_models, name).model_json_schema() for name in _EXPORTED}
