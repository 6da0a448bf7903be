"""The API's root and its OpenAPI 3.1 document under /api/v1; no docs page that would load
scripts from elsewhere."""

from __future__ import annotations

from importlib.metadata import version

from fastapi.testclient import TestClient


def test_the_api_root_names_the_service_and_its_version(bare_client: TestClient) -> None:
    r = bare_client.get("/api/v1/")
    assert r.status_code == 200 and r.json() == {"service": "ssj", "version": version("ssj")}


def test_the_openapi_document_is_3_1_and_lists_the_paths(bare_client: TestClient) -> None:
    r = bare_client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    doc = r.json()
    assert doc["openapi"].startswith("3.1.")
    assert doc["info"]["title"] == "ssj" and doc["info"]["version"] == version("ssj")
    assert {"/api/v1/", "/healthz", "/readyz"} <= set(doc["paths"])
    for item in doc["paths"].values():
        for op in item.values():
            assert op["responses"] and op["operationId"]
    assert bare_client.get("/openapi.json").status_code == 404  # only under the API's prefix


def test_no_docs_pages_load_anything_from_a_cdn(bare_client: TestClient) -> None:
    for path in ("/docs", "/redoc", "/api/v1/docs", "/api/v1/redoc", "/docs/oauth2-redirect"):
        r = bare_client.get(path)
        assert r.status_code == 404 and "cdn" not in r.text.lower(), path


def test_every_upload_is_declared_multipart(bare_client: TestClient) -> None:
    """A request body carrying a file is multipart/form-data in the document, as the routes
    read it: a client generated from the document (or a person following it) sends that."""
    doc = bare_client.get("/api/v1/openapi.json").json()
    schemas = doc["components"]["schemas"]

    def has_file(schema: dict) -> bool:  # type: ignore[type-arg]
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return any(
            p.get("format") == "binary" or p.get("contentMediaType") == "application/octet-stream"
            for p in schema.get("properties", {}).values()
        )

    uploads = {}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for media, body in op.get("requestBody", {}).get("content", {}).items():
                if has_file(body.get("schema", {})):
                    uploads[(method, path)] = media
    assert ("post", "/api/v1/draw-records/verification") in uploads
    assert len(uploads) >= 5
    assert set(uploads.values()) == {"multipart/form-data"}, uploads
