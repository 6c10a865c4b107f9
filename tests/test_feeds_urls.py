"""Canonical URLs: one article under two links is one article."""

from __future__ import annotations

import pytest

from monitor.ingest.safety import UnsafeURLError, check_url, parse_networks
from monitor.ingest.urls import canonical_url


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://News.Example.COM/a/b?id=3", "https://news.example.com/a/b?id=3"),
        ("HTTPS://news.example.com/a#comments", "https://news.example.com/a"),
        ("https://news.example.com:443/a", "https://news.example.com/a"),
        ("http://news.example.com:80/a", "http://news.example.com/a"),
        ("http://news.example.com:8080/a", "http://news.example.com:8080/a"),
        ("https://news.example.com", "https://news.example.com/"),
        (
            "https://news.example.com/a?utm_source=rss&utm_medium=feed&id=7&fbclid=xyz",
            "https://news.example.com/a?id=7",
        ),
        ("https://news.example.com/a?gclid=1&mc_cid=2&mc_eid=3", "https://news.example.com/a"),
        ("https://news.example.com/a?UTM_Campaign=x&b=2&a=1", "https://news.example.com/a?b=2&a=1"),
        ("  https://news.example.com/a  ", "https://news.example.com/a"),
        ("", ""),
        # courlan's own list of trackers, beside ours
        ("https://news.example.com/a?id=7&mc_tc=x&xtor=RSS-1", "https://news.example.com/a?id=7"),
        ("https://news.example.com/a?b=&a=1", "https://news.example.com/a?b=&a=1"),  # blank kept
        ("https://user:pw@News.example.com/a", "https://news.example.com/a"),  # no credentials
        ("https://news.example.com/a%20b?q=a+b", "https://news.example.com/a%20b?q=a+b"),
    ],
)
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical


@pytest.mark.parametrize("url", ["https://news.example.com:99999/a", "http://[::1/a"])
def test_a_link_no_parser_reads_has_no_canonical_form(url):
    with pytest.raises(ValueError):
        canonical_url(url)


def test_two_links_to_one_article_are_one_canonical_url():
    a = "https://Daily-Ledger.example/asia/story?utm_source=twitter#top"
    b = "https://daily-ledger.example/asia/story?fbclid=abc"
    assert canonical_url(a) == canonical_url(b)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost/x",
        "http://10.0.0.1/x",
        "http://172.16.5.4/x",
        "http://192.168.0.1/x",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://[fd00::1]/x",
        "http://0.0.0.0/x",
        "file:///etc/passwd",
    ],
)
def test_non_public_addresses_are_refused(url):
    with pytest.raises(UnsafeURLError):
        check_url(url)


def test_allowed_networks_and_public_addresses_pass():
    check_url("http://127.0.0.1:8000/feed", allowed=parse_networks(["127.0.0.1"]))
    check_url("http://10.1.2.3/feed", allowed=parse_networks(["10.0.0.0/8"]))
    check_url("http://192.168.1.1/feed", allow_private=True)
    check_url("https://93.184.216.34/feed")
    with pytest.raises(UnsafeURLError):
        check_url("http://127.0.0.2/feed", allowed=parse_networks(["127.0.0.1"]))
