"""Response body of /profiles."""

from __future__ import annotations

from pydantic import BaseModel

from core.profiles.views import ProfileView
from entrypoints.http.schemas.common import Profile


class ProfileResponse(BaseModel):
    profile: Profile

    @classmethod
    def of(cls, view: ProfileView) -> ProfileResponse:
        return cls(profile=Profile.of(view))
