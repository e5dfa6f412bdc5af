"""FastAPI dependencies: resolve use cases from the container; authenticate the caller."""

from __future__ import annotations

import typing
import weakref
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import punq
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from fastapi.security.base import SecurityBase

from core.auth.authentication import Authenticate, Credentials
from core.auth.errors import InvalidToken
from core.users.model import Actor, Scope

T = TypeVar("T")


def provide(kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency resolving `kind` from the app's container. Each route module names its
    use cases once, at the top: `PublishArticleDep = Annotated[PublishArticle,
    Depends(provide(PublishArticle))]`, so a route's signature lists aliases only.

    `async def` although it never awaits: FastAPI runs a plain `def` dependency in the thread
    pool, a thread hop per request for a dictionary lookup."""

    async def resolve(request: Request) -> T:
        return resolved_from(request, kind)

    return resolve


def resolved_from(request: Request, kind: type[T]) -> T:
    """`kind` from the app's container, asked of punq once per container: what routes resolve
    (use cases, Authenticate) is registered as a singleton or an instance (container.py), and
    punq's lookup cost ~5 us per call, twice per request."""
    global _last
    container: punq.Container = request.app.state.container
    last_container, resolved = _last
    if last_container() is not container:  # a weak-key lookup makes a weakref: not per call
        found_map = _resolved.get(container)
        if found_map is None:
            found_map = _resolved[container] = {}
        resolved = found_map
        _last = (weakref.ref(container), resolved)
    found = resolved.get(kind)
    if found is None:
        found = resolved[kind] = container.resolve(kind)
    return typing.cast(T, found)


# Per container (tests build one per test, and the app may be re-pointed at another one).
_resolved: weakref.WeakKeyDictionary[punq.Container, dict[type, Any]] = weakref.WeakKeyDictionary()
# The last container asked and its map: one app serves a process (tests build several).
_last: tuple[Callable[[], punq.Container | None], dict[type, Any]] = (lambda: None, {})


# RealWorld sends `Authorization: Token <jwt>`; `Bearer <jwt>` is accepted too. Declared as an
# API-key header so Swagger's "Authorize" takes the whole value ("Token eyJ...").
authorization_header = APIKeyHeader(
    name="Authorization",
    scheme_name="Token",
    description="`Token <jwt>` (RealWorld) or `Bearer <jwt>`, from login or registration.",
    auto_error=False,
)
# The same header, documented as OAuth2 so Swagger can log in through /api/v1/auth/token.
oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    scheme_name="OAuth2",
    description="Password grant at /api/v1/auth/token (username = email).",
    auto_error=False,
)
api_key_header = APIKeyHeader(
    name="X-API-Key",
    scheme_name="ApiKey",
    description="A scoped API key from POST /api/v1/user/api-keys.",
    auto_error=False,
)
_SCHEMES = {"token", "bearer"}
MAX_CREDENTIAL_LENGTH = 4_096


def _token_from(header: str | None) -> str | None:
    if header is None or header.strip() == "":
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() not in _SCHEMES or token.strip() == "":
        raise InvalidToken("authorization header must be 'Token <jwt>' or 'Bearer <jwt>'")
    return token.strip()


def _credentials(authorization: str | None, api_key: str | None) -> Credentials:
    if api_key is not None and len(api_key) > MAX_CREDENTIAL_LENGTH:
        api_key = "x"  # invalid, without carrying the oversized value any further
    return Credentials(token=_token_from(authorization), api_key=api_key or None)


# The schemes a dependency below accepts, as the OpenAPI document lists them (components and
# each operation's `security`, see entrypoints.http.docs.document_security). The
# dependencies read the two headers themselves instead of taking the scheme objects as
# sub-dependencies: FastAPI solves each sub-dependency on every request, and those three cost
# a quarter of the CPU of an authenticated article read (in process, 433 -> 313 us).
CREDENTIAL_SCHEMES: tuple[SecurityBase, ...] = (authorization_header, oauth2_scheme, api_key_header)
_taking_credentials: set[Callable[..., Any]] = set()


def takes_credentials(dependency: Callable[..., Any]) -> bool:
    """Whether `dependency` reads the caller's credentials (CREDENTIAL_SCHEMES)."""
    return dependency in _taking_credentials


def _sent_credentials(request: Request) -> Credentials:
    """The first Authorization and X-API-Key values, as `request.headers.get` reads them
    (ASGI header names are lower case), in one pass without building a Headers object."""
    authorization = api_key = None
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            if authorization is None:
                authorization = value.decode("latin-1")
        elif name == b"x-api-key" and api_key is None:
            api_key = value.decode("latin-1")
    return _credentials(authorization, api_key)


def authenticated(
    scope: Scope | None = None, *, session_only: bool = False
) -> Callable[..., Awaitable[Actor]]:
    """A dependency giving the caller: a token (session), or an API key with `scope`."""

    async def dependency(request: Request) -> Actor:
        authenticate = resolved_from(request, Authenticate)
        return await authenticate.execute(
            _sent_credentials(request), scope=scope, session_only=session_only
        )

    _taking_credentials.add(dependency)
    return dependency


async def optional_user(request: Request) -> Actor | None:
    """Anonymous when no credential is sent; a credential that is sent must be valid."""
    credentials = _sent_credentials(request)
    if credentials.token is None and credentials.api_key is None:
        return None
    return await resolved_from(request, Authenticate).execute(credentials)


_taking_credentials.add(optional_user)


async def client_address(request: Request) -> str | None:
    """The peer address (uvicorn resolves proxy headers only from FORWARDED_ALLOW_IPS).
    `async def`: no thread hop (see `provide`)."""
    return request.client.host if request.client else None


CurrentUser = Annotated[Actor, Depends(authenticated())]
SessionUser = Annotated[Actor, Depends(authenticated(session_only=True))]
OptionalUser = Annotated[Actor | None, Depends(optional_user)]
ArticlesWriter = Annotated[Actor, Depends(authenticated(Scope.ARTICLES_WRITE))]
CommentsWriter = Annotated[Actor, Depends(authenticated(Scope.COMMENTS_WRITE))]
SocialWriter = Annotated[Actor, Depends(authenticated(Scope.SOCIAL_WRITE))]
ProfileWriter = Annotated[Actor, Depends(authenticated(Scope.PROFILE_WRITE))]
FeedReader = Annotated[Actor, Depends(authenticated(Scope.FEED_READ))]
MediaWriter = Annotated[Actor, Depends(authenticated(Scope.MEDIA_WRITE))]
WebhooksWriter = Annotated[Actor, Depends(authenticated(Scope.WEBHOOKS_WRITE))]
ClientAddress = Annotated[str | None, Depends(client_address)]
