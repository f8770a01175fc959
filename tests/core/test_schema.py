"""JSON Schema export of the public models (json_schemas()).

The venv has no ``jsonschema`` package, so the schemas are checked here by a small
validator for the keywords pydantic emits (it refuses any keyword it does not know, so a
schema cannot pass by using something unchecked). When ``jsonschema`` is installed, the
Draft 2020-12 meta-schema and validator check them too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from pydantic import BaseModel

from payhub_core import (
    Callback,
    Capabilities,
    Card,
    Checkout,
    Customer,
    Invoice,
    Money,
    Netbanking,
    OtpChallenge,
    OtpCode,
    PaymentResult,
    PaymentStatus,
    Redirect,
    Upi,
    _models,
    json_schemas,
)
from payhub_core.testing.strategies import callbacks, invoices

Schema = dict[str, Any]
SCHEMAS = json_schemas()

ANNOTATIONS = {"title", "description", "default", "format", "writeOnly", "discriminator", "$defs"}
ASSERTIONS = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "anyOf",
    "oneOf",
    "$ref",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "uniqueItems",
}
JSON_TYPES = {"object", "array", "string", "integer", "number", "boolean", "null"}


class Invalid(Exception):
    pass


def _is_type(value: Any, name: str) -> bool:
    return {
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "null": value is None,
    }[name]


def validate(instance: Any, schema: Schema, root: Schema, path: str = "$") -> None:
    """Raise Invalid when ``instance`` does not satisfy ``schema`` (a JSON Schema subset)."""
    unknown = set(schema) - ANNOTATIONS - ASSERTIONS
    if unknown:
        raise AssertionError(f"{path}: keywords this checker does not know: {unknown}")
    if "$ref" in schema:
        validate(instance, _resolve(schema["$ref"], root), root, path)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(instance, t) for t in types):
            raise Invalid(f"{path}: not of type {types}")
    if "const" in schema and instance != schema["const"]:
        raise Invalid(f"{path}: not the constant {schema['const']!r}")
    if "enum" in schema and instance not in schema["enum"]:
        raise Invalid(f"{path}: not one of {schema['enum']}")
    if isinstance(instance, str):
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            raise Invalid(f"{path}: does not match {schema['pattern']}")
        if len(instance) < schema.get("minLength", 0):
            raise Invalid(f"{path}: too short")
        if "maxLength" in schema and len(instance) > schema["maxLength"]:
            raise Invalid(f"{path}: too long")
    if _is_type(instance, "number"):
        if "minimum" in schema and instance < schema["minimum"]:
            raise Invalid(f"{path}: below the minimum")
        if "maximum" in schema and instance > schema["maximum"]:
            raise Invalid(f"{path}: above the maximum")
    if isinstance(instance, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in instance:
                raise Invalid(f"{path}: {name} is required")
        for name, value in instance.items():
            if name in properties:
                validate(value, properties[name], root, f"{path}.{name}")
            elif schema.get("additionalProperties") is False:
                raise Invalid(f"{path}: {name} is not allowed")
            elif isinstance(schema.get("additionalProperties"), dict):
                validate(value, schema["additionalProperties"], root, f"{path}.{name}")
    if isinstance(instance, list):
        if "items" in schema:
            for index, item in enumerate(instance):
                validate(item, schema["items"], root, f"{path}[{index}]")
        if schema.get("uniqueItems") and len(
            {json.dumps(i, sort_keys=True) for i in instance}
        ) != len(instance):
            raise Invalid(f"{path}: items are not unique")
    if "anyOf" in schema and not any(_valid(instance, s, root) for s in schema["anyOf"]):
        raise Invalid(f"{path}: matches none of anyOf")
    if "oneOf" in schema and sum(_valid(instance, s, root) for s in schema["oneOf"]) != 1:
        raise Invalid(f"{path}: does not match exactly one of oneOf")


def _valid(instance: Any, schema: Schema, root: Schema) -> bool:
    try:
        validate(instance, schema, root)
    except Invalid:
        return False
    return True


def _resolve(ref: str, root: Schema) -> Schema:
    assert ref.startswith("#/$defs/"), ref
    target: Schema = root["$defs"][ref.removeprefix("#/$defs/")]
    return target


def _subschemas(schema: Schema) -> list[Schema]:
    found = [schema]
    for key in ("properties", "$defs"):
        for child in schema.get(key, {}).values():
            found += _subschemas(child)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += _subschemas(schema[key])
    for key in ("anyOf", "oneOf"):
        for child in schema.get(key, []):
            found += _subschemas(child)
    return found


# -- which models -------------------------------------------------------------------------


def test_json_schemas_cover_every_public_model() -> None:
    public = {
        name
        for name in _models.__all__
        if isinstance(getattr(_models, name), type)
        and issubclass(getattr(_models, name), BaseModel)
    }
    assert set(json_schemas()) == public
    assert {
        "Invoice",
        "Customer",
        "Checkout",
        "Redirect",
        "OtpChallenge",
        "Callback",
        "OtpCode",
        "PaymentResult",
        "Capabilities",
        "Card",
        "Upi",
        "Netbanking",
    } <= public


def test_json_schemas_are_json() -> None:
    schemas = json_schemas()
    assert json.loads(json.dumps(schemas)) == schemas


# -- structure ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_each_schema_is_a_well_formed_object_schema(name: str) -> None:
    schema = SCHEMAS[name]
    assert schema["type"] == "object"
    assert schema["title"] == name
    assert schema["additionalProperties"] is False  # extra="forbid"
    assert set(schema.get("required", [])) <= set(schema["properties"])
    for sub in _subschemas(schema):
        assert not set(sub) - ANNOTATIONS - ASSERTIONS, set(sub) - ANNOTATIONS - ASSERTIONS
        types = sub.get("type", [])
        assert set(types if isinstance(types, list) else [types]) <= JSON_TYPES
        if "pattern" in sub:
            re.compile(sub["pattern"])
        if "$ref" in sub:
            _resolve(sub["$ref"], schema)
        if "required" in sub:
            assert set(sub["required"]) <= set(sub.get("properties", {}))
        if "default" in sub:
            validate(sub["default"], {k: v for k, v in sub.items() if k != "default"}, schema)
        for key in ("discriminator",):
            if key in sub:
                for target in sub[key]["mapping"].values():
                    _resolve(target, schema)


def test_money_schema_describes_the_string_amount() -> None:
    money = SCHEMAS["Invoice"]["properties"]["amount"]
    assert money["properties"]["amount"]["type"] == "string"
    assert money["required"] == ["amount", "currency"]


def test_secrets_are_marked_write_only() -> None:
    card = SCHEMAS["Card"]
    assert card["properties"]["number"]["writeOnly"] is True
    assert card["properties"]["cvv"]["writeOnly"] is True


# -- samples validate ---------------------------------------------------------------------

_INVOICE = Invoice(
    number="INV-1001",
    amount=Money("25.50", "LYD"),
    return_url="https://shop.example/return",
    callback_url="https://shop.example/callback",
    customer=Customer(
        mobile="0912345678", email="a@shop.example", ip="203.0.113.5", birth_year=1990
    ),
    lang="ar",
    description="two coffees",
    metadata={"cart": "42"},
    capture="manual",
    payment_method=Card(number="4111111111111111", cvv="123", expiry_month=1, expiry_year=2030),
)

SAMPLES: list[BaseModel] = [
    _INVOICE,
    Invoice(number="1", amount=Money("1", "JPY"), payment_method="mobicash"),
    Invoice(number="2", amount=Money("0.0001", "CLF"), payment_method=Upi(vpa="a@b")),
    Invoice(number="3", amount=Money("1", "KWD"), payment_method=Netbanking(bank_code="HDFC")),
    Customer(),
    Checkout(
        gateway="cards",
        reference="r",
        action=Redirect(url="https://pay.example/x"),
        raw={"a": [1, "b"]},
    ),
    Checkout(
        reference="r",
        action=OtpChallenge(reference="o", message="sent"),
        status=PaymentStatus.AUTHORIZED,
    ),
    Redirect(url="https://pay.example/x"),
    OtpChallenge(reference="o"),
    Callback(method="POST", query="a=1", headers={"X": "y"}, body=b"\xff\x00binary"),
    OtpCode(reference="r", code="123456", invoice=_INVOICE),
    PaymentResult(
        gateway="cards",
        status="paid",
        invoice_number="INV-1001",
        amount=Money("25.5", "LYD"),
        reference="r",
        transaction_id="t",
        raw={"x": None},
        event_id="e",
        event_type="ORDER_PROCESSED",
    ),
    PaymentResult(status="failed", reference="r"),
    Capabilities(
        currencies={"LYD", "USD"},
        operations={"initiate", "verify"},
        flows={"redirect"},
        amount_decimals=2,
        min_amount=(Money("1", "LYD"),),
        max_amount=(Money("5000", "LYD"),),
    ),
    Card(
        number="4111111111111111", cvv="123", expiry_month=12, expiry_year=2030, holder_name="A B"
    ),
    Upi(mode="intent"),
    Netbanking(bank_code="SBIN"),
]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda m: type(m).__name__)
def test_a_json_dump_of_each_model_validates_against_its_schema(sample: BaseModel) -> None:
    schema = SCHEMAS[type(sample).__name__]
    validate(sample.model_dump(mode="json"), schema, schema)


def test_every_public_model_has_a_sample() -> None:
    assert {type(sample).__name__ for sample in SAMPLES} == set(SCHEMAS)


@given(invoices())
def test_any_generated_invoice_validates_against_the_schema(invoice: Invoice) -> None:
    schema = SCHEMAS["Invoice"]
    validate(invoice.model_dump(mode="json"), schema, schema)


@given(callbacks())
def test_any_generated_callback_validates_against_the_schema(callback: Callback) -> None:
    schema = SCHEMAS["Callback"]
    validate(json.loads(callback.model_dump_json()), schema, schema)


def _dumped_invoice() -> dict[str, Any]:
    data: dict[str, Any] = _INVOICE.model_dump(mode="json")
    return data


MUTATIONS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("float-amount", lambda d: d["amount"].__setitem__("amount", 25.5)),
    ("exponent-amount", lambda d: d["amount"].__setitem__("amount", "1e3")),
    ("lower-case-currency-code", lambda d: d["amount"].__setitem__("currency", "lyd")),
    ("missing-number", lambda d: d.pop("number")),
    ("extra-field", lambda d: d.__setitem__("colour", "red")),
    ("bad-capture", lambda d: d.__setitem__("capture", "later")),
    ("long-number", lambda d: d.__setitem__("number", "x" * 101)),
    ("bad-kind", lambda d: d["payment_method"].__setitem__("kind", "cash")),
    ("bad-month", lambda d: d["payment_method"].__setitem__("expiry_month", 13)),
    ("metadata-not-text", lambda d: d["metadata"].__setitem__("cart", 42)),
]


@pytest.mark.parametrize(("name", "mutate"), MUTATIONS, ids=[name for name, _ in MUTATIONS])
def test_the_schema_rejects_what_the_model_rejects(
    name: str, mutate: Callable[[dict[str, Any]], None]
) -> None:
    schema = SCHEMAS["Invoice"]
    data = _dumped_invoice()
    validate(data, schema, schema)
    mutate(data)
    with pytest.raises(Invalid):
        validate(data, schema, schema)


def test_the_schema_rejects_an_unknown_payment_status() -> None:
    schema = SCHEMAS["PaymentResult"]
    data = PaymentResult(status="paid", reference="r").model_dump(mode="json")
    data["status"] = "sort-of-paid"
    with pytest.raises(Invalid):
        validate(data, schema, schema)


# -- with the jsonschema package, when it is installed ------------------------------------


def test_jsonschema_accepts_each_schema_and_sample() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    for sample in SAMPLES:
        schema = SCHEMAS[type(sample).__name__]
        jsonschema.Draft202012Validator.check_schema(schema)
        jsonschema.Draft202012Validator(schema).validate(sample.model_dump(mode="json"))
