"""Avro schema compatibility: Apache Avro's `ReaderWriterCompatibilityChecker`, with three measured corrections.

`can_read(reader, writer)` answers whether data written with `writer` can be read with `reader`,
returning the list of reasons it cannot (empty when it can). Compatibility levels build on it:
BACKWARD = the new schema reads data written with the previous one(s); FORWARD = the previous
one(s) read data written with the new; FULL = both; *_TRANSITIVE checks every earlier version
instead of only the latest.

The verdict is Avro's (`avro.compatibility`, the Python port of Java's `SchemaCompatibility`).
The differential tests (tests/tradestream/schema_registry/test_compat_differential.py) run it, and
the hand-written checker this module used before, on schema pairs whose answers were worked out by
hand from the specification's "Schema Resolution" section. With avro 1.12.2 Avro's checker was
wrong in three places where the specification is explicit, so this module goes around it there:

- **Relative aliases of named types.** The specification (Names > Aliases): "A type alias may be
  specified either as a fully namespace-qualified, or relative to the namespace of the name it is
  an alias for." Avro compares the writer's full name with the reader's alias text as written, so
  a record `t.Other` with alias `Tick` did not read data written as `t.Tick`. `_prepare` rewrites
  each relative alias into its full name before Avro parses the schema; the meaning is unchanged.
- **`error` records.** Avro parses `{"type": "error", ...}` into a record schema, then its checker
  raises `AvroRuntimeException("Unknown schema type: error")`. An error is a record (specification,
  Protocol Declaration), so `_prepare` checks it as one.
- **Decimals.** The specification (Logical Types > Decimal): "For the purposes of schema
  resolution, two schemas that are decimal logical types match if their scales and precisions
  match." Avro compares only the underlying bytes/fixed, so decimal(24,8) -> decimal(24,2) passed;
  our old checker missed it too. `_Checker` adds the rule: a price whose scale changes would be
  decoded off by powers of ten. (Confluent's registry, which docker-compose runs, does not apply
  this rule; this registry refuses such a change.)

`_Checker` also rewrites Avro's messages: its result keeps them in unordered sets, apart from the
locations they belong to, and a missing field is reported as its bare name. Each frame of the
traversal (one reader/writer pair) is described from the two schemas and a path of field names
(`ticks[].price`), e.g. "price: writer type string cannot be read as double".

Parsing: `normalize` is the structural check (kept lenient: it is what the registry applies to
schemas already stored in its topic); `parse` adds Avro's own parser, which also checks names,
enum symbols and unions, and is what new schemas must pass before they are registered.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import avro.errors
import avro.name
import avro.schema
from avro.compatibility import (
    ReaderWriterCompatibilityChecker,
    SchemaCompatibilityResult,
    SchemaCompatibilityType,
    SchemaIncompatibilityType,
    lookup_writer_field,
    merge,
)

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
LEVELS = ("NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE")
NAMED = ("record", "error", "enum", "fixed")


class SchemaParseError(ValueError):
    """The text is not a valid Avro schema: fix the schema (the message names what is wrong)."""


class _Names:
    """Named types (records, enums, fixed) of one schema, by full name."""

    def __init__(self) -> None:
        self.types: dict[str, dict[str, Any]] = {}


def _fullname(name: str, namespace: str | None) -> str:
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def _aliases(schema: dict[str, Any], owner: str) -> list[str]:
    aliases = schema.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise SchemaParseError(f"{owner}: aliases must be a list of strings")
    return aliases


def normalize(schema: Any, names: _Names | None = None, namespace: str | None = None) -> Any:
    """Resolve a parsed JSON schema into nodes: primitives as str, named types registered in `names`.

    Raises `SchemaParseError` when the structure is not a schema (missing name, fields, symbols, size,
    items, values; an unknown type name)."""
    names = names if names is not None else _Names()
    if isinstance(schema, str):
        return schema if schema in PRIMITIVES else _reference(schema, names, namespace)
    if isinstance(schema, list):
        return _union(schema, names, namespace)
    if not isinstance(schema, dict) or "type" not in schema:
        raise SchemaParseError(f"not an Avro schema: {schema!r}")
    kind = schema["type"]
    if isinstance(kind, (dict, list)):  # a wrapped type ({"type": {"type": "int"}}); before the set lookups,
        return normalize(kind, names, namespace)  # which a dict or list cannot take part in
    if kind in PRIMITIVES:
        return kind
    if kind in NAMED:
        return _named(kind, schema, names, namespace)
    if kind in ("array", "map"):
        return _container(kind, schema, names, namespace)
    if not isinstance(kind, str):
        raise SchemaParseError(f"not an Avro type: {kind!r}")
    return _reference(kind, names, namespace)


def _reference(name: str, names: _Names, namespace: str | None) -> dict[str, str]:
    """A reference to the named type `name` already defined (by full name first, then as written)."""
    full = _fullname(name, namespace)
    if full in names.types:
        return {"ref": full}
    if name in names.types:
        return {"ref": name}
    raise SchemaParseError(f"unknown type {name!r}")


def _union(branches: list[Any], names: _Names, namespace: str | None) -> dict[str, Any]:
    if not branches:
        raise SchemaParseError("a union needs at least one branch")
    return {"type": "union", "branches": [normalize(b, names, namespace) for b in branches]}


def _container(kind: str, schema: dict[str, Any], names: _Names, namespace: str | None) -> dict[str, Any]:
    """An array (of `items`) or a map (of `values`)."""
    part, article = ("items", "an") if kind == "array" else ("values", "a")
    if part not in schema:
        raise SchemaParseError(f"{article} {kind} needs {part}")
    return {"type": kind, part: normalize(schema[part], names, namespace)}


def _named(kind: str, schema: dict[str, Any], names: _Names, namespace: str | None) -> dict[str, str]:
    """Register a record, error, enum or fixed in `names` under its full name; returns a reference to it."""
    if not isinstance(schema.get("name"), str) or not schema["name"]:
        raise SchemaParseError(f"a {kind} needs a name")
    full = _fullname(schema["name"], schema.get("namespace", namespace))
    own_namespace = full.rsplit(".", 1)[0] if "." in full else None
    aliases = {_fullname(a, own_namespace) for a in _aliases(schema, full)}
    node: dict[str, Any] = {"type": kind, "name": full, "aliases": aliases}
    names.types[full] = node
    if kind in ("record", "error"):
        _add_fields(node, schema, names, own_namespace)
    elif kind == "enum":
        node.update(_enum(schema, full))
    else:
        node["size"] = _fixed_size(schema, full)
    return {"ref": full}


def _add_fields(node: dict[str, Any], schema: dict[str, Any], names: _Names, namespace: str | None) -> None:
    """Resolve the fields of the record `node` one by one, each with its aliases, its type and whether
    it has a default. (The record is registered first, so a field's type may refer to it.)"""
    full = node["name"]
    if not isinstance(schema.get("fields"), list):
        raise SchemaParseError(f"record {full} needs a fields list")
    node["fields"] = []
    for field_ in schema["fields"]:
        if not isinstance(field_, dict) or not isinstance(field_.get("name"), str) or "type" not in field_:
            raise SchemaParseError(f"record {full} has a field without name or type")
        node["fields"].append({
            "name": field_["name"],
            "aliases": set(_aliases(field_, f"{full}.{field_['name']}")),
            "type": normalize(field_["type"], names, namespace),
            "has_default": "default" in field_,
        })


def _enum(schema: dict[str, Any], full: str) -> dict[str, Any]:
    symbols = schema.get("symbols")
    if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
        raise SchemaParseError(f"enum {full} needs a symbols list")
    return {"symbols": list(symbols), "has_default": "default" in schema}


def _fixed_size(schema: dict[str, Any], full: str) -> int:
    if not isinstance(schema.get("size"), int):
        raise SchemaParseError(f"fixed {full} needs an integer size")
    return schema["size"]


def _prepare(schema: Any, namespace: str | None = None) -> Any:
    """The same schema in the form Avro's checker resolves per the specification (see module docstring):
    type aliases fully qualified, `error` as `record`, `{"type": {...}}` wrappers unwrapped."""
    if isinstance(schema, list):
        return [_prepare(branch, namespace) for branch in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if isinstance(kind, (dict, list)):
        return _prepare(kind, namespace)
    prepared = dict(schema)
    if kind in NAMED:
        full = _fullname(schema["name"], schema.get("namespace", namespace))
        own_namespace = full.rsplit(".", 1)[0] if "." in full else None
        if kind == "error":
            prepared["type"] = "record"
        if "aliases" in schema:
            prepared["aliases"] = [_fullname(alias, own_namespace) for alias in schema["aliases"]]
        if "fields" in schema:
            prepared["fields"] = [{**f, "type": _prepare(f["type"], own_namespace)} for f in schema["fields"]]
    elif kind == "array":
        prepared["items"] = _prepare(schema["items"], namespace)
    elif kind == "map":
        prepared["values"] = _prepare(schema["values"], namespace)
    return prepared


def parse(schema: Any, *, strict: bool = True) -> avro.schema.Schema:
    """The parsed JSON `schema` as Avro's schema object; `SchemaParseError` if it is not valid.

    `strict` also applies the specification's rules on names and enum symbols (new schemas must pass
    them); the registry checks the compatibility of versions it already stores without them."""
    normalize(schema)
    try:
        return avro.schema.make_avsc_object(_prepare(schema), avro.name.Names(validate_names=strict),
                                            validate_enum_symbols=strict, validate_names=strict)
    except avro.errors.AvroException as exc:
        raise SchemaParseError(str(exc)) from None


def _describe(schema: avro.schema.Schema) -> str:
    if isinstance(schema, avro.schema.DecimalLogicalSchema):
        return f"{schema.type} decimal({schema.precision},{schema.scale})"
    if isinstance(schema, avro.schema.NamedSchema):
        return f"{schema.type} {schema.fullname}"
    return str(schema.type)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _at(path: str, message: str) -> str:
    return f"{path}: {message}" if path else message


@dataclass
class _Frame:
    """One reader/writer pair being checked: where it is, and the pairs checked inside it."""

    reader: avro.schema.Schema
    writer: avro.schema.Schema
    path: str
    children: list[tuple[avro.schema.Schema, avro.schema.Schema, SchemaCompatibilityResult]] = field(
        default_factory=list)


def _incompatible(kind: SchemaIncompatibilityType, message: str) -> SchemaCompatibilityResult:
    return SchemaCompatibilityResult(SchemaCompatibilityType.incompatible, [kind], {message})


class _Checker(ReaderWriterCompatibilityChecker):
    """Avro's checker, with the decimal rule and messages that say where and why (module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._stack: list[_Frame] = []
        self._next_path = ""

    def get_compatibility(self, reader: avro.schema.Schema, writer: avro.schema.Schema, reference_token: str = "/",
                          location: list[str] | None = None) -> SchemaCompatibilityResult:
        parent = self._stack[-1] if self._stack else None
        path = parent.path if parent else ""
        if parent and reference_token == "items":
            path += "[]"
        elif parent and reference_token == "values":
            path += "{}"
        elif parent and reference_token == "type" and location:
            path = _join(path, parent.reader.fields[int(location[-1])].name)
        self._next_path = path
        result = super().get_compatibility(reader, writer, reference_token, location)
        if parent:
            parent.children.append((reader, writer, result))
        return result

    def calculate_compatibility(self, reader: avro.schema.Schema, writer: avro.schema.Schema,
                                location: list[str]) -> SchemaCompatibilityResult:
        frame = _Frame(reader, writer, self._next_path)
        self._stack.append(frame)
        try:
            result = super().calculate_compatibility(reader, writer, location)
        finally:
            self._stack.pop()
        if result.compatibility is SchemaCompatibilityType.incompatible:
            result = self._explain(frame, result)
        decimals = isinstance(reader, avro.schema.DecimalLogicalSchema) and isinstance(
            writer, avro.schema.DecimalLogicalSchema)
        if decimals and (reader.precision, reader.scale) != (writer.precision, writer.scale):
            result = merge(result, _incompatible(SchemaIncompatibilityType.type_mismatch, _at(
                frame.path, f"writer type {_describe(writer)} cannot be read as {_describe(reader)} "
                            "(decimals match only with the same precision and scale)")))
        return result

    def _explain(self, frame: _Frame, result: SchemaCompatibilityResult) -> SchemaCompatibilityResult:
        """`result` with each of this frame's own incompatibilities described; the nested ones were already."""
        reader, writer = frame.reader, frame.writer
        missing = []
        if isinstance(reader, avro.schema.RecordSchema) and isinstance(writer, avro.schema.RecordSchema):
            missing = [f for f in reader.fields if lookup_writer_field(writer, f) is None and not f.has_default]
        merged = [(r, w, c) for r, w, c in frame.children
                  if c.compatibility is SchemaCompatibilityType.incompatible and c.messages <= result.messages]
        messages: set[str] = set()
        for child_reader, child_writer, child in merged:
            # Avro checks a missing enum-typed field against the writer's whole record: reported below instead.
            if not (child_writer is writer and any(child_reader is f.type for f in missing)):
                messages |= child.messages
        own = Counter(result.incompatibilities) - Counter(t for _, _, c in merged for t in c.incompatibilities)
        for kind in own:
            messages |= self._messages(kind, frame, missing)
        if missing:
            messages |= self._messages(SchemaIncompatibilityType.reader_field_missing_default_value, frame, missing)
        return SchemaCompatibilityResult(result.compatibility, result.incompatibilities, messages, result.locations)

    @staticmethod
    def _messages(kind: SchemaIncompatibilityType, frame: _Frame, missing: list[avro.schema.Field]) -> set[str]:
        reader, writer, path = frame.reader, frame.writer, frame.path
        match kind:
            case SchemaIncompatibilityType.name_mismatch:
                return {_at(path, f"reader {reader.type} {reader.fullname} does not match writer {writer.fullname}")}
            case SchemaIncompatibilityType.fixed_size_mismatch:
                return {_at(path, f"writer fixed {writer.fullname} of size {writer.size} cannot be read as size "
                                  f"{reader.size}")}
            case SchemaIncompatibilityType.missing_enum_symbols:
                lacking = [s for s in writer.symbols if s not in reader.symbols]
                return {_at(path, f"reader enum {reader.fullname} lacks writer symbols {lacking} and has no default")}
            case SchemaIncompatibilityType.reader_field_missing_default_value:
                return {f"{_join(path, f.name)}: reader field missing from writer and has no default" for f in missing}
            case SchemaIncompatibilityType.missing_union_branch:
                unread = ([w for r, w, c in frame.children
                           if r is reader and c.compatibility is SchemaCompatibilityType.incompatible]
                          if isinstance(writer, avro.schema.UnionSchema) else [writer])
                return {_at(path, f"reader union has no branch for writer type {_describe(w)}") for w in unread}
            case _:
                return {_at(path, f"writer type {_describe(writer)} cannot be read as {_describe(reader)}")}


def can_read(reader: Any, writer: Any) -> list[str]:
    """Reasons data written with `writer` cannot be read with `reader` (parsed JSON schemas); empty when it can."""
    result = _Checker().get_compatibility(parse(reader, strict=False), parse(writer, strict=False))
    if result.compatibility is SchemaCompatibilityType.compatible:
        return []
    return sorted(result.messages)


def check_level(level: str, new: Any, previous: list[Any]) -> list[str]:
    """Reasons `new` breaks `level` against `previous` (oldest first); empty when compatible."""
    if level == "NONE" or not previous:
        return []
    against = previous if level.endswith("_TRANSITIVE") else previous[-1:]
    errors: list[str] = []
    for old in against:
        if level.startswith(("BACKWARD", "FULL")):
            errors += [f"BACKWARD: {e}" for e in can_read(new, old)]
        if level.startswith(("FORWARD", "FULL")):
            errors += [f"FORWARD: {e}" for e in can_read(old, new)]
    return errors
