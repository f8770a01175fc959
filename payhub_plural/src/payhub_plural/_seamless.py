"""``plural.seamless``: the merchant collects the payment details and sends them.

Two calls: Create Order (``POST /api/pay/v1/orders``), then Create Payment
(``POST /api/pay/v1/orders/{order_id}/payments``) with the invoice's card, UPI or
netbanking details; the answer's ``challenge_url`` is where the customer authenticates
(card 3-D Secure, bank login, UPI intent). Sending card details needs PCI-DSS scope.
"""

from __future__ import annotations

from payhub_core import Checkout, Invoice, Redirect
from payhub_core.flows import Flow
from payhub_plural._base import PluralAdapter
from payhub_plural._orders import order_body, payment_body
from payhub_plural._wire import ORDERS_PATH

__all__ = ["SeamlessCheckoutAdapter"]


class SeamlessCheckoutAdapter(PluralAdapter):
    """Pine Labs Plural seamless checkout (entry point ``plural.seamless``).

    ``invoice.payment_method`` must be a ``Card``, ``Upi`` (collect with the payer's VPA,
    or intent) or ``Netbanking`` (Plural's pay code). ``initiate`` answers
    ``Redirect(challenge_url)``, or no action when Plural gives none (a UPI collect
    request waits for the payer's approval in their UPI app).
    """

    def _initiate(self, invoice: Invoice) -> Flow[Checkout]:
        # Both bodies are built (and checked) before anything is sent.
        body = order_body(invoice)
        payment = payment_body(invoice)
        created = yield from self._call(
            "POST",
            ORDERS_PATH,
            "Create Order",
            body,
            on_unknown=f"merchant_order_reference {invoice.number} is Plural's idempotency "
            "key: initiating the same invoice again returns the existing order",
        )
        order = created.order()
        payment_reference = payment.body["payments"][0]["merchant_payment_reference"]
        answer = yield from self._call(
            "POST",
            f"{ORDERS_PATH}/{order.order_id}/payments",
            "Create Payment",
            payment.body,
            secrets=payment.secrets,
            on_unknown=f"the payment was sent as merchant_payment_reference "
            f"{payment_reference} on order {order.order_id}; check the order's status",
        )
        paid = answer.order(order.order_id)
        action = Redirect(url=paid.challenge_url) if paid.challenge_url else None
        return Checkout(
            reference=paid.order_id, action=action, status=paid.payment_status, raw=paid.data
        )
