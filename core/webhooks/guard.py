"""The SSRF guard: which addresses a webhook may reach (only public ones).

Checked when a subscription is saved (every address its host resolves to) and again by the
HTTP adapter on the address it connects to (pinned: DNS cannot swap it in between)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from core.shared.errors import InvalidInput

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")  # shared address space (RFC 6598)
_METADATA = (
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64: an IPv4 address inside


class AddressRefused(InvalidInput):
    def __init__(self, message: str) -> None:
        super().__init__(message, field="url")


def refusal(address: Address) -> str | None:
    """Why a webhook may not reach `address`; None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            reason = refusal(embedded)
            return None if reason is None else f"{reason} (inside an IPv6 address)"
    if address in _METADATA:
        return "a cloud metadata address"
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (
            isinstance(address, ipaddress.IPv4Address) and address in _CGNAT,
            "a shared (CGNAT) address",
        ),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for failed, reason in checks if failed), None)


def parse_address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # a zone index (fe80::1%eth0) goes
    except ValueError:
        return None


def check_addresses(host: str, addresses: Sequence[str], *, allow_private: bool) -> None:
    """Raise AddressRefused unless every address is public (or private ones are allowed)."""
    if not addresses:
        raise AddressRefused(f"host {host[:100]} does not resolve")
    if allow_private:
        return
    for text in addresses:
        address = parse_address(text)
        reason = "not an IP address" if address is None else refusal(address)
        if reason is not None:
            raise AddressRefused(f"points at {reason}, not allowed for webhooks")
