"""The claims the fast feed reader rests on for HTML and links, on generated values.

1. ``html_to_text`` splits plain markup itself; what it returns must be what HTMLParser gives.
2. The fast reader skips feedparser's sanitizer on plain markup; the text an Article gets must
   be the text of the sanitized value, and the field empty exactly when that value is.
3. It skips urljoin for absolute links urljoin would return unchanged; the link must be the
   one feedparser's join gives.

Fragments are drawn from tokens real feeds carry (WordPress comments, entities, C1 controls,
UTF-8 read as Latin-1) and from tokens that break the plain grammar (bare "<", scripts, odd
comments, unquoted attributes), so both sides of every check are exercised. Hypothesis runs
derandomized, without its example database.
"""

from __future__ import annotations

from feedparser.sanitizer import _sanitize_html
from feedparser.urls import _urljoin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.ingest import html as html_module
from monitor.ingest.fastfeed.values import _AS_IS, Field, Links, fix, plain_markup
from monitor.ingest.html import html_to_text

SETTINGS = settings(
    derandomize=True,
    database=None,
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

NAMES = (
    "p div br b i a img span li ul ol h1 h6 blockquote section article figure figcaption "
    "noscript table tr td hr pre dd dt em strong font center u abbr sup P Br DIV LI "
    "script style iframe svg math textarea title head object template applet foo x-y"
).split()
ATTRIBUTES = [
    "",
    ' class="lead"',
    " href='/relative'",
    ' onclick="steal()"',
    ' data-id="7"',
    ' style="color: red; background: url(x)"',
    ' title="a&gt;b"',
    ' title="a>b"',
    ' alt="caf\u00e9"',
    " width=100",
    " checked",
    '  id = "q"  ',
    ' src="http://x.example/a.png" alt=""',
    "\n  lang='en'",
]
TEXT = [
    "Plain words.",
    " two  spaces ",
    "line\nbreak",
    "tab\there",
    "\r\n",
    "non\u00a0breaking",
    "a > b",
    "quote \" and ' apostrophe",
    "caf\u00e9",
    "\u00c3\u00a9t\u00c3\u00a9",  # "été" as UTF-8 read as Latin-1
    "\u201ccurly\u201d \u2019",
    "\u0085\u0096 C1 controls",
    "euro \u20ac",
    "\u2028\u3000 odd spaces",
    "x=y; z!",
    "---",
    "",
]
REFERENCES = (
    "&amp; &lt; &gt; &quot; &apos; &nbsp; &copy; &hellip; &mdash; &notin; &foo; &AMP; "
    "&#39; &#34; &#150; &#129; &#0; &#x41; &#X41; &#x110000; &#99999999; &amp &#x; &#"
).split() + ["& ", "&"]
ODD = [
    "<",
    "< p>",
    "<3",
    "<<p>>",
    "</ p>",
    "<p/ >",
    "<!-- c -->",
    "<!---->",
    "<!-- wp:paragraph -->",
    "<!-- a -- b -->",
    "<!--->",
    "<!-- <b> -->",
    "<!DOCTYPE html>",
    "<![CDATA[x]]>",
    "<?pi?>",
    "<a href=unquoted>",
    "</br>",
    "</hr>",
    "<br/>",
    "<br />",
    "<p/>",
]


@st.composite
def tag(draw) -> str:
    name = draw(st.sampled_from(NAMES))
    if draw(st.booleans()):
        return f"</{name}{draw(st.sampled_from(['', ' ', chr(10)]))}>"
    attrs = "".join(draw(st.lists(st.sampled_from(ATTRIBUTES), max_size=3)))
    return f"<{name}{attrs}{draw(st.sampled_from(['>', '/>', ' />']))}"


PLAIN_TOKENS = st.one_of(
    st.sampled_from(TEXT),
    st.sampled_from(REFERENCES[:12]),
    tag(),
    st.sampled_from(["<!-- c -->", "<!-- wp:paragraph -->", "<br/>", "<p/>"]),
    # Elements whose content is dropped, holding what would otherwise count.
    st.sampled_from(
        [
            "<style>p { }</p></style>",
            "<script>a<b>c</b></script>",
            "<noscript><p>x</p></noscript>",
            "<iframe><p>frame</p></iframe>",
            "<svg><title>t</title></svg>",
        ]
    ),
)
ANY_TOKENS = st.one_of(
    PLAIN_TOKENS,
    st.sampled_from(REFERENCES),
    st.sampled_from(ODD),
    st.text(max_size=8),
)
FRAGMENTS = st.one_of(
    st.lists(PLAIN_TOKENS, max_size=30).map("".join),
    st.lists(ANY_TOKENS, max_size=30).map("".join),
)


def parsed_text(fragment: str) -> str:
    """html_to_text the way it was before the fast path: HTMLParser for anything with markup."""
    if "<" not in fragment and "&" not in fragment:
        return html_module._tidy(fragment)
    collector = html_module._TextCollector()
    collector.feed(fragment)
    collector.close()
    return html_module._tidy("".join(collector.parts))


def sanitized(fragment: str) -> str:
    """What feedparser stores for an HTML field: sanitized, then its last fixes."""
    return fix(_sanitize_html(fragment, "utf-8", "text/html"))


@SETTINGS
@given(FRAGMENTS)
def test_plain_markup_gives_what_htmlparser_gives(fragment):
    assert html_to_text(fragment) == parsed_text(fragment)


@SETTINGS
@given(FRAGMENTS)
def test_a_field_skipping_the_sanitizer_has_the_text_of_the_sanitized_value(fragment):
    raw = fragment.strip()  # feedparser strips every value before it sanitizes
    field = Field(raw, markup=True)
    assert field.text() == html_to_text(sanitized(raw))
    assert field.nonempty() == bool(sanitized(raw))
    assert Field(raw, markup=False).text() == html_to_text(fix(raw))


def test_the_fast_paths_are_taken_on_plain_markup_and_only_there():
    wordpress = (
        '<!-- wp:paragraph --><p class="x">A tanker &amp; a <a href="/v">vessel</a>.</p>'
        "<!-- /wp:paragraph --><figure><img src='a.png' alt=\"\"/><figcaption>Nampo"
        "</figcaption></figure><br/>Caf\u00e9 &#8220;quoted&#8221;"
    )
    assert html_module._plain_parts(wordpress) is not None
    assert plain_markup(wordpress)
    assert html_to_text(wordpress) == "A tanker & a vessel.\nNampo\nCaf\u00e9 \u201cquoted\u201d"
    for odd in ("a < b", "<script>x</script>", "<a href=x>y</a>", "<!-- a -- b -->"):
        assert html_module._plain_parts(odd) is None, odd
        assert not plain_markup(odd), odd
    # Plain for HTMLParser, but the sanitizer would change it: not skipped.
    for changed in ("<iframe>x</iframe>", "a</br>b", "&foo;", "<svg>x</svg>"):
        assert html_module._plain_parts(changed) is not None, changed
        assert not plain_markup(changed), changed


def test_fix_reads_utf8_misread_as_latin1_and_maps_c1_controls():
    assert fix("\u00c3\u00a9t\u00c3\u00a9") == "\u00e9t\u00e9"
    assert fix("caf\u00e9") == "caf\u00e9"  # not UTF-8 as bytes: left alone
    assert fix("\u0096") == "\u2013"
    assert fix("plain") == "plain"


SAFE_PARTS = ["/a", "/b.html", "?q=1", "&r=2", "#top", "/%20", "/~u", "=", ":", "@", "/x:y"]
ODD_PARTS = ["?", "#", ";", "\\", " ", "\t", "\n", "\u00e9", "//", "/..", "[", "]", "<", "'"]


@st.composite
def urls_to_join(draw) -> str:
    """Mostly links the join is skipped for, each with at most one odd piece put in."""
    scheme = draw(st.sampled_from(["http://", "https://"] * 3 + ["HTTP://", "ftp://", "", "x:"]))
    host = draw(st.sampled_from(["x.example", "127.0.0.1:8000", "A.Example", "", "[::1]"]))
    parts = draw(st.lists(st.sampled_from(SAFE_PARTS), max_size=6))
    if draw(st.booleans()):
        at = draw(st.one_of(st.just(len(parts)), st.integers(0, len(parts))))
        parts.insert(at, draw(st.sampled_from(ODD_PARTS)))
    return scheme + host + "".join(parts)


URLS_TO_JOIN = urls_to_join()
BASES = st.sampled_from(
    ["", "https://b.example/dir/feed", "http://a.example", "http://a.example/d/?q#f",
     "https://c.example", "http://[::1", "javascript:x", "/srv/feeds/local.xml"]
)  # fmt: skip


@SETTINGS
@given(BASES, URLS_TO_JOIN)
def test_a_link_joined_is_the_link_feedparser_joins(base, uri):
    assert Links().join(base, uri) == _urljoin(base, uri)


def test_common_links_skip_the_join():
    for uri in ("https://x.example/a/b?utm_source=rss&id=1#top", "http://127.0.0.1:8000/f/1"):
        assert _AS_IS.fullmatch(uri)
    for uri in ("http://x.example/a?", "http://x.example/a;p", "HTTP://x.example/", "/rel"):
        assert not _AS_IS.fullmatch(uri)


@SETTINGS
@given(st.text(alphabet=" \t\r\n\f\v\u00a0\u2028\u3000\x85ab", max_size=30))
def test_tidy_is_what_it_was_line_by_line(text):
    lines = (html_module._SPACES.sub(" ", line).strip() for line in text.split("\n"))
    assert html_module._tidy(text) == "\n".join(line for line in lines if line)
