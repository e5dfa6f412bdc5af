"""S3MediaStore: blobs as objects in an S3-compatible bucket (several hosts share them).

Requests go over the app's one HTTP client stack (httpx2); they are signed with AWS
Signature Version 4 by botocore's signer only (botocore.auth), AWS's own, maintained
implementation: no second HTTP stack and no SDK session, and the same signer presigns the
GET URLs that GET /media/{name} redirects to.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import httpx2
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from core.media.ports import MediaLocation
from core.shared.errors import Unavailable

# Served variants never change under their name (it is their content's hash).
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class S3Location:
    """Path-style addressing (`<endpoint>/<bucket>/<key>`), which every S3-compatible server
    takes; `public_endpoint` is the one browsers reach, if it differs."""

    endpoint: str
    bucket: str
    region: str = "us-east-1"
    prefix: str = ""
    public_endpoint: str | None = None

    def url(self, name: str, *, public: bool = False) -> str:
        base = (self.public_endpoint if public and self.public_endpoint else self.endpoint).rstrip(
            "/"
        )
        return f"{base}/{quote(self.bucket)}/{quote(self.prefix + name)}"


class S3MediaStore:
    """MediaStore over S3. `client` is the app's httpx2.AsyncClient (its timeouts apply);
    a store that does not answer is Unavailable (503), never a hang past the timeouts."""

    def __init__(
        self,
        client: httpx2.AsyncClient,
        location: S3Location,
        *,
        access_key_id: str,
        secret_access_key: str,
        presign_ttl_s: int = 300,
    ) -> None:
        self._client = client
        self._location = location
        self._credentials = Credentials(access_key_id, secret_access_key)
        self._presign_ttl_s = presign_ttl_s

    def _signed(
        self, method: str, name: str, data: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[str, dict[str, str]]:
        request = AWSRequest(
            method=method, url=self._location.url(name), data=data, headers=headers or {}
        )
        S3SigV4Auth(self._credentials, "s3", self._location.region).add_auth(request)
        return str(request.url), dict(request.headers.items())

    async def _send(
        self, method: str, name: str, data: bytes = b"", headers: dict[str, str] | None = None
    ) -> httpx2.Response:
        url, signed = self._signed(method, name, data, headers)
        try:
            response = await self._client.request(method, url, content=data or None, headers=signed)
        except httpx2.HTTPError as exc:
            raise Unavailable("media storage is not answering") from exc
        if response.status_code >= 500:
            raise Unavailable("media storage is not answering")
        return response

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        headers = {"Content-Type": content_type, "Cache-Control": IMMUTABLE}
        response = await self._send("PUT", name, data, headers)
        response.raise_for_status()

    async def read(self, name: str) -> bytes | None:
        response = await self._send("GET", name)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.content

    async def delete(self, name: str) -> None:
        response = await self._send("DELETE", name)
        if response.status_code != 404:
            response.raise_for_status()

    async def locate(self, name: str) -> MediaLocation:
        # Signed without asking the bucket first: a round trip per view would answer nothing
        # the redirect's target does not (S3 itself answers 404 for a missing object).
        request = AWSRequest(method="GET", url=self._location.url(name, public=True))
        signer = S3SigV4QueryAuth(
            self._credentials, "s3", self._location.region, expires=self._presign_ttl_s
        )
        signer.add_auth(request)
        return MediaLocation(url=str(request.url))
