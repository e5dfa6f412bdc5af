"""Identity providers, linked identities, the pending sign-ins and their one-time codes."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from core.shared.errors import InvalidInput
from core.shared.ids import UserId
from core.users.model import USERNAME_MAX, email_of, image_of, username_of


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    """A configured OpenID provider, as the core sees it (its client secret stays in the
    adapter). `trusted_email_domains`: the domains whose verified emails this provider may
    link to an existing account with the same email."""

    id: str
    issuer: str
    trusted_email_domains: frozenset[str] = frozenset()

    def vouches_for(self, email: str, *, verified: bool) -> bool:
        domain = email.rpartition("@")[2].lower()
        return verified and domain in self.trusted_email_domains


@dataclass(frozen=True, slots=True)
class ProvidedIdentity:
    """Who the provider says signed in: from an ID token whose signature, issuer, audience,
    expiry, nonce and authorized party were checked."""

    issuer: str
    subject: str
    email: str | None = None
    email_verified: bool = False
    name: str | None = None
    preferred_username: str | None = None
    picture: str | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """A provider's subject linked to a local account: it signs that account in."""

    id: uuid.UUID
    user_id: UserId
    provider: str
    issuer: str
    subject: str
    email: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OidcPolicy:
    """From settings: where sign-ins may return to, and how long their secrets live."""

    redirect_allowlist: frozenset[str] = frozenset()
    state_ttl: timedelta = timedelta(minutes=10)
    code_ttl: timedelta = timedelta(seconds=60)

    def allows(self, redirect_uri: str) -> bool:
        # Exact match: a prefix or pattern match is how open redirects happen.
        return redirect_uri in self.redirect_allowlist


class Purpose(StrEnum):
    SIGN_IN = "sign_in"
    LINK = "link"


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    """What the login step keeps, under its `state`, for the callback: kept server-side
    (database or Redis), single use, for OidcPolicy.state_ttl."""

    provider: str
    redirect_uri: str  # the front end's, allow-listed
    callback_uri: str  # ours, as sent to the provider (the token request repeats it)
    nonce: str
    code_verifier: str
    link_user: UserId | None = None  # set when a signed-in user links this provider

    def dumps(self) -> str:
        data = asdict(self)
        data["link_user"] = None if self.link_user is None else str(self.link_user)
        return json.dumps(data)

    @classmethod
    def loads(cls, raw: str) -> PendingSignIn:
        data: dict[str, Any] = json.loads(raw)
        link = data.pop("link_user", None)
        return cls(**data, link_user=None if link is None else UserId(uuid.UUID(link)))


@dataclass(frozen=True, slots=True)
class SignInGrant:
    """What a one-time code stands for: a session for `user_id` (exchanged at
    POST /auth/oidc/exchange) or, for a link, the identity to link to `user_id`."""

    purpose: Purpose
    user_id: UserId
    provider: str
    identity: ProvidedIdentity | None = field(default=None)

    def dumps(self) -> str:
        return json.dumps(
            {
                "purpose": self.purpose.value,
                "user_id": str(self.user_id),
                "provider": self.provider,
                "identity": None if self.identity is None else asdict(self.identity),
            }
        )

    @classmethod
    def loads(cls, raw: str) -> SignInGrant:
        data: dict[str, Any] = json.loads(raw)
        identity = data.get("identity")
        return cls(
            Purpose(data["purpose"]),
            UserId(uuid.UUID(data["user_id"])),
            data["provider"],
            None if identity is None else ProvidedIdentity(**identity),
        )


def new_token() -> str:
    """A state, nonce, PKCE verifier or one-time code: 256 random bits, URL-safe (43 chars,
    within RFC 7636's 43-128 for a verifier)."""
    return secrets.token_urlsafe(32)


def state_key(state: str) -> str:
    """Where a pending sign-in is kept: a digest, so that the store holds no usable state."""
    return "oidc-state:" + hashlib.sha256(state.encode()).hexdigest()


def code_key(code: str) -> str:
    return "oidc-code:" + hashlib.sha256(code.encode()).hexdigest()


def with_query(url: str, **params: str) -> str:
    """`url` with `params` added to its query (kept: what the front end put there)."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def email_or_none(raw: str | None) -> str | None:
    """The provider's email by our rules (lower case), or None when it has none we accept."""
    if not raw:
        return None
    try:
        return email_of(raw)
    except InvalidInput:
        return None


def image_or_none(raw: str | None) -> str | None:
    """The provider's `picture` as an avatar, when it is an http(s) URL we accept."""
    try:
        return image_of(raw)
    except InvalidInput:
        return None


# Room for "-" and four digits when the name is taken.
_BASE_MAX = USERNAME_MAX - 5
_NOT_ALLOWED = re.compile(r"[^\w.\-]+")


def _cleaned(raw: str) -> str | None:
    value = unicodedata.normalize("NFKC", raw).strip()
    value = _NOT_ALLOWED.sub("_", value).strip("._-")[:_BASE_MAX].strip("._-")
    try:
        return username_of(value)
    except InvalidInput:  # empty, or letters of several scripts: try the next source
        return None


def username_bases(identity: ProvidedIdentity) -> Iterator[str]:
    """Usernames to try for a new account, best first: the provider's preferred username,
    the name, the email's local part (each made to obey the username rules: characters
    outside letters, digits, `_`, `-`, `.` become `_`; mixed scripts are skipped), then
    "user". Each is valid by `username_of`; uniqueness is the caller's part."""
    local = identity.email.partition("@")[0] if identity.email else None
    seen: set[str] = set()
    for raw in (identity.preferred_username, identity.name, local, "user"):
        candidate = _cleaned(raw) if raw else None
        if candidate is not None and candidate.casefold() not in seen:
            seen.add(candidate.casefold())
            yield candidate


def with_suffix(base: str) -> str:
    """`base` made distinct: "-" and four random digits."""
    return username_of(f"{base}-{secrets.randbelow(10_000):04d}")
