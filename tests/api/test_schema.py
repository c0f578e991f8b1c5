"""The committed OpenAPI schema matches the code, and the docs page works offline."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schema_is_current(tmp_path):
    generated = tmp_path / "openapi.yaml"
    # In English, as `make schema` writes it: the committed file must not depend on
    # which translations happen to be compiled (*.mo files are not committed).
    call_command("spectacular", "--lang", "en", "--file", str(generated), "--validate", "--fail-on-warn")
    committed = (ROOT / "openapi.yaml").read_text(encoding="utf-8")
    fresh = generated.read_text(encoding="utf-8")
    if fresh != committed:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(True), fresh.splitlines(True), "openapi.yaml (committed)", "generated"
                )
            )[:80]
        )
        pytest.fail(f"openapi.yaml is out of date with the code: run `make schema` and commit it.\n{diff}")


def test_schema_has_the_protocol_paths():
    text = (ROOT / "openapi.yaml").read_text(encoding="utf-8")
    for path in (
        "/api/v1/reference/",
        "/api/v1/agencies/",
        "/api/v1/cases/",
        "/api/v1/cases/{id}/",
        "/api/v1/tasks/",
        "/api/v1/tasks/{id}/",
        "/api/v1/tasks/{id}/approve/",
        "/api/v1/tasks/{id}/accept/",
        "/api/v1/tasks/{id}/reject/",
        "/api/v1/tasks/{id}/result/",
        "/api/v1/identifiers/lookup/",
    ):
        assert f"  {path}:\n" in text, path


@pytest.mark.django_db
def test_schema_endpoint_serves_it(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/identifiers/lookup/" in response.content


@pytest.mark.django_db
def test_docs_page_references_only_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    urls += re.findall(r"""url\s*:\s*["']([^"']+)["']""", html)
    assert any("swagger-ui" in url for url in urls), urls
    from django.contrib.staticfiles import finders

    for url in urls:
        assert url.startswith(("/static/", "/api/")), f"the docs page must not load {url} (closed network)"
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), f"{url} is not shipped with the platform"
    assert "//cdn" not in html and "https://" not in html.replace("https://swagger.io", "")
