"""Every request the Plural adapters yield is, byte for byte, the request plain httpx builds
from the same parts: ``httpx.Request(method, root + path, headers={...}, json=body)``.

The adapters build their requests without going through httpx's URL parser and body
encoder each time (a pre-parsed root, a cached JSON encoder, a Request from a byte stream);
this is what guards that nothing on the wire changed: the method, every part of the URL,
the header names, values and order (``Request-ID`` and ``Request-Timestamp`` are fresh per
request, so they are taken from the request sent), the body bytes, and the idempotency
mark that tells the driver which requests may be repeated.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Generator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from plural_support import (
    UUID,
    FakePlural,
    adapter_of,
    card,
    config,
    customer,
    invoice,
    return_callback,
)
from url_parts import url_parts

from payhub_core import Customer, Hub, Money, Netbanking, Upi
from payhub_core.flows import is_idempotent
from payhub_plural import _wire as wire_module
from payhub_plural._wire import REFERENCE, Wire, request_id, request_timestamp

NOW = 1_720_511_828.022

ROOTS = [
    "https://pluraluat.v2.pinepg.in",
    "http://127.0.0.1:8808/plural",
    "https://Proxy.Example:8443/pay%20gate/x",
    "https://proxy.example:443/a b/präfix",
    "https://bücher.example/plural",
    "http://[::1]:8808/plural",
    "https://h.example/a/../b",
    "https://h.example/a/.",
    "https://h.example/a/..",
]


def drive(flow: Generator[Any, Any, Any], fake: FakePlural) -> tuple[Any, list[httpx.Request]]:
    """Run a flow by hand: each request is answered by the fake, lock steps by nothing."""
    sent: list[httpx.Request] = []
    value: Any = None
    while True:
        try:
            step = flow.send(value)
        except StopIteration as stop:
            return stop.value, sent
        if isinstance(step, httpx.Request):
            sent.append(step)
            value = fake(step)
        else:
            value = None


def plain(request: httpx.Request, root: str) -> httpx.Request:
    """The same request as plain httpx builds it from its parts."""
    path = request.url.raw_path.decode("ascii")
    prefix = httpx.URL(root).raw_path.decode("ascii").rstrip("/")
    if prefix and path.startswith(prefix + "/api/"):
        path = path[len(prefix) :]
    path = path[path.index("/api/") :]
    headers = {
        "Accept": "application/json",
        "Request-ID": request.headers["request-id"],
        "Request-Timestamp": request.headers["request-timestamp"],
    }
    if "authorization" in request.headers:
        headers["Authorization"] = request.headers["authorization"]
    body = json.loads(request.content) if request.content else None
    if body is None:
        return httpx.Request(request.method, root + path, headers=headers)
    return httpx.Request(request.method, root + path, headers=headers, json=body)


def assert_plain(request: httpx.Request, root: str, *, safe: bool) -> None:
    reference = plain(request, root)
    assert request.method == reference.method
    assert url_parts(request.url) == url_parts(reference.url)
    assert request.headers.raw == reference.headers.raw
    assert request.content == reference.content
    assert b"".join(request.stream) == reference.content
    assert is_idempotent(request) is safe
    assert UUID.fullmatch(request.headers["request-id"])
    assert request.headers["request-timestamp"] == "2024-07-09T07:57:08.022Z"


def _hub(root: str, adapter: str = "plural.checkout", **settings: Any) -> tuple[Hub, Any]:
    hub = Hub.from_config(
        config(adapter, base_url=root, **settings), transport=httpx.MockTransport(FakePlural())
    )
    plural = adapter_of(hub)
    plural.clock = lambda: NOW
    return hub, plural


@pytest.mark.parametrize("root", ROOTS)
def test_every_operation_sends_what_plain_httpx_builds(root: str) -> None:
    fake = FakePlural()
    hub, plural = _hub(root)
    paid = fake.add_order(value=50_000)
    held = fake.add_order(reference="INV-2", value=50_000, status="AUTHORIZED", pre_auth=True)
    held_too = fake.add_order(reference="INV-3", value=50_000, status="AUTHORIZED", pre_auth=True)
    to_cancel = fake.add_order(reference="INV-5", value=50_000, status="AUTHORIZED", pre_auth=True)

    _, sent = drive(plural.payhub_status(paid, None), fake)
    [token, status] = sent
    assert_plain(token, root, safe=True)
    assert_plain(status, root, safe=True)
    assert status.url.raw_path.endswith(f"/api/pay/v1/orders/{paid}".encode())

    checks: list[tuple[Generator[Any, Any, Any], list[bool]]] = [
        (plural.payhub_status("", "INV-1001"), [True]),
        (plural.payhub_capture(held, Money("100.00", "INR"), None), [False]),
        (plural.payhub_capture(held_too, None, "cap-Key_1"), [False]),
        (plural.payhub_cancel(to_cancel), [False]),  # a PUT without a body
        (plural.payhub_refund(paid, Money("1.00", "INR"), None), [True, False]),
        (plural.payhub_refund(paid, Money("2.00", "INR"), "rf-Key_2"), [True, False]),
        (
            plural.payhub_initiate(
                invoice(
                    "INV-4",
                    "1234.56",
                    customer=Customer(email="asa@example.in", first_name="Åsa", last_name="Rao"),
                    description="2 bücher, «fast»",
                    metadata={"cart": "42", "ключ": "значение"},
                    payment_method="upi,card",
                )
            ),
            [False],
        ),
    ]
    for flow, safe in checks:
        _, sent = drive(flow, fake)
        assert len(sent) == len(safe)
        for request, is_safe in zip(sent, safe, strict=True):
            assert_plain(request, root, safe=is_safe)
    # a return confirmed with Get Order
    _, sent = drive(
        plural.payhub_verify(return_callback({"order_id": paid, "status": "PROCESSED"})), fake
    )
    [confirm] = sent
    assert_plain(confirm, root, safe=True)
    hub.close()


@pytest.mark.parametrize("root", ROOTS[:3])
@pytest.mark.parametrize(
    "method",
    [
        card(holder_name="ÅSA RAO"),
        Upi(mode="collect", vpa="asha@okbank"),
        Netbanking(bank_code="NB1531"),
    ],
    ids=["card", "upi", "netbanking"],
)
def test_seamless_initiate_sends_what_plain_httpx_builds(root: str, method: Any) -> None:
    fake = FakePlural()
    hub, plural = _hub(root, "plural.seamless")
    _, sent = drive(
        plural.payhub_initiate(
            invoice("INV-7", "11.00", customer=customer(), payment_method=method)
        ),
        fake,
    )
    [token, order, payment] = sent
    assert_plain(token, root, safe=True)
    assert_plain(order, root, safe=False)
    assert_plain(payment, root, safe=False)
    assert payment.url.raw_path.endswith(b"/payments")
    hub.close()


def test_a_token_refused_midway_is_replaced_and_the_call_repeated_as_built_plainly() -> None:
    fake = FakePlural()
    root = ROOTS[0]
    hub, plural = _hub(root)
    paid = fake.add_order()
    drive(plural.payhub_status(paid, None), fake)
    fake.revoke_tokens()
    _, sent = drive(plural.payhub_status(paid, None), fake)
    [refused, token, again] = sent
    assert refused.headers["authorization"] != again.headers["authorization"]
    assert token.url.raw_path.endswith(b"/api/auth/v1/token")
    for request in sent:
        assert_plain(request, root, safe=True)
    hub.close()


@given(
    prefix=st.lists(
        st.text(alphabet="abcXYZ019-._~%!$&'()*+,;=:@ äß€", min_size=1, max_size=6), max_size=3
    ),
    port=st.sampled_from(["", ":443", ":80", ":8443"]),
    host=st.sampled_from(["api.example", "API.Example", "127.0.0.1", "[::1]", "bücher.example"]),
    order_id=st.from_regex(REFERENCE, fullmatch=True),
)
def test_urls_are_those_httpx_parses_from_the_whole_text(
    prefix: list[str], port: str, host: str, order_id: str
) -> None:
    root = f"https://{host}{port}" + "".join("/" + part for part in prefix)
    try:
        expected = httpx.URL(f"{root}/api/pay/v1/orders/{order_id}/capture")
    except httpx.InvalidURL:
        return  # not a root httpx takes at all
    wire = Wire(root, lambda: NOW)
    request = wire.request("PUT", f"/api/pay/v1/orders/{order_id}/capture", token="t")
    assert url_parts(request.url) == url_parts(expected)
    reference = httpx.Request(
        "PUT",
        expected,
        headers={
            "Accept": "application/json",
            "Request-ID": request.headers["request-id"],
            "Request-Timestamp": request.headers["request-timestamp"],
            "Authorization": "Bearer t",
        },
    )
    assert request.headers.raw == reference.headers.raw


@given(st.binary(min_size=16, max_size=16))
def test_request_ids_are_uuid4_text(entropy: bytes) -> None:
    assert request_id(entropy) == str(uuid.UUID(bytes=entropy, version=4))


def test_request_ids_are_fresh() -> None:
    ids = {request_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(UUID.fullmatch(value) for value in ids)
    assert request_id(os.urandom(16)) != request_id(os.urandom(16))


@given(
    st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False),
    st.lists(st.floats(min_value=-1.5, max_value=1.5, allow_nan=False), max_size=20),
)
def test_timestamps_in_the_same_second_read_as_the_datetime_of_each_moment(
    start: float, steps: list[float]
) -> None:
    """The date and time of the last second is formatted once (requests come many to a
    second); every moment, in the same second or not, still reads as its datetime."""
    moment = start
    for step in [0.0, *steps]:
        moment = min(max(moment + step, 0.0), 4_102_444_800.0)
        exact = datetime.fromtimestamp(moment, tz=timezone.utc)
        expected = exact.strftime("%Y-%m-%dT%H:%M:%S.") + f"{exact.microsecond // 1000:03d}Z"
        assert request_timestamp(moment) == expected


def test_the_shortcuts_are_taken_with_the_httpx_installed() -> None:
    """With the httpx payhub is tested with, requests are assembled (not parsed): if an
    httpx upgrade makes the check fall back to the plain construction, this says so."""
    assert wire_module._requests_as_httpx()
    for root in ROOTS:
        assert Wire(root, lambda: NOW)._join is not None, root


def test_without_the_shortcuts_requests_are_built_the_plain_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wire_module, "_requests_as_httpx", lambda: False)
    wire = Wire(ROOTS[1], lambda: NOW)
    assert wire._join is None
    for method, body in (("GET", None), ("PUT", None), ("POST", {"notes": "2 bücher"})):
        request = wire.request(method, "/api/pay/v1/orders/v1-1", token="t", body=body)
        assert_plain(request, ROOTS[1], safe=False)


def test_a_path_that_is_not_plain_is_built_the_plain_way() -> None:
    wire = Wire(ROOTS[0], lambda: NOW)
    request = wire.request("GET", "/api/pay/v1/orders/a.b%2F", token="t")
    assert request.url == httpx.URL(ROOTS[0] + "/api/pay/v1/orders/a.b%2F")
    assert_plain(request, ROOTS[0], safe=False)
