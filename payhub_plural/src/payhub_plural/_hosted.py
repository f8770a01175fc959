"""``plural.checkout``: Plural's hosted checkout page collects the payment details.

``POST /api/checkout/v1/orders`` creates the order and answers a ``redirect_url``; the
merchant never sees card data (no PCI scope).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from payhub_core import Checkout, Invoice, PaymentStatus, Redirect
from payhub_core.flows import Flow
from payhub_plural._base import PluralAdapter
from payhub_plural._orders import hosted_methods, order_body
from payhub_plural._wire import CHECKOUT_PATH, REFERENCE

__all__ = ["HostedCheckoutAdapter"]


class HostedCheckoutAdapter(PluralAdapter):
    """Pine Labs Plural hosted checkout (entry point ``plural.checkout``).

    ``initiate`` answers ``Redirect(redirect_url)``; the customer pays on Plural's page
    and comes back to ``invoice.return_url`` with a signed return. ``invoice.payment_method``
    may name the methods to offer (``"upi"``, ``"card,netbanking"``).
    """

    def _initiate(self, invoice: Invoice) -> Flow[Checkout]:
        body = order_body(invoice)
        methods = hosted_methods(invoice)
        if methods is not None:
            body["allowed_payment_methods"] = methods
        on_unknown = (
            f"merchant_order_reference {invoice.number} is Plural's idempotency key: "
            "initiating the same invoice again returns the existing order"
        )
        answer = yield from self._call(
            "POST", CHECKOUT_PATH, "the checkout link", body, on_unknown=on_unknown
        )
        data = answer.body
        order_id = data.get("order_id")
        redirect_url = data.get("redirect_url")
        code = data.get("response_code")
        if code is not None and code != 200:
            raise answer.malformed(f"response_code {code!r}")
        if not isinstance(order_id, str) or not REFERENCE.fullmatch(order_id):
            raise answer.malformed("no usable order_id")
        if not isinstance(redirect_url, str) or urlsplit(redirect_url).scheme not in (
            "http",
            "https",
        ):
            raise answer.malformed("no usable redirect_url")
        return Checkout(
            reference=order_id,
            action=Redirect(url=redirect_url),
            status=PaymentStatus.PENDING,
            raw=data,
        )
