"""payhub: one payments API over many gateways.

Everything a merchant or an adapter author needs is importable from here; modules with a
leading underscore are private. Adapter authors also use :mod:`payhub_core.flows`,
:mod:`payhub_core.signing`, :mod:`payhub_core.redaction` and :mod:`payhub_core.testing`.
"""

from payhub_core._config import GatewayConfig, HubConfig
from payhub_core._errors import (
    AdapterError,
    AdapterNotFound,
    AmountMismatch,
    ConfigurationError,
    FloatAmountError,
    GatewayError,
    GatewayUnavailable,
    InvalidMoney,
    InvalidRequest,
    InvoiceConflict,
    LedgerError,
    LedgerUnavailable,
    MalformedCallback,
    OperationBlocked,
    PayhubError,
    PaymentNotFound,
    ResponseTooLarge,
    SignatureError,
    UnsupportedOperation,
    VerificationError,
)
from payhub_core._hub import AsyncHub, Hub
from payhub_core._models import (
    OPERATIONS,
    Callback,
    Capabilities,
    Card,
    Checkout,
    Customer,
    Invoice,
    Netbanking,
    Operation,
    OtpChallenge,
    OtpCode,
    PaymentMethod,
    PaymentResult,
    PaymentStatus,
    Redirect,
    Upi,
)
from payhub_core._money import Money, currency_exponent
from payhub_core._registry import AdapterInfo, available_adapters
from payhub_core._schema import json_schemas
from payhub_core._settings import GatewaySettings, sandbox_url
from payhub_core.hookspecs import hookimpl, hookspec

__version__ = "0.1.0"

__all__ = [
    "OPERATIONS",
    "AdapterError",
    "AdapterInfo",
    "AdapterNotFound",
    "AmountMismatch",
    "AsyncHub",
    "Callback",
    "Capabilities",
    "Card",
    "Checkout",
    "ConfigurationError",
    "Customer",
    "FloatAmountError",
    "GatewayConfig",
    "GatewayError",
    "GatewaySettings",
    "GatewayUnavailable",
    "Hub",
    "HubConfig",
    "InvalidMoney",
    "InvalidRequest",
    "Invoice",
    "InvoiceConflict",
    "LedgerError",
    "LedgerUnavailable",
    "MalformedCallback",
    "Money",
    "Netbanking",
    "Operation",
    "OperationBlocked",
    "OtpChallenge",
    "OtpCode",
    "PayhubError",
    "PaymentMethod",
    "PaymentNotFound",
    "PaymentResult",
    "PaymentStatus",
    "Redirect",
    "ResponseTooLarge",
    "SignatureError",
    "UnsupportedOperation",
    "Upi",
    "VerificationError",
    "__version__",
    "available_adapters",
    "currency_exponent",
    "hookimpl",
    "hookspec",
    "json_schemas",
    "sandbox_url",
]
