"""Refusing feed and page URLs that point inside our own network (SSRF).

A feed URL is user input (the config, ``monitor feeds add``, an OPML file someone sent), and so is
every link inside a feed that the full-text fetcher follows. Without this check a hostile feed
could make the daemon read its cloud metadata endpoint or an admin page on localhost. Every
request the HTTP client sends, redirects included, passes through :func:`check_url`.

The check resolves the host and refuses if *any* address is not public, so a name with one public
and one private address is refused too. A DNS answer can still change between this check and the
connection (rebinding); closing that gap needs a resolver pinned into the transport, which httpx
does not offer yet.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from monitor.errors import FeedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class UnsafeURLError(FeedError, ValueError):
    """The URL points at a loopback, private, link-local or otherwise non-public address."""


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Networks from config strings such as ``127.0.0.1`` or ``10.0.0.0/8``."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values)


# IPv6 ranges whose last 32 bits are an IPv4 address that a translator or the stack reaches on
# the IPv6 address's behalf: NAT64's well-known prefix (RFC 6052), SIIT's IPv4-translated
# addresses (RFC 2765) and the deprecated IPv4-compatible ones (RFC 4291). Python calls most of
# them global, so ``64:ff9b::a9fe:a9fe`` would pass for public while it reaches 169.254.169.254,
# the cloud metadata endpoint, wherever a NAT64 gateway is on the path.
_IPV4_IN_LAST_32_BITS = tuple(
    ipaddress.IPv6Network(n) for n in ("64:ff9b::/96", "::ffff:0:0:0/96", "::/96")
)
# NAT64 for local use (RFC 8215): where the IPv4 sits inside it, and so where it leads, is the
# local network's choice; nothing public is reached through it that is not reachable directly.
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address leads to: mapped, NAT64, 6to4 (2002::/16), Teredo
    (2001::/32: its server and its client)."""
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if any(address in net for net in _IPV4_IN_LAST_32_BITS):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return tuple(found)


def is_public(address: IPAddress) -> bool:
    """Public unicast; an IPv6 address that leads to an IPv4 one is no more public than it."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # the IPv4 address itself, on a dual-stack socket
            return is_public(address.ipv4_mapped)
        if address in _LOCAL_NAT64:
            return False
        if not all(is_public(inner) for inner in embedded_ipv4(address)):
            return False
    return address.is_global and not address.is_multicast


def check_url(url: str, allow_private: bool = False, allowed: tuple[IPNetwork, ...] = ()) -> None:
    """Raise :class:`UnsafeURLError` unless every address ``url``'s host resolves to is public
    (or explicitly allowed). An unresolvable host passes: the fetch then fails with a clear
    connection error of its own."""
    if allow_private:
        return
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError as exc:  # a port past 65535, an unclosed IPv6 bracket
        raise UnsafeURLError(f"not a valid URL: {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeURLError(f"only http and https URLs are fetched, not {parts.scheme or url!r}")
    if not host:
        raise UnsafeURLError(f"no host in {url!r}")
    for address in _resolve(host, port or (443 if parts.scheme == "https" else 80)):
        if is_public(address) or any(address in net for net in allowed):
            continue
        where = f"{host} is" if host == str(address) else f"{host} resolves to {address},"
        raise UnsafeURLError(
            f"{where} a non-public address; allow it with http.allow_networks or http.allow_private"
        )


def _resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return ()
    return tuple(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos)
