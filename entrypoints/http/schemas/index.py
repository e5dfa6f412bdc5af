"""Body of the index at /, /api and /api/v1: where a client goes from here."""

from __future__ import annotations

from pydantic import BaseModel, Field


class IndexLinks(BaseModel):
    """Paths on this server (the deployment's root path included)."""

    api: str = Field(description="The RealWorld API root (what RealWorld clients call APIURL)")
    apiV1: str = Field(description="The versioned API root; the OpenAPI document lists it")
    docs: str = Field(description="Swagger UI")
    redoc: str = Field(description="ReDoc")
    openapi: str = Field(description="The OpenAPI document")
    health: str = Field(description="Readiness: the dependencies answer")
    live: str = Field(description="Liveness: the process is up")
    jwks: str = Field(description="Public keys that verify access tokens")


class IndexResponse(BaseModel):
    name: str
    summary: str
    version: str
    links: IndexLinks
