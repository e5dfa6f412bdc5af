"""Logging: loguru configured here and only here; stdlib logging routed into it; redaction.

Every record passes `_patch` (loguru's patcher, so every sink sees the result, including one a
test adds): it masks credentials that slipped into a message or an extra value. It is a safety
net: code must still never log a password, token or key in the first place.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import re
import sys
import threading
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager
from contextvars import ContextVar
from datetime import UTC
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal

import orjson
from loguru import logger

if TYPE_CHECKING:
    from loguru import Record

LogFormat = Literal["text", "json"]
RecordPatcher = Callable[["Record"], None]

# --- request id -------------------------------------------------------------------------------

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


_ID_BYTES = 16  # 32 hex characters, as uuid4().hex gave
_IDS_PER_DRAW = 256
_id_lock = threading.Lock()
_id_pool = b""
_id_at = 0


def new_request_id() -> str:
    """32 random hex characters from the OS's CSPRNG, as unguessable as `uuid4().hex` (which
    cost one `urandom` call each, 8 us): the bytes are drawn 4 KiB at a time. A forked child
    draws its own (`_forget_ids`), never its parent's."""
    global _id_pool, _id_at
    with _id_lock:  # the sync thread pool logs too: no two callers take the same slice
        at = _id_at
        if at >= len(_id_pool):
            _id_pool, at = os.urandom(_ID_BYTES * _IDS_PER_DRAW), 0
        _id_at = at + _ID_BYTES
        return _id_pool[at : at + _ID_BYTES].hex()


def _forget_ids() -> None:
    global _id_pool, _id_at, _id_lock
    _id_lock = threading.Lock()  # a fork can copy it held
    _id_pool, _id_at = b"", 0


os.register_at_fork(after_in_child=_forget_ids)


def current_request_id() -> str | None:
    """The id of the request being served in this context (None outside a request)."""
    return _request_id.get()


def lowest_level_logged() -> float:
    """The lowest level number any sink takes now: a line below it is dropped by loguru, so a
    caller may skip building it. Loguru keeps this minimum itself (`_core.min_level`, updated
    by every `add` and `remove`, a sink a test adds included); if a loguru release moves it,
    this answers 0 and every line is built as before (loguru then drops it)."""
    core = getattr(logger, "_core", None)
    level = getattr(core, "min_level", 0)
    return level if isinstance(level, (int, float)) else 0


def _loguru_context() -> ContextVar[dict[str, Any]] | None:
    """The context variable `logger.contextualize` sets (loguru's `_logger.context`), or None
    if a loguru release moves it: `request_context` then goes through `contextualize`."""
    try:
        module = importlib.import_module("loguru._logger")
    except ImportError:  # pragma: no cover - loguru's layout since 0.4
        return None
    found = getattr(module, "context", None)
    return found if isinstance(found, ContextVar) else None


_LOGURU_CONTEXT = _loguru_context()


class _RequestContext:
    """`request_context`'s block. What `logger.contextualize(request_id=...)` does to loguru's
    context variable (a new dict with the id added, reset on exit), without its generator and
    its two acquisitions of loguru's lock: together 10 us on every request (the variable is
    per task, the lock guards nothing here)."""

    __slots__ = ("_extra", "_fallback", "_id", "_token")

    def __init__(self, request_id: str) -> None:
        self._id = request_id

    def __enter__(self) -> None:
        self._token = _request_id.set(self._id)
        extra = _LOGURU_CONTEXT
        if extra is not None:
            self._extra = extra.set({**extra.get(), "request_id": self._id})
        else:
            self._fallback = logger.contextualize(request_id=self._id)
            self._fallback.__enter__()

    def __exit__(self, *exc: object) -> None:
        try:
            if _LOGURU_CONTEXT is not None:
                _LOGURU_CONTEXT.reset(self._extra)
            else:
                self._fallback.__exit__(None, None, None)
        finally:
            _request_id.reset(self._token)


def request_context(request_id: str) -> AbstractContextManager[None]:
    """Within the block, every log line carries `request_id` (and error bodies report it)."""
    return _RequestContext(request_id)


# --- redaction --------------------------------------------------------------------------------

_MASK = "***"
_SENSITIVE_FIELDS = (
    "password|passwd|new_password|current_password|refresh_token|access_token|id_token"
    "|client_secret|secret_key|api_key|apikey|x-api-key|authorization|metrics_token"
)
_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # JWTs (every JOSE header starts `{"` -> base64url `eyJ`): mask the whole compact form.
    (re.compile(r"\beyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,2}"), "eyJ" + _MASK),
    # API keys `cdt_<8 hex prefix>_<secret>`: the prefix names the key, the rest is the secret.
    (re.compile(r"\b(cdt_[0-9a-f]{8})_[A-Za-z0-9_-]+"), r"\1_" + _MASK),
    # Authorization values: `Token <x>`, `Bearer <x>`, `Basic <x>` with a credential-looking x.
    (re.compile(r"\b(?i:(token|bearer|basic))(\s+)[A-Za-z0-9._~+/=-]{16,}"), r"\1\2" + _MASK),
    # key/value pairs: JSON and Python reprs ("password": "..."), forms and queries (password=...).
    (
        re.compile(
            rf"""(?i)(["']?\b(?:{_SENSITIVE_FIELDS})\b["']?\s*[:=]\s*)"""
            r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,&;}\]]+)"""
        ),
        r"\1" + _MASK,
    ),
    # RealWorld's user object carries the JWT as "token" (also caught above when it is a JWT).
    (re.compile(r"""(["']token["']\s*:\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""), r"\1" + _MASK),
)


def redact(text: str) -> str:
    """`text` with passwords, JWTs, API keys and Authorization values masked."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_redact_value(v) for v in value)
    return value


_extra_patchers: list[RecordPatcher] = []


def add_record_patcher(patcher: RecordPatcher) -> None:
    """Let another entrypoint module enrich records (e.g. a trace id) before redaction runs."""
    if patcher not in _extra_patchers:
        _extra_patchers.append(patcher)


def _patch(record: Record) -> None:
    for patcher in _extra_patchers:
        patcher(record)
    record["message"] = redact(record["message"])
    extra = record["extra"]
    for key, value in extra.items():
        extra[key] = _redact_value(value)


# --- formats ----------------------------------------------------------------------------------


def _exception_text(record: Record) -> str | None:
    exception = record["exception"]
    if exception is None or exception.type is None:
        return None
    # stdlib formatting: no local variables (loguru's `diagnose` would print them, secrets too).
    lines = traceback.format_exception(exception.type, exception.value, exception.traceback)
    return redact("".join(lines).rstrip())


def _public_extra(record: Record) -> dict[str, Any]:
    return {k: v for k, v in record["extra"].items() if not k.startswith("_")}


def _text_line(record: Record) -> str:
    time = record["time"].strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    request_id = record["extra"].get("request_id") or "-"
    line = (
        f"{time} | {record['level'].name: <7} | {request_id} | "
        f"{record['name']}:{record['line']} | {record['message']}"
    )
    exception = _exception_text(record)
    return f"{line}\n{exception}" if exception else line


def _json_line(record: Record) -> str:
    utc = record["time"].astimezone(UTC)
    entry: dict[str, Any] = {
        "time": utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z",
        "level": record["level"].name,
        "message": record["message"],
        "logger": record["name"],
        "function": record["function"],
        "line": record["line"],
    }
    for key, value in _public_extra(record).items():
        entry.setdefault(key, value)
    exception = _exception_text(record)
    if exception:
        entry["exception"] = exception
    return orjson.dumps(entry, default=str).decode()


def _formatter(render: Callable[[Record], str]) -> Callable[[Record], str]:
    # loguru treats a format function's result as a template: hand it the finished line
    # through `extra` so braces in messages are never interpreted.
    def format_record(record: Record) -> str:
        record["extra"]["_line"] = render(record)
        return "{extra[_line]}\n"

    return format_record


# --- stdlib -----------------------------------------------------------------------------------


class _InterceptHandler(logging.Handler):
    """Sends stdlib records (uvicorn, SQLAlchemy, alembic, asyncio...) to loguru."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        # Attribute the line to the code that called the stdlib logger (loguru's recipe).
        frame: FrameType | None = inspect.currentframe()
        depth = 0
        while frame is not None and (depth == 0 or frame.f_code.co_filename == logging.__file__):
            frame, depth = frame.f_back, depth + 1
        logger.opt(depth=depth, exception=record.exc_info).log(level, record.getMessage())


def configure_logging(level: str, fmt: LogFormat = "text") -> None:
    """One stderr sink in `fmt`; stdlib loggers routed through loguru; redaction on."""
    logger.remove()
    logger.configure(patcher=_patch)
    logger.add(
        sys.stderr,
        level=level,
        format=_formatter(_json_line if fmt == "json" else _text_line),
        colorize=False,
        backtrace=False,
        diagnose=False,  # never print local variables (they may hold secrets)
    )
    # stdlib records below the level are dropped where they are made, not formatted first.
    logging.basicConfig(handlers=[_InterceptHandler()], level=logger.level(level).no, force=True)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "alembic"):
        std = logging.getLogger(name)
        std.handlers = [_InterceptHandler()]
        std.propagate = False
    # Our own access line replaces uvicorn's (the CLI also turns it off).
    logging.getLogger("uvicorn.access").disabled = True
    # SQL statements and driver calls carry parameters (hashes, emails): never below WARNING,
    # whatever LOG_LEVEL says. SQLAlchemy names a pool subclass's logger after its module.
    for name in ("sqlalchemy", "aiosqlite", "asyncpg", "adapters.sql"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Alembic narrates at INFO (plugins set up at import, "Context impl", each revision run):
    # start-up noise. The lifespan and `conduit migrate` say what changed, in one line.
    debugging = logger.level(level).no <= logger.level("DEBUG").no
    logging.getLogger("alembic").setLevel(logging.NOTSET if debugging else logging.WARNING)
