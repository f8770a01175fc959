"""payhub: one payments API over many gateways.

Everything a merchant or an adapter author needs is importable from here; modules with a
leading underscore are private. Adapter authors also use :mod:`payhub_core.flows`,
:mod:`payhub_core.signing`, :mod:`payhub_core.redaction` and :mod:`payhub_core.testing`.

The names are imported on first use (PEP 562): ``import payhub_core`` itself imports
none of the models, the hub or its HTTP stack, so a process (a CLI command, a worker that
only needs ``Money``) pays for what it uses. ``from payhub_core import Hub`` imports the
hub; ``from payhub_core import *`` imports every public name; ``payhub_core.flows``
imports that submodule. Type checkers and IDEs read the imports under ``TYPE_CHECKING``
below.
"""

from typing import TYPE_CHECKING

from payhub_core._lazy import lazy_module

if TYPE_CHECKING:
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

# Where each public name lives: its private module, imported on first use. Kept in step
# with the TYPE_CHECKING imports above (tests/core/test_lazy_import.py checks both).
_ERRORS = "payhub_core._errors"
_MODELS = "payhub_core._models"
_SOURCES: dict[str, str] = {
    "GatewayConfig": "payhub_core._config",
    "HubConfig": "payhub_core._config",
    "AdapterError": _ERRORS,
    "AdapterNotFound": _ERRORS,
    "AmountMismatch": _ERRORS,
    "ConfigurationError": _ERRORS,
    "FloatAmountError": _ERRORS,
    "GatewayError": _ERRORS,
    "GatewayUnavailable": _ERRORS,
    "InvalidMoney": _ERRORS,
    "InvalidRequest": _ERRORS,
    "InvoiceConflict": _ERRORS,
    "LedgerError": _ERRORS,
    "LedgerUnavailable": _ERRORS,
    "MalformedCallback": _ERRORS,
    "OperationBlocked": _ERRORS,
    "PayhubError": _ERRORS,
    "PaymentNotFound": _ERRORS,
    "ResponseTooLarge": _ERRORS,
    "SignatureError": _ERRORS,
    "UnsupportedOperation": _ERRORS,
    "VerificationError": _ERRORS,
    "AsyncHub": "payhub_core._hub",
    "Hub": "payhub_core._hub",
    "OPERATIONS": _MODELS,
    "Callback": _MODELS,
    "Capabilities": _MODELS,
    "Card": _MODELS,
    "Checkout": _MODELS,
    "Customer": _MODELS,
    "Invoice": _MODELS,
    "Netbanking": _MODELS,
    "Operation": _MODELS,
    "OtpChallenge": _MODELS,
    "OtpCode": _MODELS,
    "PaymentMethod": _MODELS,
    "PaymentResult": _MODELS,
    "PaymentStatus": _MODELS,
    "Redirect": _MODELS,
    "Upi": _MODELS,
    "Money": "payhub_core._money",
    "currency_exponent": "payhub_core._money",
    "AdapterInfo": "payhub_core._registry",
    "available_adapters": "payhub_core._registry",
    "json_schemas": "payhub_core._schema",
    "GatewaySettings": "payhub_core._settings",
    "sandbox_url": "payhub_core._settings",
    "hookimpl": "payhub_core.hookspecs",
    "hookspec": "payhub_core.hookspecs",
}


if not TYPE_CHECKING:
    # Hidden from type checkers, which see the real imports above: a misspelt
    # `payhub_core.Hubb` stays an error for them instead of an `object`.
    __getattr__, __dir__ = lazy_module(__name__, globals(), _SOURCES)
