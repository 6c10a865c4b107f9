"""Canonical URLs, so that one article reached through two links is stored once; and URLs fit
to show, with the credentials some feeds carry in them taken out."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Tracking parameters dropped from canonical URLs besides those courlan knows (it knows the
# utm_, ga_, pk_, mtm_ and mc_ families, fbclid, gclid and the like): these predate courlan
# here and stay, so a link canonical before keeps its canonical form.
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
    """One spelling for every link to one article, so it is stored once.

    courlan normalises (lower-cased scheme and host, the default port dropped, the path
    escaped one way) and names the tracking parameters; around it, what our stored canonical
    URLs have always been: no fragment, no user name or password, at least "/" for a path,
    the other parameters kept in their order (blank ones too), and a ValueError for an address
    no parser reads (a port past 65535, an unclosed IPv6 bracket).
    """
    from courlan import normalize_url  # on first use: ~60 ms of imports no command needs

    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    parts.port  # noqa: B018 -- raises ValueError for a port courlan would quietly keep
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    # courlan drops blank parameters along with trackers: it judges the names alone.
    names = urlencode([(name, "1") for name, _ in pairs])
    normal = urlsplit(normalize_url(parts._replace(query=names, fragment="")))
    kept = {name for name, _ in parse_qsl(normal.query)}
    query = [(k, v) for k, v in pairs if (k in kept or not k) and not _tracking(k)]
    netloc = normal.netloc.rpartition("@")[2]
    return urlunsplit((normal.scheme, netloc, normal.path or "/", urlencode(query), ""))


def _tracking(name: str) -> bool:
    """Trackers courlan does not know."""
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)
