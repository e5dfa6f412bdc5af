"""The `conduit` command: serve, migrate, create-admin."""

from __future__ import annotations

import argparse
import asyncio
import atexit
import glob
import os
import shutil
import signal
import sys
import tempfile
from types import FrameType

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
    configure_logging(settings.log_level, settings.effective_log_format)
    if settings.secret_key is None:
        # Generate the development key here, once, so every worker signs with the same key.
        settings = with_dev_secret(settings)
        assert settings.secret_key is not None
        os.environ["SECRET_KEY"] = settings.secret_key.get_secret_value()
    if settings.uses_sqlite and args.workers > 1:
        # Migrate once before the workers start, instead of racing N migrations.
        asyncio.run(_migrate(settings))
        os.environ["SQLITE_AUTO_MIGRATE"] = "false"
    _prepare_metrics_dir(args.workers)
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        "entrypoints.http.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,  # loguru, configured in entrypoints/logging.py
        access_log=False,  # our middleware writes the access line (with the route template)
        # X-Forwarded-For/-Proto count only from these peers (a proxy we run), else ignored.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        # On SIGTERM: stop accepting, let in-flight requests finish within this, then exit.
        timeout_graceful_shutdown=settings.shutdown_timeout,
    )


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    # uvicorn handles SIGTERM itself (graceful shutdown), then restores this handler and
    # raises the signal again. By then the work is done: exit 0, not "killed by SIGTERM".
    # Before uvicorn takes over (start-up), a SIGTERM also ends the process with 0.
    raise SystemExit(0)


def _prepare_metrics_dir(workers: int) -> None:
    """With several workers, each one writes its metrics to files in PROMETHEUS_MULTIPROC_DIR
    and a scrape (answered by any one worker) adds them up. prometheus-client reads the
    variable when the workers import it, so it is set here, before they start, to a fresh
    temporary directory removed at exit; a directory the operator set is used, emptied of
    an earlier run's files (they would add stale counts) and, at exit, of the live gauges
    of the workers, which are all gone then. (While serving, a scrape forgets the workers
    that died: entrypoints.metrics.)"""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        os.makedirs(given, exist_ok=True)
        _remove_files(given, "*.db")
        atexit.register(_remove_files, given, "gauge_live*.db")
        return
    if workers <= 1:
        return
    path = tempfile.mkdtemp(prefix="conduit-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    atexit.register(shutil.rmtree, path, ignore_errors=True)


def _remove_files(directory: str, pattern: str) -> None:
    for path in glob.glob(os.path.join(directory, pattern)):
        os.remove(path)


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
    configure_logging(settings.log_level, settings.effective_log_format)
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
