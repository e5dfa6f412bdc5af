"""Screenshot Swagger UI (/docs) in headless Chromium with no way to reach the internet, and
fail unless /docs and /redoc rendered the API: their assets must come from the app itself.

    apt-get install -y chromium        # Debian's package: /usr/bin/chromium
    .venv/bin/python scripts/docs_screenshot.py [--out docs/swagger.png]

Run by hand (CI machines may have no Chromium); tests/api/test_docs_offline.py is the CI-safe
check that the pages reference only local assets.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parent.parent
CONDUIT = Path(sys.executable).parent / "conduit"
# Every name but the loopback address fails to resolve: a page that needs a CDN breaks.
OFFLINE = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
# What each page shows once its script has rendered the OpenAPI document.
RENDERED = {
    "/docs": ['class="swagger-ui"', "opblock-tag", "Publish an article", "Authorize"],
    "/redoc": ["api-content", "Publish an article", "Request samples"],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        sys.exit("docs_screenshot: chromium not found (apt-get install -y chromium)")
    return found


def browse(browser: str, profile: str, url: str, *action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            f"--host-resolver-rules={OFFLINE}",
            "--hide-scrollbars",
            "--window-size=1280,1600",
            "--virtual-time-budget=15000",  # let the page's script fetch and render
            *action,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def serve(port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": "memory://",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ENVIRONMENT": "development",
        "SHUTDOWN_DRAIN_DELAY": "0",  # no load balancer to tell: stop at once
    }
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(CONDUIT), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/docs", timeout=1).status_code == 200:
                return server
        except httpx2.TransportError:
            time.sleep(0.2)
    server.kill()
    sys.exit("docs_screenshot: the server did not start:\n" + log.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "swagger.png")
    args = parser.parse_args()
    browser = chromium()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="conduit-docs-") as work:
        server = serve(port, Path(work) / "server.log")
        try:
            failures = []
            for page, markers in RENDERED.items():
                dom = browse(
                    browser, f"{work}/profile", f"http://127.0.0.1:{port}{page}", "--dump-dom"
                )
                missing = [m for m in markers if m not in dom.stdout]
                if dom.returncode != 0 or missing:
                    failures.append(
                        f"{page} did not render (missing {missing}): {dom.stderr[-500:]}"
                    )
            args.out.parent.mkdir(parents=True, exist_ok=True)
            shot = browse(
                browser,
                f"{work}/profile",
                f"http://127.0.0.1:{port}/docs",
                f"--screenshot={args.out.resolve()}",
            )
            if shot.returncode != 0 or not args.out.exists():
                failures.append(f"no screenshot: {shot.stderr[-500:]}")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    if failures:
        sys.exit("docs_screenshot: " + "\n".join(failures))
    print(f"docs_screenshot: /docs and /redoc rendered offline; screenshot in {args.out}")


if __name__ == "__main__":
    main()
