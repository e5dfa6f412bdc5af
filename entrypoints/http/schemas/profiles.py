"""Response body of /profiles."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from core.profiles.views import ProfileView
from entrypoints.http.schemas.common import EXAMPLE_PROFILE, Profile


class ProfileResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"profile": EXAMPLE_PROFILE}]})

    profile: Profile

    @classmethod
    def of(cls, view: ProfileView) -> ProfileResponse:
        return cls(profile=Profile.of(view))
