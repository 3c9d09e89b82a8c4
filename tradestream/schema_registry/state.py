"""What the registry knows, rebuilt record by record from the `_schemas` topic, and the canonical form
of a schema by which identical schemas share one id.

Records are Confluent's: JSON keys `{"keytype":"SCHEMA","subject":…,"version":…,"magic":1}` /
`{"keytype":"CONFIG","subject":…}` with the same JSON values; a null value deletes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tradestream.schema_registry.compat import SchemaParseError, normalize, parse
from tradestream.schema_registry.errors import ApiError

DEFAULT_LEVEL = "BACKWARD"


def canonical(schema_text: str, *, strict: bool = False) -> tuple[str, Any]:
    """Parse and validate an Avro schema; returns (canonical JSON text, parsed JSON).

    Every schema gets the structural check; `strict` (a schema being registered or tested) adds Avro's
    own parser, so a version is stored only if the compatibility checker can read it later. Versions
    already in the topic are loaded without it, so a registry never fails to start on its own data."""
    try:
        parsed = json.loads(schema_text)
    except json.JSONDecodeError as exc:
        raise ApiError(422, 42201, f"Invalid schema: not JSON ({exc.msg})") from None
    if isinstance(parsed, str) and parsed not in ("null", "boolean", "int", "long", "float", "double", "bytes",
                                                  "string"):
        raise ApiError(422, 42201, f"Invalid schema: unknown type {parsed!r}")
    try:
        normalize(parsed)
        if strict:
            parse(parsed)
    except SchemaParseError as exc:
        raise ApiError(422, 42201, f"Invalid schema: {exc}") from None
    return json.dumps(parsed, sort_keys=True, separators=(",", ":")), parsed


@dataclass
class SchemaVersion:
    """One version of a subject as stored: its schema text as registered, and whether it was soft-deleted."""

    subject: str
    version: int
    schema_id: int
    schema: str
    deleted: bool = False


@dataclass
class RegistryState:
    """Everything the registry knows, rebuilt from the `_schemas` topic."""

    versions: dict[str, dict[int, SchemaVersion]] = field(default_factory=dict)
    schemas_by_id: dict[int, str] = field(default_factory=dict)
    ids_by_canonical: dict[str, int] = field(default_factory=dict)
    config: dict[str | None, str] = field(default_factory=dict)

    def apply(self, key: dict[str, Any], value: dict[str, Any] | None) -> None:
        if key.get("keytype") == "SCHEMA":
            subject, version = key["subject"], int(key["version"])
            if value is None:
                self.versions.get(subject, {}).pop(version, None)
                return
            schema_id = int(value["id"])
            text, _ = canonical(value["schema"])
            self.schemas_by_id[schema_id] = value["schema"]
            self.ids_by_canonical.setdefault(text, schema_id)
            self.versions.setdefault(subject, {})[version] = SchemaVersion(
                subject, version, schema_id, value["schema"], bool(value.get("deleted", False)))
        elif key.get("keytype") == "CONFIG":
            subject = key.get("subject")
            if value is None:
                self.config.pop(subject, None)
            else:
                self.config[subject] = value["compatibilityLevel"]

    def live(self, subject: str) -> list[SchemaVersion]:
        return sorted((v for v in self.versions.get(subject, {}).values() if not v.deleted),
                      key=lambda v: v.version)

    def level(self, subject: str | None) -> str:
        return self.config.get(subject) or self.config.get(None) or DEFAULT_LEVEL
