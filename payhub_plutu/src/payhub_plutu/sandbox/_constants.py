"""The sandbox's fixed, documented test data, its services, and its knobs."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from payhub_core import ConfigurationError

__all__ = [
    "ACCESS_TOKEN",
    "ADFALI_OTP",
    "API_KEY",
    "MERCHANT_NAME",
    "PAYMENT_METHODS",
    "SADAD_OTP",
    "SECRET_KEY",
    "SERVICES",
    "TEST_BIRTH_YEAR",
    "TEST_MOBILE",
    "TLYNC_MOBILE",
    "UNSUBSCRIBED_MOBILE",
    "SandboxConfig",
    "Service",
]

# Test credentials. Fixed and public on purpose: they only ever open this local emulator.
API_KEY = "plutu-sandbox-api-key"
ACCESS_TOKEN = "plutu-sandbox-access-token"  # noqa: S105 (public sandbox credential)
SECRET_KEY = "sk_e45a1af1931c6ef84434613f76b53455e1d46433"  # noqa: S105 (same format as the SDK's)

# Sadad and Adfali send no real OTP here: these codes always work (the values that recur
# in Plutu's API documentation examples).
SADAD_OTP = "111111"
ADFALI_OTP = "1111"

TEST_MOBILE = "0913632323"  # works for Sadad, Adfali and T-Lync
TLYNC_MOBILE = "0910441322"  # the T-Lync example number of third-party clients
UNSUBSCRIBED_MOBILE = "0919999999"  # not a wallet subscriber (see the scenario table)
TEST_BIRTH_YEAR = 1990

MERCHANT_NAME = "payhub sandbox merchant"

# What T-Lync reports as the method used on its own page (the ``payment_method`` values of
# Plutu's T-Lync documentation).
PAYMENT_METHODS = ("tadawul", "edfaly", "sadad", "mobicash", "moamalat")


@dataclass(frozen=True)
class Service:
    """One Plutu payment service, as its API path names it."""

    slug: str
    adapter: str
    title: str
    flow: Literal["otp", "redirect"]
    actions: tuple[str, ...]
    currency: str = "LYD"
    mobile_pattern: re.Pattern[str] | None = None
    otp: str | None = None


_SADAD_MOBILE = re.compile(r"0?9[13][0-9]{7}")
_LIBYAN_MOBILE = re.compile(r"0?9[1-6][0-9]{7}")

SERVICES: dict[str, Service] = {
    service.slug: service
    for service in (
        Service(
            slug="sadadapi",
            adapter="plutu.sadad",
            title="Sadad",
            flow="otp",
            actions=("verify", "confirm"),
            mobile_pattern=_SADAD_MOBILE,
            otp=SADAD_OTP,
        ),
        Service(
            slug="edfali",
            adapter="plutu.adfali",
            title="Adfali",
            flow="otp",
            actions=("verify", "confirm"),
            mobile_pattern=_LIBYAN_MOBILE,
            otp=ADFALI_OTP,
        ),
        Service(
            slug="localbankcards",
            adapter="plutu.localbankcards",
            title="Local Bank Cards",
            flow="redirect",
            actions=("confirm",),
        ),
        Service(
            slug="mpgs",
            adapter="plutu.mpgs",
            title="MPGS",
            flow="redirect",
            actions=("confirm",),
            currency="USD",
        ),
        Service(
            slug="tlync",
            adapter="plutu.tlync",
            title="T-Lync",
            flow="redirect",
            actions=("confirm",),
            mobile_pattern=_LIBYAN_MOBILE,
        ),
    )
}

_SLOW_ENV = "PAYHUB_PLUTU_SLOW_SECONDS"
_LATE_ENV = "PAYHUB_PLUTU_LATE_CALLBACK_SECONDS"


def _env_seconds(name: str, default: float) -> float:
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:
        raise ConfigurationError(f"{name} must be a number of seconds between 0 and 3600")
    return value


@dataclass(frozen=True)
class SandboxConfig:
    """Knobs of one emulator instance (the entry point uses the defaults).

    ``slow_seconds`` is how long the ``slow`` scenario waits before answering: by default
    35 s, past the 30 s default timeout of payhub's drivers (environment variable
    ``PAYHUB_PLUTU_SLOW_SECONDS``). ``late_callback_seconds`` delays the T-Lync callback
    of the ``callback_late`` scenario (``PAYHUB_PLUTU_LATE_CALLBACK_SECONDS``).
    ``otp_ttl`` is how long a Sadad/Adfali OTP stays valid; ``max_otp_attempts`` wrong
    codes close the process. ``clock`` is monotonic seconds (tests inject their own).
    """

    api_key: str = API_KEY
    access_token: str = ACCESS_TOKEN
    secret_key: str = SECRET_KEY
    mpgs_currency: str = "USD"
    slow_seconds: float = 35.0
    late_callback_seconds: float = 3.0
    duplicate_callback_delay: float = 0.3
    otp_ttl: float = 300.0
    max_otp_attempts: int = 3
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    @classmethod
    def from_env(cls) -> SandboxConfig:
        return cls(
            slow_seconds=_env_seconds(_SLOW_ENV, cls.slow_seconds),
            late_callback_seconds=_env_seconds(_LATE_ENV, cls.late_callback_seconds),
        )
