"""The identities context's rules: derived usernames, trusted emails, the sign-in records."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.auth.errors import InvalidCredentials
from core.auth.sessions import PasswordCheck
from core.identities.model import (
    OidcPolicy,
    PendingSignIn,
    ProvidedIdentity,
    ProviderInfo,
    Purpose,
    SignInGrant,
    code_key,
    email_or_none,
    image_or_none,
    state_key,
    username_bases,
    with_query,
    with_suffix,
)
from core.shared.ids import UserId
from core.users.model import NO_PASSWORD, USERNAME_MAX, username_of
from tests.builders import Fakes, a_user
from tests.fakes.passwords import FakePasswordHasher


def who(**claims: object) -> ProvidedIdentity:
    return ProvidedIdentity("https://id.example", "sub", **claims)  # type: ignore[arg-type]


def test_usernames_come_from_the_preferred_name_then_the_name_then_the_email() -> None:
    identity = who(preferred_username="jdoe", name="John Doe", email="john@example.test")

    assert list(username_bases(identity)) == ["jdoe", "John_Doe", "john", "user"]


def test_characters_outside_the_rules_become_underscores_and_edges_are_trimmed() -> None:
    assert list(username_bases(who(name="  Zoë  O'Brien!  "))) == ["Zoë_O_Brien", "user"]


def test_a_mixed_script_name_is_skipped() -> None:
    # "paypal" with a Cyrillic a (U+0430): one script per username.
    assert list(username_bases(who(preferred_username="p\u0430ypal"))) == ["user"]


def test_a_long_name_leaves_room_for_a_suffix() -> None:
    [base, _] = username_bases(who(name="a" * 100))

    assert len(with_suffix(base)) <= USERNAME_MAX


def test_the_same_name_twice_is_tried_once() -> None:
    identity = who(preferred_username="jake", name="JAKE", email="jake@example.test")

    assert list(username_bases(identity)) == ["jake", "user"]


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=80), st.text(max_size=80), st.emails() | st.none())
def test_every_derived_username_obeys_the_username_rules(
    preferred: str, name: str, email: str | None
) -> None:
    identity = who(preferred_username=preferred, name=name, email=email)
    for base in username_bases(identity):
        assert username_of(base) == base
        assert username_of(with_suffix(base))


def test_a_provider_vouches_only_for_verified_emails_of_its_domains() -> None:
    acme = ProviderInfo("acme", "https://id.acme", frozenset({"acme.test"}))

    assert acme.vouches_for("a@ACME.test", verified=True)
    assert not acme.vouches_for("a@acme.test", verified=False)
    assert not acme.vouches_for("a@sub.acme.test", verified=True)
    assert not acme.vouches_for("a@acme.test.evil", verified=True)


def test_the_redirect_allowlist_matches_exactly() -> None:
    policy = OidcPolicy(frozenset({"https://app.test/cb"}))

    assert policy.allows("https://app.test/cb")
    assert not policy.allows("https://app.test/cb/")
    assert not policy.allows("https://app.test/cb?x=1")
    assert not policy.allows("https://app.test.evil/cb")


def test_the_code_joins_the_front_ends_own_query() -> None:
    assert (
        with_query("https://app.test/cb?tab=2", code="a b") == "https://app.test/cb?tab=2&code=a+b"
    )


def test_keys_are_digests_not_the_secrets() -> None:
    assert "s3cret" not in state_key("s3cret")
    assert state_key("x") != code_key("x")
    assert state_key("x") == state_key("x")


def test_pending_sign_ins_and_grants_survive_storage() -> None:
    user = UserId(uuid.uuid4())
    pending = PendingSignIn("acme", "https://app/cb", "https://api/cb", "n", "v", user)
    grant = SignInGrant(Purpose.LINK, user, "acme", who(email="a@b.test", email_verified=True))

    assert PendingSignIn.loads(pending.dumps()) == pending
    assert SignInGrant.loads(grant.dumps()) == grant
    plain = SignInGrant(Purpose.SIGN_IN, user, "acme")
    assert SignInGrant.loads(plain.dumps()) == plain


def test_unusable_emails_and_pictures_are_dropped() -> None:
    assert email_or_none("Not An Email") is None
    assert email_or_none(None) is None
    assert email_or_none(" A@B.test ") == "a@b.test"
    assert image_or_none("javascript:alert(1)") is None
    assert image_or_none("https://img.test/a.png") == "https://img.test/a.png"


class RecordingHasher(FakePasswordHasher):
    def __init__(self) -> None:
        self.verified: list[str] = []

    async def verify(self, password: str, password_hash: str) -> bool:
        self.verified.append(password_hash)
        return await super().verify(password, password_hash)


async def test_an_account_without_a_password_fails_as_an_unknown_email_does() -> None:
    hasher = RecordingHasher()
    fakes = Fakes(hasher=hasher)
    async with fakes.uow.begin() as tx:
        await tx.users.add(a_user("ann", password_hash=NO_PASSWORD))
        await tx.commit()
    check = fakes.build(PasswordCheck)

    for password in ("", "anything at all"):
        with pytest.raises(InvalidCredentials):
            await check.check("ann@example.com", password, "192.0.2.1")

    # The decoy hash was checked (the time an unknown email costs), never the empty one.
    assert hasher.verified
    assert NO_PASSWORD not in hasher.verified
