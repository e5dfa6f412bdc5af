"""Swagger UI at /docs and ReDoc at /redoc, with their JavaScript and CSS served by the app
itself: the pages work with no internet (FastAPI's own pages load them from a CDN).

The assets come from the `fastapi-offline` package (MIT), which ships the minified
Swagger UI 5 bundle and stylesheet and the ReDoc 2 standalone bundle; its version is
pinned in pyproject.toml. We use its files only, not its FastAPI subclass.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from entrypoints.http.deps import CREDENTIAL_SCHEMES, takes_credentials

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
ASSETS_URL = "/docs/assets"
ASSETS_DIR = files("fastapi_offline") / "static"
SWAGGER_PARAMETERS = {
    # Swagger UI would otherwise send the document to validator.swagger.io for a badge.
    "validatorUrl": None,
    # Keep the token entered under "Authorize" across reloads of the page.
    "persistAuthorization": True,
}


def document_security(app: FastAPI) -> None:
    """List the credential schemes in the OpenAPI document as FastAPI would if the
    authentication dependencies took them as sub-dependencies (they read the headers
    themselves: see entrypoints.http.deps.CREDENTIAL_SCHEMES): each scheme under
    components.securitySchemes, and on every operation that takes credentials
    `security: [{"Token": []}, {"OAuth2": []}, {"ApiKey": []}]` (any one of them)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        secured = False
        for route in app.routes:
            if not (isinstance(route, APIRoute) and route.include_in_schema):
                continue
            if not _takes_credentials(route.dependant):
                continue
            secured = True
            for method in route.methods or ():
                operation = schema["paths"][route.path_format].get(method.lower())
                if operation is not None:
                    operation["security"] = [
                        {scheme.scheme_name: []} for scheme in CREDENTIAL_SCHEMES
                    ]
        if secured:
            schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
            for scheme in CREDENTIAL_SCHEMES:
                schemes[scheme.scheme_name] = jsonable_encoder(
                    scheme.model, by_alias=True, exclude_none=True
                )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def _takes_credentials(dependant: Dependant) -> bool:
    return any(
        (dependency.call is not None and takes_credentials(dependency.call))
        or _takes_credentials(dependency)
        for dependency in dependant.dependencies
    )


def install_docs(app: FastAPI) -> None:
    """Create the app with docs_url=None and redoc_url=None, then call this."""
    openapi_url = app.openapi_url
    assert openapi_url is not None, "the docs need the OpenAPI document"
    app.mount(ASSETS_URL, StaticFiles(directory=str(ASSETS_DIR)), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=root + OAUTH2_REDIRECT_URL,
            swagger_ui_parameters=SWAGGER_PARAMETERS,
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
