"""The REST API over HTTP: which path and method call which `Registry` method, and the handler that
reads the request and writes the JSON answer (or Confluent's error body).

Endpoints: POST /subjects/{s}/versions, POST /subjects/{s}, GET /schemas/ids/{id}[/schema|/versions],
GET /schemas/types, GET /subjects, GET /subjects/{s}/versions, GET /subjects/{s}/versions/{v|latest}
[/schema], DELETE /subjects/{s}[/versions/{v}] (?permanent=true), GET/PUT /config[/{s}],
POST /compatibility/subjects/{s}/versions/{v|latest}, GET /.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from confluent_kafka import KafkaException

from tradestream.schema_registry.errors import ApiError
from tradestream.schema_registry.registry import Registry

log = logging.getLogger("tradestream.schema_registry")

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


@dataclass(frozen=True)
class Request:
    """A routed request: the path's named parts, the query (last value of each name), and its body,
    read only by the endpoints that take one."""

    params: dict[str, str]
    query: dict[str, str]
    read_body: Callable[[], dict[str, Any]]

    def flag(self, name: str) -> bool:
        """Whether the query sets `name` to true (`?permanent=true`)."""
        return self.query.get(name, "false").lower() == "true"


Endpoint = Callable[[Registry, Request], Any]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    endpoint: Endpoint


def _route(method: str, path: str, endpoint: Endpoint) -> Route:
    """A route for `path` written with `{name}` for a path part, e.g. `/subjects/{subject}/versions`;
    a trailing slash is optional."""
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
    return Route(method, re.compile(f"^{pattern}/?$"), endpoint)


ROUTES: tuple[Route, ...] = (
    _route("GET", "", lambda registry, request: {}),
    _route("GET", "/schemas/types", lambda registry, request: ["AVRO"]),
    _route("GET", "/schemas/ids/{id}", lambda registry, request: registry.schema_by_id(request.params["id"])),
    _route("GET", "/schemas/ids/{id}/schema",
           lambda registry, request: json.loads(registry.schema_by_id(request.params["id"])["schema"])),
    _route("GET", "/schemas/ids/{id}/versions",
           lambda registry, request: registry.versions_of_id(request.params["id"])),
    _route("GET", "/subjects", lambda registry, request: registry.subjects(request.flag("deleted"))),
    _route("GET", "/subjects/{subject}/versions",
           lambda registry, request: [v.version for v in registry.subject_versions(request.params["subject"])]),
    _route("GET", "/subjects/{subject}/versions/{version}",
           lambda registry, request: registry.describe(registry.find_version(**request.params))),
    _route("GET", "/subjects/{subject}/versions/{version}/schema",
           lambda registry, request: json.loads(registry.find_version(**request.params).schema)),
    _route("POST", "/subjects/{subject}/versions",
           lambda registry, request: registry.register(request.params["subject"], request.read_body())),
    _route("POST", "/subjects/{subject}",
           lambda registry, request: registry.lookup(request.params["subject"], request.read_body())),
    _route("DELETE", "/subjects/{subject}",
           lambda registry, request: registry.delete_subject(**request.params, permanent=request.flag("permanent"))),
    _route("DELETE", "/subjects/{subject}/versions/{version}",
           lambda registry, request: registry.delete_version(**request.params, permanent=request.flag("permanent"))),
    _route("GET", "/config", lambda registry, request: registry.get_config(None, True)),
    _route("PUT", "/config", lambda registry, request: registry.set_config(None, request.read_body())),
    _route("GET", "/config/{subject}",
           lambda registry, request: registry.get_config(request.params["subject"], request.flag("defaultToGlobal"))),
    _route("PUT", "/config/{subject}",
           lambda registry, request: registry.set_config(request.params["subject"], request.read_body())),
    _route("POST", "/compatibility/subjects/{subject}/versions/{version}",
           lambda registry, request: registry.test_compatibility(**request.params, body=request.read_body(),
                                                                 verbose=request.flag("verbose"))),
)


def find_route(method: str, path: str) -> tuple[Endpoint, dict[str, str]]:
    """The endpoint for `method` on `path` and the path's (unquoted) named parts; 404 if none."""
    for route in ROUTES:
        match = route.pattern.match(path)
        if match and route.method == method:
            return route.endpoint, {name: unquote(value) for name, value in match.groupdict().items()}
    raise ApiError(404, 404, f"HTTP 404 Not Found: {method} {path}")


class RegistryHandler(BaseHTTPRequestHandler):
    """One HTTP request: route it, call the registry, answer JSON. `make_handler` binds the registry."""

    protocol_version = "HTTP/1.1"
    server_version = "tradestream-schema-registry"
    registry: Registry

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
            endpoint, params = find_route(method, url.path)
            self._send(200, endpoint(self.registry, Request(params, query, self._body)))
        except ApiError as exc:
            self._send(exc.http_status, {"error_code": exc.error_code, "message": exc.message})
        except KafkaException as exc:
            self._send(500, {"error_code": 50001, "message": f"Error in the backend data store: {exc}"})

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")


def make_handler(registry: Registry) -> type[BaseHTTPRequestHandler]:
    """A handler class answering with `registry` (the server makes one handler per request)."""
    return type("Handler", (RegistryHandler,), {"registry": registry})
