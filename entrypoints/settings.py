"""Settings read from the environment once (pydantic-settings)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Literal

from loguru import logger
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./conduit.db"
MEMORY_URL = "memory://"
MIN_SECRET_BYTES = 32


class ConfigurationError(Exception):
    """The configuration cannot run; the message is one line for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    secret_key: SecretStr | None = None
    cors_origins: str = Field(
        default="*", description="Comma-separated origins allowed by CORS, or * for any."
    )
    log_level: Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    realworld_token_ttl: timedelta = timedelta(days=1)
    access_token_ttl: timedelta = timedelta(minutes=15)
    refresh_token_ttl: timedelta = timedelta(days=30)
    secret_key_previous: str = Field(
        default="", description="Comma-separated earlier SECRET_KEYs, still accepted to verify."
    )
    jwt_private_key: SecretStr | None = Field(
        default=None, description="PEM Ed25519 private key: sign with EdDSA and publish JWKS."
    )
    jwt_issuer: str = "conduit"
    jwt_audience: str = "conduit"
    login_max_failures_per_account: int = Field(default=10, ge=1)
    login_max_failures_per_address: int = Field(default=50, ge=1)
    login_failure_window: timedelta = timedelta(minutes=15)
    redis_key_prefix: str = "conduit:"
    db_pool_size: int = Field(default=10, ge=1, le=200)
    password_hash_workers: int = Field(default=2, ge=1, le=64)
    sqlite_auto_migrate: bool = True

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _secret_in_production(self) -> Settings:
        if self.environment == "production":
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if len(key.encode()) < MIN_SECRET_BYTES:
                raise ValueError(
                    f"SECRET_KEY must be set to at least {MIN_SECRET_BYTES} bytes "
                    "when ENVIRONMENT=production"
                )
        return self

    @property
    def uses_memory(self) -> bool:
        return self.database_url == MEMORY_URL

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def previous_secrets(self) -> tuple[str, ...]:
        return tuple(s.strip() for s in self.secret_key_previous.split(",") if s.strip())

    def jwt_secret(self) -> str:
        if self.secret_key is None:
            raise ConfigurationError("SECRET_KEY is not set")
        return self.secret_key.get_secret_value()


def load_settings() -> Settings:
    """Settings from the environment; a bad configuration becomes one ConfigurationError line."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]).upper()
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigurationError(f"{where + ': ' if where else ''}{message}") from None


def with_dev_secret(settings: Settings) -> Settings:
    """In development a missing SECRET_KEY is generated (tokens die with the process)."""
    if settings.secret_key is not None:
        return settings
    logger.warning(
        "SECRET_KEY is not set: generated a random one for this run; "
        "tokens will not survive a restart (set SECRET_KEY to keep them)"
    )
    return settings.model_copy(update={"secret_key": SecretStr(secrets.token_urlsafe(48))})
