"""One behaviour, four real servers: the sandbox pays, the customer's browser returns,
T-Lync calls back and Plural sends webhooks over real HTTP to payhub's endpoints served by
uvicorn (ASGI in FastAPI; Django ASGI) and waitress (Django WSGI; Flask), each recording
through its own ledger.

Deliveries the test plays itself (tampered, stale, to the wrong alias, while the ledger
is down, twice at once) are genuine ones the sandbox sent to its recording merchant,
replayed byte for byte or altered on purpose.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest
from web_support import Site, point_webhooks, post, wait_until

from payhub_core import Callback, Invoice, PaymentStatus, Redirect
from payhub_core.demo import DemoEnvironment, ScriptedBrowser
from payhub_core.sandbox import DemoCase
from payhub_core.signing import sign_webhook, webhook_key

# -- helpers ---------------------------------------------------------------------------


def _invoice(
    sandbox: DemoEnvironment,
    case: DemoCase,
    *,
    to_recorder: bool = False,
    prefix: str = "",
) -> Invoice:
    """A fresh invoice for ``case``. Without URLs (``initiate`` fills in the site's
    endpoints), or with both pointing at the sandbox's recording merchant."""
    number = prefix + sandbox.invoice_number(case)
    merchant = sandbox.merchant_url
    invoice = case.invoice(number, f"{merchant}/return/{number}", f"{merchant}/callback/{number}")
    if to_recorder:
        return invoice
    return invoice.model_copy(update={"return_url": None, "callback_url": None})


def _checkout_url(site: Site, invoice: Invoice, alias: str) -> str:
    checkout = site.hub.initiate(invoice, gateway=alias)
    assert isinstance(checkout.action, Redirect)
    return checkout.action.url


def _press(prefix: str, url: str, button: str = "approve") -> httpx.Response:
    browser = ScriptedBrowser(prefix)
    try:
        return browser.press(url, button)
    finally:
        browser.close()


def _changes(site: Site, number: str, status: PaymentStatus) -> list[Any]:
    return [change for change in site.hub.payment(number).history if change.status is status]


def _hook_calls(site: Site, number: str, status: PaymentStatus) -> list[Any]:
    return [change for change in site.recorder.for_invoice(number) if change.status is status]


def _settled_hook_calls(site: Site, number: str, status: PaymentStatus) -> list[Any]:
    """The hook calls for ``status`` once they have arrived (and a moment for any extra
    one that should not come)."""
    wait_until(lambda: _hook_calls(site, number, status), timeout=10)
    time.sleep(0.3)
    return _hook_calls(site, number, status)


def _arrival(sandbox: DemoEnvironment, kind: str, number: str) -> Callback:
    def matches(arrival: Any) -> bool:
        if arrival.kind != kind:
            return False
        if kind == "webhook":
            return number.encode() in arrival.callback.body
        return bool(arrival.key == number)

    found = sandbox.receiver.wait_for(matches, timeout=10)
    assert found is not None, f"no {kind} for {number} reached the recording merchant"
    return found.callback


def _deliver(url: str, callback: Callback, body: bytes | None = None, **headers: str) -> Any:
    sent = {**callback.headers, **headers}
    return post(url, callback.body if body is None else body, sent, callback.query)


# -- the customer's return -------------------------------------------------------------


@pytest.mark.parametrize("alias", ["cards", "mpgs"])
def test_genuine_return_is_recorded_once_and_redirects(
    site: Site, sandbox: DemoEnvironment, cases: dict[str, DemoCase], alias: str
) -> None:
    invoice = _invoice(sandbox, cases[alias])
    url = _checkout_url(site, invoice, alias)
    stored = site.hub.payment(invoice.number)
    assert stored.invoice.return_url == site.endpoint(alias, "return")
    assert stored.invoice.callback_url == site.endpoint(alias, "callback")

    response = _press(site.url, url)
    assert response.status_code == 303
    assert response.headers["location"] == f"{site.url}/done/{invoice.number}?status=paid"
    payment = site.hub.payment(invoice.number)
    assert payment.status is PaymentStatus.PAID
    [paid] = _changes(site, invoice.number, PaymentStatus.PAID)
    assert paid.source == "return"

    # the customer reloads the page: the same evidence again changes nothing
    again = httpx.get(str(response.request.url), follow_redirects=False, timeout=15)
    assert again.status_code == 303
    assert again.headers["location"] == response.headers["location"]
    assert site.hub.payment(invoice.number).history == payment.history
    assert len(_settled_hook_calls(site, invoice.number, PaymentStatus.PAID)) == 1


@pytest.mark.parametrize(
    ("button", "status"), [("decline", PaymentStatus.FAILED), ("cancel", PaymentStatus.CANCELED)]
)
def test_declined_or_canceled_return_redirects_to_its_outcome(
    site: Site,
    sandbox: DemoEnvironment,
    cases: dict[str, DemoCase],
    button: str,
    status: PaymentStatus,
) -> None:
    invoice = _invoice(sandbox, cases["cards"])
    response = _press(site.url, _checkout_url(site, invoice, "cards"), button)
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/done/{invoice.number}?status={status.value}")
    assert site.hub.payment(invoice.number).status is status
    assert not _changes(site, invoice.number, PaymentStatus.PAID)


def test_forged_return_shows_the_error_page_and_records_nothing(
    site: Site, sandbox: DemoEnvironment, cases: dict[str, DemoCase]
) -> None:
    invoice = _invoice(sandbox, cases["cards"], to_recorder=True)
    _press(sandbox.merchant_url, _checkout_url(site, invoice, "cards"), "decline")
    declined = _arrival(sandbox, "return", invoice.number)
    # the customer edits the declined return into an approved one
    forged = declined.query.replace("gateway=localbankcards&", "gateway=localbankcards&approved=1&")
    assert forged != declined.query
    response = httpx.get(
        f"{site.endpoint('cards', 'return')}?{forged}", follow_redirects=False, timeout=15
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{site.url}/problem"
    payment = site.hub.payment(invoice.number)
    assert payment.status is PaymentStatus.PENDING
    assert all(change.source == "initiate" for change in payment.history)


# -- T-Lync callbacks ------------------------------------------------------------------


def test_tlync_callback_from_the_sandbox_is_recorded(
    site: Site, sandbox: DemoEnvironment, cases: dict[str, DemoCase]
) -> None:
    invoice = _invoice(sandbox, cases["tlync"])
    response = _press(site.url, _checkout_url(site, invoice, "tlync"))
    # the browser's return carries no amount: it never says more than pending
    assert response.status_code == 303
    paid = wait_until(lambda: site.hub.payment(invoice.number).status is PaymentStatus.PAID)
    assert paid, "the T-Lync callback did not make the payment paid"
    [change] = _changes(site, invoice.number, PaymentStatus.PAID)
    assert change.source == "callback"
    deliveries = httpx.get(f"{sandbox.url}/plutu/_sandbox/transactions", timeout=5).json()
    [delivery] = [
        item
        for item in deliveries["callbacks"]
        if item["url"] == site.endpoint("tlync", "callback")
        and item["body"]["invoice_no"] == invoice.number
    ]
    assert delivery["status"] == 200
    assert delivery["attempts"] == 1
    assert len(_settled_hook_calls(site, invoice.number, PaymentStatus.PAID)) == 1


def test_tlync_callback_refusals_then_genuine_once(
    site: Site, sandbox: DemoEnvironment, cases: dict[str, DemoCase]
) -> None:
    invoice = _invoice(sandbox, cases["tlync"], to_recorder=True)
    _press(sandbox.merchant_url, _checkout_url(site, invoice, "tlync"))
    genuine = _arrival(sandbox, "callback", invoice.number)
    target = site.endpoint("tlync", "callback")
    tampered = json.dumps({**json.loads(genuine.body), "amount": "0.01"}).encode()
    assert tampered != genuine.body
    assert _deliver(target, genuine, tampered).status_code == 403
    assert _deliver(target, genuine, genuine.body[:-5]).status_code == 400
    assert 400 <= _deliver(site.endpoint("cards", "callback"), genuine).status_code < 500
    assert _deliver(site.endpoint("nobody", "callback"), genuine).status_code == 404
    assert site.hub.payment(invoice.number).status is PaymentStatus.PENDING

    with site.ledger_down():
        down = _deliver(target, genuine)
    assert down.status_code == 503
    assert down.headers["retry-after"]
    assert site.hub.payment(invoice.number).status is PaymentStatus.PENDING

    first = _deliver(target, genuine)
    assert first.status_code == 200
    assert first.json() == {"received": True, "status": "paid", "duplicate": False, "changed": True}
    payment = site.hub.payment(invoice.number)
    assert payment.status is PaymentStatus.PAID

    duplicate = _deliver(target, genuine)
    assert duplicate.status_code == 200
    assert duplicate.json()["duplicate"] is True
    assert duplicate.json()["changed"] is False
    assert site.hub.payment(invoice.number).history == payment.history
    assert len(_settled_hook_calls(site, invoice.number, PaymentStatus.PAID)) == 1


# -- Plural webhooks -------------------------------------------------------------------


def test_plural_webhook_on_the_shared_url_is_recorded(
    site: Site, sandbox: DemoEnvironment, cases: dict[str, DemoCase]
) -> None:
    point_webhooks(sandbox, site.endpoint(None, "webhook"))
    try:
        # the browser's return goes to the recorder: only the webhook reaches the ledger
        invoice = _invoice(sandbox, cases["plural"], to_recorder=True)
        _press(sandbox.merchant_url, _checkout_url(site, invoice, "plural"))
        paid = wait_until(lambda: site.hub.payment(invoice.number).status is PaymentStatus.PAID)
        assert paid, "the Plural webhook did not make the payment paid"
    finally:
        point_webhooks(sandbox, f"{sandbox.merchant_url}/webhook")
    [change] = _changes(site, invoice.number, PaymentStatus.PAID)
    assert change.source == "webhook"
    assert change.gateway == "plural"
    events = httpx.get(f"{sandbox.url}/plural/_sandbox/webhooks", timeout=5).json()
    delivered = [
        delivery
        for event in events
        if invoice.number in event["body"] and event["url"] == site.endpoint(None, "webhook")
        for delivery in event["deliveries"]
    ]
    assert delivered
    assert all(delivery["status"] == 200 for delivery in delivered)
    assert len(_settled_hook_calls(site, invoice.number, PaymentStatus.PAID)) == 1


def _resigned(
    sandbox: DemoEnvironment, webhook: Callback, timestamp: int, body: bytes | None = None
) -> dict[str, str]:
    """Headers that sign ``body`` (default: the webhook's own) at ``timestamp`` with the
    emulator's webhook secret, as Plural itself would."""
    secret = httpx.get(f"{sandbox.url}/plural/_sandbox", timeout=5).json()["webhook_secret"]
    msg_id = webhook.headers["webhook-id"]
    signed = webhook.body if body is None else body
    signature = sign_webhook(webhook_key(secret), msg_id, timestamp, signed)
    return {"webhook-timestamp": str(timestamp), "webhook-signature": signature}


@pytest.mark.parametrize("url", ["shared", "alias"])
def test_plural_webhook_refusals_then_genuine_once(
    site: Site,
    sandbox: DemoEnvironment,
    cases: dict[str, DemoCase],
    webhooks_to_recorder: None,
    url: str,
) -> None:
    invoice = _invoice(sandbox, cases["plural"], to_recorder=True)
    _press(sandbox.merchant_url, _checkout_url(site, invoice, "plural"))
    genuine = _arrival(sandbox, "webhook", invoice.number)
    target = site.endpoint(None if url == "shared" else "plural", "webhook")

    tampered = genuine.body.replace(b'"PROCESSED"', b'"PROCESSED" ', 1)
    assert tampered != genuine.body
    assert _deliver(target, genuine, tampered).status_code == 403
    stale = _resigned(sandbox, genuine, int(time.time()) - 3600)
    assert _deliver(target, genuine, **stale).status_code == 403
    # correctly signed, but not a Plural event: malformed, and retrying cannot help
    garbage = b'{"event_type":"ORDER_PROCESSED"}'
    signed = _resigned(sandbox, genuine, int(time.time()), garbage)
    assert _deliver(target, genuine, garbage, **signed).status_code == 400
    assert 400 <= _deliver(site.endpoint("cards", "webhook"), genuine).status_code < 500
    assert site.hub.payment(invoice.number).status is PaymentStatus.PENDING

    with site.ledger_down():
        assert _deliver(target, genuine).status_code == 503
    assert site.hub.payment(invoice.number).status is PaymentStatus.PENDING

    first = _deliver(target, genuine)
    assert first.status_code == 200
    assert first.json()["changed"] is True
    payment = site.hub.payment(invoice.number)
    assert payment.status is PaymentStatus.PAID
    assert payment.gateway == "plural"

    duplicate = _deliver(target, genuine)
    assert duplicate.status_code == 200
    assert duplicate.json()["duplicate"] is True
    assert site.hub.payment(invoice.number).history == payment.history
    assert len(_settled_hook_calls(site, invoice.number, PaymentStatus.PAID)) == 1


# -- the race --------------------------------------------------------------------------


def test_return_and_two_webhooks_at_once_make_one_transition_and_one_hook_call(
    site: Site,
    sandbox: DemoEnvironment,
    cases: dict[str, DemoCase],
    webhooks_to_recorder: None,
) -> None:
    invoice = _invoice(sandbox, cases["plural"], to_recorder=True)
    _press(sandbox.merchant_url, _checkout_url(site, invoice, "plural"))
    returned = _arrival(sandbox, "return", invoice.number)
    webhook = _arrival(sandbox, "webhook", invoice.number)
    assert site.hub.payment(invoice.number).status is PaymentStatus.PENDING

    deliveries = [
        (site.endpoint("plural", "return"), returned),
        (site.endpoint(None, "webhook"), webhook),
        (site.endpoint("plural", "webhook"), webhook),
    ]
    start = threading.Barrier(len(deliveries))
    answers: dict[int, int] = {}

    def deliver(index: int, url: str, callback: Callback) -> None:
        start.wait(timeout=10)
        answers[index] = _deliver(url, callback).status_code

    threads = [
        threading.Thread(target=deliver, args=(index, url, callback))
        for index, (url, callback) in enumerate(deliveries)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert answers == {0: 303, 1: 200, 2: 200}
    assert len(_changes(site, invoice.number, PaymentStatus.PAID)) == 1
    assert site.hub.payment(invoice.number).status is PaymentStatus.PAID
    assert len(_settled_hook_calls(site, invoice.number, PaymentStatus.PAID)) == 1


# -- what every server answers before the ledger is asked ------------------------------


def test_oversized_unknown_and_wrong_method_requests_are_refused(site: Site) -> None:
    big = post(site.endpoint("tlync", "callback"), b"{" + b" " * (1024 * 1024 + 10) + b"}", {})
    assert big.status_code == 413
    assert post(site.endpoint("nobody", "callback"), b"{}", {}).status_code == 404
    assert post(site.endpoint("cards", "refund"), b"{}", {}).status_code == 404
    wrong = httpx.get(site.endpoint("tlync", "callback"), timeout=15)
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
