"""What a serving worker does not import when its settings do not use it (issue 10: each of
these is memory every worker keeps): redis-py without REDIS_URL, taskiq and aiohttp without a
separate webhook worker, Authlib without OpenID providers."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.apps import TEST_SECRET

NOT_IMPORTED = ("taskiq", "aiohttp", "authlib", "redis")


def test_a_started_server_without_them_never_imports_them() -> None:
    program = (
        "import asyncio, sys\n"
        "from entrypoints.http.app import create_app\n"
        "from entrypoints.settings import Settings\n"
        f"app = create_app(Settings(environment='test', secret_key={TEST_SECRET!r},"
        " database_url='memory://'))\n"
        "async def main():\n"
        "    async with app.router.lifespan_context(app):\n"
        "        pass\n"
        "asyncio.run(main())\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {NOT_IMPORTED!r}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "OIDC_PROVIDERS")}
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
