"""Avro schema-resolution compatibility, case by case (expectations from the Avro specification)."""

from __future__ import annotations

import pytest

from tradestream.schema_registry.compat import SchemaParseError, can_read, check_level


def record(*fields: dict, name: str = "Tick", **extra: object) -> dict:
    return {"type": "record", "name": name, "namespace": "t", "fields": list(fields), **extra}


def f(name: str, type_: object, **extra: object) -> dict:
    return {"name": name, "type": type_, **extra}


V1 = record(f("symbol", "string"), f("price", "double"))


def test_identical_schemas_are_compatible() -> None:
    assert can_read(V1, V1) == []


def test_added_field_without_default_breaks_backward() -> None:
    v2 = record(f("symbol", "string"), f("price", "double"), f("size", "long"))
    errors = check_level("BACKWARD", v2, [V1])
    assert len(errors) == 1 and "size" in errors[0] and "no default" in errors[0]


def test_added_field_with_default_is_backward_and_forward_compatible() -> None:
    v2 = record(f("symbol", "string"), f("price", "double"), f("size", "long", default=0))
    assert check_level("FULL", v2, [V1]) == []


def test_removed_field_is_backward_but_not_forward_compatible() -> None:
    v2 = record(f("symbol", "string"))
    assert check_level("BACKWARD", v2, [V1]) == []
    assert check_level("FORWARD", v2, [V1]) != []


def test_type_change_string_to_int_is_refused() -> None:
    v2 = record(f("symbol", "int"), f("price", "double"))
    assert "cannot be read as int" in check_level("BACKWARD", v2, [V1])[0]


@pytest.mark.parametrize(("writer", "reader", "ok"), [
    ("int", "long", True), ("int", "float", True), ("int", "double", True), ("long", "double", True),
    ("float", "double", True), ("string", "bytes", True), ("bytes", "string", True),
    ("long", "int", False), ("double", "float", False), ("boolean", "int", False), ("null", "string", False),
])
def test_primitive_promotions(writer: str, reader: str, ok: bool) -> None:
    assert (can_read(reader, writer) == []) is ok


def test_unions() -> None:
    assert can_read(["null", "string"], "string") == []
    assert can_read("string", ["null", "string"]) != []  # the null branch cannot be read as string
    assert can_read(["null", "long"], ["null", "int"]) == []  # every writer branch readable (int -> long)
    assert can_read(["null", "int"], ["null", "long"]) != []


def test_enums() -> None:
    small = {"type": "enum", "name": "Side", "symbols": ["BUY", "SELL"]}
    large = {"type": "enum", "name": "Side", "symbols": ["BUY", "SELL", "SHORT"]}
    with_default = {**small, "default": "BUY"}
    assert can_read(large, small) == []
    assert "SHORT" in can_read(small, large)[0]
    assert can_read(with_default, large) == []


def test_arrays_maps_and_fixed() -> None:
    assert can_read({"type": "array", "items": "long"}, {"type": "array", "items": "int"}) == []
    assert can_read({"type": "map", "values": "int"}, {"type": "map", "values": "long"}) != []
    assert can_read({"type": "fixed", "name": "F", "size": 4}, {"type": "fixed", "name": "F", "size": 8}) != []


def test_record_names_must_match_unless_aliased() -> None:
    other = record(f("symbol", "string"), f("price", "double"), name="Other")
    assert can_read(other, V1) != []
    aliased = record(f("symbol", "string"), f("price", "double"), name="Other", aliases=["Tick"])
    assert can_read(aliased, V1) == []


def test_renamed_field_with_alias_reads_old_data() -> None:
    v2 = record(f("symbol", "string"), f("last_price", "double", aliases=["price"]))
    assert can_read(v2, V1) == []


def test_recursive_schemas_terminate() -> None:
    node = {"type": "record", "name": "Node", "fields": [
        {"name": "value", "type": "int"},
        {"name": "next", "type": ["null", "Node"], "default": None}]}
    assert can_read(node, node) == []


def test_transitive_checks_every_earlier_version() -> None:
    v2 = record(f("symbol", "string"))                            # dropped price
    v3 = record(f("symbol", "string"), f("price", "string", default=""))  # price back as string
    assert check_level("BACKWARD", v3, [V1, v2]) == []            # only v2 is checked
    assert check_level("BACKWARD_TRANSITIVE", v3, [V1, v2]) != []  # v1's double price is not a string


def test_none_accepts_anything() -> None:
    assert check_level("NONE", "int", ["string"]) == []


def test_invalid_schemas_are_reported() -> None:
    with pytest.raises(SchemaParseError):
        can_read({"type": "record", "name": "X"}, V1)
    with pytest.raises(SchemaParseError):
        can_read("Undefined", V1)


def test_messages_name_the_path_to_the_field() -> None:
    leg = {"type": "record", "name": "Leg", "fields": [f("size", "int")]}
    writer = record(f("legs", {"type": "array", "items": leg}))
    changed = {**leg, "fields": [f("size", "string"), f("venue", "string")]}
    reader = record(f("legs", {"type": "array", "items": changed}))
    assert can_read(reader, writer) == ["legs[].size: writer type int cannot be read as string",
                                        "legs[].venue: reader field missing from writer and has no default"]


def test_a_relative_type_alias_takes_the_namespace_of_its_type() -> None:
    renamed = record(f("symbol", "string"), f("price", "double"), name="Trade", aliases=["Tick"])  # t.Tick
    assert can_read(renamed, V1) == []
    elsewhere = record(f("symbol", "string"), f("price", "double"), name="Trade", aliases=["u.Tick"])
    assert can_read(elsewhere, V1) == ["reader record t.Trade does not match writer t.Tick"]


def test_decimals_match_only_with_the_same_precision_and_scale() -> None:
    def price(precision: int, scale: int) -> dict:
        return record(f("price", {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}))
    assert can_read(price(24, 8), price(24, 8)) == []
    assert can_read(price(24, 2), price(24, 8)) != []
    assert can_read(price(30, 8), price(24, 8)) != []


def test_error_records_are_checked_as_records() -> None:
    rejected = {"type": "error", "name": "Rejected", "fields": [f("reason", "string")]}
    assert can_read(rejected, rejected) == []
    assert can_read({**rejected, "fields": [f("reason", "string"), f("code", "int")]}, rejected) != []


@pytest.mark.parametrize("wrapped", [{"type": {"type": "int"}}, {"type": ["int", "null"]}, {"type": [{"type": "long"}]}])
def test_a_wrapped_type_normalises_like_the_type_it_wraps(wrapped: dict) -> None:
    """A dict or list under "type" used to reach a set lookup first (TypeError: unhashable type)."""
    from tradestream.schema_registry.compat import normalize

    assert normalize(wrapped) == normalize(wrapped["type"])
