"""A real OpenID provider on 127.0.0.1 for the OIDC tests, and the tests' proxy in front of it.

`tests/oidc_provider/` holds the provider: panva's `oidc-provider` (OpenID Certified) from npm,
pinned by its package-lock.json, and `provider.mjs`, which configures it. `npm ci` installs it
there on first use (again when the lock changes). Without Node.js the tests skip, and fail
under CI=true.

The proxy (`TokenProxy`) is what the provider's issuer URL points at: it forwards every request
to the Node process (Host kept, so every URL the provider writes points at the proxy) and, when
a test asks, rewrites the token endpoint's answer: an ID token with a wrong nonce, or expired
(both signed again with the provider's key), or with its signature tampered.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import queue
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.infra import unavailable

PROVIDER_DIR = Path(__file__).parent / "oidc_provider"
STAMP = PROVIDER_DIR / "node_modules" / ".conduit-lock.sha256"
CLIENT_ID = "conduit"
CLIENT_SECRET = "conduit-test-client-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def install_provider() -> str:
    """`npm ci` into tests/oidc_provider when its lock changed; returns the node binary."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        unavailable("Node.js and npm (the OIDC tests' provider)", "not on PATH")
        raise AssertionError("unreachable")
    lock = hashlib.sha256((PROVIDER_DIR / "package-lock.json").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != lock:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--silent", "--prefix", str(PROVIDER_DIR)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            unavailable("the OIDC test provider", f"`npm ci` failed: {done.stderr[-500:]}")
        STAMP.write_text(lock)
    return node


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Rewrite:
    """What the proxy does to the next ID tokens: claims to change (signed again with the
    provider's key), or the signature to spoil."""

    claims: dict[str, Any] = field(default_factory=dict)
    tamper_signature: bool = False


@dataclass
class ProxyState:
    upstream_port: int
    key: Callable[[], RSAKey]
    rewrite: Rewrite | None = None
    paths: list[str] = field(default_factory=list)

    def rewritten(self, body: bytes) -> bytes:
        rewrite = self.rewrite
        if rewrite is None:
            return body
        answer = json.loads(body)
        token: str = answer["id_token"]
        header_b64, payload_b64, signature_b64 = token.split(".")
        if rewrite.tamper_signature:
            signature = bytearray(_unb64(signature_b64))
            signature[len(signature) // 2] ^= 0x01
            answer["id_token"] = f"{header_b64}.{payload_b64}.{_b64(bytes(signature))}"
        else:
            header = json.loads(_unb64(header_b64))
            claims = json.loads(_unb64(payload_b64)) | rewrite.claims
            answer["id_token"] = jwt.encode(
                {"alg": header["alg"], "kid": header["kid"]}, claims, self.key()
            )
        return json.dumps(answer).encode()


def proxy_handler(state: ProxyState) -> type[BaseHTTPRequestHandler]:
    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            state.paths.append(self.path.split("?", 1)[0])
            upstream = http.client.HTTPConnection("127.0.0.1", state.upstream_port, timeout=10)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                content = response.read()
                if self.path == "/token" and response.status == 200:
                    content = state.rewritten(content)
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
            finally:
                upstream.close()

        do_GET = do_POST = _forward

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Forward


@dataclass
class LiveProvider:
    """The running provider: its issuer (the proxy), accounts, keys and the proxy's state."""

    issuer: str
    node_url: str
    keys_file: Path
    proxy: ProxyState
    process: subprocess.Popen[str]
    server: ThreadingHTTPServer
    key: RSAKey
    rotations: int = 0
    reader: threading.Thread | None = None

    def add_account(self, sub: str, **claims: Any) -> None:
        self._post("/__accounts", {"sub": sub, **claims})

    def rotate_keys(self) -> None:
        """Sign with a new key, of a new kid, from now on (the old one is withdrawn)."""
        self.rotations += 1
        self.key = new_key(f"k{self.rotations + 1}")
        self.keys_file.write_text(json.dumps({"keys": [self.key.as_dict(private=True)]}))
        self._post("/__rotate", {})

    def _post(self, path: str, body: dict[str, Any]) -> None:
        connection = http.client.HTTPConnection(self.node_url.split("//")[1], timeout=10)
        try:
            connection.request(
                "POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            response.read()
            assert response.status == 204, response.status
        finally:
            connection.close()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.reader is not None:
            self.reader.join(timeout=10)  # it reads to the end of the output, then stops
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_provider(tmp_dir: Path, redirect_uris: list[str]) -> LiveProvider:
    node = install_provider()
    node_port, proxy_port = free_port(), free_port()
    issuer = f"http://127.0.0.1:{proxy_port}"
    key = new_key("k1")
    keys_file = tmp_dir / "oidc-keys.json"
    keys_file.write_text(json.dumps({"keys": [key.as_dict(private=True)]}))
    clients = [
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": redirect_uris,
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
        }
    ]
    env = {
        **os.environ,
        "OIDC_ISSUER": issuer,
        "OIDC_PORT": str(node_port),
        "OIDC_KEYS": str(keys_file),
        "OIDC_CLIENTS": json.dumps(clients),
        "NODE_ENV": "test",
    }
    process = subprocess.Popen(
        [node, str(PROVIDER_DIR / "provider.mjs")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    live: LiveProvider | None = None
    state = ProxyState(node_port, lambda: live.key if live else key)
    server = ThreadingHTTPServer(("127.0.0.1", proxy_port), proxy_handler(state))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    live = LiveProvider(
        issuer, f"http://127.0.0.1:{node_port}", keys_file, state, process, server, key
    )
    lines: queue.Queue[str] = queue.Queue()

    def read_output() -> None:  # drained for good: a full pipe would block the provider
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put("")

    live.reader = threading.Thread(target=read_output, daemon=True)
    live.reader.start()
    deadline = time.monotonic() + 20
    output: list[str] = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line.startswith("listening"):  # the provider prints it once it is up
            return live
        output.append(line)
        if not line:  # it exited
            break
    live.stop()
    raise RuntimeError(f"the OIDC test provider did not start: {''.join(output)[-2000:]}")
