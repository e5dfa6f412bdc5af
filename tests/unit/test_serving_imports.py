"""What a serving worker does not import when its settings do not use it (issue 10: each of
these is memory every worker keeps): redis-py without REDIS_URL, taskiq and aiohttp without a
separate webhook worker, Authlib without OpenID providers; and with REDIS_URL and a separate
webhook worker, taskiq and aiohttp until the first delivery is queued."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.apps import TEST_SECRET

NOT_IMPORTED = ("taskiq", "aiohttp", "authlib", "redis")


def imported_by_a_started_server(settings: str, packages: tuple[str, ...]) -> list[str]:
    """The modules of `packages` a server built with `Settings(<settings>)` has imported once
    its lifespan has run."""
    program = (
        "import asyncio, json, sys\n"
        "from entrypoints.http.app import create_app\n"
        "from entrypoints.settings import Settings\n"
        f"app = create_app(Settings(environment='test', secret_key={TEST_SECRET!r}, {settings}))\n"
        "async def main():\n"
        "    async with app.router.lifespan_context(app):\n"
        "        pass\n"
        "asyncio.run(main())\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {packages!r})))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "OIDC_PROVIDERS")}
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    imported: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return imported


def test_a_started_server_without_them_never_imports_them() -> None:
    assert imported_by_a_started_server("database_url='memory://'", NOT_IMPORTED) == []


def test_a_server_whose_webhook_workers_deliver_does_not_import_taskiq_at_start() -> None:
    # Redis unreachable (port 1): the server starts anyway (adapters/redis/pool.py).
    settings = (
        "database_url='memory://', redis_url='redis://127.0.0.1:1/0', webhook_worker='external'"
    )
    assert imported_by_a_started_server(settings, ("taskiq", "aiohttp")) == []
