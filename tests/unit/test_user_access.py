"""ChangeUserAccess: what deactivating does to the credentials a user held."""

from __future__ import annotations

import uuid

import pytest

from core.auth.admin import ChangeUserAccess
from core.auth.api_keys import CreateApiKey
from core.auth.authentication import Authenticate, Credentials
from core.auth.errors import InvalidApiKey, InvalidToken
from core.auth.model import RefreshToken
from core.users.model import Actor, Role
from tests.builders import WHEN, Fakes


@pytest.fixture
async def root(fakes: Fakes) -> Actor:
    return await fakes.register("root", role=Role.ADMIN)


async def token_version(fakes: Fakes, actor: Actor) -> int:
    async with fakes.uow.begin() as tx:
        user = await tx.users.get(actor.user_id)
    assert user is not None
    return user.token_version


async def test_deactivating_moves_the_token_version_on(
    fakes: Fakes, root: Actor, jake: Actor
) -> None:
    before = await token_version(fakes, jake)
    await fakes.build(ChangeUserAccess).execute(root, "jake", None, active=False)
    assert await token_version(fakes, jake) == before + 1


async def test_deactivating_revokes_every_api_key_and_refresh_token_of_the_user(
    fakes: Fakes, root: Actor, jake: Actor
) -> None:
    await fakes.build(CreateApiKey).execute(jake, "one", ["feed:read"])
    await fakes.build(CreateApiKey).execute(jake, "two", ["articles:write"])
    family = uuid.uuid4()
    async with fakes.uow.begin() as tx:
        token = RefreshToken(uuid.uuid4(), family, jake.user_id, "h", WHEN, WHEN.replace(year=2099))
        await tx.refresh_tokens.add(token)
        await tx.commit()
    await fakes.build(ChangeUserAccess).execute(root, "jake", None, active=False)
    async with fakes.uow.begin() as tx:
        assert await tx.api_keys.list_for_user(jake.user_id) == []
        refresh = await tx.refresh_tokens.get_by_hash("h")
    assert refresh is not None
    assert refresh.revoked_at is not None


async def test_credentials_from_before_a_deactivation_stay_dead_after_reactivation(
    fakes: Fakes, root: Actor, jake: Actor
) -> None:
    key = await fakes.build(CreateApiKey).execute(jake, "ci", ["feed:read"])
    assert key.key is not None
    change = fakes.build(ChangeUserAccess)
    await change.execute(root, "jake", None, active=False)
    await change.execute(root, "jake", None, active=True)
    authenticate = fakes.build(Authenticate)
    with pytest.raises(InvalidToken):
        await authenticate.execute(jake.token)
    with pytest.raises(InvalidApiKey):
        await authenticate.execute(Credentials(api_key=key.key))


async def test_a_role_change_alone_keeps_the_users_credentials(
    fakes: Fakes, root: Actor, jake: Actor
) -> None:
    await fakes.build(CreateApiKey).execute(jake, "ci", ["feed:read"])
    await fakes.build(ChangeUserAccess).execute(root, "jake", Role.MODERATOR, active=None)
    assert (await fakes.build(Authenticate).execute(jake.token)).role is Role.MODERATOR
    async with fakes.uow.begin() as tx:
        assert len(await tx.api_keys.list_for_user(jake.user_id)) == 1
