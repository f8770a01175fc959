"""payhub adapters for Pine Labs Plural (Pine Labs Online), API v3.

- ``plural.checkout`` (:class:`HostedCheckoutAdapter`): hosted checkout, redirect to
  Plural's page; no PCI scope.
- ``plural.seamless`` (:class:`SeamlessCheckoutAdapter`): the merchant sends card, UPI or
  netbanking details and redirects to the challenge URL.

Both share :class:`PluralSettings`, tokens, verify (signed browser returns and Standard
Webhooks), capture, cancel, refund and status. See docs/plural/.
"""

from payhub_plural._base import CAPABILITIES, PluralAdapter
from payhub_plural._hosted import HostedCheckoutAdapter
from payhub_plural._seamless import SeamlessCheckoutAdapter
from payhub_plural._settings import PRODUCTION_URL, UAT_URL, PluralSettings
from payhub_plural._status import ORDER_EVENTS, ORDER_STATUSES, REFUND_EVENTS
from payhub_plural._webhooks import UnsupportedEvent

__all__ = [
    "CAPABILITIES",
    "ORDER_EVENTS",
    "ORDER_STATUSES",
    "PRODUCTION_URL",
    "REFUND_EVENTS",
    "UAT_URL",
    "HostedCheckoutAdapter",
    "PluralAdapter",
    "PluralSettings",
    "SeamlessCheckoutAdapter",
    "UnsupportedEvent",
]
