"""A local S3-compatible server (moto's, in a thread) for the S3 media store's tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx2
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.server import ThreadedMotoServer

BUCKET = "conduit-media"
KEY_ID, SECRET = "test-key-id", "test-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The server's URL, with BUCKET created; it lives for the whole run."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    request = AWSRequest(method="PUT", url=f"{endpoint}/{BUCKET}", data=b"")
    S3SigV4Auth(Credentials(KEY_ID, SECRET), "s3", "us-east-1").add_auth(request)
    created = httpx2.put(str(request.url), headers=dict(request.headers.items()))
    assert created.status_code == 200, created.text
    yield endpoint
    server.stop()
