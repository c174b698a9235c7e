"""OGC API conventions shared by the routers: output format negotiation, links, media
types, conformance classes and the Spanish HTML pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from gis.errors import PlatformError

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
MVT = "application/vnd.mapbox-vector-tile"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/sortables",
    "http://www.opengis.net/spec/ogcapi-features-6/1.0/conf/properties",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/ogcapi-styles-1/1.0/conf/core",
]

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def wants_html(request: Request) -> bool:
    """``f=html``, or a browser's Accept header without an explicit ``f``."""
    f = request.query_params.get("f")
    if f is not None:
        if f not in ("json", "html", "geojson", "mvt"):
            raise PlatformError(f"Formato «{f[:40]}» no disponible.",
                                hint="Use f=json o f=html.")
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept.split("text/html")[0]


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def link(href: str, rel: str, type_: str, title: str, **extra: Any) -> dict[str, Any]:
    return {"href": href, "rel": rel, "type": type_, "title": title, **extra}


def url_with(request: Request, **changes: Any) -> str:
    """This request's URL with some query parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        key = key.replace("_", "-") if key not in params else key
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return str(request.url.replace_query_params(**params))


def json_response(content: Any, media_type: str = JSON, headers: dict[str, str] | None = None,
                  ) -> Response:
    return Response(json.dumps(content, ensure_ascii=False, default=str),
                    media_type=media_type, headers=headers)


def html_page(request: Request, title: str, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, "ogc.html", {"title": title, **context})
