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
    └── AdapterError
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
        """Remove any secret value that found its way into the message or any other text
        the error carries, such as a gateway's own message (defence in depth)."""
        # Longest first: a secret that contains a shorter one is masked whole.
        ordered = sorted({secret for secret in secrets if secret}, key=len, reverse=True)
        for name, value in list(vars(self).items()):
            if isinstance(value, str):
                for secret in ordered:
                    value = value.replace(secret, "**********")
                setattr(self, name, value)
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
    """The gateway could not be reached, timed out or failed (5xx, 429).

    ``outcome_unknown`` is True when the request may have reached the gateway: the payment
    may or may not have happened, so check its status before trying again.
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
