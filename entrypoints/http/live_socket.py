"""The WebSocket at /api/ws: its protocol (messages both ways, close codes) over
WatchNotifications. README "Live updates" documents it for clients.

Client -> server: `{"type": "auth", "token": "<jwt>"}` first (within WS_AUTH_TIMEOUT_S), then
`{"type": "ping"}` at will. Server -> client: `{"type": "ready"}`, `{"type": "pong"}`,
`{"type": "notification", "v": 1, "notification": {...}, "unreadCount": n}`.
The token never travels in the URL (access logs and proxies keep URLs).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loguru import logger
from starlette.websockets import WebSocket, WebSocketDisconnect

from core.notifications.live import LiveSession, NotificationPushed, WatchNotifications
from core.shared.clock import Clock
from core.shared.errors import NotAuthenticated
from core.shared.live import (
    ConnectionLimits,
    ConnectionSlot,
    Overflowed,
    Subscription,
    TooManyConnections,
)
from core.shared.outbox import PAYLOAD_VERSION
from entrypoints import metrics
from entrypoints.http.schemas.notifications import Notification
from entrypoints.settings import Settings

GOING_AWAY = 1001  # the server shuts down: reconnect (to another instance)
UNSUPPORTED_DATA = 1003  # a binary frame
INVALID_DATA = 1007  # not JSON, not an object with a "type" we know, a second auth
POLICY_VIOLATION = 1008  # more messages than WS_MAX_MESSAGES_PER_MINUTE
TOO_BIG = 1009  # a message over WS_MAX_MESSAGE_BYTES (RFC 6455's code for it)
INTERNAL_ERROR = 1011
TRY_AGAIN_LATER = 1013  # a connection cap, or a client too slow to keep up
UNAUTHORIZED = 4401  # no, a bad or an expired token; revoked, logged out everywhere

MAX_TOKEN_CHARS = 4_096
KIND = "ws"


@dataclass(frozen=True, slots=True)
class SocketPolicy:
    origins: tuple[str, ...] = ("*",)
    auth_timeout_s: float = 5.0
    recheck_s: float = 60.0
    max_message_bytes: int = 4_096
    max_messages_per_minute: int = 120
    queue_size: int = 64
    tick_s: float = 1.0  # how soon a draining server notices and closes its sockets

    @classmethod
    def of(cls, settings: Settings) -> SocketPolicy:
        return cls(
            origins=tuple(settings.cors_origin_list),
            auth_timeout_s=settings.ws_auth_timeout_s,
            recheck_s=settings.ws_recheck_s,
            max_message_bytes=settings.ws_max_message_bytes,
            max_messages_per_minute=settings.ws_max_messages_per_minute,
            queue_size=settings.live_queue_size,
        )

    def allows_origin(self, origin: str | None) -> bool:
        # Browsers always send Origin on a WebSocket handshake; a client without one is not a
        # browser page, so no other site can be speaking through it (and the socket
        # authenticates with a token in its first message, never with cookies).
        if origin is None:
            return True
        return "*" in self.origins or origin in self.origins


class Close(Exception):
    """End the socket with `code` (the reason is never more than the code's name)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class _Sender:
    websocket: WebSocket
    lock: asyncio.Lock

    async def send(self, message: dict[str, Any]) -> None:
        async with self.lock:  # pongs and notifications come from two tasks
            await self.websocket.send_text(json.dumps(message, separators=(",", ":")))


async def serve_socket(
    websocket: WebSocket,
    live: WatchNotifications,
    limits: ConnectionLimits,
    policy: SocketPolicy,
    clock: Clock,
    stopping: Callable[[], bool],
) -> None:
    """One socket, from the handshake to its close. Never raises."""
    if not policy.allows_origin(websocket.headers.get("origin")):
        await websocket.close(code=POLICY_VIOLATION)  # before accept: the handshake gets 403
        return
    if stopping():  # draining: go to another instance
        await websocket.accept()
        await _close(websocket, GOING_AWAY)
        return
    try:
        slot = limits.acquire(KIND)
    except TooManyConnections:
        metrics.count_live_refused(KIND)
        await websocket.accept()
        await _close(websocket, TRY_AGAIN_LATER)
        return
    try:
        await websocket.accept()
        await _serve(websocket, live, slot, policy, clock, stopping)
    except Close as close:
        await _close(websocket, close.code)
    except WebSocketDisconnect:
        pass
    except Exception:
        logger.exception("websocket failed")
        await _close(websocket, INTERNAL_ERROR)
    finally:
        slot.release()


async def _close(websocket: WebSocket, code: int) -> None:
    with contextlib.suppress(Exception):  # the peer may be gone already
        await websocket.close(code=code)


async def _receive(websocket: WebSocket, policy: SocketPolicy) -> dict[str, Any]:
    """The next client message as a JSON object with a string "type"; Close otherwise."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if text is None:
        raise Close(UNSUPPORTED_DATA)
    if len(text) > policy.max_message_bytes or len(text.encode()) > policy.max_message_bytes:
        raise Close(TOO_BIG)
    try:
        data = json.loads(text)
    except ValueError:
        raise Close(INVALID_DATA) from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise Close(INVALID_DATA)
    return data


async def _authenticate(
    websocket: WebSocket, live: WatchNotifications, policy: SocketPolicy
) -> LiveSession:
    try:
        async with asyncio.timeout(policy.auth_timeout_s):
            first = await _receive(websocket, policy)
    except TimeoutError:
        raise Close(UNAUTHORIZED) from None
    token = first.get("token")
    if first["type"] != "auth" or not isinstance(token, str):
        raise Close(UNAUTHORIZED)
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise Close(UNAUTHORIZED)
    try:
        return await live.open(token)
    except NotAuthenticated:
        raise Close(UNAUTHORIZED) from None


async def _serve(
    websocket: WebSocket,
    live: WatchNotifications,
    slot: ConnectionSlot,
    policy: SocketPolicy,
    clock: Clock,
    stopping: Callable[[], bool],
) -> None:
    session = await _authenticate(websocket, live, policy)
    try:
        slot.add_key(f"user:{session.actor.user_id}")
    except TooManyConnections:
        metrics.count_live_refused(KIND)
        raise Close(TRY_AGAIN_LATER) from None
    sender = _Sender(websocket, asyncio.Lock())
    async with await live.subscribe(session, max_queue=policy.queue_size) as subscription:
        await sender.send({"type": "ready"})
        tasks = [
            asyncio.create_task(_read(websocket, sender, policy)),
            asyncio.create_task(_push(live, session, subscription, sender)),
            asyncio.create_task(_watch(live, session, policy, clock, stopping)),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            if (error := task.exception()) is not None:
                raise error


async def _read(websocket: WebSocket, sender: _Sender, policy: SocketPolicy) -> None:
    loop = asyncio.get_running_loop()
    window_start, count = loop.time(), 0
    while True:
        message = await _receive(websocket, policy)
        now = loop.time()
        if now - window_start >= 60:
            window_start, count = now, 0
        count += 1
        if count > policy.max_messages_per_minute:
            raise Close(POLICY_VIOLATION)
        if message["type"] != "ping":
            raise Close(INVALID_DATA)  # a second auth, or a type this protocol does not have
        await sender.send({"type": "pong"})


async def _push(
    live: WatchNotifications, session: LiveSession, subscription: Subscription, sender: _Sender
) -> None:
    while True:
        try:
            entries = await subscription.get(30.0)
        except Overflowed:
            raise Close(TRY_AGAIN_LATER) from None  # too slow to take what comes
        if not entries:
            continue
        for change in await live.changes(session, entries):
            if not isinstance(change, NotificationPushed):
                raise Close(UNAUTHORIZED)  # logged out everywhere, or deactivated
            await sender.send(
                {
                    "type": "notification",
                    "v": PAYLOAD_VERSION,
                    "notification": Notification.of(change.notification).model_dump(mode="json"),
                    "unreadCount": change.unread_count,
                }
            )
            metrics.count_live_delivered(KIND)


async def _watch(
    live: WatchNotifications,
    session: LiveSession,
    policy: SocketPolicy,
    clock: Clock,
    stopping: Callable[[], bool],
) -> None:
    """Close at the token's expiry, when a re-check fails, or when the server drains."""
    loop = asyncio.get_running_loop()
    expires = None
    if session.expires_at is not None:
        expires = loop.time() + (session.expires_at - clock.now()).total_seconds()
    recheck = loop.time() + policy.recheck_s
    while True:
        now = loop.time()
        if expires is not None and now >= expires:
            raise Close(UNAUTHORIZED)
        if now >= recheck:
            if not await live.still_valid(session):
                raise Close(UNAUTHORIZED)
            recheck = loop.time() + policy.recheck_s
        due = min(recheck, expires if expires is not None else recheck)
        await asyncio.sleep(max(0.0, min(policy.tick_s, due - loop.time())))
        if stopping():
            raise Close(GOING_AWAY)
