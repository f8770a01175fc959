"""Canonical strings: whitelist selection, sorted k=v&..., and FieldSchema injectivity."""

from __future__ import annotations

import functools
import itertools
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from payhub_core import MalformedCallback
from payhub_core.signing import FieldSchema, http_build_query, select, sorted_query

# Plural's return-URL fields (see docs/plural/returns.md), as a documented schema.
PLURAL = {
    "order_id": r"[A-Za-z0-9_-]+",
    "status": r"[A-Z_]+",
    "error_code": r"[A-Z_]+",
    "error_message": None,  # free text, e.g. "Consumer Authentication required"
}
PLURAL_SCHEMA = FieldSchema(PLURAL)


def _utf16_units(text: str) -> list[int]:
    units: list[int] = []
    for char in text:
        code = ord(char)
        if code < 0x10000:
            units.append(code)
        else:
            code -= 0x10000
            units += [0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)]
    return units


def java_compare(a: str, b: str) -> int:
    """Java's String.compareTo: lexicographic over UTF-16 code units."""
    ua, ub = _utf16_units(a), _utf16_units(b)
    return (ua > ub) - (ua < ub)


java_key = functools.cmp_to_key(java_compare)


# -- sorted_query --------------------------------------------------------------------------


def test_sorted_query_sorts_keys_and_keeps_values_raw() -> None:
    fields = {
        "status": "FAILED",
        "order_id": "v1-1",
        "error_message": "Consumer Authentication required",
    }
    assert (
        sorted_query(fields)
        == "error_message=Consumer Authentication required&order_id=v1-1&status=FAILED"
    )


def test_sorted_query_leaves_out_excluded_keys() -> None:
    assert sorted_query({"b": "2", "signature": "AB", "a": "1"}, exclude={"signature"}) == "a=1&b=2"


def test_sorted_query_orders_keys_as_java_does_by_utf16_units() -> None:
    # U+FFFF sorts after U+10000 in Java (0xFFFF > 0xD800), before it by code point.
    assert sorted_query({"\uffff": "1", "\U00010000": "2"}) == "\U00010000=2&\uffff=1"
    assert sorted_query({"b": "1", "B": "2", "a": "3"}) == "B=2&a=3&b=1"


@given(st.dictionaries(st.text(), st.text(), max_size=8))
def test_sorted_query_agrees_with_a_java_treemap_model(fields: dict[str, str]) -> None:
    expected = "&".join(f"{k}={fields[k]}" for k in sorted(fields, key=java_key))
    assert sorted_query(fields) == expected


@given(st.dictionaries(st.text(), st.text(), max_size=8), st.randoms(use_true_random=False))
def test_sorted_query_is_permutation_invariant(fields: dict[str, str], random: Any) -> None:
    items = list(fields.items())
    random.shuffle(items)
    assert sorted_query(dict(items)) == sorted_query(fields)


def test_sorted_query_takes_keys_with_lone_surrogates() -> None:
    # Java sorts any String; keys from json.loads may hold lone surrogates.
    assert sorted_query({"\ud800": "1", "a": "2"}) == "a=2&\ud800=1"


# -- sorted_query is not injective on raw values -------------------------------------------


def test_sorted_query_collides_when_values_hold_ampersand_and_equals() -> None:
    assert sorted_query({"a": "1&b=2"}) == sorted_query({"a": "1", "b": "2"}) == "a=1&b=2"
    # The Plural shape of the attack: a failure message that swallows a later field.
    honest = {"error_message": "x", "order_id": "v1-1", "status": "AUTHORIZED"}
    forged = {"error_message": "x&order_id=v1-1", "status": "AUTHORIZED"}
    assert honest != forged
    assert sorted_query(honest) == sorted_query(forged)


_keys = st.text(st.characters(exclude_characters="&="), min_size=1, max_size=8)


@given(
    first=_keys,
    second=_keys,
    v1=st.text(max_size=10),
    v2=st.text(max_size=10),
    rest=st.dictionaries(
        _keys, st.text(st.characters(exclude_characters="&"), max_size=5), max_size=3
    ),
)
def test_sorted_query_collisions_exist_for_any_two_keys(
    first: str, second: str, v1: str, v2: str, rest: dict[str, str]
) -> None:
    assume(java_compare(first, second) < 0)
    # Keep the other keys after `second`, so nothing sorts between the two.
    rest = {k: v for k, v in rest.items() if java_compare(k, second) > 0}
    split = {first: v1, second: v2, **rest}
    merged = {first: f"{v1}&{second}={v2}", **rest}
    assert split != merged
    assert sorted_query(split) == sorted_query(merged)


# -- select: whitelists in received order --------------------------------------------------


def test_select_keeps_allowed_keys_in_received_order() -> None:
    pairs = [("checkout_page", "Y"), ("gateway", "tlync"), ("hashed", "AB"), ("approved", "1")]
    assert select(pairs, {"approved", "gateway"}) == [("gateway", "tlync"), ("approved", "1")]


def test_select_keeps_the_first_position_and_last_value_of_a_repeated_key() -> None:
    # PHP's $_GET for ?a=1&b=2&a=3 is ['a' => '3', 'b' => '2'].
    assert select([("a", "1"), ("b", "2"), ("a", "3")], {"a", "b"}) == [("a", "3"), ("b", "2")]


@given(
    signed=st.lists(
        st.tuples(st.sampled_from(["gateway", "approved", "amount"]), st.text()), max_size=5
    ),
    noise=st.lists(
        st.tuples(
            st.text().filter(lambda k: k not in {"gateway", "approved", "amount"}), st.text()
        ),
        max_size=5,
    ),
    positions=st.lists(st.integers(0, 10), max_size=5),
)
def test_parameters_outside_the_whitelist_never_change_the_signed_string(
    signed: list[tuple[str, str]], noise: list[tuple[str, str]], positions: list[int]
) -> None:
    allowed = {"gateway", "approved", "amount"}
    mixed = list(signed)
    for pair, position in zip(noise, itertools.cycle(positions or [0])):
        mixed.insert(min(position, len(mixed)), pair)
    assert http_build_query(select(mixed, allowed)) == http_build_query(select(signed, allowed))


# -- FieldSchema ---------------------------------------------------------------------------


def test_field_schema_refuses_two_free_text_fields() -> None:
    with pytest.raises(ValueError, match="free-text"):
        FieldSchema({"a": None, "b": None})


@pytest.mark.parametrize(
    "pattern", [r".*", r".+", r"[^ ]+", r"[a-z&]+", r"[=a-z]+", r"\W", r"[\s\S]*"]
)
def test_field_schema_refuses_patterns_accepting_ampersand_or_equals(pattern: str) -> None:
    with pytest.raises(ValueError, match="must not accept"):
        FieldSchema({"a": pattern})


@pytest.mark.parametrize("name", ["", "a&b", "a=b"])
def test_field_schema_refuses_field_names_holding_separators(name: str) -> None:
    with pytest.raises(ValueError, match="name"):
        FieldSchema({name: r"[a-z]+"})


@pytest.mark.parametrize(
    ("pattern", "value"), [(r"x[&]y", "x&y"), (r"a=b", "a=b"), (r"x(&x)*", "x&x")]
)
def test_field_schema_refuses_separators_even_when_a_sly_pattern_admits_them(
    pattern: str, value: str
) -> None:
    schema = FieldSchema({"field": pattern})
    with pytest.raises(MalformedCallback):
        schema.select([("field", value)])


def test_field_schema_selects_documented_fields_and_ignores_the_rest() -> None:
    pairs = [("signature", "AB12"), ("status", "AUTHORIZED"), ("utm", "x"), ("order_id", "v1-1")]
    assert PLURAL_SCHEMA.select(pairs) == {"status": "AUTHORIZED", "order_id": "v1-1"}
    assert PLURAL_SCHEMA.names == frozenset(PLURAL)


def test_field_schema_refuses_a_documented_field_given_twice() -> None:
    with pytest.raises(MalformedCallback, match="more than once"):
        PLURAL_SCHEMA.select([("status", "AUTHORIZED"), ("status", "FAILED")])


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("order_id", "v1 1"),
        ("order_id", ""),
        ("status", "paid"),
        ("status", "AUTHORIZED\n"),
        ("error_code", "E-1"),
    ],
)
def test_field_schema_refuses_values_outside_their_pattern(key: str, value: str) -> None:
    with pytest.raises(MalformedCallback):
        PLURAL_SCHEMA.select([(key, value)])


def test_field_schema_takes_free_text_with_separators_that_cannot_fake_a_field() -> None:
    message = "Bank & card = declined & error_code=X"  # error_code sorts before error_message
    assert PLURAL_SCHEMA.select([("error_message", message)]) == {"error_message": message}


@pytest.mark.parametrize("later", ["order_id", "status"])
def test_field_schema_refuses_free_text_that_would_swallow_a_later_field(later: str) -> None:
    with pytest.raises(MalformedCallback):
        PLURAL_SCHEMA.select([("error_message", f"x&{later}=v1"), ("order_id", "o")])


def _parses(text: str, schema_names: list[str]) -> list[dict[str, str]]:
    """Every way to read ``text`` as sorted, distinct ``name=value`` fields joined by '&'."""
    tokens = text.split("&") if text else []
    results = []
    for cuts in itertools.product([False, True], repeat=max(len(tokens) - 1, 0)):
        groups, current = [], [tokens[0]] if tokens else []
        for token, cut in zip(tokens[1:], cuts, strict=True):
            if cut:
                groups.append("&".join(current))
                current = [token]
            else:
                current.append(token)
        if current:
            groups.append("&".join(current))
        fields: dict[str, str] = {}
        ok = True
        for group in groups:
            name, sep, value = group.partition("=")
            if not sep or name not in schema_names or name in fields:
                ok = False
                break
            if fields and java_compare(list(fields)[-1], name) >= 0:
                ok = False
                break
            fields[name] = value
        if ok:
            results.append(fields)
    return results


_FRAGMENTS = st.sampled_from(
    ["&", "=", "&order_id=", "&status=", "&error_code=", "order_id=", "AB", "v1-1", " ", "é", "&&"]
)
_free_text = st.lists(_FRAGMENTS | st.text(max_size=3), max_size=6).map("".join)


@st.composite
def plural_fields(draw: st.DrawFn) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, pattern in PLURAL.items():
        if draw(st.booleans()):
            fields[name] = draw(
                _free_text if pattern is None else st.from_regex(pattern, fullmatch=True)
            )
    return fields


def _selected(fields: dict[str, str]) -> dict[str, str] | None:
    try:
        return PLURAL_SCHEMA.select(list(fields.items()))
    except MalformedCallback:
        return None


@given(plural_fields())
def test_a_canonical_string_of_selected_fields_has_exactly_one_valid_reading(
    fields: dict[str, str],
) -> None:
    selected = _selected(fields)
    assume(selected is not None)
    assert selected is not None
    text = sorted_query(selected)
    readings = [r for r in _parses(text, list(PLURAL)) if _selected(r) == r]
    assert readings == [dict(sorted(selected.items(), key=lambda kv: java_key(kv[0])))]


@given(a=plural_fields(), data=st.data())
def test_different_selected_fields_never_share_a_canonical_string(
    a: dict[str, str], data: st.DataObject
) -> None:
    # The second field set is either drawn on its own or, to give collisions a real
    # chance, another way of reading the first one's canonical string.
    readings = _parses(sorted_query(a), list(PLURAL))
    b = data.draw(st.sampled_from(readings) | plural_fields() if readings else plural_fields())
    first, second = _selected(a), _selected(b)
    assume(first is not None and second is not None and first != second)
    assert sorted_query(first or {}) != sorted_query(second or {})


@given(plural_fields(), st.integers(1, 2))
def test_moving_the_following_fields_into_the_free_text_is_refused(
    fields: dict[str, str], count: int
) -> None:
    # The forgery that keeps the signed bytes: the fields right after error_message in
    # sorted order become part of its text.
    assume(_selected(fields) is not None and "error_message" in fields)
    following = [name for name in ("order_id", "status") if name in fields][:count]
    assume(following)
    forged = {k: v for k, v in fields.items() if k not in following}
    forged["error_message"] += "".join(f"&{name}={fields[name]}" for name in following)
    assert sorted_query(forged) == sorted_query(fields)
    assert forged != fields
    assert _selected(forged) is None
