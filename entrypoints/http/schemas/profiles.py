"""Response body of /profiles."""

from __future__ import annotations

import orjson
from pydantic import BaseModel, ConfigDict

from core.profiles.views import ProfileView
from entrypoints.http.schemas.common import EXAMPLE_PROFILE, Profile, profile_fields


class ProfileResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"profile": EXAMPLE_PROFILE}]})

    profile: Profile

    @classmethod
    def of(cls, view: ProfileView) -> ProfileResponse:
        return cls(profile=Profile.of(view))


def profile_json(view: ProfileView) -> bytes:
    """The JSON of `ProfileResponse.of(view)`, written from the view (see profile_fields)."""
    return orjson.dumps({"profile": profile_fields(view)})
