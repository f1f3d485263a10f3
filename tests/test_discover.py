"""Discovery: sitemap and feed parsers (pure), hostile XML, date windows, and ``discover`` over mocked HTTP."""

from __future__ import annotations

import asyncio
import gzip
import time
from datetime import UTC, date, datetime

import pytest
from lxml import etree
from pytest_httpx import HTTPXMock

from pagescrub.tasks import discover as discover_mod
from pagescrub.tasks.discover import (
    DiscoveryError,
    Entry,
    discover,
    filter_entries,
    parse_date,
    parse_document,
    parse_feed,
    parse_sitemap,
    parse_url_list,
    read_url_list,
)
from pagescrub.tasks.fetch import FetchConfig, Fetcher

UTC = UTC


def urlset(*entries: tuple[str, str | None]) -> bytes:
    items = "".join(
        f"<url><loc>{loc}</loc>{f'<lastmod>{lastmod}</lastmod>' if lastmod else ''}</url>" for loc, lastmod in entries
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'.encode()


def sitemapindex(*entries: tuple[str, str | None]) -> bytes:
    items = "".join(
        f"<sitemap><loc>{loc}</loc>{f'<lastmod>{lastmod}</lastmod>' if lastmod else ''}</sitemap>" for loc, lastmod in entries
    )
    return f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'.encode()


RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>News</title>
<item><title>One</title><link>https://news.example/one?utm_source=rss</link><pubDate>Wed, 02 Feb 2022 10:00:00 +0000</pubDate></item>
<item><title>Two</title><guid isPermaLink="true">https://news.example/two</guid><dc:date>2022-02-05T08:00:00Z</dc:date></item>
<item><title>No link</title><guid isPermaLink="false">tag:news.example,2022:3</guid></item>
<item><title>Old</title><link><![CDATA[https://news.example/old?a=1&b=2]]></link><pubDate>Mon, 03 Jan 2022 10:00:00 GMT</pubDate></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/posts/">
  <title>Blog</title>
  <entry><title>A</title><link rel="alternate" type="text/html" href="a.html"/><link rel="edit" href="/edit/a"/>
    <published>2022-02-03T12:00:00+01:00</published><updated>2022-03-01T00:00:00Z</updated></entry>
  <entry><title>B</title><link href="https://blog.example/b"/><updated>2022-02-09T23:30:00-05:00</updated></entry>
</feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://old.example/"><title>Old</title></channel>
  <item rdf:about="https://old.example/1"><title>1</title><link>https://old.example/1</link><dc:date>2022-02-04</dc:date></item>
</rdf:RDF>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://news.example/&lol9;</loc></url></urlset>"""


# --- sitemaps ------------------------------------------------------------------------------------


def test_urlset_with_lastmod() -> None:
    pages, children = parse_sitemap(
        urlset(
            ("https://News.example/a?utm_medium=x", "2022-02-05"),
            ("https://news.example/b", "2022-02-06T10:30:00+02:00"),
            ("https://news.example/c", None),
            ("javascript:alert(1)", None),
        )
    )
    assert children == []
    assert pages == [
        Entry("https://news.example/a", datetime(2022, 2, 5, tzinfo=UTC)),
        Entry("https://news.example/b", datetime(2022, 2, 6, 8, 30, tzinfo=UTC)),
        Entry("https://news.example/c", None),
    ]


def test_sitemap_index_and_gzip() -> None:
    index = sitemapindex(("https://news.example/s1.xml.gz", "2022-02-10"), ("/s2.xml", None))
    pages, children = parse_sitemap(gzip.compress(index), base="https://news.example/sitemap.xml")
    assert pages == []
    assert children == [
        Entry("https://news.example/s1.xml.gz", datetime(2022, 2, 10, tzinfo=UTC)),
        Entry("https://news.example/s2.xml", None),
    ]


def test_google_news_sitemap_dates_and_bare_ampersands() -> None:
    data = b"""<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://news.example/story?id=1&page=2</loc><news:news><news:publication><news:name>N</news:name></news:publication>
<news:publication_date>2022-02-07T09:00:00Z</news:publication_date><news:title>T</news:title></news:news></url>
</urlset>"""
    pages, _ = parse_sitemap(data)
    assert pages == [Entry("https://news.example/story?id=1&page=2", datetime(2022, 2, 7, 9, tzinfo=UTC))]


def test_billion_laughs_is_refused_without_expansion() -> None:
    started = time.process_time()
    with pytest.raises(DiscoveryError, match="entity"):
        parse_sitemap(BILLION_LAUGHS)
    with pytest.raises(DiscoveryError):
        parse_document(gzip.compress(BILLION_LAUGHS))
    assert time.process_time() - started < 5  # generous: expansion would be ~3 GB of "lol"
    # Defence in depth: the parser itself would not expand it either.
    try:
        root = etree.fromstring(BILLION_LAUGHS, discover_mod._parser())
    except etree.XMLSyntaxError:
        return
    assert len(etree.tostring(root)) < 10_000


def test_external_entity_is_never_read(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = f"""<?xml version="1.0"?><!DOCTYPE u [<!ENTITY xxe SYSTEM "file://{secret}">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://news.example/&xxe;</loc></url></urlset>""".encode()
    with pytest.raises(DiscoveryError):
        parse_sitemap(xxe)
    root = etree.fromstring(xxe, discover_mod._parser())
    assert b"TOP-SECRET" not in etree.tostring(root)


def test_gzip_bomb_sitemap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discover_mod, "MAX_DOCUMENT_BYTES", 1024 * 1024)
    bomb = gzip.compress(urlset(("https://news.example/a", None)) + b" " * (2 * 1024 * 1024))
    with pytest.raises(DiscoveryError, match="too large"):
        discover_mod._gunzip(bomb, discover_mod.MAX_DOCUMENT_BYTES)


@pytest.mark.parametrize("data", [b"", b"  \n", b"<html><body>404</body></html>", b"\x1f\x8bnot gzip", b"\x00\x01binary"])
def test_unusable_documents_raise(data: bytes) -> None:
    with pytest.raises(DiscoveryError):
        parse_document(data)


def test_truncated_sitemap_keeps_the_complete_entries() -> None:
    data = urlset(("https://news.example/a", "2022-02-01"), ("https://news.example/b", "2022-02-02"))
    pages, _ = parse_sitemap(data[: data.index(b"https://news.example/b") + 10])
    assert pages[0] == Entry("https://news.example/a", datetime(2022, 2, 1, tzinfo=UTC))


# --- feeds ---------------------------------------------------------------------------------------


def test_rss2_items() -> None:
    assert parse_feed(RSS) == [
        Entry("https://news.example/one", datetime(2022, 2, 2, 10, tzinfo=UTC)),
        Entry("https://news.example/two", datetime(2022, 2, 5, 8, tzinfo=UTC)),
        Entry("https://news.example/old?a=1&b=2", datetime(2022, 1, 3, 10, tzinfo=UTC)),
    ]


def test_atom_entries_resolve_xml_base_and_prefer_published() -> None:
    assert parse_feed(ATOM) == [
        Entry("https://blog.example/posts/a.html", datetime(2022, 2, 3, 11, tzinfo=UTC)),
        Entry("https://blog.example/b", datetime(2022, 2, 10, 4, 30, tzinfo=UTC)),
    ]


def test_rss1_rdf_items() -> None:
    assert parse_feed(RDF) == [Entry("https://old.example/1", datetime(2022, 2, 4, tzinfo=UTC))]


def test_document_type_decided_by_content() -> None:
    assert parse_document(RSS)[0][0].url == "https://news.example/one"
    assert parse_document(urlset(("https://news.example/a", None))) == ([Entry("https://news.example/a")], [])
    pages, _ = parse_document(b"https://news.example/x\n# c\n/y\n", base="https://news.example/list.txt")
    assert [p.url for p in pages] == ["https://news.example/x", "https://news.example/y"]
    with pytest.raises(DiscoveryError, match="not a feed"):
        parse_feed(urlset(("https://news.example/a", None)))
    with pytest.raises(DiscoveryError, match="not a sitemap"):
        parse_sitemap(RSS)


# --- dates and windows ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2022-02-05", datetime(2022, 2, 5, tzinfo=UTC)),
        ("2022-02", datetime(2022, 2, 1, tzinfo=UTC)),
        ("2022", datetime(2022, 1, 1, tzinfo=UTC)),
        ("2022-02-05T10:00Z", datetime(2022, 2, 5, 10, tzinfo=UTC)),
        ("2022-02-05T10:00:00.123+01:00", datetime(2022, 2, 5, 9, 0, 0, 123000, tzinfo=UTC)),
        ("Sat, 05 Feb 2022 10:00:00 GMT", datetime(2022, 2, 5, 10, tzinfo=UTC)),
        ("Sat, 05 Feb 2022 10:00:00 -0500", datetime(2022, 2, 5, 15, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(text: str | None, expected: datetime | None) -> None:
    assert parse_date(text) == expected


def test_filter_entries_window_is_inclusive_of_whole_days() -> None:
    entries = [
        Entry("https://x.example/jan31", datetime(2022, 1, 31, 23, 59, tzinfo=UTC)),
        Entry("https://x.example/feb1", datetime(2022, 2, 1, 0, 0, tzinfo=UTC)),
        Entry("https://x.example/feb10-late", datetime(2022, 2, 10, 23, 59, tzinfo=UTC)),
        Entry("https://x.example/feb11", datetime(2022, 2, 11, 0, 0, tzinfo=UTC)),
        Entry("https://x.example/undated"),
    ]
    kept = filter_entries(entries, "2022-02-01", date(2022, 2, 10))
    assert [e.url for e in kept] == ["https://x.example/feb1", "https://x.example/feb10-late"]
    kept = filter_entries(entries, since=datetime(2022, 2, 1), keep_undated=True)
    assert [e.url for e in kept] == [
        "https://x.example/feb1", "https://x.example/feb10-late", "https://x.example/feb11", "https://x.example/undated",
    ]
    assert filter_entries(entries) == entries


# --- URL lists -----------------------------------------------------------------------------------


def test_url_list(tmp_path) -> None:
    text = """# seeds
https://news.example/a?utm_source=x

https://NEWS.example/a
   https://news.example/b#frag   trailing note
ftp://files.example/x
not a url
https://news.example/c
"""
    assert parse_url_list(text) == ["https://news.example/a", "https://news.example/b", "https://news.example/c"]
    path = tmp_path / "urls.txt"
    path.write_text("\ufeff" + text, encoding="utf-8")
    assert read_url_list(path) == parse_url_list(text)


# --- discover() over HTTP ------------------------------------------------------------------------


def run_discover(**kwargs) -> tuple[list[str], list[tuple[str, str]]]:
    failures: list[tuple[str, str]] = []

    async def go() -> list[str]:
        cfg = FetchConfig(per_host_delay=0, backoff_base=0.01, retry_after_cap=0.05, retries=0, allow_private_addresses=True)
        async with Fetcher(cfg) as fetcher:
            return await discover(fetcher, failures=failures, **kwargs)

    return asyncio.run(go()), failures


def test_discover_from_robots_sitemap_index_gzip_child_and_feed(httpx_mock: HTTPXMock) -> None:
    robots = b"User-agent: *\nDisallow: /private/\nSitemap: https://news.example/sitemap_index.xml\n"
    httpx_mock.add_response(url="https://news.example/robots.txt", content=robots, headers={"Content-Type": "text/plain"})
    httpx_mock.add_response(
        url="https://news.example/sitemap_index.xml",
        content=sitemapindex(
            ("https://news.example/sitemap-2022-02.xml.gz", "2022-02-10"),
            ("https://news.example/sitemap-2021.xml", "2021-12-31"),  # before --since: never fetched
            ("https://news.example/sitemap-missing.xml", None),
        ),
        headers={"Content-Type": "application/xml"},
    )
    httpx_mock.add_response(
        url="https://news.example/sitemap-2022-02.xml.gz",
        content=gzip.compress(
            urlset(
                ("https://news.example/feb-3", "2022-02-03"),
                ("https://news.example/jan-20", "2022-01-20"),
                ("https://news.example/feb-9?utm_campaign=x", "2022-02-09T18:00:00Z"),
                ("https://news.example/undated", None),
            )
        ),
        headers={"Content-Type": "application/x-gzip"},
    )
    httpx_mock.add_response(url="https://news.example/sitemap-missing.xml", status_code=404)
    httpx_mock.add_response(url="https://news.example/rss.xml", content=RSS, headers={"Content-Type": "application/rss+xml"})

    urls, failures = run_discover(
        urls=["https://news.example/feb-9", "https://news.example/manual"],
        robots="https://news.example/",
        feed="https://news.example/rss.xml",
        since="2022-02-01",
        until="2022-02-10",
    )
    assert urls == [
        "https://news.example/feb-9",  # given first; the sitemap's copy is a duplicate
        "https://news.example/manual",
        "https://news.example/feb-3",
        "https://news.example/one",  # feed items in the window
        "https://news.example/two",
    ]
    assert failures == [("https://news.example/sitemap-missing.xml", "http 404")]
    requested = [str(r.url) for r in httpx_mock.get_requests()]
    assert "https://news.example/sitemap-2021.xml" not in requested
    assert requested.count("https://news.example/robots.txt") == 1


def test_discover_reports_unusable_sources(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url="https://news.example/robots.txt", status_code=404)
    httpx_mock.add_response(url="https://news.example/sitemap.xml", content=BILLION_LAUGHS, headers={"Content-Type": "text/xml"})
    httpx_mock.add_response(url="https://news.example/feed", content=b"<html><body>Moved</body></html>", headers={"Content-Type": "text/html"})
    urls, failures = run_discover(sitemap="https://news.example/sitemap.xml", feed=["https://news.example/feed"], robots=["https://news.example"])
    assert urls == []
    assert failures == [
        ("https://news.example", "robots.txt lists no sitemap (http 404)"),
        ("https://news.example/sitemap.xml", "XML entity declarations refused"),
        ("https://news.example/feed", "not a sitemap or feed: root element <html>"),
    ]


def test_discover_sitemap_disallowed_by_robots_is_not_fetched(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url="https://news.example/robots.txt", content=b"User-agent: *\nDisallow: /hidden/\n")
    urls, failures = run_discover(sitemap="https://news.example/hidden/sitemap.xml")
    assert urls == [] and failures == [("https://news.example/hidden/sitemap.xml", "robots.txt disallows")]
    assert [str(r.url) for r in httpx_mock.get_requests()] == ["https://news.example/robots.txt"]
