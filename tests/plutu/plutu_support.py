"""Shared helpers for the Plutu adapter tests: configuration, a fake Plutu API for
``httpx.MockTransport``, and signing done independently of the adapters (stdlib ``hmac``
and ``urllib.parse.quote_plus``, patched to PHP's RFC 1738 rules)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlsplit

import httpx

from payhub_core import Callback, Customer, Invoice, Money

API_KEY = "api-key-for-tests"
ACCESS_TOKEN = "access-token-for-tests"
SECRET_KEY = "sk_ac63978fe4bc6defb55045fe84492021d1e87555"
SADAD_OTP = "111111"
ADFALI_OTP = "1111"

ADAPTERS = {
    "plutu.sadad": "sadadapi",
    "plutu.adfali": "edfali",
    "plutu.localbankcards": "localbankcards",
    "plutu.mpgs": "mpgs",
    "plutu.tlync": "tlync",
}
OTP_ADAPTERS = ("plutu.sadad", "plutu.adfali")
REDIRECT_ADAPTERS = ("plutu.localbankcards", "plutu.mpgs", "plutu.tlync")
ROOT = "https://api.plutus.ly"

VECTORS_FILE = Path(__file__).resolve().parents[1] / "vectors" / "plutu_callbacks.json"
ERROR_CODES_FILE = Path(__file__).resolve().parent / "plutu_error_codes.txt"
DOCS_DIR = Path(__file__).resolve().parents[2] / "docs" / "plutu"

WHITELIST = {
    "localbankcards": ("gateway", "approved", "canceled", "invoice_no", "amount", "transaction_id"),
    "mpgs": (
        "gateway",
        "approved",
        "canceled",
        "amount",
        "currency",
        "invoice_no",
        "transaction_id",
    ),
    "tlync": ("gateway", "approved", "invoice_no", "amount", "transaction_id", "payment_method"),
    "tlync_return": ("approved", "invoice_no"),
}


def load_vectors() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = json.loads(VECTORS_FILE.read_text("utf-8"))["vectors"]
    return vectors


def php_urlencode(text: str) -> str:
    """PHP ``urlencode``: Python's quote_plus leaves ``~`` literal, PHP does not."""
    return quote_plus(text, safe="").replace("~", "%7E")


def php_query(pairs: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{php_urlencode(key)}={php_urlencode(value)}" for key, value in pairs)


def hmac_upper(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest().upper()


def sign_pairs(secret: str, pairs: Iterable[tuple[str, str]], kind: str) -> str:
    """The SDK's signature over string pairs, computed without the adapter's code."""
    kept: dict[str, str] = {}
    for key, value in pairs:
        if key in WHITELIST[kind]:
            kept[key] = value
    return hmac_upper(secret, php_query(kept.items()))


def config(adapter: str, alias: str = "plutu", **settings: Any) -> dict[str, Any]:
    table: dict[str, Any] = {
        "adapter": adapter,
        "environment": "production",
        "api_key": API_KEY,
        "access_token": ACCESS_TOKEN,
        "secret_key": SECRET_KEY,
        "max_retries": 0,
        "retry_backoff": 0,
    }
    table.update(settings)
    return {"gateways": {alias: table}}


def all_gateways_config(**settings: Any) -> dict[str, Any]:
    """One hub with every Plutu service, aliased by its adapter name's last part."""
    gateways: dict[str, Any] = {}
    for adapter in ADAPTERS:
        gateways[adapter.split(".")[1]] = config(adapter, **settings)["gateways"]["plutu"]
    return {"gateways": gateways}


_numbers = itertools.count(1)


def invoice(
    currency: str = "LYD",
    amount: str = "5.00",
    *,
    number: str | None = None,
    mobile: str = "0913632323",
    birth_year: int | None = 1990,
    **fields: Any,
) -> Invoice:
    """An invoice every Plutu service accepts (given the right currency)."""
    values: dict[str, Any] = {
        "number": number or f"INV-{next(_numbers)}",
        "amount": Money(amount, currency),
        "return_url": "https://shop.example.ly/payhub/return?order=42",
        "callback_url": "https://shop.example.ly/payhub/callback",
        "customer": Customer(mobile=mobile, birth_year=birth_year, email="a@shop.example.ly"),
    }
    values.update(fields)
    return Invoice(**values)


def error_response(status: int, code: str, message: str = "refused") -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"status": status, "code": code, "message": message}}
    )


@dataclass
class FakePlutu:
    """A small in-memory Plutu: checks credentials and fields, remembers invoices.

    Call it as an ``httpx.MockTransport`` handler. ``complete`` plays the customer paying
    on the checkout page and returns what reaches the merchant.
    """

    secret_key: str = SECRET_KEY
    mpgs_currency: str = "USD"
    charged_amount: str | None = None
    used_invoices: set[str] = field(default_factory=set)
    processes: dict[str, dict[str, str]] = field(default_factory=dict)
    checkouts: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(100900))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if (
            request.headers.get("x-api-key") != API_KEY
            or request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}"
        ):
            return error_response(401, "UNAUTHORIZED", "Unauthorized")
        assert request.headers["accept"] == "application/json"
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        prefix = "/api/v1/transaction/"
        assert request.method == "POST"
        assert request.url.path.startswith(prefix), request.url.path
        service, action = request.url.path[len(prefix) :].split("/")
        form = dict(parse_qsl(request.content.decode("ascii"), keep_blank_values=True))
        if service in ("sadadapi", "edfali"):
            return self._wallet(service, action, form)
        assert action == "confirm"
        return self._checkout(service, form)

    def _next_id(self) -> int:
        return next(self.ids)

    def _wallet(self, service: str, action: str, form: dict[str, str]) -> httpx.Response:
        if action == "verify":
            expected = {"mobile_number", "amount"} | (
                {"birth_year"} if service == "sadadapi" else set()
            )
            assert set(form) == expected, form
            process_id = str(1_000_000_000_000 + self._next_id())
            self.processes[process_id] = form
            return httpx.Response(
                200,
                json={
                    "status": 200,
                    "result": {"process_id": int(process_id), "amount": float(form["amount"])},
                    "message": "OTP has been sent to your mobile number",
                },
            )
        assert action == "confirm"
        assert (
            {"process_id", "code", "amount", "invoice_no"}
            <= set(form)
            <= {
                "process_id",
                "code",
                "amount",
                "invoice_no",
                "customer_ip",
            }
        ), form
        process = self.processes.get(form["process_id"])
        if process is None:
            return error_response(400, "REFERENCE_NUMBER_DOES_NOT_EXIST")
        if form["invoice_no"] in self.used_invoices:
            return error_response(400, "DUPLICATED_INVOICE_NUMBER")
        if form["code"] != (SADAD_OTP if service == "sadadapi" else ADFALI_OTP):
            return error_response(400, "INVLIAD_OTP", "Invalid OTP")
        if form["amount"] != process["amount"]:
            return error_response(400, "INVALID_INVOICE_AMOUNT_OR_NUMBER")
        self.used_invoices.add(form["invoice_no"])
        amount = Decimal(self.charged_amount or form["amount"])
        transaction_id = self._next_id()
        body = (
            f'{{"status":200,"result":{{"transaction_id":{transaction_id},"amount":{amount}}},'
            '"message":"Transaction completed successfully"}'
        )
        return httpx.Response(200, content=body.encode())

    def _checkout(self, service: str, form: dict[str, str]) -> httpx.Response:
        required = {"amount", "invoice_no", "return_url"}
        if service == "tlync":
            required |= {"mobile_number", "callback_url"}
        assert required <= set(form), form
        if form["invoice_no"] in self.used_invoices:
            return error_response(400, "DUPLICATED_INVOICE_NUMBER")
        self.used_invoices.add(form["invoice_no"])
        self.checkouts[form["invoice_no"]] = {"service": service, **form}
        token = f"tok{self._next_id()}"
        return httpx.Response(
            200,
            json={
                "status": 200,
                "result": {
                    "code": "CHECKOUT_REDIRECT",
                    "redirect_url": f"https://checkout.plutus.ly/{service}?token={token}&x=a%2Fb",
                },
            },
        )

    def complete(self, invoice_no: str, outcome: str = "approved") -> Callback:
        """The signed request Plutu sends after the customer finishes paying: the browser
        return (LBC, MPGS) or the server-to-server JSON callback (T-Lync)."""
        checkout = self.checkouts[invoice_no]
        service = checkout["service"]
        amount = self.charged_amount or checkout["amount"]
        transaction_id = str(self._next_id())
        status: list[tuple[str, str]] = (
            [("approved", "1")]
            if outcome == "approved"
            else [("canceled", "1")]
            if outcome == "canceled"
            else []
        )
        if service == "tlync":
            pairs = [
                ("gateway", "tlync"),
                ("approved", "1" if outcome == "approved" else "0"),
                ("amount", amount),
                ("invoice_no", invoice_no),
                ("payment_method", "mobicash"),
                ("transaction_id", transaction_id),
            ]
            body = dict(pairs)
            body["hashed"] = sign_pairs(self.secret_key, pairs, "tlync")
            return Callback(
                method="POST",
                headers={"Content-Type": "application/json"},
                body=json.dumps(body).encode(),
            )
        pairs = [("gateway", service), *status, ("invoice_no", invoice_no), ("amount", amount)]
        if service == "mpgs":
            pairs.append(("currency", self.mpgs_currency))
        pairs.append(("transaction_id", transaction_id))
        return return_to(checkout["return_url"], pairs, self.secret_key, service)

    def tlync_return(self, invoice_no: str, approved: bool = True) -> Callback:
        checkout = self.checkouts[invoice_no]
        pairs = [("approved", "1" if approved else "0"), ("invoice_no", invoice_no)]
        return return_to(checkout["return_url"], pairs, self.secret_key, "tlync_return")


def return_to(return_url: str, pairs: list[tuple[str, str]], secret: str, kind: str) -> Callback:
    """The browser's GET to ``return_url`` with Plutu's signed parameters appended (the
    merchant's own query parameters stay in front, unsigned)."""
    own = urlsplit(return_url).query
    signed = php_query([*pairs, ("hashed", sign_pairs(secret, pairs, kind))])
    return Callback(method="GET", query=f"{own}&{signed}" if own else signed)


def json_callback(body: Mapping[str, Any] | str) -> Callback:
    text = body if isinstance(body, str) else json.dumps(body)
    return Callback(method="POST", headers={"Content-Type": "application/json"}, body=text.encode())
