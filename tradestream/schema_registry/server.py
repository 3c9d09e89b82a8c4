"""A schema registry speaking the Confluent Schema Registry REST API (the subset clients use).

Why it exists: Confluent's registry is not on Maven Central and Karapace is not on PyPI, so the
local stack runs this small service; docker-compose runs the real Confluent registry, and the same
client code (confluent-kafka's `SchemaRegistryClient`, its Avro serializers) talks to either.

Storage is Confluent's: a compacted, single-partition `_schemas` topic on the real broker, with JSON
keys `{"keytype":"SCHEMA","subject":…,"version":…,"magic":1}` / `{"keytype":"CONFIG",…}` and the
same JSON values. On start the service reads the topic to its end to rebuild its state, so ids and
versions survive restarts. A write is answered only after the broker acknowledged it (acks=all).
One instance writes at a time (no leader election): run a single registry per topic.

The parts: `store` (the topic, read and written), `state` (what the records add up to), `registry`
(subjects, versions, compatibility and configuration), `rest` (paths to registry calls, the HTTP
handler), `compat` (the Avro compatibility checker), `errors` (ApiError); this module starts them.
"""

from __future__ import annotations

import logging
from http.server import ThreadingHTTPServer

from tradestream.schema_registry.registry import Registry
from tradestream.schema_registry.rest import make_handler
from tradestream.schema_registry.store import KafkaStore

log = logging.getLogger("tradestream.schema_registry")


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
