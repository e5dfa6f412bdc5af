"""Shared pieces of the HTTP schemas."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import AfterValidator, BaseModel
from pydantic_core import PydanticCustomError

from core.profiles.views import ProfileView
from core.shared.errors import InvalidInput
from entrypoints.http.errors import CORE_RULE_ERROR

V = TypeVar("V")

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


def checked_by(rule: Callable[[Any], object]) -> AfterValidator:
    """A field validator that runs the core's own rule for the field (`email_of`, `title_of`)
    while the request body is validated, so that one 422 names every invalid field: the use
    case stops at the first rule that fails. The value passes on unchanged (the use case
    applies the rule again and normalises it); `None`, "leave as is" in an update, is not
    checked."""

    def check(value: V) -> V:
        if value is None:
            return value
        try:
            rule(value)
        except InvalidInput as failure:
            # "{message}": the core's text goes through as is, whatever braces it holds.
            raise PydanticCustomError(
                CORE_RULE_ERROR, "{message}", {"message": failure.message}
            ) from None
        return value

    return AfterValidator(check)


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC, always with milliseconds: `2026-11-22T04:15:05.000Z`.

    (`isoformat()` drops the fraction when it is zero, which RealWorld clients reject.)
    """
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


class Profile(BaseModel):
    username: str
    bio: str
    image: str | None
    following: bool

    @classmethod
    def of(cls, view: ProfileView) -> Profile:
        return cls(username=view.username, bio=view.bio, image=view.image, following=view.following)
