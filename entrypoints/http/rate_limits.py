"""Rate limiting over HTTP: a router dependency that counts each API request and leaves its
decision in the scope, whose RateLimit-* headers EdgeMiddleware puts on the answer (errors
included).

Header names: the IETF draft's `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`
(seconds until the quota is full again), plus `Retry-After` on 429.
"""

from __future__ import annotations

import punq
from fastapi import Request

from core.auth.errors import InvalidToken
from core.auth.model import api_key_prefix
from core.auth.ports import TokenIssuer
from core.shared.rate_limits import ApplyRateLimit, RateDecision, RouteClass, TooManyRequests
from entrypoints.http.deps import resolved_from

_AUTH_ROUTES = ("/users", "/users/login", "/auth/token", "/auth/oidc/exchange")
STATE_KEY = "rate_limit"


def route_class(method: str, path: str) -> RouteClass:
    if method in {"GET", "HEAD"}:
        return RouteClass.READ
    if method == "POST" and path.endswith(_AUTH_ROUTES):
        return RouteClass.AUTH
    return RouteClass.WRITE


def caller_of(request: Request) -> str:
    """API key, else user, else client address. Identifies without a database round trip:
    an invalid credential simply counts against the address."""
    raw_key = request.headers.get("x-api-key")
    if raw_key and (prefix := api_key_prefix(raw_key[:200])):
        return f"key:{prefix}"
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() in {"token", "bearer"} and token.strip():
        container: punq.Container = request.app.state.container
        tokens: TokenIssuer = container.resolve(TokenIssuer)
        try:
            return f"user:{tokens.verify(token.strip()).user_id}"
        except InvalidToken:
            pass
    return f"addr:{request.client.host if request.client else 'unknown'}"


async def rate_limit(request: Request) -> None:
    """Router dependency: count this request; 429 past the limit (503 if failing closed)."""
    if request.method == "OPTIONS":
        return
    apply = resolved_from(request, ApplyRateLimit)
    path_class = route_class(request.method, request.url.path)
    try:
        decision = await apply.execute(path_class, caller_of(request))
    except TooManyRequests as refused:
        request.state.rate_limit = refused.decision
        raise
    request.state.rate_limit = decision


def rate_limit_headers(decision: RateDecision) -> list[tuple[bytes, bytes]]:
    """The RateLimit-* headers of a decision (EdgeMiddleware puts them on every answer that
    has one, errors included)."""
    return [
        (b"ratelimit-limit", str(decision.limit).encode()),
        (b"ratelimit-remaining", str(decision.remaining).encode()),
        (b"ratelimit-reset", str(decision.reset_s).encode()),
    ]
