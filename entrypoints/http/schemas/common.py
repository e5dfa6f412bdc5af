"""Shared pieces of the HTTP schemas."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from core.profiles.views import ProfileView


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
