"""Every Plutu service from initiate to a verified, paid result through ``Hub`` and
``AsyncHub``, with one merchant code path and only the configuration changing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from plutu_support import (
    ADAPTERS,
    ADFALI_OTP,
    OTP_ADAPTERS,
    REDIRECT_ADAPTERS,
    SADAD_OTP,
    SECRET_KEY,
    FakePlutu,
    all_gateways_config,
    config,
    invoice,
    php_query,
    return_to,
    sign_pairs,
)

from payhub_core import (
    AmountMismatch,
    AsyncHub,
    Callback,
    Checkout,
    Hub,
    Invoice,
    MalformedCallback,
    Money,
    OtpChallenge,
    OtpCode,
    PaymentResult,
    PaymentStatus,
    Redirect,
    SignatureError,
    UnsupportedOperation,
    available_adapters,
)

OTP_CODES = {"plutu.sadad": SADAD_OTP, "plutu.adfali": ADFALI_OTP}


def _invoice_for(hub: Hub | AsyncHub, **fields: Any) -> Invoice:
    """The merchant's invoice, in the gateway's currency (read from its capabilities)."""
    (currency,) = hub.capabilities().currencies
    return invoice(currency, **fields)


def _arrival(plutu: FakePlutu, checkout: Checkout, inv: Invoice, code: str) -> Any:
    """What reaches the merchant once the customer has paid."""
    if isinstance(checkout.action, OtpChallenge):
        return OtpCode(reference=checkout.reference, code=code, invoice=inv)
    assert isinstance(checkout.action, Redirect)
    return plutu.complete(inv.number)


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_pay_through_hub(adapter: str, payhub_hub_factory: Any) -> None:
    plutu = FakePlutu()
    hub, transport = payhub_hub_factory(config(adapter), plutu)
    inv = _invoice_for(hub)

    checkout = hub.initiate(inv)
    result = hub.verify(_arrival(plutu, checkout, inv, OTP_CODES.get(adapter, "")), expected=inv)

    assert checkout.status is PaymentStatus.PENDING
    assert result.status is PaymentStatus.PAID
    assert result.is_paid
    assert result.amount == inv.amount
    assert result.invoice_number == inv.number
    assert result.transaction_id
    assert result.gateway == "plutu"
    slug = ADAPTERS[adapter]
    expected_paths = (
        [f"/api/v1/transaction/{slug}/verify", f"/api/v1/transaction/{slug}/confirm"]
        if adapter in OTP_ADAPTERS
        else [f"/api/v1/transaction/{slug}/confirm"]
    )
    assert transport.paths() == expected_paths
    assert all(str(r.url).startswith("https://api.plutus.ly/api/v1/") for r in transport.requests)


@pytest.mark.anyio
@pytest.mark.parametrize("adapter", list(ADAPTERS))
async def test_pay_through_async_hub(adapter: str, payhub_async_hub_factory: Any) -> None:
    plutu = FakePlutu()
    hub, transport = payhub_async_hub_factory(config(adapter), plutu)
    async with hub:
        inv = _invoice_for(hub)
        checkout = await hub.initiate(inv)
        result = await hub.verify(
            _arrival(plutu, checkout, inv, OTP_CODES.get(adapter, "")), expected=inv
        )
    assert result.status is PaymentStatus.PAID
    assert result.amount == inv.amount
    assert len(transport.requests) == (2 if adapter in OTP_ADAPTERS else 1)


def test_one_hub_every_service_same_code(payhub_hub_factory: Any) -> None:
    """A merchant with all five services configured pays through each by alias only."""
    plutu = FakePlutu()
    hub, _ = payhub_hub_factory(all_gateways_config(), plutu)
    for alias in hub.gateways:
        (currency,) = hub.capabilities(alias).currencies
        inv = invoice(currency)
        checkout = hub.initiate(inv, gateway=alias)
        code = OTP_CODES.get(f"plutu.{alias}", "")
        result = hub.verify(_arrival(plutu, checkout, inv, code), gateway=alias, expected=inv)
        assert result.is_paid, alias


def test_otp_checkout_shape(payhub_hub_factory: Any) -> None:
    hub, _transport = payhub_hub_factory(config("plutu.sadad"), FakePlutu())
    checkout = hub.initiate(invoice())
    assert isinstance(checkout.action, OtpChallenge)
    assert checkout.reference.isdigit()
    assert len(checkout.reference) == 13
    assert checkout.action.reference == checkout.reference
    assert checkout.action.message == "OTP has been sent to your mobile number"
    assert checkout.raw["result"]["process_id"] == int(checkout.reference)


def test_otp_result_reference_and_raw(payhub_hub_factory: Any) -> None:
    plutu = FakePlutu()
    hub, _ = payhub_hub_factory(config("plutu.adfali"), plutu)
    inv = invoice()
    checkout = hub.initiate(inv)
    result = hub.verify(OtpCode(reference=checkout.reference, code=ADFALI_OTP, invoice=inv))
    assert result.reference == checkout.reference
    assert result.transaction_id is not None
    assert result.transaction_id.isdigit()
    assert result.raw["message"] == "Transaction completed successfully"


@pytest.mark.parametrize("adapter", REDIRECT_ADAPTERS)
def test_redirect_url_is_kept_exactly(adapter: str, payhub_hub_factory: Any) -> None:
    url = "https://checkout.plutus.ly/pay?token=a%2Bb%3D&lang=en&x=1#frag"

    def plutu(request: Any) -> Any:
        import httpx

        return httpx.Response(
            200,
            json={"status": 200, "result": {"code": "CHECKOUT_REDIRECT", "redirect_url": url}},
        )

    hub, _ = payhub_hub_factory(config(adapter), plutu)
    inv = _invoice_for(hub)
    checkout = hub.initiate(inv)
    assert checkout.action == Redirect(url=url)
    assert checkout.reference == inv.number


# -- status mapping ------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", ["plutu.localbankcards", "plutu.mpgs"])
@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        ("approved", PaymentStatus.PAID),
        ("canceled", PaymentStatus.CANCELED),
        ("failed", PaymentStatus.FAILED),
    ],
)
def test_redirect_status_mapping(
    adapter: str, outcome: str, status: PaymentStatus, payhub_hub_factory: Any
) -> None:
    plutu = FakePlutu()
    hub, _ = payhub_hub_factory(config(adapter), plutu)
    inv = _invoice_for(hub)
    hub.initiate(inv)
    result = hub.verify(plutu.complete(inv.number, outcome), expected=inv)
    assert result.status is status
    assert result.invoice_number == inv.number


def test_tlync_callback_not_approved_is_failed(payhub_hub_factory: Any) -> None:
    plutu = FakePlutu()
    hub, _ = payhub_hub_factory(config("plutu.tlync"), plutu)
    inv = invoice()
    hub.initiate(inv)
    result = hub.verify(plutu.complete(inv.number, "declined"), expected=inv)
    assert result.status is PaymentStatus.FAILED


@pytest.mark.parametrize(
    ("approved", "status"), [(True, PaymentStatus.PENDING), (False, PaymentStatus.FAILED)]
)
def test_tlync_return_is_pending_at_best(
    approved: bool, status: PaymentStatus, payhub_hub_factory: Any
) -> None:
    plutu = FakePlutu()
    hub, _ = payhub_hub_factory(config("plutu.tlync"), plutu)
    inv = invoice()
    hub.initiate(inv)
    result = hub.verify(plutu.tlync_return(inv.number, approved), expected=inv)
    assert result.status is status
    assert result.amount is None
    assert result.invoice_number == inv.number


def test_tlync_return_for_another_invoice_is_a_mismatch(payhub_hub_factory: Any) -> None:
    plutu = FakePlutu()
    hub, _ = payhub_hub_factory(config("plutu.tlync"), plutu)
    first, second = invoice(), invoice()
    hub.initiate(first)
    with pytest.raises(AmountMismatch) as raised:
        hub.verify(plutu.tlync_return(first.number), expected=second)
    assert raised.value.field == "invoice_number"


def test_unsigned_canceled_on_tlync_callback_is_ignored(payhub_hub_factory: Any) -> None:
    pairs = [("gateway", "tlync"), ("approved", "1"), ("invoice_no", "A1"), ("amount", "5.00"),
             ("transaction_id", "9"), ("payment_method", "sadad")]  # fmt: skip
    body = {**dict(pairs), "canceled": "1", "hashed": sign_pairs(SECRET_KEY, pairs, "tlync")}
    hub, _ = payhub_hub_factory(config("plutu.tlync"), FakePlutu())
    result = hub.verify(Callback(method="POST", body=json.dumps(body)))
    assert result.status is PaymentStatus.PAID
    assert "canceled" not in result.raw


# -- expected= ----------------------------------------------------------------------------


def test_amount_mismatch_on_redirect_return(payhub_hub_factory: Any) -> None:
    plutu = FakePlutu(charged_amount="4.00")
    hub, _ = payhub_hub_factory(config("plutu.localbankcards"), plutu)
    inv = invoice(amount="5.00")
    hub.initiate(inv)
    with pytest.raises(AmountMismatch) as raised:
        hub.verify(plutu.complete(inv.number), expected=inv)
    assert raised.value.field == "amount"


def test_currency_mismatch_on_mpgs_return(payhub_hub_factory: Any) -> None:
    plutu = FakePlutu(mpgs_currency="EUR")
    hub, _ = payhub_hub_factory(config("plutu.mpgs"), plutu)
    inv = invoice("USD")
    hub.initiate(inv)
    with pytest.raises(AmountMismatch) as raised:
        hub.verify(plutu.complete(inv.number), expected=inv)
    assert raised.value.field == "currency"
    # Without expected=, the result says what was paid, in the signed currency.
    result = hub.verify(plutu.complete(inv.number))
    assert result.amount == Money("5.00", "EUR")


def test_invoice_mismatch_on_tlync_callback(payhub_hub_factory: Any) -> None:
    plutu = FakePlutu()
    hub, _ = payhub_hub_factory(config("plutu.tlync"), plutu)
    paid, other = invoice(), invoice()
    hub.initiate(paid)
    with pytest.raises(AmountMismatch) as raised:
        hub.verify(plutu.complete(paid.number), expected=other)
    assert raised.value.field == "invoice_number"


@pytest.mark.parametrize("adapter", OTP_ADAPTERS)
def test_amount_mismatch_when_plutu_charges_another_amount(
    adapter: str, payhub_hub_factory: Any
) -> None:
    plutu = FakePlutu(charged_amount="50.00")
    hub, _ = payhub_hub_factory(config(adapter), plutu)
    inv = invoice()
    checkout = hub.initiate(inv)
    with pytest.raises(AmountMismatch) as raised:
        hub.verify(
            OtpCode(reference=checkout.reference, code=OTP_CODES[adapter], invoice=inv),
            expected=inv,
        )
    assert raised.value.field == "amount"
    assert raised.value.actual_value == "50.000 LYD"


def test_otp_expected_differs_from_the_invoice_confirmed(payhub_hub_factory: Any) -> None:
    plutu = FakePlutu()
    hub, _ = payhub_hub_factory(config("plutu.sadad"), plutu)
    inv = invoice(amount="5.00")
    checkout = hub.initiate(inv)
    other = invoice(amount="5.00")
    with pytest.raises(AmountMismatch):
        hub.verify(
            OtpCode(reference=checkout.reference, code=SADAD_OTP, invoice=inv), expected=other
        )


@pytest.mark.anyio
async def test_amount_mismatch_through_async_hub(payhub_async_hub_factory: Any) -> None:
    plutu = FakePlutu(charged_amount="4.99")
    hub, _ = payhub_async_hub_factory(config("plutu.localbankcards"), plutu)
    async with hub:
        inv = invoice(amount="5.00")
        await hub.initiate(inv)
        with pytest.raises(AmountMismatch):
            await hub.verify(plutu.complete(inv.number), expected=inv)


# -- one service's signed return is not another's ----------------------------------------


def test_lbc_return_replayed_to_mpgs_is_refused(payhub_hub_factory: Any) -> None:
    """One secret key signs every service: the signed gateway name keeps them apart."""
    pairs = [("gateway", "localbankcards"), ("approved", "1"), ("invoice_no", "A1"),
             ("amount", "5.00"), ("transaction_id", "9")]  # fmt: skip
    evidence = return_to("https://shop.example.ly/r", pairs, SECRET_KEY, "localbankcards")
    hub, _ = payhub_hub_factory(all_gateways_config(), FakePlutu())
    assert hub.verify(evidence, gateway="localbankcards").is_paid
    with pytest.raises(MalformedCallback):
        hub.verify(evidence, gateway="mpgs")


def test_tlync_return_replayed_as_lbc_return_is_refused(payhub_hub_factory: Any) -> None:
    pairs = [("approved", "1"), ("invoice_no", "A1")]
    evidence = return_to("https://shop.example.ly/r", pairs, SECRET_KEY, "tlync_return")
    hub, _ = payhub_hub_factory(all_gateways_config(), FakePlutu())
    assert hub.verify(evidence, gateway="tlync").status is PaymentStatus.PENDING
    for alias in ("localbankcards", "mpgs"):
        with pytest.raises(MalformedCallback):
            hub.verify(evidence, gateway=alias)


@pytest.mark.parametrize(
    ("pairs", "problem"),
    [
        (
            [
                ("gateway", "localbankcards"),
                ("approved", "1"),
                ("amount", "5.00"),
                ("transaction_id", "9"),
            ],
            "invoice_no",
        ),
        (
            [
                ("gateway", "localbankcards"),
                ("approved", "1"),
                ("invoice_no", "A1"),
                ("transaction_id", "9"),
            ],
            "amount",
        ),
        (
            [
                ("gateway", "localbankcards"),
                ("approved", "1"),
                ("invoice_no", "A1"),
                ("amount", "5.00"),
            ],
            "transaction_id",
        ),
        (
            [
                ("gateway", "localbankcards"),
                ("approved", "1"),
                ("invoice_no", "A 1"),
                ("amount", "5.00"),
                ("transaction_id", "9"),
            ],
            "invoice_no",
        ),
        (
            [
                ("gateway", "localbankcards"),
                ("approved", "1"),
                ("invoice_no", "A1"),
                ("amount", "-5"),
                ("transaction_id", "9"),
            ],
            "amount",
        ),
        (
            [
                ("gateway", "localbankcards"),
                ("approved", "1"),
                ("invoice_no", "A1"),
                ("amount", "0.00"),
                ("transaction_id", "9"),
            ],
            "amount",
        ),
        (
            [
                ("gateway", "localbankcards"),
                ("approved", "1"),
                ("invoice_no", "A1"),
                ("amount", "5,00"),
                ("transaction_id", "9"),
            ],
            "amount",
        ),
        (
            [
                ("gateway", "localbankcards"),
                ("approved", "1"),
                ("invoice_no", "A1"),
                ("amount", "5.0001"),
                ("transaction_id", "9"),
            ],
            "decimals",
        ),
    ],
)
def test_signed_but_incomplete_paid_return_is_refused(
    pairs: list[tuple[str, str]], problem: str, payhub_hub_factory: Any
) -> None:
    hub, _ = payhub_hub_factory(config("plutu.localbankcards"), FakePlutu())
    evidence = return_to("https://shop.example.ly/r", pairs, SECRET_KEY, "localbankcards")
    with pytest.raises(MalformedCallback, match=problem):
        hub.verify(evidence)


def test_mpgs_bad_signed_currency_is_refused(payhub_hub_factory: Any) -> None:
    pairs = [("gateway", "mpgs"), ("approved", "1"), ("amount", "5.00"), ("currency", "usd"),
             ("invoice_no", "A1"), ("transaction_id", "9")]  # fmt: skip
    hub, _ = payhub_hub_factory(config("plutu.mpgs"), FakePlutu())
    with pytest.raises(MalformedCallback, match="currency"):
        hub.verify(return_to("https://shop.example.ly/r", pairs, SECRET_KEY, "mpgs"))
    pairs[3] = ("currency", "XYZ")
    with pytest.raises(MalformedCallback):
        hub.verify(return_to("https://shop.example.ly/r", pairs, SECRET_KEY, "mpgs"))


def test_mpgs_without_signed_currency_uses_the_configured_one(payhub_hub_factory: Any) -> None:
    pairs = [("gateway", "mpgs"), ("approved", "1"), ("amount", "5.00"), ("invoice_no", "A1"),
             ("transaction_id", "9")]  # fmt: skip
    hub, _ = payhub_hub_factory(config("plutu.mpgs", currency="EUR"), FakePlutu())
    result = hub.verify(return_to("https://shop.example.ly/r", pairs, SECRET_KEY, "mpgs"))
    assert result.amount == Money("5.00", "EUR")


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[1, 2]", b'"text"', b"{", '{"a": "\xff"}'.encode("latin-1")],
)
def test_tlync_callback_that_is_not_a_json_object(body: bytes, payhub_hub_factory: Any) -> None:
    hub, _ = payhub_hub_factory(config("plutu.tlync"), FakePlutu())
    with pytest.raises(MalformedCallback):
        hub.verify(Callback(method="POST", body=body))


def test_query_that_is_not_utf8_is_malformed(payhub_hub_factory: Any) -> None:
    hub, _ = payhub_hub_factory(config("plutu.localbankcards"), FakePlutu())
    with pytest.raises(MalformedCallback):
        hub.verify(Callback(query="gateway=%FF&hashed=AA"))


def test_huge_json_integer_is_refused_cleanly(payhub_hub_factory: Any) -> None:
    hub, _ = payhub_hub_factory(config("plutu.tlync"), FakePlutu())
    body = '{"gateway":"tlync","amount":1' + "0" * 400 + ',"hashed":"AB"}'
    # PHP reads the number as INF; the signature over it does not match, cleanly.
    with pytest.raises(SignatureError):
        hub.verify(Callback(method="POST", body=body))


# -- operations Plutu does not have ----------------------------------------------------------


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_capture_cancel_refund_status_are_unsupported(
    adapter: str, payhub_hub_factory: Any
) -> None:
    hub, transport = payhub_hub_factory(config(adapter), FakePlutu())
    calls = [
        lambda: hub.capture("ref"),
        lambda: hub.capture("ref", amount=Money("1", "LYD")),
        lambda: hub.cancel("ref"),
        lambda: hub.refund("ref"),
        lambda: hub.refund("ref", amount=Money("1", "LYD")),
        lambda: hub.status("ref"),
    ]
    for call in calls:
        with pytest.raises(UnsupportedOperation) as raised:
            call()
        assert raised.value.gateway == "plutu"
        assert raised.value.operation in ("capture", "cancel", "refund", "status")
    assert transport.requests == []


@pytest.mark.anyio
async def test_unsupported_through_async_hub(payhub_async_hub_factory: Any) -> None:
    hub, _ = payhub_async_hub_factory(config("plutu.mpgs"), FakePlutu())
    async with hub:
        for operation in ("capture", "refund", "status", "cancel"):
            with pytest.raises(UnsupportedOperation):
                await getattr(hub, operation)("ref")


# -- capabilities and discovery ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("adapter", "currency", "flows"),
    [
        ("plutu.sadad", "LYD", {"otp"}),
        ("plutu.adfali", "LYD", {"otp"}),
        ("plutu.localbankcards", "LYD", {"redirect"}),
        ("plutu.mpgs", "USD", {"redirect"}),
        ("plutu.tlync", "LYD", {"redirect", "callback"}),
    ],
)
def test_capabilities(
    adapter: str, currency: str, flows: set[str], payhub_hub_factory: Any
) -> None:
    hub, transport = payhub_hub_factory(config(adapter), FakePlutu())
    capabilities = hub.capabilities()
    assert capabilities.currencies == {currency}
    assert capabilities.operations == {"initiate", "verify"}
    assert capabilities.flows == flows
    assert capabilities.amount_decimals == 2
    for operation in ("capture", "cancel", "refund", "status"):
        assert not capabilities.supports(operation)  # type: ignore[arg-type]
    assert transport.requests == []


def test_mpgs_currency_is_configurable(payhub_hub_factory: Any) -> None:
    hub, _ = payhub_hub_factory(config("plutu.mpgs", currency="eur"), FakePlutu())
    assert hub.capabilities().currencies == {"EUR"}


def test_all_five_adapters_are_installed() -> None:
    found = {info.name: info for info in available_adapters() if info.name.startswith("plutu.")}
    assert set(found) == set(ADAPTERS)
    for info in found.values():
        assert info.ok, info.error
        assert info.distribution == "payhub-plutu"
        assert info.capabilities is not None
        assert info.capabilities.operations == {"initiate", "verify"}


def test_merchant_query_parameters_survive_the_round_trip(payhub_hub_factory: Any) -> None:
    plutu = FakePlutu()
    hub, _ = payhub_hub_factory(config("plutu.localbankcards"), plutu)
    inv = invoice(return_url="https://shop.example.ly/r?wc-api=plutu&checkout_page=Y&n=%C3%A9")
    hub.initiate(inv)
    evidence = plutu.complete(inv.number)
    assert evidence.query.startswith("wc-api=plutu&checkout_page=Y&n=%C3%A9&gateway=")
    assert hub.verify(evidence, expected=inv).is_paid


def test_php_encoded_values_in_query(payhub_hub_factory: Any) -> None:
    """Signed values with characters PHP escapes (``~``, space, non-ASCII) verify."""
    pairs = [("gateway", "localbankcards"), ("canceled", "1"), ("invoice_no", "A~1 é")]
    evidence = Callback(
        query=php_query([*pairs, ("hashed", sign_pairs(SECRET_KEY, pairs, "localbankcards"))])
    )
    assert "%7E" in evidence.query
    hub, _ = payhub_hub_factory(config("plutu.localbankcards"), FakePlutu())
    # Verified, then refused because the signed invoice number is not Plutu's charset.
    with pytest.raises(MalformedCallback, match="invoice_no"):
        hub.verify(evidence)


def test_results_are_payment_results(payhub_hub_factory: Any) -> None:
    plutu = FakePlutu()
    hub, _ = payhub_hub_factory(config("plutu.localbankcards"), plutu)
    inv = invoice()
    hub.initiate(inv)
    result = hub.verify(plutu.complete(inv.number))
    assert isinstance(result, PaymentResult)
    assert result.raw["gateway"] == "localbankcards"
    assert "hashed" not in result.raw
