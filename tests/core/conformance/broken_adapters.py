"""Deliberately broken variants of the example Acme adapter, one defect each, for the
conformance suite's own tests: each must fail exactly the checks named for it."""

from __future__ import annotations

from payhub_example import AcmeAdapter

from payhub_core import (
    Callback,
    Capabilities,
    Checkout,
    GatewayUnavailable,
    Invoice,
    Money,
    OtpCode,
    PaymentResult,
    PaymentStatus,
    Redirect,
    SignatureError,
    currency_exponent,
    hookimpl,
)
from payhub_core.flows import Flow, idempotent


class UnsignedVerify(AcmeAdapter):
    """Reads the return's fields but never checks the signature."""

    @hookimpl
    def payhub_verify(self, evidence: Callback | OtpCode) -> PaymentResult:
        if not isinstance(evidence, Callback):
            raise SignatureError("Acme has no OTP flow")
        fields = dict(evidence.query_params())
        try:
            return PaymentResult(
                status=PaymentStatus(fields["status"]),
                reference=fields["id"],
                invoice_number=fields["ref"],
                amount=Money.from_minor(int(fields["amount_minor"]), fields["currency"]),
            )
        except (KeyError, ValueError):
            raise SignatureError("incomplete return") from None


class IdempotentCapture(AcmeAdapter):
    """Marks its capture idempotent: the driver would repeat it after a timeout."""

    @hookimpl
    def payhub_capture(self, reference: str, amount: Money | None) -> Flow[PaymentResult]:
        body = {} if amount is None else {"amount_minor": amount.minor_units}
        response = yield idempotent(self._request("POST", f"/payments/{reference}/capture", body))
        return self._result(response)


class RetriesItself(AcmeAdapter):
    """Catches the driver's "outcome unknown" on a refund and sends it again."""

    @hookimpl
    def payhub_refund(self, reference: str, amount: Money | None) -> Flow[PaymentResult]:
        request = self._request("POST", f"/payments/{reference}/refunds", {})
        try:
            response = yield request
        except GatewayUnavailable:
            response = yield self._request("POST", f"/payments/{reference}/refunds", {})
        return self._result(response)


class LeakyRepr(AcmeAdapter):
    """Shows its API key in its repr."""

    def __repr__(self) -> str:
        return f"LeakyRepr(api_key={self.settings.api_key.get_secret_value()!r})"


class FloatAmounts(AcmeAdapter):
    """Converts the amount to minor units through a float (0.29 USD becomes 28 cents)."""

    @hookimpl
    def payhub_initiate(self, invoice: Invoice) -> Flow[Checkout]:
        exponent = currency_exponent(invoice.amount.currency)
        body = {
            "ref": invoice.number,
            "amount_minor": int(float(invoice.amount.amount) * 10**exponent),
            "currency": invoice.amount.currency,
            "return_url": invoice.return_url,
            "capture": invoice.capture,
        }
        response = yield self._request("POST", "/payments", body)
        data = self._read(response, money_moves=False)
        return Checkout(reference=data["id"], action=Redirect(url=data["redirect_url"]), raw=data)


class CrashesOnGarbage(AcmeAdapter):
    """Parses the return before checking it, and crashes on a missing field."""

    @hookimpl
    def payhub_verify(self, evidence: Callback | OtpCode) -> PaymentResult:
        if isinstance(evidence, Callback):
            int(dict(evidence.query_params())["amount_minor"])  # KeyError when missing
        result: PaymentResult = super().payhub_verify(evidence)
        return result


class DeclaresLess(AcmeAdapter):
    """Declares three operations but implements all six hooks."""

    capabilities = Capabilities(
        currencies=frozenset({"USD"}), operations=frozenset({"initiate", "verify", "status"})
    )
