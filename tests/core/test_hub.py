"""``Hub``: one synchronous API over every configured gateway.

Flows and results, the shared HTTP client, transport injection on every constructor,
gateway selection, error translation and context, request ids and structured logs, and
``verify(expected=)``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from _hubkit import (
    FlowAdapter,
    LocalSettings,
    PlainAdapter,
    acme_config,
    acme_payment,
    invoice,
    local_config,
    no_network,
    paid,
    use_local_adapters,
)

from payhub_core import (
    AdapterError,
    AmountMismatch,
    Callback,
    Checkout,
    ConfigurationError,
    GatewayError,
    Hub,
    HubConfig,
    InvalidRequest,
    Money,
    PaymentResult,
    PaymentStatus,
    UnsupportedOperation,
    VerificationError,
    hookimpl,
)
from payhub_core.flows import Flow


def _answer(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/orders":
        return httpx.Response(200, json={"reference": "ord-1"})
    return httpx.Response(200, json={"status": "paid"})


def _two_gateways(default: str | None = "plain") -> dict[str, Any]:
    config: dict[str, Any] = {
        "gateways": {"plain": {"adapter": "local.plain"}, "flow": {"adapter": "local.flow"}}
    }
    if default is not None:
        config["default"] = default
    return config


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch) -> None:
    use_local_adapters(monkeypatch, local_plain=PlainAdapter, local_flow=FlowAdapter)


# -- results and flows -----------------------------------------------------------------


@pytest.mark.usefixtures("local")
def test_a_hook_returning_a_plain_result_needs_no_request() -> None:
    with Hub.from_config(
        local_config("local.plain"), transport=httpx.MockTransport(no_network)
    ) as hub:
        checkout = hub.initiate(invoice())
        assert isinstance(checkout, Checkout)
        assert (checkout.gateway, checkout.reference) == ("local", "plain-INV-1")
        assert hub.verify(Callback()).status is PaymentStatus.PAID
        assert hub.capture("r", amount=Money("1.00", "USD")).amount == Money("1.00", "USD")
        assert hub.cancel("r").status is PaymentStatus.CANCELED
        assert hub.refund("r").status is PaymentStatus.REFUNDED
        assert hub.status("r").reference == "r"


@pytest.mark.usefixtures("local")
def test_a_hook_returning_a_flow_is_driven_over_http() -> None:
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        return _answer(request)

    with Hub.from_config(local_config("local.flow"), transport=httpx.MockTransport(handler)) as hub:
        assert hub.initiate(invoice()).reference == "ord-1"
        assert hub.verify(Callback()).reference == "verified"
        assert hub.capture("o").status is PaymentStatus.PAID
        assert hub.cancel("o").gateway == "local"
        assert hub.refund("o").status is PaymentStatus.PAID
        assert hub.status("o").status is PaymentStatus.PAID
    assert seen == [
        ("POST", "/orders"),
        ("POST", "/verify"),
        ("POST", "/orders/o/capture"),
        ("POST", "/orders/o/cancel"),
        ("POST", "/orders/o/refund"),
        ("GET", "/orders/o"),
    ]


class TwoStep:
    Settings = LocalSettings

    def __init__(self, settings: LocalSettings) -> None:
        pass

    @hookimpl
    def payhub_status(self, reference: str) -> Flow[PaymentResult]:
        token = (yield httpx.Request("POST", "https://gw.example/token")).json()["token"]
        response = yield httpx.Request(
            "GET",
            f"https://gw.example/orders/{reference}",
            headers={"Authorization": f"Bearer {token}"},
        )
        return paid(reference, transaction_id=response.json()["txn"])


def test_a_flow_sees_each_response_before_its_next_request(monkeypatch: pytest.MonkeyPatch) -> None:
    use_local_adapters(monkeypatch, local_flow=TwoStep)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"token": "t-42"})
        assert request.headers["authorization"] == "Bearer t-42"
        return httpx.Response(200, json={"txn": "T1"})

    with Hub.from_config(local_config(), transport=httpx.MockTransport(handler)) as hub:
        assert hub.status("o-1").transaction_id == "T1"


# -- one client, injected transports ---------------------------------------------------


@pytest.mark.usefixtures("local")
def test_one_http_client_serves_every_gateway_and_operation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clients: list[int] = []
    real_send = httpx.Client.send

    def spy(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        clients.append(id(self))
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", spy)
    config = {
        "gateways": {"a": {"adapter": "local.flow"}, "b": {"adapter": "local.flow"}},
        "default": "a",
    }
    with Hub.from_config(config, transport=httpx.MockTransport(_answer)) as hub:
        hub.status("x", gateway="a")
        hub.status("x", gateway="b")
        hub.initiate(invoice(), gateway="b")
        hub.cancel("x")
    assert len(clients) == 4
    assert len(set(clients)) == 1


def test_a_second_hub_has_its_own_client(monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[httpx.Client] = []
    real_init = httpx.Client.__init__

    def spy(self: httpx.Client, *args: Any, **kwargs: Any) -> None:
        created.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(httpx.Client, "__init__", spy)
    with (
        Hub.from_config(acme_config(), transport=httpx.MockTransport(no_network)),
        Hub.from_config(acme_config(), transport=httpx.MockTransport(no_network)),
    ):
        pass
    assert len(created) == 2
    assert all(client.is_closed for client in created)


def _acme_transport(calls: list[str]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(200, json=acme_payment())

    return httpx.MockTransport(handler)


ACME_TOML = """
default = "acme"
[gateways.acme]
adapter = "acme.pay"
api_key = "k"
secret = "s"
"""


@pytest.mark.parametrize(
    "constructor", ["Hub", "from_config", "HubConfig", "from_file", "from_env"]
)
def test_every_constructor_takes_a_transport(tmp_path: Path, constructor: str) -> None:
    calls: list[str] = []
    transport = _acme_transport(calls)
    path = tmp_path / "payhub.toml"
    path.write_text(ACME_TOML, encoding="utf-8")
    build = {
        "Hub": lambda: Hub(acme_config(), transport=transport),
        "from_config": lambda: Hub.from_config(acme_config(), transport=transport),
        "HubConfig": lambda: Hub(HubConfig.from_file(path), transport=transport),
        "from_file": lambda: Hub.from_file(path, transport=transport),
        "from_env": lambda: Hub.from_env({"PAYHUB_CONFIG": str(path)}, transport=transport),
    }[constructor]
    with build() as hub:
        hub.status("pay_1")
    assert calls == ["https://api.acme.example/payments/pay_1"]


@pytest.mark.usefixtures("local")
def test_plugins_are_accepted_by_every_named_constructor(tmp_path: Path) -> None:
    path = tmp_path / "payhub.toml"
    path.write_text('[gateways.local]\nadapter = "local.plain"\n', encoding="utf-8")

    class Counter:
        calls = 0

        @hookimpl(wrapper=True)
        def payhub_status(self, reference: str) -> Any:
            Counter.calls += 1
            return (yield)

    transport = httpx.MockTransport(no_network)
    for hub in (
        Hub.from_file(path, transport=transport, plugins=[Counter()]),
        Hub.from_env({"PAYHUB_CONFIG": str(path)}, transport=transport, plugins=[Counter()]),
        Hub.from_config(local_config("local.plain"), transport=transport, plugins=[Counter()]),
    ):
        with hub:
            hub.status("r")
    assert Counter.calls == 3


# -- choosing the gateway ---------------------------------------------------------------


@pytest.mark.usefixtures("local")
def test_gateway_none_is_the_default_gateway() -> None:
    with Hub.from_config(_two_gateways("flow"), transport=httpx.MockTransport(_answer)) as hub:
        assert hub.default_gateway == "flow"
        assert hub.status("o").gateway == "flow"


@pytest.mark.usefixtures("local")
def test_a_single_gateway_is_the_default_without_saying_so() -> None:
    with Hub.from_config(
        local_config("local.plain", alias="only"), transport=httpx.MockTransport(no_network)
    ) as hub:
        assert hub.default_gateway == "only"
        assert hub.status("r").gateway == "only"


@pytest.mark.usefixtures("local")
def test_gateway_is_chosen_per_call_on_every_operation() -> None:
    requests: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request.url.path)
        return _answer(request)

    with Hub.from_config(_two_gateways("plain"), transport=httpx.MockTransport(handler)) as hub:
        results = [
            hub.initiate(invoice(), gateway="flow"),
            hub.verify(Callback(), gateway="flow"),
            hub.capture("o", gateway="flow"),
            hub.cancel("o", gateway="flow"),
            hub.refund("o", gateway="flow"),
            hub.status("o", gateway="flow"),
        ]
        assert all(result.gateway == "flow" for result in results)
        assert len(requests) == 6
        assert hub.status("o").gateway == "plain"  # and the default otherwise
        assert len(requests) == 6


@pytest.mark.usefixtures("local")
def test_no_default_and_several_gateways_asks_for_one() -> None:
    with (
        Hub.from_config(
            _two_gateways(default=None), transport=httpx.MockTransport(no_network)
        ) as hub,
        pytest.raises(ConfigurationError, match="no gateway given") as raised,
    ):
        hub.status("o")
    assert "flow, plain" in str(raised.value)


@pytest.mark.usefixtures("local")
def test_an_unknown_gateway_alias_lists_the_configured_ones() -> None:
    with Hub.from_config(_two_gateways(), transport=httpx.MockTransport(no_network)) as hub:
        for call in (lambda: hub.status("o", gateway="cards"), lambda: hub.capabilities("cards")):
            with pytest.raises(ConfigurationError) as raised:
                call()
            assert raised.value.gateway == "cards"
            assert "'cards' is not configured" in str(raised.value)
            assert "flow, plain" in str(raised.value)


@pytest.mark.usefixtures("local")
def test_gateways_lists_the_configured_aliases() -> None:
    with Hub.from_config(_two_gateways(), transport=httpx.MockTransport(no_network)) as hub:
        assert set(hub.gateways) == {"plain", "flow"}


# -- errors from adapters --------------------------------------------------------------


class Crashes:
    """Raises a non-payhub exception: in the hook itself, or inside its flow."""

    Settings = LocalSettings

    def __init__(self, settings: LocalSettings) -> None:
        pass

    @hookimpl
    def payhub_status(self, reference: str) -> PaymentResult:
        raise KeyError("status_code")

    @hookimpl
    def payhub_capture(self, reference: str, amount: Money | None) -> Flow[PaymentResult]:
        response = yield httpx.Request("POST", "https://gw.example/capture")
        return paid(reference, raw=response.json())  # the body is not JSON

    @hookimpl
    def payhub_cancel(self, reference: str) -> Flow[PaymentResult]:
        yield httpx.Request("POST", "https://gw.example/cancel")
        raise GatewayError("declined", http_status=402, code="DECLINED")

    @hookimpl
    def payhub_refund(self, reference: str, amount: Money | None) -> PaymentResult:
        raise InvalidRequest("refunds need an amount", field="amount", gateway="elsewhere")

    @hookimpl
    def payhub_initiate(self, invoice: Any) -> Any:
        return "not a checkout"

    @hookimpl
    def payhub_verify(self, evidence: Any) -> Any:
        return None


@pytest.fixture
def crashing_hub(monkeypatch: pytest.MonkeyPatch) -> Any:
    use_local_adapters(monkeypatch, local_flow=Crashes)
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>oops</html>"))
    with Hub.from_config(local_config(), transport=transport) as hub:
        yield hub


def test_an_exception_in_a_hook_is_wrapped_in_adapter_error(crashing_hub: Hub) -> None:
    with pytest.raises(AdapterError) as raised:
        crashing_hub.status("r")
    error = raised.value
    assert isinstance(error.__cause__, KeyError)
    assert (error.gateway, error.operation) == ("local", "status")
    assert error.request_id
    assert "local.flow" in str(error)
    assert "KeyError" in str(error)


def test_an_exception_inside_a_flow_is_wrapped_in_adapter_error(crashing_hub: Hub) -> None:
    with pytest.raises(AdapterError) as raised:
        crashing_hub.capture("r")
    assert isinstance(raised.value.__cause__, ValueError)  # json.JSONDecodeError
    assert raised.value.operation == "capture"


def test_a_payhub_error_from_an_adapter_gets_the_call_context(crashing_hub: Hub) -> None:
    with pytest.raises(GatewayError) as raised:
        crashing_hub.cancel("r")
    error = raised.value
    assert (error.gateway, error.operation, error.http_status, error.code) == (
        "local",
        "cancel",
        402,
        "DECLINED",
    )
    assert error.request_id
    assert f"request_id={error.request_id}" in str(error)


def test_context_the_adapter_set_itself_is_kept(crashing_hub: Hub) -> None:
    with pytest.raises(InvalidRequest) as raised:
        crashing_hub.refund("r")
    assert raised.value.gateway == "elsewhere"
    assert raised.value.operation == "refund"
    assert raised.value.field == "amount"


def test_a_result_of_the_wrong_type_is_an_adapter_error(crashing_hub: Hub) -> None:
    with pytest.raises(AdapterError, match="returned str from initiate, not Checkout") as raised:
        crashing_hub.initiate(invoice())
    assert raised.value.gateway == "local"


def test_a_hook_returning_nothing_is_unsupported(crashing_hub: Hub) -> None:
    with pytest.raises(UnsupportedOperation) as raised:
        crashing_hub.verify(Callback())
    assert (raised.value.gateway, raised.value.operation) == ("local", "verify")


def test_verify_takes_only_callbacks_and_otp_codes(crashing_hub: Hub) -> None:
    with pytest.raises(TypeError, match="Callback or an OtpCode"):
        crashing_hub.verify({"query": "a=1"})  # type: ignore[arg-type]


@pytest.mark.usefixtures("local")
def test_a_closed_hub_says_so() -> None:
    hub = Hub.from_config(local_config("local.flow"), transport=httpx.MockTransport(_answer))
    hub.close()
    with pytest.raises(ConfigurationError, match="closed") as raised:
        hub.status("o")
    assert not isinstance(raised.value, AdapterError)


# -- request ids and structured logs ---------------------------------------------------


def _payhub_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "payhub"]


@pytest.mark.usefixtures("local")
def test_each_operation_has_one_request_id_in_every_log_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="payhub")
    with Hub.from_config(_two_gateways("flow"), transport=httpx.MockTransport(_answer)) as hub:
        hub.status("o")
        first = {record.payhub["request_id"] for record in _payhub_records(caplog)}  # type: ignore[attr-defined]
        caplog.clear()
        hub.status("o")
        second = {record.payhub["request_id"] for record in _payhub_records(caplog)}  # type: ignore[attr-defined]
    assert len(first) == 1
    assert len(second) == 1
    assert first != second


@pytest.mark.usefixtures("local")
def test_log_records_carry_a_structured_payhub_dict(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="payhub")
    with Hub.from_config(local_config("local.flow"), transport=httpx.MockTransport(_answer)) as hub:
        hub.status("o-7")
    attempt, done = _payhub_records(caplog)
    assert attempt.payhub == {  # type: ignore[attr-defined]
        "gateway": "local",
        "operation": "status",
        "request_id": attempt.payhub["request_id"],  # type: ignore[attr-defined]
        "method": "GET",
        "url": "https://gw.local.example/orders/o-7",
        "headers": attempt.payhub["headers"],  # type: ignore[attr-defined]
        "status": 200,
        "error": None,
        "attempt": 1,
        "elapsed_ms": attempt.payhub["elapsed_ms"],  # type: ignore[attr-defined]
        "retry_in": None,
    }
    assert done.payhub["gateway"] == "local"  # type: ignore[attr-defined]
    assert done.payhub["operation"] == "status"  # type: ignore[attr-defined]
    assert done.payhub["request_id"] == attempt.payhub["request_id"]  # type: ignore[attr-defined]
    assert done.payhub["result"] == "paid"  # type: ignore[attr-defined]
    assert done.levelno == logging.INFO


def test_the_request_id_of_a_failure_is_in_the_error_and_the_logs(
    crashing_hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="payhub")
    for call in (lambda: crashing_hub.cancel("r"), lambda: crashing_hub.status("r")):
        caplog.clear()
        with pytest.raises((GatewayError, AdapterError)) as raised:
            call()
        records = _payhub_records(caplog)
        assert records
        assert {record.payhub["request_id"] for record in records} == {raised.value.request_id}  # type: ignore[attr-defined]
        assert records[-1].payhub["error"] == type(raised.value).__name__  # type: ignore[attr-defined]


# -- verify(expected=) ------------------------------------------------------------------


def _verifying(monkeypatch: pytest.MonkeyPatch, result: PaymentResult) -> Hub:
    class Verifies:
        Settings = LocalSettings

        def __init__(self, settings: LocalSettings) -> None:
            pass

        @hookimpl
        def payhub_verify(self, evidence: Any) -> PaymentResult:
            return result

    use_local_adapters(monkeypatch, local_flow=Verifies)
    return Hub.from_config(local_config(), transport=httpx.MockTransport(no_network))


EXPECTED = invoice("INV-1", "25.50", "USD")


def _result(status: PaymentStatus = PaymentStatus.PAID, **fields: Any) -> PaymentResult:
    values: dict[str, Any] = {
        "reference": "r",
        "invoice_number": "INV-1",
        "amount": Money("25.50", "USD"),
    }
    values.update(fields)
    return PaymentResult(status=status, **values)


@pytest.mark.parametrize("status", [PaymentStatus.PAID, PaymentStatus.AUTHORIZED])
def test_verify_with_expected_accepts_the_matching_payment(
    monkeypatch: pytest.MonkeyPatch, status: PaymentStatus
) -> None:
    with _verifying(monkeypatch, _result(status)) as hub:
        assert hub.verify(Callback(), expected=EXPECTED).status is status


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"invoice_number": "INV-2"}, "invoice_number"),
        ({"amount": Money("25.49", "USD")}, "amount"),
        ({"amount": Money("2550", "JPY")}, "currency"),
        ({"amount": Money("25.50", "EUR")}, "currency"),
        ({"amount": None}, "amount"),
        ({"invoice_number": None}, "invoice_number"),
    ],
)
@pytest.mark.parametrize("status", [PaymentStatus.PAID, PaymentStatus.AUTHORIZED])
def test_verify_with_expected_refuses_a_different_payment(
    monkeypatch: pytest.MonkeyPatch, fields: dict[str, Any], field: str, status: PaymentStatus
) -> None:
    with _verifying(monkeypatch, _result(status, **fields)) as hub:
        with pytest.raises(AmountMismatch) as raised:
            hub.verify(Callback(), expected=EXPECTED)
        # without expected, the same result is returned as verified
        assert hub.verify(Callback()).status is status
    assert raised.value.field == field
    assert (raised.value.gateway, raised.value.operation) == ("local", "verify")
    assert isinstance(raised.value, VerificationError)


@pytest.mark.parametrize(
    "status",
    [
        PaymentStatus.PENDING,
        PaymentStatus.CANCELED,
        PaymentStatus.FAILED,
        PaymentStatus.REFUNDED,
        PaymentStatus.PARTIALLY_REFUNDED,
    ],
)
def test_verify_with_expected_checks_only_the_invoice_number_of_non_money_statuses(
    monkeypatch: pytest.MonkeyPatch, status: PaymentStatus
) -> None:
    other_amount = _result(status, amount=Money("3.00", "EUR"))
    with _verifying(monkeypatch, other_amount) as hub:
        assert hub.verify(Callback(), expected=EXPECTED).status is status
    no_amount = _result(status, amount=None, invoice_number=None)
    with _verifying(monkeypatch, no_amount) as hub:
        assert hub.verify(Callback(), expected=EXPECTED).status is status
    wrong_invoice = _result(status, invoice_number="INV-2")
    with _verifying(monkeypatch, wrong_invoice) as hub, pytest.raises(AmountMismatch) as raised:
        hub.verify(Callback(), expected=EXPECTED)
    assert raised.value.field == "invoice_number"


# -- capabilities ----------------------------------------------------------------------


@pytest.mark.usefixtures("local")
def test_capabilities_need_no_request_and_default_to_the_default_gateway() -> None:
    with Hub.from_config(_two_gateways("flow"), transport=httpx.MockTransport(no_network)) as hub:
        assert hub.capabilities() == hub.capabilities("flow")
        assert hub.capabilities("plain").operations == {
            "initiate",
            "verify",
            "capture",
            "cancel",
            "refund",
            "status",
        }


@pytest.mark.usefixtures("local")
def test_adapter_gives_each_gateways_own_instance_for_tests_and_tooling() -> None:
    with Hub.from_config(_two_gateways("flow"), transport=httpx.MockTransport(no_network)) as hub:
        flow, plain = hub.adapter("flow"), hub.adapter("plain")
        assert flow is not plain
        assert hub.adapter() is flow  # the default gateway
        with pytest.raises(ConfigurationError):
            hub.adapter("nope")
