"""Access tokens: HS256 JWTs made and checked with joserfc, algorithm pinned, claims enforced."""

from __future__ import annotations

import uuid
from datetime import timedelta

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from joserfc.jwt import JWTClaimsRegistry

from core.shared.clock import Clock
from core.shared.ids import UserId
from core.users.errors import InvalidToken

ALGORITHM = "HS256"
# Longer than any token we issue; rejects junk before any parsing work.
MAX_TOKEN_LENGTH = 4_096


class JoseTokenIssuer:
    """TokenIssuer over joserfc.

    Tokens carry `sub` (user id), `iat`, `exp`, `iss` and `aud`; verification accepts only
    HS256 (so `alg: none` and algorithm swaps fail), requires every claim, and allows
    `leeway` seconds of clock skew.
    """

    def __init__(
        self,
        secret: str,
        ttl: timedelta,
        clock: Clock,
        *,
        issuer: str = "conduit",
        audience: str = "conduit",
        leeway_s: int = 30,
    ) -> None:
        self._key = OctKey.import_key(secret.encode())
        self._ttl = int(ttl.total_seconds())
        self._clock = clock
        self._issuer, self._audience, self._leeway = issuer, audience, leeway_s

    def _now(self) -> int:
        return int(self._clock.now().timestamp())

    def issue(self, user_id: UserId) -> str:
        now = self._now()
        claims = {
            "sub": str(user_id),
            "iat": now,
            "nbf": now,
            "exp": now + self._ttl,
            "iss": self._issuer,
            "aud": self._audience,
        }
        return jwt.encode({"alg": ALGORITHM, "typ": "JWT"}, claims, self._key)

    def verify(self, token: str) -> UserId:
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken()
        registry = JWTClaimsRegistry(
            now=self._now,
            leeway=self._leeway,
            sub={"essential": True},
            iat={"essential": True},
            exp={"essential": True},
            iss={"essential": True, "value": self._issuer},
            aud={"essential": True, "value": self._audience},
        )
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
            registry.validate(decoded.claims)
            return UserId(uuid.UUID(str(decoded.claims["sub"])))
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise InvalidToken() from exc
