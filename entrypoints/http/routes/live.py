"""Routes: the WebSocket of a user's live notifications (`/api/ws`, protocol in
entrypoints/http/live_socket.py). WebSockets are not part of the OpenAPI document: the README
documents the protocol."""

from __future__ import annotations

import punq
from fastapi import FastAPI, WebSocket

from core.articles.live import LivePolicy
from core.notifications.live import WatchNotifications
from core.shared.clock import Clock
from core.shared.live import ConnectionLimits
from entrypoints.http.live_socket import SocketPolicy, serve_socket

SOCKET_PATH = "/ws"


async def notifications_socket(websocket: WebSocket) -> None:
    container: punq.Container = websocket.app.state.container
    clock: Clock = container.resolve(Clock)
    await serve_socket(
        websocket,
        container.resolve(WatchNotifications),
        container.resolve(ConnectionLimits),
        container.resolve(SocketPolicy),
        clock,
        container.resolve(LivePolicy).stopping,
    )


def add_socket_routes(app: FastAPI, *prefixes: str) -> None:
    """`<prefix>/ws` under each API prefix (added to the app itself: add_routes takes HTTP
    routes only)."""
    for prefix in prefixes:
        app.add_api_websocket_route(prefix + SOCKET_PATH, notifications_socket, name="live:socket")
