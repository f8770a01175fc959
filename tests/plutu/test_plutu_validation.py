"""Validation before anything is sent: every rule names its field and rule, and the
transport sees no request. Also the exact requests that valid invoices produce."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from plutu_support import (
    ACCESS_TOKEN,
    ADAPTERS,
    API_KEY,
    OTP_ADAPTERS,
    REDIRECT_ADAPTERS,
    ROOT,
    FakePlutu,
    config,
    error_response,
    invoice,
)

from payhub_core import (
    Callback,
    Customer,
    GatewayError,
    InvalidRequest,
    Invoice,
    Money,
    OtpCode,
)
from payhub_plutu import _validation as check

THIS_YEAR = datetime.date.today().year


def _no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"nothing may be sent, but {request.url} was")


def _currency(adapter: str) -> str:
    return "USD" if adapter == "plutu.mpgs" else "LYD"


def _refused(
    payhub_hub_factory: Any, adapter: str, inv: Invoice, **settings: Any
) -> InvalidRequest:
    hub, transport = payhub_hub_factory(config(adapter, **settings), _no_network)
    with pytest.raises(InvalidRequest) as raised:
        hub.initiate(inv)
    assert transport.requests == []
    assert raised.value.gateway == "plutu"
    assert raised.value.operation == "initiate"
    return raised.value


def _sent(
    payhub_hub_factory: Any, adapter: str, inv: Invoice, **settings: Any
) -> list[tuple[str, str]]:
    hub, transport = payhub_hub_factory(config(adapter, **settings), FakePlutu())
    hub.initiate(inv)
    (request,) = transport.requests
    return parse_qsl(request.content.decode("ascii"), keep_blank_values=True)


# -- invoice number, amount, currency, capture ------------------------------------------------


@pytest.mark.parametrize("adapter", list(ADAPTERS))
@pytest.mark.parametrize("number", ["INV 1", "INV/1", "INV#1", "فاتورة-1", "INV+1", "INV,1", "١٢٣"])
def test_invoice_number_charset(adapter: str, number: str, payhub_hub_factory: Any) -> None:
    error = _refused(payhub_hub_factory, adapter, invoice(_currency(adapter), number=number))
    assert error.field == "number"
    assert error.rule == "[A-Za-z0-9._-]+"
    assert number not in str(error)


@pytest.mark.parametrize("adapter", REDIRECT_ADAPTERS)
def test_invoice_number_allowed_characters(adapter: str, payhub_hub_factory: Any) -> None:
    inv = invoice(_currency(adapter), number="Ab-09_x.Z")
    assert ("invoice_no", "Ab-09_x.Z") in _sent(payhub_hub_factory, adapter, inv)


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_three_decimals_are_refused_not_rounded(adapter: str, payhub_hub_factory: Any) -> None:
    # MPGS in USD cannot even hold 5.125; configured for a 3-decimal currency it refuses too.
    settings = {"currency": "KWD"} if adapter == "plutu.mpgs" else {}
    currency = "KWD" if adapter == "plutu.mpgs" else "LYD"
    error = _refused(payhub_hub_factory, adapter, invoice(currency, amount="5.125"), **settings)
    assert error.field == "amount"
    assert error.rule == "at most 2 decimal places"


@pytest.mark.parametrize("adapter", list(ADAPTERS))
@pytest.mark.parametrize(
    ("amount", "wire"),
    [("5", "5.00"), ("5.1", "5.10"), ("5.120", "5.12"), ("1234567.89", "1234567.89")],
)
def test_amount_on_the_wire_has_two_decimals(
    adapter: str, amount: str, wire: str, payhub_hub_factory: Any
) -> None:
    sent = dict(_sent(payhub_hub_factory, adapter, invoice(_currency(adapter), amount=amount)))
    assert sent["amount"] == wire


def test_amount_must_be_positive() -> None:
    with pytest.raises(InvalidRequest) as raised:
        check.wire_amount(Money("0", "LYD"), "LYD")
    assert raised.value.field == "amount"
    with pytest.raises(InvalidRequest):
        check.wire_amount(Money("-1", "LYD"), "LYD")
    # The Invoice model refuses them too, before any adapter sees them.
    with pytest.raises(InvalidRequest):
        invoice(amount="0")


@pytest.mark.parametrize(
    "adapter", ["plutu.sadad", "plutu.adfali", "plutu.localbankcards", "plutu.tlync"]
)
@pytest.mark.parametrize("currency", ["USD", "EUR", "JPY", "TND"])
def test_lyd_services_refuse_other_currencies(
    adapter: str, currency: str, payhub_hub_factory: Any
) -> None:
    error = _refused(payhub_hub_factory, adapter, invoice(currency, amount="5"))
    assert error.field == "currency"
    assert error.rule == "LYD"


@pytest.mark.parametrize("currency", ["LYD", "EUR", "JPY"])
def test_mpgs_refuses_other_than_its_currency(currency: str, payhub_hub_factory: Any) -> None:
    error = _refused(payhub_hub_factory, "plutu.mpgs", invoice(currency, amount="5"))
    assert error.field == "currency"
    assert error.rule == "USD"


def test_mpgs_configured_currency(payhub_hub_factory: Any) -> None:
    assert (
        dict(_sent(payhub_hub_factory, "plutu.mpgs", invoice("EUR"), currency="EUR"))["amount"]
        == "5.00"
    )
    error = _refused(payhub_hub_factory, "plutu.mpgs", invoice("USD"), currency="EUR")
    assert error.rule == "EUR"


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_manual_capture_is_refused(adapter: str, payhub_hub_factory: Any) -> None:
    error = _refused(payhub_hub_factory, adapter, invoice(_currency(adapter), capture="manual"))
    assert error.field == "capture"


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_payment_method_is_refused(adapter: str, payhub_hub_factory: Any) -> None:
    error = _refused(
        payhub_hub_factory, adapter, invoice(_currency(adapter), payment_method="card")
    )
    assert error.field == "payment_method"


# -- mobile numbers --------------------------------------------------------------------------

MOBILE_ADAPTERS = ("plutu.sadad", "plutu.adfali", "plutu.tlync")


@pytest.mark.parametrize("adapter", MOBILE_ADAPTERS)
@pytest.mark.parametrize(
    "mobile",
    [
        "0913632323",
        "913632323",
        "+218913632323",
        "00218913632323",
        "218913632323",
        "+2180913632323",
        "+218 91 363 2323",
        "091-363-2323",
    ],
)
def test_mobile_forms_are_normalized(adapter: str, mobile: str, payhub_hub_factory: Any) -> None:
    sent = dict(_sent(payhub_hub_factory, adapter, invoice(mobile=mobile)))
    assert sent["mobile_number"] == "0913632323"


@pytest.mark.parametrize(
    ("adapter", "prefix", "ok"),
    [
        *[
            ("plutu.sadad", p, p in ("091", "093"))
            for p in ("090", "091", "092", "093", "094", "095", "096", "097")
        ],
        *[
            ("plutu.adfali", p, p not in ("090", "097"))
            for p in ("090", "091", "092", "093", "094", "095", "096", "097")
        ],
        *[
            ("plutu.tlync", p, p not in ("090", "097"))
            for p in ("090", "091", "092", "093", "094", "095", "096", "097")
        ],
    ],
)
def test_mobile_networks(adapter: str, prefix: str, ok: bool, payhub_hub_factory: Any) -> None:
    inv = invoice(mobile=f"{prefix}1234567")
    if ok:
        assert dict(_sent(payhub_hub_factory, adapter, inv))["mobile_number"] == f"{prefix}1234567"
    else:
        error = _refused(payhub_hub_factory, adapter, inv)
        assert error.field == "customer.mobile"
        assert f"{prefix}1234567" not in str(error)


@pytest.mark.parametrize("adapter", MOBILE_ADAPTERS)
@pytest.mark.parametrize(
    "mobile",
    [
        "091363232",
        "09136323231",
        "0913632a23",
        "٠٩١٣٦٣٢٣٢٣",
        "+21891363232",
        "+1913632323",
        "1913632323",
        "  ",
        "0913632323\n1",
    ],
)
def test_bad_mobiles(adapter: str, mobile: str, payhub_hub_factory: Any) -> None:
    error = _refused(payhub_hub_factory, adapter, invoice(mobile=mobile))
    assert error.field == "customer.mobile"


@pytest.mark.parametrize("adapter", MOBILE_ADAPTERS)
def test_mobile_is_required(adapter: str, payhub_hub_factory: Any) -> None:
    error = _refused(payhub_hub_factory, adapter, invoice(customer=None))
    assert (error.field, error.rule) == ("customer.mobile", "required")
    error = _refused(payhub_hub_factory, adapter, invoice(customer=Customer(birth_year=1990)))
    assert (error.field, error.rule) == ("customer.mobile", "required")


@pytest.mark.parametrize("adapter", ["plutu.localbankcards", "plutu.mpgs"])
def test_card_services_need_no_customer(adapter: str, payhub_hub_factory: Any) -> None:
    sent = _sent(payhub_hub_factory, adapter, invoice(_currency(adapter), customer=None))
    assert [key for key, _ in sent] == ["amount", "invoice_no", "return_url"]


# -- birth year (Sadad) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "ok"),
    [
        (1939, False),
        (1940, True),
        (THIS_YEAR - 12, True),
        (THIS_YEAR - 11, False),
        (THIS_YEAR, False),
        (3000, False),
        (0, False),
    ],
)
def test_sadad_birth_year_range(year: int, ok: bool, payhub_hub_factory: Any) -> None:
    inv = invoice(birth_year=year)
    if ok:
        assert dict(_sent(payhub_hub_factory, "plutu.sadad", inv))["birth_year"] == str(year)
    else:
        error = _refused(payhub_hub_factory, "plutu.sadad", inv)
        assert error.field == "customer.birth_year"
        assert error.rule == f"1940..{THIS_YEAR - 12}"


def test_sadad_birth_year_is_required(payhub_hub_factory: Any) -> None:
    error = _refused(payhub_hub_factory, "plutu.sadad", invoice(birth_year=None))
    assert (error.field, error.rule) == ("customer.birth_year", "required")


def test_adfali_needs_no_birth_year(payhub_hub_factory: Any) -> None:
    sent = _sent(payhub_hub_factory, "plutu.adfali", invoice(birth_year=None))
    assert [key for key, _ in sent] == ["mobile_number", "amount"]


def test_birth_year_rule_follows_the_calendar() -> None:
    inv = invoice(birth_year=2010)
    assert check.birth_year(inv, today=datetime.date(2022, 1, 1)) == 2010
    with pytest.raises(InvalidRequest):
        check.birth_year(inv, today=datetime.date(2021, 12, 31))


# -- lang -------------------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", list(ADAPTERS))
@pytest.mark.parametrize("lang", ["fr", "AR", "En", "", "ar-LY", "english"])
def test_lang_is_ar_or_en(adapter: str, lang: str, payhub_hub_factory: Any) -> None:
    error = _refused(payhub_hub_factory, adapter, invoice(_currency(adapter), lang=lang))
    assert (error.field, error.rule) == ("lang", "ar|en")


@pytest.mark.parametrize("adapter", REDIRECT_ADAPTERS)
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_lang_is_sent_to_checkout_services(
    adapter: str, lang: str, payhub_hub_factory: Any
) -> None:
    assert (
        dict(_sent(payhub_hub_factory, adapter, invoice(_currency(adapter), lang=lang)))["lang"]
        == lang
    )


@pytest.mark.parametrize("adapter", OTP_ADAPTERS)
def test_lang_is_not_sent_to_wallets(adapter: str, payhub_hub_factory: Any) -> None:
    assert "lang" not in dict(_sent(payhub_hub_factory, adapter, invoice(lang="en")))


# -- URLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", REDIRECT_ADAPTERS)
def test_return_url_is_required(adapter: str, payhub_hub_factory: Any) -> None:
    error = _refused(payhub_hub_factory, adapter, invoice(_currency(adapter), return_url=None))
    assert (error.field, error.rule) == ("return_url", "required")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://shop.example.ly/r",
        "/payhub/return",
        "https://",
        "https://sh op.example.ly/r",
        "javascript:alert(1)",
        "https://shop.example.ly/r\n",
    ],
)
def test_return_url_must_be_absolute_http(url: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        check.http_url(url, "return_url")
    assert raised.value.field == "return_url"


def test_return_url_is_checked_by_the_adapter_too(payhub_hub_factory: Any) -> None:
    """Even an invoice built without validation (model_copy) is checked before sending."""
    inv = invoice().model_copy(update={"return_url": "https://sh op.example.ly/r"})
    error = _refused(payhub_hub_factory, "plutu.localbankcards", inv)
    assert (error.field, error.rule) == ("return_url", "absolute http(s) URL")
    inv = invoice().model_copy(update={"callback_url": "ftp://shop.example.ly/cb"})
    error = _refused(payhub_hub_factory, "plutu.tlync", inv)
    assert (error.field, error.rule) == ("callback_url", "absolute http(s) URL")


@pytest.mark.parametrize("adapter", REDIRECT_ADAPTERS)
def test_local_return_url_is_fine(adapter: str, payhub_hub_factory: Any) -> None:
    """The return is the customer's browser: it may go to a local shop in development."""
    inv = invoice(_currency(adapter), return_url="http://localhost:8000/return")
    assert (
        dict(_sent(payhub_hub_factory, adapter, inv))["return_url"]
        == "http://localhost:8000/return"
    )


def test_tlync_callback_url_is_required(payhub_hub_factory: Any) -> None:
    error = _refused(payhub_hub_factory, "plutu.tlync", invoice(callback_url=None))
    assert (error.field, error.rule) == ("callback_url", "required")


PRIVATE_CALLBACKS = [
    "http://localhost/cb",
    "http://LOCALHOST:8080/cb",
    "http://shop.localhost/cb",
    "http://printer.local/cb",
    "http://api.internal/cb",
    "http://intranet/cb",
    "http://127.0.0.1/cb",
    "http://127.1/cb",
    "http://0x7f.0.0.1/cb",
    "http://2130706433/cb",
    "http://0.0.0.0/cb",
    "http://10.1.2.3/cb",
    "http://172.16.0.1/cb",
    "http://192.168.1.10/cb",
    "http://169.254.169.254/cb",
    "http://100.64.0.1/cb",
    "http://[::1]/cb",
    "http://[fd00::1]/cb",
    "http://[fe80::1]/cb",
    "http://[::ffff:127.0.0.1]/cb",
    "http://[::ffff:10.0.0.1]/cb",
    "http://224.0.0.1/cb",
    "http://256.1.1.1/cb",
]


@pytest.mark.parametrize("url", PRIVATE_CALLBACKS)
def test_tlync_callback_url_must_be_public(url: str, payhub_hub_factory: Any) -> None:
    error = _refused(payhub_hub_factory, "plutu.tlync", invoice(callback_url=url))
    assert (error.field, error.rule) == ("callback_url", "publicly reachable host")


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example.ly/cb",
        "https://8.8.8.8/cb",
        "https://[2001:4860:4860::8888]/cb",
        "https://shop.example.ly./cb",
        "http://1.1.1.1:8080/cb?x=1",
    ],
)
def test_public_tlync_callback_urls(url: str, payhub_hub_factory: Any) -> None:
    assert (
        dict(_sent(payhub_hub_factory, "plutu.tlync", invoice(callback_url=url)))["callback_url"]
        == url
    )


@pytest.mark.parametrize(
    "url", ["http://localhost:9000/cb", "http://127.0.0.1:9000/cb", "http://192.168.1.10/cb"]
)
def test_sandbox_allows_local_callback_urls(url: str, payhub_hub_factory: Any) -> None:
    sent = dict(
        _sent(
            payhub_hub_factory,
            "plutu.tlync",
            invoice(callback_url=url),
            environment="sandbox",
            base_url="https://api.plutus.ly",
        )
    )
    assert sent["callback_url"] == url


@pytest.mark.parametrize("adapter", ["plutu.localbankcards", "plutu.mpgs"])
def test_card_services_ignore_callback_url(adapter: str, payhub_hub_factory: Any) -> None:
    sent = dict(
        _sent(
            payhub_hub_factory,
            adapter,
            invoice(_currency(adapter), callback_url="http://localhost/cb"),
        )
    )
    assert "callback_url" not in sent


# -- the exact requests -------------------------------------------------------------------------


def test_exact_requests(payhub_hub_factory: Any) -> None:
    customer = Customer(
        mobile="+218 92 123 4567", birth_year=1985, ip="203.0.113.7", email="c@example.ly"
    )
    common = {
        "number": "INV-7",
        "amount": Money("12.5", "LYD"),
        "return_url": "https://shop.example.ly/r?o=1",
        "callback_url": "https://shop.example.ly/cb",
        "customer": customer,
        "lang": "en",
    }
    expected = {
        "plutu.adfali": [("mobile_number", "0921234567"), ("amount", "12.50")],
        "plutu.localbankcards": [
            ("amount", "12.50"),
            ("invoice_no", "INV-7"),
            ("return_url", "https://shop.example.ly/r?o=1"),
            ("lang", "en"),
            ("customer_ip", "203.0.113.7"),
        ],
        "plutu.mpgs": [
            ("amount", "12.50"),
            ("invoice_no", "INV-7"),
            ("return_url", "https://shop.example.ly/r?o=1"),
            ("lang", "en"),
            ("customer_ip", "203.0.113.7"),
        ],
        "plutu.tlync": [
            ("mobile_number", "0921234567"),
            ("amount", "12.50"),
            ("invoice_no", "INV-7"),
            ("return_url", "https://shop.example.ly/r?o=1"),
            ("callback_url", "https://shop.example.ly/cb"),
            ("email", "c@example.ly"),
            ("lang", "en"),
            ("customer_ip", "203.0.113.7"),
        ],
    }
    for adapter, fields in expected.items():
        currency = "USD" if adapter == "plutu.mpgs" else "LYD"
        inv = Invoice(**{**common, "amount": Money("12.5", currency)})
        hub, transport = payhub_hub_factory(config(adapter), FakePlutu())
        hub.initiate(inv)
        (request,) = transport.requests
        assert request.method == "POST"
        action = "verify" if adapter == "plutu.adfali" else "confirm"
        assert str(request.url) == f"{ROOT}/api/v1/transaction/{ADAPTERS[adapter]}/{action}"
        assert request.headers["accept"] == "application/json"
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        assert request.headers["x-api-key"] == API_KEY
        assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
        assert parse_qsl(request.content.decode("ascii")) == fields, adapter


def test_exact_otp_confirm_request(payhub_hub_factory: Any) -> None:
    plutu = FakePlutu()
    hub, transport = payhub_hub_factory(config("plutu.sadad"), plutu)
    inv = invoice(
        number="INV-9",
        amount="7",
        customer=Customer(mobile="0913632323", birth_year=1990, ip="198.51.100.1"),
    )
    checkout = hub.initiate(inv)
    hub.verify(OtpCode(reference=checkout.reference, code="111111", invoice=inv))
    verify, confirm = transport.requests
    assert parse_qsl(verify.content.decode()) == [
        ("mobile_number", "0913632323"),
        ("birth_year", "1990"),
        ("amount", "7.00"),
    ]
    assert confirm.url.path == "/api/v1/transaction/sadadapi/confirm"
    assert parse_qsl(confirm.content.decode()) == [
        ("process_id", checkout.reference),
        ("code", "111111"),
        ("amount", "7.00"),
        ("invoice_no", "INV-9"),
        ("customer_ip", "198.51.100.1"),
    ]


# -- OTP verify arguments -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("adapter", "code", "ok"),
    [
        ("plutu.sadad", "123456", True),
        ("plutu.sadad", "12345", False),
        ("plutu.sadad", "1234567", False),
        ("plutu.sadad", "12345a", False),
        ("plutu.sadad", "١٢٣٤٥٦", False),
        ("plutu.sadad", "1e1000", False),
        ("plutu.sadad", " 123456", False),
        ("plutu.adfali", "1234", True),
        ("plutu.adfali", "123", False),
        ("plutu.adfali", "12345", False),
        ("plutu.adfali", "123456", False),
        ("plutu.adfali", "12.4", False),
        ("plutu.adfali", "", False),
    ],
)
def test_otp_code_length(adapter: str, code: str, ok: bool, payhub_hub_factory: Any) -> None:
    hub, transport = payhub_hub_factory(
        config(adapter), lambda request: error_response(400, "INVLIAD_OTP")
    )
    evidence = OtpCode(reference="1000000100900", code=code, invoice=invoice())
    if ok:
        with pytest.raises(GatewayError, match="INVLIAD_OTP"):
            hub.verify(evidence)
        assert len(transport.requests) == 1
        return
    with pytest.raises(InvalidRequest) as raised:
        hub.verify(evidence)
    assert raised.value.field == "code"
    assert raised.value.rule == ("6 digits" if adapter == "plutu.sadad" else "4 digits")
    assert transport.requests == []


@pytest.mark.parametrize("adapter", OTP_ADAPTERS)
@pytest.mark.parametrize("reference", ["", "abc", "12a", "-1", "1.5", "١٢٣", "1" * 31])
def test_otp_reference_must_be_a_process_id(
    adapter: str, reference: str, payhub_hub_factory: Any
) -> None:
    hub, transport = payhub_hub_factory(config(adapter), _no_network)
    with pytest.raises(InvalidRequest) as raised:
        hub.verify(
            OtpCode(
                reference=reference,
                code="1111" if adapter == "plutu.adfali" else "111111",
                invoice=invoice(),
            )
        )
    assert (raised.value.field, raised.value.rule) == ("reference", "digits")
    assert transport.requests == []


@pytest.mark.parametrize("adapter", OTP_ADAPTERS)
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"number": "INV 1"}, "number"),
        ({"amount": Money("5.125", "LYD")}, "amount"),
        ({"amount": Money("5", "USD")}, "currency"),
    ],
)
def test_otp_verify_checks_the_invoice(
    adapter: str, changes: dict[str, Any], field: str, payhub_hub_factory: Any
) -> None:
    hub, transport = payhub_hub_factory(config(adapter), _no_network)
    code = "1111" if adapter == "plutu.adfali" else "111111"
    with pytest.raises(InvalidRequest) as raised:
        hub.verify(
            OtpCode(
                reference="1000000100900", code=code, invoice=invoice().model_copy(update=changes)
            )
        )
    assert raised.value.field == field
    assert transport.requests == []


@pytest.mark.parametrize("adapter", OTP_ADAPTERS)
def test_wallets_take_no_callbacks(adapter: str, payhub_hub_factory: Any) -> None:
    hub, _ = payhub_hub_factory(config(adapter), _no_network)
    with pytest.raises(InvalidRequest) as raised:
        hub.verify(Callback(query="approved=1"))
    assert (raised.value.field, raised.value.rule) == ("evidence", "OtpCode")


@pytest.mark.parametrize("adapter", REDIRECT_ADAPTERS)
def test_redirect_services_take_no_otp(adapter: str, payhub_hub_factory: Any) -> None:
    hub, _ = payhub_hub_factory(config(adapter), _no_network)
    with pytest.raises(InvalidRequest) as raised:
        hub.verify(OtpCode(reference="1", code="1111", invoice=invoice()))
    assert (raised.value.field, raised.value.rule) == ("evidence", "Callback")
