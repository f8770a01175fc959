"""The five Plutu adapters.

Two shapes:

- OTP wallets (Sadad, Adfali): ``initiate`` calls ``verify`` (Plutu sends the customer a
  one-time code) and returns an ``OtpChallenge``; ``verify(OtpCode)`` calls ``confirm``,
  which charges at once and returns Plutu's transaction id.
- Redirect services (Local Bank Cards, MPGS, T-Lync): ``initiate`` calls ``confirm`` and
  returns the ``Redirect`` to Plutu's checkout; ``verify(Callback)`` checks the signed
  return (and T-Lync's server-to-server callback).

Plutu has no capture, cancel, refund or status API, so only ``initiate`` and ``verify``
are implemented; the hub answers the rest with ``UnsupportedOperation``. Hooks validate
eagerly (``InvalidRequest`` before anything is sent) and return a flow for the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal
from urllib.parse import urlsplit

import httpx

from payhub_core import (
    Callback,
    Capabilities,
    Checkout,
    ConfigurationError,
    GatewayError,
    InvalidRequest,
    Invoice,
    Money,
    Operation,
    OtpChallenge,
    OtpCode,
    PaymentResult,
    PaymentStatus,
    Redirect,
    hookimpl,
)
from payhub_core.flows import Flow
from payhub_core.redaction import secret_values
from payhub_plutu import _validation as check
from payhub_plutu._amounts import WIRE_DECIMALS, read_amount
from payhub_plutu._callbacks import (
    verify_redirect_return,
    verify_tlync_callback,
    verify_tlync_return,
)
from payhub_plutu._settings import MpgsSettings, PlutuSettings, SignedPlutuSettings
from payhub_plutu._wire import Answer, Endpoints, Exchange

__all__ = [
    "AdfaliAdapter",
    "LocalBankCardsAdapter",
    "MpgsAdapter",
    "SadadAdapter",
    "TlyncAdapter",
]

_OPERATIONS: frozenset[Operation] = frozenset({"initiate", "verify"})


def _capabilities(currency: str, flows: set[str]) -> Capabilities:
    return Capabilities(
        currencies=frozenset({currency}),
        operations=_OPERATIONS,
        flows=frozenset(flows),
        amount_decimals=WIRE_DECIMALS,
    )


class _PlutuAdapter:
    """What every Plutu service shares: settings, the request root, the currency."""

    Settings: ClassVar[type[PlutuSettings]] = PlutuSettings
    service: ClassVar[str]
    """Plutu's slug for the service in request paths."""
    label: ClassVar[str]
    capabilities: Capabilities

    def __init__(self, settings: PlutuSettings) -> None:
        if not isinstance(settings, self.Settings):
            raise ConfigurationError(
                f"{type(self).__name__} needs {self.Settings.__name__}, "
                f"not {type(settings).__name__}"
            )
        self.settings = settings
        self._root = settings.root()
        self.currency = self._currency()
        self.capabilities = type(self).capabilities.model_copy(
            update={"currencies": frozenset({self.currency})}
        )
        self._secrets = tuple(secret_values(settings))
        self._endpoints = Endpoints(settings, self._root, self.service)
        self._exchanges: dict[tuple[str, bool], Exchange] = {}

    def _currency(self) -> str:
        return "LYD"

    def __repr__(self) -> str:
        host = urlsplit(self._root).hostname  # not the whole root: it could carry userinfo
        return f"{type(self).__name__}(environment={self.settings.environment!r}, host={host!r})"

    def _exchange(
        self, action: str, *, money_moves: bool = False, hide: tuple[str, ...] = ()
    ) -> Exchange:
        """How to read the answer to ``action``; anything secret Plutu echoes is blanked.
        An exchange that hides only the settings' secrets is the same for every call of an
        adapter: it is built once."""
        if hide:
            return Exchange(
                f"{self.label} {action}", money_moves=money_moves, hide=(*self._secrets, *hide)
            )
        key = (action, money_moves)
        exchange = self._exchanges.get(key)
        if exchange is None:
            exchange = self._exchanges[key] = Exchange(
                f"{self.label} {action}", money_moves=money_moves, hide=self._secrets
            )
        return exchange

    def _request(self, action: str, fields: Sequence[tuple[str, str]]) -> httpx.Request:
        return self._endpoints.request(action, fields)

    def _common(self, invoice: Invoice) -> tuple[str, str]:
        """The checks every service runs: capture mode, invoice number, amount."""
        check.automatic_capture(invoice)
        invoice_no = check.invoice_number(invoice)
        amount = check.wire_amount(invoice.amount, self.currency)
        check.lang(invoice)
        return invoice_no, amount


def _already_processed(error: GatewayError, exchange: Exchange) -> GatewayError | None:
    """Plutu's answer to a confirm of a process already confirmed ("This payment has
    already been processed.") is a ``CONFIRMATION_ERROR``, the code it also uses for a
    declined confirm. Here the earlier confirmation may well have paid: the outcome of the
    payment is not this answer's, so it must not read as a failure."""
    said = (error.gateway_message or "").lower()
    if error.code != "CONFIRMATION_ERROR" or "already" not in said:
        return None
    return GatewayError(
        f"Plutu refused {exchange.what}: CONFIRMATION_ERROR (HTTP {error.http_status}): "
        "this payment was already processed by an earlier confirmation, which may have "
        "paid it; do not treat it as unpaid or ask the customer to pay again: check the "
        "payment in the Plutu dashboard (or the ledger) first",
        http_status=error.http_status,
        code=error.code,
        gateway_message=error.gateway_message,
    )


class _OtpWalletAdapter(_PlutuAdapter):
    """Sadad and Adfali: the customer confirms with a code sent by SMS."""

    otp_length: ClassVar[int]
    networks: ClassVar[str]
    needs_birth_year: ClassVar[bool] = False

    def _verify_fields(self, invoice: Invoice) -> list[tuple[str, str]]:
        _, amount = self._common(invoice)
        fields = [("mobile_number", check.mobile_number(invoice, self.networks))]
        if self.needs_birth_year:
            fields.append(("birth_year", str(check.birth_year(invoice))))
        fields.append(("amount", amount))
        return fields

    @hookimpl
    def payhub_initiate(self, invoice: Invoice) -> Flow[Checkout]:
        """Send the OTP (``POST .../verify``); the checkout reference is Plutu's process id.

        Store the reference with the invoice: ``verify`` needs both, with the code.
        """
        return self._send_otp(self._request("verify", self._verify_fields(invoice)))

    def _send_otp(self, request: httpx.Request) -> Flow[Checkout]:
        exchange = self._exchange("verify")
        response = yield request
        answer = exchange.read(response)
        process_id = answer.result.get("process_id")
        if isinstance(process_id, int) and not isinstance(process_id, bool) and process_id > 0:
            reference = str(process_id)
        elif isinstance(process_id, str) and process_id.isascii() and process_id.isdigit():
            reference = process_id
        else:
            raise exchange.unreadable(response.status_code, "no numeric 'process_id'")
        message = answer.body.get("message")
        return Checkout(
            reference=reference,
            action=OtpChallenge(
                reference=reference, message=message if isinstance(message, str) else None
            ),
            status=PaymentStatus.PENDING,
            raw=answer.body,
        )

    @hookimpl
    def payhub_verify(self, evidence: Callback | OtpCode) -> Flow[PaymentResult]:
        """Pay with the customer's code (``POST .../confirm``): final once it answers."""
        if not isinstance(evidence, OtpCode):
            raise InvalidRequest(
                f"{self.label} is confirmed with the customer's OtpCode; it sends no callbacks",
                field="evidence",
                rule="OtpCode",
            )
        process_id = check.process_id(evidence.reference)
        code = check.otp_code(evidence.code, self.otp_length)
        invoice = evidence.invoice
        invoice_no, amount = self._common(invoice)
        fields = [
            ("process_id", process_id),
            ("code", code),
            ("amount", amount),
            ("invoice_no", invoice_no),
        ]
        ip = check.customer_ip(invoice)
        if ip is not None:
            fields.append(("customer_ip", ip))
        exchange = self._exchange("confirm", money_moves=True, hide=(code,))
        return self._confirm(self._request("confirm", fields), exchange, invoice, process_id)

    def _confirm(
        self, request: httpx.Request, exchange: Exchange, invoice: Invoice, process_id: str
    ) -> Flow[PaymentResult]:
        response = yield request
        try:
            answer = exchange.read(response)
        except GatewayError as error:
            raise _already_processed(error, exchange) or error from None
        transaction_id = answer.result.get("transaction_id")
        if isinstance(transaction_id, bool) or not isinstance(transaction_id, (int, str)):
            raise exchange.unreadable(response.status_code, "no 'transaction_id'")
        return PaymentResult(
            status=PaymentStatus.PAID,
            invoice_number=invoice.number,
            amount=self._charged(answer, invoice, exchange, response.status_code),
            reference=process_id,
            transaction_id=str(transaction_id),
            raw=answer.body,
        )

    def _charged(
        self, answer: Answer, invoice: Invoice, exchange: Exchange, http_status: int
    ) -> Money:
        """The amount Plutu says it charged; the amount sent when it does not say.

        Reported as stated, so that ``verify(..., expected=invoice)`` catches a difference.
        """
        value = answer.result.get("amount")
        if value is None:
            return invoice.amount
        try:
            return read_amount(value, self.currency)
        except ValueError as error:
            raise exchange.unreadable(http_status, str(error)) from None


class _RedirectAdapter(_PlutuAdapter):
    """Local Bank Cards, MPGS and T-Lync: the customer pays on Plutu's checkout page."""

    Settings: ClassVar[type[PlutuSettings]] = SignedPlutuSettings

    def __init__(self, settings: PlutuSettings) -> None:
        super().__init__(settings)
        if settings.secret_key is None:  # only reachable when built by hand, not by a hub
            raise ConfigurationError(f"{self.label} needs secret_key to verify returns")
        self._secret = settings.secret_key

    def _confirm_fields(self, invoice: Invoice) -> list[tuple[str, str]]:
        invoice_no, amount = self._common(invoice)
        fields = [
            ("amount", amount),
            ("invoice_no", invoice_no),
            ("return_url", check.http_url(invoice.return_url, "return_url")),
        ]
        self._optional_fields(invoice, fields)
        return fields

    @staticmethod
    def _optional_fields(invoice: Invoice, fields: list[tuple[str, str]]) -> None:
        lang = check.lang(invoice)
        if lang is not None:
            fields.append(("lang", lang))
        ip = check.customer_ip(invoice)
        if ip is not None:
            fields.append(("customer_ip", ip))

    @hookimpl
    def payhub_initiate(self, invoice: Invoice) -> Flow[Checkout]:
        """Open Plutu's checkout (``POST .../confirm``); the reference is the invoice number."""
        fields = self._confirm_fields(invoice)
        return self._open_checkout(self._request("confirm", fields), invoice.number)

    def _open_checkout(self, request: httpx.Request, invoice_no: str) -> Flow[Checkout]:
        exchange = self._exchange("confirm")
        response = yield request
        answer = exchange.read(response)
        url = answer.result.get("redirect_url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise exchange.unreadable(response.status_code, "no 'redirect_url'")
        return Checkout(
            reference=invoice_no,
            action=Redirect(url=url),  # kept exactly: its query carries the payment token
            status=PaymentStatus.PENDING,
            raw=answer.body,
        )

    def _callback(self, evidence: Callback | OtpCode) -> Callback:
        if not isinstance(evidence, Callback):
            raise InvalidRequest(
                f"{self.label} is verified with the Callback Plutu sent, not an OtpCode",
                field="evidence",
                rule="Callback",
            )
        return evidence


class _SignedReturnAdapter(_RedirectAdapter):
    """Local Bank Cards and MPGS: settled by the signed browser return alone.

    They are verified alike; they differ in their signed fields (MPGS signs the currency)
    and in the service name the return must be signed with.
    """

    service: ClassVar[Literal["localbankcards", "mpgs"]]

    @hookimpl
    def payhub_verify(self, evidence: Callback | OtpCode) -> PaymentResult:
        """Check the signed browser return to ``return_url`` (its query string)."""
        return verify_redirect_return(
            self._callback(evidence),
            self._secret.get_secret_value(),
            service=self.service,
            label=f"{self.label} return",
            currency=self.currency,
        )


class SadadAdapter(_OtpWalletAdapter):
    """Sadad (Al-Madar's wallet, ``plutu.sadad``): mobile 091/093, birth year, 6-digit OTP."""

    service = "sadadapi"
    label = "Sadad"
    otp_length = 6
    networks = check.MOBILE_SADAD
    needs_birth_year = True
    capabilities = _capabilities("LYD", {"otp"})


class AdfaliAdapter(_OtpWalletAdapter):
    """Adfali (Bank of Commerce and Development, ``plutu.adfali``): mobile 091-096,
    4-digit OTP."""

    service = "edfali"
    label = "Adfali"
    otp_length = 4
    networks = check.MOBILE_ANY
    capabilities = _capabilities("LYD", {"otp"})


class LocalBankCardsAdapter(_SignedReturnAdapter):
    """Local Bank Cards (Numo network, ``plutu.localbankcards``): Plutu's card checkout,
    verified by the signed browser return."""

    service = "localbankcards"
    label = "Local Bank Cards"
    capabilities = _capabilities("LYD", {"redirect"})


class MpgsAdapter(_SignedReturnAdapter):
    """MPGS (Mastercard, ``plutu.mpgs``) in the account's currency (``currency`` setting,
    USD by default), verified by the signed browser return."""

    Settings: ClassVar[type[PlutuSettings]] = MpgsSettings
    settings: MpgsSettings
    service = "mpgs"
    label = "MPGS"
    capabilities = _capabilities("USD", {"redirect"})

    def _currency(self) -> str:
        return self.settings.currency  # the base __init__ checked it is MpgsSettings


class TlyncAdapter(_RedirectAdapter):
    """T-Lync (Tadawul, ``plutu.tlync``): a checkout offering several wallets and cards.

    Settled by the signed server-to-server JSON callback to ``callback_url``; the browser
    return to ``return_url`` carries no amount, so it verifies as ``PENDING`` at best.
    """

    service = "tlync"
    label = "T-Lync"
    capabilities = _capabilities("LYD", {"redirect", "callback"})

    def _confirm_fields(self, invoice: Invoice) -> list[tuple[str, str]]:
        invoice_no, amount = self._common(invoice)
        callback_url = check.http_url(invoice.callback_url, "callback_url")
        if self.settings.environment != "sandbox":
            check.public_url(callback_url, "callback_url")
        fields = [
            ("mobile_number", check.mobile_number(invoice, check.MOBILE_ANY)),
            ("amount", amount),
            ("invoice_no", invoice_no),
            ("return_url", check.http_url(invoice.return_url, "return_url")),
            ("callback_url", callback_url),
        ]
        email = check.email(invoice)
        if email is not None:
            fields.append(("email", email))
        self._optional_fields(invoice, fields)
        return fields

    @hookimpl
    def payhub_verify(self, evidence: Callback | OtpCode) -> PaymentResult:
        """A request with a body (or a POST) is the JSON callback; otherwise the return."""
        callback = self._callback(evidence)
        secret = self._secret.get_secret_value()
        if callback.body or callback.method == "POST":
            return verify_tlync_callback(callback, secret)
        return verify_tlync_return(callback, secret)
