"""Value rules of the users context: username, email, password, bio, image."""

from __future__ import annotations

import pytest

from core.shared.errors import InvalidInput
from core.users.model import (
    BIO_MAX,
    EMAIL_MAX,
    IMAGE_URL_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    USERNAME_MAX,
    bio_of,
    check_password,
    email_of,
    image_of,
    username_key,
    username_of,
    username_skeleton,
)


def test_username_is_trimmed_and_keeps_its_case() -> None:
    assert username_of("  Jake.Doe_1-x  ") == "Jake.Doe_1-x"


def test_username_accepts_letters_of_any_script() -> None:
    assert username_of("Jürgen") == "Jürgen"


def test_username_is_kept_in_nfkc_form() -> None:
    # Fullwidth letters and the "fi" ligature (U+FB01) are compatibility forms.
    assert username_of("\uff2a\uff41\uff4b\uff45") == "Jake"
    assert username_of("\ufb01le") == "file"


@pytest.mark.parametrize(
    "raw",
    [
        "\u0430dmin",  # Cyrillic a, Latin dmin
        "p\u0430yp\u0430l",
        "\u0391lice",  # Greek capital alpha
        "jake\u65e5",  # Latin and Han
    ],
)
def test_username_is_rejected_when_it_mixes_scripts(raw: str) -> None:
    with pytest.raises(InvalidInput, match="must not mix letters of different scripts") as caught:
        username_of(raw)
    assert caught.value.field == "username"


@pytest.mark.parametrize(
    "raw",
    [
        "jake_1.x-y",  # digits, "_", "." and "-" belong to every script
        "\u0418\u0432\u0430\u043d",  # Cyrillic
        "\u0395\u03bb\u03ad\u03bd\u03b7",  # Greek
        "\u65e5\u672c\u8a9e\u30c6\u30b9\u30c8",  # Japanese: Han and katakana, one writing system
    ],
)
def test_username_accepts_a_single_script(raw: str) -> None:
    assert username_of(raw) == raw


def test_username_key_ignores_case_and_compatibility_forms() -> None:
    assert username_key("Admin") == username_key("ADMIN") == username_key("admin") == "admin"
    assert username_key("\uff21\uff24\uff2d\uff29\uff2e") == "admin"  # fullwidth
    assert username_key("Stra\u00dfe") == username_key("STRASSE")


def test_username_key_keeps_look_alikes_apart() -> None:
    assert username_key("jake1") != username_key("jakel")
    assert username_key("\u0430ce") != username_key("ace")


@pytest.mark.parametrize(
    ("name", "lookalike"),
    [
        ("ace", "\u0430\u0441\u0435"),  # Cyrillic
        ("paypal", "paypaI"),
        ("jake1", "jakel"),
        ("admin", "Admin"),
        ("ADMIN", "admln"),  # a capital I looks like a small l
        ("bob0", "bobO"),
    ],
)
def test_username_skeleton_is_shared_by_look_alikes(name: str, lookalike: str) -> None:
    assert username_skeleton(name) == username_skeleton(lookalike)


@pytest.mark.parametrize(("name", "other"), [("jake", "jane"), ("ace", "acne"), ("bob", "b0b1")])
def test_username_skeleton_tells_different_names_apart(name: str, other: str) -> None:
    assert username_skeleton(name) != username_skeleton(other)


def test_username_accepts_the_maximum_length() -> None:
    assert username_of("a" * USERNAME_MAX) == "a" * USERNAME_MAX


@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_username_is_rejected_when_blank(raw: str) -> None:
    with pytest.raises(InvalidInput, match="can't be blank") as caught:
        username_of(raw)
    assert caught.value.field == "username"


def test_username_is_rejected_when_too_long() -> None:
    with pytest.raises(InvalidInput, match="too long") as caught:
        username_of("a" * (USERNAME_MAX + 1))
    assert caught.value.field == "username"


@pytest.mark.parametrize("raw", ["jake doe", "jake/doe", "jake@doe", "jake?", "ja%2Fke"])
def test_username_is_rejected_when_it_has_unsafe_characters(raw: str) -> None:
    with pytest.raises(InvalidInput, match="may contain only") as caught:
        username_of(raw)
    assert caught.value.field == "username"


def test_email_is_trimmed_and_lower_cased() -> None:
    assert email_of("  Jake@Example.COM ") == "jake@example.com"


@pytest.mark.parametrize("raw", ["", "  "])
def test_email_is_rejected_when_blank(raw: str) -> None:
    with pytest.raises(InvalidInput, match="can't be blank") as caught:
        email_of(raw)
    assert caught.value.field == "email"


@pytest.mark.parametrize(
    "raw", ["jake", "jake@", "@example.com", "jake@example", "ja ke@example.com", "a@b@c.com"]
)
def test_email_is_rejected_when_malformed(raw: str) -> None:
    with pytest.raises(InvalidInput, match="is invalid") as caught:
        email_of(raw)
    assert caught.value.field == "email"


def test_email_is_rejected_when_too_long() -> None:
    raw = "a" * (EMAIL_MAX - len("@example.com") + 1) + "@example.com"
    with pytest.raises(InvalidInput, match="too long") as caught:
        email_of(raw)
    assert caught.value.field == "email"


def test_email_accepts_the_maximum_length() -> None:
    raw = "a" * (EMAIL_MAX - len("@example.com")) + "@example.com"
    assert email_of(raw) == raw


def test_password_is_returned_as_typed_without_trimming() -> None:
    assert check_password("  secret password  ") == "  secret password  "


@pytest.mark.parametrize("raw", ["", " " * PASSWORD_MIN])
def test_password_is_rejected_when_blank(raw: str) -> None:
    with pytest.raises(InvalidInput, match="can't be blank") as caught:
        check_password(raw)
    assert caught.value.field == "password"


def test_password_is_rejected_when_too_short() -> None:
    with pytest.raises(InvalidInput, match="too short") as caught:
        check_password("a" * (PASSWORD_MIN - 1))
    assert caught.value.field == "password"


def test_password_is_rejected_when_too_long() -> None:
    with pytest.raises(InvalidInput, match="too long") as caught:
        check_password("a" * (PASSWORD_MAX + 1))
    assert caught.value.field == "password"


@pytest.mark.parametrize("length", [PASSWORD_MIN, PASSWORD_MAX])
def test_password_accepts_the_bounds(length: int) -> None:
    assert check_password("a" * length) == "a" * length


def test_bio_is_trimmed() -> None:
    assert bio_of("  I work at statefarm \n") == "I work at statefarm"


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_bio_is_empty_when_missing_or_blank(raw: str | None) -> None:
    assert bio_of(raw) == ""


def test_bio_is_rejected_when_too_long() -> None:
    with pytest.raises(InvalidInput, match="too long") as caught:
        bio_of("a" * (BIO_MAX + 1))
    assert caught.value.field == "bio"


@pytest.mark.parametrize("raw", ["https://example.com/a.png", "HTTP://example.com/a.png"])
def test_image_accepts_http_and_https_urls(raw: str) -> None:
    assert image_of(f" {raw} ") == raw


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_image_is_none_when_missing_or_blank(raw: str | None) -> None:
    assert image_of(raw) is None


@pytest.mark.parametrize(
    "raw", ["example.com/a.png", "ftp://example.com/a.png", "javascript:alert(1)", "http://a b"]
)
def test_image_is_rejected_when_not_an_http_url(raw: str) -> None:
    with pytest.raises(InvalidInput, match="http or https") as caught:
        image_of(raw)
    assert caught.value.field == "image"


def test_image_is_rejected_when_too_long() -> None:
    with pytest.raises(InvalidInput, match="too long") as caught:
        image_of("https://example.com/" + "a" * IMAGE_URL_MAX)
    assert caught.value.field == "image"
