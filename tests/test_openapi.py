"""The OpenAPI schema and its documentation pages: complete, valid, served without a CDN."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

from coordination.errors import MESSAGES


def test_the_schema_generates_without_warnings_and_validates(tmp_path: Path, db: None) -> None:
    # What `manage.py spectacular --validate --fail-on-warn` checks, in CI's test run.
    GENERATOR_STATS.reset()
    out = tmp_path / "schema.json"
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        "--file",
        str(out),
    )
    schema = json.loads(out.read_text())
    assert schema["info"]["title"] == "Care coordination API"


@pytest.fixture
def schema(db: None) -> dict[str, object]:
    GENERATOR_STATS.reset()
    response = APIClient().get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert not GENERATOR_STATS, "schema generation warned"
    return response.json()  # type: ignore[no-any-return]


def test_every_api_path_is_in_the_schema(schema: dict[str, object]) -> None:
    from django.urls import get_resolver

    documented = set(schema["paths"])  # type: ignore[call-overload]
    routes = set()
    for module in ("rooms.urls", "coordination.accounts.urls", "coordination.audit.urls"):
        for pattern in get_resolver(module).url_patterns:
            route = re.sub(r"<\w+:(\w+)>", r"{\1}", str(pattern.pattern))
            routes.add(f"/api/{route}")
    assert routes <= documented, routes - documented


def test_every_operation_documents_the_error_body(schema: dict[str, object]) -> None:
    error = schema["components"]["schemas"]["Error"]  # type: ignore[index]
    assert error["properties"]["code"]["enum"] == list(MESSAGES)
    for path, operations in schema["paths"].items():  # type: ignore[attr-defined]
        for method, operation in operations.items():
            assert "default" in operation["responses"], f"{method} {path}"


def test_signed_in_operations_name_both_ways_to_authenticate(schema: dict[str, object]) -> None:
    me = schema["paths"]["/api/me"]["get"]  # type: ignore[index]
    assert {next(iter(s)) for s in me["security"]} == {"bearerAuth", "cookieAuth"}


@pytest.mark.parametrize("path", ["/api/docs", "/api/redoc"])
def test_the_documentation_pages_use_bundled_assets_not_a_cdn(
    db: None, settings: Any, path: str
) -> None:
    # The hashed-name manifest exists only after collectstatic (make run, the image).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    response = APIClient().get(path, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    page = response.content.decode()
    assert "drf_spectacular_sidecar" in page
    assert not re.search(r"https?://(cdn|unpkg|fonts)\.", page), "a page loads from the Internet"
    for asset in re.findall(r"/static/(drf_spectacular_sidecar/[^\"']+)", page):
        assert finders.find(asset.split("?")[0]), asset
