"""Access tokens: JWTs made and checked with joserfc, algorithm pinned per key.

Signing key: HS256 with SECRET_KEY, or Ed25519 (RFC 9864's name for EdDSA over Ed25519)
when a private key is configured; then `jwks()` publishes the public key for others.
Verification also accepts the previous HS256 secrets (SECRET_KEY_PREVIOUS), so the secret
can rotate without logging everyone out. Every key has a `kid`; the token's `kid` picks
the key, and only that key's own algorithm is accepted: `alg: none` and swaps fail.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey, OKPKey
from joserfc.jwt import JWTClaimsRegistry

from core.auth.errors import InvalidToken
from core.auth.model import AccessClaims
from core.shared.clock import Clock
from core.shared.fifo import remember
from core.shared.ids import UserId

# Longer than any token we issue; rejects junk before any parsing work.
MAX_TOKEN_LENGTH = 4_096
VERIFIED_TOKENS_REMEMBERED = 4_096  # ~1 KB each: a few MB at most


@dataclass(frozen=True, slots=True)
class _Verified:
    """What a token that passed every check gives, and its time claims, which each later
    use checks again against the clock (the rest cannot change: the token is the key)."""

    claims: AccessClaims
    exp: float
    nbf: float
    iat: float


@dataclass(frozen=True, slots=True)
class _Key:
    kid: str
    alg: str
    key: OctKey | OKPKey


def _hmac_key(secret: str) -> _Key:
    # kid: a short digest of the secret (never the secret), stable across processes.
    kid = "hs-" + hashlib.sha256(b"conduit-kid:" + secret.encode()).hexdigest()[:12]
    return _Key(kid, "HS256", OctKey.import_key(secret.encode()))


def _ed25519_key(pem: str) -> _Key:
    key = OKPKey.import_key(pem)
    if key.curve_name != "Ed25519":
        raise ValueError("JWT_PRIVATE_KEY must be an Ed25519 private key (PEM)")
    kid = "ed-" + key.thumbprint()[:12]
    return _Key(kid, "Ed25519", OKPKey.import_key(pem, {"kid": kid}))


class JoseTokenIssuer:
    """TokenIssuer over joserfc.

    Tokens carry `sub` (user id), `ver` (the user's token version), `iat`, `nbf`, `exp`,
    `iss` and `aud`; all are required on verification, with `leeway_s` of clock skew.
    """

    def __init__(
        self,
        secret: str,
        ttl: timedelta,
        clock: Clock,
        *,
        previous_secrets: tuple[str, ...] = (),
        private_key_pem: str | None = None,
        issuer: str = "conduit",
        audience: str = "conduit",
        leeway_s: int = 30,
    ) -> None:
        current = _hmac_key(secret)
        self._signing = _ed25519_key(private_key_pem) if private_key_pem else current
        verifying = [self._signing, current, *(_hmac_key(s) for s in previous_secrets if s)]
        self._keys = {k.kid: k for k in verifying}
        self._ttl = ttl
        self._clock = clock
        self._issuer, self._audience, self._leeway = issuer, audience, leeway_s
        self._claims_registry = JWTClaimsRegistry(
            now=self._now,  # called at each validation
            leeway=leeway_s,
            sub={"essential": True},
            iat={"essential": True},
            nbf={"essential": True},
            exp={"essential": True},
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
        )
        # token -> what it gave, for tokens that passed every check: a client sends the same
        # token with every request, and the checks (parse, base64, HMAC or Ed25519, then
        # joserfc's claims registry) were most of the cost of authenticating one. What
        # cannot change for a given token string (signature, kid, alg, iss, aud, sub, ver, the
        # claims' types) is taken as known; its `exp`, `nbf` and `iat` are checked against
        # the clock on every use, as joserfc does, leeway included. Revocation (the user's
        # token version, deactivation) is the caller's check, on every request.
        self._verified: dict[str, _Verified] = {}

    def _now(self) -> int:
        return int(self._clock.now().timestamp())

    def issue(self, user_id: UserId, *, version: int = 0, ttl: timedelta | None = None) -> str:
        now = self._now()
        lifetime = int((ttl or self._ttl).total_seconds())
        claims = {
            "sub": str(user_id),
            "ver": version,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "iss": self._issuer,
            "aud": self._audience,
            "jti": uuid.uuid4().hex,
        }
        header = {"alg": self._signing.alg, "typ": "JWT", "kid": self._signing.kid}
        return jwt.encode(header, claims, self._signing.key, algorithms=[self._signing.alg])

    def verify(self, token: str) -> AccessClaims:
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken()
        known = self._verified.get(token)
        if known is not None:
            now, leeway = self._now(), self._leeway
            # joserfc's own comparisons (JWTClaimsRegistry.validate_exp/nbf/iat).
            if known.exp <= now - leeway or known.nbf > now + leeway or known.iat > now + leeway:
                raise InvalidToken()
            return known.claims
        try:
            claims = self._signed_claims(token)
            self._claims_registry.validate(claims)
            version = claims.get("ver")
            if not isinstance(version, int) or isinstance(version, bool):
                raise InvalidToken()
            expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
            access = AccessClaims(UserId(uuid.UUID(str(claims["sub"]))), version, expires_at)
        except (JoseError, ValueError, TypeError, KeyError, UnicodeError) as exc:
            raise InvalidToken() from exc
        verified = _Verified(access, claims["exp"], claims["nbf"], claims["iat"])
        remember(self._verified, token, verified, VERIFIED_TOKENS_REMEMBERED)
        return access

    def _signed_claims(self, token: str) -> dict[str, Any]:
        """The claims of a token signed by one of our keys (JoseError otherwise)."""
        header = jws.extract_compact(token.encode()).protected
        key = self._keys.get(str(header.get("kid", "")))
        if key is None or header.get("alg") != key.alg:
            raise InvalidToken()
        return dict(jwt.decode(token, key.key, algorithms=[key.alg]).claims)

    def jwks(self) -> dict[str, Any]:
        """Public keys for other services (asymmetric signing only; HMAC keys stay secret)."""
        keys = [
            {**k.key.as_dict(private=False), "kid": k.kid, "alg": k.alg, "use": "sig"}
            for k in self._keys.values()
            if isinstance(k.key, OKPKey)
        ]
        return {"keys": keys}
