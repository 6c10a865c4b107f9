"""Full text for entries that carry only a summary: fetch the linked page, extract the article.

A two-line teaser rarely holds the sentence a rule needs ("700 new work permits ... in Russia"),
so the rules would miss the report. trafilatura pulls the article body out of a news page and
drops navigation, footers and "read more" junk (about 12 ms for a 45 KB page); the page is
fetched with the same client, caps and SSRF guard as the feeds.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import httpx

from monitor.config import HttpConfig
from monitor.ingest.fetch import PAGE_ACCEPT, FetchError, get
from monitor.ingest.hosts import HostLimits
from monitor.ingest.urls import canonical_url
from monitor.models import Article

log = logging.getLogger(__name__)
logging.getLogger("trafilatura").setLevel(logging.ERROR)


def extract_text(html: bytes | str, url: str = "") -> str:
    """The article body of an HTML page as paragraphs of text, or "" if none was found."""
    return extract_page(html, url)[1]


def extract_page(html: bytes | str, url: str = "", with_title: bool = False) -> tuple[str, str]:
    """(title, body) of a news page; the title only when asked (the metadata pass costs about
    twice the extraction), "" for what was not found."""
    import trafilatura  # imported on first use: it pulls in lxml and friends (~0.3 s)

    options = {"url": url or None, "include_comments": False, "include_tables": False}
    try:
        if with_title:
            found = trafilatura.bare_extraction(
                html, favor_precision=True, with_metadata=True, **options
            )
            if found is None:
                return "", ""
            return (found.title or "").strip(), (found.text or "").strip()
        text = trafilatura.extract(html, favor_precision=True, **options)
    except Exception as exc:  # a parser bug on one page must not lose the entry
        log.warning("extracting %s failed: %s: %s", url, type(exc).__name__, exc)
        return "", ""
    return "", (text or "").strip()


def fill_full_text(
    article: Article, client: httpx.Client, max_bytes: int, deadline: float = 60.0
) -> bool:
    """Replace a summary-only article's text with its page's body; False if that failed.

    On success the article's link becomes the page's final address (after redirects such as a
    feed proxy's click tracker), so the citation links to the page the text came from. On
    failure the summary stays: a teaser is better than nothing.
    """
    if not article.url.startswith(("http://", "https://")):
        return False
    try:
        page = get(client, article.url, max_bytes, {"Accept": PAGE_ACCEPT}, deadline)
    except FetchError as exc:
        log.info("full text of %s: %s; keeping the summary", article.url, exc)
        return False
    title, text = extract_page(page.body, page.url, with_title=not article.title)
    if title and not article.title:
        article.title = title  # a link-only entry gets its page's headline
    if len(text) <= len(article.text):
        log.info("full text of %s: nothing longer than the summary found", article.url)
        return False
    article.text = text
    article.summary_only = False
    if page.url != article.url:
        article.url = page.url
        article.canonical_url = canonical_url(page.url)
    return True


def summary_only(articles: list[Article]) -> list[Article]:
    """The entries whose page could give their full text."""
    return [a for a in articles if a.summary_only and a.url.startswith(("http:", "https:"))]


def fill_full_texts(
    articles: list[Article], client: httpx.Client, http: HttpConfig, hosts: HostLimits
) -> int:
    """Fill the texts of ``articles`` from their pages, several at once within the per-host
    limits (a feed's pages are usually on one host, so ``http.per_host`` is what bounds it);
    returns how many pages gave a text.

    A page that fails keeps its summary; a bug in one (an exception) is raised once the others
    are done, failing the feed's poll as it would have alone.
    """

    def fill(article: Article) -> bool:
        with hosts.slot(article.url):
            return fill_full_text(article, client, http.max_bytes, http.deadline)

    if len(articles) < 2:
        return sum(fill(article) for article in articles)
    with ThreadPoolExecutor(min(len(articles), http.concurrency), "fulltext") as pool:
        futures = [pool.submit(fill, article) for article in articles]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        raise errors[0]
    return sum(f.result() for f in futures)
