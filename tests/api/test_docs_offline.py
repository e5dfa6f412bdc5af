"""/docs (Swagger UI) and /redoc work with no internet: every asset their pages load is
served by the app itself. (What the page looks like: scripts/docs_screenshot.py.)"""

from __future__ import annotations

import re

import httpx2
import pytest

from tests.api.helpers import MEMORY_ONLY

pytestmark = MEMORY_ONLY

PAGES = ["/docs", "/redoc"]
# src="...", href="...", spec-url="...", and the `url: '...'` Swagger UI is started with.
REFERENCE = re.compile(r"""(?:\bsrc|\bhref|\bspec-url)\s*=\s*["']([^"']+)["']|\burl:\s*'([^']+)'""")
EXPECTED_TYPES = {
    ".js": "javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".json": "application/json",
}


def references(html: str) -> list[str]:
    return [a or b for a, b in REFERENCE.findall(html)]


@pytest.mark.parametrize("page", PAGES)
async def test_docs_pages_reference_no_other_host(client: httpx2.AsyncClient, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert not re.search(r"https?://|(?<![:\w])//[\w.-]+\.\w", html), html
    assert references(html), "the page should load its assets"
    for url in references(html):
        assert url.startswith("/"), url


@pytest.mark.parametrize("page", PAGES)
async def test_every_asset_of_the_docs_pages_is_served_by_the_app(
    client: httpx2.AsyncClient, page: str
) -> None:
    html = (await client.get(page)).text
    for url in references(html):
        asset = await client.get(url)
        assert asset.status_code == 200, url
        suffix = url[url.rfind(".") :]
        assert EXPECTED_TYPES[suffix] in asset.headers["content-type"], url
        assert len(asset.content) > 100, url


async def test_swagger_ui_loads_the_api_document_and_its_script(
    client: httpx2.AsyncClient,
) -> None:
    urls = references((await client.get("/docs")).text)
    assert "/api/v1/openapi.json" in urls
    bundle = next(u for u in urls if u.endswith("swagger-ui-bundle.js"))
    assert "SwaggerUIBundle" in (await client.get(bundle)).text


async def test_redoc_loads_the_api_document_and_its_script(client: httpx2.AsyncClient) -> None:
    urls = references((await client.get("/redoc")).text)
    assert "/api/v1/openapi.json" in urls
    bundle = next(u for u in urls if u.endswith("redoc.standalone.js"))
    assert "Redoc" in (await client.get(bundle)).text


async def test_the_oauth2_redirect_page_of_swagger_ui_is_served(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.get("/docs/oauth2-redirect")
    assert response.status_code == 200
    assert "swaggerUIRedirectOauth2" in response.text
