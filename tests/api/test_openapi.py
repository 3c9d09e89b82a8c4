"""The OpenAPI document: title, the package's version, a description on every operation; and no page the
API serves loads a script or style sheet from another site (they would stay blank offline)."""

from __future__ import annotations

import importlib.metadata
import re

import yaml
from litestar.testing import TestClient

# <script src="http…">, <link href="http…">, and CSS @import url(http…) or @import "http…".
EXTERNAL = re.compile(r"""<script[^>]*\bsrc\s*=\s*["']?(?:https?:)?//"""
                      r"""|<link[^>]*\bhref\s*=\s*["']?(?:https?:)?//"""
                      r"""|@import\s+(?:url\()?["']?(?:https?:)?//""", re.IGNORECASE)
# Where Litestar puts its documentation UIs when they are enabled.
UI_PAGES = ["/schema", "/schema/swagger", "/schema/redoc", "/schema/elements", "/schema/rapidoc", "/schema/scalar"]


def test_openapi_has_title_version_and_a_description_for_every_operation(offline_client: TestClient) -> None:
    document = offline_client.get("/schema/openapi.json").json()
    assert document["info"]["title"] == "tradestream"
    assert document["info"]["version"] == importlib.metadata.version("tradestream")
    operations = {f"{method.upper()} {path}": operation for path, item in document["paths"].items()
                  for method, operation in item.items()}
    assert {"GET /api/health/live", "GET /api/health/ready", "GET /metrics", "POST /api/scanners"} <= set(operations)
    undescribed = [name for name, operation in operations.items() if not operation.get("description", "").strip()]
    assert undescribed == []
    assert yaml.safe_load(offline_client.get("/schema/openapi.yaml").text)["info"] == document["info"]


def test_no_page_loads_scripts_or_styles_from_another_site(offline_client: TestClient) -> None:
    app = offline_client.app
    paths = {route.path for route in app.routes if "{" not in route.path and "GET" in getattr(route, "methods", ())}
    paths |= {"/", "/index.html", *UI_PAGES}
    pages = {}
    for path in sorted(paths):
        response = offline_client.get(path)
        if response.status_code == 200 and response.headers["content-type"].startswith("text/html"):
            pages[path] = response.text
    assert "/" in pages  # the dashboard is among the pages checked
    offending = {path: EXTERNAL.findall(text) for path, text in pages.items() if EXTERNAL.search(text)}
    assert offending == {}


def test_the_pattern_catches_a_cdn_script() -> None:
    assert EXTERNAL.search('<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist/swagger-ui-bundle.js">')
    assert EXTERNAL.search("<link rel='stylesheet' href='//unpkg.com/x.css'>")
    assert not EXTERNAL.search('<script src="/app.js"></script><a href="https://example.org">docs</a>')
