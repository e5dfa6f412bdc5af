"""Use cases of the webhooks context: a user's subscriptions, their delivery log, admins' list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from core.auth.errors import AdminRequired
from core.shared.clock import Clock
from core.shared.errors import InvalidInput, NotFound
from core.shared.pagination import DEFAULT_LIMIT, MAX_LIMIT
from core.shared.uow import UnitOfWork
from core.users.model import Actor, Role
from core.webhooks.delivery import nudge
from core.webhooks.guard import check_addresses, parse_address
from core.webhooks.model import (
    ATTEMPT_LOG_MAX,
    ROTATION_OVERLAP,
    SigningSecret,
    Subscription,
    WebhookUrl,
    description_of,
    events_of,
)
from core.webhooks.ports import DeliveryQueue, HostResolver, SecretBox, WebhooksTransaction
from core.webhooks.views import DeliveryPage, WebhookPage, WebhookView, WebhookWithSecret

MAX_SUBSCRIPTIONS = 20  # per user


class WebhookNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("webhook not found", field="webhook")


class DeliveryNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("delivery not found", field="delivery")


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """WEBHOOK_ALLOW_HTTP / WEBHOOK_ALLOW_PRIVATE (the latter never in production)."""

    allow_http: bool = False
    allow_private: bool = False


class UrlCheck:
    """A receiver URL's syntax, then every address its host resolves to (the SSRF guard)."""

    def __init__(self, resolver: HostResolver, policy: UrlPolicy) -> None:
        self._resolver, self._policy = resolver, policy

    async def check(self, raw: str) -> str:
        url = WebhookUrl.parse(raw, allow_http=self._policy.allow_http)
        literal = parse_address(url.host) is not None
        addresses = [url.host] if literal else await self._resolver.resolve(url.host, url.port)
        check_addresses(url.host, addresses, allow_private=self._policy.allow_private)
        return url.url


async def _owned(tx: WebhooksTransaction, actor: Actor, webhook_id: uuid.UUID) -> Subscription:
    subscription = await tx.webhooks.get(webhook_id)
    if subscription is None or subscription.owner_id != actor.user_id:
        raise WebhookNotFound()  # someone else's is not found either: no probing
    return subscription


@dataclass(frozen=True, slots=True)
class CreateWebhookInput:
    url: str
    events: tuple[str, ...]
    description: str = ""


class CreateWebhook:
    """Subscribe a URL to events.

    - `url`: https (http only where WEBHOOK_ALLOW_HTTP is on), no credentials, at most 2000
      characters, and its host must resolve only to public addresses
    - `events`: known event types, or `*` for all of them
    - the signing secret (`whsec_...`) is in this answer only; it is stored encrypted
    - at most 20 subscriptions per user
    """

    def __init__(
        self,
        uow: UnitOfWork[WebhooksTransaction],
        clock: Clock,
        box: SecretBox,
        urls: UrlCheck,
    ) -> None:
        self._uow, self._clock, self._box, self._urls = uow, clock, box, urls

    async def execute(self, actor: Actor, data: CreateWebhookInput) -> WebhookWithSecret:
        events = events_of(data.events)
        description = description_of(data.description)
        url = await self._urls.check(data.url)
        secret, now = SigningSecret.new(), self._clock.now()
        subscription = Subscription(
            id=uuid.uuid4(),
            owner_id=actor.user_id,
            url=url,
            events=events,
            description=description,
            active=True,
            secret=self._box.seal(secret),
            previous_secret=None,
            previous_secret_expires_at=None,
            consecutive_failures=0,
            disabled_reason=None,
            created_at=now,
            updated_at=now,
        )
        async with self._uow.begin() as tx:
            if len(await tx.webhooks.for_owner(actor.user_id)) >= MAX_SUBSCRIPTIONS:
                raise InvalidInput(
                    f"at most {MAX_SUBSCRIPTIONS} webhooks per user", field="webhook"
                )
            await tx.webhooks.add(subscription)
            await tx.commit()
        return WebhookWithSecret(WebhookView.of(subscription, now), secret)


class ListWebhooks:
    """The caller's webhooks, oldest first (never their secrets)."""

    def __init__(self, uow: UnitOfWork[WebhooksTransaction], clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def execute(self, actor: Actor) -> tuple[WebhookView, ...]:
        async with self._uow.begin(read_only=True) as tx:
            found = await tx.webhooks.for_owner(actor.user_id)
        now = self._clock.now()
        return tuple(WebhookView.of(s, now) for s in found)


class GetWebhook:
    """One of the caller's webhooks."""

    def __init__(self, uow: UnitOfWork[WebhooksTransaction], clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def execute(self, actor: Actor, webhook_id: uuid.UUID) -> WebhookView:
        async with self._uow.begin(read_only=True) as tx:
            subscription = await _owned(tx, actor, webhook_id)
        return WebhookView.of(subscription, self._clock.now())


@dataclass(frozen=True, slots=True)
class UpdateWebhookInput:
    url: str | None = None
    events: tuple[str, ...] | None = None
    description: str | None = None
    active: bool | None = None


class UpdateWebhook:
    """Change a webhook's url, events, description or active flag.

    - the url is checked as at creation
    - `active: true` turns a disabled webhook on again and clears its failure count
    """

    def __init__(self, uow: UnitOfWork[WebhooksTransaction], clock: Clock, urls: UrlCheck) -> None:
        self._uow, self._clock, self._urls = uow, clock, urls

    async def execute(
        self, actor: Actor, webhook_id: uuid.UUID, data: UpdateWebhookInput
    ) -> WebhookView:
        events = None if data.events is None else events_of(data.events)
        description = None if data.description is None else description_of(data.description)
        url = None if data.url is None else await self._urls.check(data.url)
        now = self._clock.now()
        async with self._uow.begin() as tx:
            current = await _owned(tx, actor, webhook_id)
            changed = replace(
                current,
                url=url if url is not None else current.url,
                events=events if events is not None else current.events,
                description=description if description is not None else current.description,
                updated_at=now,
            )
            if data.active is True and not current.active:
                changed = replace(
                    changed, active=True, consecutive_failures=0, disabled_reason=None
                )
            elif data.active is False:
                changed = replace(changed, active=False, disabled_reason=None)
            await tx.webhooks.update(changed)
            await tx.commit()
        return WebhookView.of(changed, now)


class DeleteWebhook:
    """Delete a webhook and its delivery log; pending deliveries are dropped."""

    def __init__(self, uow: UnitOfWork[WebhooksTransaction]) -> None:
        self._uow = uow

    async def execute(self, actor: Actor, webhook_id: uuid.UUID) -> None:
        async with self._uow.begin() as tx:
            await _owned(tx, actor, webhook_id)
            await tx.webhooks.delete(webhook_id)
            await tx.commit()


class RotateWebhookSecret:
    """A new signing secret, shown in this answer only. For 24 hours the old one keeps
    signing alongside (two signatures in `webhook-signature`), so a receiver can switch
    without losing a delivery; a second rotation within them ends the first one's overlap."""

    def __init__(self, uow: UnitOfWork[WebhooksTransaction], clock: Clock, box: SecretBox) -> None:
        self._uow, self._clock, self._box = uow, clock, box

    async def execute(self, actor: Actor, webhook_id: uuid.UUID) -> WebhookWithSecret:
        secret, now = SigningSecret.new(), self._clock.now()
        async with self._uow.begin() as tx:
            current = await _owned(tx, actor, webhook_id)
            rotated = replace(
                current,
                secret=self._box.seal(secret),
                previous_secret=current.secret,
                previous_secret_expires_at=now + ROTATION_OVERLAP,
                updated_at=now,
            )
            await tx.webhooks.update(rotated)
            await tx.commit()
        return WebhookWithSecret(WebhookView.of(rotated, now), secret)


def _cursor(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput("is not a cursor from a previous page", field="cursor")
    return int(raw)


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"must be between 1 and {MAX_LIMIT}", field="limit")
    return limit


class ListDeliveries:
    """A webhook's delivery log, newest first: each delivery's attempts so far, status, and
    its last attempt's HTTP status, latency and answer (the first 1 KiB), and `attemptLog`:
    every attempt (its time, HTTP status, latency, error and answer's first 1 KiB), oldest
    first, the newest 20 at most. `cursor` (the previous page's `nextCursor`) continues
    after that page."""

    def __init__(self, uow: UnitOfWork[WebhooksTransaction]) -> None:
        self._uow = uow

    async def execute(
        self,
        actor: Actor,
        webhook_id: uuid.UUID,
        *,
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> DeliveryPage:
        before, limit = _cursor(cursor), _limit(limit)
        async with self._uow.begin(read_only=True) as tx:
            await _owned(tx, actor, webhook_id)
            found = await tx.webhooks.deliveries(webhook_id, before, limit + 1)
            items = tuple(found[:limit])
            # One more query for the whole page (not one per delivery).
            log = await tx.webhooks.attempts([d.id for d in items], ATTEMPT_LOG_MAX)
        attempt_log = {i: tuple(attempts) for i, attempts in log.items()}
        return DeliveryPage(items, items[-1].id if len(found) > limit else None, attempt_log)


class RedeliverWebhook:
    """Send a delivery again, now, with the same `webhook-id` (receivers dedupe on it); its
    retries start over. The webhook must be active."""

    def __init__(
        self, uow: UnitOfWork[WebhooksTransaction], clock: Clock, queue: DeliveryQueue
    ) -> None:
        self._uow, self._clock, self._queue = uow, clock, queue

    async def execute(self, actor: Actor, webhook_id: uuid.UUID, delivery_id: int) -> None:
        async with self._uow.begin() as tx:
            subscription = await _owned(tx, actor, webhook_id)
            delivery = await tx.webhooks.get_delivery(delivery_id)
            if delivery is None or delivery.subscription_id != webhook_id:
                raise DeliveryNotFound()
            if not subscription.active:
                raise InvalidInput("the webhook is disabled: turn it on first", field="webhook")
            await tx.webhooks.redeliver(delivery_id, self._clock.now())
            await tx.commit()
        await nudge(self._queue, [delivery_id])  # lost: the worker's next sweep sends it


class ListAllWebhooks:
    """Admins list every user's webhooks by id, with a cursor (never their secrets)."""

    def __init__(self, uow: UnitOfWork[WebhooksTransaction], clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def execute(self, actor: Actor, *, cursor: str | None, limit: int) -> WebhookPage:
        if actor.role is not Role.ADMIN or actor.via_api_key:
            raise AdminRequired()
        limit = _limit(limit)
        after = None
        if cursor is not None:
            try:
                after = uuid.UUID(hex=cursor)
            except ValueError:
                raise InvalidInput("is not a cursor from a previous page", field="cursor") from None
        async with self._uow.begin(read_only=True) as tx:
            found = await tx.webhooks.page(after, limit + 1)
        now = self._clock.now()
        items = tuple(WebhookView.of(s, now) for s in found[:limit])
        return WebhookPage(items, items[-1].id if len(found) > limit else None)
