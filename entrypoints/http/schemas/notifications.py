"""Request and response bodies of /notifications."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.notifications.use_cases import MAX_IDS, MarkReadInput
from core.notifications.views import NotificationPage, NotificationView
from entrypoints.http.schemas.common import EXAMPLE_PROFILE, EXAMPLE_TIME, Profile, iso_utc

EXAMPLE_NOTIFICATION: dict[str, Any] = {
    "id": 42,
    "type": "comment",
    "actor": EXAMPLE_PROFILE,
    "article": {"slug": "how-to-train-your-dragon", "title": "How to train your dragon"},
    "comment": {"id": 7, "body": "It takes a Jacobian"},
    "createdAt": EXAMPLE_TIME,
    "readAt": None,
}


class NotificationArticle(BaseModel):
    slug: str
    title: str


class NotificationComment(BaseModel):
    id: int
    body: str


class Notification(BaseModel):
    id: int
    type: Literal["follow", "favorite", "comment", "article", "webhook_disabled"]
    actor: Profile
    article: NotificationArticle | None
    comment: NotificationComment | None
    createdAt: str
    readAt: str | None

    @classmethod
    def of(cls, view: NotificationView) -> Notification:
        article = view.article
        comment = view.comment
        return cls(
            id=view.id,
            type=view.type,
            actor=Profile.of(view.actor),
            article=None
            if article is None
            else NotificationArticle(slug=article[0], title=article[1]),
            comment=None
            if comment is None
            else NotificationComment(id=comment[0], body=comment[1]),
            createdAt=iso_utc(view.created_at),
            readAt=None if view.read_at is None else iso_utc(view.read_at),
        )


class NotificationsResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"notifications": [EXAMPLE_NOTIFICATION], "nextCursor": None, "unreadCount": 1}
            ]
        }
    )

    notifications: list[Notification]
    nextCursor: str | None = Field(description="Pass as `cursor` for the next page; null: last")
    unreadCount: int = Field(description="Every unread notification of the caller")

    @classmethod
    def of(cls, page: NotificationPage) -> NotificationsResponse:
        return cls(
            notifications=[Notification.of(v) for v in page.items],
            nextCursor=None if page.next_cursor is None else str(page.next_cursor),
            unreadCount=page.unread_count,
        )


class MarkReadRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"ids": [42, 43]}, {"all": True}]}
    )

    ids: list[int] | None = Field(default=None, max_length=MAX_IDS)
    all: bool = False

    def to_input(self) -> MarkReadInput:
        return MarkReadInput(ids=self.ids, all=self.all)
