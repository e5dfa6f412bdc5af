"""Value rules of the auth context: an API key's name and scopes."""

from __future__ import annotations

import re

import pytest

from core.auth.model import API_KEY_NAME_MAX, api_key_name_of, scopes_of
from core.shared.errors import InvalidInput
from core.users.model import Scope

# A message follows its field name: "<field> <message>", as RealWorld clients show it.
VOICE = re.compile(r"^(is|can't|must|may|has) [^A-Z].*[^.]$")


def test_api_key_name_is_trimmed() -> None:
    assert api_key_name_of("  ci publisher ") == "ci publisher"


def test_api_key_name_accepts_the_maximum_length() -> None:
    assert api_key_name_of("n" * API_KEY_NAME_MAX) == "n" * API_KEY_NAME_MAX


@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_api_key_name_is_rejected_when_blank(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        api_key_name_of(raw)
    assert (caught.value.field, caught.value.message) == ("name", "can't be blank")


def test_api_key_name_is_rejected_when_too_long() -> None:
    with pytest.raises(InvalidInput) as caught:
        api_key_name_of("n" * (API_KEY_NAME_MAX + 1))
    assert caught.value.field == "name"
    assert caught.value.message == f"is too long (maximum is {API_KEY_NAME_MAX} characters)"


def test_api_key_name_is_rejected_when_it_holds_nul() -> None:
    with pytest.raises(InvalidInput) as caught:
        api_key_name_of("ci\x00")
    assert caught.value.field == "name"


def test_scopes_are_parsed_and_deduplicated() -> None:
    assert scopes_of(["feed:read", "articles:write", "feed:read"]) == {
        Scope.FEED_READ,
        Scope.ARTICLES_WRITE,
    }


def test_scopes_accept_scope_values() -> None:
    assert scopes_of([Scope.FEED_READ]) == {Scope.FEED_READ}


def test_scopes_are_rejected_when_none_is_given() -> None:
    with pytest.raises(InvalidInput) as caught:
        scopes_of([])
    assert (caught.value.field, caught.value.message) == ("scopes", "must have at least one scope")


def test_scopes_are_rejected_when_one_is_unknown_and_the_message_names_it() -> None:
    with pytest.raises(InvalidInput) as caught:
        scopes_of(["feed:read", "root:all"])
    assert caught.value.field == "scopes"
    assert caught.value.message.startswith("has an unknown scope 'root:all' (allowed: ")
    assert all(scope.value in caught.value.message for scope in Scope)


@pytest.mark.parametrize(
    ("rule", "raw"),
    [
        (api_key_name_of, " "),
        (api_key_name_of, "n" * (API_KEY_NAME_MAX + 1)),
        (scopes_of, []),
        (scopes_of, ["nope"]),
    ],
)
def test_auth_rule_messages_read_after_the_field_name(rule: object, raw: object) -> None:
    assert callable(rule)
    with pytest.raises(InvalidInput) as caught:
        rule(raw)
    assert VOICE.match(caught.value.message), f"{caught.value.field} {caught.value.message}"
