"""Hypothesis mutations of genuine evidence: what an attacker (or a broken proxy) can do to
a callback or an OTP code on its way to ``hub.verify``.

Each mutation is returned with a short label saying what was done, so that a failing
example tells the adapter author which change slipped through.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, unquote_plus

from hypothesis import strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy
from pydantic import SecretStr

from payhub_core._models import Callback, OtpCode

__all__ = ["callback_mutations", "otp_mutations", "string_variants"]

T = TypeVar("T")
Mutated = tuple[str, Callback]
_FORM = "application/x-www-form-urlencoded"
_SIGNATURE_NAME = re.compile(r"sig|hash|hmac|mac|signature|token|checksum", re.IGNORECASE)
_SIGNATURE_VALUE = re.compile(r"[0-9A-Za-z+/=_,.-]{16,}")
_LOOKALIKES = {"0": "٠", "1": "١", "5": "５", "a": "а", "e": "е", "o": "о", "A": "Α"}
_SPREAD = 4095

# Every draw has the same bounds whatever the evidence looks like: a choice among n things
# is an integer in a fixed range taken modulo n. Evidence differs from one example to the
# next (a fresh invoice number, a fresh signature), and hypothesis requires that the same
# choices always meet the same constraints when it replays and shrinks an example.


def _index(draw: DrawFn, count: int) -> int:
    return draw(st.integers(0, _SPREAD)) % max(count, 1)


def _pick(draw: DrawFn, items: Sequence[T]) -> T:
    return items[_index(draw, len(items))]


@st.composite
def string_variants(draw: DrawFn, value: str) -> str:
    """A string close to ``value`` but not equal to it: one character changed, added or
    removed, case swapped, padded, a look-alike character, empty, or arbitrary text."""
    kind = _pick(draw, ["flip", "append", "drop", "pad", "lookalike", "case", "empty", "arbitrary"])
    if not value and kind in ("flip", "drop", "lookalike", "case"):
        kind = "append"
    if kind == "flip":
        index = _index(draw, len(value))
        old = value[index]
        pool = "0123456789" if old.isdigit() else "abcdefABCDEF0123456789xyz-_."
        new = _pick(draw, [c for c in pool if c != old])
        candidate = value[:index] + new + value[index + 1 :]
    elif kind == "append":
        candidate = value + _pick(draw, ["0", "1", "a", "&", "=", " ", "%"])
    elif kind == "drop":
        index = _index(draw, len(value))
        candidate = value[:index] + value[index + 1 :]
    elif kind == "pad":
        candidate = _pick(draw, [f" {value}", f"{value} ", f"0{value}", f"{value}\n"])
    elif kind == "lookalike":
        spots = [i for i, c in enumerate(value) if c in _LOOKALIKES]
        if spots:
            i = _pick(draw, spots)
            candidate = value[:i] + _LOOKALIKES[value[i]] + value[i + 1 :]
        else:
            candidate = value + "١"
    elif kind == "case":
        candidate = value.swapcase()
    elif kind == "empty":
        candidate = ""
    else:
        candidate = draw(st.text(max_size=40))
    return candidate if candidate != value else value + "0"


def _split(raw: str) -> list[str]:
    return [token for token in raw.split("&") if token] if raw else []


def _key(token: str) -> str:
    return unquote_plus(token.split("=", 1)[0])


def _value(token: str) -> str:
    return unquote_plus(token.split("=", 1)[1]) if "=" in token else ""


def _token(key: str, value: str) -> str:
    return f"{quote(key, safe='')}={quote(value, safe='')}"


def _is_form(callback: Callback) -> bool:
    return bool(callback.body) and callback.content_type in ("", _FORM)


def _is_json(callback: Callback) -> bool:
    if not callback.body:
        return False
    if "json" in callback.content_type:
        return True
    return callback.body.lstrip()[:1] in (b"{", b"[")


def _with(callback: Callback, **changes: Any) -> Callback:
    return Callback.model_validate({**callback.model_dump(), **changes})


@st.composite
def _token_mutation(draw: DrawFn, tokens: list[str]) -> tuple[str, list[str]]:
    """Mutate an ordered list of raw ``k=v`` tokens."""
    tokens = list(tokens)
    kinds = ["add"]
    if tokens:
        kinds += ["value", "value", "signature", "drop", "duplicate", "reencode", "key"]
    if len(tokens) > 1:
        kinds.append("reorder")
    kind = _pick(draw, kinds)
    if kind == "add":
        key = draw(st.sampled_from(["amount", "status", "approved", "paid", "currency", "x"]))
        value = draw(st.sampled_from(["1", "0", "paid", "999999", "USD", ""]))
        at = _index(draw, len(tokens) + 1)
        tokens.insert(at, _token(key, value))
        return f"added field {key}={value!r} at {at}", tokens
    if kind == "reorder":
        keys = draw(st.lists(st.integers(0, _SPREAD), min_size=16, max_size=16))
        order = sorted(range(len(tokens)), key=lambda i: (keys[i % 16], i))
        if order == list(range(len(tokens))):
            order = [*order[1:], order[0]]
        return "reordered the fields", [tokens[i] for i in order]
    signed = [i for i, t in enumerate(tokens) if _SIGNATURE_NAME.search(_key(t))] or [
        i for i, t in enumerate(tokens) if _SIGNATURE_VALUE.fullmatch(_value(t))
    ]
    chosen = signed if kind == "signature" and signed else list(range(len(tokens)))
    index = _pick(draw, chosen)
    key, value = _key(tokens[index]), _value(tokens[index])
    if kind in ("value", "signature"):
        new = draw(string_variants(value))
        tokens[index] = _token(key, new)
        return f"changed {key} from {value!r} to {new!r}", tokens
    if kind == "key":
        new_key = draw(string_variants(key))
        tokens[index] = _token(new_key, value)
        return f"renamed field {key!r} to {new_key!r}", tokens
    if kind == "drop":
        del tokens[index]
        return f"removed field {key}", tokens
    if kind == "duplicate":
        new = draw(st.one_of(st.just(value), string_variants(value)))
        at = _index(draw, len(tokens) + 1)
        tokens.insert(at, _token(key, new))
        return f"repeated field {key} with {new!r} at {at}", tokens
    # reencode: the same characters, other bytes on the wire
    how = draw(st.sampled_from(["every-byte", "lower-hex", "plus-space", "raw-utf8"]))
    if how == "every-byte":
        encoded = "".join(f"%{b:02X}" for b in value.encode("utf-8"))
    elif how == "lower-hex":
        encoded = quote(value, safe="").lower()
    elif how == "plus-space":
        encoded = quote(value, safe="").replace("%20", "+") + "%20"
    else:
        encoded = value
    tokens[index] = f"{tokens[index].split('=', 1)[0]}={encoded}"
    return f"re-encoded {key} ({how})", tokens


def _json_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _json_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _json_paths(item, (*path, index))
    return found


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


@st.composite
def _json_mutation(draw: DrawFn, body: bytes) -> tuple[str, bytes]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        cut = _index(draw, len(body))
        return "truncated the body", body[:cut]
    paths = _json_paths(document)
    kinds = ["reserialize", "truncate", "duplicate-key"] + (
        ["leaf", "leaf", "drop"] if paths else []
    )
    kind = _pick(draw, kinds)
    if kind == "truncate":
        cut = _index(draw, len(body))
        return f"truncated the body at byte {cut}", body[:cut]
    if kind == "reserialize":
        spaced = draw(st.booleans())
        text = json.dumps(
            document,
            separators=(", ", ": ") if spaced else (",", ":"),
            ensure_ascii=draw(st.booleans()),
            sort_keys=draw(st.booleans()),
        )
        return "re-serialized the JSON body", text.encode("utf-8")
    if kind == "duplicate-key" and isinstance(document, dict) and document:
        key = _pick(draw, sorted(document))
        clone = json.dumps({key: "tampered"})[1:-1]
        text = body.decode("utf-8", "replace").strip()
        return f"repeated JSON key {key!r}", ("{" + clone + "," + text[1:]).encode()
    if not paths:
        return "emptied the body", b"{}"
    path = _pick(draw, paths)
    parent = _get(document, path[:-1])
    if kind == "drop":
        del parent[path[-1]]
        return f"removed {'.'.join(map(str, path))}", json.dumps(document).encode()
    old = parent[path[-1]]
    new: Any
    if isinstance(old, bool):
        new = not old
    elif isinstance(old, (int, float)):
        new = draw(st.sampled_from([old + 1, old - 1, old * 10, str(old), 0]))
    elif isinstance(old, str):
        new = draw(string_variants(old))
    else:
        new = draw(st.sampled_from([None, "tampered", 1]))
    parent[path[-1]] = new
    return f"changed {'.'.join(map(str, path))} to {new!r}", json.dumps(document).encode()


@st.composite
def callback_mutations(draw: DrawFn, genuine: Callback) -> Mutated:
    """One tampered version of ``genuine``: a field, the signature, the order, a repeated
    or missing field, another encoding, the method, the body, or a header."""
    parts: list[str] = ["method", "move"]
    if genuine.query:
        parts += ["query", "query", "query"]
    if _is_form(genuine):
        parts += ["form", "form", "form"]
    elif _is_json(genuine):
        parts += ["json", "json", "json"]
    elif genuine.body:
        parts.append("bytes")
    if genuine.headers:
        parts += ["header", "header"]
    part = _pick(draw, parts)
    if part == "query":
        label, tokens = draw(_token_mutation(_split(genuine.query)))
        return f"query: {label}", _with(genuine, query="&".join(tokens))
    if part == "form":
        text = genuine.body.decode("utf-8", "replace")
        label, tokens = draw(_token_mutation(_split(text)))
        return f"form body: {label}", _with(genuine, body="&".join(tokens).encode("utf-8"))
    if part == "json":
        label, body = draw(_json_mutation(genuine.body))
        return f"JSON body: {label}", _with(genuine, body=body)
    if part == "bytes":
        cut = _index(draw, len(genuine.body) + 1)
        body = genuine.body[:cut] + b"\xff\xfe" + genuine.body[cut:]
        return "inserted invalid UTF-8 into the body", _with(genuine, body=body)
    if part == "header":
        name = _pick(draw, sorted(genuine.headers))
        headers = dict(genuine.headers)
        if draw(st.booleans()):
            del headers[name]
            return f"removed header {name}", _with(genuine, headers=headers)
        headers[name] = draw(string_variants(headers[name]))
        return f"changed header {name}", _with(genuine, headers=headers)
    if part == "method":
        method = draw(st.sampled_from([m for m in ("GET", "POST", "PUT") if m != genuine.method]))
        return f"sent as {method}", _with(genuine, method=method)
    # move: query into a form body, or the body into the query string
    if genuine.body:
        text = genuine.body.decode("utf-8", "replace")
        return "moved the body into the query string", _with(
            genuine, query=quote(text, safe="=&"), body=b""
        )
    return "moved the query string into a form body", _with(
        genuine,
        method="POST",
        query="",
        body=genuine.query.encode("utf-8"),
        headers={**genuine.headers, "Content-Type": _FORM},
    )


@st.composite
def otp_mutations(draw: DrawFn, genuine: OtpCode) -> tuple[str, OtpCode]:
    """The customer's code or the payment reference changed; the invoice stays (it is
    the merchant's own, not something received)."""
    code = genuine.code.get_secret_value()
    if draw(st.booleans()):
        new = draw(string_variants(code))
        return f"code changed to {new!r}", genuine.model_copy(update={"code": SecretStr(new)})
    reference = draw(string_variants(genuine.reference))
    return f"reference changed to {reference!r}", genuine.model_copy(
        update={"reference": reference}
    )


def mutations_of(evidence: Callback | OtpCode) -> SearchStrategy[tuple[str, Callback | OtpCode]]:
    strategy: Callable[[Any], SearchStrategy[Any]] = (
        callback_mutations if isinstance(evidence, Callback) else otp_mutations
    )
    return strategy(evidence)
