"""Canonical URLs, so that one article reached through two links is stored once; and URLs fit
to show, with the credentials some feeds carry in them taken out."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    "fbclid gclid dclid msclkid yclid mc_cid mc_eid igshid _hsenc _hsmi mkt_tok ref_src "
    "cmpid ocid smid sr_share".split()
)
TRACKING_PREFIXES = ("utm_", "ga_", "pk_", "mtm_")

# Query parameters that carry credentials in feed URLs (private feeds of paywalled outlets,
# aggregator APIs). Matched on the lower-cased name, whole or as a ``_``-separated suffix.
SECRET_PARAMS = frozenset(
    "token access_token auth_token api_key apikey key secret client_secret password passwd "
    "pass pwd auth authorization sig signature session sessionid sid private_token code "
    "credentials".split()
)
REDACTED = "REDACTED"


def secret_param(name: str) -> bool:
    name = name.lower()
    return name in SECRET_PARAMS or name.rsplit("_", 1)[-1] in SECRET_PARAMS


def redact_url(url: str) -> str:
    """``url`` with its user name, password and secret-looking query values replaced: how a
    feed's address appears in headlines, listings and logs. Not for fetching."""
    if not url or "://" not in url:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(secret_param(k) for k, _ in pairs):
            query = urlencode([(k, REDACTED if secret_param(k) else v) for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


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
