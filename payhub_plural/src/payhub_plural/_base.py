"""What the hosted and the seamless adapter share: tokens, authorized calls, verify,
capture, cancel, refund and status. Only ``initiate`` differs between them.

Sans-I/O: every hook is a flow (a generator yielding ``httpx.Request`` and receiving
``httpx.Response``); the hub's driver does the network, retries and logging.
"""

from __future__ import annotations

import abc
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx

from payhub_core import (
    Callback,
    Capabilities,
    Checkout,
    GatewayError,
    GatewayUnavailable,
    InvalidRequest,
    Invoice,
    MalformedCallback,
    Money,
    OtpCode,
    PaymentResult,
    PaymentStatus,
    hookimpl,
)
from payhub_core.flows import Flow, exclusive, idempotent
from payhub_core.redaction import secret_values
from payhub_plural._orders import merchant_reference
from payhub_plural._returns import foreign_evidence, verify_return
from payhub_plural._settings import PluralSettings
from payhub_plural._status import ORDER_EVENTS, REFUND_EVENTS, order_status
from payhub_plural._tokens import TokenCache, parse_expiry
from payhub_plural._webhooks import UnsupportedEvent, WebhookEvent, is_webhook, read_event
from payhub_plural._wire import (
    CURRENCIES,
    MAX_MINOR,
    MIN_MINOR,
    ORDERS_PATH,
    REFUNDS_PATH,
    TOKEN_PATH,
    Answer,
    Order,
    Wire,
    check_reference,
    malformed,
    money_from,
    parse_order,
    read_json,
    wire_amount,
)

__all__ = ["CAPABILITIES", "PluralAdapter"]

logger = logging.getLogger("payhub.plural")

Clock = Callable[[], float]

CAPABILITIES = Capabilities(
    currencies=frozenset(CURRENCIES),
    operations=frozenset({"initiate", "verify", "capture", "cancel", "refund", "status"}),
    flows=frozenset({"redirect", "webhook"}),
    amount_decimals=2,
    min_amount=(Money.from_minor(MIN_MINOR, "INR"),),
    max_amount=(Money.from_minor(MAX_MINOR, "INR"),),
)

_TOKEN = re.compile(r"[\x21-\x7e]{1,8192}")  # printable ASCII: it goes into a header
_REFUNDABLE = frozenset({"PROCESSED", "PARTIALLY_REFUNDED"})


class PluralAdapter(abc.ABC):
    """Base of ``plural.checkout`` and ``plural.seamless``.

    State that outlives a call is the access token, cached on the instance (one instance
    per configured gateway). ``clock`` (unix seconds) is injectable for tests of token
    expiry and webhook tolerance; it may be replaced on a live instance.
    """

    Settings = PluralSettings
    capabilities = CAPABILITIES

    def __init__(self, settings: PluralSettings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or time.time
        self._tokens = TokenCache(self._now)
        self._wire = Wire(settings.root(), self._now)
        self._secrets = tuple(secret_values(settings))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(environment={self.settings.environment!r}, "
            f"root={self._wire.root!r}, client_id={self.settings.client_id!r})"
        )

    def _now(self) -> float:
        return self.clock()

    # -- tokens ------------------------------------------------------------------------

    def _fetch_token(self, stale: str | None) -> Flow[str]:
        """Runs holding the lock. Look again first: whoever held the lock before may have
        fetched a token already (check, lock, check again). ``stale`` is a token the
        gateway refused, which must not be handed out again."""
        current = self._tokens.current()
        if current is not None and current != stale:
            return current
        sent_at = self._now()
        request = idempotent(
            self._wire.request(
                "POST",
                TOKEN_PATH,
                body={
                    "client_id": self.settings.client_id,
                    "client_secret": self.settings.client_secret.get_secret_value(),
                    "grant_type": "client_credentials",
                },
            )
        )
        try:
            response: httpx.Response = yield request
        except GatewayUnavailable as error:
            # A token request changes no payment, and without a token the call it was
            # for was never sent: whatever the driver says, nothing is in doubt.
            raise GatewayUnavailable(
                f"{error.message}; no access token, so nothing else was sent",
                outcome_unknown=False,
                http_status=error.http_status,
                code=error.code,
            ) from error
        body = read_json(response, "the token request", self._secrets)
        token = body.get("access_token")
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            raise malformed("the token request", response, "no usable access_token")
        try:
            expires_at = parse_expiry(body, sent_at)
        except (ValueError, OverflowError):
            raise malformed("the token request", response, "expires_at/expires_in") from None
        self._tokens.store(token, received_at=sent_at, expires_at=expires_at)
        logger.debug(
            "fetched a Plural access token, valid for %.0f s", max(expires_at - sent_at, 0)
        )
        return token

    # -- authorized calls --------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        what: str,
        body: Mapping[str, Any] | None = None,
        *,
        safe: bool = False,
        secrets: Iterable[str] = (),
        on_unknown: str | None = None,
    ) -> Flow[Answer]:
        """One authorized call and its JSON answer (``what`` names it in errors).

        The token is the cached one, or one fetched under the gateway's ``token`` lock so
        that concurrent calls wait for a single token request. A 401 means the token died
        early: drop it, fetch another (once, under the lock) and repeat the call once. A
        401 is a refusal, so repeating even a capture or refund cannot double it.
        ``safe`` marks the request idempotent (the driver may repeat it). For a call that
        moves money, ``on_unknown`` says how to recognise it later (its merchant
        reference), in the error of an unknown outcome. ``secrets`` (card data) and the
        token are cut out of any error.

        One generator per call, on purpose: every operation runs through it.
        """
        token = self._tokens.current()
        if token is None:
            token = yield from exclusive("token", self._fetch_token(stale=None))
        refused = False
        while True:
            request = self._wire.request(method, path, token=token, body=body)
            try:
                response: httpx.Response = yield idempotent(request) if safe else request
            except GatewayUnavailable as error:
                if on_unknown is None or not error.outcome_unknown:
                    raise
                raise GatewayUnavailable(
                    f"{error.message}; {on_unknown}",
                    outcome_unknown=True,
                    http_status=error.http_status,
                    code=error.code,
                ) from error
            if response.status_code != 401:
                break
            self._tokens.invalidate(token)
            if refused:
                break  # refused twice: the next call starts afresh
            refused = True
            logger.info("Plural refused the access token (HTTP 401); fetching a new one")
            token = yield from exclusive("token", self._fetch_token(stale=token))
        data = read_json(response, what, (*secrets, token, *self._secrets), on_unknown)
        return Answer(what, response, data, on_unknown)

    def _get_order(self, order_id: str) -> Flow[Order]:
        answer = yield from self._call("GET", f"{ORDERS_PATH}/{order_id}", "Get Order", safe=True)
        return answer.order(order_id)

    # -- hooks -------------------------------------------------------------------------

    @abc.abstractmethod
    def _initiate(self, invoice: Invoice) -> Flow[Checkout]:
        """How this adapter starts a payment (hosted link or order + payment)."""

    @hookimpl
    def payhub_initiate(self, invoice: Invoice) -> Flow[Checkout]:
        return self._initiate(invoice)  # the flow itself: nothing is checked before it runs

    @hookimpl
    def payhub_verify(self, evidence: Callback | OtpCode) -> Flow[PaymentResult]:
        if not isinstance(evidence, Callback):
            raise InvalidRequest(
                "Plural has no OTP step: verify takes the Callback of a return or webhook, "
                "not an OtpCode",
                field="evidence",
                rule="Callback",
            )
        if is_webhook(evidence):
            result: PaymentResult = yield from self._verify_webhook(evidence)
        else:
            result = yield from self._verify_return(evidence)
        return result

    @hookimpl
    def payhub_capture(
        self, reference: str, amount: Money | None, idempotency_key: str | None
    ) -> Flow[PaymentResult]:
        order_id = check_reference(reference, "reference")
        # The ledger's reference when given (written before sending: a resend reuses it).
        capture_reference = _reference(idempotency_key, "cap")
        body: dict[str, Any] = {"merchant_capture_reference": capture_reference}
        if amount is not None:
            body["capture_amount"] = wire_amount(amount)
        answer = yield from self._call(
            "PUT",
            f"{ORDERS_PATH}/{order_id}/capture",
            "the capture",
            body,
            on_unknown=f"it was sent with merchant_capture_reference {capture_reference}; "
            "check the order's status before capturing again",
        )
        return answer.order(order_id).result()

    @hookimpl
    def payhub_cancel(self, reference: str) -> Flow[PaymentResult]:
        order_id = check_reference(reference, "reference")
        answer = yield from self._call(
            "PUT",
            f"{ORDERS_PATH}/{order_id}/cancel",
            "the cancel",
            on_unknown="check the order's status before cancelling again",
        )
        return answer.order(order_id).result()

    @hookimpl
    def payhub_refund(
        self, reference: str, amount: Money | None, idempotency_key: str | None
    ) -> Flow[PaymentResult]:
        """Refund ``amount`` (``None``: what is left).

        Get Order comes first (it is safe to repeat): it says how much is left, so that a
        full refund can name its amount (Plural wants ``order_amount``), an amount that
        cannot be refunded is refused before anything moves, and the result can say
        whether the payment is now partially or fully refunded.
        """
        order_id = check_reference(reference, "reference")
        if amount is not None:
            wire_amount(amount)
        parent = yield from self._get_order(order_id)
        left = _refundable(parent)
        if left is not None and left.amount <= 0:
            raise InvalidRequest(
                "nothing of this payment is left to refund",
                field="amount",
                rule="a payment with something left to refund",
            )
        if amount is None:
            if left is None:
                raise InvalidRequest(
                    "the order is already partially refunded and Plural does not say by how "
                    "much: pass the amount to refund",
                    field="amount",
                    rule="required after a partial refund",
                )
            amount = left
        elif left is not None and amount > left:
            raise InvalidRequest(
                f"only {left} of this payment can still be refunded, not {amount}",
                field="amount",
                rule=f"at most {left}",
            )
        refund_reference = _reference(idempotency_key, "rf")
        on_unknown = (
            f"it was sent as refund merchant_order_reference {refund_reference}; "
            "look that reference up before refunding again"
        )
        answer = yield from self._call(
            "POST",
            f"{REFUNDS_PATH}/{order_id}",
            "the refund",
            {"merchant_order_reference": refund_reference, "order_amount": wire_amount(amount)},
            on_unknown=on_unknown,
        )
        refund = answer.order()
        if refund.status == "FAILED":
            raise GatewayError(
                f"Plural did not process refund {refund_reference} of order {order_id}",
                http_status=answer.response.status_code,
                code="REFUND_FAILED",
            )
        if refund.status == "PROCESSED":
            full = left is not None and refund.amount == left
            status = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
        else:
            # Accepted, not processed yet (CREATED/PENDING): the payment stands where it
            # stood; REFUND_PROCESSED or status() will say when the money is back.
            status = parent.payment_status
        return PaymentResult(
            status=status,
            reference=order_id,
            invoice_number=parent.merchant_reference,
            amount=refund.amount,
            transaction_id=refund.order_id,
            payment_method=parent.payment_method,
            raw=refund.data,
        )

    @hookimpl
    def payhub_status(self, reference: str, merchant_reference: str | None) -> Flow[PaymentResult]:
        if merchant_reference is not None and not reference:
            order = yield from self._get_order_by_reference(merchant_reference)
            return order.result()
        order_id = check_reference(reference, "reference")
        answer = yield from self._call("GET", f"{ORDERS_PATH}/{order_id}", "Get Order", safe=True)
        return answer.order(order_id).result()

    def _get_order_by_reference(self, wanted: str) -> Flow[Order]:
        """Get Order by merchant reference: where an order whose create answer was lost
        stands (its ``merchant_order_reference`` is the invoice number). Plural's 404 says
        the create never took effect: ``GatewayError(code="NOT_FOUND")``, as the
        ``payhub_status`` hookspec asks."""
        wanted = check_reference(wanted, "merchant_reference")
        try:
            answer = yield from self._call(
                "GET", f"{ORDERS_PATH}/reference/{wanted}", "Get Order by reference", safe=True
            )
        except GatewayError as error:
            if error.http_status != 404:
                raise
            raise GatewayError(
                f"Plural has no order with merchant_order_reference {wanted}",
                http_status=404,
                code="NOT_FOUND",
                gateway_message=error.gateway_message,
            ) from error
        order = answer.order()
        if order.merchant_reference != wanted:
            raise answer.malformed("it describes another order")
        return order

    # -- verify ------------------------------------------------------------------------

    def _verify_return(self, callback: Callback) -> Flow[PaymentResult]:
        pairs = callback.params()
        if not pairs and callback.body:
            # A body that is not a form (T-Lync's JSON callback, say) without webhook
            # headers: neither of Plural's two kinds of evidence.
            raise foreign_evidence()
        signed = verify_return(pairs, self.settings.return_key())
        if not self.settings.confirm_with_get_order:
            # The signature vouches for the order id and status, nothing else: no amount
            # and no invoice number, so hub.verify(expected=...) cannot match a paid
            # result and refuses it. Confirming (the default) is the way to get them.
            return PaymentResult(
                status=order_status(signed.status),
                reference=signed.order_id,
                raw=dict(signed.fields),
            )
        order_id = signed.order_id
        answer = yield from self._call("GET", f"{ORDERS_PATH}/{order_id}", "Get Order", safe=True)
        return answer.order(order_id).result()

    def _verify_webhook(self, callback: Callback) -> Flow[PaymentResult]:
        event = read_event(
            callback,
            self.settings.webhook_key(),
            tolerance=self.settings.webhook_tolerance,
            now=self._now(),
        )
        if event.event_type in REFUND_EVENTS:
            result: PaymentResult = yield from self._refund_event(event)
            return result
        status = ORDER_EVENTS.get(event.event_type)
        if status is None:
            raise UnsupportedEvent(
                f"Plural event {event.event_type} is not about a payment; payhub reads "
                "order and refund events only (answer it with 2xx)",
                event_id=event.event_id,
                event_type=event.event_type,
            )
        order = _event_order(event)
        if order.parent_order_id is not None or order.data.get("type") == "REFUND":
            raise MalformedCallback(
                f"the Plural {event.event_type} webhook describes a refund order, not a payment"
            )
        return order.result(
            status=status,
            event_id=event.event_id,
            event_type=event.event_type,
            raw=event.payload,
        )

    def _refund_event(self, event: WebhookEvent) -> Flow[PaymentResult]:
        """A refund event's data is the refund order; where the payment stands comes from
        its parent, so the parent is looked up (Get Order, safe to repeat)."""
        refund = _event_order(event)
        if refund.parent_order_id is None:
            raise MalformedCallback(f"the Plural {event.event_type} webhook has no parent_order_id")
        parent_id = check_reference(refund.parent_order_id, "parent_order_id")
        parent = yield from self._get_order(parent_id)
        if event.event_type == "REFUND_PROCESSED":
            # The event proves money went back, whatever a lagging parent status says.
            fully = parent.status == "FULLY_REFUNDED"
            status = PaymentStatus.REFUNDED if fully else PaymentStatus.PARTIALLY_REFUNDED
            amount = refund.amount
        else:
            # REFUND_FAILED: the payment is where it was; report it whole.
            status, amount = parent.payment_status, parent.amount
        return PaymentResult(
            status=status,
            reference=parent.order_id,
            invoice_number=parent.merchant_reference,
            amount=amount,
            transaction_id=refund.order_id,
            payment_method=parent.payment_method,
            raw={**event.payload, "parent_order": parent.data},
            event_id=event.event_id,
            event_type=event.event_type,
        )


def _reference(idempotency_key: str | None, prefix: str) -> str:
    """The merchant reference to send: the caller's idempotency key, else a fresh one."""
    if idempotency_key is None:
        return merchant_reference(prefix)
    return check_reference(idempotency_key, "idempotency_key")


def _event_order(event: WebhookEvent) -> Order:
    try:
        return parse_order(event.data)
    except ValueError as error:
        raise MalformedCallback(f"the Plural {event.event_type} webhook data: {error}") from None


def _sum(amounts: Iterable[Money]) -> Money | None:
    total: Money | None = None
    for amount in amounts:
        total = amount if total is None else total + amount
    return total


def _refundable(order: Order) -> Money | None:
    """What is left to refund of ``order``, or ``None`` when Plural does not say.

    Paid is the captured amount when the order was captured (a partial capture releases
    the rest), else the order amount. Refunds already made come from the order's
    ``refunds`` list when it has one (newer API versions); a PARTIALLY_REFUNDED order
    without it leaves the remainder unknown.
    """
    if order.status not in _REFUNDABLE:
        raise InvalidRequest(
            f"Plural refunds paid orders only; this order is {order.status}",
            field="reference",
            rule="order status PROCESSED or PARTIALLY_REFUNDED",
        )
    try:
        captured = _sum(
            money_from(capture.get("capture_amount"), "capture_amount")
            for payment in _objects(order.data.get("payments"))
            for capture in _objects(payment.get("capture_data"))
            if capture.get("capture_amount") is not None
        )
        refunds = order.data.get("refunds")
        refunded = (
            _sum(
                money_from(item.get("order_amount", item.get("refund_amount")), "refund")
                for item in _objects(refunds)
                if str(item.get("status", "")).upper() != "FAILED"
            )
            if isinstance(refunds, list)
            else None
        )
    except ValueError:
        return None
    if order.status == "PARTIALLY_REFUNDED" and not isinstance(refunds, list):
        return None
    paid = captured if captured is not None else order.amount
    if refunded is not None:
        if refunded.currency != paid.currency:
            return None
        paid = paid - refunded
    return paid


def _objects(value: object) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []
