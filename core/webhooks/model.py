"""Subscriptions and deliveries: the entities, the event types, secrets, the retry schedule."""

from __future__ import annotations

import base64
import random
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from core.shared.errors import InvalidInput
from core.shared.ids import UserId

# The events of the live-updates issue (core/shared/outbox.py) plus notification.created.
# Article and comment events are public (anyone may read them, as the SSE stream shows them);
# user.followed goes to the two users it is about, notification.created to its recipient.
PUBLIC_EVENTS = (
    "article.published",
    "article.updated",
    "article.deleted",
    "article.favorited",
    "article.unfavorited",
    "comment.created",
    "comment.deleted",
)
EVENT_TYPES = (*PUBLIC_EVENTS, "user.followed", "notification.created")
ALL_EVENTS = "*"
MAX_EVENTS = len(EVENT_TYPES) + 1
URL_MAX = 2_000
DESCRIPTION_MAX = 200
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_BYTES = 32
# The old secret keeps signing alongside the new one this long after a rotation.
ROTATION_OVERLAP = timedelta(hours=24)
# What a delivery log keeps of a receiver's answer.
EXCERPT_MAX_BYTES = 1_024


def events_of(raw: Iterable[str]) -> tuple[str, ...]:
    """The event types a subscription wants: known types, or `*` alone; at least one."""
    wanted: list[str] = []
    for item in raw:
        if item != ALL_EVENTS and item not in EVENT_TYPES:
            allowed = ", ".join((*EVENT_TYPES, ALL_EVENTS))
            raise InvalidInput(
                f"has an unknown event type '{item[:40]}' (allowed: {allowed})", field="events"
            )
        if item not in wanted:
            wanted.append(item)
    if not wanted:
        raise InvalidInput("must list at least one event type", field="events")
    if ALL_EVENTS in wanted and len(wanted) > 1:
        raise InvalidInput("give either '*' or a list of event types", field="events")
    return tuple(wanted)


def description_of(raw: str) -> str:
    text = raw.strip()
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput(f"must be at most {DESCRIPTION_MAX} characters", field="description")
    return text


@dataclass(frozen=True, slots=True)
class WebhookUrl:
    """A receiver's URL as given, with the parts the guard checks. Syntax only here;
    where it points is the guard's business (core/webhooks/guard.py)."""

    url: str
    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, raw: str, *, allow_http: bool) -> WebhookUrl:
        url = raw.strip()
        if len(url) > URL_MAX:
            raise InvalidInput(f"must be at most {URL_MAX} characters", field="url")
        if any(c.isspace() or ord(c) < 0x20 for c in url):
            raise InvalidInput("must not contain spaces or control characters", field="url")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise InvalidInput("is not a valid URL", field="url") from None
        scheme = parts.scheme.lower()
        if scheme not in ("https", "http"):
            raise InvalidInput("must be an https:// URL", field="url")
        if scheme == "http" and not allow_http:
            raise InvalidInput("must use https (http is not allowed here)", field="url")
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise InvalidInput("must not contain credentials", field="url")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise InvalidInput("has no host", field="url")
        if parts.fragment:
            raise InvalidInput("must not have a #fragment", field="url")
        return cls(url, scheme, host, port or (443 if scheme == "https" else 80))


class SigningSecret:
    """`whsec_` + base64 of 32 random bytes; the HMAC key is the decoded bytes."""

    @staticmethod
    def new() -> str:
        return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()

    @staticmethod
    def key_of(secret: str) -> bytes:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


@dataclass(frozen=True, slots=True)
class Subscription:
    """A user's webhook. `secret` and `previous_secret` are sealed (SecretBox: encrypted, so
    the database alone does not give them away); `previous_secret` signs alongside the current
    one until `previous_secret_expires_at`. `consecutive_failures` counts failed deliveries
    since the last success; `disabled_reason` says why the worker turned it off."""

    id: uuid.UUID
    owner_id: UserId
    url: str
    events: tuple[str, ...]
    description: str
    active: bool
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    consecutive_failures: int
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime

    def wants(self, event_type: str) -> bool:
        return ALL_EVENTS in self.events or event_type in self.events

    def signing_keys(self, unseal: Callable[[str], str], now: datetime) -> list[bytes]:
        """The current secret's key, and the previous one's while its overlap lasts."""
        keys = [SigningSecret.key_of(unseal(self.secret))]
        expires = self.previous_secret_expires_at
        if self.previous_secret is not None and expires is not None and now < expires:
            keys.append(SigningSecret.key_of(unseal(self.previous_secret)))
        return keys


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def new_message_id() -> str:
    """The webhook-id: one per delivery, the same on every retry (receivers dedupe on it)."""
    return f"msg_{uuid.uuid4().hex}"


@dataclass(frozen=True, slots=True)
class NewDelivery:
    subscription_id: uuid.UUID
    message_id: str
    event_key: str  # the event, once per subscription: `outbox:<id>` or `notification:<id>`
    event_type: str
    payload: str  # the JSON body sent, built once
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event to one subscription and the outcome of its last attempt."""

    id: int
    subscription_id: uuid.UUID
    message_id: str
    event_key: str  # the event: `outbox:<id>` or `notification:<id>`
    event_type: str
    payload: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_latency_ms: int | None
    last_error: str | None
    last_response: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What a receiver answered (`status_code`) or why there was no answer (`error`)."""

    status_code: int | None
    latency_ms: int
    excerpt: str = ""
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


# A delivery log shows at most this many attempts per delivery (the newest): the schedule
# makes at most ~8 per delivery, redeliveries add more.
ATTEMPT_LOG_MAX = 20
ERROR_MAX = 200  # what a log keeps of an attempt's error


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt of a delivery as recorded: `attempt` counts a delivery's attempts from 1,
    on across redeliveries (unlike `Delivery.attempts`, which a redelivery sets back to 0);
    `response` is the first EXCERPT_MAX_BYTES of the answer."""

    delivery_id: int
    attempt: int
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None
    response: str


def excerpt_of(body: bytes) -> str:
    """At most EXCERPT_MAX_BYTES of a response, as text (a cut character is dropped)."""
    return body[:EXCERPT_MAX_BYTES].decode("utf-8", errors="ignore")


# Seconds before each attempt after the first failed one: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h
# (~17.6 h in all, plus the jitter); the first attempt is immediate.
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (5, 300, 1_800, 7_200, 18_000, 36_000)
JITTER = 0.2  # each wait is drawn from +-20 % of its step


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to try again after a failed attempt, and when to give up."""

    schedule: Sequence[float] = DEFAULT_RETRY_SCHEDULE
    jitter: float = JITTER
    max_consecutive_failures: int = 15
    random: Callable[[], float] = random.random  # jitter, not a secret

    @property
    def max_attempts(self) -> int:
        return len(self.schedule) + 1

    def delay_after(self, attempts: int) -> timedelta | None:
        """The wait after the `attempts`-th failed attempt (1-based); None: give up."""
        if attempts < 1 or attempts > len(self.schedule):
            return None
        step = self.schedule[attempts - 1]
        factor = 1 + self.jitter * (2 * self.random() - 1)
        return timedelta(seconds=step * factor)


def parse_schedule(raw: str) -> tuple[float, ...]:
    """`5,300,1800` -> (5.0, 300.0, 1800.0): seconds, not decreasing, at least one."""
    try:
        steps = tuple(float(s) for s in raw.split(",") if s.strip())
    except ValueError:
        raise ValueError("must be comma-separated seconds, e.g. 5,300,1800") from None
    if not steps or any(s < 0 for s in steps) or list(steps) != sorted(steps):
        raise ValueError("must list at least one wait in seconds, none smaller than the one before")
    return steps
