"""Scenarios a developer triggers on purpose: the one table the emulator, ``GET /_sandbox``
and the docs all read.

A request is in a scenario when its ``invoice_no`` starts with the scenario's prefix (any
case), or else when its amount is the scenario's magic amount, or (verify only) when its
mobile number is the scenario's. Only scenarios that apply to the service are considered.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from payhub_plutu.sandbox._constants import SERVICES, UNSUBSCRIBED_MOBILE

__all__ = ["SCENARIOS", "Kind", "Scenario", "match_scenario", "slow_seconds"]


class Kind(enum.Enum):
    DECLINE = "decline"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    OTP_EXPIRED = "otp_expired"
    UNKNOWN_SUBSCRIBER = "unknown_subscriber"
    GATEWAY_ERROR = "gateway_error"
    RATE_LIMITED = "rate_limited"
    SLOW = "slow"
    MALFORMED = "malformed"
    CALLBACK_TWICE = "callback_twice"
    CALLBACK_LATE = "callback_late"
    NO_CALLBACK = "no_callback"
    BAD_SIGNATURE = "bad_signature"


ALL = frozenset(SERVICES)
WALLETS = frozenset({"sadadapi", "edfali"})
REDIRECTS = frozenset({"localbankcards", "mpgs", "tlync"})
TLYNC = frozenset({"tlync"})


@dataclass(frozen=True)
class Scenario:
    kind: Kind
    services: frozenset[str]
    effect: str
    invoice_prefix: str | None = None
    amount: Decimal | None = None
    mobile: str | None = None

    @property
    def name(self) -> str:
        return self.kind.value

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "invoice_prefix": self.invoice_prefix,
            "amount": None if self.amount is None else f"{self.amount:.2f}",
            "mobile": self.mobile,
            "adapters": [SERVICES[slug].adapter for slug in SERVICES if slug in self.services],
            "effect": self.effect,
        }


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        Kind.DECLINE,
        ALL,
        "Sadad/Adfali confirm with the right OTP: 400 CONFIRMATION_ERROR. LBC/MPGS: "
        "Approve returns to return_url without `approved` (declined). T-Lync: Approve "
        "sends approved=0 in the callback and the return. The invoice_no is used up.",
        invoice_prefix="DECLINE-",
        amount=Decimal("403.03"),
    ),
    Scenario(
        Kind.INSUFFICIENT_BALANCE,
        ALL,
        "Sadad/Adfali confirm with the right OTP: 400 INSUFFICIENT_BALANCE. Redirect "
        "flows: Approve is declined as in `decline`. The invoice_no is used up.",
        invoice_prefix="NOFUNDS-",
        amount=Decimal("402.02"),
    ),
    Scenario(
        Kind.OTP_EXPIRED,
        WALLETS,
        "Sadad/Adfali confirm: 400 OTP_EXPIRED and the process is closed (start again "
        "with verify; the invoice_no stays free).",
        invoice_prefix="OTPEXPIRED-",
        amount=Decimal("410.10"),
    ),
    Scenario(
        Kind.UNKNOWN_SUBSCRIBER,
        WALLETS,
        "Sadad/Adfali verify with this mobile number: 400 INVALID_MOBILE_NUMBER_OR_BIRTH_YEAR "
        "(Sadad) or NOT_SUBSCRIBED (Adfali).",
        mobile=UNSUBSCRIBED_MOBILE,
    ),
    Scenario(
        Kind.GATEWAY_ERROR,
        ALL,
        "Any API call: HTTP 500 with a BACKEND_ERROR error body. Nothing is recorded, so a "
        "retry with the same invoice_no is accepted.",
        invoice_prefix="ERROR500-",
        amount=Decimal("500.05"),
    ),
    Scenario(
        Kind.RATE_LIMITED,
        ALL,
        "Any API call: HTTP 429 with a TOO_MAY_REQUESTS (sic) error body and Retry-After: 1. "
        "Nothing is recorded.",
        invoice_prefix="RATELIMIT-",
        amount=Decimal("429.29"),
    ),
    Scenario(
        Kind.SLOW,
        ALL,
        "Any API call answers only after the sandbox's slow_seconds (default 35 s, past "
        "the drivers' 30 s default timeout; PAYHUB_PLUTU_SLOW_SECONDS), or after <n> "
        "seconds with the prefix SLOW<n>- (SLOW3-INV-1). The call is then processed: "
        "the payment happens although the client has given up (outcome unknown).",
        invoice_prefix="SLOW-",
        amount=Decimal("504.04"),
    ),
    Scenario(
        Kind.MALFORMED,
        ALL,
        "Any API call: HTTP 200 with Content-Type application/json and a truncated, "
        "non-JSON body. The call is processed (outcome unknown).",
        invoice_prefix="MALFORMED-",
        amount=Decimal("200.02"),
    ),
    Scenario(
        Kind.CALLBACK_TWICE,
        TLYNC,
        "T-Lync: the callback is delivered twice, byte for byte the same.",
        invoice_prefix="TWICE-",
        amount=Decimal("222.22"),
    ),
    Scenario(
        Kind.CALLBACK_LATE,
        TLYNC,
        "T-Lync: the callback is sent late_callback_seconds (default 3 s; "
        "PAYHUB_PLUTU_LATE_CALLBACK_SECONDS) after the browser has been sent back, so "
        "the return arrives first.",
        invoice_prefix="LATE-",
        amount=Decimal("333.33"),
    ),
    Scenario(
        Kind.NO_CALLBACK,
        TLYNC,
        "T-Lync: no callback at all, only the browser return (which carries no amount).",
        invoice_prefix="NOCALLBACK-",
        amount=Decimal("404.04"),
    ),
    Scenario(
        Kind.BAD_SIGNATURE,
        REDIRECTS,
        "LBC/MPGS/T-Lync: the return (and T-Lync callback) `hashed` is made with a wrong "
        "key: verification must fail.",
        invoice_prefix="BADSIG-",
        amount=Decimal("401.01"),
    ),
)

_SLOW_N = re.compile(r"SLOW([0-9]{1,3})-", re.IGNORECASE)


def match_scenario(
    service: str,
    *,
    invoice_no: str | None = None,
    amount: Decimal | None = None,
    mobile: str | None = None,
) -> Scenario | None:
    """The scenario a request is in, if any."""
    candidates = [scenario for scenario in SCENARIOS if service in scenario.services]
    if invoice_no:
        upper = invoice_no.upper()
        for scenario in candidates:
            if scenario.invoice_prefix and upper.startswith(scenario.invoice_prefix):
                return scenario
            if scenario.kind is Kind.SLOW and _SLOW_N.match(invoice_no):
                return scenario
    if amount is not None:
        for scenario in candidates:
            if scenario.amount is not None and scenario.amount == amount:
                return scenario
    if mobile:
        normalized = mobile if mobile.startswith("0") else f"0{mobile}"
        for scenario in candidates:
            if scenario.mobile == normalized:
                return scenario
    return None


def slow_seconds(invoice_no: str | None, default: float) -> float:
    """How long the ``slow`` scenario waits: ``<n>`` from a ``SLOW<n>-`` prefix, else
    ``default``."""
    found = _SLOW_N.match(invoice_no or "")
    return float(found.group(1)) if found else default
