"""Brute-force limits on password logins: what counts as the caller's address, which
counters a failure feeds, and when an attempt is refused before the password is checked."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import timedelta

from core.auth.errors import TooManyAttempts
from core.auth.model import AuthPolicy, digest
from core.auth.ports import AttemptCounter, KnownAddresses

# IPv6 clients count by their /64: one subscriber gets at least that much, and a host can take
# any of its 2^64 addresses (privacy extensions rotate them daily), so counting per address
# would give an attacker endless fresh counters and forget the owner's device every day.
IPV6_PREFIX = 64


def address_of(client: str | None) -> str | None:
    """What the limits count as the caller's address, from the peer address (which uvicorn
    takes from the proxy headers only for FORWARDED_ALLOW_IPS): an IPv4 address as is, an
    IPv4-mapped IPv6 address as its IPv4, other IPv6 addresses by their /64 network, anything
    else (a unix socket, a test client's name) verbatim; None when there is no peer."""
    if not client:
        return None
    try:
        ip = ipaddress.ip_address(client)
    except ValueError:
        return client
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """One admitted attempt: the account and address it counts against, and what was read."""

    account: str  # a digest of the normalised email: no address book in Redis, bounded keys
    address: str | None
    pair_failures: int

    @property
    def pair_key(self) -> str:
        return f"login:pair:{self.account}:{self.address}"

    @property
    def address_key(self) -> str:
        return f"login:addr:{self.address}"

    @property
    def account_key(self) -> str:
        return f"login:acct:{self.account}"


class LoginLimits:
    """Refuses password attempts after repeated failures, without letting anyone lock the
    owner out.

    - failures count per (account, address) pair and per address (across accounts) in
      `failure_window`; past either limit the attempt is refused (429 with Retry-After),
      right password or not
    - failures also count per account, across addresses, in `account_failure_window`; past
      that much higher ceiling (against guessing spread over many addresses) an attempt is
      refused only from an address the account has not logged in from successfully within
      `known_address_ttl`: the owner, from their usual address, always gets in
    - a success forgets the pair's failures (not the address's or the account's, which an
      attacker could otherwise reset with an account of their own) and remembers the address
    - the address: see `address_of`
    """

    def __init__(self, attempts: AttemptCounter, known: KnownAddresses, policy: AuthPolicy) -> None:
        self._attempts, self._known, self._policy = attempts, known, policy

    async def admit(self, email: str, client: str | None) -> LoginAttempt:
        """The attempt, or TooManyAttempts. One round trip to the counters; a second (to the
        known addresses) only when the account is past its ceiling."""
        policy = self._policy
        account, address = digest(email.strip().lower()), address_of(client)
        probe = LoginAttempt(account, address, 0)
        if address is None:  # no peer address: only the account's ceiling applies
            limited = [(probe.account_key, policy.max_failures_per_account)]
        else:
            limited = [
                (probe.pair_key, policy.max_failures_per_pair),
                (probe.address_key, policy.max_failures_per_address),
                (probe.account_key, policy.max_failures_per_account),
            ]
        statuses = await self._attempts.status([key for key, _ in limited])
        over = [
            (key, left)
            for (key, limit), (count, left) in zip(limited, statuses, strict=True)
            if count >= limit
        ]
        if over:
            if any(key != probe.account_key for key, _ in over):
                raise TooManyAttempts(max(left for _, left in over))
            if address is None or not await self._known.is_known(account, address):
                raise TooManyAttempts(over[0][1])
        return LoginAttempt(account, address, statuses[0][0] if address is not None else 0)

    async def failed(self, attempt: LoginAttempt) -> None:
        """Count the failure against the pair, the address and the account (one round trip)."""
        policy = self._policy
        windows = [(attempt.account_key, _seconds(policy.account_failure_window))]
        if attempt.address is not None:
            window = _seconds(policy.failure_window)
            windows += [(attempt.pair_key, window), (attempt.address_key, window)]
        await self._attempts.record(windows)

    async def succeeded(self, attempt: LoginAttempt) -> None:
        if attempt.address is None:
            return
        if attempt.pair_failures:  # a round trip only when there is something to forget
            await self._attempts.clear(attempt.pair_key)
        ttl = _seconds(self._policy.known_address_ttl)
        await self._known.remember(attempt.account, attempt.address, ttl)


def _seconds(span: timedelta) -> int:
    return max(1, int(span.total_seconds()))
