"""IPv6 addresses that lead to an IPv4 one are as public as that IPv4 address, and no more.

Python calls ``64:ff9b::a9fe:a9fe`` global, yet wherever a NAT64 gateway is on the path it is
169.254.169.254, the cloud metadata endpoint. The same holds for 6to4 and the other formats
that carry an IPv4 address inside.
"""

from __future__ import annotations

import ipaddress

import pytest

from monitor.ingest.safety import UnsafeURLError, check_url, embedded_ipv4, is_public

PRIVATE_V4 = ["127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0"]


def nat64(v4: str) -> str:
    return str(ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | _int(v4)))


def six_to_four(v4: str) -> str:
    return str(ipaddress.IPv6Address((0x2002 << 112) | (_int(v4) << 80) | 1))


def translated(v4: str) -> str:  # SIIT's IPv4-translated format, ::ffff:0:a.b.c.d
    return str(ipaddress.IPv6Address(0xFFFF << 48 | _int(v4)))


def compatible(v4: str) -> str:  # the deprecated IPv4-compatible format, ::a.b.c.d
    return str(ipaddress.IPv6Address(_int(v4)))


def mapped(v4: str) -> str:
    return f"::ffff:{v4}"


def _int(v4: str) -> int:
    return int(ipaddress.IPv4Address(v4))


FORMATS = [nat64, six_to_four, translated, compatible, mapped]


@pytest.mark.parametrize("form", FORMATS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("v4", PRIVATE_V4)
def test_an_embedded_private_ipv4_is_refused(form, v4):
    address = form(v4)
    assert ipaddress.IPv4Address(v4) in embedded_ipv4(ipaddress.IPv6Address(address))
    with pytest.raises(UnsafeURLError, match="non-public address"):
        check_url(f"http://[{address}]/feed")


@pytest.mark.parametrize("form", [nat64, six_to_four, translated, mapped], ids=lambda f: f.__name__)
def test_an_embedded_public_ipv4_passes(form):
    check_url(f"http://[{form('93.184.216.34')}]/feed")


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b:1::a00:1",  # local-use NAT64: where it leads is the local network's choice
        "64:ff9b:1:5db8:d8:2200::",  # even with a public IPv4 in RFC 6052's /48 layout
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "2001::ffff:ffff",  # Teredo whose client is 0.0.0.0
    ],
)
def test_local_nat64_and_teredo_are_not_public(address):
    assert not is_public(ipaddress.IPv6Address(address))
    with pytest.raises(UnsafeURLError):
        check_url(f"http://[{address}]/feed")


def test_teredo_names_its_server_and_client():
    found = embedded_ipv4(ipaddress.IPv6Address("2001:0:4136:e378:8000:63bf:3fff:fdd2"))
    assert found == (ipaddress.IPv4Address("65.54.227.120"), ipaddress.IPv4Address("192.0.2.45"))


def test_ordinary_ipv6_is_judged_as_before():
    assert is_public(ipaddress.IPv6Address("2606:4700:4700::1111"))
    for address in ("::1", "::", "fe80::1", "fd00::1", "ff02::1"):
        assert not is_public(ipaddress.IPv6Address(address))
