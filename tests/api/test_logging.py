"""Logs: JSON or text lines, stdlib routed through loguru, and no credential in any line."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from loguru import logger

from entrypoints.logging import configure_logging, redact
from tests.api.helpers import publish, register

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjMiLCJ2ZXIiOjF9"
    ".c2lnbmF0dXJlLXRoYXQtaXMtbG9uZy1lbm91Z2g"
)
API_KEY = "cdt_1a2b3c4d_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG8"
STDLIB_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "alembic")


@pytest.fixture
def configured(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """configure_logging as the server calls it; loguru and stdlib logging restored after."""
    saved = {
        name: (lg.handlers[:], lg.level, lg.propagate, lg.disabled)
        for name in STDLIB_LOGGERS
        for lg in [logging.getLogger(name)]
    }
    yield
    logger.remove()
    logger.configure(patcher=lambda record: None)
    logger.add(sys.stderr)
    for name, (handlers, level, propagate, disabled) in saved.items():
        lg = logging.getLogger(name)
        lg.handlers, lg.propagate, lg.disabled = handlers, propagate, disabled
        lg.setLevel(level)


@pytest.fixture
def sink(configured: None) -> Iterator[list[str]]:
    """A capture sink added after configure_logging, at DEBUG, message + extras + trace."""
    configure_logging("DEBUG", "json")
    lines: list[str] = []
    sink_id = logger.add(
        lambda message: lines.append(str(message)),
        level="DEBUG",
        format="{level} {name} {message} {extra} {exception}",
    )
    yield lines
    logger.remove(sink_id)


def json_lines(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


# --- formats ----------------------------------------------------------------------------------


async def test_json_format_writes_one_object_a_line_with_the_request_fields(
    configured: None, client: httpx2.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")

    await client.get("/api/articles/missing", headers={"X-Request-ID": "r-1"})

    # (the test's own HTTP client logs through stdlib too, outside any request)
    entries = [
        e for e in json_lines(capsys.readouterr().err) if not e["logger"].startswith("httpx2")
    ]
    assert entries, "nothing logged"
    assert all({"time", "level", "message", "logger"} <= set(e) for e in entries)
    assert all(e.get("request_id") == "r-1" for e in entries), entries
    access = [e for e in entries if "route" in e]
    assert len(access) == 1
    assert access[0]["route"] == "/api/articles/{slug}"
    assert access[0]["method"] == "GET"
    assert access[0]["status"] == 404
    assert isinstance(access[0]["duration_ms"], float)
    assert access[0]["time"].endswith("Z")


def test_json_format_keeps_a_trace_on_the_same_line(
    configured: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")

    try:
        raise ValueError(f"bad token {JWT}")
    except ValueError:
        logger.exception("failed")

    (entry,) = json_lines(capsys.readouterr().err)
    assert entry["level"] == "ERROR"
    assert "Traceback" in entry["exception"]
    assert "ValueError" in entry["exception"]
    assert JWT not in entry["exception"]


def test_text_format_is_readable_lines_with_the_request_id(
    configured: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "text")

    with logger.contextualize(request_id="abc123"):
        logger.info("hello {}", "there")
    logger.debug("below the level")

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "| INFO    | abc123 |" in err
    assert err.rstrip().endswith("hello there")


def test_messages_with_braces_are_written_verbatim(
    configured: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "text")

    logger.info("{}", "literal {extra[x]} and {0}")

    assert "literal {extra[x]} and {0}" in capsys.readouterr().err


def test_stdlib_loggers_are_routed_through_loguru(sink: list[str]) -> None:
    logging.getLogger("uvicorn.error").warning("from uvicorn")
    logging.getLogger("some.library").info("from a library")
    logging.getLogger("sqlalchemy.engine").info("SELECT 1 -- statements stay out")

    joined = "\n".join(sink)
    assert "from uvicorn" in joined
    assert "from a library" in joined
    assert "SELECT 1" not in joined


# --- redaction --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"Authorization: Token {JWT}", JWT),
        (f"header ('authorization', 'Bearer {JWT}')", JWT),
        (f"got token {JWT[:60]}", JWT[:60]),
        (f"x-api-key={API_KEY}", API_KEY),
        (f"key {API_KEY} used", API_KEY[14:]),
        ('{"user": {"email": "a@b.c", "password": "correct horse battery"}}', "correct horse"),
        ("{'password': 'hunter2hunter2'}", "hunter2"),
        ("grant_type=password&username=a%40b.c&password=s3cr3t-pass&scope=", "s3cr3t-pass"),
        ("refresh_token=dGhpcy1pcy1hLXJlZnJlc2gtdG9rZW4tdmFsdWU", "dGhpcy1pcy1hLXJlZnJl"),
        ('{"refresh_token": "opaque-refresh-value-0123456789"}', "opaque-refresh"),
        ('{"user": {"token": "not-a-jwt-but-secret"}}', "not-a-jwt-but-secret"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZDEyMzQ1Ng==", "dXNlcjpwYXNzd29yZDEy"),
        ("PASSWORD = hunter2hunter2", "hunter2"),
    ],
)
def test_redact_masks_credentials(text: str, secret: str) -> None:
    masked = redact(text)

    assert secret not in masked
    assert "***" in masked


@pytest.mark.parametrize(
    "text",
    [
        "GET /api/articles/{slug} 200 3.1ms",
        "refresh token reused: family revoked",
        "login failed for jake@example.com",
        "the token endpoint answered invalid_grant",
    ],
)
def test_redact_leaves_ordinary_lines_alone(text: str) -> None:
    assert redact(text) == text


def test_the_redaction_reaches_every_sink_and_extra_value(sink: list[str]) -> None:
    logger.bind(header=f"Token {JWT}").info("calling with {}", API_KEY)

    joined = "\n".join(sink)
    assert JWT not in joined
    assert API_KEY not in joined
    assert "cdt_1a2b3c4d_***" in joined  # the key's public prefix still names it


# --- a full RealWorld run leaves no credential in any line -------------------------------------


async def test_a_full_realworld_run_logs_no_password_token_or_key(
    sink: list[str], client: httpx2.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets: set[str] = set()
    first_password, new_password = "first-Passw0rd-for-jake", "second-Passw0rd-for-jake"
    secrets |= {first_password, new_password, "wrong-Passw0rd-guess"}

    # register and log in (and fail once)
    jake = await register(client, "jake", password=first_password)
    jane = await register(client, "jane", password="jane-Passw0rd-secret")
    secrets |= {jake.token, jane.token, "jane-Passw0rd-secret"}
    wrong = {"user": {"email": jake.email, "password": "wrong-Passw0rd-guess"}}
    assert (await client.post("/api/users/login", json=wrong)).status_code == 401
    login = {"user": {"email": jake.email, "password": first_password}}
    response = await client.post("/api/users/login", json=login)
    token = response.json()["user"]["token"]
    secrets.add(token)
    auth = {"Authorization": f"Token {token}"}

    # change the password; a bad token and a malformed body are logged too
    response = await client.put(
        "/api/user", json={"user": {"password": new_password}}, headers=auth
    )
    assert response.status_code == 200, response.text
    assert (
        await client.get("/api/user", headers={"Authorization": f"Token {JWT}"})
    ).status_code == 401
    await client.post(
        "/api/users/login", content=b'{"user": {"password": "' + b"x" * 20, headers=auth
    )

    # articles, comments, favorites, follows
    article = await publish(client, jake, tags=["dragons"])
    slug = article["slug"]
    comment = {"comment": {"body": "Thank you"}}
    assert (
        await client.post(f"/api/articles/{slug}/comments", json=comment, headers=jane.auth)
    ).status_code == 200
    assert (
        await client.post(f"/api/articles/{slug}/favorite", headers=jane.auth)
    ).status_code == 200
    assert (await client.post("/api/profiles/jake/follow", headers=jane.auth)).status_code == 200
    assert (await client.get("/api/articles/feed", headers=jane.auth)).status_code == 200

    # OAuth2 token endpoint: password grant, refresh, reuse of a retired refresh token
    grant = {"grant_type": "password", "username": jake.email, "password": new_password}
    pair = (await client.post("/api/auth/token", data=grant)).json()
    refreshed = (
        await client.post(
            "/api/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
        )
    ).json()
    reused = await client.post(
        "/api/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
    )
    assert reused.status_code == 400
    secrets |= {pair["access_token"], pair["refresh_token"]}
    secrets |= {refreshed["access_token"], refreshed["refresh_token"]}

    # an API key, created and used
    created = await client.post(
        "/api/user/api-keys",
        json={"name": "ci", "scopes": ["articles:write"]},
        headers={"Authorization": f"Bearer {refreshed['access_token']}"},
    )
    assert created.status_code == 201, created.text
    key = created.json()["apiKey"]["key"]
    secrets.add(key)
    by_key = await client.post(
        "/api/articles",
        json={"article": {"title": "By key", "description": "d", "body": "b"}},
        headers={"X-API-Key": key},
    )
    assert by_key.status_code == 201, by_key.text
    bad_key = key[:-4] + "AAAA"
    secrets.add(bad_key)
    assert (await client.get("/api/user", headers={"X-API-Key": bad_key})).status_code == 401

    captured = "\n".join(sink) + "\n" + capsys.readouterr().err
    assert len(sink) > 20  # the run was logged, at DEBUG
    leaked = {secret for secret in secrets if secret in captured}
    assert leaked == set()
    # the signature part alone would be enough to forge nothing, but must not show either
    assert not any(s.split(".")[-1] in captured for s in secrets if s.startswith("eyJ"))


# --- the access line and request ids (issue 10: what every request pays) ----------------------


async def test_the_access_line_is_not_built_when_no_sink_takes_it(
    configured: None,
    client: httpx2.AsyncClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from entrypoints.http import middleware

    built: list[str] = []
    real = middleware.route_template

    def counting(scope: Any) -> str:
        built.append(scope["path"])
        return real(scope)

    monkeypatch.setattr(middleware, "route_template", counting)
    configure_logging("WARNING", "json")

    await client.get("/api/articles/missing", headers={"X-Request-ID": "quiet-1"})

    assert built == []
    assert "quiet-1" not in capsys.readouterr().err


async def test_a_sink_added_after_configuring_at_warning_still_gets_the_access_line(
    configured: None, client: httpx2.AsyncClient
) -> None:
    configure_logging("WARNING", "json")
    lines: list[dict[str, Any]] = []
    sink_id = logger.add(lambda message: lines.append(message.record["extra"]), level="INFO")
    try:
        await client.get("/api/articles/missing", headers={"X-Request-ID": "loud-1"})
        await client.get("/health/live", headers={"X-Request-ID": "probe-1"})
    finally:
        logger.remove(sink_id)

    access = [e for e in lines if "route" in e]
    assert [(e["request_id"], e["method"], e["route"], e["status"]) for e in access] == [
        ("loud-1", "GET", "/api/articles/{slug}", 404)  # the probe's line is DEBUG: not taken
    ]
    assert isinstance(access[0]["duration_ms"], float)
    assert access[0]["client"] == "127.0.0.1"


def test_request_ids_are_32_hex_characters_and_never_repeat() -> None:
    from entrypoints.logging import new_request_id

    ids = [new_request_id() for _ in range(20_000)]  # several draws of random bytes

    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_a_forked_child_draws_its_own_request_ids() -> None:
    import os

    from entrypoints.logging import new_request_id

    new_request_id()  # the parent holds unused random bytes now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, to the parent
        os.close(read)
        os.write(write, " ".join(new_request_id() for _ in range(8)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split())
    os.waitpid(pid, 0)
    parent = {new_request_id() for _ in range(8)}

    assert len(child) == 8
    assert not child & parent
