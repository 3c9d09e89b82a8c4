"""A schema registry speaking the Confluent Schema Registry REST API (the subset clients use).

Why it exists: Confluent's registry is not on Maven Central and Karapace is not on PyPI, so the
local stack runs this small service; docker-compose runs the real Confluent registry, and the same
client code (confluent-kafka's `SchemaRegistryClient`, its Avro serializers) talks to either.

Storage is Confluent's: a compacted, single-partition `_schemas` topic on the real broker, with JSON
keys `{"keytype":"SCHEMA","subject":…,"version":…,"magic":1}` / `{"keytype":"CONFIG",…}` and the
same JSON values. On start the service reads the topic to its end to rebuild its state, so ids and
versions survive restarts. A write is answered only after the broker acknowledged it (acks=all).
One instance writes at a time (no leader election): run a single registry per topic.

Endpoints: POST /subjects/{s}/versions, POST /subjects/{s}, GET /schemas/ids/{id}[/schema|/versions],
GET /schemas/types, GET /subjects, GET /subjects/{s}/versions, GET /subjects/{s}/versions/{v|latest}
[/schema], DELETE /subjects/{s}[/versions/{v}] (?permanent=true), GET/PUT /config[/{s}],
POST /compatibility/subjects/{s}/versions/{v|latest}, GET /.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tradestream.schema_registry.compat import LEVELS, SchemaParseError, check_level, normalize, parse

log = logging.getLogger("tradestream.schema_registry")

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
DEFAULT_LEVEL = "BACKWARD"


class ApiError(Exception):
    def __init__(self, http_status: int, error_code: int, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.error_code = error_code
        self.message = message


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


class KafkaStore:
    """The `_schemas` topic: read to the end at start, every write acknowledged before it applies."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.state = RegistryState()
        self.lock = threading.RLock()
        self.producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                                  "linger.ms": 0})

    def ensure_topic(self) -> None:
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        if self.topic in admin.list_topics(timeout=30).topics:
            return
        future = admin.create_topics([NewTopic(self.topic, 1, 1, config={"cleanup.policy": "compact"})])[self.topic]
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise

    def load(self) -> int:
        """Read the topic from the beginning to its current end; returns records applied."""
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "schema-registry-loader",
                             "enable.auto.commit": False, "enable.partition.eof": True})
        partition = TopicPartition(self.topic, 0)
        deadline = time.monotonic() + 60
        while True:
            try:
                low, high = consumer.get_watermark_offsets(partition, timeout=10)
                break
            except KafkaException as exc:
                # Right after a broker start the partition may have no leader yet: wait for it.
                if not exc.args[0].retriable() and exc.args[0].code() != KafkaError.NOT_LEADER_FOR_PARTITION \
                        or time.monotonic() > deadline:
                    raise
                log.info("waiting for %s to have a leader: %s", self.topic, exc.args[0].str())
                time.sleep(0.5)
        applied = 0
        if high > low:
            consumer.assign([TopicPartition(self.topic, 0, low)])
            while True:
                message = consumer.poll(10)
                if message is None:
                    raise KafkaException(KafkaError(KafkaError._TIMED_OUT, f"reading {self.topic} timed out"))
                if message.error():
                    if message.error().code() == KafkaError._PARTITION_EOF:
                        break
                    raise KafkaException(message.error())
                key = json.loads(message.key())
                value = json.loads(message.value()) if message.value() is not None else None
                self.state.apply(key, value)
                applied += 1
                if message.offset() >= high - 1:
                    break
        consumer.close()
        return applied

    def write(self, key: dict[str, Any], value: dict[str, Any] | None) -> None:
        errors: list[KafkaError] = []
        self.producer.produce(self.topic, key=json.dumps(key, separators=(",", ":")).encode(),
                              value=None if value is None else json.dumps(value, separators=(",", ":")).encode(),
                              on_delivery=lambda err, _msg: errors.append(err) if err else None)
        if self.producer.flush(30) != 0 or errors:
            raise ApiError(500, 50001, f"Error while storing to {self.topic}: {errors or 'timed out'}")
        self.state.apply(key, value)


class Registry:
    """The REST semantics over a store."""

    def __init__(self, store: KafkaStore) -> None:
        self.store = store

    @property
    def state(self) -> RegistryState:
        return self.store.state

    def _subject_versions(self, subject: str, include_deleted: bool = False) -> list[SchemaVersion]:
        versions = (sorted(self.state.versions.get(subject, {}).values(), key=lambda v: v.version)
                    if include_deleted else self.state.live(subject))
        if not versions:
            raise ApiError(404, 40401, f"Subject '{subject}' not found.")
        return versions

    def _version(self, subject: str, version: str, include_deleted: bool = False) -> SchemaVersion:
        versions = self._subject_versions(subject, include_deleted)
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
        for version in self._subject_versions(subject):
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
            versions = self._subject_versions(subject, include_deleted=permanent)
            if permanent and any(not v.deleted for v in versions):
                raise ApiError(409, 40405, f"Subject '{subject}' was not deleted first before being permanently "
                                           "deleted")
            for v in versions:
                self._delete(v, permanent)
            return [v.version for v in versions]

    def delete_version(self, subject: str, version: str, permanent: bool) -> int:
        with self.store.lock:
            target = self._version(subject, version, include_deleted=permanent)
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
            chosen = self._version(subject, version)
            previous = [v for v in live if v.version <= chosen.version]
        errors = self._incompatibilities(self.state.level(subject), parsed, previous)
        result: dict[str, Any] = {"is_compatible": not errors}
        if verbose:
            result["messages"] = errors
        return result


ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"^/?$"), "root"),
    ("GET", re.compile(r"^/schemas/types/?$"), "types"),
    ("GET", re.compile(r"^/schemas/ids/(?P<id>[^/]+)/?$"), "schema_by_id"),
    ("GET", re.compile(r"^/schemas/ids/(?P<id>[^/]+)/schema/?$"), "raw_schema_by_id"),
    ("GET", re.compile(r"^/schemas/ids/(?P<id>[^/]+)/versions/?$"), "versions_of_id"),
    ("GET", re.compile(r"^/subjects/?$"), "subjects"),
    ("GET", re.compile(r"^/subjects/(?P<subject>[^/]+)/versions/?$"), "subject_versions"),
    ("GET", re.compile(r"^/subjects/(?P<subject>[^/]+)/versions/(?P<version>[^/]+)/?$"), "version"),
    ("GET", re.compile(r"^/subjects/(?P<subject>[^/]+)/versions/(?P<version>[^/]+)/schema/?$"), "version_schema"),
    ("POST", re.compile(r"^/subjects/(?P<subject>[^/]+)/versions/?$"), "register"),
    ("POST", re.compile(r"^/subjects/(?P<subject>[^/]+)/?$"), "lookup"),
    ("DELETE", re.compile(r"^/subjects/(?P<subject>[^/]+)/?$"), "delete_subject"),
    ("DELETE", re.compile(r"^/subjects/(?P<subject>[^/]+)/versions/(?P<version>[^/]+)/?$"), "delete_version"),
    ("GET", re.compile(r"^/config/?$"), "get_global_config"),
    ("PUT", re.compile(r"^/config/?$"), "put_global_config"),
    ("GET", re.compile(r"^/config/(?P<subject>[^/]+)/?$"), "get_config"),
    ("PUT", re.compile(r"^/config/(?P<subject>[^/]+)/?$"), "put_config"),
    ("POST", re.compile(r"^/compatibility/subjects/(?P<subject>[^/]+)/versions/(?P<version>[^/]+)/?$"),
     "compatibility"),
]


def make_handler(registry: Registry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "tradestream-schema-registry"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            log.info("%s %s", self.address_string(), format % args)

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            if length == 0:
                return {}
            try:
                body = json.loads(self.rfile.read(length))
            except json.JSONDecodeError:
                raise ApiError(400, 400, "Request body is not JSON") from None
            if not isinstance(body, dict):
                raise ApiError(400, 400, "Request body must be a JSON object")
            return body

        def _dispatch(self, method: str) -> None:
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            try:
                for route_method, pattern, name in ROUTES:
                    match = pattern.match(url.path)
                    if match and route_method == method:
                        params = {k: unquote(v) for k, v in match.groupdict().items()}
                        status, body = self._route(name, params, query)
                        self._send(status, body)
                        return
                raise ApiError(404, 404, f"HTTP 404 Not Found: {method} {url.path}")
            except ApiError as exc:
                self._send(exc.http_status, {"error_code": exc.error_code, "message": exc.message})
            except KafkaException as exc:
                self._send(500, {"error_code": 50001, "message": f"Error in the backend data store: {exc}"})

        def _route(self, name: str, p: dict[str, str], q: dict[str, str]) -> tuple[int, Any]:
            permanent = q.get("permanent", "false").lower() == "true"
            match name:
                case "root":
                    return 200, {}
                case "types":
                    return 200, ["AVRO"]
                case "schema_by_id":
                    return 200, registry.schema_by_id(p["id"])
                case "raw_schema_by_id":
                    return 200, json.loads(registry.schema_by_id(p["id"])["schema"])
                case "versions_of_id":
                    return 200, registry.versions_of_id(p["id"])
                case "subjects":
                    deleted = q.get("deleted", "false").lower() == "true"
                    return 200, sorted(s for s, vs in registry.state.versions.items()
                                       if any(deleted or not v.deleted for v in vs.values()))
                case "subject_versions":
                    return 200, [v.version for v in registry._subject_versions(p["subject"])]
                case "version":
                    return 200, registry.describe(registry._version(p["subject"], p["version"]))
                case "version_schema":
                    return 200, json.loads(registry._version(p["subject"], p["version"]).schema)
                case "register":
                    return 200, registry.register(p["subject"], self._body())
                case "lookup":
                    return 200, registry.lookup(p["subject"], self._body())
                case "delete_subject":
                    return 200, registry.delete_subject(p["subject"], permanent)
                case "delete_version":
                    return 200, registry.delete_version(p["subject"], p["version"], permanent)
                case "get_global_config":
                    return 200, registry.get_config(None, True)
                case "put_global_config":
                    return 200, registry.set_config(None, self._body())
                case "get_config":
                    default = q.get("defaultToGlobal", "false").lower() == "true"
                    return 200, registry.get_config(p["subject"], default)
                case "put_config":
                    return 200, registry.set_config(p["subject"], self._body())
                case "compatibility":
                    verbose = q.get("verbose", "false").lower() == "true"
                    return 200, registry.test_compatibility(p["subject"], p["version"], self._body(), verbose)
            raise ApiError(404, 404, "not found")

        def do_GET(self) -> None:  # noqa: N802 - stdlib naming
            self._dispatch("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._dispatch("POST")

        def do_PUT(self) -> None:  # noqa: N802
            self._dispatch("PUT")

        def do_DELETE(self) -> None:  # noqa: N802
            self._dispatch("DELETE")

    return Handler


def serve(host: str, port: int, bootstrap: str, topic: str) -> ThreadingHTTPServer:
    """Load the store and return a ready server (call `serve_forever()` on it)."""
    store = KafkaStore(bootstrap, topic)
    store.ensure_topic()
    applied = store.load()
    log.info("schema registry loaded %d records from topic=%s (%d schemas)", applied, topic,
             len(store.state.schemas_by_id))
    server = ThreadingHTTPServer((host, port), make_handler(Registry(store)))
    server.daemon_threads = True
    return server
