"""Shared pieces of the HTTP schemas."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from pydantic import AfterValidator, BaseModel
from pydantic_core import PydanticCustomError

from core.profiles.views import ProfileView
from core.shared.errors import InvalidInput
from core.shared.fifo import remember
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

    The date and time come from orjson (`"YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00"`, quoted), the
    fraction from a table: a third of `isoformat(timespec=...)`'s time, and a list page writes
    two per article (issue 10). A naive time is local time, as `astimezone` takes it.
    """
    if moment.tzinfo is UTC:  # the database and the cache hand out UTC: no conversion
        text = _ISO_UTC.get(moment)
        if text is not None:
            return text
    else:
        moment = moment.astimezone(UTC)
    text = orjson.dumps(moment)[1:20].decode() + _MILLISECONDS_Z[moment.microsecond // 1000]
    remember(_ISO_UTC, moment, text, _ISO_UTC_ENTRIES)
    return text


_MILLISECONDS_Z = tuple(f".{ms:03d}Z" for ms in range(1000))
# The text of the last UTC times written, by time: a list page writes two per article, the
# same ones request after request (a dict look-up is a tenth of writing one). ~100 kB at most.
_ISO_UTC: dict[datetime, str] = {}
_ISO_UTC_ENTRIES = 1024


class Profile(BaseModel):
    username: str
    bio: str
    image: str | None
    following: bool

    @classmethod
    def of(cls, view: ProfileView) -> Profile:
        return cls(username=view.username, bio=view.bio, image=view.image, following=view.following)


def profile_fields(view: ProfileView) -> dict[str, Any]:
    """A `Profile` as orjson renders it to the bytes the model's JSON is (fields in the
    model's order): the read routes write their JSON from the views with these `*_fields`
    functions rather than building a model per object and serialising it (issue 10). The
    models stay the declared response models (OpenAPI), and tests hold the bytes equal."""
    return {
        "username": view.username,
        "bio": view.bio,
        "image": view.image,
        "following": view.following,
    }
