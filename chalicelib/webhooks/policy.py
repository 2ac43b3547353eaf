"""Which target URLs a subscription may use (pure: the caller resolves host names).

Only http and https (deployed stages: https only, see service.UrlGuard). A host must resolve
to public unicast addresses only: loopback, private, shared (100.64.0.0/10), link-local,
multicast, reserved and unspecified addresses are refused (they would let a subscriber make
Turnstile call internal services: SSRF), and so are IPv6 addresses that carry an IPv4 one
(IPv4-mapped, 6to4 2002::/16, NAT64 64:ff9b::/96, Teredo) when that IPv4 address is not public.
The deployment may allow loopback (the local stack does, so tests and `make dev` can use a
receiver on 127.0.0.1); private ranges and the metadata service's link-local range stay refused.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048


class UrlRefused(ValueError):
    """The URL may not be a webhook target; the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line


def parse_target(url: str) -> Target:
    """Syntax checks only: scheme, host, port, no credentials."""
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"must be at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlRefused("is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise UrlRefused("must be an http or https URL")
    if not parts.hostname:
        raise UrlRefused("must name a host")
    if parts.username or parts.password:
        raise UrlRefused("must not contain credentials")
    if any(c.isspace() for c in url):
        raise UrlRefused("must not contain whitespace")
    default = 443 if parts.scheme == "https" else 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port or default, path)


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


NAT64 = ipaddress.ip_network("64:ff9b::/96")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64 or Teredo's client), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.teredo is not None:
        return address.teredo[1]
    return None


def check_addresses(addresses: Iterable[str], allow_loopback: bool) -> None:
    """Refuse if any address the host resolves to is not a public unicast address."""
    found = False
    for text in addresses:
        found = True
        address: Address = ipaddress.ip_address(text.split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address):
            address = embedded_ipv4(address) or address
        _check(address, allow_loopback)
    if not found:
        raise UrlRefused("does not resolve to any address")


def _check(address: Address, allow_loopback: bool) -> None:
    if address.is_loopback:
        if allow_loopback:
            return
        raise UrlRefused("resolves to a loopback address")
    if address.is_link_local:
        raise UrlRefused("resolves to a link-local address")
    if address.is_private:
        raise UrlRefused("resolves to a private address")
    if address.is_multicast or address.is_reserved or address.is_unspecified:
        raise UrlRefused("resolves to a non-routable address")
    if not address.is_global:  # shared address space (100.64.0.0/10), documentation ranges...
        raise UrlRefused("resolves to an address that is not public")
