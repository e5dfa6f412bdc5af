"""Accounts and sessions: RegisterUser, SignUp, LogIn, Authenticate, GetCurrentUser, UpdateUser."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.security.tokens import JoseTokenIssuer
from core.auth.authentication import Authenticate, Credentials
from core.auth.errors import (
    AccountDisabled,
    InvalidCredentials,
    InvalidToken,
    MissingToken,
    TooManyAttempts,
)
from core.auth.sessions import LogIn, LogInInput, SignUp
from core.auth.tokens import LogOutEverywhere
from core.shared.errors import InvalidInput, NotAuthenticated
from core.shared.ids import new_user_id
from core.users.errors import EmailTaken, UsernameLookalike, UsernameTaken, UserNotFound
from core.users.model import Actor, Role
from core.users.use_cases import (
    GetCurrentUser,
    RegisterUser,
    RegisterUserInput,
    UpdateUser,
    UpdateUserInput,
)
from tests.builders import PASSWORD, SECRET, TOKEN_TTL, Fakes, a_user
from tests.fakes.clock import FakeClock

NEW_PASSWORD = "a brand new password"


async def _log_in(fakes: Fakes, email: str, password: str) -> Actor:
    view = await fakes.build(LogIn).execute(LogInInput(email, password))
    return await fakes.build(Authenticate).execute(view.token)


# RegisterUser, SignUp


async def test_sign_up_returns_the_account_with_a_token_for_the_new_user(fakes: Fakes) -> None:
    view = await fakes.build(SignUp).execute(RegisterUserInput("jake", "jake@jake.jake", PASSWORD))
    user = fakes.db.state.users[fakes.tokens.verify(view.token).user_id]
    assert (view.username, view.email, view.bio, view.image) == ("jake", "jake@jake.jake", "", None)
    assert user.username == "jake"


async def test_register_returns_the_stored_user(fakes: Fakes) -> None:
    user = await fakes.build(RegisterUser).execute(
        RegisterUserInput("jake", "jake@jake.jake", PASSWORD)
    )
    assert fakes.db.state.users[user.id] == user


async def test_register_stores_the_email_in_lower_case(fakes: Fakes) -> None:
    user = await fakes.build(RegisterUser).execute(
        RegisterUserInput("jake", "  Jake@Jake.JAKE ", PASSWORD)
    )
    assert user.email == "jake@jake.jake"
    assert [u.email for u in fakes.db.state.users.values()] == ["jake@jake.jake"]


async def test_register_makes_an_active_plain_user(fakes: Fakes) -> None:
    await fakes.build(RegisterUser).execute(RegisterUserInput("jake", "jake@jake.jake", PASSWORD))
    (user,) = fakes.db.state.users.values()
    assert (user.role, user.active, user.bio, user.image) == (Role.USER, True, "", None)


async def test_register_stores_only_a_hash_of_the_password(fakes: Fakes) -> None:
    await fakes.build(RegisterUser).execute(RegisterUserInput("jake", "jake@jake.jake", PASSWORD))
    (user,) = fakes.db.state.users.values()
    assert user.password_hash != PASSWORD
    assert await fakes.hasher.verify(PASSWORD, user.password_hash)


async def test_register_sets_created_and_updated_from_the_clock() -> None:
    fakes = Fakes(clock=FakeClock())
    await fakes.build(RegisterUser).execute(RegisterUserInput("jake", "jake@jake.jake", PASSWORD))
    (user,) = fakes.db.state.users.values()
    assert user.created_at == user.updated_at == fakes.clock.now()


async def test_register_fails_with_username_taken_when_the_username_is_in_use(
    fakes: Fakes, jake: Actor
) -> None:
    with pytest.raises(UsernameTaken) as caught:
        await fakes.build(RegisterUser).execute(
            RegisterUserInput("jake", "other@example.com", PASSWORD)
        )
    assert caught.value.field == "username"
    assert len(fakes.db.state.users) == 1


async def test_register_fails_with_email_taken_when_the_email_is_in_use_in_another_case(
    fakes: Fakes, jake: Actor
) -> None:
    with pytest.raises(EmailTaken) as caught:
        await fakes.build(RegisterUser).execute(
            RegisterUserInput("other", "JAKE@example.com", PASSWORD)
        )
    assert caught.value.field == "email"
    assert len(fakes.db.state.users) == 1


async def test_register_reports_a_taken_username_and_a_taken_email_in_one_error(
    fakes: Fakes, jake: Actor
) -> None:
    with pytest.raises(UsernameTaken) as caught:
        await fakes.build(RegisterUser).execute(
            RegisterUserInput("jake", "JAKE@example.com", PASSWORD)
        )
    taken = ["has already been taken"]
    assert caught.value.errors == {"username": taken, "email": taken}
    assert len(fakes.db.state.users) == 1


@pytest.mark.parametrize(
    "username",
    ["Jake", "JAKE", "\uff4a\uff41\uff4b\uff45"],  # the last: "jake" in fullwidth letters
)
async def test_register_fails_with_username_taken_when_it_differs_only_in_case_or_width(
    fakes: Fakes, jake: Actor, username: str
) -> None:
    with pytest.raises(UsernameTaken) as caught:
        await fakes.build(RegisterUser).execute(
            RegisterUserInput(username, "other@example.com", PASSWORD)
        )
    assert caught.value.message == "has already been taken"
    assert len(fakes.db.state.users) == 1


async def test_register_refuses_a_name_mixing_scripts(fakes: Fakes) -> None:
    with pytest.raises(InvalidInput, match="must not mix letters of different scripts") as caught:
        await fakes.build(RegisterUser).execute(
            RegisterUserInput("\u0430dmin", "admin@example.com", PASSWORD)  # Cyrillic "a"
        )
    assert caught.value.field == "username"
    assert fakes.db.state.users == {}


@pytest.mark.parametrize(
    ("existing", "username"),
    [
        ("ace", "\u0430\u0441\u0435"),  # "ace" in Cyrillic letters only: one script
        ("paypal", "paypaI"),  # capital I for l
        ("jake1", "jakel"),  # l for 1
    ],
)
async def test_register_fails_with_username_lookalike_when_it_looks_like_another(
    fakes: Fakes, existing: str, username: str
) -> None:
    await fakes.register(existing)

    with pytest.raises(UsernameLookalike) as caught:
        await fakes.build(RegisterUser).execute(
            RegisterUserInput(username, "other@example.com", PASSWORD)
        )
    assert caught.value.field == "username"
    assert caught.value.message == "is too similar to an existing username"
    assert len(fakes.db.state.users) == 1


async def test_register_accepts_single_script_names_in_other_scripts(fakes: Fakes) -> None:
    for n, username in enumerate(
        ["\u0418\u0432\u0430\u043d", "\u65e5\u672c\u8a9e\u30c6\u30b9\u30c8"]
    ):
        user = await fakes.build(RegisterUser).execute(
            RegisterUserInput(username, f"u{n}@example.com", PASSWORD)
        )
        assert user.username == username


@pytest.mark.parametrize(
    ("username", "email", "password", "field"),
    [
        ("", "jake@jake.jake", PASSWORD, "username"),
        ("ja ke", "jake@jake.jake", PASSWORD, "username"),
        ("jake", "", PASSWORD, "email"),
        ("jake", "not-an-email", PASSWORD, "email"),
        ("jake", "jake@jake.jake", "", "password"),
        ("jake", "jake@jake.jake", "short", "password"),
    ],
)
async def test_register_rejects_invalid_input_naming_the_field(
    fakes: Fakes, username: str, email: str, password: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await fakes.build(RegisterUser).execute(RegisterUserInput(username, email, password))
    assert caught.value.field == field
    assert fakes.db.state.users == {}


# LogIn


async def test_log_in_returns_a_token_for_the_user_when_the_password_is_right(
    fakes: Fakes, jake: Actor
) -> None:
    view = await fakes.build(LogIn).execute(LogInInput("jake@example.com", PASSWORD))
    assert view.username == "jake"
    assert fakes.tokens.verify(view.token).user_id == jake.user_id


async def test_log_in_matches_the_email_regardless_of_case(fakes: Fakes, jake: Actor) -> None:
    view = await fakes.build(LogIn).execute(LogInInput(" JAKE@Example.com ", PASSWORD))
    assert fakes.tokens.verify(view.token).user_id == jake.user_id


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("jake@example.com", "wrong password"),
        ("jake@example.com", PASSWORD.upper()),
        ("nobody@example.com", PASSWORD),
        ("", PASSWORD),
        ("jake@example.com", ""),
    ],
    ids=["wrong-password", "password-case", "unknown-email", "no-email", "no-password"],
)
async def test_log_in_fails_with_invalid_credentials(
    fakes: Fakes, jake: Actor, email: str, password: str
) -> None:
    with pytest.raises(InvalidCredentials) as caught:
        await fakes.build(LogIn).execute(LogInInput(email, password))
    assert isinstance(caught.value, NotAuthenticated)
    assert caught.value.field == "email or password"


async def test_log_in_fails_alike_for_an_unknown_email_and_a_wrong_password(
    fakes: Fakes, jake: Actor
) -> None:
    log_in = fakes.build(LogIn)
    with pytest.raises(InvalidCredentials) as unknown:
        await log_in.execute(LogInInput("nobody@example.com", PASSWORD))
    with pytest.raises(InvalidCredentials) as wrong:
        await log_in.execute(LogInInput("jake@example.com", "wrong password"))
    assert (unknown.value.message, unknown.value.field) == (wrong.value.message, wrong.value.field)


async def test_log_in_is_refused_after_too_many_failures_even_with_the_right_password(
    fakes: Fakes, jake: Actor
) -> None:
    log_in = fakes.build(LogIn)  # the limits themselves: tests/unit/test_login_limits.py
    for _ in range(fakes.policy.max_failures_per_pair):
        with pytest.raises(InvalidCredentials):
            await log_in.execute(LogInInput("jake@example.com", "wrong password", "192.0.2.1"))
    with pytest.raises(TooManyAttempts) as caught:
        await log_in.execute(LogInInput("jake@example.com", PASSWORD, "192.0.2.1"))
    assert caught.value.retry_after_s > 0


@pytest.mark.parametrize("password", [PASSWORD, "wrong password"])
async def test_log_in_fails_as_a_wrong_password_does_when_the_user_is_deactivated(
    fakes: Fakes, jake: Actor, password: str
) -> None:
    async with fakes.uow.begin() as tx:
        await tx.users.set_access(jake.user_id, role=Role.USER, active=False)
        await tx.commit()
    with pytest.raises(InvalidCredentials):
        await fakes.build(LogIn).execute(LogInInput("jake@example.com", password))


# Authenticate


async def test_authenticate_returns_the_actor_named_by_the_token(fakes: Fakes, jake: Actor) -> None:
    actor = await fakes.build(Authenticate).execute(jake.token)
    assert actor == Actor(jake.user_id, jake.token, Role.USER, scopes=None)


async def test_authenticate_gives_the_actor_the_stored_role(fakes: Fakes) -> None:
    moderator = await fakes.register("mod", role=Role.MODERATOR)
    assert (await fakes.build(Authenticate).execute(moderator.token)).role is Role.MODERATOR


@pytest.mark.parametrize("credentials", [None, "", Credentials()])
async def test_authenticate_fails_with_missing_token_when_none_is_presented(
    fakes: Fakes, credentials: str | Credentials | None
) -> None:
    with pytest.raises(MissingToken):
        await fakes.build(Authenticate).execute(credentials)


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 5_000])
async def test_authenticate_fails_with_invalid_token_when_it_is_malformed(
    fakes: Fakes, token: str
) -> None:
    with pytest.raises(InvalidToken):
        await fakes.build(Authenticate).execute(token)


async def test_authenticate_fails_with_invalid_token_when_its_claims_are_tampered_with(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    header, _, signature = jake.token.split(".")
    _, celebs_claims, _ = celeb.token.split(".")
    with pytest.raises(InvalidToken):
        await fakes.build(Authenticate).execute(f"{header}.{celebs_claims}.{signature}")


async def test_authenticate_fails_with_invalid_token_when_signed_with_another_key(
    fakes: Fakes, jake: Actor
) -> None:
    foreign = JoseTokenIssuer(SECRET[::-1], TOKEN_TTL, fakes.clock).issue(jake.user_id)
    with pytest.raises(InvalidToken):
        await fakes.build(Authenticate).execute(foreign)


async def test_authenticate_fails_with_invalid_token_when_it_has_expired() -> None:
    fakes = Fakes(clock=FakeClock())
    jake = await fakes.register("jake")
    fakes.clock.advance((fakes.policy.realworld_ttl + timedelta(minutes=5)).total_seconds())
    with pytest.raises(InvalidToken):
        await fakes.build(Authenticate).execute(jake.token)


async def test_authenticate_fails_with_invalid_token_when_the_user_does_not_exist(
    fakes: Fakes,
) -> None:
    with pytest.raises(InvalidToken):
        await fakes.build(Authenticate).execute(fakes.tokens.issue(new_user_id()))


async def test_authenticate_fails_with_invalid_token_after_log_out_everywhere(
    fakes: Fakes, jake: Actor
) -> None:
    await fakes.build(LogOutEverywhere).execute(jake)
    with pytest.raises(InvalidToken):
        await fakes.build(Authenticate).execute(jake.token)


async def test_authenticate_fails_with_account_disabled_when_the_user_is_deactivated(
    fakes: Fakes, jake: Actor
) -> None:
    async with fakes.uow.begin() as tx:
        await tx.users.set_access(jake.user_id, role=Role.USER, active=False)
        await tx.commit()
    with pytest.raises(AccountDisabled):
        await fakes.build(Authenticate).execute(jake.token)


# GetCurrentUser


async def test_current_user_is_the_callers_account_with_the_presented_token(
    fakes: Fakes, jake: Actor
) -> None:
    view = await fakes.build(GetCurrentUser).execute(jake)
    assert (view.username, view.email, view.token) == ("jake", "jake@example.com", jake.token)


async def test_current_user_fails_with_user_not_found_when_the_account_is_gone(
    fakes: Fakes,
) -> None:
    ghost = a_user("ghost")
    with pytest.raises(UserNotFound):
        await fakes.build(GetCurrentUser).execute(Actor(ghost.id, "token"))


# UpdateUser


async def test_update_changes_the_given_fields_only(fakes: Fakes, jake: Actor) -> None:
    view = await fakes.build(UpdateUser).execute(
        jake, UpdateUserInput(bio="I like to skateboard", image="https://i.example/j.png")
    )
    assert (view.username, view.email, view.bio, view.image) == (
        "jake",
        "jake@example.com",
        "I like to skateboard",
        "https://i.example/j.png",
    )
    assert fakes.db.state.users[jake.user_id].bio == "I like to skateboard"


async def test_update_changes_username_and_lower_cases_the_email(fakes: Fakes, jake: Actor) -> None:
    view = await fakes.build(UpdateUser).execute(
        jake, UpdateUserInput(username="jacob", email="Jacob@Example.com")
    )
    stored = fakes.db.state.users[jake.user_id]
    assert (view.username, view.email) == ("jacob", "jacob@example.com")
    assert (stored.username, stored.email) == ("jacob", "jacob@example.com")


async def test_update_keeps_the_presented_token(fakes: Fakes, jake: Actor) -> None:
    view = await fakes.build(UpdateUser).execute(jake, UpdateUserInput(bio="hi"))
    assert view.token == jake.token


async def test_update_moves_updated_at(fakes: Fakes, jake: Actor) -> None:
    before = fakes.db.state.users[jake.user_id]
    await fakes.build(UpdateUser).execute(jake, UpdateUserInput(bio="hi"))
    after = fakes.db.state.users[jake.user_id]
    assert after.updated_at > before.updated_at
    assert after.created_at == before.created_at


async def test_update_clears_bio_and_image_when_blank(fakes: Fakes, jake: Actor) -> None:
    update = fakes.build(UpdateUser)
    await update.execute(jake, UpdateUserInput(bio="hi", image="https://i.example/j.png"))
    view = await update.execute(jake, UpdateUserInput(bio="", image="  "))
    stored = fakes.db.state.users[jake.user_id]
    assert (view.bio, view.image) == ("", None)
    assert (stored.bio, stored.image) == ("", None)


async def test_update_rehashes_the_password_so_login_works_with_the_new_one(
    fakes: Fakes, jake: Actor
) -> None:
    await fakes.build(UpdateUser).execute(jake, UpdateUserInput(password=NEW_PASSWORD))
    assert (await _log_in(fakes, "jake@example.com", NEW_PASSWORD)).user_id == jake.user_id


async def test_update_of_the_password_makes_the_old_one_fail(fakes: Fakes, jake: Actor) -> None:
    await fakes.build(UpdateUser).execute(jake, UpdateUserInput(password=NEW_PASSWORD))
    with pytest.raises(InvalidCredentials):
        await _log_in(fakes, "jake@example.com", PASSWORD)


async def test_update_of_the_email_makes_login_use_the_new_one(fakes: Fakes, jake: Actor) -> None:
    await fakes.build(UpdateUser).execute(jake, UpdateUserInput(email="jacob@example.com"))
    assert (await _log_in(fakes, "jacob@example.com", PASSWORD)).user_id == jake.user_id
    with pytest.raises(InvalidCredentials):
        await _log_in(fakes, "jake@example.com", PASSWORD)


async def test_update_fails_with_username_taken_when_another_user_has_it(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    with pytest.raises(UsernameTaken) as caught:
        await fakes.build(UpdateUser).execute(jake, UpdateUserInput(username="celeb"))
    assert caught.value.field == "username"
    assert fakes.db.state.users[jake.user_id].username == "jake"


async def test_update_fails_with_email_taken_when_another_user_has_it(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    with pytest.raises(EmailTaken) as caught:
        await fakes.build(UpdateUser).execute(jake, UpdateUserInput(email="CELEB@example.com"))
    assert caught.value.field == "email"
    assert fakes.db.state.users[jake.user_id].email == "jake@example.com"


async def test_update_reports_a_taken_username_and_a_taken_email_in_one_error(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    with pytest.raises(UsernameTaken) as caught:
        await fakes.build(UpdateUser).execute(
            jake, UpdateUserInput(username="celeb", email="celeb@example.com")
        )
    taken = ["has already been taken"]
    assert caught.value.errors == {"username": taken, "email": taken}
    assert fakes.db.state.users[jake.user_id].email == "jake@example.com"


async def test_update_may_change_only_the_case_of_the_callers_own_username(
    fakes: Fakes, jake: Actor
) -> None:
    view = await fakes.build(UpdateUser).execute(jake, UpdateUserInput(username="Jake"))
    assert view.username == "Jake"


async def test_update_fails_with_username_taken_when_another_has_it_in_another_case(
    fakes: Fakes, jake: Actor, celeb: Actor
) -> None:
    with pytest.raises(UsernameTaken):
        await fakes.build(UpdateUser).execute(jake, UpdateUserInput(username="CELEB"))
    assert fakes.db.state.users[jake.user_id].username == "jake"


async def test_update_fails_with_username_lookalike_when_it_looks_like_anothers(
    fakes: Fakes, jake: Actor
) -> None:
    await fakes.register("jane1")

    with pytest.raises(UsernameLookalike):
        await fakes.build(UpdateUser).execute(jake, UpdateUserInput(username="janel"))
    assert fakes.db.state.users[jake.user_id].username == "jake"


async def test_update_accepts_the_callers_own_username_and_email(fakes: Fakes, jake: Actor) -> None:
    view = await fakes.build(UpdateUser).execute(
        jake, UpdateUserInput(username="jake", email="JAKE@example.com", bio="same me")
    )
    assert (view.username, view.email, view.bio) == ("jake", "jake@example.com", "same me")


async def test_update_without_changes_leaves_the_account_as_it_is(
    fakes: Fakes, jake: Actor
) -> None:
    before = fakes.db.state.users[jake.user_id]
    view = await fakes.build(UpdateUser).execute(jake, UpdateUserInput())
    assert fakes.db.state.users[jake.user_id] == before
    assert view.username == "jake"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (UpdateUserInput(username=""), "username"),
        (UpdateUserInput(username="a b"), "username"),
        (UpdateUserInput(email="nope"), "email"),
        (UpdateUserInput(password="short"), "password"),
        (UpdateUserInput(bio="a" * 2_001), "bio"),
        (UpdateUserInput(image="not a url"), "image"),
    ],
)
async def test_update_rejects_invalid_input_naming_the_field(
    fakes: Fakes, jake: Actor, data: UpdateUserInput, field: str
) -> None:
    before = fakes.db.state.users[jake.user_id]
    with pytest.raises(InvalidInput) as caught:
        await fakes.build(UpdateUser).execute(jake, data)
    assert caught.value.field == field
    assert fakes.db.state.users[jake.user_id] == before


async def test_update_fails_with_user_not_found_when_the_account_is_gone(fakes: Fakes) -> None:
    with pytest.raises(UserNotFound):
        await fakes.build(UpdateUser).execute(
            Actor(a_user("ghost").id, "token"), UpdateUserInput(bio="boo")
        )
