"""Routes: OpenID Connect sign-in (login redirect, callback, code exchange) and the caller's
linked identities (issue 15)."""

from __future__ import annotations

import inspect
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from core.identities.links import (
    LinkIdentity,
    ListIdentities,
    StartLink,
    StartLinkInput,
    UnlinkIdentity,
)
from core.identities.signin import (
    ExchangeSignInCode,
    FinishSignIn,
    FinishSignInInput,
    ListProviders,
    StartSignIn,
    StartSignInInput,
)
from entrypoints.http.deps import SessionUser, provide
from entrypoints.http.errors import JSON_BODY_ERRORS, error_responses
from entrypoints.http.schemas.identities import (
    AuthorizationResponse,
    CodeRequest,
    IdentitiesResponse,
    IdentityOut,
    IdentityResponse,
    ProviderOut,
    ProvidersResponse,
    SignInResponse,
    StartLinkRequest,
)

sign_in = APIRouter(tags=["auth"])
identities = APIRouter(tags=["identities"], responses=error_responses(401, 403))

ListProvidersDep = Annotated[ListProviders, Depends(provide(ListProviders))]
StartSignInDep = Annotated[StartSignIn, Depends(provide(StartSignIn))]
FinishSignInDep = Annotated[FinishSignIn, Depends(provide(FinishSignIn))]
ExchangeDep = Annotated[ExchangeSignInCode, Depends(provide(ExchangeSignInCode))]
StartLinkDep = Annotated[StartLink, Depends(provide(StartLink))]
LinkIdentityDep = Annotated[LinkIdentity, Depends(provide(LinkIdentity))]
ListIdentitiesDep = Annotated[ListIdentities, Depends(provide(ListIdentities))]
UnlinkIdentityDep = Annotated[UnlinkIdentity, Depends(provide(UnlinkIdentity))]

ProviderId = Annotated[str, Path(max_length=64, examples=["acme"])]
# Nothing about a sign-in may be cached: each redirect carries a single-use secret.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
REDIRECT: dict[int | str, dict[str, Any]] = {302: {"description": "Redirect (Location)"}}


def callback_uri(request: Request, provider: str) -> str:
    """Our callback for `provider`, as the provider must have it registered."""
    return str(request.url_for("oidc:callback", provider=provider))


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=302, headers=NO_STORE)


@sign_in.get(
    "/auth/providers",
    name="oidc:providers",
    summary="Identity providers one can sign in with",
    description=inspect.getdoc(ListProviders),
)
async def providers(request: Request, list_: ListProvidersDep) -> ProvidersResponse:
    return ProvidersResponse(
        providers=[
            ProviderOut.of(p, request.url_for("oidc:login", provider=p.id).path)
            for p in await list_.execute()
        ]
    )


@sign_in.get(
    "/auth/oidc/{provider}/login",
    name="oidc:login",
    summary="Sign in with an identity provider (redirects to it)",
    description=inspect.getdoc(StartSignIn),
    response_class=RedirectResponse,
    status_code=302,
    responses={**REDIRECT, **error_responses(400, 404, 422, 502, 504)},
)
async def login(
    request: Request,
    provider: ProviderId,
    start: StartSignInDep,
    redirect_uri: Annotated[str, Query(max_length=2_000)],
) -> RedirectResponse:
    url = await start.execute(
        StartSignInInput(provider, redirect_uri, callback_uri(request, provider))
    )
    return redirect(url)


@sign_in.get(
    "/auth/oidc/{provider}/callback",
    name="oidc:callback",
    summary="Where the identity provider sends the browser back",
    description=inspect.getdoc(FinishSignIn),
    response_class=RedirectResponse,
    status_code=302,
    responses={**REDIRECT, **error_responses(400, 401, 403, 404, 422, 502, 504)},
)
async def callback(
    provider: ProviderId,
    finish: FinishSignInDep,
    state: Annotated[str | None, Query(max_length=200)] = None,
    code: Annotated[str | None, Query(max_length=2_000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> RedirectResponse:
    return redirect(await finish.execute(FinishSignInInput(provider, state, code, error)))


@sign_in.post(
    "/auth/oidc/exchange",
    name="oidc:exchange",
    summary="Exchange a sign-in's one-time code for tokens",
    description=inspect.getdoc(ExchangeSignInCode),
    responses=error_responses(*JSON_BODY_ERRORS, 429),
)
async def exchange(body: CodeRequest, response: Response, trade: ExchangeDep) -> SignInResponse:
    response.headers.update(NO_STORE)
    return SignInResponse.of(await trade.execute(body.code))


@identities.post(
    "/user/identities/authorization",
    name="identities:authorize",
    summary="Start linking an identity provider to your account",
    description=inspect.getdoc(StartLink),
    responses=error_responses(*JSON_BODY_ERRORS, 404, 502, 504),
)
async def start_link(
    request: Request, body: StartLinkRequest, actor: SessionUser, start: StartLinkDep
) -> AuthorizationResponse:
    url = await start.execute(
        actor,
        StartLinkInput(body.provider, body.redirect_uri, callback_uri(request, body.provider)),
    )
    return AuthorizationResponse(authorization_url=url)


@identities.post(
    "/user/identities",
    status_code=201,
    name="identities:link",
    summary="Link an identity to your account (with the code from a link's callback)",
    description=inspect.getdoc(LinkIdentity),
    responses=error_responses(*JSON_BODY_ERRORS),
)
async def link(body: CodeRequest, actor: SessionUser, link_: LinkIdentityDep) -> IdentityResponse:
    return IdentityResponse(identity=IdentityOut.of(await link_.execute(actor, body.code)))


@identities.get(
    "/user/identities",
    name="identities:list",
    summary="List the identities linked to your account",
    description=inspect.getdoc(ListIdentities),
)
async def list_identities(actor: SessionUser, list_: ListIdentitiesDep) -> IdentitiesResponse:
    return IdentitiesResponse(identities=[IdentityOut.of(v) for v in await list_.execute(actor)])


@identities.delete(
    "/user/identities/{identity_id}",
    status_code=204,
    name="identities:unlink",
    summary="Unlink an identity (not the last way to sign in)",
    description=inspect.getdoc(UnlinkIdentity),
    responses=error_responses(404, 422),
)
async def unlink(
    identity_id: Annotated[uuid.UUID, Path(examples=["0b7c6a52-3f1e-4d8a-9c55-2e6f4a1b9d30"])],
    actor: SessionUser,
    unlink_: UnlinkIdentityDep,
) -> Response:
    await unlink_.execute(actor, identity_id)
    return Response(status_code=204)


# What app.py adds under the API prefixes.
routers = (sign_in, identities)
