"""Identities linked to the caller's account: link one more, list them, unlink one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from core.identities.errors import (
    IdentityNotFound,
    IdentityTaken,
    InvalidSignInCode,
    LastSignInMethod,
)
from core.identities.model import Identity, Purpose, SignInGrant, code_key, email_or_none
from core.identities.ports import IdentitiesTransaction, OneTimeStore
from core.identities.signin import StartSignIn, StartSignInInput
from core.identities.views import IdentityView
from core.shared.clock import Clock
from core.shared.uow import UnitOfWork
from core.users.errors import UserNotFound
from core.users.model import Actor


@dataclass(frozen=True, slots=True)
class StartLinkInput:
    provider: str
    redirect_uri: str
    callback_uri: str


class StartLink:
    """Begin linking a provider to the caller's account: the URL of its authorization
    endpoint. The callback sends the browser back to `redirect_uri` with a one-time code,
    which only the same caller can turn into a link (POST /api/user/identities `{"code"}`):
    a link started by one account cannot be completed in another's browser session."""

    def __init__(self, start: StartSignIn) -> None:
        self._start = start

    async def execute(self, actor: Actor, data: StartLinkInput) -> str:
        return await self._start.execute(
            StartSignInInput(data.provider, data.redirect_uri, data.callback_uri, actor.user_id)
        )


class LinkIdentity:
    """Link the identity a one-time code from a link's callback stands for to the caller.

    - the code is single use, for 60 seconds, and only for the caller who started the link
    - an identity linked to another account is refused (422); linking one's own again is a
      no-op
    """

    def __init__(
        self, uow: UnitOfWork[IdentitiesTransaction], store: OneTimeStore, clock: Clock
    ) -> None:
        self._uow, self._store, self._clock = uow, store, clock

    async def execute(self, actor: Actor, code: str) -> IdentityView:
        if not code or len(code) > 200:
            raise InvalidSignInCode()
        raw = await self._store.take(code_key(code), now=self._clock.now())
        if raw is None:
            raise InvalidSignInCode()
        grant = SignInGrant.loads(raw)
        if (
            grant.purpose is not Purpose.LINK
            or grant.user_id != actor.user_id
            or grant.identity is None
        ):
            raise InvalidSignInCode()
        identity = grant.identity
        async with self._uow.begin() as tx:
            linked = await tx.identities.get(identity.issuer, identity.subject)
            if linked is not None:
                if linked.user_id != actor.user_id:
                    raise IdentityTaken()
                return IdentityView.of(linked)
            new = Identity(
                uuid.uuid4(),
                actor.user_id,
                grant.provider,
                identity.issuer,
                identity.subject,
                email_or_none(identity.email),
                self._clock.now(),
            )
            await tx.identities.add(new)
            await tx.commit()
        return IdentityView.of(new)


class ListIdentities:
    """The identities linked to the caller's account, oldest first."""

    def __init__(self, uow: UnitOfWork[IdentitiesTransaction]) -> None:
        self._uow = uow

    async def execute(self, actor: Actor) -> list[IdentityView]:
        async with self._uow.begin(read_only=True) as tx:
            return [IdentityView.of(i) for i in await tx.identities.list_for_user(actor.user_id)]


class UnlinkIdentity:
    """Unlink one of the caller's identities.

    - not the last way to sign in: an account without a password keeps its last identity
      (422) until its owner sets a password with PUT /api/user
    """

    def __init__(self, uow: UnitOfWork[IdentitiesTransaction], clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def execute(self, actor: Actor, identity_id: uuid.UUID) -> None:
        async with self._uow.begin() as tx:
            user = await tx.users.get(actor.user_id)
            if user is None:
                raise UserNotFound()
            # Writing the account's row first locks it: two unlinks of one account run one
            # after the other, so both cannot see "one left besides mine" and leave none.
            await tx.users.update(user.with_changes(now=self._clock.now()))
            identities = await tx.identities.list_for_user(actor.user_id)
            if not any(i.id == identity_id for i in identities):
                raise IdentityNotFound()
            if not user.has_password and len(identities) == 1:
                raise LastSignInMethod()
            await tx.identities.delete(actor.user_id, identity_id)
            await tx.commit()
