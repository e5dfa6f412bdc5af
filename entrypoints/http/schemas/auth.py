"""Bodies of the OAuth2 token endpoint, API keys and the admin API."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from core.auth.model import API_KEY_NAME_MAX
from core.auth.use_cases import ApiKeyView, TokenPair, UserPage
from core.users.model import Role, Scope, User
from entrypoints.http.schemas.common import iso_utc


class TokenResponse(BaseModel):
    """RFC 6749 section 5.1."""

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
    name: str = Field(max_length=API_KEY_NAME_MAX, examples=["ci publisher"])
    scopes: list[Scope] = Field(max_length=len(Scope), examples=[["articles:write"]])


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
    apiKey: ApiKeyOut


class ApiKeysResponse(BaseModel):
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
    users: list[AdminUser]
    nextCursor: str | None

    @classmethod
    def of(cls, page: UserPage) -> AdminUsersResponse:
        cursor = None if page.next_cursor is None else page.next_cursor.hex
        return cls(users=[AdminUser.of(u) for u in page.users], nextCursor=cursor)


class AdminUserResponse(BaseModel):
    user: AdminUser


class UserAccessRequest(BaseModel):
    role: Role | None = None
    active: bool | None = None
