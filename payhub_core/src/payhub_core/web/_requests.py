"""``Callback`` from the requests of ASGI, WSGI and the common frameworks.

Signatures are computed over the bytes the gateway sent, in the order it sent them, so
nothing here parses and re-encodes: the query string and the body are taken raw from the
server's own interface (the ASGI scope's ``query_string`` bytes, the WSGI environ's
``QUERY_STRING``, which PEP 3333 carries as Latin-1 text of the raw bytes), and the body
is read in full from the stream. Parsed views come later, from the ``Callback`` itself.

Header names are lower-cased (HTTP names are case-insensitive; ASGI servers lower-case
them already). A header sent more than once keeps every value, joined in received order
with ``", "`` (``"; "`` for ``Cookie``), the combination HTTP defines for repeated fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, BinaryIO

from payhub_core._errors import MalformedCallback
from payhub_core._models import Callback

__all__ = [
    "DEFAULT_MAX_BODY",
    "BodyTooLarge",
    "callback_from_asgi",
    "callback_from_django",
    "callback_from_flask",
    "callback_from_starlette",
    "callback_from_wsgi",
    "merge_headers",
    "read_wsgi_body",
    "wsgi_headers",
]

DEFAULT_MAX_BODY = 1024 * 1024
"""The largest body read (1 MiB): gateway notifications are a few kilobytes."""


class BodyTooLarge(MalformedCallback):
    """The request body is larger than the endpoint accepts."""


def merge_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as a mapping with lower-case names; repeated fields joined in order."""
    merged: dict[str, str] = {}
    for raw_name, value in pairs:
        name = raw_name.lower()
        if name in merged:
            separator = "; " if name == "cookie" else ", "
            merged[name] = merged[name] + separator + value
        else:
            merged[name] = value
    return merged


def _callback(method: str, query: bytes, headers: dict[str, str], body: bytes) -> Callback:
    # The model turns the raw query bytes into its text form (UTF-8, or %XX escapes for
    # bytes that are not UTF-8), the one rule for every way in.
    return Callback.model_validate(
        {"method": method, "query": query, "headers": headers, "body": body}
    )


def _latin1(value: bytes) -> str:
    # Header bytes outside ASCII are opaque octets (RFC 9110): Latin-1 maps each to one
    # character and back, as WSGI does.
    return value.decode("latin-1")


def asgi_headers(scope: Mapping[str, Any]) -> dict[str, str]:
    return merge_headers(
        (_latin1(bytes(name)), _latin1(bytes(value))) for name, value in scope.get("headers", ())
    )


def callback_from_asgi(scope: Mapping[str, Any], body: bytes) -> Callback:
    """A ``Callback`` from an ASGI HTTP ``scope`` and the request's whole ``body``."""
    if scope.get("type") != "http":
        raise ValueError("callback_from_asgi takes an HTTP scope")
    return _callback(
        str(scope.get("method", "GET")),
        bytes(scope.get("query_string", b"")),
        asgi_headers(scope),
        bytes(body),
    )


# CGI puts these two headers in the environ without the HTTP_ prefix.
_CGI_HEADERS = {"CONTENT_TYPE": "content-type", "CONTENT_LENGTH": "content-length"}


def wsgi_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """The request headers of a WSGI ``environ`` (``HTTP_X_FOO`` -> ``x-foo``).

    The server has already joined repeated fields; underscores cannot be told from dashes
    in CGI names, so ``-`` is assumed (every header a gateway sends uses dashes)."""
    pairs: list[tuple[str, str]] = []
    for key, value in environ.items():
        if not isinstance(value, str):
            continue
        if key.startswith("HTTP_"):
            pairs.append((key[5:].replace("_", "-"), value))
        elif key in _CGI_HEADERS and value:
            pairs.append((_CGI_HEADERS[key], value))
    return merge_headers(pairs)


def _content_length(environ: Mapping[str, Any]) -> int | None:
    raw = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise MalformedCallback("the Content-Length header is not a number")
    return int(raw)


def read_wsgi_body(environ: Mapping[str, Any], *, limit: int = DEFAULT_MAX_BODY) -> bytes:
    """The whole body from ``wsgi.input``: ``Content-Length`` bytes, or everything until
    the end when the server says the stream is terminated (chunked uploads).
    ``BodyTooLarge`` past ``limit`` bytes; nothing more is read then."""
    stream: BinaryIO | None = environ.get("wsgi.input")
    length = _content_length(environ)
    if stream is None or length == 0:
        return b""
    if length is not None:
        if length > limit:
            raise BodyTooLarge(f"the request body is larger than {limit} bytes")
        chunks: list[bytes] = []
        left = length
        while left > 0:
            chunk = stream.read(left)
            if not chunk:
                raise MalformedCallback("the request body is shorter than its Content-Length")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    if not environ.get("wsgi.input_terminated"):
        # Without a length the stream may not end (PEP 3333): no body.
        return b""
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge(f"the request body is larger than {limit} bytes")
    return body


def callback_from_wsgi(
    environ: Mapping[str, Any], body: bytes | None = None, *, limit: int = DEFAULT_MAX_BODY
) -> Callback:
    """A ``Callback`` from a WSGI ``environ``; the body is read from ``wsgi.input`` unless
    given (read it only once: the stream cannot be rewound)."""
    if body is None:
        body = read_wsgi_body(environ, limit=limit)
    query = str(environ.get("QUERY_STRING", "")).encode("latin-1")
    return _callback(str(environ.get("REQUEST_METHOD", "GET")), query, wsgi_headers(environ), body)


async def callback_from_starlette(request: Any) -> Callback:
    """A ``Callback`` from a Starlette or FastAPI ``Request`` (reads its body)."""
    return callback_from_asgi(request.scope, await request.body())


def callback_from_django(request: Any) -> Callback:
    """A ``Callback`` from a Django ``HttpRequest``, served over WSGI or ASGI.

    Read it before anything touches ``request.POST``: Django's form parsing consumes the
    body stream."""
    body = bytes(request.body)
    scope = getattr(request, "scope", None)
    if isinstance(scope, Mapping) and scope.get("type") == "http":
        return callback_from_asgi(scope, body)
    return callback_from_wsgi(request.META, body)


def callback_from_flask(request: Any) -> Callback:
    """A ``Callback`` from a Flask (Werkzeug) ``Request``.

    Read it before anything touches ``request.form``: form parsing consumes the body."""
    body = request.get_data(cache=True, as_text=False, parse_form_data=False)
    return callback_from_wsgi(request.environ, bytes(body))
