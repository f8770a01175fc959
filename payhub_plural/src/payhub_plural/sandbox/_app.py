"""The Plural emulator's ASGI app: API, hosted checkout and challenge pages, webhooks,
and the ``/_sandbox`` controls."""

from __future__ import annotations

import asyncio
import json
import secrets
import string
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html import escape
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from payhub_core.sandbox import ASGIApp, Delivery, Notifier, autosubmit_page, checkout_page
from payhub_core.signing import sign_webhook, webhook_key
from payhub_plural.sandbox._constants import (
    CLIENT_ID,
    CLIENT_SECRET,
    MERCHANT_ID,
    MERCHANT_NAME,
    SECRET_KEY,
    TEST_CARD,
    TEST_NETBANKING_CODE,
    TEST_UPI_VPA,
)
from payhub_plural.sandbox._scenarios import SCENARIOS, scenario_for
from payhub_plural.sandbox._signing import return_signature
from payhub_plural.sandbox._state import Order, Payment, Store, iso_time
from payhub_plural.sandbox._validation import (
    MIN_AMOUNT,
    Amount,
    PluralError,
    capture_request,
    card_data,
    invalid,
    order_request,
    payment_request,
    refund_request,
    token_request,
)

__all__ = ["PluralEmulator", "create_app"]

_ALNUM = string.ascii_letters + string.digits
_DUPLICATE_RESEND_DELAY = 0.2
_DECISIONS = ("approve", "decline", "cancel")
_SUCCESS_EVENT = {"AUTHORIZED": "ORDER_AUTHORIZED", "PROCESSED": "ORDER_PROCESSED"}
# A reply cut off mid-way, as a broken proxy or a crashed upstream leaves it.
_MALFORMED_BODY = b'{"data": {"order_id": "v1-'


def _unauthorized() -> PluralError:
    return PluralError(401, "UNAUTHORIZED", "Unauthorized")


def _rupees(paise: int) -> str:
    return f"₹{paise // 100:,}.{paise % 100:02d}"


def _digits(length: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(length))


def _message(title: str, text: str, status: int) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}"
        f"</title></head><body><main><h1>{escape(title)}</h1><p>{escape(text)}</p></main>"
        "</body></html>",
        status_code=status,
    )


@dataclass
class WebhookEvent:
    """One webhook as the emulator signed it, and its deliveries (none without a URL)."""

    event_type: str
    order_id: str
    webhook_id: str
    timestamp: int
    body: bytes
    headers: dict[str, str]
    url: str | None
    deliveries: list[Delivery] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "event_type": self.event_type,
            "order_id": self.order_id,
            "webhook_id": self.webhook_id,
            "timestamp": self.timestamp,
            "url": self.url,
            "headers": self.headers,
            "body": self.body.decode("utf-8"),
            "deliveries": [
                {"attempts": item.attempts, "status": item.status, "error": item.error}
                for item in self.deliveries
            ],
        }


class PluralEmulator:
    """One emulator instance: its state, its notifier and its Starlette app."""

    def __init__(self, base_url: str, *, notifier: Notifier | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.store = Store()
        self.notifier = notifier or Notifier()
        self.events: list[WebhookEvent] = []
        self.app = Starlette(
            routes=[
                Route("/api/auth/v1/token", self.token, methods=["POST"]),
                Route("/api/checkout/v1/orders", self.create_checkout_order, methods=["POST"]),
                Route("/api/pay/v1/orders", self.create_order, methods=["POST"]),
                Route(
                    "/api/pay/v1/orders/reference/{reference}",
                    self.get_order_by_reference,
                    methods=["GET"],
                ),
                Route("/api/pay/v1/orders/{order_id}", self.get_order, methods=["GET"]),
                Route(
                    "/api/pay/v1/orders/{order_id}/payments",
                    self.create_payment,
                    methods=["POST"],
                ),
                Route("/api/pay/v1/orders/{order_id}/capture", self.capture, methods=["PUT"]),
                Route("/api/pay/v1/orders/{order_id}/cancel", self.cancel, methods=["PUT"]),
                Route("/api/pay/v1/refunds/{order_id}", self.refund, methods=["POST"]),
                Route("/checkout/redirect", self.checkout_page, methods=["GET"]),
                Route("/checkout/redirect", self.checkout_decision, methods=["POST"]),
                Route("/challenge/{token}", self.challenge_page, methods=["GET"]),
                Route("/challenge/{token}", self.challenge_decision, methods=["POST"]),
                Route("/_sandbox", self.info, methods=["GET"]),
                Route("/_sandbox/config", self.get_config, methods=["GET"]),
                Route("/_sandbox/config", self.put_config, methods=["PUT"]),
                Route("/_sandbox/expire-tokens", self.expire_tokens, methods=["POST"]),
                Route("/_sandbox/webhooks", self.webhooks, methods=["GET"]),
                Route("/_sandbox/reset", self.reset, methods=["POST"]),
            ],
            exception_handlers={
                PluralError: self._plural_error,
                HTTPException: self._http_error,
            },
        )

    # -- plumbing -----------------------------------------------------------------------

    @staticmethod
    async def _plural_error(_request: Request, error: Exception) -> Response:
        if not isinstance(error, PluralError):  # registered for PluralError only
            raise error
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)

    @staticmethod
    async def _http_error(_request: Request, error: Exception) -> Response:
        if not isinstance(error, HTTPException):  # registered for HTTPException only
            raise error
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(error.status_code, "ERROR")
        return JSONResponse(
            {"code": code, "message": str(error.detail)},
            status_code=error.status_code,
            headers=error.headers,
        )

    @staticmethod
    async def _json(request: Request) -> Any:
        raw = await request.body()
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise invalid("the request body is not valid JSON") from None

    def _authorize(self, request: Request) -> str:
        request_id = request.headers.get("request-id")
        if request_id is not None and not 1 <= len(request_id) <= 50:
            raise invalid("Request-ID must be 1 to 50 characters")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not self.store.token_valid(token):
            raise _unauthorized()
        return token

    def _order(self, request: Request) -> Order:
        order = self.store.find(request.path_params["order_id"])
        if order is None:
            raise PluralError(404, "ORDER_NOT_FOUND", "Order not found")
        return order

    def _data(self, order: Order) -> JSONResponse:
        return JSONResponse({"data": self.store.order_json(order)})

    # -- token --------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        client_id, client_secret = token_request(await self._json(request))
        if client_id != CLIENT_ID or client_secret != CLIENT_SECRET:
            raise _unauthorized()
        token, expires = self.store.issue_token()
        moment = datetime.fromtimestamp(expires, timezone.utc)
        return JSONResponse(
            {"access_token": token, "expires_at": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        )

    # -- orders -------------------------------------------------------------------------

    async def create_checkout_order(self, request: Request) -> Response:
        return await self._create(request, hosted=True)

    async def create_order(self, request: Request) -> Response:
        return await self._create(request, hosted=False)

    async def _create(self, request: Request, *, hosted: bool) -> Response:
        token = self._authorize(request)
        wanted = order_request(await self._json(request), hosted=hosted)
        scenario = scenario_for(wanted.reference)
        name = scenario.name if scenario is not None else None
        if name == "token_expiry" and wanted.reference not in self.store.tripped:
            self.store.tripped.add(wanted.reference)
            self.store.tokens[token] = time.time()
            raise _unauthorized()
        if name == "gateway_error":
            raise PluralError(500, "INTERNAL_ERROR", "Internal server error")
        if name == "rate_limit":
            raise PluralError(
                429,
                "API_RATE_LIMIT",
                "Too many requests: retry later",
                headers={"Retry-After": "1"},
            )
        if name == "malformed":
            return Response(_MALFORMED_BODY, media_type="application/json")

        order = self.store.find_reference(wanted.reference)
        if order is not None:
            same = (
                order.type == "CHARGE"
                and order.amount == wanted.amount
                and order.pre_auth == wanted.pre_auth
            )
            if not same:
                raise PluralError(
                    422,
                    "DUPLICATE_REQUEST",
                    f"merchant_order_reference {wanted.reference} is already used by another "
                    "request",
                )
        else:
            now = time.time()
            order = self.store.add(
                Order(
                    order_id=self.store.new_order_id(),
                    reference=wanted.reference,
                    type="CHARGE",
                    status="CREATED",
                    amount=wanted.amount,
                    pre_auth=wanted.pre_auth,
                    integration_mode=wanted.integration_mode or "SEAMLESS",
                    created_at=now,
                    updated_at=now,
                    scenario=scenario,
                    allowed_payment_methods=wanted.allowed_payment_methods,
                    notes=wanted.notes,
                    callback_url=wanted.callback_url,
                    failure_callback_url=wanted.failure_callback_url,
                    purchase_details=wanted.purchase_details,
                )
            )
        body: dict[str, Any]
        if hosted:
            if order.checkout_token is None:
                order.checkout_token = self.store.new_token()
                self.store.checkout_tokens[order.checkout_token] = order.order_id
            body = {
                "token": order.checkout_token,
                "order_id": order.order_id,
                "redirect_url": (
                    f"{self.base_url}/checkout/redirect?token={quote(order.checkout_token)}"
                ),
                "response_code": 200,
                "response_message": "Order Creation Successful.",
            }
        else:
            body = {"data": self.store.order_json(order)}
        if name == "slow":
            await asyncio.sleep(self.store.config.slow_seconds)
        return JSONResponse(body)

    async def get_order(self, request: Request) -> Response:
        self._authorize(request)
        return self._data(self._order(request))

    async def get_order_by_reference(self, request: Request) -> Response:
        self._authorize(request)
        order = self.store.find_reference(request.path_params["reference"])
        if order is None:
            raise PluralError(404, "ORDER_NOT_FOUND", "Order not found")
        return self._data(order)

    # -- payments -----------------------------------------------------------------------

    async def create_payment(self, request: Request) -> Response:
        self._authorize(request)
        order = self._order(request)
        wanted = payment_request(await self._json(request))
        if order.type != "CHARGE":
            raise PluralError(422, "OPERATION_NOT_ALLOWED", "A refund order takes no payment")
        if any(payment.reference == wanted.reference for payment in order.payments):
            return self._data(order)  # merchant_payment_reference is an idempotency key
        if order.status != "CREATED":
            raise PluralError(
                422,
                "OPERATION_NOT_ALLOWED",
                f"The order is {order.status}: a payment can be added only to a CREATED order",
            )
        if (
            order.allowed_payment_methods is not None
            and wanted.method not in order.allowed_payment_methods
        ):
            raise PluralError(
                422,
                "PAYMENT_METHOD_NOT_ENABLED",
                f"{wanted.method} is not in the order's allowed_payment_methods",
            )
        if order.pre_auth and wanted.method != "CARD":
            raise PluralError(
                422,
                "PAYMENT_METHOD_NOT_ENABLED",
                "Pre-authorization is supported for card payments only",
            )
        if wanted.amount != order.amount:
            raise invalid("payment_amount must equal the order amount")
        self._add_payment(order, wanted.reference, wanted.method, wanted.option, "PENDING")
        order.status = "PENDING"
        challenge = self.store.new_token()
        self.store.challenge_tokens[challenge] = order.order_id
        order.challenge_url = f"{self.base_url}/challenge/{challenge}"
        order.touch()
        return self._data(order)

    def _add_payment(
        self, order: Order, reference: str, method: str, option: dict[str, Any], status: str
    ) -> Payment:
        now = time.time()
        payment = Payment(
            id=f"{order.order_id}-cc-{string.ascii_uppercase[len(order.payments) % 26]}",
            reference=reference,
            status=status,
            amount=order.amount,
            method=method,
            option=option,
            created_at=now,
            updated_at=now,
        )
        order.payments.append(payment)
        return payment

    # -- capture, cancel, refund ----------------------------------------------------------

    async def capture(self, request: Request) -> Response:
        self._authorize(request)
        order = self._order(request)
        wanted = capture_request(await self._json(request))
        payment = order.payment
        if payment is not None and any(
            item["merchant_capture_reference"] == wanted.reference for item in payment.captures
        ):
            return self._data(order)  # the same capture again: nothing more happens
        if order.type != "CHARGE" or not order.pre_auth:
            raise PluralError(
                422,
                "OPERATION_NOT_ALLOWED",
                "Capture is allowed only on orders created with pre_auth=true",
            )
        if order.captured is not None:
            raise PluralError(
                422,
                "OPERATION_NOT_ALLOWED",
                "The order has already been captured: only one capture per order",
            )
        if order.status != "AUTHORIZED" or payment is None:
            raise PluralError(
                422,
                "OPERATION_NOT_ALLOWED",
                f"The order is {order.status}: capture needs an AUTHORIZED order",
            )
        amount = wanted.amount or order.amount
        if amount.currency != order.amount.currency:
            raise invalid("capture_amount.currency must be the order's currency")
        if amount.value > order.amount.value:
            raise PluralError(
                422,
                "AMOUNT_LIMIT_EXCEEDED",
                f"capture_amount {amount.value} exceeds the authorized {order.amount.value}",
            )
        now = time.time()
        payment.captures.append(
            {
                "merchant_capture_reference": wanted.reference,
                "capture_amount": amount.as_json(),
                "created_at": iso_time(now),
            }
        )
        payment.status = "PROCESSED"
        payment.updated_at = now
        order.captured = amount.value
        order.status = "PROCESSED"
        order.touch()
        self._emit("ORDER_PROCESSED", order)
        return self._data(order)

    async def cancel(self, request: Request) -> Response:
        self._authorize(request)
        order = self._order(request)
        if order.status == "CANCELLED":
            raise PluralError(422, "ORDER_CANCELLED", "The order is already cancelled")
        if order.type != "CHARGE" or not order.pre_auth or order.status != "AUTHORIZED":
            raise PluralError(
                422,
                "OPERATION_NOT_ALLOWED",
                f"The order is {order.status}: cancel needs an AUTHORIZED pre-auth order",
            )
        order.status = "CANCELLED"
        if order.payment is not None:
            order.payment.status = "CANCELLED"
            order.payment.updated_at = time.time()
        order.touch()
        self._emit("ORDER_CANCELLED", order)
        return self._data(order)

    async def refund(self, request: Request) -> Response:
        self._authorize(request)
        parent = self._order(request)
        wanted = refund_request(await self._json(request))
        existing = self.store.find_reference(wanted.reference)
        if existing is not None:
            if (
                existing.type == "REFUND"
                and existing.parent_order_id == parent.order_id
                and (wanted.amount is None or wanted.amount == existing.amount)
            ):
                return self._data(existing)  # the refund's reference is an idempotency key
            raise PluralError(
                422,
                "DUPLICATE_REQUEST",
                f"merchant_order_reference {wanted.reference} is already used by another request",
            )
        if parent.type != "CHARGE":
            raise PluralError(422, "OPERATION_NOT_ALLOWED", "A refund order cannot be refunded")
        if parent.status not in ("PROCESSED", "PARTIALLY_REFUNDED"):
            raise PluralError(
                422,
                "OPERATION_NOT_ALLOWED",
                f"The order is {parent.status}: refunds need a PROCESSED order",
            )
        amount = wanted.amount or Amount(parent.refundable, parent.amount.currency)
        if amount.currency != parent.amount.currency:
            raise invalid("order_amount.currency must be the order's currency")
        if amount.value > parent.refundable:
            raise PluralError(
                422,
                "AMOUNT_LIMIT_EXCEEDED",
                f"The refund of {amount.value} exceeds the refundable {parent.refundable}",
            )
        if amount.value < MIN_AMOUNT:
            raise invalid("Refunds below ₹1 (100 paise) are not supported")
        now = time.time()
        refund = self.store.add(
            Order(
                order_id=self.store.new_order_id(),
                reference=wanted.reference,
                type="REFUND",
                status="PROCESSED",
                amount=amount,
                pre_auth=False,
                integration_mode=parent.integration_mode,
                created_at=now,
                updated_at=now,
                scenario=parent.scenario,
                purchase_details=parent.purchase_details,
                parent_order_id=parent.order_id,
                merchant_metadata=wanted.merchant_metadata,
            )
        )
        charge = parent.payment
        payment = self._add_payment(
            refund,
            wanted.reference,
            charge.method if charge is not None else "CARD",
            charge.option if charge is not None else {},
            "PROCESSED",
        )
        payment.acquirer_data = _acquirer_data()
        parent.refunded += amount.value
        parent.refund_ids.append(refund.order_id)
        parent.status = "FULLY_REFUNDED" if parent.refundable == 0 else "PARTIALLY_REFUNDED"
        parent.touch()
        self._emit("REFUND_PROCESSED", refund)
        return self._data(refund)

    # -- the customer's pages -------------------------------------------------------------

    def _link(self, tokens: dict[str, str], token: str | None, awaiting: str) -> Order | Response:
        """The order a checkout or challenge link is for, while it awaits the customer;
        otherwise the page to show instead (404 unknown link, 409 already decided)."""
        order_id = tokens.get(token or "")
        order = None if order_id is None else self.store.find(order_id)
        if order is None:
            return _message("Link not found", "This payment link is unknown or has expired.", 404)
        if order.status != awaiting:
            return _message(
                "Payment already completed",
                f"Order {order.order_id} is {order.status}: this link can no longer be used.",
                409,
            )
        return order

    def _page(self, order: Order, action_url: str, hidden: dict[str, str], pay_with: str) -> str:
        details = {
            "Order ID": order.order_id,
            "Capture": "manual (pre-auth)" if order.pre_auth else "automatic",
            "Pay with": pay_with,
        }
        if order.scenario is not None:
            details["Scenario"] = order.scenario.name
        return checkout_page(
            gateway="Pine Labs Plural",
            merchant=MERCHANT_NAME,
            amount=_rupees(order.amount.value),
            invoice=order.reference,
            action_url=action_url,
            hidden=hidden,
            details=details,
        )

    async def checkout_page(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        order = self._link(self.store.checkout_tokens, token, "CREATED")
        if isinstance(order, Response):
            return order
        card = f"Card ending {TEST_CARD['card_number'][-4:]} (sandbox test card)"
        return HTMLResponse(
            self._page(order, f"{self.base_url}/checkout/redirect", {"token": token}, card)
        )

    async def checkout_decision(self, request: Request) -> Response:
        form = await _form(request)
        token = form.get("token") or request.query_params.get("token")
        order = self._link(self.store.checkout_tokens, token, "CREATED")
        if isinstance(order, Response):
            return order
        decision = form.get("decision", "")
        if decision not in _DECISIONS:
            return _message("Bad request", "decision must be approve, decline or cancel", 400)
        if decision != "cancel":  # the customer paid with the test card on the hosted page
            shown = {"card_data": card_data("VISA", TEST_CARD["card_number"][-4:])}
            self._add_payment(order, f"sbx-{secrets.token_hex(8)}", "CARD", shown, "PENDING")
        return self._decide(order, decision)

    async def challenge_page(self, request: Request) -> Response:
        token = request.path_params["token"]
        order = self._link(self.store.challenge_tokens, token, "PENDING")
        if isinstance(order, Response):
            return order
        pay_with = _instrument(order.payment) if order.payment is not None else "-"
        return HTMLResponse(self._page(order, f"{self.base_url}/challenge/{token}", {}, pay_with))

    async def challenge_decision(self, request: Request) -> Response:
        form = await _form(request)
        order = self._link(self.store.challenge_tokens, request.path_params["token"], "PENDING")
        if isinstance(order, Response):
            return order
        decision = form.get("decision", "")
        if decision not in _DECISIONS:
            return _message("Bad request", "decision must be approve, decline or cancel", 400)
        return self._decide(order, decision)

    def _decide(self, order: Order, decision: str) -> Response:
        """Apply the customer's decision; answer with the signed return to the merchant."""
        payment = order.payment
        now = time.time()
        scenario = order.scenario.name if order.scenario is not None else None
        error: tuple[str, str] | None = None
        if decision == "approve" and scenario == "decline":
            error = ("PAYMENT_DECLINED", "The payment was declined by the issuing bank")
        elif decision == "approve" and scenario == "insufficient_funds":
            error = ("INSUFFICIENT_FUNDS", "Insufficient funds in the customer's account")
        elif decision == "decline":
            error = ("USER_AUTHENTICATION_FAILED", "Consumer Authentication required")

        if decision == "cancel":
            order.status = "CANCELLED"
            error = ("ORDER_CANCELLED", "The customer cancelled the payment")
            event = "ORDER_CANCELLED"
        elif error is not None:
            order.status = "FAILED"
            event = "ORDER_FAILED"
        else:
            order.status = "AUTHORIZED" if order.pre_auth else "PROCESSED"
            event = _SUCCESS_EVENT[order.status]
        if payment is not None:
            payment.status = order.status
            payment.updated_at = now
            if error is not None and decision != "cancel":
                payment.error = error
            if error is None:
                payment.acquirer_data = _acquirer_data()
        order.touch()
        delay = self.store.config.reorder_delay if scenario == "webhooks_out_of_order" else 0.0
        self._emit(event, order, delay=delay)

        fields = {"order_id": order.order_id, "status": order.status}
        if error is not None:
            fields["error_code"], fields["error_message"] = error
        fields["signature"] = return_signature(fields, SECRET_KEY)
        # As Plural documents it: failure_callback_url when given, else callback_url for
        # both outcomes.
        target = (
            order.callback_url
            if error is None
            else (order.failure_callback_url or order.callback_url)
        )
        if target is None:
            rows = "".join(
                f"<dt>{escape(key)}</dt><dd>{escape(value)}</dd>" for key, value in fields.items()
            )
            return HTMLResponse(
                "<!doctype html><html lang=en><head><meta charset=utf-8><title>Payment "
                f"{escape(order.status)}</title></head><body><main><h1>Payment "
                f"{escape(order.status)}</h1><p>The order has no callback_url: these are the "
                f"fields it would receive.</p><dl>{rows}</dl></main></body></html>"
            )
        return HTMLResponse(autosubmit_page(action_url=target, fields=fields))

    # -- webhooks -----------------------------------------------------------------------

    def _emit(self, event_type: str, order: Order, *, delay: float = 0.0) -> WebhookEvent:
        """Sign a webhook about ``order`` and send it to the configured URL (if any)."""
        config = self.store.config
        body = json.dumps(
            {"event_type": event_type, "data": self.store.order_json(order)},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode("utf-8")
        msg_id = "msg_" + "".join(secrets.choice(_ALNUM) for _ in range(27))
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign_webhook(
                webhook_key(config.webhook_secret), msg_id, timestamp, body
            ),
        }
        event = WebhookEvent(
            event_type=event_type,
            order_id=order.order_id,
            webhook_id=msg_id,
            timestamp=timestamp,
            body=body,
            headers=headers,
            url=config.webhook_url,
        )
        if config.webhook_url is not None:
            event.deliveries.append(
                self.notifier.send(config.webhook_url, body, headers, delay=delay)
            )
            if order.scenario is not None and order.scenario.name == "webhook_twice":
                event.deliveries.append(
                    self.notifier.send(
                        config.webhook_url,
                        body,
                        headers,
                        delay=delay + _DUPLICATE_RESEND_DELAY,
                    )
                )
        self.events.append(event)
        return event

    # -- /_sandbox ------------------------------------------------------------------------

    async def info(self, _request: Request) -> Response:
        config = self.store.config
        return JSONResponse(
            {
                "gateway": "plural",
                "description": "Pine Labs Plural (Pine Labs Online) API v3 emulator",
                "base_url": self.base_url,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "secret_key": SECRET_KEY,
                "webhook_secret": config.webhook_secret,
                "webhook_url": config.webhook_url,
                "merchant_id": MERCHANT_ID,
                "merchant_name": MERCHANT_NAME,
                "token_ttl": config.token_ttl,
                "slow_seconds": config.slow_seconds,
                "reorder_delay": config.reorder_delay,
                "adapter_settings": {
                    "environment": "sandbox",
                    "base_url": self.base_url,
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "secret_key": SECRET_KEY,
                },
                "test_instruments": {
                    "card": TEST_CARD,
                    "upi_vpa": TEST_UPI_VPA,
                    "netbanking_pay_code": TEST_NETBANKING_CODE,
                    "note": "any Luhn-valid card number with a future expiry works; the "
                    "customer's Approve, Decline or Cancel on the challenge page decides",
                },
                "otp_codes": {},
                "scenarios": [scenario.as_json() for scenario in SCENARIOS],
                "controls": {
                    "GET /_sandbox/config": "the current configuration",
                    "PUT /_sandbox/config": "set webhook_url, webhook_secret, token_ttl, "
                    "slow_seconds, reorder_delay (JSON object, any subset)",
                    "POST /_sandbox/expire-tokens": "expire every access token issued so far",
                    "GET /_sandbox/webhooks": "every webhook signed so far, with deliveries",
                    "POST /_sandbox/reset": "forget orders, tokens and configuration",
                },
            }
        )

    async def get_config(self, _request: Request) -> Response:
        return JSONResponse(self.store.config.as_json())

    async def put_config(self, request: Request) -> Response:
        body = await self._json(request)
        if not isinstance(body, dict):
            raise invalid("the configuration must be a JSON object")
        config = self.store.config
        unknown = set(body) - set(config.as_json())
        if unknown:
            raise invalid(f"unknown configuration keys: {', '.join(sorted(unknown))}")
        if "webhook_url" in body:
            url = body["webhook_url"]
            if url is not None:
                try:
                    parts = urlsplit(url) if isinstance(url, str) else None
                except ValueError:  # "http://[::1": an unclosed IPv6 bracket
                    parts = None
                if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
                    raise invalid("webhook_url must be an absolute http(s) URL or null")
                # the sandbox notifies loopback hosts only unless its server allows more
                refusal = self.notifier.refusal(url)
                if refusal is not None:
                    raise invalid(f"webhook_url {refusal}")
        if "webhook_secret" in body and (
            not isinstance(body["webhook_secret"], str) or not body["webhook_secret"]
        ):
            raise invalid("webhook_secret must be a non-empty string")
        for key in ("token_ttl", "slow_seconds", "reorder_delay"):
            if key in body:
                value = body[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                    raise invalid(f"{key} must be a number of seconds, 0 or more")
        for key, value in body.items():
            setattr(config, key, float(value) if isinstance(value, int) else value)
        return JSONResponse(config.as_json())

    async def expire_tokens(self, _request: Request) -> Response:
        return JSONResponse({"expired": self.store.expire_tokens()})

    async def webhooks(self, _request: Request) -> Response:
        return JSONResponse([event.as_json() for event in self.events])

    async def reset(self, _request: Request) -> Response:
        self.store = Store()
        self.events = []
        return JSONResponse({"reset": True})


def _acquirer_data() -> dict[str, Any]:
    return {
        "approval_code": _digits(6),
        "acquirer_reference": _digits(12),
        "rrn": _digits(12),
        "is_aggregator": False,
    }


def _instrument(payment: Payment) -> str:
    option = payment.option
    if "card_data" in option:
        return f"Card ending {option['card_data'].get('last4_digit', '')}"
    if "upi_data" in option:
        vpa = option["upi_data"].get("payer", {}).get("vpa")
        return f"UPI {vpa}" if vpa else "UPI (intent)"
    if "netbanking_data" in option:
        return f"Netbanking {option['netbanking_data'].get('pay_code', '')}"
    return payment.method


async def _form(request: Request) -> dict[str, str]:
    """The form fields of a POSTed page (without python-multipart); last value wins."""
    raw = await request.body()
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return {}


def create_app(base_url: str) -> ASGIApp:
    """The emulator's ASGI app; ``base_url`` is the public URL of its mount."""
    emulator = PluralEmulator(base_url)
    emulator.app.state.emulator = emulator  # tests and tools reach the state through here
    app: ASGIApp = emulator.app
    return app
