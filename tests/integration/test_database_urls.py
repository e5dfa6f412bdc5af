"""The URL forms hosting providers hand out open a real PostgreSQL connection (asyncpg)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from adapters.sql.engine import make_engine
from entrypoints.settings import Settings

pytestmark = [pytest.mark.postgres, pytest.mark.integration]


def provider_form(pg_url: str, scheme: str, query: str = "") -> str:
    """This run's database as a provider writes it: no driver in the scheme."""
    url = make_url(pg_url).set(drivername=scheme).render_as_string(hide_password=False)
    return url + query


@pytest.mark.parametrize(
    ("scheme", "query"),
    [("postgresql", ""), ("postgres", "?sslmode=disable"), ("postgres", "?sslmode=prefer")],
)
async def test_a_provider_url_connects_through_asyncpg(
    pg_url: str, scheme: str, query: str
) -> None:
    settings = Settings(database_url=provider_form(pg_url, scheme, query))
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            name = (await connection.execute(text("SELECT current_database()"))).scalar_one()
    finally:
        await engine.dispose()

    assert engine.url.drivername == "postgresql+asyncpg"
    assert name == make_url(pg_url).database
