"""The endpoints' behaviour without I/O: routing, what each outcome of ``receive`` is
answered with, and how the shared webhook URL picks its alias."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from payhub_core import (
    AmountMismatch,
    Callback,
    Capabilities,
    ConfigurationError,
    GatewayError,
    GatewayUnavailable,
    HubConfig,
    InvalidRequest,
    MalformedCallback,
    PaymentStatus,
    SignatureError,
    UnsupportedOperation,
)
from payhub_core._errors import LedgerUnavailable, PaymentNotFound
from payhub_core.web import Endpoints, Receive, Route, WebResponse, WebSettings, drive

CARDS = Capabilities(currencies=frozenset({"LYD"}), operations=frozenset({"initiate", "verify"}))
WEBHOOKS = Capabilities(
    currencies=frozenset({"INR"}),
    operations=frozenset({"initiate", "verify"}),
    flows=frozenset({"redirect", "webhook"}),
)


@dataclass(frozen=True)
class _Payment:
    invoice_number: str
    gateway: str
    status: PaymentStatus


@dataclass(frozen=True)
class _Receipt:
    payment: _Payment
    duplicate: bool = False
    change: object | None = "change-1"


def _config(web: dict[str, Any] | None = None, ledger: bool = True) -> HubConfig:
    return HubConfig.from_mapping(
        {
            "gateways": {
                "cards": {"adapter": "plutu.localbankcards"},
                "india": {"adapter": "plural.checkout"},
                "india-cards": {"adapter": "plural.seamless"},
            },
            **({"ledger": {"url": "sqlite:///x.sqlite3"}} if ledger else {}),
            **({"web": web} if web is not None else {}),
        }
    )


def _endpoints(web: dict[str, Any] | None = None, **options: Any) -> Endpoints:
    capabilities = {"cards": CARDS, "india": WEBHOOKS, "india-cards": WEBHOOKS}
    return Endpoints(_config(web), capabilities, **options)


def _run(
    endpoints: Endpoints,
    path: str,
    answers: dict[str, Any],
    method: str = "POST",
) -> tuple[WebResponse, list[Receive]]:
    """Route and handle one request; ``answers`` maps alias -> Receipt or exception."""
    routed = endpoints.route(method, path)
    if isinstance(routed, WebResponse):
        return routed, []
    steps: list[Receive] = []

    def receive(step: Receive) -> Any:
        steps.append(step)
        answer = answers[step.gateway]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    callback = Callback(method=method, query="a=1", body=b"{}")
    return drive(endpoints.handle(routed, callback), receive), steps


def _paid(gateway: str = "cards", number: str = "INV-1") -> _Receipt:
    return _Receipt(_Payment(number, gateway, PaymentStatus.PAID))


def _body(response: WebResponse) -> Any:
    return json.loads(response.body)


# -- routing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/cards/return", Route("return", "cards")),
        ("POST", "/cards/return", Route("return", "cards")),
        ("POST", "/cards/callback/", Route("callback", "cards")),
        ("POST", "/india/webhook", Route("webhook", "india")),
        ("POST", "/webhook", Route("webhook", None)),
    ],
)
def test_routes(method: str, path: str, expected: Route) -> None:
    assert _endpoints().route(method, path) == expected


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/nobody/callback", 404),
        ("POST", "/cards/refund", 404),
        ("POST", "/cards", 404),
        ("POST", "/", 404),
        ("GET", "/cards/callback", 405),
        ("GET", "/webhook", 405),
        ("PUT", "/cards/return", 405),
    ],
)
def test_unknown_urls_and_methods_are_refused(method: str, path: str, status: int) -> None:
    response = _endpoints().route(method, path)
    assert isinstance(response, WebResponse)
    assert response.status == status
    if status == 405:
        assert response.header("allow") in ("GET, POST", "POST")


def test_endpoints_need_a_ledger() -> None:
    with pytest.raises(ConfigurationError, match=r"\[ledger\]"):
        Endpoints(_config(ledger=False), {"cards": CARDS, "india": WEBHOOKS, "india-cards": CARDS})


# -- server-to-server ------------------------------------------------------------------


def test_recorded_callback_is_200_after_receive_returned() -> None:
    response, steps = _run(_endpoints(), "/cards/callback", {"cards": _paid()})
    assert response.status == 200
    assert _body(response) == {
        "received": True,
        "status": "paid",
        "duplicate": False,
        "changed": True,
    }
    assert steps == [Receive(steps[0].callback, "cards", "callback")]


def test_duplicate_delivery_is_200_and_says_nothing_changed() -> None:
    receipt = _Receipt(_Payment("INV-1", "cards", PaymentStatus.PAID), duplicate=True, change=None)
    response, _ = _run(_endpoints(), "/cards/callback", {"cards": receipt})
    assert response.status == 200
    assert _body(response)["duplicate"] is True
    assert _body(response)["changed"] is False


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (SignatureError("bad signature"), 403),
        (SignatureError("the webhook timestamp is too old"), 403),
        (MalformedCallback("not JSON"), 400),
        (InvalidRequest("invalid Callback: headers: not text", field="headers"), 400),
        (
            AmountMismatch("amount", field="amount", expected_value="1", actual_value="2"),
            409,
        ),
        (PaymentNotFound("unknown"), 404),
        (LedgerUnavailable("database is locked"), 503),
        (GatewayUnavailable("timeout", outcome_unknown=False), 503),
        (GatewayError("refused", http_status=401), 502),
        (ConfigurationError("broken"), 500),
        (RuntimeError("a bug"), 500),
    ],
)
def test_failed_callback_status_codes(error: Exception, status: int) -> None:
    response, _ = _run(_endpoints(), "/cards/callback", {"cards": error})
    assert response.status == status
    body = response.body.decode()
    assert "paid" not in body
    assert ("retry-after" in dict(response.headers)) == (status in (502, 503))


def test_signed_event_that_is_not_about_a_payment_is_acknowledged() -> None:
    error = UnsupportedOperation("a customer event")
    error.event_id = "msg_1"  # type: ignore[attr-defined]  # as Plural's UnsupportedEvent
    response, _ = _run(_endpoints(), "/india/webhook", {"india": error})
    assert response.status == 200
    assert _body(response) == {"received": True, "ignored": True}


def test_unsupported_operation_without_an_event_is_not_acknowledged() -> None:
    response, _ = _run(_endpoints(), "/india/webhook", {"india": UnsupportedOperation("x")})
    assert response.status == 500


def test_error_messages_are_not_echoed_to_the_caller() -> None:
    response, _ = _run(
        _endpoints(), "/cards/callback", {"cards": SignatureError("expected AB12 got CD34")}
    )
    assert b"AB12" not in response.body
    assert _body(response) == {"error": "signature"}


# -- the shared webhook URL ------------------------------------------------------------


def test_shared_webhook_uses_the_first_alias_whose_secret_verifies() -> None:
    response, steps = _run(
        _endpoints(),
        "/webhook",
        {"india": SignatureError("not ours"), "india-cards": _paid("india-cards")},
    )
    assert response.status == 200
    assert [step.gateway for step in steps] == ["india", "india-cards"]
    assert all(step.source == "webhook" for step in steps)


def test_shared_webhook_tries_the_next_alias_when_the_ledger_does_not_know_it() -> None:
    response, steps = _run(
        _endpoints(),
        "/webhook",
        {"india": PaymentNotFound("not here"), "india-cards": _paid("india-cards")},
    )
    assert response.status == 200
    assert [step.gateway for step in steps] == ["india", "india-cards"]


def test_shared_webhook_no_alias_verifies_is_403() -> None:
    response, steps = _run(
        _endpoints(),
        "/webhook",
        {"india": SignatureError("no"), "india-cards": SignatureError("no")},
    )
    assert response.status == 403
    assert len(steps) == 2


def test_shared_webhook_verified_but_unknown_payment_is_404() -> None:
    response, _ = _run(
        _endpoints(),
        "/webhook",
        {"india": PaymentNotFound("unknown"), "india-cards": SignatureError("no")},
    )
    assert response.status == 404


def test_shared_webhook_amount_mismatch_stops_at_the_alias_that_verified() -> None:
    mismatch = AmountMismatch("amount", field="amount", expected_value="1", actual_value="2")
    response, steps = _run(
        _endpoints(), "/webhook", {"india": mismatch, "india-cards": _paid("india-cards")}
    )
    assert response.status == 409
    assert [step.gateway for step in steps] == ["india"]


def test_shared_webhook_ledger_unavailable_is_503_at_once() -> None:
    response, steps = _run(
        _endpoints(),
        "/webhook",
        {"india": LedgerUnavailable("locked"), "india-cards": _paid("india-cards")},
    )
    assert response.status == 503
    assert len(steps) == 1


def test_shared_webhook_aliases_default_to_gateways_that_take_webhooks() -> None:
    assert _endpoints().webhook_aliases == ("india", "india-cards")
    listed = _endpoints({"webhook_aliases": ["india-cards"]})
    assert listed.webhook_aliases == ("india-cards",)
    with pytest.raises(ConfigurationError, match="nowhere"):
        _endpoints({"webhook_aliases": ["nowhere"]})


def test_shared_webhook_without_webhook_gateways_is_404() -> None:
    endpoints = Endpoints(_config(), {"cards": CARDS, "india": CARDS, "india-cards": CARDS})
    response, steps = _run(endpoints, "/webhook", {})
    assert response.status == 404
    assert steps == []


# -- the customer's return -------------------------------------------------------------


def test_return_redirects_to_the_page_for_the_status() -> None:
    endpoints = _endpoints(
        {
            "public_url": "https://shop.example/store",
            "pages": {"paid": "/thanks/{invoice}?via={gateway}", "default": "/order/{invoice}"},
        }
    )
    response, _ = _run(endpoints, "/cards/return", {"cards": _paid(number="A/B&c=1")}, "GET")
    assert response.status == 303
    assert (
        response.header("location") == "https://shop.example/store/thanks/A%2FB%26c%3D1?via=cards"
    )
    pending = _Receipt(_Payment("INV-2", "cards", PaymentStatus.PENDING))
    response, _ = _run(endpoints, "/cards/return", {"cards": pending}, "GET")
    assert response.header("location") == "https://shop.example/store/order/INV-2"


def test_return_outcome_function_wins_over_pages() -> None:
    seen: list[Any] = []

    def outcome(payment: Any) -> str:
        seen.append(payment)
        return f"/mine/{payment.invoice_number}"

    endpoints = _endpoints({"pages": {"default": "/order/{invoice}"}}, outcome=outcome)
    response, _ = _run(endpoints, "/cards/return", {"cards": _paid()}, "POST")
    assert response.header("location") == "/mine/INV-1"
    assert seen[0].status is PaymentStatus.PAID


def test_return_without_pages_shows_the_status_on_a_plain_page() -> None:
    response, _ = _run(_endpoints(), "/cards/return", {"cards": _paid(number="<b>1</b>")}, "GET")
    assert response.status == 200
    assert b"paid" in response.body
    assert b"<b>1</b>" not in response.body  # escaped
    assert response.header("cache-control") == "no-store"


@pytest.mark.parametrize(
    "error",
    [
        SignatureError("forged"),
        MalformedCallback("garbled"),
        AmountMismatch("amount", field="amount", expected_value="1", actual_value="2"),
    ],
)
def test_untrusted_return_shows_a_safe_error_page_never_paid(error: Exception) -> None:
    response, _ = _run(_endpoints(), "/cards/return", {"cards": error}, "GET")
    assert response.status == 400
    assert b"not confirmed" in response.body
    assert b"paid" not in response.body.replace(b"If you paid", b"")
    redirecting = _endpoints({"pages": {"error": "/payment-problem", "paid": "/thanks"}})
    response, _ = _run(redirecting, "/cards/return", {"cards": error}, "GET")
    assert response.status == 303
    assert response.header("location") == "/payment-problem"


def test_return_when_the_ledger_is_down_asks_to_reload() -> None:
    response, _ = _run(_endpoints(), "/cards/return", {"cards": LedgerUnavailable("x")}, "GET")
    assert response.status == 503
    assert b"Reload" in response.body
    assert response.header("retry-after") == "5"


def test_return_for_an_unknown_payment_is_404_page() -> None:
    response, _ = _run(_endpoints(), "/cards/return", {"cards": PaymentNotFound("x")}, "GET")
    assert response.status == 404
    assert (
        response.header(
            "content-type",
        )
        == "text/html; charset=utf-8"
    )


# -- settings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("web", "field"),
    [
        ({"public_url": "shop.example"}, "public_url"),
        ({"public_url": "ftp://shop.example"}, "public_url"),
        ({"public_url": "https://shop.example/?x=1"}, "public_url"),
        ({"mount": "payhub"}, "mount"),
        ({"pages": {"done": "/x"}}, "pages"),
        ({"pages": {"paid": "/x/{order}"}}, "pages"),
        ({"pages": {"paid": "//evil.example/x"}}, "pages"),
        ({"pages": {"paid": "javascript:alert(1)"}}, "pages"),
        ({"pages": {"paid": "/x/{invoice"}}, "pages"),
        ({"max_body": 10}, "max_body"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_web_table_names_the_field(web: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        _endpoints(web)


def test_settings_normalise_public_url_and_mount() -> None:
    settings = WebSettings(public_url="https://shop.example/", mount="/pay/")
    assert settings.public_url == "https://shop.example"
    assert settings.mount == "/pay"


def test_shared_webhook_ledger_unavailable_after_an_unknown_payment_is_503() -> None:
    """The second alias would have found it, but the ledger is down: the gateway must
    deliver again, not be told the payment is unknown."""
    response, steps = _run(
        _endpoints(),
        "/webhook",
        {"india": PaymentNotFound("not here"), "india-cards": LedgerUnavailable("locked")},
    )
    assert response.status == 503
    assert len(steps) == 2


# -- URLs initiate fills in ------------------------------------------------------------


def test_fill_urls_sets_only_what_the_invoice_lacks() -> None:
    from payhub_core import Invoice, Money
    from payhub_core.web import fill_urls

    web = {"public_url": "https://shop.example/store/", "mount": "/pay"}
    bare = Invoice(number="INV-1", amount=Money("5.00", "LYD"))
    filled = fill_urls(bare, "cards", web)
    assert filled.return_url == "https://shop.example/store/pay/cards/return"
    assert filled.callback_url == "https://shop.example/store/pay/cards/callback"
    own = bare.model_copy(update={"return_url": "https://mine.example/back"})
    assert fill_urls(own, "cards", web).return_url == "https://mine.example/back"
    assert fill_urls(own, "cards", web).callback_url == filled.callback_url
    assert fill_urls(bare, "cards", {"mount": "/pay"}) == bare  # no public_url: unchanged
    assert fill_urls(bare, "cards", None) == bare


def test_a_bad_web_table_is_refused_when_the_hub_is_built() -> None:
    from payhub_core import Hub

    config = {
        "gateways": {
            "cards": {
                "adapter": "plutu.localbankcards",
                "environment": "sandbox",
                "base_url": "http://127.0.0.1:9/plutu",
                "api_key": "sandbox-api-key",
                "access_token": "sandbox-access-token",
                "secret_key": "sandbox-secret-key",
            }
        },
        "web": {"public_url": "not a url"},
    }
    with pytest.raises(ConfigurationError, match="public_url"):
        Hub.from_config(config)
