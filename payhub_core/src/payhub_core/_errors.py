"""The one exception tree of payhub.

Every error a caller can see is a :class:`PayhubError`. Each carries what a caller needs to
decide what to do next (which gateway, which operation, the HTTP status and the gateway's own
code) and never a secret: messages are built from field names and gateway codes, not from
the values a caller passed in.

    PayhubError
    ├── ConfigurationError
    │   └── AdapterNotFound
    ├── InvalidRequest              (also a ValueError)
    │   └── InvalidMoney
    │       └── FloatAmountError    (also a TypeError)
    ├── UnsupportedOperation
    ├── VerificationError
    │   ├── SignatureError
    │   ├── AmountMismatch
    │   └── MalformedCallback
    ├── GatewayError
    ├── GatewayUnavailable
    │   └── ResponseTooLarge
    ├── AdapterError
    └── LedgerError
        ├── LedgerUnavailable
        ├── PaymentNotFound
        └── OperationBlocked

    InvoiceConflict is an InvalidRequest (same invoice number, another amount or currency).
"""

from __future__ import annotations

from collections.abc import Iterable


class PayhubError(Exception):
    """Root of every error payhub raises.

    ``gateway`` is the configured gateway alias (``"cards"``), ``operation`` the hub
    operation (``"initiate"``, ``"verify"``, ...), ``request_id`` the id the driver gave the
    operation (it appears in the ``payhub`` log records too).
    """

    def __init__(
        self,
        message: str,
        *,
        gateway: str | None = None,
        operation: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.gateway = gateway
        self.operation = operation
        self.request_id = request_id

    def __str__(self) -> str:
        where = " ".join(
            part
            for part in (
                f"gateway={self.gateway!r}" if self.gateway else "",
                f"operation={self.operation!r}" if self.operation else "",
                f"request_id={self.request_id}" if self.request_id else "",
            )
            if part
        )
        return f"{self.message} [{where}]" if where else self.message

    def with_context(
        self,
        *,
        gateway: str | None = None,
        operation: str | None = None,
        request_id: str | None = None,
    ) -> PayhubError:
        """Fill in context the raiser did not know; never overwrite what it did say."""
        self.gateway = self.gateway or gateway
        self.operation = self.operation or operation
        self.request_id = self.request_id or request_id
        return self

    def scrub(self, secrets: Iterable[str]) -> PayhubError:
        """Remove any secret value and card number that found its way into the message or
        any other text the error carries, such as a gateway's own message (defence in
        depth; the rules are :func:`payhub_core.redaction.scrub`'s)."""
        from payhub_core.redaction import scrub  # redaction is independent of the errors

        secrets = tuple(secrets)
        for name, value in list(vars(self).items()):
            # The context is payhub's own (an alias, an operation, a generated id): a short
            # secret's digits inside the request id must not garble it.
            if isinstance(value, str) and name not in ("gateway", "operation", "request_id"):
                setattr(self, name, scrub(value, secrets))
        self.args = (self.message,)
        return self


class ConfigurationError(PayhubError):
    """The configuration cannot be used: a missing or malformed setting, an unknown gateway."""


class AdapterNotFound(ConfigurationError):
    """No installed adapter has the requested name, or the one that has it failed to load."""

    def __init__(self, message: str, *, name: str, installed: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.name = name
        self.installed = tuple(installed)


class InvalidRequest(PayhubError, ValueError):
    """The invoice or the arguments cannot be sent to this gateway.

    ``field`` names what is wrong (``"amount"``, ``"customer.mobile"``) and ``rule`` says
    what it must satisfy. Nothing was sent.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        gateway: str | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(message, gateway=gateway, operation=operation)
        self.field = field
        self.rule = rule


class InvalidMoney(InvalidRequest):
    """An amount or currency that is not valid money (unknown currency, too many decimals)."""


class FloatAmountError(InvalidMoney, TypeError):
    """A float was given as an amount. Floats cannot hold money exactly; pass a str or Decimal."""


class UnsupportedOperation(PayhubError):
    """The gateway does not offer this operation (Plutu has no refund API, for example)."""


class VerificationError(PayhubError):
    """What came back from the gateway cannot be trusted. Never treat it as paid."""


class SignatureError(VerificationError):
    """The signature is missing, malformed or does not match."""


class AmountMismatch(VerificationError):
    """The verified payment is not the one that was asked for.

    The invoice number, amount or currency differs from ``expected``. ``field`` names
    which; ``expected_value`` and ``actual_value`` hold the two (they are not secrets).
    """

    def __init__(
        self,
        message: str,
        *,
        field: str,
        expected_value: str,
        actual_value: str,
        gateway: str | None = None,
    ) -> None:
        super().__init__(message, gateway=gateway, operation="verify")
        self.field = field
        self.expected_value = expected_value
        self.actual_value = actual_value


class MalformedCallback(VerificationError):
    """The callback cannot be parsed (bad JSON, a required field missing)."""


class GatewayError(PayhubError):
    """The gateway answered, and the answer is an error.

    The outcome is known: the gateway refused. ``http_status`` is the HTTP status,
    ``code`` the gateway's error code (``"INVALID_MOBILE_NUMBER"``), ``gateway_message``
    the gateway's own text (for logs; show your customers your own words).
    """

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: str | None = None,
        gateway_message: str | None = None,
        gateway: str | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(message, gateway=gateway, operation=operation)
        self.http_status = http_status
        self.code = code
        self.gateway_message = gateway_message


class GatewayUnavailable(PayhubError):
    """The gateway could not be reached, timed out or failed (5xx, 429), or the call ran
    past its total ``deadline``.

    ``outcome_unknown`` is True when the request may have reached the gateway: the payment
    may or may not have happened, so find out before trying again (``status`` where the
    gateway offers it, else the gateway's merchant dashboard; the message says which).
    """

    def __init__(
        self,
        message: str,
        *,
        outcome_unknown: bool,
        http_status: int | None = None,
        code: str | None = None,
        gateway: str | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(message, gateway=gateway, operation=operation)
        self.outcome_unknown = outcome_unknown
        self.http_status = http_status
        self.code = code


class AdapterError(PayhubError):
    """The adapter itself failed with an unexpected exception (a bug in the adapter).

    The original exception is the ``__cause__``.
    """


class ResponseTooLarge(GatewayUnavailable):
    """The gateway's answer was larger than the gateway's ``max_response_bytes`` (counted
    after decompression), so payhub stopped reading it.

    The request did reach the gateway; its answer could not be read. ``outcome_unknown``
    is True for a request that may have moved money, as for any unreadable answer.
    ``limit`` is the number of bytes allowed.
    """

    def __init__(
        self,
        message: str,
        *,
        limit: int,
        outcome_unknown: bool,
        http_status: int | None = None,
        gateway: str | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(
            message,
            outcome_unknown=outcome_unknown,
            http_status=http_status,
            gateway=gateway,
            operation=operation,
        )
        self.limit = limit


class LedgerError(PayhubError):
    """Root of the errors of the payment ledger (:mod:`payhub_core.ledger`)."""


class LedgerUnavailable(LedgerError):
    """The ledger's database cannot be used right now: unreachable, locked past its
    timeout, read-only or full. Nothing was sent to the gateway and nothing was half
    written; try again later (a web endpoint answers 5xx so that the gateway retries)."""


class PaymentNotFound(LedgerError):
    """The ledger does not know this payment (an invoice number, or evidence or a
    reference that matches none of its payments)."""


class OperationBlocked(LedgerError):
    """A money operation was refused before anything was sent: an earlier operation's
    outcome is unknown (reconcile first), or it would break a money invariant
    (refunded <= captured <= authorized <= amount)."""


class InvoiceConflict(InvalidRequest):
    """The ledger already holds this invoice number with another amount or currency.
    Nothing was sent."""
