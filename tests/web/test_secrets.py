"""No secret reaches an endpoint's answer or its log records: the gateway's keys (canary
values) and the credentials a caller sends in its headers, whatever the outcome."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlencode

import pytest

from payhub_core import Callback, Hub
from payhub_core.ledger import upgrade
from payhub_core.web import Endpoints, Receive, WebResponse, drive
from payhub_plutu._callbacks import callback_signature

CANARY_KEY = "sk_canary_5ec2e7-never-shown"
CANARY_TOKEN = "canary-access-token-77"
CALLER_SECRET = "Bearer canary-caller-credential"


@pytest.fixture
def hub(tmp_path: Path) -> Hub:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    upgrade(url)
    config = {
        "gateways": {
            "cards": {
                "adapter": "plutu.localbankcards",
                "environment": "sandbox",
                "base_url": "http://127.0.0.1:9/plutu",
                "api_key": "canary-api-key-31",
                "access_token": CANARY_TOKEN,
                "secret_key": CANARY_KEY,
            }
        },
        "ledger": {"url": url},
        "web": {"public_url": "https://shop.example"},
    }
    return Hub.from_config(config)


def _answer(hub: Hub, method: str, path: str, callback: Callback) -> WebResponse:
    endpoints = Endpoints.for_hub(hub)
    route = endpoints.route(method, path)
    assert not isinstance(route, WebResponse)

    def receive(step: Receive) -> object:
        return hub.receive(step.callback, gateway=step.gateway, source=step.source)

    return drive(endpoints.handle(route, callback), receive)


def _signed_return(secret: str, invoice: str) -> str:
    params = [
        ("gateway", "localbankcards"),
        ("approved", "1"),
        ("invoice_no", invoice),
        ("amount", "40.00"),
        ("transaction_id", "100200"),
    ]
    return urlencode([*params, ("hashed", callback_signature(secret, params, "localbankcards"))])


@pytest.mark.parametrize(
    ("query", "status"),
    [
        (_signed_return("sk_someone_else", "INV-1"), 400),  # forged: signature
        (_signed_return(CANARY_KEY, "INV-UNKNOWN"), 404),  # genuine, unknown payment
        ("gateway=localbankcards&approved=1", 400),  # no signature at all
    ],
)
def test_no_secret_in_answers_or_logs(
    hub: Hub, caplog: pytest.LogCaptureFixture, query: str, status: int
) -> None:
    caplog.set_level(logging.DEBUG)
    callback = Callback(
        method="GET", query=query, headers={"authorization": CALLER_SECRET, "cookie": "s=1"}
    )
    with hub:
        response = _answer(hub, "GET", "/cards/return", callback)
        assert response.status == status
        for kind in ("callback", "webhook"):
            posted = callback.model_copy(update={"method": "POST"})
            assert _answer(hub, "POST", f"/cards/{kind}", posted).status >= 400
    seen = caplog.text + response.body.decode()
    for secret in (CANARY_KEY, CANARY_TOKEN, CALLER_SECRET, "canary-api-key-31"):
        assert secret not in seen
    assert "refused" in caplog.text  # the refusal itself is logged
