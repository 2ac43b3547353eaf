"""Which target URLs a subscription may use (pure: the caller resolves host names).

Only http and https. A host that resolves to a loopback, private, link-local, multicast,
reserved or unspecified address is refused (it would let a subscriber make Turnstile call
internal services: SSRF), unless the deployment allows loopback (the local stack does, so
tests and `make dev` can use a receiver on 127.0.0.1). Even then, private ranges and the
metadata service's link-local range stay refused.
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


def check_addresses(addresses: Iterable[str], allow_loopback: bool) -> None:
    """Refuse if any address the host resolves to is not a public unicast address."""
    found = False
    for text in addresses:
        found = True
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_loopback:
            if allow_loopback:
                continue
            raise UrlRefused("resolves to a loopback address")
        if address.is_link_local:
            raise UrlRefused("resolves to a link-local address")
        if address.is_private:
            raise UrlRefused("resolves to a private address")
        if address.is_multicast or address.is_reserved or address.is_unspecified:
            raise UrlRefused("resolves to a non-routable address")
    if not found:
        raise UrlRefused("does not resolve to any address")
