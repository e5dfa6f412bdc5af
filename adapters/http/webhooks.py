"""HttpxWebhookSender: one httpx2 client for every webhook POST, behind the SSRF guard.

The guard runs again where the connection is made: GuardedTransport resolves the host, checks
every address, and connects to the one it checked (the URL's host replaced by that address,
the Host header and TLS SNI/certificate check kept on the name), so a DNS answer that changes
between the check and the connect (rebinding) cannot take the request elsewhere.
"""

from __future__ import annotations

import asyncio
import socket
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx2

from core.webhooks.guard import AddressRefused, check_addresses, parse_address
from core.webhooks.model import AttemptResult, excerpt_of
from core.webhooks.ports import HostResolver, WebhookSender
from core.webhooks.signing import USER_AGENT

RESOLVE_TIMEOUT_S = 5.0


class SystemResolver(HostResolver):
    """getaddrinfo in the event loop's thread pool, bounded in time."""

    async def resolve(self, host: str, port: int) -> list[str]:
        if parse_address(host) is not None:
            return [host]
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT_S):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError, UnicodeError):
            return []
        found: list[str] = []
        for *_, sockaddr in infos:
            address = str(sockaddr[0])
            if address not in found:
                found.append(address)
        return found


class GuardedTransport(httpx2.AsyncBaseTransport):
    """Checks and pins each request's address, then sends it through the host name's own
    keep-alive pool: connections are keyed by the address they went to, so without a pool per
    name a TLS connection verified for one name could carry a request for another name on the
    same address. The `max_hosts` most recently used names keep their pools."""

    def __init__(
        self,
        make_pool: Callable[[], httpx2.AsyncBaseTransport],
        resolver: HostResolver,
        *,
        allow_private: bool,
        max_hosts: int = 256,
    ) -> None:
        self._make_pool, self._resolver, self._allow_private = make_pool, resolver, allow_private
        self._pools: OrderedDict[str, httpx2.AsyncBaseTransport] = OrderedDict()
        self._max_hosts = max_hosts

    async def _pool_for(self, host: str) -> httpx2.AsyncBaseTransport:
        pool = self._pools.get(host)
        if pool is not None:
            self._pools.move_to_end(host)
            return pool
        pool = self._pools[host] = self._make_pool()
        if len(self._pools) > self._max_hosts:
            _, oldest = self._pools.popitem(last=False)
            await oldest.aclose()
        return pool

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        addresses = await self._resolver.resolve(host, port)
        check_addresses(host, addresses, allow_private=self._allow_private)
        pinned = addresses[0]
        if pinned != host:
            request.url = request.url.copy_with(host=pinned)
            if request.url.scheme == "https":
                request.extensions = {**request.extensions, "sni_hostname": host}
        pool = await self._pool_for(host)
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()


@dataclass(frozen=True, slots=True)
class SenderLimits:
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 10.0
    total_timeout_s: float = 15.0
    max_response_bytes: int = 65_536
    max_connections: int = 100
    max_keepalive: int = 20


def open_client(
    limits: SenderLimits, resolver: HostResolver, *, allow_private: bool
) -> httpx2.AsyncClient:
    """The process's one client for user-supplied URLs (made at start-up, closed at exit):
    HTTP/1.1 keep-alive pool, no redirects, no proxies or netrc from the environment."""
    pool = httpx2.Limits(
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive,
        keepalive_expiry=30.0,
    )

    def make_pool() -> httpx2.AsyncBaseTransport:
        return httpx2.AsyncHTTPTransport(limits=pool, http1=True, http2=False, trust_env=False)

    return httpx2.AsyncClient(
        transport=GuardedTransport(make_pool, resolver, allow_private=allow_private),
        timeout=httpx2.Timeout(
            connect=limits.connect_timeout_s,
            read=limits.read_timeout_s,
            write=limits.read_timeout_s,
            pool=limits.connect_timeout_s,
        ),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
    )


class HttpxWebhookSender(WebhookSender):
    """POSTs with the client's timeouts plus a total one; reads at most `max_response_bytes`
    of the answer (then stops reading and closes the connection)."""

    def __init__(self, client: httpx2.AsyncClient, limits: SenderLimits) -> None:
        self._client, self._limits = client, limits

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> AttemptResult:
        sent = dict(headers)
        cap = self._limits.max_response_bytes
        try:
            async with asyncio.timeout(self._limits.total_timeout_s):
                request = self._client.build_request("POST", url, headers=sent, content=body)
                response = await self._client.send(request, stream=True)
                try:
                    received = bytearray()
                    too_large = False
                    async for chunk in response.aiter_raw():  # raw: no decompression bomb
                        received += chunk
                        if len(received) > cap:
                            too_large = True
                            break
                finally:
                    await response.aclose()
        except AddressRefused as exc:
            return AttemptResult(None, 0, error=f"refused: {exc.message}")
        except (TimeoutError, httpx2.TimeoutException):
            return AttemptResult(None, 0, error="timed out")
        except httpx2.HTTPError as exc:
            return AttemptResult(None, 0, error=f"no answer ({type(exc).__name__})")
        error = f"answer larger than {cap} bytes: not read further" if too_large else None
        return AttemptResult(response.status_code, 0, excerpt_of(bytes(received)), error)
