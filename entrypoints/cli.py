"""The `conduit` command: serve, worker, migrate, create-admin, users rename."""

from __future__ import annotations

import argparse
import asyncio
import atexit
import glob
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import textwrap
import threading
import time
from types import FrameType
from typing import NoReturn

from loguru import logger
from pydantic import SecretStr

from entrypoints.arenas import limit_malloc_arenas
from entrypoints.settings import (
    ConfigurationError,
    Settings,
    load_settings,
    with_dev_secret,
)
from entrypoints.supervision import no_supervised_workers, supervise_workers
from migrations.blocked import MigrationBlocked

# Where the app serves the RealWorld API and its docs (entrypoints.http.app / .docs; a test
# holds these equal, so the CLI does not import the web app to print a banner).
API_ROOT = "/api"
DOCS_PATH = "/docs"
# How long the banner waits for the first worker to listen (migrations may run first).
BANNER_WAIT_S = 300.0


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        print(f"conduit: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _database_failed(doing: str, exc: BaseException, settings: Settings) -> NoReturn:
    """One line on stderr and exit 1; the traceback only at LOG_LEVEL=DEBUG (or TRACE)."""
    from entrypoints.lifespan import describe_database_failure

    logger.opt(exception=exc).debug("{} failed", doing)
    print(f"conduit: {doing}: {describe_database_failure(exc, settings)}", file=sys.stderr)
    raise SystemExit(1) from None


def serve(args: argparse.Namespace) -> None:
    limit_malloc_arenas()  # first: before any thread allocates
    from entrypoints import serving
    from entrypoints.logging import configure_logging

    settings = _settings_or_exit()
    configure_logging(settings.log_level, settings.effective_log_format)
    if settings.secret_key is None:
        # Generate the development key here, once, so every worker signs with the same key.
        settings = with_dev_secret(settings)
        assert settings.secret_key is not None
        os.environ["SECRET_KEY"] = settings.secret_key.get_secret_value()
    _prepare_database(settings)
    _prepare_metrics_dir(args.workers)
    if args.workers > 1:
        supervise_workers()  # they exit when this process dies, even by SIGKILL
    else:
        no_supervised_workers()
    signal.signal(signal.SIGTERM, _exit_cleanly)
    _announce_when_listening(args.host, args.port)
    config = serving.ServeConfig(
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
        # On SIGTERM, after SHUTDOWN_DRAIN_DELAY (entrypoints/shutdown.py): stop accepting,
        # let in-flight requests finish within this, then exit.
        timeout_graceful_shutdown=settings.shutdown_timeout,
        # uvloop, taking every pending connection at once where this process alone accepts
        # (entrypoints/eventloop.py): one per loop iteration left a burst waiting seconds.
        loop="entrypoints.eventloop:new_event_loop",
        http="entrypoints.serving:BoundedHeadersProtocol",
        header_timeout_s=settings.request_header_timeout,
        # WebSockets (/api/ws): close 1001 on shutdown; protocol pings find dead peers (no
        # pong within the interval: closed); a message over the limit is refused (1009).
        ws="entrypoints.serving:GoingAwayWebSocketProtocol",
        ws_ping_interval=settings.ws_ping_interval_s,
        ws_ping_timeout=settings.ws_ping_interval_s,
        ws_max_size=settings.ws_max_message_bytes,
    )
    serving.run(config)


def _prepare_database(settings: Settings) -> None:
    """Before any worker starts, once, as the storage backend says: SQLite is migrated
    (SQLITE_AUTO_MIGRATE; N workers would race N migrations), a schema behind the code is
    refused in one line."""
    from entrypoints.storage.backend import StartRefused
    from entrypoints.storage.registry import backend_for

    try:
        for_workers = asyncio.run(backend_for(settings.database_url).prepare(settings))
    except (StartRefused, MigrationBlocked) as exc:
        print(f"conduit: not starting: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except Exception as exc:
        _database_failed("not starting", exc, settings)
    os.environ.update(for_workers)


def _announce_when_listening(host: str, port: int) -> None:
    """Log one banner line with the API and docs URLs once a worker accepts connections.

    The parent binds the socket but workers listen on it only after their start-up, so the
    first accepted connection means the API answers, with one worker or many."""
    if port == 0:
        return  # the kernel picks the port in the worker: nothing to name
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104

    if _accepts(target, port):
        return  # another process listens there already: uvicorn will fail to bind, and say so

    def wait_then_announce() -> None:
        deadline = time.monotonic() + BANNER_WAIT_S
        while time.monotonic() < deadline:
            if _accepts(target, port):
                logger.info(
                    "Conduit is up: API at {}{}, docs at {}{}", base, API_ROOT, base, DOCS_PATH
                )
                return
            time.sleep(0.1)

    threading.Thread(target=wait_then_announce, name="conduit-banner", daemon=True).start()


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


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
    _remove_orphaned_metrics_dirs()
    path = tempfile.mkdtemp(prefix=f"{_METRICS_DIR_PREFIX}{os.getpid()}-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    atexit.register(shutil.rmtree, path, ignore_errors=True)


_METRICS_DIR_PREFIX = "conduit-metrics-"


def _remove_orphaned_metrics_dirs() -> None:
    """A run killed with SIGKILL could not remove its temporary directory (named after its
    pid): remove those whose process is gone. Not read again (each run makes a fresh one),
    they would only pile up."""
    pattern = os.path.join(tempfile.gettempdir(), f"{_METRICS_DIR_PREFIX}*-*")
    for path in glob.glob(pattern):
        pid = os.path.basename(path).removeprefix(_METRICS_DIR_PREFIX).partition("-")[0]
        if pid.isdigit() and not _process_exists(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's
    return True


def _remove_files(directory: str, pattern: str) -> None:
    for path in glob.glob(os.path.join(directory, pattern)):
        os.remove(path)


def migrate_command(_args: argparse.Namespace) -> None:
    from entrypoints.logging import configure_logging
    from entrypoints.storage.registry import backend_for

    settings = _settings_or_exit()
    configure_logging(settings.log_level, settings.effective_log_format)
    backend = backend_for(settings.database_url)
    try:
        before = asyncio.run(backend.migrate_schema(settings))
    except MigrationBlocked as exc:  # the data needs an operator first; the message says how
        print(f"conduit: cannot migrate: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except Exception as exc:
        _database_failed("cannot migrate", exc, settings)
    if before is None:
        url = f"DATABASE_URL={backend.schemes[0]}://"
        print(f"conduit: {url} has no schema to migrate", file=sys.stderr)
        return
    head = before.code.head
    if before.behind:
        print(f"conduit: database schema upgraded from {before.database_text} to {head}")
    elif before.ahead:
        print(f"conduit: database schema {before.describe()}; nothing to do")
    else:
        print(f"conduit: database schema is already at the code's head revision {head}")


async def _create_admin(settings: Settings, email: str, username: str, password: str) -> str:
    from core.auth.admin import CreateAdmin
    from entrypoints.container import build_container
    from entrypoints.lifespan import close_infrastructure, open_infrastructure

    infra = await open_infrastructure(settings, check_schema=False)  # migrated next
    try:
        await infra.storage.upgrade_schema()
        # The container needs a signing key to build, but this command issues no token: a
        # throwaway one, without with_dev_secret's warning about tokens dying with the process.
        if settings.secret_key is None:
            settings = settings.model_copy(
                update={"secret_key": SecretStr(secrets.token_urlsafe(48))}
            )
        container = build_container(settings, infra)
        user = await container.resolve(CreateAdmin).execute(email, username, password)
        return str(user.username)
    finally:
        await close_infrastructure(infra)


def create_admin_command(args: argparse.Namespace) -> None:
    import getpass

    from core.shared.errors import DomainError
    from entrypoints.logging import configure_logging
    from entrypoints.storage.registry import backend_for

    settings = _settings_or_exit()
    configure_logging("WARNING")
    backend = backend_for(settings.database_url)
    if not backend.keeps_data:
        url = f"DATABASE_URL={backend.schemes[0]}://"
        print(f"conduit: {url} keeps nothing; no admin to create", file=sys.stderr)
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
    except Exception as exc:
        _database_failed("cannot create the admin", exc, settings)
    print(f"conduit: {name} is an admin")


async def _rename_user(settings: Settings, old: str, new: str) -> str:
    from adapters.sql.engine import dispose_engine, make_engine
    from adapters.sql.renames import rename_user

    engine = make_engine(settings.database_url, pool_size=1)
    try:
        return await rename_user(engine, old, new)
    finally:
        await dispose_engine(engine)


def rename_user_command(args: argparse.Namespace) -> None:
    from core.shared.errors import DomainError
    from core.users.errors import UserNotFound
    from entrypoints.logging import configure_logging
    from entrypoints.storage.registry import backend_for

    settings = _settings_or_exit()
    configure_logging("WARNING")
    backend = backend_for(settings.database_url)
    if not backend.keeps_data:
        url = f"DATABASE_URL={backend.schemes[0]}://"
        print(f"conduit: {url} keeps nothing; no user to rename", file=sys.stderr)
        raise SystemExit(2)
    try:
        new = asyncio.run(_rename_user(settings, args.old, args.new))
    except UserNotFound:
        print(f"conduit: no user is named exactly {args.old!r}", file=sys.stderr)
        raise SystemExit(1) from None
    except DomainError as exc:
        print(f"conduit: {exc.field or 'username'}: {exc.message}", file=sys.stderr)
        raise SystemExit(1) from None
    except Exception as exc:
        _database_failed("cannot rename the user", exc, settings)
    print(f"conduit: {args.old!r} is now {new!r}")


def worker_command(args: argparse.Namespace) -> None:
    """Deliver webhooks from the Redis queue (entrypoints/webhooks.py) until SIGTERM/SIGINT."""
    limit_malloc_arenas()  # first: before any thread allocates
    from entrypoints.logging import configure_logging
    from entrypoints.storage.backend import StartRefused
    from entrypoints.webhooks import run_worker

    settings = _settings_or_exit()
    configure_logging(settings.log_level, settings.effective_log_format)
    if not settings.redis_url:
        print(
            "conduit: worker: REDIS_URL is not set; without it the server delivers webhooks "
            "itself (WEBHOOK_WORKER=auto)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    if settings.database_url.startswith("memory"):
        print("conduit: worker: DATABASE_URL=memory:// is the server's own memory", file=sys.stderr)
        raise SystemExit(2)
    if settings.secret_key is None and settings.webhook_encryption_key is None:
        # A generated key would not open the secrets the server sealed.
        print(
            "conduit: worker: set SECRET_KEY (or WEBHOOK_ENCRYPTION_KEY) as the server has it",
            file=sys.stderr,
        )
        raise SystemExit(2)
    signal.signal(signal.SIGTERM, _exit_cleanly)
    if args.metrics_port:
        from prometheus_client import start_http_server

        # The worker's own counters (deliveries, latency, queue depth) for Prometheus.
        start_http_server(args.metrics_port, addr=args.metrics_host)
    try:
        asyncio.run(run_worker())
    except (StartRefused, MigrationBlocked) as exc:
        print(f"conduit: worker: not starting: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except ConfigurationError as exc:
        print(f"conduit: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Each option's default after its help; descriptions and epilogs keep their layout."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None:  # a required option: no "(default: None)"
            return action.help
        return super()._get_help_string(action)


# (variable, what it does, its default as shown): defaults come from Settings, not copies.
_NO_DEFAULT = object()
_ENVIRONMENT: dict[str, tuple[str, object]] = {
    "DATABASE_URL": (
        "postgresql://user:password@host:5432/name (also postgres://; ?sslmode= understood), "
        "sqlite:///path/to/file.db, or memory:// (nothing is kept)",
        Settings.model_fields["database_url"].default,
    ),
    "REDIS_URL": (
        "redis://host:6379/0: shared cache, rate limits and login counters across workers "
        "(unset: no cache, per-process limits)",
        _NO_DEFAULT,
    ),
    "SECRET_KEY": (
        "signs tokens; at least 32 bytes when ENVIRONMENT=production "
        "(unset in development: a random key per run)",
        _NO_DEFAULT,
    ),
    "ENVIRONMENT": (
        "development, production or test",
        Settings.model_fields["environment"].default,
    ),
    "LOG_LEVEL": ("DEBUG, INFO, WARNING, ERROR...", Settings.model_fields["log_level"].default),
    "LOG_FORMAT": ("text or json (unset: json when ENVIRONMENT=production)", _NO_DEFAULT),
    "CORS_ORIGINS": (
        "comma-separated origins, or *",
        Settings.model_fields["cors_origins"].default,
    ),
    "SQLITE_AUTO_MIGRATE": (
        "migrate a SQLite database at start",
        Settings.model_fields["sqlite_auto_migrate"].default,
    ),
    "DB_POOL_SIZE": ("connections per worker", Settings.model_fields["db_pool_size"].default),
    "FORWARDED_ALLOW_IPS": (
        "proxies whose X-Forwarded-* headers are trusted",
        Settings.model_fields["forwarded_allow_ips"].default,
    ),
    "SHUTDOWN_TIMEOUT": (
        "seconds in-flight requests get after SIGTERM",
        Settings.model_fields["shutdown_timeout"].default,
    ),
    "SHUTDOWN_DRAIN_DELAY": (
        "seconds between SIGTERM and closing the listener, /health/ready answering 503 meanwhile",
        Settings.model_fields["shutdown_drain_delay"].default,
    ),
    "REQUEST_HEADER_TIMEOUT": (
        "seconds a client gets to send a request's line and headers",
        Settings.model_fields["request_header_timeout"].default,
    ),
    "METRICS_TOKEN": ("if set, GET /metrics requires it as a Bearer token", _NO_DEFAULT),
    "OTEL_EXPORTER_OTLP_ENDPOINT": ("OTLP/HTTP collector; tracing is on when set", _NO_DEFAULT),
    "CONDUIT_ADMIN_PASSWORD": ("the new admin's password (else a prompt)", _NO_DEFAULT),
}
_SERVE_READS = tuple(name for name in _ENVIRONMENT if name != "CONDUIT_ADMIN_PASSWORD")


def _environment_epilog(names: tuple[str, ...]) -> str:
    width = max(len(name) for name in names) + 2
    lines = ["environment variables:"]
    for name in names:
        text, default = _ENVIRONMENT[name]
        if default is not _NO_DEFAULT:
            text += f" (default: {str(default).lower() if isinstance(default, bool) else default})"
        wrapped = textwrap.wrap(text, width=96 - width) or [""]
        lines.append(f"  {name:<{width}}{wrapped[0]}")
        lines += [f"  {'':<{width}}{more}" for more in wrapped[1:]]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conduit",
        description="The Conduit (RealWorld) API server. Configuration comes from environment "
        "variables;\n`conduit <command> --help` lists the ones each command reads.",
        epilog=_environment_epilog(_SERVE_READS),
        formatter_class=_HelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="<command>")
    serve_parser = commands.add_parser(
        "serve",
        help="serve the HTTP API (API at /api, docs at /docs)",
        description="Serve the HTTP API: the RealWorld API at /api (and /api/v1), docs at "
        "/docs,\nprobes at /health/live and /health/ready. Refuses to start on a database "
        "whose schema\nis behind the code (run `conduit migrate`).",
        epilog=_environment_epilog(_SERVE_READS),
        formatter_class=_HelpFormatter,
    )
    serve_parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)"
    )
    serve_parser.add_argument("--port", type=int, default=8000, help="TCP port to listen on")
    serve_parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes sharing the port (more than 1: use Redis, see REDIS_URL)",
    )
    serve_parser.set_defaults(handler=serve)
    worker_parser = commands.add_parser(
        "worker",
        help="deliver webhooks from the Redis queue (with REDIS_URL; else `serve` does it)",
        description="Deliver webhooks: run the Redis-backed task queue (taskiq) and sweep the "
        "deliveries table\nfor due retries and deliveries a stopped worker left. Run one or "
        "more next to `conduit serve`\nwhen REDIS_URL is set; they need the server's "
        "DATABASE_URL, REDIS_URL and SECRET_KEY.",
        epilog=_environment_epilog(_SERVE_READS),
        formatter_class=_HelpFormatter,
    )
    worker_parser.add_argument(
        "--metrics-port",
        type=int,
        default=0,
        help="serve this worker's Prometheus metrics on this port (0: not at all)",
    )
    worker_parser.add_argument(
        "--metrics-host", default="127.0.0.1", help="address of the metrics listener"
    )
    worker_parser.set_defaults(handler=worker_command)
    migrate_parser = commands.add_parser(
        "migrate",
        help="upgrade the database schema to the code's head revision",
        description="Upgrade the schema of the database at DATABASE_URL to the code's head "
        "revision\n(run it before starting a new version on PostgreSQL; SQLite migrates itself "
        "at start).",
        epilog=_environment_epilog(("DATABASE_URL", "LOG_LEVEL")),
        formatter_class=_HelpFormatter,
    )
    migrate_parser.set_defaults(handler=migrate_command)
    admin_parser = commands.add_parser(
        "create-admin",
        help="create an admin account (password from CONDUIT_ADMIN_PASSWORD or a prompt)",
        description="Create an admin account in the database at DATABASE_URL (migrated first).",
        epilog=_environment_epilog(("DATABASE_URL", "CONDUIT_ADMIN_PASSWORD")),
        formatter_class=_HelpFormatter,
    )
    admin_parser.add_argument("--email", required=True, help="the admin's email address")
    admin_parser.add_argument("--username", required=True, help="the admin's username")
    admin_parser.set_defaults(handler=create_admin_command)
    users_parser = commands.add_parser(
        "users",
        help="manage accounts: `conduit users rename OLD NEW`",
        description="Manage accounts in the database at DATABASE_URL.",
        formatter_class=_HelpFormatter,
    )
    users_commands = users_parser.add_subparsers(
        dest="users_command", required=True, metavar="<command>"
    )
    rename_parser = users_commands.add_parser(
        "rename",
        help="give an account another username",
        description="Give the account named exactly OLD the username NEW (the registration "
        "rules apply:\nNEW must not be taken, in any case, nor look like another's). The "
        "account keeps its\nemail, password, articles and followers. Works before and after "
        "`conduit migrate`:\nthe migration to unique, case-insensitive usernames lists the "
        "accounts to rename this way.",
        epilog=_environment_epilog(("DATABASE_URL",)),
        formatter_class=_HelpFormatter,
    )
    rename_parser.add_argument("old", metavar="OLD", help="the current username, exactly")
    rename_parser.add_argument("new", metavar="NEW", help="the new username")
    rename_parser.set_defaults(handler=rename_user_command)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.handler(args)


if __name__ == "__main__":
    main()
