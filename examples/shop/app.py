"""The example shop: one product, paid through any configured gateway.

The payment side is payhub's: the endpoints (``asgi_app``) receive returns, callbacks and
webhooks, record them in the ledger and send the customer to ``/orders/<invoice>``; the
shop's own code is the product page, the OTP form of the wallets, the order page (read
from the ledger) and what to do when a payment changes (:class:`Fulfilment`).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import SecretStr

from payhub_core import (
    AsyncHub,
    Invoice,
    Money,
    OtpChallenge,
    OtpCode,
    PayhubError,
    PaymentNotFound,
    Redirect,
    hookimpl,
)
from payhub_core.web import asgi_app

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
# The gateway's own error (its code, HTTP status, what to check in the configuration) is
# for the merchant: it goes to this log; the customer reads a sentence meant for them.
LOG = logging.getLogger("examples.shop")

PRODUCT = {
    "name": "Desert rose lamp",
    "description": "Hand-cut sandstone, warm LED, made in Ghadames.",
    "prices": {"LYD": "40.00", "USD": "19.99", "INR": "1499.00"},
}


@dataclass
class Fulfilment:
    """The merchant's hook: called once per change of a payment, after it is committed."""

    shipped: list[str] = field(default_factory=list)
    events: list[dict[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @hookimpl
    def payhub_payment_changed(self, payment: Any, change: Any) -> None:
        with self._lock:
            self.events.append(
                {
                    "id": change.id,
                    "invoice": payment.invoice_number,
                    "status": change.status.value,
                    "source": change.source,
                }
            )
            if change.status.value == "paid" and payment.invoice_number not in self.shipped:
                self.shipped.append(payment.invoice_number)


@dataclass(frozen=True)
class Gateway:
    """A way to pay offered on the product page."""

    alias: str
    title: str
    currency: str
    otp: bool
    invoice_extras: dict[str, Any]


def create_app(hub: AsyncHub, gateways: list[Gateway], fulfilment: Fulfilment) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await hub.aclose()  # the hub is the shop's: it closes it when the server stops

    app = FastAPI(title="payhub example shop", lifespan=lifespan)
    app.mount("/payhub", asgi_app(hub))

    @app.exception_handler(PaymentNotFound)
    async def no_such_order(request: Request, _error: PaymentNotFound) -> Response:
        number = request.path_params.get("number", "")
        return TEMPLATES.TemplateResponse(
            request,
            "problem.html",
            {"heading": "Order not found", "message": f"There is no order {number}."},
            status_code=404,
        )

    by_alias = {gateway.alias: gateway for gateway in gateways}

    @app.get("/", response_class=HTMLResponse)
    async def product(request: Request) -> Response:
        prices = {  # as Money shows them: with the currency's own decimals
            currency: str(Money(amount, currency)) for currency, amount in PRODUCT["prices"].items()
        }
        return TEMPLATES.TemplateResponse(
            request, "product.html", {"product": PRODUCT, "gateways": gateways, "prices": prices}
        )

    @app.post("/buy")
    async def buy(request: Request, gateway: str = Form(...)) -> Response:
        chosen = by_alias.get(gateway)
        if chosen is None:
            return HTMLResponse("Unknown payment method", status_code=400)
        invoice = Invoice(
            number=f"SHOP-{secrets.token_hex(4).upper()}",
            amount=Money(PRODUCT["prices"][chosen.currency], chosen.currency),
            description=PRODUCT["name"],
            **chosen.invoice_extras,
        )
        try:
            checkout = await hub.initiate(invoice, gateway=chosen.alias)
        except PayhubError as error:
            LOG.warning("payment %s through %s did not start: %s", invoice.number, gateway, error)
            return TEMPLATES.TemplateResponse(
                request,
                "problem.html",
                {
                    "heading": "Payment not started",
                    "message": "The payment could not start. Please try again in a moment "
                    "or choose another way to pay.",
                },
                status_code=502,
            )
        if isinstance(checkout.action, Redirect):
            return RedirectResponse(checkout.action.url, status_code=303)
        if isinstance(checkout.action, OtpChallenge):
            return RedirectResponse(f"/otp/{invoice.number}", status_code=303)
        return RedirectResponse(f"/orders/{invoice.number}", status_code=303)

    @app.get("/otp/{number}", response_class=HTMLResponse)
    async def otp_form(request: Request, number: str) -> Response:
        payment = await hub.payment(number)
        return TEMPLATES.TemplateResponse(request, "otp.html", {"payment": payment, "error": None})

    @app.post("/otp/{number}")
    async def otp_submit(request: Request, number: str, code: str = Form(...)) -> Response:
        payment = await hub.payment(number)
        challenge = payment.attempts[-1].checkout
        reference = challenge.action.reference if challenge and challenge.action else ""
        evidence = OtpCode(reference=reference, code=SecretStr(code), invoice=payment.invoice)
        try:
            await hub.receive(evidence, gateway=payment.gateway, source="otp")
        except PayhubError as error:
            LOG.warning("wallet code for %s not accepted: %s", number, error)
            return TEMPLATES.TemplateResponse(
                request,
                "otp.html",
                {
                    "payment": payment,
                    "error": "The code was not accepted. Check the code in the SMS and type "
                    "it again.",
                },
                status_code=400,
            )
        return RedirectResponse(f"/orders/{number}", status_code=303)

    @app.get("/orders/{number}", response_class=HTMLResponse)
    async def order(request: Request, number: str) -> Response:
        payment = await hub.payment(number)
        return TEMPLATES.TemplateResponse(
            request,
            "order.html",
            {"payment": payment, "gateway": by_alias.get(payment.gateway)},
        )

    @app.get("/problem", response_class=HTMLResponse)
    async def problem(request: Request) -> Response:
        return TEMPLATES.TemplateResponse(
            request,
            "problem.html",
            {
                "message": "We could not confirm this payment. If you paid, it will show up "
                "on your order as soon as the payment provider confirms it."
            },
            status_code=400,
        )

    @app.get("/operator", response_class=HTMLResponse)
    async def operator(request: Request) -> Response:
        payments = sorted(await hub.payments(), key=lambda p: p.created_at, reverse=True)
        return TEMPLATES.TemplateResponse(
            request,
            "operator.html",
            {"payments": payments, "fulfilment": fulfilment},
        )

    return app
