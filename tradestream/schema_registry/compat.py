"""Avro schema compatibility, following the Avro specification's schema-resolution rules.

`can_read(reader, writer)` answers whether data written with `writer` can be read with `reader`,
returning the list of reasons it cannot (empty when it can). Compatibility levels build on it:
BACKWARD = the new schema reads data written with the previous one(s); FORWARD = the previous
one(s) read data written with the new; FULL = both; *_TRANSITIVE checks every earlier version
instead of only the latest.
"""

from __future__ import annotations

from typing import Any

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
PROMOTIONS = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}
LEVELS = ("NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE")


class SchemaParseError(ValueError):
    """The text is not a valid Avro schema."""


class _Names:
    """Named types (records, enums, fixed) of one schema, by full name."""

    def __init__(self) -> None:
        self.types: dict[str, dict[str, Any]] = {}


def _fullname(name: str, namespace: str | None) -> str:
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def normalize(schema: Any, names: _Names | None = None, namespace: str | None = None) -> Any:
    """Resolve a parsed JSON schema into nodes: primitives as str, named types registered in `names`."""
    names = names if names is not None else _Names()
    if isinstance(schema, str):
        if schema in PRIMITIVES:
            return schema
        full = _fullname(schema, namespace)
        if full in names.types:
            return {"ref": full}
        if schema in names.types:
            return {"ref": schema}
        raise SchemaParseError(f"unknown type {schema!r}")
    if isinstance(schema, list):
        if not schema:
            raise SchemaParseError("a union needs at least one branch")
        return {"type": "union", "branches": [normalize(b, names, namespace) for b in schema]}
    if not isinstance(schema, dict) or "type" not in schema:
        raise SchemaParseError(f"not an Avro schema: {schema!r}")
    kind = schema["type"]
    if kind in PRIMITIVES:
        return kind
    if kind in ("record", "error", "enum", "fixed"):
        if not isinstance(schema.get("name"), str) or not schema["name"]:
            raise SchemaParseError(f"a {kind} needs a name")
        ns = schema.get("namespace", namespace)
        full = _fullname(schema["name"], ns)
        ns = full.rsplit(".", 1)[0] if "." in full else None
        aliases = {_fullname(a, ns) for a in schema.get("aliases", [])}
        node: dict[str, Any] = {"type": kind, "name": full, "aliases": aliases}
        names.types[full] = node
        if kind in ("record", "error"):
            if not isinstance(schema.get("fields"), list):
                raise SchemaParseError(f"record {full} needs a fields list")
            node["fields"] = []
            for field in schema["fields"]:
                if not isinstance(field, dict) or not isinstance(field.get("name"), str) or "type" not in field:
                    raise SchemaParseError(f"record {full} has a field without name or type")
                node["fields"].append({
                    "name": field["name"],
                    "aliases": set(field.get("aliases", [])),
                    "type": normalize(field["type"], names, ns),
                    "has_default": "default" in field,
                })
        elif kind == "enum":
            symbols = schema.get("symbols")
            if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
                raise SchemaParseError(f"enum {full} needs a symbols list")
            node["symbols"] = list(symbols)
            node["has_default"] = "default" in schema
        else:
            if not isinstance(schema.get("size"), int):
                raise SchemaParseError(f"fixed {full} needs an integer size")
            node["size"] = schema["size"]
        return {"ref": full}
    if kind == "array":
        if "items" not in schema:
            raise SchemaParseError("an array needs items")
        return {"type": "array", "items": normalize(schema["items"], names, namespace)}
    if kind == "map":
        if "values" not in schema:
            raise SchemaParseError("a map needs values")
        return {"type": "map", "values": normalize(schema["values"], names, namespace)}
    if isinstance(kind, (dict, list)):
        return normalize(kind, names, namespace)
    full = _fullname(kind, namespace)
    if full in names.types or kind in names.types:
        return {"ref": full if full in names.types else kind}
    raise SchemaParseError(f"unknown type {kind!r}")


class _Checker:
    def __init__(self, reader_names: _Names, writer_names: _Names) -> None:
        self.rn = reader_names
        self.wn = writer_names
        self.assumed: set[tuple[str, str]] = set()

    def resolve(self, node: Any, names: _Names) -> Any:
        return names.types[node["ref"]] if isinstance(node, dict) and "ref" in node else node

    @staticmethod
    def kind(node: Any) -> str:
        return node if isinstance(node, str) else node["type"]

    def check(self, reader: Any, writer: Any, path: str) -> list[str]:
        if isinstance(reader, dict) and "ref" in reader and isinstance(writer, dict) and "ref" in writer:
            pair = (reader["ref"], writer["ref"])
            if pair in self.assumed:  # recursive types: assume compatible while checking
                return []
            self.assumed.add(pair)
        r = self.resolve(reader, self.rn)
        w = self.resolve(writer, self.wn)
        rk, wk = self.kind(r), self.kind(w)
        if wk == "union":
            errors = []
            for i, branch in enumerate(w["branches"]):
                errors += self.check(reader, branch, f"{path}[writer union branch {i}]")
            return errors
        if rk == "union":
            for branch in r["branches"]:
                if not self.check(branch, writer, path):
                    return []
            return [f"{path}: reader union has no branch for writer type {self.describe(w)}"]
        if rk in PRIMITIVES or wk in PRIMITIVES:
            if rk == wk or rk in PROMOTIONS.get(wk, ()):
                return []
            return [f"{path}: writer type {self.describe(w)} cannot be read as {self.describe(r)}"]
        if rk != wk:
            return [f"{path}: writer type {self.describe(w)} cannot be read as {self.describe(r)}"]
        if rk in ("record", "error", "enum", "fixed") and not self.names_match(r, w):
            return [f"{path}: reader {rk} {r['name']} does not match writer {w['name']}"]
        if rk in ("record", "error"):
            return self.check_record(r, w, path)
        if rk == "enum":
            missing = [s for s in w["symbols"] if s not in r["symbols"]]
            if missing and not r["has_default"]:
                return [f"{path}: reader enum {r['name']} lacks writer symbols {missing}"]
            return []
        if rk == "fixed":
            return [] if r["size"] == w["size"] else [f"{path}: fixed size {w['size']} != {r['size']}"]
        if rk == "array":
            return self.check(r["items"], w["items"], f"{path}[]")
        if rk == "map":
            return self.check(r["values"], w["values"], f"{path}{{}}")
        return [f"{path}: unsupported type {rk}"]

    @staticmethod
    def names_match(r: dict[str, Any], w: dict[str, Any]) -> bool:
        unqualified = lambda n: n.rsplit(".", 1)[-1]  # noqa: E731
        return (r["name"] == w["name"] or w["name"] in r["aliases"]
                or unqualified(r["name"]) == unqualified(w["name"]))

    def check_record(self, r: dict[str, Any], w: dict[str, Any], path: str) -> list[str]:
        errors = []
        writer_fields = {f["name"]: f for f in w["fields"]}
        for field in r["fields"]:
            match = writer_fields.get(field["name"])
            if match is None:
                match = next((writer_fields[a] for a in field["aliases"] if a in writer_fields), None)
            field_path = f"{path}.{field['name']}" if path else field["name"]
            if match is None:
                if not field["has_default"]:
                    errors.append(f"{field_path}: reader field missing from writer and has no default")
                continue
            errors += self.check(field["type"], match["type"], field_path)
        return errors

    def describe(self, node: Any) -> str:
        kind = self.kind(node)
        return f"{kind} {node['name']}" if isinstance(node, dict) and "name" in node else kind


def can_read(reader: Any, writer: Any) -> list[str]:
    """Reasons data written with `writer` cannot be read with `reader` (parsed JSON schemas)."""
    reader_names, writer_names = _Names(), _Names()
    r = normalize(reader, reader_names)
    w = normalize(writer, writer_names)
    return _Checker(reader_names, writer_names).check(r, w, "")


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
