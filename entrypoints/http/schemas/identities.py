"""Bodies of OpenID Connect sign-in and of linked identities (issue 15)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.identities.model import ProviderInfo
from core.identities.views import IdentityView, SignedIn
from entrypoints.http.schemas.common import EXAMPLE_TIME, EXAMPLE_TOKEN, iso_utc
from entrypoints.http.schemas.users import User, UserResponse

EXAMPLE_IDENTITY: dict[str, Any] = {
    "id": "0b7c6a52-3f1e-4d8a-9c55-2e6f4a1b9d30",
    "provider": "acme",
    "subject": "248289761001",
    "email": "jake@acme.example",
    "createdAt": EXAMPLE_TIME,
}


class ProviderOut(BaseModel):
    id: str = Field(examples=["acme"])
    issuer: str = Field(examples=["https://id.acme.example"])
    loginUrl: str = Field(
        examples=["/api/auth/oidc/acme/login"],
        description="Send the browser here with ?redirect_uri=<an allow-listed front-end URL>.",
    )

    @classmethod
    def of(cls, provider: ProviderInfo, login_url: str) -> ProviderOut:
        return cls(id=provider.id, issuer=provider.issuer, loginUrl=login_url)


class ProvidersResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "providers": [
                        {
                            "id": "acme",
                            "issuer": "https://id.acme.example",
                            "loginUrl": "/api/auth/oidc/acme/login",
                        }
                    ]
                }
            ]
        }
    )

    providers: list[ProviderOut]


class CodeRequest(BaseModel):
    """A one-time code from a sign-in callback's redirect."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "q3BvM6y0...Xw"}]})

    code: str = Field(min_length=1, max_length=200)


class SignInResponse(BaseModel):
    """The RealWorld user (with its token) and what POST /api/auth/token answers."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user": {
                        "email": "jake@acme.example",
                        "token": EXAMPLE_TOKEN,
                        "username": "jake",
                        "bio": "",
                        "image": None,
                    },
                    "access_token": EXAMPLE_TOKEN,
                    "refresh_token": "rt_4QmZ0pX9c2Vb7LkT1sYw8NfE3uHj6GaD",
                    "token_type": "Bearer",
                    "expires_in": 900,
                }
            ]
        }
    )

    user: User
    access_token: str
    refresh_token: str
    token_type: str = Field(default="Bearer", examples=["Bearer"])
    expires_in: int

    @classmethod
    def of(cls, signed_in: SignedIn) -> SignInResponse:
        pair = signed_in.tokens
        return cls(
            user=UserResponse.of(signed_in.user).user,
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
        )


class StartLinkRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"provider": "acme", "redirect_uri": "https://app.example/linked"}]
        }
    )

    provider: str = Field(min_length=1, max_length=64)
    redirect_uri: str = Field(min_length=1, max_length=2_000)


class AuthorizationResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "authorization_url": "https://id.acme.example/authorize?response_type=code"
                    "&client_id=conduit&state=...&nonce=...&code_challenge=...",
                }
            ]
        }
    )

    authorization_url: str = Field(
        description="Send the browser here; it comes back to redirect_uri with ?code=..."
    )


class IdentityOut(BaseModel):
    id: uuid.UUID
    provider: str
    subject: str
    email: str | None
    createdAt: str

    @classmethod
    def of(cls, view: IdentityView) -> IdentityOut:
        return cls(
            id=view.id,
            provider=view.provider,
            subject=view.subject,
            email=view.email,
            createdAt=iso_utc(view.created_at),
        )


class IdentityResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"identity": EXAMPLE_IDENTITY}]})

    identity: IdentityOut


class IdentitiesResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"identities": [EXAMPLE_IDENTITY]}]})

    identities: list[IdentityOut]
