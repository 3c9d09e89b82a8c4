"""Shared test helpers: a hand-written in-memory schema registry stub for pure codec tests."""

from __future__ import annotations

import json

import pytest
from confluent_kafka.schema_registry import Schema


class InMemoryRegistry:
    """The two calls AvroCodec makes, kept in dicts (for unit tests that need no server)."""

    def __init__(self) -> None:
        self.by_id: dict[int, Schema] = {}
        self.ids: dict[str, int] = {}
        self.subjects: dict[str, list[int]] = {}

    def register_schema(self, subject: str, schema: Schema) -> int:
        canonical = json.dumps(json.loads(schema.schema_str), sort_keys=True)
        if canonical not in self.ids:
            self.ids[canonical] = len(self.ids) + 1
            self.by_id[self.ids[canonical]] = schema
        schema_id = self.ids[canonical]
        self.subjects.setdefault(subject, [])
        if schema_id not in self.subjects[subject]:
            self.subjects[subject].append(schema_id)
        return schema_id

    def get_schema(self, schema_id: int) -> Schema:
        return self.by_id[schema_id]


@pytest.fixture
def registry_stub() -> InMemoryRegistry:
    return InMemoryRegistry()
