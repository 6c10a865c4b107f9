"""Well-formed feeds made at random from the pieces real feeds are made of, for comparing the
fast reader with feedparser (``tests/test_fastparse.py``, ``bench/parse.py``).

Each document is RSS 2.0, RSS 1.0 (RDF) or Atom, with elements picked, ordered, repeated and
nested the way feeds do it and now and then do it wrong: two titles, a description after
content, an iTunes summary, Media RSS groups, xml:base on any element, namespaces under odd
prefixes or declared on an item, dates in every format feedparser knows and some it does not,
links relative, escaped twice or broken, text with entities, CDATA, markup, mojibake and C1
controls. A few pieces send the document to feedparser (inline XHTML, GeoRSS, an image inside
an item), so the choice to decline is compared too.
"""

from __future__ import annotations

import random

NAMESPACES = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "atom": "http://www.w3.org/2005/Atom",
    "media": "http://search.yahoo.com/mrss/",
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "slash": "http://purl.org/rss/1.0/modules/slash/",
    "feedburner": "http://rssnamespace.org/feedburner/ext/1.0",
    "georss": "http://www.georss.org/georss",
    "sy": "http://purl.org/rss/1.0/modules/syndication/",
    "wfw": "http://wellformedweb.org/CommentAPI/",
    "foo": "http://unknown.example/ns#",
    "xhtml": "http://www.w3.org/1999/xhtml",
}
TEXTS = [
    "Tanker seen off Nampo",
    "  Spaced \n  out  ",
    "",
    "AT&amp;T &lt;b&gt;bold&lt;/b&gt; news",
    "&lt;p&gt;Escaped &amp;amp; paragraph&lt;/p&gt;",
    "<![CDATA[<p>Para one.</p><p>Two &amp; three.</p>]]>",
    "<![CDATA[<p onclick='x'>Click</p><script>alert(1)</script><p>After</p>]]>",
    "<![CDATA[<!-- wp:paragraph --><p>Workers got new permits.</p><!-- /wp:paragraph -->]]>",
    "<![CDATA[unclosed <b>bold and <i>italic]]>",
    "<![CDATA[a < b and c > d]]>",
    "<![CDATA[<iframe src='v'>frame</iframe><noscript>no script</noscript> tail]]>",
    "<![CDATA[&nbsp;&notin; &foo; bare & ampersand]]>",
    "<![CDATA[line<br/>line<br>line</br>end]]>",
    "<![CDATA[<figure><img src='a.png'/><figcaption>Caption</figcaption></figure>]]>",
    "before<![CDATA[ middle ]]>after",
    "caf\u00e9 \u201cquoted\u201d \u2019s",
    "\u00c3\u00a9t\u00c3\u00a9 mojibake",
    "\u0085\u0096 C1 controls",
    "&#233;t&#xE9; &#150; &#8220;refs&#8221;",
    "&lt;em&gt;only&lt;/em&gt;",
    "Port fees &amp;amp; charges",
    "Ship-to-ship transfer reported by <![CDATA[<a href='/x'>the agency</a>]]>.",
    "&lt;script&gt;x&lt;/script&gt;",
    "   ",
]
URLS = [
    "https://harbour.example/2019/tanker?utm_source=rss&amp;id=1",
    "https://harbour.example/2019/port-fees",
    "/stories/relative",
    "relative/path",
    "//proto.example/p",
    "javascript:alert(1)",
    "http://[::1",
    "http://x.example:99999/a",
    "  https://spaces.example/a  ",
    "tag:harbour.example,2019:1",
    "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    "12345",
    "",
    "http://a.example/a&amp;amp;b&amp;c;d",
    "https://x.example/caf\u00e9",
    "HTTPS://Mixed.Example/Path#frag",
]
DATES = [
    "Fri, 02 Aug 2019 06:30:00 +0000",
    "Fri, 02 Aug 2019 06:30:00 GMT",
    "Fri, 2 Aug 2019 06:30 EST",
    "2019-08-02T06:30:00Z",
    "2019-08-02T08:30:00+02:00",
    "2019-08-02T06:30:00.123-05:00",
    "2019-08-02",
    "20190802T063000Z",
    "02 Aug 2019",
    "yesterday",
    "",
    "Mon, 31 Feb 2019 25:61:00 +9999",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "Sun Aug  4 12:00:00 2019",
    "2019-08-02 06:30:00",
]
BASES = ["https://base.example/dir/", "sub/", "/root/", "javascript:x", "", "http://[::1"]


class Maker:
    """One document's choices, from a seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.prefix = {name: name for name in NAMESPACES}
        swap = self.rng.random()
        if swap < 0.3:  # the same namespaces under other prefixes
            self.prefix.update(dc="d", content="c", media="m", itunes="it")
        elif swap < 0.4:  # under each other's usual prefixes
            self.prefix.update(dc="content", content="dc", media="itunes", itunes="media")

    def pick(self, items: list[str]) -> str:
        return self.rng.choice(items)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def el(self, name: str, text: str = "", attrs: str = "") -> str:
        ns, _, local = name.rpartition(":")
        tag = f"{self.prefix[ns]}:{local}" if ns else local
        if self.chance(0.08):
            attrs += f' xml:base="{self.pick(BASES)}"'
        return f"<{tag}{attrs}>{text}</{tag}>" if text or self.chance(0.7) else f"<{tag}{attrs}/>"

    def declarations(self) -> str:
        names = [n for n in NAMESPACES if n not in ("atom",) or self.chance(0.8)]
        self.rng.shuffle(names)
        return "".join(f' xmlns:{self.prefix[n]}="{NAMESPACES[n]}"' for n in names)

    def item_parts(self, atom: bool) -> list[str]:
        t, u, d = self.pick, self.pick(URLS), self.pick(DATES)
        parts = [
            self.el("title", t(TEXTS)),
            self.el("dc:title", t(TEXTS)),
            self.el("description", t(TEXTS)),
            self.el("content:encoded", t(TEXTS)),
            self.el("itunes:summary", t(TEXTS)),
            self.el("dc:description", t(TEXTS)),
            self.el("link", u),
            self.el(
                "atom:link",
                "",
                f' href="{u}" rel="{t(["alternate", "self", "related", "ALTERNATE"])}"'
                + t(["", ' type="TEXT/HTML"', ' type="application/rss+xml"']),
            ),
            self.el("guid", t(URLS), t(["", ' isPermaLink="false"', ' isPermaLink="True"'])),
            self.el("pubDate", d),
            self.el("dc:date", t(DATES)),
            self.el("dcterms:modified", t(DATES)),
            self.el("dcterms:created", t(DATES)),
            self.el("author", "desk@harbour.example (Desk)"),
            self.el("dc:creator", "Mika Tanabe"),
            self.el("category", t(TEXTS), ' domain="x"'),
            self.el("comments", t(URLS)),
            self.el("enclosure", "", f' url="{t(URLS)}" type="audio/mpeg"'),
            self.el("source", "Wire", f' url="{t(URLS)}"'),
            self.el("media:title", t(TEXTS)),
            self.el(
                "media:content",
                self.el("media:title", t(TEXTS)) + self.el("media:description", t(TEXTS)),
                f' url="{t(URLS)}"',
            ),
            self.el("media:group", self.el("media:description", t(TEXTS))),
            self.el("itunes:image", "", f' href="{t(URLS)}"'),
            self.el("itunes:keywords", "a, b", t(["", ' x="1"'])),
            self.el("itunes:block", "yes"),
            self.el("slash:comments", "3"),
            self.el("feedburner:origLink", t(URLS)),
            self.el("foo:bar", t(TEXTS)),
            self.el("foo:title", t(TEXTS)),
            self.el("media:thumbnail", "", f' url="{t(URLS)}" width="80"'),
            self.el("media:credit", "Photo desk", ' role="photographer"'),
            self.el("media:keywords", "ships, ports"),
            self.el("itunes:duration", "12:30"),
            self.el("itunes:explicit", t(["yes", "clean", "no"])),
            self.el("itunes:author", "Harbour Radio"),
            self.el("wfw:commentRss", t(URLS)),
            self.el("georss:point", t(["45.2 -71.9", "x", "", "1,2,3"])),
            self.el("dcterms:issued", t(DATES)),
            self.el("expirationDate", t(DATES)),
            self.el("extra", t(TEXTS), t(["", ' a="1"'])),
        ]
        if atom or self.chance(0.2):
            parts += self.atom_parts()
        rare = [
            self.el("image", self.el("title", "img")),
            self.el("georss:point", "45.2 -71.9"),
            self.el("georss:line", "45.2 -71.9 46 -72"),
            self.el("xhtml:body", "<p>inline</p>"),
            self.el("items", "x"),
        ]
        return parts + ([self.pick(rare)] if self.chance(0.05) else [])

    def atom_parts(self) -> list[str]:
        t = self.pick
        kind = ' type="{}"'.format(t(["text", "html", "xhtml", "text/html", "TEXT", "image/png"]))
        xhtml = '<div xmlns="http://www.w3.org/1999/xhtml"><p>Inline</p></div>'
        return [
            self.el("title", t(TEXTS), t(["", kind])),
            self.el("link", "", f' href="{t(URLS)}"' + t(["", ' rel="alternate"', ' rel="self"'])),
            self.el("id", t(URLS)),
            self.el("updated", t(DATES)),
            self.el("published", t(DATES)),
            self.el("summary", t(TEXTS), t(["", kind])),
            self.el(
                "content", xhtml if "xhtml" in kind else t(TEXTS), t(["", kind, ' mode="escaped"'])
            ),
            self.el("author", self.el("name", "Desk") + self.el("uri", t(URLS))),
            self.el("source", self.el("title", t(TEXTS)) + self.el("id", t(URLS))),
            self.el("rights", t(TEXTS), t(["", kind])),
            self.el("category", "", ' term="world" label="World"'),
            self.el("contributor", self.el("name", "Other") + self.el("email", "o@x.example")),
            self.el("generator", "Gen", ' uri="https://gen.example/" version="1"'),
            self.el("icon", t(URLS)),
            self.el("subtitle", t(TEXTS), t(["", kind])),
        ]

    def entries(self, name: str, atom: bool, about: bool = False) -> str:
        out = []
        for _ in range(self.rng.randint(0, 5)):
            parts = self.item_parts(atom)
            chosen = self.rng.sample(parts, self.rng.randint(1, min(9, len(parts))))
            if self.chance(0.15):
                chosen.append(self.pick(chosen))  # one element twice
            attrs = f' rdf:about="{self.pick(URLS)}"' if about else ""
            if self.chance(0.05):
                attrs += ' xmlns:late="http://late.example/"'
                chosen.append("<late:x>1</late:x>")
            out.append(self.el(name, "".join(chosen) or " ", attrs))
        return "".join(out)

    def head(self) -> str:
        t = self.pick
        parts = [
            self.el("title", t(TEXTS)),
            self.el("link", t(URLS)),
            self.el("description", t(TEXTS)),
            self.el("itunes:summary", t(TEXTS)),
            self.el(
                "image",
                "".join(
                    self.rng.sample(
                        [
                            self.el("title", t(TEXTS)),
                            self.el("url", t(URLS)),
                            self.el("width", "88"),
                            self.el("caption", "an element that ends the image's title"),
                            self.el("dc:rights", "prefixed: does not"),
                        ],
                        self.rng.randint(1, 4),
                    )
                ),
            ),
            self.el("textInput", self.el("title", "Search") + self.el("name", "q")),
            self.el("lastBuildDate", t(DATES)),
            self.el("language", "en"),
            self.el("cloud", "", ' domain="rpc.example" port="80" path="/RPC2"'),
            self.el("ttl", "60"),
            self.el("skipHours", self.el("hour", "1") + self.el("hour", "2")),
            self.el("sy:updatePeriod", "hourly"),
            self.el("managingEditor", "ed@harbour.example (Editor)"),
            self.el("copyright", t(TEXTS)),
            self.el("generator", "WordPress"),
            self.el("itunes:image", "", f' href="{t(URLS)}"'),
            self.el(
                "itunes:owner",
                self.el("itunes:name", "Owner") + self.el("itunes:email", "o@x.example"),
            ),
            self.el("content:encoded", t(TEXTS)),
            self.el("pubDate", t(DATES)),
        ]
        return "".join(self.rng.sample(parts, self.rng.randint(0, len(parts))))


def document(seed: int) -> bytes:
    """One feed, the same for the same seed."""
    m = Maker(seed)
    kind = m.pick(["rss", "rss", "atom", "rdf"])
    declaration = m.pick(['<?xml version="1.0" encoding="utf-8"?>\n', "", "<?xml version='1.0'?>"])
    if kind == "rss":
        version = m.pick(["2.0", "0.92", "0.91", "", "2.01"])
        body = (
            f'<rss version="{version}"{m.declarations()}><channel>'
            f"{m.head()}{m.entries('item', atom=False)}{m.head() if m.chance(0.1) else ''}"
            "</channel></rss>"
        )
    elif kind == "atom":
        body = (
            f'<feed xmlns="http://www.w3.org/2005/Atom"{m.declarations()}>'
            f"{m.el('title', m.pick(TEXTS))}{m.entries('entry', atom=True)}</feed>"
        )
    else:
        body = (
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            f'xmlns="http://purl.org/rss/1.0/"{m.declarations()}>'
            f'<channel rdf:about="https://harbour.example/">{m.head()}'
            '<items><rdf:Seq><rdf:li rdf:resource="https://harbour.example/1"/></rdf:Seq>'
            f"</items></channel>{m.entries('item', atom=False, about=True)}</rdf:RDF>"
        )
    return (declaration + body).encode("utf-8")
