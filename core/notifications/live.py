"""A user's notifications, live: what the WebSocket at /api/ws is told, and when it must end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.auth.authentication import Authenticate, Credentials
from core.auth.ports import TokenIssuer
from core.notifications.ports import NotificationQueries
from core.notifications.views import NotificationView
from core.shared.errors import NotAuthenticated
from core.shared.live import Entry, EventHub, Subscription
from core.shared.outbox import user_topic
from core.users.model import Actor


@dataclass(frozen=True, slots=True)
class LiveSession:
    """An authenticated socket: who, and when its token expires (None: never said)."""

    actor: Actor
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class NotificationPushed:
    """A notification to send, as GET /api/notifications lists it, with the unread count."""

    notification: NotificationView
    unread_count: int


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """The session's token no longer works (logged out everywhere, deactivated)."""


LiveChange = NotificationPushed | SessionEnded


class WatchNotifications:
    """Push the caller's notifications over a socket as they are written.

    - the socket authenticates once, with a login token or an OAuth access token, under the
      same checks as every request (signature, expiry, the user's token version after a
      logout-all, an active account); API keys are not accepted
    - each notification written for the user (in any process) is pushed, shaped as GET
      /api/notifications lists it; one deleted before it was sent is skipped
    - the session ends when its token expires, and when the user logs out everywhere or is
      deactivated: at once through the user's event stream, at the latest at the next
      periodic re-check
    """

    def __init__(
        self,
        authenticate: Authenticate,
        tokens: TokenIssuer,
        queries: NotificationQueries,
        hub: EventHub,
    ) -> None:
        self._authenticate, self._tokens, self._queries, self._hub = (
            authenticate,
            tokens,
            queries,
            hub,
        )

    async def open(self, token: str) -> LiveSession:
        """The session of `token`; NotAuthenticated when it does not authenticate."""
        claims = self._tokens.verify(token)
        actor = await self._authenticate.execute(Credentials(token=token), session_only=True)
        return LiveSession(actor, claims.expires_at)

    async def still_valid(self, session: LiveSession) -> bool:
        try:
            await self._authenticate.execute(Credentials(token=session.actor.token))
        except NotAuthenticated:
            return False
        return True

    async def subscribe(self, session: LiveSession, *, max_queue: int) -> Subscription:
        return await self._hub.subscribe([user_topic(session.actor.user_id)], max_queue=max_queue)

    async def changes(self, session: LiveSession, entries: list[Entry]) -> list[LiveChange]:
        """What the socket must do about entries of the user's topic."""
        changes: list[LiveChange] = []
        for _, _, message in entries:
            if message.type == "notification.created":
                pushed = await self._notification(
                    session, int(str(message.payload["notificationId"]))
                )
                if pushed is not None:
                    changes.append(pushed)
            elif message.type == "user.sessions_revoked" and not await self.still_valid(session):
                changes.append(SessionEnded())
                break
        return changes

    async def _notification(
        self, session: LiveSession, notification_id: int
    ) -> NotificationPushed | None:
        page = await self._queries.list_notifications(
            session.actor.user_id, before=notification_id + 1, limit=1, unread_only=False
        )
        if not page.items or page.items[0].id != notification_id:
            return None  # deleted with its article or comment meanwhile
        return NotificationPushed(page.items[0], page.unread_count)
