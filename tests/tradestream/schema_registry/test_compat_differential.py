"""Three compatibility checkers against answers worked out by hand from the Avro specification.

Each case is a (reader, writer) pair and whether data written with the writer can be read with the
reader, decided from the specification's "Schema Resolution" section (Avro 1.12; quoted in `rule`).
The checkers: the registry's (`compat.can_read`: Avro's checker with the module's corrections),
Apache Avro's `ReaderWriterCompatibilityChecker` as shipped, and the hand-written checker the registry
used before. Where a shipped checker is wrong the case is a strict xfail naming the reason, so a fixed
Avro release (a case that starts passing) fails the run and shows which correction can go.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import avro.schema
import pytest
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from tradestream.schema_registry.compat import can_read

from .handwritten_checker import can_read as handwritten_can_read


@dataclass(frozen=True)
class Case:
    id: str
    reader: Any
    writer: Any
    compatible: bool
    rule: str


def record(name: str, *fields: dict[str, Any], namespace: str | None = "t", **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "record", "name": name, "fields": list(fields), **extra}
    if namespace:
        schema["namespace"] = namespace
    return schema


def f(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


def enum(symbols: list[str], name: str = "Side", **extra: Any) -> dict[str, Any]:
    return {"type": "enum", "name": name, "namespace": "t", "symbols": symbols, **extra}


def fixed(size: int, name: str = "Hash", **extra: Any) -> dict[str, Any]:
    return {"type": "fixed", "name": name, "namespace": "t", "size": size, **extra}


def decimal(precision: int, scale: int) -> dict[str, Any]:
    return {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}


TICK = record("Tick", f("symbol", "string"), f("price", "double"))
NODE = record("Node", f("value", "int"), f("next", ["null", "Node"], default=None))
NODE_STRING = record("Node", f("value", "string"), f("next", ["null", "Node"], default=None))
INNER_INT = {"type": "record", "name": "Leg", "fields": [f("size", "int")]}
INNER_LONG = {"type": "record", "name": "Leg", "fields": [f("size", "long")]}
INNER_STRING = {"type": "record", "name": "Leg", "fields": [f("size", "string")]}

RECORDS = "both schemas are records with the same (unqualified) name; fields are matched by name"
DEFAULT = "reader field with a default, absent from the writer: the default is used"
NO_DEFAULT = "reader field with no default, absent from the writer: an error is signalled"
IGNORED = "writer field not present in the reader's record: its value is ignored"
PROMOTE = "int -> long, float, double; long -> float, double; float -> double; string <-> bytes"
SAME = "both schemas have the same primitive type"
ENUM = "writer symbol not in the reader's enum: the reader's default is used, otherwise an error"
READER_UNION = "reader's a union, writer's not: the first reader branch that matches is used, else an error"
WRITER_UNION = "writer's a union: every branch the writer may select must match the reader's schema"
ALIAS = ("aliases from the reader's schema rename the writer's; a type alias may be relative to the "
         "namespace of the name it is an alias for")
FIXED = "both schemas are fixed whose sizes and (unqualified) names match"
DECIMAL = "two decimal logical types match if their scales and precisions match"

CASES = [
    Case("identical", TICK, TICK, True, RECORDS),
    Case("field-added-with-default", record("Tick", f("symbol", "string"), f("price", "double"),
                                            f("size", "long", default=0)), TICK, True, DEFAULT),
    Case("field-added-without-default", record("Tick", f("symbol", "string"), f("price", "double"),
                                               f("size", "long")), TICK, False, NO_DEFAULT),
    Case("field-removed", record("Tick", f("symbol", "string")), TICK, True, IGNORED),
    Case("field-removed-forward", TICK, record("Tick", f("symbol", "string")), False, NO_DEFAULT),
    Case("fields-reordered", record("Tick", f("price", "double"), f("symbol", "string")), TICK, True, RECORDS),
    Case("field-default-does-not-excuse-a-type-change",
         record("Tick", f("symbol", "int", default=0), f("price", "double")), TICK, False, RECORDS),
    Case("int-to-long", "long", "int", True, PROMOTE),
    Case("int-to-float", "float", "int", True, PROMOTE),
    Case("int-to-double", "double", "int", True, PROMOTE),
    Case("long-to-float", "float", "long", True, PROMOTE),
    Case("long-to-double", "double", "long", True, PROMOTE),
    Case("float-to-double", "double", "float", True, PROMOTE),
    Case("long-to-int", "int", "long", False, PROMOTE),
    Case("double-to-float", "float", "double", False, PROMOTE),
    Case("float-to-long", "long", "float", False, PROMOTE),
    Case("string-to-bytes", "bytes", "string", True, PROMOTE),
    Case("bytes-to-string", "string", "bytes", True, PROMOTE),
    Case("int-to-string", "string", "int", False, SAME),
    Case("boolean-to-int", "int", "boolean", False, SAME),
    Case("null-to-string", "string", "null", False, SAME),
    Case("field-int-to-long-in-record", record("R", f("size", "long")), record("R", f("size", "int")), True,
         PROMOTE),
    Case("field-string-to-double-in-record", TICK, record("Tick", f("symbol", "string"), f("price", "string")),
         False, SAME),
    Case("enum-symbol-added", enum(["BUY", "SELL", "SHORT"]), enum(["BUY", "SELL"]), True, ENUM),
    Case("enum-symbol-removed", enum(["BUY", "SELL"]), enum(["BUY", "SELL", "SHORT"]), False, ENUM),
    Case("enum-symbol-removed-reader-default", enum(["BUY", "SELL"], default="BUY"),
         enum(["BUY", "SELL", "SHORT"]), True, ENUM),
    Case("enum-symbols-reordered", enum(["SELL", "BUY"]), enum(["BUY", "SELL"]), True, ENUM),
    Case("enum-renamed", enum(["BUY"], name="Direction"), enum(["BUY"]), False,
         "both schemas are enums whose (unqualified) names match"),
    Case("enum-field-absent-enum-default-is-not-a-field-default",
         record("R", f("side", enum(["BUY"], default="BUY"))), record("R"), False, NO_DEFAULT),
    Case("string-to-enum", enum(["BUY"]), "string", False, SAME),
    Case("union-widened", ["null", "int", "string"], ["null", "int"], True, WRITER_UNION),
    Case("union-narrowed", ["null", "int"], ["null", "int", "string"], False, WRITER_UNION),
    Case("union-branch-promoted", ["null", "long"], ["null", "int"], True, WRITER_UNION),
    Case("union-branch-demoted", ["null", "int"], ["null", "long"], False, WRITER_UNION),
    Case("value-into-optional", ["null", "string"], "string", True, READER_UNION),
    Case("value-into-union-by-promotion", ["null", "double"], "int", True, READER_UNION),
    Case("optional-into-value", "string", ["null", "string"], False, WRITER_UNION),
    Case("union-into-value-all-branches-promote", "double", ["int", "long", "float"], True, WRITER_UNION),
    Case("record-into-union-without-its-name", ["null", record("Other", f("symbol", "string"))], TICK, False,
         READER_UNION),
    Case("nested-record-field-promoted", record("Order", f("leg", INNER_LONG)), record("Order", f("leg", INNER_INT)),
         True, RECORDS),
    Case("nested-record-field-changed", record("Order", f("leg", INNER_STRING)),
         record("Order", f("leg", INNER_INT)), False, RECORDS),
    Case("nested-record-field-added-without-default",
         record("Order", f("leg", {**INNER_INT, "fields": [f("size", "int"), f("venue", "string")]})),
         record("Order", f("leg", INNER_INT)), False, NO_DEFAULT),
    Case("named-reference-changed", record("Order", f("entry", INNER_STRING), f("exit", "Leg")),
         record("Order", f("entry", INNER_INT), f("exit", "Leg")), False, RECORDS),
    Case("named-reference-promoted", record("Order", f("entry", INNER_LONG), f("exit", "Leg")),
         record("Order", f("entry", INNER_INT), f("exit", "Leg")), True, RECORDS),
    Case("recursive-identical", NODE, NODE, True, RECORDS),
    Case("recursive-changed", NODE_STRING, NODE, False, RECORDS),
    Case("array-items-promoted", {"type": "array", "items": "long"}, {"type": "array", "items": "int"}, True,
         "both schemas are arrays whose item types match"),
    Case("array-items-demoted", {"type": "array", "items": "int"}, {"type": "array", "items": "long"}, False,
         "both schemas are arrays whose item types match"),
    Case("array-of-records-field-added-with-default",
         {"type": "array", "items": {**INNER_INT, "fields": [f("size", "int"), f("venue", "string", default="")]}},
         {"type": "array", "items": INNER_INT}, True, DEFAULT),
    Case("map-values-promoted", {"type": "map", "values": "double"}, {"type": "map", "values": "float"}, True,
         "both schemas are maps whose value types match"),
    Case("map-values-demoted", {"type": "map", "values": "int"}, {"type": "map", "values": "long"}, False,
         "both schemas are maps whose value types match"),
    Case("array-to-map", {"type": "map", "values": "int"}, {"type": "array", "items": "int"}, False,
         "arrays match arrays and maps match maps"),
    Case("record-renamed", record("Other", f("symbol", "string"), f("price", "double")), TICK, False, RECORDS),
    Case("record-other-namespace", record("Tick", f("symbol", "string"), f("price", "double"), namespace="u"),
         TICK, True, RECORDS),
    Case("record-alias-qualified", record("Other", f("symbol", "string"), f("price", "double"),
                                          aliases=["t.Tick"]), TICK, True, ALIAS),
    Case("record-alias-relative", record("Other", f("symbol", "string"), f("price", "double"), aliases=["Tick"]),
         TICK, True, ALIAS),
    Case("record-alias-other-namespace", record("Other", f("symbol", "string"), f("price", "double"),
                                                aliases=["u.Tick"]), TICK, False, ALIAS),
    Case("record-alias-on-the-writer-only", TICK, record("Other", f("symbol", "string"), f("price", "double"),
                                                         aliases=["Tick"]), False, ALIAS),
    Case("enum-alias-relative", enum(["BUY"], name="Direction", aliases=["Side"]), enum(["BUY"]), True, ALIAS),
    Case("fixed-alias-relative", fixed(16, name="Digest", aliases=["Hash"]), fixed(16), True, ALIAS),
    Case("field-renamed-with-alias", record("Tick", f("symbol", "string"), f("last_price", "double",
                                                                             aliases=["price"])), TICK, True, ALIAS),
    Case("field-renamed-alias-on-the-writer-only", TICK,
         record("Tick", f("symbol", "string"), f("last_price", "double", aliases=["price"])), False, ALIAS),
    Case("fixed-same-size", fixed(16), fixed(16), True, FIXED),
    Case("fixed-size-changed", fixed(16), fixed(32), False, FIXED),
    Case("fixed-renamed", fixed(16, name="Digest"), fixed(16), False, FIXED),
    Case("fixed-to-bytes", "bytes", fixed(16), False, SAME),
    Case("decimal-identical", decimal(24, 8), decimal(24, 8), True, DECIMAL),
    Case("decimal-scale-changed", decimal(24, 2), decimal(24, 8), False, DECIMAL),
    Case("decimal-precision-changed", decimal(30, 8), decimal(24, 8), False, DECIMAL),
    Case("decimal-in-record-scale-changed", record("Tick", f("price", decimal(24, 2))),
         record("Tick", f("price", decimal(24, 8))), False, DECIMAL),
    Case("decimal-read-as-plain-bytes", "bytes", decimal(24, 8), True,
         "only two decimals are compared on precision and scale; otherwise the underlying types"),
    Case("timestamp-read-as-long", "long", {"type": "long", "logicalType": "timestamp-micros"}, True, SAME),
    Case("error-records-identical", {"type": "error", "name": "Rejected", "fields": [f("reason", "string")]},
         {"type": "error", "name": "Rejected", "fields": [f("reason", "string")]}, True,
         "an error is a record (Protocol Declaration)"),
]

AVRO_WRONG = {
    "record-alias-relative": "compares the writer's full name with the alias text, not its full name",
    "enum-alias-relative": "compares the writer's full name with the alias text, not its full name",
    "fixed-alias-relative": "compares the writer's full name with the alias text, not its full name",
    "decimal-scale-changed": "ignores decimal precision and scale",
    "decimal-precision-changed": "ignores decimal precision and scale",
    "decimal-in-record-scale-changed": "ignores decimal precision and scale",
    "error-records-identical": "raises AvroRuntimeException('Unknown schema type: error')",
}
HANDWRITTEN_WRONG = {
    "decimal-scale-changed": "ignores decimal precision and scale",
    "decimal-precision-changed": "ignores decimal precision and scale",
    "decimal-in-record-scale-changed": "ignores decimal precision and scale",
}


def cases(wrong: dict[str, str]) -> list[Any]:
    return [pytest.param(case, id=case.id, marks=[pytest.mark.xfail(strict=True, reason=wrong[case.id])]
                         if case.id in wrong else []) for case in CASES]


def avro_can_read(reader: Any, writer: Any) -> bool:
    result = ReaderWriterCompatibilityChecker().get_compatibility(avro.schema.parse(json.dumps(reader)),
                                                                  avro.schema.parse(json.dumps(writer)))
    return result.compatibility is SchemaCompatibilityType.compatible


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert set(AVRO_WRONG) | set(HANDWRITTEN_WRONG) <= set(ids)


@pytest.mark.parametrize("case", cases({}))
def test_the_registry_follows_the_specification(case: Case) -> None:
    errors = can_read(case.reader, case.writer)
    assert (errors == []) is case.compatible, (case.rule, errors)
    assert all(isinstance(e, str) and e for e in errors)


@pytest.mark.parametrize("case", cases(AVRO_WRONG))
def test_avro_checker_against_the_specification(case: Case) -> None:
    assert avro_can_read(case.reader, case.writer) is case.compatible, case.rule


@pytest.mark.parametrize("case", cases(HANDWRITTEN_WRONG))
def test_handwritten_checker_against_the_specification(case: Case) -> None:
    assert (handwritten_can_read(case.reader, case.writer) == []) is case.compatible, case.rule
