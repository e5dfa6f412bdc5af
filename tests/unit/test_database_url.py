"""DATABASE_URL in the forms providers hand out becomes the URL our engine opens; anything
else is one configuration line that never shows the password."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from adapters.sql.engine import make_engine
from entrypoints.database_url import SSL_MODES
from entrypoints.settings import ConfigurationError, Settings, load_settings
from entrypoints.storage.postgres import PostgresStorage
from entrypoints.storage.registry import backend_for
from entrypoints.storage.sqlite import SqliteStorage

PASSWORD = "s3cret-pw"


def normalised(url: str) -> str:
    return Settings(database_url=url).database_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://app:pw@db:5432/conduit", "postgresql+asyncpg://app:pw@db:5432/conduit"),
        ("postgres://app:pw@db:5432/conduit", "postgresql+asyncpg://app:pw@db:5432/conduit"),
        ("postgresql+asyncpg://app@db/conduit", "postgresql+asyncpg://app@db/conduit"),
        ("sqlite:///./conduit.db", "sqlite+aiosqlite:///./conduit.db"),
        ("sqlite:////var/lib/conduit.db", "sqlite+aiosqlite:////var/lib/conduit.db"),
        ("sqlite+aiosqlite:///c.db", "sqlite+aiosqlite:///c.db"),
        ("memory://", "memory://"),
    ],
)
def test_each_supported_form_selects_an_async_driver(given: str, expected: str) -> None:
    assert normalised(given) == expected


def test_a_password_with_reserved_characters_survives_normalisation() -> None:
    url = make_url(normalised("postgres://app:p%40ss%2Fw%3Ard@db/conduit"))

    assert url.password == "p@ss/w:rd"
    assert url.drivername == "postgresql+asyncpg"


@pytest.mark.parametrize("mode", SSL_MODES)
def test_sslmode_becomes_asyncpgs_ssl_argument(mode: str) -> None:
    url = make_url(normalised(f"postgres://app:pw@db/conduit?sslmode={mode}"))

    assert dict(url.query) == {"ssl": mode}


def test_sslmode_keeps_the_other_supported_parameters() -> None:
    given = "postgresql://app@db/c?sslmode=require&target_session_attrs=read-write"

    query = dict(make_url(normalised(given)).query)

    assert query == {"ssl": "require", "target_session_attrs": "read-write"}


def test_settings_and_the_engine_see_the_normalised_url() -> None:
    settings = Settings(database_url="sqlite:///./x.db")
    postgres = Settings(database_url="postgres://app@db/c?sslmode=require")

    assert backend_for(settings.database_url) is SqliteStorage
    assert backend_for(postgres.database_url) is PostgresStorage
    engine = make_engine(postgres.database_url)  # no connection is made
    assert engine.url.drivername == "postgresql+asyncpg"
    assert engine.dialect.create_connect_args(engine.url)[1]["ssl"] == "require"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"mysql://root:{PASSWORD}@db/conduit", 'unsupported scheme "mysql://"'),
        (
            f"postgresql+psycopg://app:{PASSWORD}@db/conduit",
            'unsupported driver "psycopg" in "postgresql+psycopg://"',
        ),
        (f"postgress://app:{PASSWORD}@db/conduit", "(did you mean postgres://?)"),
        (f"app:{PASSWORD}@db:5432/conduit", "not a database URL"),
        (f"postgres://app:{PASSWORD}@db:port/conduit", "cannot parse this postgres:// URL"),
        ("sqlite://", "sqlite:// needs a file path"),
        ("memory://kept", "write memory:// alone"),
        (f"postgres://app:{PASSWORD}@db/c?sslmode=secure", 'SSL mode "secure" is not one of'),
        (f"postgres://app:{PASSWORD}@db/c?sslmode=require&ssl=require", "not both"),
        (f"postgres://app:{PASSWORD}@db/c?channel_binding=require", '"channel_binding" is not'),
        (f"postgres://app:{PASSWORD}@db/c?sslrootcert=ca.pem", "set PGSSLROOTCERT"),
    ],
)
def test_an_unusable_url_is_one_configuration_line_without_the_password(
    monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)

    with pytest.raises(ConfigurationError) as raised:
        load_settings()

    message = str(raised.value)
    assert message.startswith("DATABASE_URL: ")
    assert expected in message
    assert "\n" not in message
    assert PASSWORD not in message


def test_a_validation_error_does_not_quote_the_url() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(database_url=f"mysql://root:{PASSWORD}@db/conduit")

    assert PASSWORD not in str(raised.value)
