"""payhub adapters for Plutu (Libya): Sadad, Adfali, Local Bank Cards, MPGS and T-Lync.

Name one in the payhub configuration (``adapter = "plutu.localbankcards"``) with the
account's ``api_key``, ``access_token`` and ``secret_key``; see docs/plutu/ for each
service's flow, fields and status mapping.
"""

from payhub_plutu._adapters import (
    AdfaliAdapter,
    LocalBankCardsAdapter,
    MpgsAdapter,
    SadadAdapter,
    TlyncAdapter,
)
from payhub_plutu._callbacks import CallbackKind, callback_signature
from payhub_plutu._codes import ERROR_CODES, ErrorCode
from payhub_plutu._settings import MpgsSettings, PlutuSettings, SignedPlutuSettings

__all__ = [
    "ERROR_CODES",
    "AdfaliAdapter",
    "CallbackKind",
    "ErrorCode",
    "LocalBankCardsAdapter",
    "MpgsAdapter",
    "MpgsSettings",
    "PlutuSettings",
    "SadadAdapter",
    "SignedPlutuSettings",
    "TlyncAdapter",
    "callback_signature",
]
