"""Read models of the profiles context."""

from __future__ import annotations

from dataclasses import dataclass

from core.shared.views import View


@dataclass(frozen=True, slots=True)
class ProfileView(View):
    """A user as another user sees them; `following` is relative to the viewer.

    Built with `ProfileView.of(source, following=...)` (see View.of)."""

    username: str
    bio: str
    image: str | None
    following: bool
