"""Every request the Plutu adapters yield is, byte for byte, the request plain httpx builds
from the same parts: ``httpx.Request("POST", root + path, headers={...}, content=form)``.

The adapters parse each action's URL once per adapter and assemble requests from their
header list and body bytes instead of going through httpx's URL parser per request; this
guards that nothing on the wire changed: the method, every part of the URL, the header
names, values and order, and the form body.
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from plutu_support import (
    ACCESS_TOKEN,
    ADAPTERS,
    ADFALI_OTP,
    API_KEY,
    OTP_ADAPTERS,
    REDIRECT_ADAPTERS,
    SADAD_OTP,
    FakePlutu,
    config,
    invoice,
)
from url_parts import url_parts

from payhub_core import Customer, Hub, InvalidRequest, OtpCode
from payhub_core.flows import is_idempotent
from payhub_plutu import _wire as wire_module
from payhub_plutu._validation import _SPACE, http_url
from payhub_plutu._wire import build_request, form_encode

ROOTS = [
    "https://api.plutus.ly",
    "http://127.0.0.1:8808/plutu",
    "https://Proxy.Example:8443/pay%20gate/x",
    "https://proxy.example:443/a b/präfix",
    "https://bücher.example/plutu",
    "http://[::1]:8808/plutu",
    "https://h.example/a/../b",
]


def drive(outcome: Any, fake: FakePlutu) -> tuple[Any, list[httpx.Request]]:
    """Run a hook's flow by hand, each request answered by the fake."""
    sent: list[httpx.Request] = []
    if not isinstance(outcome, Generator):
        return outcome, sent
    value: Any = None
    while True:
        try:
            step = outcome.send(value)
        except StopIteration as stop:
            return stop.value, sent
        assert isinstance(step, httpx.Request)
        sent.append(step)
        path = step.url.path
        # the fake serves Plutu's own root; the root under test may carry a prefix
        seen = httpx.Request(
            step.method, "https://api.plutus.ly" + path[path.index("/api/") :],
            headers=step.headers, content=step.content,
        )  # fmt: skip
        value = fake(seen)


def assert_plain(request: httpx.Request, root: str, service: str, action: str) -> None:
    form = parse_qsl(request.content.decode("ascii"), keep_blank_values=True)
    reference = httpx.Request(
        "POST",
        f"{root}/api/v1/transaction/{service}/{action}",
        headers={
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
            "X-API-KEY": API_KEY,
            "Authorization": f"Bearer {ACCESS_TOKEN}",
        },
        content=urlencode(form).encode("ascii"),
    )
    assert request.method == reference.method
    assert url_parts(request.url) == url_parts(reference.url)
    assert request.headers.raw == reference.headers.raw
    assert request.content == reference.content
    assert b"".join(request.stream) == reference.content
    assert not is_idempotent(request)  # Plutu's calls are never repeated blindly


def customer() -> Customer:
    return Customer(
        mobile="0913632323", birth_year=1990, email="a@shop.example.ly", ip="198.51.100.1"
    )


@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize("adapter", REDIRECT_ADAPTERS)
def test_a_checkout_sends_what_plain_httpx_builds(root: str, adapter: str) -> None:
    hub = Hub.from_config(config(adapter, base_url=root, environment="sandbox"))
    fake = FakePlutu()
    currency = "USD" if adapter == "plutu.mpgs" else "LYD"
    checkout, sent = drive(
        hub.adapter("plutu").payhub_initiate(
            invoice(currency, "12.50", customer=customer(), lang="en")
        ),
        fake,
    )
    [request] = sent
    assert_plain(request, root, ADAPTERS[adapter], "confirm")
    assert checkout.action.url.startswith("https://checkout.plutus.ly/")
    hub.close()


@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize("adapter", OTP_ADAPTERS)
def test_an_otp_payment_sends_what_plain_httpx_builds(root: str, adapter: str) -> None:
    hub = Hub.from_config(config(adapter, base_url=root, environment="sandbox"))
    plutu = hub.adapter("plutu")
    fake = FakePlutu()
    bill = invoice(customer=customer())
    checkout, sent = drive(plutu.payhub_initiate(bill), fake)
    [verify] = sent
    assert_plain(verify, root, ADAPTERS[adapter], "verify")
    code = SADAD_OTP if adapter == "plutu.sadad" else ADFALI_OTP
    evidence = OtpCode(reference=checkout.reference, code=code, invoice=bill)
    result, sent = drive(plutu.payhub_verify(evidence), fake)
    [confirm] = sent
    assert_plain(confirm, root, ADAPTERS[adapter], "confirm")
    assert result.status == "paid"
    hub.close()


def test_build_request_is_the_plain_construction() -> None:
    """``build_request`` stays the plain form the adapters' requests are compared with."""
    hub = Hub.from_config(config("plutu.localbankcards"))
    settings = hub.adapter("plutu").settings
    fields = [("amount", "5.00"), ("invoice_no", "INV-1"), ("return_url", "https://s.example/r")]
    request = build_request(settings, ROOTS[0], "localbankcards", "confirm", fields)
    assert_plain(request, ROOTS[0], "localbankcards", "confirm")
    assert request.content == urlencode(fields).encode("ascii")
    hub.close()


@given(
    st.lists(st.tuples(st.text(), st.text() | st.from_regex(r"[A-Za-z0-9_.~ -]*", fullmatch=True)))
)
def test_form_encode_is_urlencode(fields: list[tuple[str, str]]) -> None:
    assert form_encode(fields) == urlencode(fields)


def test_the_url_check_finds_the_whitespace_str_isspace_finds() -> None:
    """``http_url`` looks for whitespace with a regular expression instead of calling
    ``str.isspace`` per character: the two agree on every code point."""
    differ = [
        hex(point)
        for point in range(sys.maxunicode + 1)
        if (_SPACE.search(chr(point)) is not None) != chr(point).isspace()
    ]
    assert differ == []
    for space in (" ", "\t", "\n", "\x0b", "\x1c", "\x85", "\xa0", "\u2028", "\u3000"):
        with pytest.raises(InvalidRequest):
            http_url(f"https://shop.example/a{space}b", "return_url")
    assert http_url("https://shop.example/a\u200bb", "return_url")  # not whitespace


def test_the_shortcut_is_taken_with_the_httpx_installed() -> None:
    assert wire_module._requests_as_httpx()


def test_without_the_shortcut_requests_are_built_the_plain_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wire_module, "_requests_as_httpx", lambda: False)
    hub = Hub.from_config(config("plutu.localbankcards", base_url=ROOTS[1]))
    fake = FakePlutu()
    _, [request] = drive(hub.adapter("plutu").payhub_initiate(invoice(customer=customer())), fake)
    assert_plain(request, ROOTS[1], "localbankcards", "confirm")
    hub.close()
