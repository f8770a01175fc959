"""The scenarios a developer triggers on purpose, by the invoice number's prefix.

``GET /plural/_sandbox`` lists them and docs/sandbox-plural.md explains each; the emulator
(``_app``) acts on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["SCENARIOS", "Scenario", "ScenarioName", "scenario_for"]

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
