"""Standard Webhooks signing (https://www.standardwebhooks.com): headers and body of a delivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from core.shared.outbox import JsonValue

USER_AGENT = "Conduit-Webhooks/1.0"


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,` + base64 of HMAC-SHA256 over `id.timestamp.body`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    keys: Sequence[bytes], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three headers; one signature per key (space-separated) during a rotation."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(k, message_id, timestamp, body) for k in keys),
        "content-type": "application/json",
    }


def event_body(event_type: str, at: datetime, data: Mapping[str, JsonValue]) -> str:
    """`{"type", "timestamp", "data"}`: the JSON a receiver gets, built once per delivery."""
    timestamp = at.isoformat(timespec="microseconds").replace("+00:00", "Z")
    document = {"type": event_type, "timestamp": timestamp, "data": dict(data)}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)
