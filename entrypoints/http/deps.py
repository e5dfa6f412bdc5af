"""FastAPI dependencies: resolve use cases from the container; parse the caller's token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import punq
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from core.users.errors import InvalidToken
from core.users.model import Actor
from core.users.use_cases import Authenticate

T = TypeVar("T")


def provide(kind: type[T]) -> Callable[[Request], T]:
    def resolve(request: Request) -> T:
        container: punq.Container = request.app.state.container
        resolved: T = container.resolve(kind)
        return resolved

    return resolve


# RealWorld sends `Authorization: Token <jwt>`; `Bearer <jwt>` is accepted too. Declared as an
# API-key header so Swagger's "Authorize" takes the whole value ("Token eyJ...").
authorization_header = APIKeyHeader(
    name="Authorization",
    scheme_name="Token",
    description="`Token <jwt>` (RealWorld) or `Bearer <jwt>`, from login or registration.",
    auto_error=False,
)
_SCHEMES = {"token", "bearer"}


def _token_from(header: str | None) -> str | None:
    if header is None or header.strip() == "":
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() not in _SCHEMES or token.strip() == "":
        raise InvalidToken("authorization header must be 'Token <jwt>' or 'Bearer <jwt>'")
    return token.strip()


async def current_user(
    request: Request, header: Annotated[str | None, Depends(authorization_header)]
) -> Actor:
    authenticate = provide(Authenticate)(request)
    return await authenticate.execute(_token_from(header))


async def optional_user(
    request: Request, header: Annotated[str | None, Depends(authorization_header)]
) -> Actor | None:
    """Anonymous when no token is sent; a token that is sent must be valid."""
    token = _token_from(header)
    if token is None:
        return None
    return await provide(Authenticate)(request).execute(token)


CurrentUser = Annotated[Actor, Depends(current_user)]
OptionalUser = Annotated[Actor | None, Depends(optional_user)]
