"""Shared pieces of the HTTP schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from core.profiles.views import ProfileView

# Pieces of the OpenAPI examples (the RealWorld spec's own sample data).
EXAMPLE_TIME = "2016-02-18T03:22:56.637Z"
# A made-up token of the right shape, not a credential.
EXAMPLE_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqYWtlIn0.c2lnbmF0dXJl"  # noqa: S105
EXAMPLE_PROFILE: dict[str, Any] = {
    "username": "jake",
    "bio": "I work at statefarm",
    "image": "https://i.stack.imgur.com/xHWG8.jpg",
    "following": False,
}


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC, always with milliseconds: `2026-11-22T04:15:05.000Z`.

    (`isoformat()` drops the fraction when it is zero, which RealWorld clients reject.)
    """
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class Profile(BaseModel):
    username: str
    bio: str
    image: str | None
    following: bool

    @classmethod
    def of(cls, view: ProfileView) -> Profile:
        return cls(username=view.username, bio=view.bio, image=view.image, following=view.following)
