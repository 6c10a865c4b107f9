"""Canonical URLs, so that one article reached through two links is stored once."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    "fbclid gclid dclid msclkid yclid mc_cid mc_eid igshid _hsenc _hsmi mkt_tok ref_src "
    "cmpid ocid smid sr_share".split()
)
TRACKING_PREFIXES = ("utm_", "ga_", "pk_", "mtm_")


def canonical_url(url: str) -> str:
    """Lower-cased scheme and host, default port, fragment and tracking parameters dropped."""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(query), ""))
