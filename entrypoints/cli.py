"""The `conduit` command: serve, migrate, create-admin."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from entrypoints.settings import ConfigurationError, Settings, load_settings, with_dev_secret


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        print(f"conduit: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from entrypoints.logging import configure_logging

    settings = _settings_or_exit()
    configure_logging(settings.log_level)
    if settings.secret_key is None:
        # Generate the development key here, once, so every worker signs with the same key.
        settings = with_dev_secret(settings)
        assert settings.secret_key is not None
        os.environ["SECRET_KEY"] = settings.secret_key.get_secret_value()
    if settings.uses_sqlite and args.workers > 1:
        # Migrate once before the workers start, instead of racing N migrations.
        asyncio.run(_migrate(settings))
        os.environ["SQLITE_AUTO_MIGRATE"] = "false"
    uvicorn.run(
        "entrypoints.http.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        timeout_graceful_shutdown=30,
    )


async def _migrate(settings: Settings) -> None:
    from adapters.sql.engine import make_engine
    from entrypoints.lifespan import migrate

    engine = make_engine(settings.database_url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


def migrate_command(_args: argparse.Namespace) -> None:
    from entrypoints.logging import configure_logging

    settings = _settings_or_exit()
    configure_logging(settings.log_level)
    if settings.uses_memory:
        print("conduit: DATABASE_URL=memory:// has no schema to migrate", file=sys.stderr)
        return
    asyncio.run(_migrate(settings))
    print("conduit: database schema is at the newest revision")


async def _create_admin(settings: Settings, email: str, username: str, password: str) -> str:
    from core.auth.use_cases import CreateAdmin
    from entrypoints.container import build_container
    from entrypoints.lifespan import close_infrastructure, open_infrastructure

    infra = await open_infrastructure(settings)
    try:
        if infra.engine is not None and not settings.uses_sqlite:
            from entrypoints.lifespan import migrate

            await migrate(infra.engine)
        container = build_container(with_dev_secret(settings), infra)
        user = await container.resolve(CreateAdmin).execute(email, username, password)
        return str(user.username)
    finally:
        await close_infrastructure(infra)


def create_admin_command(args: argparse.Namespace) -> None:
    import getpass

    from core.shared.errors import DomainError
    from entrypoints.logging import configure_logging

    settings = _settings_or_exit()
    configure_logging("WARNING")
    if settings.uses_memory:
        print("conduit: DATABASE_URL=memory:// keeps nothing; no admin to create", file=sys.stderr)
        raise SystemExit(2)
    password = os.environ.get("CONDUIT_ADMIN_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            print("conduit: set CONDUIT_ADMIN_PASSWORD or run in a terminal", file=sys.stderr)
            raise SystemExit(2)
        password = getpass.getpass("Password for the new admin: ")
        if password != getpass.getpass("Again: "):
            print("conduit: the passwords differ", file=sys.stderr)
            raise SystemExit(2)
    try:
        name = asyncio.run(_create_admin(settings, args.email, args.username, password))
    except DomainError as exc:
        print(f"conduit: {exc.field}: {exc.message}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"conduit: {name} is an admin")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="conduit", description="The Conduit API server.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="serve the HTTP API")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument("--workers", type=int, default=1)
    serve_parser.set_defaults(handler=serve)
    migrate_parser = commands.add_parser("migrate", help="upgrade the database schema")
    migrate_parser.set_defaults(handler=migrate_command)
    admin_parser = commands.add_parser(
        "create-admin",
        help="create an admin account (password from CONDUIT_ADMIN_PASSWORD or a prompt)",
    )
    admin_parser.add_argument("--email", required=True)
    admin_parser.add_argument("--username", required=True)
    admin_parser.set_defaults(handler=create_admin_command)
    args = parser.parse_args(argv)
    args.handler(args)


if __name__ == "__main__":
    main()
