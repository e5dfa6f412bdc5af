"""User entity and the rules for its fields."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

import disarm

from core.shared.errors import InvalidInput
from core.shared.ids import UserId
from core.shared.text import caseless_key, reject_nul

USERNAME_MAX = 40
EMAIL_MAX = 254
PASSWORD_MIN = 8
PASSWORD_MAX = 256
BIO_MAX = 2_000
IMAGE_URL_MAX = 2_000
# The password hash of an account without a password (created by OpenID Connect sign-in): no
# hash ever equals it, and PasswordCheck refuses it before hashing anything.
NO_PASSWORD = ""

# Letters (any script), digits, "_", "-" and ".": safe in a URL path segment, no spaces.
_USERNAME = re.compile(r"^[\w.\-]+$")
# Deliberately simple: one "@", no spaces, a dot in the domain. Deliverability is not ours to judge.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)


def _blank(value: str) -> bool:
    return value.strip() == ""


def username_of(raw: str) -> str:
    """A username: 1 to 40 characters of letters, digits, `_`, `-`, `.`, the letters all of
    one script (one writing system: Japanese may mix Han and kana); trimmed and kept as typed
    in Unicode NFKC form (fullwidth `Jake`, U+FF2A..., is `Jake`; the ligature U+FB01 is `fi`).

    Two usernames are the same when their `username_key`s are, and too alike when their
    `username_skeleton`s are (both enforced by the repository)."""
    value = unicodedata.normalize("NFKC", raw.strip())
    if value == "":
        raise InvalidInput("can't be blank", field="username")
    if len(value) > USERNAME_MAX:
        raise InvalidInput(f"is too long (maximum is {USERNAME_MAX} characters)", field="username")
    if set(value) == {"."}:
        # "." and ".." are path segments to every client: /profiles/.. could not be opened.
        raise InvalidInput("must contain a letter or digit", field="username")
    if not _USERNAME.match(value):
        raise InvalidInput("may contain only letters, digits, '_', '-' and '.'", field="username")
    if disarm.is_mixed_script(value):
        # "admin" with a Cyrillic "a" (U+0430) reads as "admin": a name is one script's.
        raise InvalidInput(
            "must not mix letters of different scripts (such as Latin and Cyrillic)",
            field="username",
        )
    return value


def username_key(username: str) -> str:
    """What a username is looked up and kept unique by: NFKC, case folded (`caseless_key`).
    "Admin", "ADMIN" and "admin" share one; any text has one, valid username or not."""
    return caseless_key(username)


# TR39's identifier skeleton: "1", "l" and "I" alike, and "0" and "O".
_SKELETON_DIGITS = "tr39"


def username_skeleton(username: str) -> str:
    """What a username looks like: its Unicode TR39 confusable skeleton (disarm's
    `skeleton_key`, case-insensitive), so that "ace" in Cyrillic and in Latin letters, or
    "paypaI" and "paypal", share one. Kept unique beside `username_key`; never looked up by (a newer
    confusables table may move a name's skeleton: detection weakens, lookups are unharmed)."""
    return disarm.skeleton_key(username, digit_policy=_SKELETON_DIGITS)


def email_of(raw: str) -> str:
    """An email address, compared and stored in lower case."""
    value = reject_nul(raw, "email").strip().lower()
    if value == "":
        raise InvalidInput("can't be blank", field="email")
    if len(value) > EMAIL_MAX:
        raise InvalidInput(f"is too long (maximum is {EMAIL_MAX} characters)", field="email")
    if not _EMAIL.match(value):
        raise InvalidInput("is invalid", field="email")
    return value


def check_password(raw: str) -> str:
    """A new password: 8 to 256 characters (Argon2 cost grows with input; cap it)."""
    if _blank(raw):
        raise InvalidInput("can't be blank", field="password")
    if len(raw) < PASSWORD_MIN:
        raise InvalidInput(f"is too short (minimum is {PASSWORD_MIN} characters)", field="password")
    if len(raw) > PASSWORD_MAX:
        raise InvalidInput(f"is too long (maximum is {PASSWORD_MAX} characters)", field="password")
    return raw


def bio_of(raw: str | None) -> str:
    value = reject_nul(raw or "", "bio").strip()
    if len(value) > BIO_MAX:
        raise InvalidInput(f"is too long (maximum is {BIO_MAX} characters)", field="bio")
    return value


def image_of(raw: str | None) -> str | None:
    """An avatar URL (http or https), or None when blank."""
    value = reject_nul(raw or "", "image").strip()
    if value == "":
        return None
    if len(value) > IMAGE_URL_MAX:
        raise InvalidInput(f"is too long (maximum is {IMAGE_URL_MAX} characters)", field="image")
    if not _URL.match(value):
        raise InvalidInput("must be an http or https URL", field="image")
    return value


class Role(StrEnum):
    """What a user may do beyond their own content. Moderators and admins may delete any
    article or comment; admins also manage users."""

    USER = "user"
    MODERATOR = "moderator"
    ADMIN = "admin"


class Scope(StrEnum):
    """What an API key may do. A login session (token) may do everything its role allows."""

    ARTICLES_WRITE = "articles:write"
    COMMENTS_WRITE = "comments:write"
    SOCIAL_WRITE = "social:write"
    PROFILE_WRITE = "profile:write"
    FEED_READ = "feed:read"
    MEDIA_WRITE = "media:write"  # uploads and the avatar (issue 14)
    WEBHOOKS_WRITE = "webhooks:write"


@dataclass(frozen=True, slots=True)
class User:
    """An account. `token_version` grows on "log out everywhere": access tokens carry the
    version they were issued under, and an older one no longer authenticates."""

    id: UserId
    username: str
    email: str
    password_hash: str
    bio: str
    image: str | None
    created_at: datetime
    updated_at: datetime
    role: Role = Role.USER
    active: bool = True
    token_version: int = 0

    @property
    def has_password(self) -> bool:
        """False for an account made by OpenID Connect sign-in until its owner sets one."""
        return self.password_hash != NO_PASSWORD

    def with_changes(self, *, now: datetime, **changes: str | None) -> User:
        """A copy with the given fields replaced and `updated_at` moved to `now`."""
        return replace(self, updated_at=now, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling: an authenticated, active user and the credential they presented.

    `scopes` is None for a login session (everything the role allows) and the key's scopes
    for an API key.
    """

    user_id: UserId
    token: str
    role: Role = Role.USER
    scopes: frozenset[Scope] | None = None

    @property
    def via_api_key(self) -> bool:
        return self.scopes is not None
