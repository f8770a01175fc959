"""Request adapters: whatever the framework, the Callback holds the raw query string and
body byte for byte, every header, and repeated parameters in their order."""

from __future__ import annotations

import contextlib
import io
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payhub_core import Callback, MalformedCallback
from payhub_core.web import (
    BodyTooLarge,
    callback_from_asgi,
    callback_from_django,
    callback_from_flask,
    callback_from_starlette,
    callback_from_wsgi,
    read_wsgi_body,
)

# Query strings as servers hand them over: any bytes a client may put in a request line
# (printable ASCII but '#' and space, so percent escapes, '+', repeated keys and empty
# values included), and any UTF-8 text. A leading '?' is not part of a query string.
_URL_BYTES = st.binary(max_size=200).map(
    lambda raw: bytes(b for b in raw if 0x21 <= b <= 0x7E and b not in b"#")
)
_UTF8_QUERY = st.text(max_size=80).map(lambda text: text.encode("utf-8"))
QUERIES = st.one_of(_URL_BYTES, _UTF8_QUERY, st.just(b"a=1&a=2&b=&a=3&c")).filter(
    lambda raw: not raw.startswith(b"?")
)
BODIES = st.binary(max_size=2000)


def _django() -> None:
    from web_django_urls import configure

    configure()


def _scope(query: bytes, body: bytes, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/payhub/cards/callback",
        "raw_path": b"/payhub/cards/callback",
        "root_path": "",
        "query_string": query,
        "headers": [(b"content-length", str(len(body)).encode()), *headers],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
    }


def _environ(query: bytes, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/payhub/cards/callback",
        # PEP 3333: the raw bytes as Latin-1 text
        "QUERY_STRING": query.decode("latin-1"),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def _expected(query: bytes, body: bytes) -> Callback:
    return Callback(method="POST", query=query, body=body)


def _check(callback: Callback, query: bytes, body: bytes) -> None:
    assert callback.body == body
    assert callback.method == "POST"
    expected = _expected(query, body)
    assert callback.query == expected.query
    try:
        text = query.decode("utf-8")
    except UnicodeDecodeError:
        return
    assert callback.query.encode("utf-8") == query  # byte for byte
    pairs = parse_qsl(text, keep_blank_values=True)
    # order and repeats kept (invalid percent-encoded UTF-8 is reported, never guessed)
    with contextlib.suppress(MalformedCallback):
        assert callback.query_params() == pairs


async def _starlette_callback(query: bytes, body: bytes) -> Callback:
    from starlette.requests import Request

    chunks = [body[:7], body[7:]]

    async def receive() -> dict[str, Any]:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    return await callback_from_starlette(Request(_scope(query, body, []), receive))


@given(query=QUERIES, body=BODIES)
def test_asgi_keeps_query_and_body_byte_for_byte(query: bytes, body: bytes) -> None:
    _check(callback_from_asgi(_scope(query, body, []), body), query, body)


@given(query=QUERIES, body=BODIES)
def test_wsgi_keeps_query_and_body_byte_for_byte(query: bytes, body: bytes) -> None:
    _check(callback_from_wsgi(_environ(query, body, {})), query, body)


@given(query=QUERIES, body=BODIES)
def test_starlette_keeps_query_and_body_byte_for_byte(query: bytes, body: bytes) -> None:
    import anyio

    _check(anyio.run(_starlette_callback, query, body), query, body)


@given(query=QUERIES, body=BODIES)
def test_flask_keeps_query_and_body_byte_for_byte(query: bytes, body: bytes) -> None:
    from flask import Request

    request = Request(_environ(query, body, {}))
    _check(callback_from_flask(request), query, body)


@given(query=QUERIES, body=BODIES)
def test_django_wsgi_keeps_query_and_body_byte_for_byte(query: bytes, body: bytes) -> None:
    _django()
    from django.core.handlers.wsgi import WSGIRequest

    _check(callback_from_django(WSGIRequest(_environ(query, body, {}))), query, body)


@given(query=QUERIES, body=BODIES)
def test_django_asgi_keeps_query_and_body_byte_for_byte(query: bytes, body: bytes) -> None:
    _django()
    from django.core.handlers.asgi import ASGIRequest

    request = ASGIRequest(_scope(query, body, []), io.BytesIO(body))
    _check(callback_from_django(request), query, body)


def test_form_fields_the_framework_parsed_do_not_change_the_raw_body() -> None:
    """A Flask request whose form was not touched keeps the body; the adapter reads it
    without parsing, so a form body stays as the gateway encoded it."""
    from flask import Request

    body = b"order_id=v1-1&status=AUTHORIZED&signature=AB%2Bcd&order_id=again"
    environ = _environ(b"", body, {})
    environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
    callback = callback_from_flask(Request(environ))
    assert callback.body == body
    assert callback.form() == [
        ("order_id", "v1-1"),
        ("status", "AUTHORIZED"),
        ("signature", "AB+cd"),
        ("order_id", "again"),
    ]


def test_repeated_headers_are_all_kept_in_order() -> None:
    scope = _scope(
        b"",
        b"",
        [
            (b"Webhook-Signature", b"v1,first"),
            (b"X-Other", b"1"),
            (b"webhook-signature", b"v1,second"),
            (b"cookie", b"a=1"),
            (b"cookie", b"b=2"),
        ],
    )
    callback = callback_from_asgi(scope, b"")
    assert callback.header("webhook-signature") == "v1,first, v1,second"
    assert callback.header("Cookie") == "a=1; b=2"
    assert callback.header("x-other") == "1"


def test_wsgi_headers_include_content_type_and_names_with_dashes() -> None:
    environ = _environ(b"", b"{}", {"Webhook-Id": "msg_1", "Webhook-Timestamp": "17"})
    callback = callback_from_wsgi(environ)
    assert callback.headers["webhook-id"] == "msg_1"
    assert callback.headers["webhook-timestamp"] == "17"
    assert callback.content_type == "application/json"
    assert callback.headers["content-length"] == "2"


def test_header_bytes_outside_ascii_survive_as_latin1() -> None:
    raw = "caf\u00e9".encode("latin-1")
    callback = callback_from_asgi(_scope(b"", b"", [(b"x-note", raw)]), b"")
    assert callback.headers["x-note"].encode("latin-1") == raw


def test_wsgi_body_past_the_limit_is_refused_without_reading_it() -> None:
    body = b"x" * 5000
    environ = _environ(b"", body, {})
    with pytest.raises(BodyTooLarge):
        read_wsgi_body(environ, limit=4096)
    assert environ["wsgi.input"].tell() == 0


def test_wsgi_body_shorter_than_its_length_is_malformed() -> None:
    environ = _environ(b"", b"abc", {})
    environ["CONTENT_LENGTH"] = "10"
    with pytest.raises(MalformedCallback):
        read_wsgi_body(environ)


def test_wsgi_chunked_body_is_read_to_the_end_when_the_server_terminates_it() -> None:
    environ = _environ(b"", b"chunked body", {})
    del environ["CONTENT_LENGTH"]
    assert read_wsgi_body(environ) == b""  # the stream may never end: nothing read
    environ["wsgi.input_terminated"] = True
    assert read_wsgi_body(environ) == b"chunked body"


def test_wsgi_content_length_that_is_not_a_number_is_malformed() -> None:
    environ = _environ(b"", b"abc", {})
    environ["CONTENT_LENGTH"] = "3; drop table"
    with pytest.raises(MalformedCallback):
        read_wsgi_body(environ)


def test_asgi_adapter_takes_only_http_scopes() -> None:
    with pytest.raises(ValueError, match="HTTP scope"):
        callback_from_asgi({"type": "websocket"}, b"")
