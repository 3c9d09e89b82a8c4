"""The registry's hand-written schema-resolution checker, as it was before the registry moved onto Avro's.

Kept as the second, independent implementation that `test_compat_differential.py` measures against the
specification: it parses with `compat.normalize` and walks the two schemas itself.
"""

from __future__ import annotations

from typing import Any

from tradestream.schema_registry.compat import PRIMITIVES, _Names, normalize

PROMOTIONS = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}


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
