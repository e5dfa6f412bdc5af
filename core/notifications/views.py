"""Read models of the notifications context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.profiles.views import ProfileView


@dataclass(frozen=True, slots=True)
class NotificationView:
    """One notification as its recipient sees it; `actor.following` is the recipient's."""

    id: int
    type: str  # follow | favorite | comment | article | webhook_disabled (actor: the owner)
    actor: ProfileView
    article: tuple[str, str] | None  # (slug, title)
    comment: tuple[int, str] | None  # (id, body)
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True, slots=True)
class NotificationPage:
    """Newest first; `next_cursor` continues after the last item (None: no more);
    `unread_count` counts every unread notification of the recipient, not the page."""

    items: tuple[NotificationView, ...]
    next_cursor: int | None
    unread_count: int
