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

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class UnsafeURLError(ValueError):
    """The URL points at a loopback, private, link-local or otherwise non-public address."""


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Networks from config strings such as ``127.0.0.1`` or ``10.0.0.0/8``."""
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values)


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_url(url: str, allow_private: bool = False, allowed: tuple[IPNetwork, ...] = ()) -> None:
    """Raise :class:`UnsafeURLError` unless every address ``url``'s host resolves to is public
    (or explicitly allowed). An unresolvable host passes: the fetch then fails with a clear
    connection error of its own."""
    if allow_private:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURLError(f"only http and https URLs are fetched, not {parts.scheme or url!r}")
    host = parts.hostname or ""
    if not host:
        raise UnsafeURLError(f"no host in {url!r}")
    for address in _resolve(host, parts.port or (443 if parts.scheme == "https" else 80)):
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
