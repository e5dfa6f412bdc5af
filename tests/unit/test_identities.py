"""The identities context's use cases on fakes: the corners the API tests do not reach."""

from __future__ import annotations

import dataclasses
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from redis.asyncio import Redis

from adapters.memory.one_time import InMemoryOneTimeStore
from adapters.redis.one_time import RedisOneTimeStore
from core.identities.errors import AccountInactive, InvalidSignInCode
from core.identities.links import LinkIdentity, StartLink, StartLinkInput, UnlinkIdentity
from core.identities.model import OidcPolicy
from core.identities.ports import OneTimeStore
from core.identities.signin import (
    ExchangeSignInCode,
    FinishSignIn,
    FinishSignInInput,
    StartSignIn,
    StartSignInInput,
)
from core.shared.errors import Unavailable
from core.shared.ids import UserId
from core.users.errors import UserNotFound
from core.users.model import Actor
from entrypoints.container import build_container
from entrypoints.lifespan import Infrastructure
from entrypoints.settings import Settings
from entrypoints.storage.memory import MemoryStorage
from tests.apps import TEST_SECRET
from tests.builders import WHEN, Fakes
from tests.fakes.oidc import FakeOpenIdProviders
from tests.fakes.passwords import FakePasswordHasher
from tests.oidc_live import free_port

FRONT = "https://app.test/cb"


class Flow:
    def __init__(self) -> None:
        self.fakes = Fakes()
        self.idp = FakeOpenIdProviders()
        self.store = InMemoryOneTimeStore()
        policy = OidcPolicy(frozenset({FRONT}))
        clock = self.fakes.clock
        self.start = StartSignIn(self.idp, self.store, clock, policy)
        self.finish = FinishSignIn(self.fakes.uow, self.idp, self.store, clock, policy)
        self.exchange = ExchangeSignInCode(
            self.fakes.uow, self.store, self.fakes.tokens, clock, self.fakes.policy
        )
        self.link = LinkIdentity(self.fakes.uow, self.store, clock)

    async def code(self, who: str, link_user: Actor | None = None) -> str:
        if link_user is None:
            url = await self.start.execute(StartSignInInput("acme", FRONT, "https://api/cb"))
        else:
            url = await StartLink(self.start).execute(
                link_user, StartLinkInput("acme", FRONT, "https://api/cb")
            )
        state = parse_qs(urlsplit(url).query)["state"][0]
        back = await self.finish.execute(FinishSignInInput("acme", state, who))
        return parse_qs(urlsplit(back).query)["code"][0]


@pytest.fixture
def flow() -> Flow:
    return Flow()


async def deactivate(flow: Flow, email: str) -> None:
    async with flow.fakes.uow.begin() as tx:
        user = await tx.users.get_by_email(email)
        assert user is not None
        await tx.users.set_access(user.id, role=user.role, active=False)
        await tx.commit()


async def test_a_deactivated_accounts_identity_signs_nobody_in(flow: Flow) -> None:
    flow.idp.person("c1", "s1", email="ann@example.test")
    await flow.exchange.execute(await flow.code("c1"))
    await deactivate(flow, "ann@example.test")

    with pytest.raises(AccountInactive):
        await flow.code("c1")


async def test_a_deactivated_account_is_not_linked_by_email(flow: Flow) -> None:
    await flow.fakes.register("ann", email="ann@acme.test")
    await deactivate(flow, "ann@acme.test")
    flow.idp.person("c1", "s1", email="ann@acme.test", email_verified=True)

    with pytest.raises(AccountInactive):
        await flow.code("c1")


async def test_a_code_for_an_account_deactivated_meanwhile_is_refused(flow: Flow) -> None:
    flow.idp.person("c1", "s1", email="ann@example.test")
    code = await flow.code("c1")
    await deactivate(flow, "ann@example.test")

    with pytest.raises(InvalidSignInCode):
        await flow.exchange.execute(code)


@pytest.mark.parametrize("code", ["", "x" * 201, "never-issued"])
async def test_codes_that_were_never_issued_are_refused(flow: Flow, code: str) -> None:
    with pytest.raises(InvalidSignInCode):
        await flow.exchange.execute(code)
    actor = Actor(UserId(uuid.uuid4()), "t")
    with pytest.raises(InvalidSignInCode):
        await flow.link.execute(actor, code)


async def test_linking_ones_own_identity_again_changes_nothing(flow: Flow) -> None:
    actor = await flow.fakes.register("ann")
    flow.idp.person("c1", "s1", email="x@example.test")
    first = await flow.link.execute(actor, await flow.code("c1", actor))

    again = await flow.link.execute(actor, await flow.code("c1", actor))

    assert again == first


async def test_unlinking_for_a_user_that_is_gone_is_user_not_found(flow: Flow) -> None:
    with pytest.raises(UserNotFound):
        await UnlinkIdentity(flow.fakes.uow, flow.fakes.clock).execute(
            Actor(UserId(uuid.uuid4()), "t"),
            uuid.uuid4(),
        )


async def test_redis_down_is_unavailable() -> None:
    client = Redis.from_url(
        f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2, socket_timeout=0.2
    )
    store = RedisOneTimeStore(client, prefix="t:")
    try:
        with pytest.raises(Unavailable):
            await store.put("k", "v", ttl=OidcPolicy().code_ttl, now=WHEN)
        with pytest.raises(Unavailable):
            await store.take("k", now=WHEN)
    finally:
        await client.aclose()


def test_the_container_keeps_sign_ins_in_redis_when_it_is_configured() -> None:
    settings = Settings(environment="test", secret_key=TEST_SECRET, database_url="memory://")
    plain = Infrastructure(hasher=FakePasswordHasher(), storage=MemoryStorage())
    with_redis = dataclasses.replace(plain, redis=Redis.from_url("redis://127.0.0.1:1/0"))

    assert isinstance(build_container(settings, plain).resolve(OneTimeStore), InMemoryOneTimeStore)
    assert isinstance(
        build_container(settings, with_redis).resolve(OneTimeStore), RedisOneTimeStore
    )


def test_providers_without_their_http_client_stop_the_start() -> None:
    settings = Settings(
        environment="test",
        secret_key=TEST_SECRET,
        database_url="memory://",
        oidc_providers=[
            {"id": "a", "issuer": "https://id.a.test", "client_id": "c", "client_secret": "s"}
        ],
    )
    infra = Infrastructure(hasher=FakePasswordHasher(), storage=MemoryStorage())

    with pytest.raises(RuntimeError, match="no HTTP client"):
        build_container(settings, infra)
