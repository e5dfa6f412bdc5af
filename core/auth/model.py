"""Sessions and machine credentials: refresh tokens, API keys, and the auth policy."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.shared.errors import InvalidInput
from core.shared.ids import UserId
from core.shared.text import reject_nul
from core.users.model import Scope

API_KEY_PREFIX = "cdt"
API_KEY_NAME_MAX = 100


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret (refresh token, API key), as stored.

    These secrets carry 256 random bits, so a fast hash is enough: nothing to brute-force,
    and a leaked table reveals no usable credential.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    """Lifetimes and brute-force thresholds (from settings; the limits: login_limits.py)."""

    access_ttl: timedelta = timedelta(minutes=15)
    realworld_ttl: timedelta = timedelta(days=1)
    refresh_ttl: timedelta = timedelta(days=30)
    max_failures_per_pair: int = 10
    max_failures_per_address: int = 50
    failure_window: timedelta = timedelta(minutes=15)
    max_failures_per_account: int = 100
    account_failure_window: timedelta = timedelta(hours=1)
    known_address_ttl: timedelta = timedelta(days=30)
    api_key_touch_interval: timedelta = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a verified access token says."""

    user_id: UserId
    version: int
    expires_at: datetime | None = None  # `exp`: a live connection is closed then


@dataclass(frozen=True, slots=True)
class RefreshToken:
    """One link of a rotation chain. `family_id` is shared by every token descended from the
    same login; presenting a used or revoked one revokes the whole family."""

    id: uuid.UUID
    family_id: uuid.UUID
    user_id: UserId
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A scoped machine credential. Only `secret_hash` is kept; `prefix` identifies it."""

    id: uuid.UUID
    user_id: UserId
    name: str
    prefix: str
    secret_hash: str
    scopes: frozenset[Scope]
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


def api_key_name_of(raw: str) -> str:
    """An API key's name, the owner's label for it: 1 to 100 characters, trimmed."""
    value = reject_nul(raw, "name").strip()
    if value == "":
        raise InvalidInput("can't be blank", field="name")
    if len(value) > API_KEY_NAME_MAX:
        raise InvalidInput(f"is too long (maximum is {API_KEY_NAME_MAX} characters)", field="name")
    return value


def scopes_of(raw: Iterable[str]) -> frozenset[Scope]:
    """The scopes granted to an API key: at least one, each a known `Scope`."""
    scopes = set()
    for item in raw:
        try:
            scopes.add(Scope(item))
        except ValueError:
            allowed = ", ".join(s.value for s in Scope)
            message = f"has an unknown scope '{item[:40]}' (allowed: {allowed})"
            raise InvalidInput(message, field="scopes") from None
    if not scopes:
        raise InvalidInput("must have at least one scope", field="scopes")
    return frozenset(scopes)


def new_api_key_secret() -> tuple[str, str]:
    """(prefix, full key): `cdt_<8 hex>_<43 url-safe chars>`; the prefix finds the row."""
    prefix = secrets.token_hex(4)
    return prefix, f"{API_KEY_PREFIX}_{prefix}_{new_secret()}"


def api_key_prefix(raw: str) -> str | None:
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or len(parts[1]) != 8:
        return None
    if not all(c in "0123456789abcdef" for c in parts[1]):
        return None
    return parts[1]
