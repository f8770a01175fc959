"""Plutu's error codes and what each means for the merchant.

Plutu does not publish its code tables; these codes come from the translation maps of
Plutu's own WooCommerce and Formidable plugins (spellings verbatim, typos included, since
they are what the API sends). The meanings feed ``GatewayError`` messages and the
documentation page docs/plutu/errors.md. An unknown code is still a clean
``GatewayError``: treat it as a failed payment.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ERROR_CODES", "SDK_ONLY_CODES", "ErrorCode", "describe"]


@dataclass(frozen=True)
class ErrorCode:
    code: str
    group: str
    meaning: str
    action: str


def _codes(*entries: ErrorCode) -> dict[str, ErrorCode]:
    return {entry.code: entry for entry in entries}


_AUTH = "auth, configuration and account"
_INPUT = "input"
_OTP = "OTP and wallet"
_BACKEND = "backend"

ERROR_CODES: dict[str, ErrorCode] = _codes(
    ErrorCode(
        "UNAUTHORIZED",
        _AUTH,
        "the API key or access token is wrong, revoked or for the other environment",
        "check api_key and access_token (test vs live token) in the configuration",
    ),
    ErrorCode(
        "AUTH_ERROR",
        _AUTH,
        "Plutu could not authenticate the request",
        "check api_key and access_token; renew the token in the Plutu dashboard",
    ),
    ErrorCode(
        "FORBIDDEN_IP_ADDRESS",
        _AUTH,
        "the server's IP address is not on the account's API IP whitelist",
        "add the server's outgoing IP under Configurations > API Whitelisted IPs",
    ),
    ErrorCode(
        "SECRET_KEY_DOES_NOT_EXIST",
        _AUTH,
        "the account has no secret key for signing callbacks",
        "generate a secret key in the Plutu dashboard and configure it as secret_key",
    ),
    ErrorCode(
        "INVALID_MERCHANT_SECRET_KEY",
        _AUTH,
        "the merchant's secret key is not valid",
        "regenerate the secret key in the dashboard and update secret_key",
    ),
    ErrorCode(
        "MISSING_PARAMETER",
        _AUTH,
        "a required request field is missing",
        "a payhub bug or an API change: report it with the request id",
    ),
    ErrorCode(
        "MISSING_QR_PARAMETER",
        _AUTH,
        "a QR-payment parameter is missing (a Plutu service payhub does not use)",
        "report it with the request id",
    ),
    ErrorCode(
        "INVALID_GATEWAY",
        _AUTH,
        "the payment service does not exist for this account",
        "check the adapter name (plutu.sadad, plutu.adfali, ...)",
    ),
    ErrorCode(
        "DENIED_ACCESS_GATEWAY",
        _AUTH,
        "the account is not allowed to use this payment service",
        "ask Plutu to enable the service for the account",
    ),
    ErrorCode(
        "INVALID_MERCHANT_CATEGORY",
        _AUTH,
        "the merchant's category does not allow this payment",
        "contact Plutu support",
    ),
    ErrorCode(
        "UNAUTHORIZED_MERCHANT_ACCOUNT",
        _AUTH,
        "the merchant account is not active or not approved",
        "contact Plutu support",
    ),
    ErrorCode(
        "TEST_MODE_NOT_SUPPORTED",
        _AUTH,
        "this payment service cannot be used with a test access token",
        "test this service with the payhub sandbox, or use a live token",
    ),
    ErrorCode(
        "TOO_MAY_REQUESTS",
        _AUTH,
        "too many requests (Plutu's spelling)",
        "slow down and try again later",
    ),
    ErrorCode(
        "INVALID_INPUTS",
        _INPUT,
        "one or more fields were refused",
        "check the invoice; payhub validates the documented rules before sending",
    ),
    ErrorCode(
        "INVALID_AMOUNT",
        _INPUT,
        "the amount is not valid",
        "check the amount (greater than zero, at most two decimals)",
    ),
    ErrorCode(
        "NOT_ALLOWED_AMOUNT",
        _INPUT,
        "the amount is outside the limits allowed for this service or account",
        "offer the customer another payment service or a different amount",
    ),
    ErrorCode(
        "AMOUNT_EXCEEDED_MAXIMUM",
        _INPUT,
        "the amount is above the service's maximum",
        "offer the customer another payment service or split the order",
    ),
    ErrorCode(
        "CURRENCY_NOT_SUPPORTED",
        _INPUT,
        "the account's currency is not supported for this service",
        "for MPGS, configure the account's currency (currency setting)",
    ),
    ErrorCode(
        "INVALID_MOBILE_NUMBER",
        _INPUT,
        "the mobile number is not valid for this service",
        "ask the customer for a number of the right network",
    ),
    ErrorCode(
        "INVALID_MOBILE_NUMBER_OR_BIRTH_YEAR",
        _INPUT,
        "the mobile number and birth year do not match the wallet's owner (Sadad)",
        "ask the customer to check the number and birth year",
    ),
    ErrorCode(
        "EMPTY_MOBILE_NUMBER",
        _INPUT,
        "the mobile number is missing",
        "set invoice.customer.mobile",
    ),
    ErrorCode(
        "EMPTY_BIRTH_YEAR",
        _INPUT,
        "the birth year is missing (Sadad)",
        "set invoice.customer.birth_year",
    ),
    ErrorCode(
        "DUPLICATED_INVOICE_NUMBER",
        _INPUT,
        "the invoice number was used before (even a failed attempt uses it up)",
        "give every payment attempt a new invoice number",
    ),
    ErrorCode(
        "INVALID_INVOICE_AMOUNT_OR_NUMBER",
        _INPUT,
        "the amount or invoice number differs from the one sent with the OTP request",
        "confirm with the same invoice that initiate was called with",
    ),
    ErrorCode(
        "REFERENCE_NUMBER_DOES_NOT_EXIST",
        _INPUT,
        "the process id (checkout reference) is unknown or expired",
        "start again with initiate",
    ),
    ErrorCode(
        "NOT_SUBSCRIBED",
        _OTP,
        "the number is not subscribed to the wallet (Adfali)",
        "ask the customer to subscribe to the wallet or pay another way",
    ),
    ErrorCode(
        "CONFIRMATION_ERROR",
        _OTP,
        "the wallet provider did not confirm the payment",
        "unless an earlier confirm of this payment went through (Plutu then says it was "
        "already processed: check it), it was not paid; the customer may try again with "
        "a new invoice number",
    ),
    ErrorCode(
        "INVLIAD_OTP",
        _OTP,
        "the one-time code is wrong (Plutu's spelling)",
        "ask the customer to type the code again",
    ),
    ErrorCode(
        "OTP_EXPIRED",
        _OTP,
        "the one-time code expired",
        "start again with initiate to send a new code",
    ),
    ErrorCode(
        "OTP_WAIT_BEFORE_RESNED",
        _OTP,
        "a new code was asked for too soon (Plutu's spelling)",
        "ask the customer to wait before requesting another code",
    ),
    ErrorCode(
        "PHONE_NUMBER_IS_LOCKED",
        _OTP,
        "the wallet is locked, usually after too many wrong codes",
        "the customer must contact the wallet provider or pay another way",
    ),
    ErrorCode(
        "INSUFFICIENT_BALANCE",
        _OTP,
        "the wallet or account does not hold enough money",
        "the customer must top up or pay another way",
    ),
    ErrorCode(
        "CHECK_BANK_ACCOUNT",
        _OTP,
        "the customer's bank account refused the payment",
        "the customer must check with the bank or pay another way",
    ),
    ErrorCode(
        "BACKEND_ERROR",
        _BACKEND,
        "an error inside Plutu",
        "try again later; for a confirm, check the dashboard before retrying",
    ),
    ErrorCode(
        "BACKEND_SERVER_ERROR",
        _BACKEND,
        "the bank or wallet provider behind Plutu is unreachable",
        "try again later or offer another payment service",
    ),
    ErrorCode(
        "ADD_PAYMENT_ERROR",
        _BACKEND,
        "Plutu could not record the payment",
        "check the dashboard logs; contact Plutu support with the invoice number",
    ),
)

SDK_ONLY_CODES: dict[str, str] = {
    "CONNECT_ERROR": "the SDK could not connect; payhub raises GatewayUnavailable instead",
    "REQUEST_ERROR": "the SDK's request failed; payhub raises GatewayUnavailable instead",
    "BACKEND_ERROR": (
        "the SDK also uses this code for a server error it caught itself; payhub raises "
        "GatewayUnavailable for 5xx answers, so BACKEND_ERROR in a GatewayError is Plutu's own"
    ),
}
"""Codes the PHP SDK invents on the client side; Plutu's server never sends them (except
BACKEND_ERROR, which is also a server code)."""


def describe(code: str | None) -> str:
    """A sentence for a ``GatewayError`` message: what the code means for the merchant."""
    if code is None:
        return "Plutu gave no error code"
    known = ERROR_CODES.get(code)
    if known is None:
        return "a code payhub does not know: treat the payment as failed"
    return f"{known.meaning}; {known.action}"
