"""The Plutu emulator: Plutu's API paths, error bodies, hosted checkout and signed returns."""

from __future__ import annotations

import asyncio
import datetime
import hmac
import json
from collections.abc import Callable
from decimal import Decimal
from html import escape
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from payhub_core.sandbox import Notifier, checkout_page
from payhub_core.signing import http_build_query
from payhub_plutu.sandbox._constants import (
    ADFALI_OTP,
    MERCHANT_NAME,
    PAYMENT_METHODS,
    SADAD_OTP,
    SERVICES,
    TEST_BIRTH_YEAR,
    TEST_MOBILE,
    TLYNC_MOBILE,
    UNSUBSCRIBED_MOBILE,
    SandboxConfig,
    Service,
)
from payhub_plutu.sandbox._scenarios import SCENARIOS, Kind, Scenario, match_scenario, slow_seconds
from payhub_plutu.sandbox._signing import append_query, signed
from payhub_plutu.sandbox._state import CheckoutSession, SandboxState
from payhub_plutu.sandbox._validation import (
    MIN_AGE,
    MIN_BIRTH_YEAR,
    PlutuError,
    RedirectConfirm,
    WalletConfirm,
    parse_fields,
    validate_redirect_confirm,
    validate_wallet_confirm,
    validate_wallet_verify,
)

__all__ = ["WRONG_SECRET_KEY", "PlutuEmulator", "create_app"]

# The key the ``bad_signature`` scenario signs with instead of the sandbox's.
WRONG_SECRET_KEY = "sk_" + "0" * 40

_DECLINING = (Kind.DECLINE, Kind.INSUFFICIENT_BALANCE)
_CHECKOUT_KINDS = frozenset(
    {*_DECLINING, Kind.CALLBACK_TWICE, Kind.CALLBACK_LATE, Kind.NO_CALLBACK, Kind.BAD_SIGNATURE}
)
_DEFAULT_PAYMENT_METHOD = "mobicash"


def _number(amount: Decimal) -> int | float:
    """An amount as a JSON number, as Plutu's PHP backend writes it (25.5, 5)."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class PlutuEmulator:
    """One emulator instance: its state, its notifier and its Starlette ``app``.

    ``base_url`` is the public URL of the mount (``http://127.0.0.1:8808/plutu``).
    """

    def __init__(self, base_url: str, config: SandboxConfig | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.config = config or SandboxConfig.from_env()
        self.state = SandboxState(clock=self.config.clock)
        self.notifier = Notifier()
        self.app = Starlette(
            routes=[
                Route("/_sandbox", self._info, methods=["GET"]),
                Route("/_sandbox/transactions", self._transactions, methods=["GET"]),
                Route("/api/v1/transaction/{service}/{action}", self._api, methods=["POST"]),
                Route("/checkout/{session_id}", self._checkout, methods=["GET", "POST"]),
            ],
            exception_handlers={HTTPException: self._http_error},
        )
        self.app.state.plutu = self

    # ----------------------------------------------------------------- sandbox info

    def info(self) -> dict[str, Any]:
        """What ``GET /_sandbox`` serves."""
        config = self.config
        return {
            "gateway": "plutu",
            "base_url": self.base_url,
            "api_url": f"{self.base_url}/api/v1",
            "api_key": config.api_key,
            "access_token": config.access_token,
            "secret_key": config.secret_key,
            "otp_codes": {"sadad": SADAD_OTP, "adfali": ADFALI_OTP},
            "test_mobiles": {
                TEST_MOBILE: "Sadad, Adfali and T-Lync: works (any other valid number does too)",
                TLYNC_MOBILE: "T-Lync: works",
                UNSUBSCRIBED_MOBILE: "Sadad/Adfali verify: not a subscriber "
                "(scenario unknown_subscriber)",
            },
            "birth_year": {
                "example": TEST_BIRTH_YEAR,
                "min": MIN_BIRTH_YEAR,
                "max": datetime.date.today().year - MIN_AGE,
            },
            "mpgs_currency": config.mpgs_currency,
            "services": [
                {
                    "adapter": service.adapter,
                    "slug": service.slug,
                    "flow": service.flow,
                    "currency": config.mpgs_currency if service.slug == "mpgs" else "LYD",
                    "paths": [
                        f"/api/v1/transaction/{service.slug}/{action}" for action in service.actions
                    ],
                }
                for service in SERVICES.values()
            ],
            "settings": {
                "environment": "sandbox",
                "base_url": self.base_url,
                "api_key": config.api_key,
                "access_token": config.access_token,
                "secret_key": config.secret_key,
            },
            "checkout": {
                "buttons": ["Approve", "Decline", "Cancel"],
                "field": "decision",
                "values": ["approve", "decline", "cancel"],
                "tlync_payment_methods": list(PAYMENT_METHODS),
            },
            "timings": {
                "slow_seconds": config.slow_seconds,
                "late_callback_seconds": config.late_callback_seconds,
                "otp_ttl_seconds": config.otp_ttl,
                "max_otp_attempts": config.max_otp_attempts,
            },
            "scenarios": [scenario.to_json() for scenario in SCENARIOS],
            "transactions_url": f"{self.base_url}/_sandbox/transactions",
        }

    async def _info(self, _request: Request) -> Response:
        return JSONResponse(self.info())

    async def _transactions(self, _request: Request) -> Response:
        callbacks = []
        for delivery in list(self.notifier.deliveries):
            try:
                body: Any = json.loads(delivery.body)
            except ValueError:  # pragma: no cover (the emulator only sends JSON)
                body = None
            callbacks.append(
                {
                    "url": delivery.url,
                    "attempts": delivery.attempts,
                    "status": delivery.status,
                    "error": delivery.error,
                    "body": body,
                }
            )
        return JSONResponse({"transactions": self.state.snapshot(), "callbacks": callbacks})

    async def _http_error(self, _request: Request, exc: Exception) -> Response:
        """Starlette's own 404 and 405, in Plutu's error shape."""
        if not isinstance(exc, HTTPException):  # pragma: no cover (registered for these only)
            raise exc
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return self._error(PlutuError(exc.status_code, code, exc.detail, headers=exc.headers))

    # ------------------------------------------------------------------------- API

    @staticmethod
    def _error(error: PlutuError) -> Response:
        return Response(
            _json(error.body()),
            status_code=error.status,
            media_type="application/json",
            headers=error.headers,
        )

    async def _api(self, request: Request) -> Response:
        try:
            return await self._api_call(request)
        except PlutuError as error:
            return self._error(error)

    async def _api_call(self, request: Request) -> Response:
        slug = request.path_params["service"]
        action = request.path_params["action"]
        service = SERVICES.get(slug)
        if service is None:
            raise PlutuError(404, "INVALID_GATEWAY", f"Unknown payment gateway: {slug}.")
        if action not in service.actions:
            raise PlutuError(404, "NOT_FOUND", f"{service.title} has no {action} action.")
        self._authenticate(request)
        fields = parse_fields(request.headers.get("content-type", ""), await request.body())

        invoice_no: str | None = None
        handler: Callable[[], dict[str, Any]]
        if service.flow == "otp" and action == "verify":
            verify = validate_wallet_verify(service, fields)
            scenario = match_scenario(slug, amount=verify.amount, mobile=verify.mobile)

            def handler() -> dict[str, Any]:
                return self._wallet_verify(service, verify.mobile, verify.amount, scenario)

        elif service.flow == "otp":
            confirm = validate_wallet_confirm(service, fields)
            invoice_no = confirm.invoice_no
            scenario = match_scenario(slug, invoice_no=invoice_no, amount=confirm.amount)

            def handler() -> dict[str, Any]:
                return self._wallet_confirm(service, confirm, scenario)

        else:
            redirect = validate_redirect_confirm(service, fields)
            invoice_no = redirect.invoice_no
            scenario = match_scenario(slug, invoice_no=invoice_no, amount=redirect.amount)

            def handler() -> dict[str, Any]:
                return self._redirect_confirm(service, redirect, scenario)

        kind = scenario.kind if scenario else None
        if kind is Kind.GATEWAY_ERROR:
            raise PlutuError(500, "BACKEND_ERROR", "Backend error, please try again later.")
        if kind is Kind.RATE_LIMITED:
            raise PlutuError(
                429, "TOO_MAY_REQUESTS", "Too many requests.", headers={"Retry-After": "1"}
            )
        if kind is Kind.SLOW:
            await self._sleep(request, slow_seconds(invoice_no, self.config.slow_seconds))
        body = _json(handler())
        if kind is Kind.MALFORMED:
            body = body[: len(body) // 2]
        return Response(body, media_type="application/json")

    def _authenticate(self, request: Request) -> None:
        api_key = request.headers.get("x-api-key", "")
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        if not api_key or not token:
            raise PlutuError(
                401,
                "UNAUTHORIZED",
                "Send the API key in X-API-KEY and the access token as Authorization: Bearer.",
            )
        key_ok = hmac.compare_digest(api_key.encode(), self.config.api_key.encode())
        token_ok = hmac.compare_digest(token.strip().encode(), self.config.access_token.encode())
        if not (key_ok and token_ok and scheme.lower() == "bearer"):
            raise PlutuError(401, "UNAUTHORIZED", "Invalid API key or access token.")

    async def _sleep(self, request: Request, seconds: float) -> None:
        """Wait ``seconds``, or less if the client hangs up first (the request is then
        processed all the same, as a real server would)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (remaining := deadline - loop.time()) > 0:
            if await request.is_disconnected():
                return
            await asyncio.sleep(min(0.05, remaining))

    def _wallet_verify(
        self, service: Service, mobile: str, amount: Decimal, scenario: Scenario | None
    ) -> dict[str, Any]:
        if scenario and scenario.kind is Kind.UNKNOWN_SUBSCRIBER:
            if service.slug == "edfali":
                raise PlutuError(
                    400, "NOT_SUBSCRIBED", "The mobile number is not subscribed to Adfali."
                )
            raise PlutuError(
                400,
                "INVALID_MOBILE_NUMBER_OR_BIRTH_YEAR",
                "Incorrect mobile number or year of birth.",
            )
        with self.state.locked():
            process = self.state.new_process(service.slug, mobile, amount)
        return {
            "status": 200,
            "result": {
                "process_id": int(process.process_id),
                "amount": _number(amount),
                "commission": 0,
            },
            "message": "OTP has been sent to your mobile number",
        }

    def _wallet_confirm(
        self, service: Service, data: WalletConfirm, scenario: Scenario | None
    ) -> dict[str, Any]:
        kind = scenario.kind if scenario else None
        config = self.config
        with self.state.locked():
            process = self.state.processes.get(data.process_id)
            if process is None or process.service != service.slug:
                raise PlutuError(
                    400,
                    "REFERENCE_NUMBER_DOES_NOT_EXIST",
                    "No payment is waiting for confirmation under this process_id.",
                )
            if process.status in ("confirmed", "failed"):
                raise PlutuError(
                    400, "CONFIRMATION_ERROR", "This payment has already been processed."
                )
            if process.status == "expired" or config.clock() - process.created > config.otp_ttl:
                process.status = "expired"
                raise PlutuError(400, "OTP_EXPIRED", "The OTP has expired: start again.")
            if data.amount != process.amount:
                raise PlutuError(
                    400,
                    "INVALID_INVOICE_AMOUNT_OR_NUMBER",
                    "The amount differs from the amount sent to verify.",
                )
            if data.invoice_no in self.state.invoices:
                raise PlutuError(400, "DUPLICATED_INVOICE_NUMBER", "Invoice number already exists.")
            if kind is Kind.OTP_EXPIRED:
                process.status = "expired"
                raise PlutuError(400, "OTP_EXPIRED", "The OTP has expired: start again.")
            if not hmac.compare_digest(data.code.encode(), (service.otp or "").encode()):
                process.wrong_codes += 1
                if process.wrong_codes >= config.max_otp_attempts:
                    process.status = "expired"
                raise PlutuError(
                    400, "INVLIAD_OTP", "Invalid OTP, please check the code and try again."
                )
            self.state.claim_invoice(data.invoice_no, service.slug)
            process.invoice_no = data.invoice_no
            if kind is Kind.INSUFFICIENT_BALANCE:
                process.status = "failed"
                raise PlutuError(
                    400, "INSUFFICIENT_BALANCE", "Insufficient balance for the transaction."
                )
            if kind is Kind.DECLINE:
                process.status = "failed"
                raise PlutuError(
                    400, "CONFIRMATION_ERROR", "The wallet provider declined the payment."
                )
            process.status = "confirmed"
            process.transaction_id = self.state.transaction_id()
        return {
            "status": 200,
            "result": {
                "transaction_id": process.transaction_id,
                "amount": _number(process.amount),
            },
            "message": "Transaction completed successfully",
        }

    def _redirect_confirm(
        self, service: Service, data: RedirectConfirm, scenario: Scenario | None
    ) -> dict[str, Any]:
        currency = self.config.mpgs_currency if service.slug == "mpgs" else service.currency
        with self.state.locked():
            if not self.state.claim_invoice(data.invoice_no, service.slug):
                raise PlutuError(400, "DUPLICATED_INVOICE_NUMBER", "Invoice number already exists.")
            session = self.state.new_session(
                service=service.slug,
                invoice_no=data.invoice_no,
                amount=data.amount,
                currency=currency,
                return_url=data.return_url,
                lang=data.lang,
                scenario=scenario,
                callback_url=data.callback_url,
                mobile=data.mobile,
            )
        query = http_build_query([("token", session.token), ("lang", session.lang)])
        return {
            "status": 200,
            "result": {
                "code": "CHECKOUT_REDIRECT",
                "redirect_url": f"{self.base_url}/checkout/{session.session_id}?{query}",
            },
        }

    # -------------------------------------------------------------- hosted checkout

    @staticmethod
    def _page(status: int, title: str, text: str) -> Response:
        html = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title></head><body><main><h1>{escape(title)}</h1>"
            f"<p>{escape(text)}</p></main></body></html>"
        )
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    async def _checkout(self, request: Request) -> Response:
        session = self.state.sessions.get(request.path_params["session_id"])
        form: dict[str, str] = {}
        if request.method == "POST":
            try:
                form = parse_fields(request.headers.get("content-type", ""), await request.body())
            except PlutuError as error:
                return self._page(400, "Bad request", error.message)
            token = form.get("token", "")
        else:
            token = request.query_params.get("token", "")
        if session is None or not hmac.compare_digest(token.encode(), session.token.encode()):
            return self._page(
                404,
                "Payment link not valid",
                "This checkout link is unknown, or its token is missing or wrong. Send the "
                "customer to redirect_url exactly as Plutu returned it, query string included.",
            )
        if request.method != "POST":
            if session.status != "pending":
                return self._page(409, "Payment already processed", f"It was {session.status}.")
            return self._checkout_page(session)
        decision = form.get("decision", "")
        if decision not in ("approve", "decline", "cancel"):
            return self._page(400, "Bad request", "decision must be approve, decline or cancel.")
        chosen = form.get("payment_method", "")
        with self.state.locked():
            if session.status != "pending":
                return self._page(409, "Payment already processed", f"It was {session.status}.")
            kind = session.scenario.kind if session.scenario else None
            if decision == "cancel":
                session.status = "canceled"
            elif decision == "decline" or kind in _DECLINING:
                session.status = "declined"
            else:
                session.status = "approved"
            if session.service == "tlync":
                session.payment_method = (
                    chosen if chosen in PAYMENT_METHODS else _DEFAULT_PAYMENT_METHOD
                )
        return RedirectResponse(self._finish(session), status_code=303)

    def _checkout_page(self, session: CheckoutSession) -> Response:
        service = SERVICES[session.service]
        details = {
            "Service": f"Plutu {service.title}",
            "Transaction": str(session.transaction_id),
            "Language": session.lang,
        }
        if session.mobile:
            details["Mobile"] = session.mobile
        if session.scenario and session.scenario.kind in _CHECKOUT_KINDS:
            details["Sandbox scenario"] = session.scenario.name
        hidden = {"token": session.token}
        if session.service == "tlync":
            hidden["payment_method"] = _DEFAULT_PAYMENT_METHOD
        html = checkout_page(
            gateway=f"Plutu {service.title}",
            merchant=MERCHANT_NAME,
            amount=f"{session.amount:.2f} {session.currency}",
            invoice=session.invoice_no,
            action_url=f"{self.base_url}/checkout/{session.session_id}",
            hidden=hidden,
            details=details,
        )
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    def _finish(self, session: CheckoutSession) -> str:
        """Send the notifications of a decided session; the browser's return URL."""
        kind = session.scenario.kind if session.scenario else None
        key = WRONG_SECRET_KEY if kind is Kind.BAD_SIGNATURE else self.config.secret_key
        amount = f"{session.amount:.2f}"
        transaction_id = str(session.transaction_id)
        outcome = {"approved": [("approved", "1")], "canceled": [("canceled", "1")]}.get(
            session.status, []
        )
        params: list[tuple[str, str]]
        if session.service == "localbankcards":
            params = [
                ("gateway", "localbankcards"),
                *outcome,
                ("invoice_no", session.invoice_no),
                ("amount", amount),
                ("transaction_id", transaction_id),
            ]
        elif session.service == "mpgs":
            params = [
                ("gateway", "mpgs"),
                *outcome,
                ("amount", amount),
                ("currency", session.currency),
                ("invoice_no", session.invoice_no),
                ("transaction_id", transaction_id),
            ]
        else:
            approved = "1" if session.status == "approved" else "0"
            if session.status != "canceled" and kind is not Kind.NO_CALLBACK:
                self._tlync_callback(session, approved, key, kind)
            params = [("approved", approved), ("invoice_no", session.invoice_no)]
        return append_query(session.return_url, signed(key, params))

    def _tlync_callback(
        self, session: CheckoutSession, approved: str, key: str, kind: Kind | None
    ) -> None:
        if not session.callback_url:  # pragma: no cover (T-Lync confirm requires it)
            return
        params = [
            ("gateway", "tlync"),
            ("approved", approved),
            ("amount", f"{session.amount:.2f}"),
            ("invoice_no", session.invoice_no),
            ("payment_method", session.payment_method or _DEFAULT_PAYMENT_METHOD),
            ("transaction_id", str(session.transaction_id)),
        ]
        body = _json(dict(signed(key, params)))
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "payhub-plutu-sandbox",
        }
        delay = self.config.late_callback_seconds if kind is Kind.CALLBACK_LATE else 0.0
        self.notifier.send(session.callback_url, body, headers, delay=delay)
        if kind is Kind.CALLBACK_TWICE:
            self.notifier.send(
                session.callback_url,
                body,
                headers,
                delay=delay + self.config.duplicate_callback_delay,
            )


def create_app(base_url: str, config: SandboxConfig | None = None) -> Starlette:
    """The emulator's ASGI app for the mount at ``base_url``."""
    emulator = PlutuEmulator(base_url, config)
    emulator.app.state.emulator = emulator  # tests and tools reach the state through here
    return emulator.app
