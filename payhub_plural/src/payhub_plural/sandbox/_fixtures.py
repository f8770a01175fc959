"""The sandbox's fixed test data: credentials, merchant, test instruments, scenarios.

Everything here is published on purpose (``GET /plural/_sandbox`` and
docs/sandbox-plural.md): none of it is a secret anywhere but in this sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "DEFAULT_REORDER_DELAY",
    "DEFAULT_SLOW_SECONDS",
    "DEFAULT_TOKEN_TTL",
    "MERCHANT_ID",
    "MERCHANT_NAME",
    "SCENARIOS",
    "SECRET_KEY",
    "TEST_CARD",
    "TEST_NETBANKING_CODE",
    "TEST_UPI_VPA",
    "Scenario",
    "ScenarioName",
    "scenario_for",
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

ScenarioName = Literal[
    "decline",
    "insufficient_funds",
    "gateway_error",
    "slow",
    "malformed",
    "rate_limit",
    "webhook_twice",
    "webhooks_out_of_order",
    "token_expiry",
]


@dataclass(frozen=True)
class Scenario:
    """A behaviour a developer triggers on purpose: the order's ``merchant_order_reference``
    (the invoice number) starts with ``prefix``."""

    name: ScenarioName
    prefix: str
    effect: str

    def as_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "trigger": f"merchant_order_reference starts with {self.prefix!r}",
            "prefix": self.prefix,
            "effect": self.effect,
        }


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "decline",
        "DECLINE-",
        "Approve acts as an issuer decline: order and payment FAILED, return status FAILED "
        "with error_code PAYMENT_DECLINED, webhook ORDER_FAILED.",
    ),
    Scenario(
        "insufficient_funds",
        "NOFUNDS-",
        "Approve fails for lack of funds: order and payment FAILED, return status FAILED "
        "with error_code INSUFFICIENT_FUNDS, webhook ORDER_FAILED.",
    ),
    Scenario(
        "gateway_error",
        "ERROR500-",
        "Create order (hosted or seamless) answers HTTP 500 INTERNAL_ERROR; nothing is created.",
    ),
    Scenario(
        "slow",
        "SLOW-",
        "Create order creates the order, then answers only after slow_seconds (default 35 s, "
        "past the hub's 30 s timeout; set it with PUT /_sandbox/config). Every create with "
        "this reference is slow; Get Order by reference answers at once.",
    ),
    Scenario(
        "malformed",
        "MALFORMED-",
        "Create order answers HTTP 200 with a truncated, non-JSON body; nothing is created.",
    ),
    Scenario(
        "rate_limit",
        "RATELIMIT-",
        "Create order answers HTTP 429 API_RATE_LIMIT with Retry-After: 1; nothing is created.",
    ),
    Scenario(
        "webhook_twice",
        "DUPWEBHOOK-",
        "Every webhook about this order (and its refunds) is delivered twice: the same "
        "webhook-id, timestamp, signature and body.",
    ),
    Scenario(
        "webhooks_out_of_order",
        "REORDER-",
        "The webhook for the customer's decision (ORDER_PROCESSED, ORDER_AUTHORIZED, "
        "ORDER_FAILED, ORDER_CANCELLED) is held back reorder_delay seconds (default 3), so "
        "the webhooks of your next calls (capture, cancel, refund) arrive before it.",
    ),
    Scenario(
        "token_expiry",
        "EXPIRETOKEN-",
        "The first create order with this reference revokes the access token it carried and "
        "answers 401 UNAUTHORIZED, as an expired token does; a new token and a retry "
        "succeed.",
    ),
)


def scenario_for(reference: str) -> Scenario | None:
    """The scenario ``reference`` triggers, if any (prefixes are case-sensitive)."""
    for scenario in SCENARIOS:
        if reference.startswith(scenario.prefix):
            return scenario
    return None
