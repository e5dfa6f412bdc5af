"""Routes: OAuth2 token endpoint, revocation, log out everywhere, API keys, JWKS."""

from __future__ import annotations

import inspect
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Response

from core.auth.api_keys import CreateApiKey, ListApiKeys, RevokeApiKey
from core.auth.tokens import GrantToken, LogOutEverywhere, PublishKeys, RevokeToken, TokenRequest
from entrypoints.http.deps import ClientAddress, SessionUser, provide
from entrypoints.http.errors import HASHING_BUSY, JSON_BODY_ERRORS, error_responses
from entrypoints.http.schemas.auth import (
    ApiKeyOut,
    ApiKeyResponse,
    ApiKeysResponse,
    JwkSetResponse,
    NewApiKeyRequest,
    OAuthErrorResponse,
    TokenResponse,
)

tokens = APIRouter(tags=["auth"])
api_keys = APIRouter(tags=["api keys"], responses=error_responses(401, 403))
well_known = APIRouter(tags=["auth"])

GrantTokenDep = Annotated[GrantToken, Depends(provide(GrantToken))]
RevokeTokenDep = Annotated[RevokeToken, Depends(provide(RevokeToken))]
LogOutEverywhereDep = Annotated[LogOutEverywhere, Depends(provide(LogOutEverywhere))]
CreateApiKeyDep = Annotated[CreateApiKey, Depends(provide(CreateApiKey))]
ListApiKeysDep = Annotated[ListApiKeys, Depends(provide(ListApiKeys))]
RevokeApiKeyDep = Annotated[RevokeApiKey, Depends(provide(RevokeApiKey))]
PublishKeysDep = Annotated[PublishKeys, Depends(provide(PublishKeys))]

# Form fields are all optional here so that a missing one is an RFC 6749 `invalid_request`
# (400), decided by the use case, not a generic 422.
FormField = Annotated[str | None, Form()]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM = "application/x-www-form-urlencoded"


def form_examples(**examples: dict[str, str]) -> dict[str, Any]:
    """OpenAPI examples of a form body (FastAPI documents the fields, not a whole body)."""
    named = {name: {"summary": name.replace("_", " "), "value": v} for name, v in examples.items()}
    return {"requestBody": {"content": {FORM: {"examples": named}}}}


@tokens.post(
    "/auth/token",
    name="auth:token",
    summary="OAuth2 token endpoint (password and refresh_token grants)",
    description=inspect.getdoc(GrantToken),
    responses={
        **error_responses(413, 422, 429),
        **HASHING_BUSY,
        400: {"model": OAuthErrorResponse, "description": "RFC 6749 error"},
    },
    openapi_extra=form_examples(
        password_grant={
            "grant_type": "password",
            "username": "jake@jake.jake",
            "password": "jakejake",
        },
        refresh_token_grant={
            "grant_type": "refresh_token",
            "refresh_token": "rt_4QmZ0pX9c2Vb7LkT1sYw8NfE3uHj6GaD",
        },
    ),
)
async def token(
    response: Response,
    client: ClientAddress,
    grant: GrantTokenDep,
    grant_type: FormField = None,
    username: FormField = None,
    password: FormField = None,
    refresh_token: FormField = None,
    scope: FormField = None,
) -> TokenResponse:
    pair = await grant.execute(
        TokenRequest(grant_type, username, password, refresh_token, client=client)
    )
    response.headers.update(NO_STORE)
    return TokenResponse.of(pair)


@tokens.post(
    "/auth/revoke",
    name="auth:revoke",
    summary="Revoke a refresh token (RFC 7009)",
    description=inspect.getdoc(RevokeToken),
    response_class=Response,
    responses={
        200: {"description": "Revoked, or not a token we know: the answer is the same"},
        **error_responses(400, 413, 422),
    },
    openapi_extra=form_examples(
        revoke_refresh_token={
            "token": "rt_4QmZ0pX9c2Vb7LkT1sYw8NfE3uHj6GaD",
            "token_type_hint": "refresh_token",
        }
    ),
)
async def revoke(
    revoke_token: RevokeTokenDep, token: FormField = None, token_type_hint: FormField = None
) -> Response:
    await revoke_token.execute(token)
    return Response(status_code=200)


@tokens.post(
    "/auth/logout-all",
    status_code=204,
    name="auth:logout_all",
    summary="Log out everywhere",
    description=inspect.getdoc(LogOutEverywhere),
    responses=error_responses(401, 403),
)
async def logout_all(actor: SessionUser, log_out: LogOutEverywhereDep) -> Response:
    await log_out.execute(actor)
    return Response(status_code=204)


@api_keys.post(
    "/user/api-keys",
    status_code=201,
    name="api_keys:create",
    summary="Create an API key",
    description=inspect.getdoc(CreateApiKey),
    responses=error_responses(*JSON_BODY_ERRORS),
)
async def create_api_key(
    body: NewApiKeyRequest, actor: SessionUser, create: CreateApiKeyDep
) -> ApiKeyResponse:
    view = await create.execute(actor, body.name, [s.value for s in body.scopes])
    return ApiKeyResponse(apiKey=ApiKeyOut.of(view))


@api_keys.get(
    "/user/api-keys",
    name="api_keys:list",
    summary="List your API keys",
    description=inspect.getdoc(ListApiKeys),
)
async def list_api_keys(actor: SessionUser, list_: ListApiKeysDep) -> ApiKeysResponse:
    return ApiKeysResponse(apiKeys=[ApiKeyOut.of(v) for v in await list_.execute(actor)])


@api_keys.delete(
    "/user/api-keys/{key_id}",
    status_code=204,
    name="api_keys:revoke",
    summary="Revoke an API key",
    description=inspect.getdoc(RevokeApiKey),
    responses=error_responses(404, 422),
)
async def revoke_api_key(
    key_id: Annotated[uuid.UUID, Path(examples=["0b7c6a52-3f1e-4d8a-9c55-2e6f4a1b9d30"])],
    actor: SessionUser,
    revoke_key: RevokeApiKeyDep,
) -> Response:
    await revoke_key.execute(actor, key_id)
    return Response(status_code=204)


@well_known.get(
    "/.well-known/jwks.json",
    name="auth:jwks",
    summary="Public keys that verify our access tokens (JWK Set)",
    description=inspect.getdoc(PublishKeys),
)
async def jwks(publish: PublishKeysDep) -> JwkSetResponse:
    return JwkSetResponse.model_validate(await publish.execute())


# What app.py adds under the API prefixes (the JWKS stays at the root, see well_known).
routers = (tokens, api_keys)
