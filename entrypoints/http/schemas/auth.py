"""Bodies of the OAuth2 token endpoint, API keys and the admin API."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from core.auth.model import API_KEY_NAME_MAX, api_key_name_of, scopes_of
from core.auth.views import ApiKeyView, TokenPair, UserPage
from core.users.model import Role, Scope, User
from entrypoints.http.schemas.common import EXAMPLE_TIME, EXAMPLE_TOKEN, checked_by, iso_utc

# A new API key's fields, checked by the core's rule for each (see checked_by). An unknown
# scope fails the `Scope` enum first; `scopes_of` adds "at least one".
ApiKeyName = Annotated[str, Field(max_length=API_KEY_NAME_MAX), checked_by(api_key_name_of)]
ApiKeyScopes = Annotated[list[Scope], Field(max_length=len(Scope)), checked_by(scopes_of)]

EXAMPLE_API_KEY: dict[str, Any] = {
    "id": "0b7c6a52-3f1e-4d8a-9c55-2e6f4a1b9d30",
    "name": "ci publisher",
    "prefix": "3f9a0c1d",
    "scopes": ["articles:write"],
    "createdAt": EXAMPLE_TIME,
    "lastUsedAt": None,
    "key": None,
}
EXAMPLE_ADMIN_USER: dict[str, Any] = {
    "username": "jake",
    "email": "jake@jake.jake",
    "role": "user",
    "active": True,
    "bio": "I work at statefarm",
    "image": None,
    "createdAt": EXAMPLE_TIME,
}


class TokenResponse(BaseModel):
    """RFC 6749 section 5.1."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": EXAMPLE_TOKEN,
                    "token_type": "Bearer",
                    "expires_in": 900,
                    "refresh_token": "rt_4QmZ0pX9c2Vb7LkT1sYw8NfE3uHj6GaD",
                    "scope": "",
                }
            ]
        }
    )

    access_token: str
    token_type: str = Field(default="Bearer", examples=["Bearer"])
    expires_in: int = Field(examples=[900])
    refresh_token: str
    scope: str = ""

    @classmethod
    def of(cls, pair: TokenPair) -> TokenResponse:
        return cls(
            access_token=pair.access_token,
            expires_in=pair.expires_in,
            refresh_token=pair.refresh_token,
            scope=pair.scope,
        )


class OAuthErrorResponse(BaseModel):
    """RFC 6749 section 5.2 (the token endpoint only; every other route uses `errors`)."""

    error: str = Field(examples=["invalid_grant"])
    error_description: str = Field(examples=["refresh token is invalid or expired"])


class NewApiKeyRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "ci publisher", "scopes": ["articles:write"]}]}
    )

    name: ApiKeyName = Field(examples=["ci publisher"])
    scopes: ApiKeyScopes = Field(examples=[["articles:write"]])


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    createdAt: str
    lastUsedAt: str | None
    key: str | None = Field(
        default=None, description="The full key: in the creation answer only, never again."
    )

    @classmethod
    def of(cls, view: ApiKeyView) -> ApiKeyOut:
        last = view.last_used_at
        return cls(
            id=view.id,
            name=view.name,
            prefix=view.prefix,
            scopes=list(view.scopes),
            createdAt=iso_utc(view.created_at),
            lastUsedAt=None if last is None else iso_utc(last),
            key=view.key,
        )


class ApiKeyResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "apiKey": {
                        **EXAMPLE_API_KEY,
                        "key": "cdt_3f9a0c1d_Yp2mR8vQ1xW5zL0nB7cJ4dF6hK9sT3uV0wX2yZ4aB5c",
                    }
                }
            ]
        }
    )

    apiKey: ApiKeyOut


class ApiKeysResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"apiKeys": [EXAMPLE_API_KEY]}]})

    apiKeys: list[ApiKeyOut]


class AdminUser(BaseModel):
    username: str
    email: str
    role: Role
    active: bool
    bio: str
    image: str | None
    createdAt: str

    @classmethod
    def of(cls, user: User) -> AdminUser:
        return cls(
            username=user.username,
            email=user.email,
            role=user.role,
            active=user.active,
            bio=user.bio,
            image=user.image,
            createdAt=iso_utc(user.created_at),
        )


class AdminUsersResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"users": [EXAMPLE_ADMIN_USER], "nextCursor": "5f0c1a2b3c4d4e5f8a9b0c1d2e3f4a5b"}
            ]
        }
    )

    users: list[AdminUser]
    nextCursor: str | None

    @classmethod
    def of(cls, page: UserPage) -> AdminUsersResponse:
        cursor = None if page.next_cursor is None else page.next_cursor.hex
        return cls(users=[AdminUser.of(u) for u in page.users], nextCursor=cursor)


class AdminUserResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"user": EXAMPLE_ADMIN_USER}]})

    user: AdminUser


class UserAccessRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"role": "moderator"}, {"active": False}]}
    )

    role: Role | None = None
    active: bool | None = None


class JwkSetResponse(BaseModel):
    """RFC 7517 JWK Set: the public keys (Ed25519, `OKP`) that verify our access tokens;
    empty while tokens are signed with the shared secret (HS256)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "keys": [
                        {
                            "kty": "OKP",
                            "crv": "Ed25519",
                            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                            "kid": "2026-11",
                            "alg": "EdDSA",
                            "use": "sig",
                        }
                    ]
                }
            ]
        }
    )

    keys: list[dict[str, Any]]
