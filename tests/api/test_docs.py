"""The OpenAPI document and the interactive docs, served without any CDN."""

from __future__ import annotations

import httpx


def test_openapi_document_lists_the_standard_endpoints(http: httpx.Client) -> None:
    doc = http.get("/openapi.json").json()
    paths = set(doc["paths"])
    assert {"/collections", "/collections/{collectionId}/items",
            "/collections/{collectionId}/items/{featureId}", "/conformance",
            "/collections/{collectionId}/queryables",
            "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/"
            "{tileCol}"} <= paths


def test_interactive_docs_render_offline(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "SECPLAC" in page.inner_text(".swagger-ui .info .title")
    assert page.failed_requests == []
