"""DomainError: the field messages one failure carries, alone or joined with others."""

from __future__ import annotations

from core.shared.errors import Conflict, DomainError, InvalidInput, joined


def test_an_error_carries_its_own_field_and_message() -> None:
    error = InvalidInput("can't be blank", field="title")
    assert error.errors == {"title": ["can't be blank"]}


def test_an_error_without_a_field_is_about_the_body() -> None:
    assert DomainError("article not found").errors == {"body": ["article not found"]}


def test_joined_errors_keep_the_first_and_carry_every_field() -> None:
    first = Conflict("has already been taken", field="username")
    second = Conflict("has already been taken", field="email")

    error = joined([first, second])

    assert error is first
    assert (error.field, error.message) == ("username", "has already been taken")
    assert error.errors == {
        "username": ["has already been taken"],
        "email": ["has already been taken"],
    }


def test_joined_errors_on_one_field_list_each_message_once() -> None:
    error = joined(
        [
            InvalidInput("is invalid", field="email"),
            InvalidInput("is too long", field="email"),
            InvalidInput("is invalid", field="email"),
        ]
    )
    assert error.errors == {"email": ["is invalid", "is too long"]}
