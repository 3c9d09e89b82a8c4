"""The registry's semantics, over any store of `_schemas` records: subjects and their versions,
registration under a compatibility level, lookups, soft and permanent deletes, and configuration.

Each method answers one REST call (see `rest`) with the JSON body Confluent's registry would send, or
raises `ApiError` with Confluent's status and error code.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Protocol

from tradestream.schema_registry.compat import LEVELS, SchemaParseError, check_level
from tradestream.schema_registry.errors import ApiError
from tradestream.schema_registry.state import RegistryState, SchemaVersion, canonical

log = logging.getLogger("tradestream.schema_registry")


class Store(Protocol):
    """Where records go (`store.KafkaStore`): `write` applies a record to `state` once it is stored."""

    state: RegistryState
    lock: threading.RLock

    def write(self, key: dict[str, Any], value: dict[str, Any] | None) -> None: ...


class Registry:
    """The REST semantics over a store: one public method per call, answering its JSON body."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def state(self) -> RegistryState:
        return self.store.state

    def subject_versions(self, subject: str, include_deleted: bool = False) -> list[SchemaVersion]:
        """The subject's versions, oldest first (soft-deleted ones too if `include_deleted`); 404 if none."""
        versions = (sorted(self.state.versions.get(subject, {}).values(), key=lambda v: v.version)
                    if include_deleted else self.state.live(subject))
        if not versions:
            raise ApiError(404, 40401, f"Subject '{subject}' not found.")
        return versions

    def subjects(self, include_deleted: bool) -> list[str]:
        """The subjects with a live version (or with any version at all, soft-deleted included), sorted."""
        return sorted(subject for subject, versions in self.state.versions.items()
                      if any(include_deleted or not v.deleted for v in versions.values()))

    def find_version(self, subject: str, version: str, include_deleted: bool = False) -> SchemaVersion:
        """The version written `version` in a path (a number, `latest` or `-1`) of the subject."""
        versions = self.subject_versions(subject, include_deleted)
        if version in ("latest", "-1"):
            return versions[-1]
        if not version.isdigit() or int(version) < 1:
            raise ApiError(422, 42202, "The specified version is not a valid version id. Allowed values are "
                                       "between [1, 2^31-1] and the string \"latest\"")
        for candidate in versions:
            if candidate.version == int(version):
                return candidate
        raise ApiError(404, 40402, f"Version {version} not found.")

    @staticmethod
    def _schema_text(body: dict[str, Any]) -> str:
        if body.get("schemaType", "AVRO") != "AVRO":
            raise ApiError(422, 42201, f"Invalid schema: schemaType {body.get('schemaType')} is not supported "
                                       "(this registry serves AVRO)")
        if not isinstance(body.get("schema"), str):
            raise ApiError(422, 42201, "Invalid schema: the request needs a 'schema' string")
        return body["schema"]

    @staticmethod
    def _incompatibilities(level: str, new: Any, previous: list[SchemaVersion]) -> list[str]:
        try:
            return check_level(level, new, [json.loads(v.schema) for v in previous])
        except SchemaParseError as exc:
            raise ApiError(422, 42201, f"Invalid schema: a registered version of subject "
                                       f"\"{previous[-1].subject}\" cannot be read by the compatibility "
                                       f"checker ({exc}); delete it or set the subject's level to NONE") from None

    def register(self, subject: str, body: dict[str, Any]) -> dict[str, Any]:
        text, parsed = canonical(self._schema_text(body), strict=True)
        with self.store.lock:
            live = self.state.live(subject)
            for existing in live:
                if canonical(existing.schema)[0] == text:
                    return {"id": existing.schema_id}
            errors = self._incompatibilities(self.state.level(subject), parsed, live)
            if errors:
                raise ApiError(409, 409, "Schema being registered is incompatible with an earlier schema for "
                                         f"subject \"{subject}\", details: {errors}")
            schema_id = self.state.ids_by_canonical.get(text)
            if schema_id is None:
                schema_id = max(self.state.schemas_by_id, default=0) + 1
            all_versions = self.state.versions.get(subject, {})
            version = max(all_versions, default=0) + 1
            self.store.write({"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1},
                             {"subject": subject, "version": version, "id": schema_id, "schema": body["schema"],
                              "deleted": False})
            log.info("registered subject=%s version=%d id=%d", subject, version, schema_id)
            return {"id": schema_id}

    def lookup(self, subject: str, body: dict[str, Any]) -> dict[str, Any]:
        text, _ = canonical(self._schema_text(body))
        for version in self.subject_versions(subject):
            if canonical(version.schema)[0] == text:
                return self.describe(version)
        raise ApiError(404, 40403, "Schema not found")

    @staticmethod
    def describe(version: SchemaVersion) -> dict[str, Any]:
        return {"subject": version.subject, "version": version.version, "id": version.schema_id,
                "schema": version.schema}

    def schema_by_id(self, schema_id: str) -> dict[str, Any]:
        if not schema_id.isdigit() or int(schema_id) not in self.state.schemas_by_id:
            raise ApiError(404, 40403, "Schema not found")
        return {"schema": self.state.schemas_by_id[int(schema_id)]}

    def versions_of_id(self, schema_id: str) -> list[dict[str, Any]]:
        self.schema_by_id(schema_id)
        return [{"subject": v.subject, "version": v.version}
                for subject in sorted(self.state.versions) for v in self.state.live(subject)
                if v.schema_id == int(schema_id)]

    def delete_subject(self, subject: str, permanent: bool) -> list[int]:
        with self.store.lock:
            versions = self.subject_versions(subject, include_deleted=permanent)
            if permanent and any(not v.deleted for v in versions):
                raise ApiError(409, 40405, f"Subject '{subject}' was not deleted first before being permanently "
                                           "deleted")
            for v in versions:
                self._delete(v, permanent)
            return [v.version for v in versions]

    def delete_version(self, subject: str, version: str, permanent: bool) -> int:
        with self.store.lock:
            target = self.find_version(subject, version, include_deleted=permanent)
            if permanent and not target.deleted:
                raise ApiError(409, 40407, f"Subject '{subject}' Version {target.version} was not deleted first "
                                           "before being permanently deleted")
            self._delete(target, permanent)
            return target.version

    def _delete(self, version: SchemaVersion, permanent: bool) -> None:
        key = {"keytype": "SCHEMA", "subject": version.subject, "version": version.version, "magic": 1}
        if permanent:
            self.store.write(key, None)
        else:
            self.store.write(key, {"subject": version.subject, "version": version.version,
                                   "id": version.schema_id, "schema": version.schema, "deleted": True})

    def set_config(self, subject: str | None, body: dict[str, Any]) -> dict[str, Any]:
        level = str(body.get("compatibility", body.get("compatibilityLevel", ""))).upper()
        if level not in LEVELS:
            raise ApiError(422, 42203, f"Invalid compatibility level. Valid values are {', '.join(LEVELS)}")
        with self.store.lock:
            self.store.write({"keytype": "CONFIG", "subject": subject, "magic": 0}, {"compatibilityLevel": level})
        return {"compatibility": level}

    def get_config(self, subject: str | None, default_to_global: bool) -> dict[str, Any]:
        if subject is not None and subject not in self.state.config and not default_to_global:
            raise ApiError(404, 40408, f"Subject '{subject}' does not have subject-level compatibility configured")
        return {"compatibilityLevel": self.state.level(subject)}

    def test_compatibility(self, subject: str, version: str, body: dict[str, Any], verbose: bool) -> dict[str, Any]:
        _, parsed = canonical(self._schema_text(body), strict=True)
        live = self.state.live(subject)
        if not live:
            return {"is_compatible": True}
        if version in ("latest", "-1"):
            previous = live
        else:
            chosen = self.find_version(subject, version)
            previous = [v for v in live if v.version <= chosen.version]
        errors = self._incompatibilities(self.state.level(subject), parsed, previous)
        result: dict[str, Any] = {"is_compatible": not errors}
        if verbose:
            result["messages"] = errors
        return result
