"""Avro schemas of every tradestream event: the single source of truth for their fields.

One `.avsc` file per record; `SCHEMAS` maps the record name (e.g. "TradeTick") to its parsed JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent


def _load() -> dict[str, dict]:
    schemas = {}
    for path in sorted(SCHEMA_DIR.glob("*.avsc")):
        schema = json.loads(path.read_text())
        schemas[schema["name"]] = schema
    return schemas


SCHEMAS: dict[str, dict] = _load()


def field_names(record: str) -> tuple[str, ...]:
    return tuple(field["name"] for field in SCHEMAS[record]["fields"])
