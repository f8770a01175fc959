"""Verifying Plutu's signed returns and callbacks, exactly as the official SDK does.

The SDK (v1.1.2, ``PlutuValidationTrait``) signs the service's whitelisted keys in the
order they were received (PHP ``array_filter``: nothing is sorted), serialised with PHP's
``http_build_query``, as upper-case hex HMAC-SHA256 with the merchant's secret key, and
compares with ``hash_equals`` (case-sensitive). Keys outside the whitelist, including
``hashed`` and any query parameters the merchant put in its own ``return_url``, are not
signed. JSON callbacks (T-Lync) are signed over the values as ``json_decode`` gives them to
PHP: a JSON number ``5.00`` signs as ``5``, ``true`` as ``1``.

Only signed fields are ever read after verification, and the signed ``gateway`` must name
the service: the secret key is shared by all of a merchant's services, so without that
check a signed Local Bank Cards return (LYD) would verify as an MPGS one (USD).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal
from typing import Any, Literal

from payhub_core import (
    Callback,
    MalformedCallback,
    Money,
    PaymentResult,
    PaymentStatus,
    SignatureError,
)
from payhub_core.signing import (
    PhpValue,
    constant_time_equal,
    hmac_sha256_hex,
    http_build_query,
    select,
)
from payhub_plutu._amounts import read_amount

__all__ = [
    "DOCS_METHOD_FIELD",
    "LBC_FIELDS",
    "MPGS_FIELDS",
    "TLYNC_CALLBACK_FIELDS",
    "TLYNC_RETURN_FIELDS",
    "WHITELISTS",
    "CallbackKind",
    "callback_signature",
    "canonical_string",
    "verify_redirect_return",
    "verify_tlync_callback",
    "verify_tlync_return",
]

logger = logging.getLogger("payhub.plutu")

LBC_FIELDS = ("gateway", "approved", "canceled", "invoice_no", "amount", "transaction_id")
MPGS_FIELDS = ("gateway", "approved", "canceled", "amount", "currency", "invoice_no",
               "transaction_id")  # fmt: skip
TLYNC_CALLBACK_FIELDS = ("gateway", "approved", "invoice_no", "amount", "transaction_id",
                         "payment_method")  # fmt: skip
TLYNC_RETURN_FIELDS = ("approved", "invoice_no")
DOCS_METHOD_FIELD = "paymet_method"
"""How Plutu's docs spell T-Lync's ``payment_method`` (the SDK and plugins sign
``payment_method``; which one the server sends is an open question)."""

CallbackKind = Literal["localbankcards", "mpgs", "tlync", "tlync_return"]
WHITELISTS: dict[CallbackKind, tuple[str, ...]] = {
    "localbankcards": LBC_FIELDS,
    "mpgs": MPGS_FIELDS,
    "tlync": TLYNC_CALLBACK_FIELDS,
    "tlync_return": TLYNC_RETURN_FIELDS,
}

_INVOICE_NO = re.compile(r"[A-Za-z0-9._-]{1,100}")
_TRANSACTION_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_SERVICES = {
    "localbankcards": "Local Bank Cards (plutu.localbankcards)",
    "mpgs": "MPGS (plutu.mpgs)",
    "tlync": "T-Lync (plutu.tlync)",
}
"""The signed ``gateway`` of each service's returns and callbacks -> how to name it."""
# A PHP 8 numeric string, surrounding white space allowed (what `$value == 1` accepts).
_PHP_NUMERIC = re.compile(r"[ \t\n\r\v\f]*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
                          r"[ \t\n\r\v\f]*")  # fmt: skip


def canonical_string(params: Iterable[tuple[str, PhpValue]], whitelist: Collection[str]) -> str:
    """The string the SDK signs: whitelisted keys in received order, ``http_build_query``."""
    return http_build_query(select(params, whitelist))


def callback_signature(
    secret_key: str, params: Iterable[tuple[str, PhpValue]], kind: CallbackKind
) -> str:
    """The ``hashed`` value Plutu puts on a return or callback with ``params`` (in order).

    For tests and emulators; verification goes through the adapters.
    """
    return hmac_sha256_hex(secret_key, canonical_string(params, WHITELISTS[kind]))


def _check_signature(
    secret_key: str,
    params: Sequence[tuple[str, PhpValue]],
    hashed: object,
    whitelists: Sequence[Collection[str]],
    label: str,
) -> dict[str, PhpValue]:
    """The signed fields, if ``hashed`` matches the signature over one of ``whitelists``.

    Every candidate is computed and compared in constant time, so the time taken does not
    tell which one matched.
    """
    if not isinstance(hashed, str) or not hashed:
        raise SignatureError(f"the {label} has no 'hashed' signature")
    matched: list[tuple[str, PhpValue]] | None = None
    for whitelist in whitelists:
        signed = select(params, whitelist)
        expected = hmac_sha256_hex(secret_key, http_build_query(signed))
        if constant_time_equal(expected, hashed) and matched is None:
            matched = signed
    if matched is None:
        raise SignatureError(f"the {label}'s signature does not match")
    return dict(matched)


def _json_as_php(value: Any) -> PhpValue:
    """A ``Callback.json()`` value as PHP's ``json_decode`` holds it.

    An integer beyond a double's range is a float there (±INF), which
    ``http_build_query`` writes as ``INF``. (``payhub_core.signing.php_scalar`` raises
    ``OverflowError`` for such integers, so they are converted here first.)
    """
    if isinstance(value, dict):
        return {str(key): _json_as_php(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_as_php(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    result: PhpValue = value
    return result


def _last(params: Iterable[tuple[str, str]], key: str) -> str | None:
    """The last value of ``key``: PHP's ``$_GET`` keeps the last of repeated keys."""
    found = None
    for name, value in params:
        if name == key:
            found = value
    return found


def _equals_one(value: PhpValue) -> bool:
    """PHP 8's loose ``$value == 1`` (the SDK's ``isApprovedTransaction``), on the value as
    PHP holds it: the same reading the signature was computed over.

    A JSON number with a fraction or an exponent is a PHP double after ``json_decode`` (here
    it is a ``Decimal``, kept exact for amounts): ``1.0000000000000001`` is the double 1.0,
    so it is approved there, as it signs like ``1``. A numeric string compares as a number
    (``"1.0"``, ``" 1"``, ``"1e0"``); any other string, an array or null never equals 1.
    """
    if type(value) is str:  # a query parameter: "1" as a rule, read at a glance
        return value == "1" or (_PHP_NUMERIC.fullmatch(value) is not None and float(value) == 1.0)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    if isinstance(value, (float, Decimal)):
        return float(value) == 1.0  # the double json_decode makes (correctly rounded)
    if isinstance(value, str) and _PHP_NUMERIC.fullmatch(value):
        return float(value) == 1.0
    return False


def _text(fields: dict[str, PhpValue], key: str, pattern: re.Pattern[str], label: str) -> str:
    value = fields.get(key)
    if value is None:
        raise MalformedCallback(f"the {label} has no signed {key!r}")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise MalformedCallback(f"the {label}'s {key!r} does not have the documented form")
    return value


def _money(value: PhpValue, currency: str, label: str) -> Money:
    try:
        return read_amount(value, currency)
    except ValueError as error:
        raise MalformedCallback(f"the {label}'s {error}") from None


def _foreign(label: str, fields: Collection[str]) -> MalformedCallback:
    """The error for a callback that carries nothing of what ``label`` is made of."""
    return MalformedCallback(
        f"this callback does not belong to this gateway: it is not a {label} (no 'hashed' "
        f"signature, none of {', '.join(fields)}) and looks like another adapter's; verify "
        "it with the gateway that started the payment (gateway=)"
    )


def _form_of_another_adapter(callback: Callback) -> bool:
    """A form POST (T-Lync posts JSON) carrying none of T-Lync's fields."""
    if callback.content_type != "application/x-www-form-urlencoded":
        return False
    try:
        names = [name for name, _ in callback.params()]
    except MalformedCallback:
        return False
    return _is_foreign(names, [TLYNC_CALLBACK_FIELDS, TLYNC_RETURN_FIELDS])


def _is_foreign(
    names: Collection[str], whitelists: Iterable[Collection[str]], *, body: bytes = b""
) -> bool:
    """Something was sent (fields, or a body where fields were expected), but neither
    Plutu's signature nor any field of ``whitelists``."""
    return (
        bool(names or body)
        and "hashed" not in names
        and not any(name in whitelist for whitelist in whitelists for name in names)
    )


def _result(
    fields: dict[str, PhpValue],
    *,
    service: str,
    label: str,
    currency: str,
    cancelable: bool,
) -> PaymentResult:
    """A verified result from the signed fields of an LBC, MPGS or T-Lync callback."""
    signed_service = fields.get("gateway")
    if signed_service != service:
        # One secret key signs every service of the account, so a signature is no proof
        # the evidence is for this service: the signed gateway name is.
        if isinstance(signed_service, str) and signed_service in _SERVICES:
            raise MalformedCallback(
                f"this callback does not belong to this gateway: it is signed as one from "
                f"Plutu's {_SERVICES[signed_service]}, not a {label}; verify it with the "
                "gateway configured with that adapter"
            )
        raise MalformedCallback(f"the {label} is not signed as one from '{service}'")
    invoice_no = _text(fields, "invoice_no", _INVOICE_NO, label)
    if _equals_one(fields.get("approved")):
        status = PaymentStatus.PAID
    elif cancelable and _equals_one(fields.get("canceled")):
        status = PaymentStatus.CANCELED
    else:
        status = PaymentStatus.FAILED
    paid = status is PaymentStatus.PAID
    transaction_id = (
        _text(fields, "transaction_id", _TRANSACTION_ID, label)
        if paid or fields.get("transaction_id") is not None
        else None
    )
    if "currency" in fields:
        currency = _text(fields, "currency", _CURRENCY, label)
    amount = (
        _money(fields.get("amount"), currency, label)
        if paid or fields.get("amount") is not None
        else None
    )
    method = fields.get("payment_method", fields.get(DOCS_METHOD_FIELD))
    logger.debug("verified %s: invoice_no=%s status=%s", label, invoice_no, status)
    return PaymentResult(
        status=status,
        invoice_number=invoice_no,
        amount=amount,
        reference=invoice_no,
        transaction_id=transaction_id,
        raw=fields,
        payment_method=method if isinstance(method, str) else None,
    )


def verify_redirect_return(
    callback: Callback,
    secret_key: str,
    *,
    service: Literal["localbankcards", "mpgs"],
    label: str,
    currency: str,
) -> PaymentResult:
    """Local Bank Cards and MPGS: the browser's GET to ``return_url`` (its query string).

    ``approved=1`` is paid, ``canceled=1`` canceled, anything else failed. MPGS's amount
    is in the signed ``currency`` (``currency`` here is the configured fallback).
    """
    params = callback.query_params()
    if _is_foreign([name for name, _ in params], [WHITELISTS[service]], body=callback.body):
        raise _foreign(label, WHITELISTS[service])
    fields = _check_signature(
        secret_key, params, _last(params, "hashed"), [WHITELISTS[service]], label
    )
    return _result(fields, service=service, label=label, currency=currency, cancelable=True)


def verify_tlync_callback(callback: Callback, secret_key: str) -> PaymentResult:
    """T-Lync's server-to-server POST with a JSON body: settles the payment.

    The method field is ``payment_method`` for the SDK and ``paymet_method`` in Plutu's
    docs. A body with ``paymet_method`` verifies if signed the SDK way (the misspelled key
    is then unsigned and ignored) or with ``paymet_method`` signed where it was received.
    """
    label = "T-Lync callback"
    try:
        body: Any = callback.json()
    except MalformedCallback:
        if _form_of_another_adapter(callback):
            raise _foreign(label, TLYNC_CALLBACK_FIELDS) from None
        raise
    if not isinstance(body, dict):
        raise MalformedCallback("the T-Lync callback body is not a JSON object")
    if _is_foreign(body, [TLYNC_CALLBACK_FIELDS, (DOCS_METHOD_FIELD,)]):
        raise _foreign(label, TLYNC_CALLBACK_FIELDS)
    params = [(key, _json_as_php(value)) for key, value in body.items()]
    whitelists: list[Collection[str]] = [TLYNC_CALLBACK_FIELDS]
    if DOCS_METHOD_FIELD in body:
        logger.warning(
            "the T-Lync callback names its method field %r (the docs' spelling) rather than "
            "'payment_method'; verifying it both ways",
            DOCS_METHOD_FIELD,
        )
        whitelists.append((*TLYNC_CALLBACK_FIELDS, DOCS_METHOD_FIELD))
    fields = _check_signature(secret_key, params, body.get("hashed"), whitelists, label)
    return _result(fields, service="tlync", label=label, currency="LYD", cancelable=False)


def verify_tlync_return(callback: Callback, secret_key: str) -> PaymentResult:
    """T-Lync's browser return (GET ``approved``, ``invoice_no``, ``hashed``).

    It carries no amount and no transaction id, so an approved return is only
    ``PENDING``: the payment is settled by the signed server-to-server callback.
    """
    label = "T-Lync return"
    params = callback.query_params()
    if _is_foreign([name for name, _ in params], [TLYNC_RETURN_FIELDS]):
        raise _foreign(label, TLYNC_RETURN_FIELDS)
    fields = _check_signature(
        secret_key, params, _last(params, "hashed"), [TLYNC_RETURN_FIELDS], label
    )
    invoice_no = _text(fields, "invoice_no", _INVOICE_NO, label)
    status = PaymentStatus.PENDING if _equals_one(fields.get("approved")) else PaymentStatus.FAILED
    logger.debug("verified %s: invoice_no=%s status=%s", label, invoice_no, status)
    return PaymentResult(status=status, invoice_number=invoice_no, reference=invoice_no, raw=fields)
