"""What the endpoints do, once, without I/O.

Every framework shell does the same three things: :meth:`Endpoints.route` the request's
method and path (below the mount), read the body and build a ``Callback``, then drive the
flow of :meth:`Endpoints.handle`. The flow yields :class:`Receive` steps (the shell calls
``hub.receive`` with them and sends back the ``Receipt``, or throws in what it raised) and
returns the :class:`WebResponse` to send. Like the adapters' flows, one behaviour serves
sync and async hubs and every framework.

The URLs, below the mount (``/payhub`` by default)::

    /<alias>/return     GET or POST: the customer's browser coming back from checkout
    /<alias>/callback   POST: the gateway's server-to-server callback (T-Lync)
    /<alias>/webhook    POST: the gateway's webhook (Plural)
    /webhook            POST: one webhook URL for several aliases (see below)

What each answer means to the caller:

=====================================  ===========================  =====================
situation                              gateway (callback, webhook)  customer (return)
=====================================  ===========================  =====================
recorded, or a duplicate of recorded   200                          303 to the outcome page
signed, but not about a payment        200 (stop redelivering)      400 error page
bad or missing signature, stale time   403                          400 error page
malformed evidence, body too large     400 / 413                    400 error page
verified, amount or invoice differs    409                          400 error page
verified, payment unknown to ledger    404                          404 page
ledger or gateway unavailable          503 + Retry-After            503 page (reload)
unknown alias or URL / wrong method    404 / 405                    404 / 405
anything else (a bug)                  500                          500 page
=====================================  ===========================  =====================

A 2xx is only ever sent after ``hub.receive`` returned, i.e. after the ledger committed the
evidence; a 4xx says retrying cannot help; a 5xx asks the gateway to deliver again.

The shared ``/webhook`` URL exists because a gateway account has one webhook URL while a
merchant may configure several aliases on it (hosted and seamless checkout with the same
Plural credentials). It tries the webhook aliases in order and keeps the first one whose
secret verifies the delivery and whose ledger knows the payment; a delivery no alias
verifies is refused. Per-alias URLs remain the first choice where the gateway allows one
URL per account: nothing is tried in vain, and the alias is never in doubt.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any, Literal, Protocol

from payhub_core._config import HubConfig
from payhub_core._errors import (
    AmountMismatch,
    ConfigurationError,
    GatewayError,
    GatewayUnavailable,
    InvalidRequest,
    LedgerUnavailable,
    MalformedCallback,
    PayhubError,
    PaymentNotFound,
    SignatureError,
    UnsupportedOperation,
    VerificationError,
)
from payhub_core._models import Callback, Capabilities, PaymentStatus
from payhub_core.web._requests import BodyTooLarge
from payhub_core.web._settings import WebSettings, web_settings

__all__ = [
    "KINDS",
    "Endpoints",
    "Flow",
    "Kind",
    "PaymentView",
    "ReceiptView",
    "Receive",
    "Route",
    "WebResponse",
]

logger = logging.getLogger("payhub.web")

Kind = Literal["return", "callback", "webhook"]
KINDS: tuple[Kind, ...] = ("return", "callback", "webhook")
_GATEWAY_KINDS = ("callback", "webhook")
_RETRY_AFTER = "5"


class PaymentView(Protocol):
    """What the endpoints read of a ledger ``Payment``."""

    @property
    def invoice_number(self) -> str: ...
    @property
    def gateway(self) -> str: ...
    @property
    def status(self) -> PaymentStatus: ...


class ReceiptView(Protocol):
    """What the endpoints read of a ledger ``Receipt``."""

    @property
    def payment(self) -> PaymentView: ...
    @property
    def duplicate(self) -> bool: ...
    @property
    def change(self) -> object | None: ...


@dataclass(frozen=True)
class Route:
    """A request's endpoint: its kind and alias (``None``: the shared webhook URL)."""

    kind: Kind
    alias: str | None


@dataclass(frozen=True)
class Receive:
    """One step of a flow: ``hub.receive(callback, gateway=gateway, source=source)``."""

    callback: Callback
    gateway: str
    source: Kind


@dataclass(frozen=True)
class WebResponse:
    """An HTTP answer, for a shell to send as it is."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


Flow = Generator[Receive, Any, WebResponse]
Outcome = Callable[[Any], "str | None"]

_HTML_HEADERS = (
    ("content-type", "text/html; charset=utf-8"),
    ("cache-control", "no-store"),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
)


def _json(status: int, data: Mapping[str, Any], *extra: tuple[str, str]) -> WebResponse:
    body = json.dumps(data, separators=(",", ":")).encode("utf-8")
    headers = (("content-type", "application/json"), ("cache-control", "no-store"), *extra)
    return WebResponse(status, headers, body)


def _page(status: int, title: str, text: str, *extra: tuple[str, str]) -> WebResponse:
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head><body><main><h1>{escape(title)}</h1>"
        f"<p>{escape(text)}</p></main></body></html>"
    ).encode()
    return WebResponse(status, (*_HTML_HEADERS, *extra), body)


def _redirect(url: str) -> WebResponse:
    return WebResponse(
        303,
        (("location", url), ("cache-control", "no-store"), ("referrer-policy", "no-referrer")),
        b"",
    )


# What a failed receive means: (status, short code, text for the customer's page).
_CUSTOMER_UNTRUSTED = (
    "We could not confirm this payment. If you paid, the shop will confirm it as soon as "
    "the payment provider tells it; you may also contact the shop."
)


@dataclass(frozen=True)
class _Failure:
    status: int
    code: str
    page_status: int
    page_title: str
    page_text: str
    retry: bool = False


def _classify(error: BaseException) -> _Failure:
    if isinstance(error, BodyTooLarge):
        return _Failure(413, "too_large", 413, "Request too large", _CUSTOMER_UNTRUSTED)
    if isinstance(error, AmountMismatch):
        return _Failure(409, "mismatch", 400, "Payment not confirmed", _CUSTOMER_UNTRUSTED)
    if isinstance(error, SignatureError):
        return _Failure(403, "signature", 400, "Payment not confirmed", _CUSTOMER_UNTRUSTED)
    if isinstance(error, (MalformedCallback, VerificationError, InvalidRequest)):
        # InvalidRequest: the request could not even be made into a Callback
        return _Failure(400, "malformed", 400, "Payment not confirmed", _CUSTOMER_UNTRUSTED)
    if isinstance(error, PaymentNotFound):
        return _Failure(
            404,
            "unknown_payment",
            404,
            "Payment not found",
            "This shop has no record of the payment this page is about.",
        )
    if isinstance(error, (LedgerUnavailable, GatewayUnavailable, GatewayError)):
        return _Failure(
            502 if isinstance(error, GatewayError) else 503,
            "unavailable",
            503,
            "Please try again",
            "The shop could not record the payment's result just now. Reload this page "
            "in a moment; if you paid, the payment is not lost.",
            retry=True,
        )
    return _Failure(
        500,
        "error",
        500,
        "Something went wrong",
        "The shop could not process this page. If you paid, the payment is not lost.",
    )


def _verified_but_ignored(error: BaseException) -> bool:
    """A signed delivery that is not about a payment (an adapter raises
    ``UnsupportedOperation`` carrying the event's id after checking the signature, as
    Plural's ``UnsupportedEvent`` does): the gateway should stop redelivering it."""
    return isinstance(error, UnsupportedOperation) and getattr(error, "event_id", None) is not None


class _HubLike(Protocol):
    @property
    def config(self) -> HubConfig: ...
    @property
    def gateways(self) -> tuple[str, ...]: ...
    def capabilities(self, gateway: str | None = None) -> Capabilities: ...


class Endpoints:
    """The endpoints' behaviour for one hub's configuration (pure; see the module doc).

    ``outcome(payment)`` may return the URL of the merchant's page for a payment that a
    return recorded (``None``: use ``[web] pages``); without either, a plain built-in page
    says the status.
    """

    def __init__(
        self,
        config: HubConfig,
        capabilities: Mapping[str, Capabilities],
        *,
        outcome: Outcome | None = None,
        settings: WebSettings | None = None,
    ) -> None:
        if config.ledger is None:
            raise ConfigurationError(
                "the web endpoints record evidence in the ledger, and no [ledger] is "
                'configured: add a [ledger] table (url = "sqlite:///payhub.sqlite3")'
            )
        self.config = config
        self.settings = settings if settings is not None else web_settings(config)
        self.outcome = outcome
        self.aliases = tuple(config.gateways)
        listed = self.settings.webhook_aliases
        if listed is not None:
            unknown = sorted(set(listed) - set(self.aliases))
            if unknown:
                raise ConfigurationError(
                    f"[web] webhook_aliases names unconfigured gateways: {', '.join(unknown)}"
                )
            self.webhook_aliases = tuple(listed)
        else:
            self.webhook_aliases = tuple(
                alias for alias in self.aliases if "webhook" in capabilities[alias].flows
            )

    @classmethod
    def for_hub(
        cls,
        hub: _HubLike,
        *,
        outcome: Outcome | None = None,
        settings: WebSettings | None = None,
    ) -> Endpoints:
        capabilities = {alias: hub.capabilities(alias) for alias in hub.gateways}
        return cls(hub.config, capabilities, outcome=outcome, settings=settings)

    @property
    def max_body(self) -> int:
        return self.settings.max_body

    # -- routing ------------------------------------------------------------------------

    def route(self, method: str, path: str) -> Route | WebResponse:
        """The endpoint for ``method`` and ``path`` (below the mount), or the answer when
        there is none (404, 405)."""
        parts = [part for part in path.split("/") if part]
        route: Route | None = None
        if parts == ["webhook"]:
            route = Route("webhook", None)
        elif len(parts) == 2 and parts[0] in self.aliases and parts[1] in KINDS:
            route = Route(parts[1], parts[0])
        if route is None:
            return _json(404, {"error": "not_found"})
        allowed = ("GET", "POST") if route.kind == "return" else ("POST",)
        if method.upper() not in allowed:
            return _json(405, {"error": "method_not_allowed"}, ("allow", ", ".join(allowed)))
        return route

    # -- the flow -----------------------------------------------------------------------

    def handle(self, route: Route, callback: Callback) -> Flow:
        """Receive ``callback`` at ``route``; yields :class:`Receive` steps and returns
        the response."""
        candidates = (route.alias,) if route.alias is not None else self.webhook_aliases
        if not candidates:
            return _json(404, {"error": "not_found"})
        best: BaseException | None = None
        for index, alias in enumerate(candidates):
            last = index == len(candidates) - 1
            try:
                receipt = yield Receive(callback, alias, route.kind)
            except Exception as error:
                if _verified_but_ignored(error):
                    return self._ignored(route, alias)
                shared = route.alias is None
                if (
                    shared
                    and not last
                    and isinstance(error, (PaymentNotFound, VerificationError))
                    and not isinstance(error, AmountMismatch)
                ):
                    # This alias did not verify it, or verified a payment its ledger rows
                    # do not hold: the next alias may.
                    if best is None or isinstance(error, PaymentNotFound):
                        best = error
                    continue
                if (
                    shared
                    and isinstance(best, PaymentNotFound)
                    and isinstance(error, VerificationError)
                    and not isinstance(error, AmountMismatch)
                ):
                    # an earlier alias verified it: "unknown payment" says more than
                    # this alias's "not my signature"
                    error = best
                return self.failed(route, error, alias=alias)
            return self._received(route, alias, receipt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _received(self, route: Route, alias: str, receipt: ReceiptView) -> WebResponse:
        payment = receipt.payment
        status = PaymentStatus(payment.status).value
        logger.info(
            "web %s gateway=%s invoice=%s status=%s duplicate=%s changed=%s",
            route.kind,
            alias,
            payment.invoice_number,
            status,
            receipt.duplicate,
            receipt.change is not None,
            extra={"payhub": {"endpoint": route.kind, "gateway": alias, "status": status}},
        )
        if route.kind in _GATEWAY_KINDS:
            return _json(
                200,
                {
                    "received": True,
                    "status": status,
                    "duplicate": receipt.duplicate,
                    "changed": receipt.change is not None,
                },
            )
        url = self.outcome(payment) if self.outcome is not None else None
        if url is None:
            url = self.settings.page(
                status, invoice=payment.invoice_number, status=status, gateway=payment.gateway
            )
        if url is not None:
            return _redirect(url)
        return _page(
            200,
            f"Payment {status}",
            f"Invoice {payment.invoice_number}: the payment is {status}.",
        )

    def _ignored(self, route: Route, alias: str) -> WebResponse:
        logger.info(
            "web %s gateway=%s: a signed event that is not about a payment", route.kind, alias
        )
        if route.kind in _GATEWAY_KINDS:
            return _json(200, {"received": True, "ignored": True})
        return self.failed(route, MalformedCallback("not a payment"), alias=alias)

    def failed(
        self, route: Route, error: BaseException, *, alias: str | None = None
    ) -> WebResponse:
        """The answer when receiving failed with ``error`` (also for errors met before
        the flow, such as a body too large)."""
        failure = _classify(error)
        level = logging.ERROR if failure.status >= 500 and not failure.retry else logging.WARNING
        logger.log(
            level,
            "web %s gateway=%s refused: %s (%s) -> %d",
            route.kind,
            alias or route.alias or "-",
            type(error).__name__,
            error.message if isinstance(error, PayhubError) else "unexpected error",
            failure.status,
            extra={
                "payhub": {
                    "endpoint": route.kind,
                    "gateway": alias or route.alias,
                    "error": type(error).__name__,
                    "http_status": failure.status,
                }
            },
            exc_info=error if not isinstance(error, PayhubError) else None,
        )
        retry = (("retry-after", _RETRY_AFTER),) if failure.retry else ()
        if route.kind in _GATEWAY_KINDS:
            return _json(failure.status, {"error": failure.code}, *retry)
        if failure.page_status == 400:
            url = self.settings.page("error")
            if url is not None:
                return _redirect(url)
        return _page(failure.page_status, failure.page_title, failure.page_text, *retry)


def drive(flow: Flow, receive: Callable[[Receive], Any]) -> WebResponse:
    """Run ``flow`` to its response, calling ``receive`` for each step (sync shells)."""
    try:
        step = next(flow)
        while True:
            try:
                value = receive(step)
            except Exception as error:
                step = flow.throw(error)
            else:
                step = flow.send(value)
    except StopIteration as done:
        response: WebResponse = done.value
        return response


async def adrive(flow: Flow, receive: Callable[[Receive], Any]) -> WebResponse:
    """Run ``flow`` to its response, awaiting ``receive`` for each step (async shells)."""
    try:
        step = next(flow)
        while True:
            try:
                value = await receive(step)
            except Exception as error:
                step = flow.throw(error)
            else:
                step = flow.send(value)
    except StopIteration as done:
        response: WebResponse = done.value
        return response
