"""The index at `/`, `/api` and `/api/v1`: a small JSON document that links to the docs, the
OpenAPI document, the health probes and the API roots, for whoever opens the server's
address first (a person, curl, an API client). Not part of the OpenAPI document."""

from __future__ import annotations

from fastapi import FastAPI, Request

from entrypoints.http.docs import DOCS_URL, REDOC_URL
from entrypoints.http.schemas.index import IndexLinks, IndexResponse


def install_index(app: FastAPI, *, api_root: str, versioned_root: str) -> None:
    """Call after the routers are included: the links name routes by their names."""
    openapi_url = app.openapi_url
    assert openapi_url is not None, "the index links the OpenAPI document"

    async def index(request: Request) -> IndexResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")

        def path_of(name: str) -> str:
            return root + str(app.url_path_for(name))

        return IndexResponse(
            name=app.title,
            summary=app.summary or "",
            version=app.version,
            links=IndexLinks(
                api=root + api_root,
                apiV1=root + versioned_root,
                docs=root + DOCS_URL,
                redoc=root + REDOC_URL,
                openapi=root + openapi_url,
                health=path_of("health:ready"),
                live=path_of("health:live"),
                jwks=path_of("auth:jwks"),
            ),
        )

    for name, path in (("root", "/"), ("api", api_root), ("api_v1", versioned_root)):
        app.add_api_route(
            path, index, methods=["GET"], include_in_schema=False, name=f"index:{name}"
        )
