"""Discovery and fetching against real HTTP servers on 127.0.0.1 with injected faults (tests/sitesim.py).

One scenario, four sites: "news" (robots.txt disallowing /private/, a sitemap
index with a gzipped child), "flaky" (503 + Retry-After, 500 once, a slow page,
connection resets, 404/410, an image, an oversized page, a redirect), "blog"
(an RSS feed, Last-Modified only) and "down" (robots.txt answers 503).
"""

from __future__ import annotations

import asyncio
import gzip

import pytest

from pagescrub.tasks.discover import discover
from pagescrub.tasks.extract import extract_article
from pagescrub.tasks.fetch import FetchConfig, Fetcher, FetchResult, validators_from_result
from tests.sitesim import Page, SiteSim, article_html

PER_HOST = 2

CONFIG = FetchConfig(
    per_host_delay=0.0,
    per_host_concurrency=PER_HOST,
    global_concurrency=8,
    connect_timeout=2.0,
    read_timeout=0.3,
    retries=2,
    backoff_base=0.01,
    retry_after_cap=0.05,
    max_bytes=100_000,
    allow_private_addresses=True,  # the sites are on 127.0.0.1
)


def sitemap(urls: list[tuple[str, str]]) -> bytes:
    items = "".join(f"<url><loc>{u}</loc><lastmod>{d}</lastmod></url>" for u, d in urls)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'.encode()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's proxy settings must not route these 127.0.0.1 requests elsewhere."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sim():
    with SiteSim(latency=0.05) as sim:
        news, flaky, blog, down = (sim.site(n) for n in ("news", "flaky", "blog", "down"))

        news.add("/robots.txt", Page(f"User-agent: *\nDisallow: /private/\nSitemap: {news.url('/sitemap_index.xml')}\n".encode(), "text/plain", validators=False))
        pages = [(news.add(f"/news/{i}", article_html(f"News story {i}")), f"2022-02-{i:02d}") for i in range(1, 11)]
        secret = news.add("/private/secret", article_html("Secret"))
        news.add("/sitemap-1.xml.gz", Page(gzip.compress(sitemap(pages[:6])), "application/x-gzip", validators=False))
        news.add("/sitemap-2.xml", Page(sitemap([*pages[6:], (secret, "2022-02-05")]), "application/xml", validators=False))
        news.add("/sitemap_index.xml", Page(
            b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + f"<sitemap><loc>{news.url('/sitemap-1.xml.gz')}</loc></sitemap>"
              f"<sitemap><loc>{news.url('/sitemap-2.xml')}</loc></sitemap></sitemapindex>".encode(),
            "application/xml", validators=False,
        ))

        flaky.add("/retry-after", Page(article_html("Busy then fine"), fault="retry_after_once"))
        flaky.add("/error-once", Page(article_html("Error then fine"), fault="error_once"))
        flaky.add("/reset-once", Page(article_html("Reset then fine"), fault="reset_once"))
        flaky.add("/reset", Page(article_html("Always reset"), fault="reset"))
        flaky.add("/slow", Page(article_html("Too slow"), fault="slow", slow_seconds=1.0))
        flaky.add("/gone", Page(b"gone", status=410, validators=False))
        flaky.add("/image.png", Page(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png"))
        flaky.add("/big", Page(article_html("Huge", paragraphs=800)))
        flaky.add("/old-address", Page(b"", status=301, headers={"Location": "/new-address"}, validators=False))
        flaky.add("/new-address", Page(article_html("Moved story")))

        posts = [blog.add(f"/posts/{i}", article_html(f"Blog post {i}")) for i in range(1, 5)]
        items = "".join(
            f"<item><title>Post {i}</title><link>{u}</link><pubDate>Wed, 0{i} Feb 2022 08:00:00 GMT</pubDate></item>"
            for i, u in enumerate(posts, 1)
        )
        blog.add("/rss.xml", Page(f'<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>{items}</channel></rss>'.encode(), "application/rss+xml", validators=False))
        blog.add("/robots.txt", Page(b"User-agent: *\nAllow: /\n", "text/plain", validators=False))

        down.add("/robots.txt", Page(b"maintenance", "text/plain", status=503, validators=False))
        down.add("/a", article_html("Unreachable A"))
        yield sim


async def first_run(sim: SiteSim, urls: list[str]) -> tuple[list[str], dict[str, FetchResult]]:
    """Discover (explicit URLs, the news site's robots.txt sitemaps, the blog's feed), then fetch everything."""
    news, blog = sim.sites["news"], sim.sites["blog"]
    async with Fetcher(CONFIG) as fetcher:
        failures: list[tuple[str, str]] = []
        found = await discover(fetcher, urls=urls, robots=news.origin, feed=blog.url("/rss.xml"), failures=failures)
        assert failures == []
        return found, {r.url: r async for r in fetcher.fetch_many(found)}


async def second_run(first: dict[str, FetchResult]) -> dict[str, FetchResult]:
    """A new client, with the validators the flow would have stored after the first run."""
    stored = {url: v for url, r in first.items() if (v := validators_from_result(r)) is not None}
    async with Fetcher(CONFIG) as fetcher:
        return {r.url: r async for r in fetcher.fetch_many(first, stored)}


def test_polite_robust_fetching_end_to_end(sim: SiteSim) -> None:
    news, flaky, blog, down = (sim.sites[n] for n in ("news", "flaky", "blog", "down"))
    given = [flaky.url(p) for p in ("/retry-after", "/error-once", "/reset-once", "/reset", "/slow", "/gone", "/missing", "/image.png", "/big", "/old-address")]
    given.append(down.url("/a"))

    found, first = asyncio.run(first_run(sim, given))

    news_pages = [news.url(f"/news/{i}") for i in range(1, 11)]
    blog_pages = [blog.url(f"/posts/{i}") for i in range(1, 5)]
    # Discovery: given URLs first, then the sitemap index's children in order, then the feed.
    assert found == given + news_pages + [news.url("/private/secret")] + blog_pages

    fetchable = news_pages + blog_pages + [flaky.url(p) for p in ("/retry-after", "/error-once", "/reset-once", "/old-address")]
    expected_failures = {
        flaky.url("/reset"): "connection error after 3 attempts: ",
        flaky.url("/slow"): "timeout after 3 attempts",
        flaky.url("/gone"): "http 410",
        flaky.url("/missing"): "http 404",
        flaky.url("/image.png"): "content type image/png refused",
        flaky.url("/big"): "too large: over 100000 bytes",
        news.url("/private/secret"): "robots.txt disallows",
        down.url("/a"): "robots.txt unavailable (http 503): host disallowed",
    }
    assert sorted(first) == sorted(fetchable + list(expected_failures))
    for url in fetchable:
        assert first[url].outcome == "ok", (url, first[url].reason)
    # The bodies are what extraction needs (a sample: extraction costs ~0.1 s a page).
    for url in (news_pages[0], blog_pages[0], flaky.url("/retry-after"), flaky.url("/old-address")):
        result = first[url]
        article = extract_article(result.body, url=result.final_url, content_type=result.content_type)
        assert article.title and article.word_count > 50
    for url, reason in expected_failures.items():
        result = first[url]
        assert result.outcome == "failed" and result.body is None
        assert result.reason.startswith(reason), (url, result.reason)

    assert first[flaky.url("/old-address")].final_url == flaky.url("/new-address")
    assert first[flaky.url("/retry-after")].attempts == 2 and len(flaky.requests("/retry-after")) == 2
    assert first[flaky.url("/reset-once")].attempts == 2
    assert len(flaky.requests("/gone")) == 1  # permanent: never retried
    assert len(flaky.requests("/reset")) == 3

    # robots.txt: disallowed pages never requested; a 503 robots.txt keeps us off the whole host.
    assert news.requests("/private/secret") == []
    assert not any(r.path.startswith("/private/") for r in news.requests())
    assert {r.path for r in down.requests()} == {"/robots.txt"}
    assert len(news.requests("/robots.txt")) == 1 and len(blog.requests("/robots.txt")) == 1

    # Politeness: no site ever saw more than the per-host limit at once; the busy ones reached it.
    peaks = sim.peak_concurrency()
    assert max(peaks.values()) <= PER_HOST, peaks
    assert peaks["news"] == PER_HOST, peaks

    assert all(r.headers["user-agent"].startswith("pagescrub/") for r in sim.log)


def test_second_run_sends_validators_and_gets_304(sim: SiteSim) -> None:
    news, blog = sim.sites["news"], sim.sites["blog"]
    _, first = asyncio.run(first_run(sim, []))
    sim.clear_log()
    second = asyncio.run(second_run(first))
    ok = [url for url, r in first.items() if r.ok]
    assert len(ok) == 14
    for url in ok:
        assert second[url].outcome == "not_modified" and second[url].status == 304 and second[url].body is None
    page_requests = [r for r in sim.log if r.path.startswith(("/news/", "/posts/"))]
    assert len(page_requests) == 14
    assert all(r.headers.get("if-none-match", "").startswith('"') for r in page_requests)
    assert all(r.headers.get("if-modified-since") == "Wed, 09 Feb 2022 10:00:00 GMT" for r in page_requests)
    # Pages that failed the first time keep failing the same way, without validators.
    assert second[news.url("/private/secret")].reason == "robots.txt disallows"
    assert blog.requests("/robots.txt")  # a new Fetcher re-reads robots.txt (the flow may persist the cache instead)


def test_ssrf_guard_refuses_loopback_without_touching_it(sim: SiteSim) -> None:
    news = sim.sites["news"]

    async def go() -> list[FetchResult]:
        async with Fetcher(FetchConfig(per_host_delay=0, retries=0)) as fetcher:
            # An IP literal, and a name the real resolver (getaddrinfo, /etc/hosts) maps to loopback.
            return [await fetcher.fetch(news.url("/news/1")), await fetcher.fetch(f"http://localhost:{news.port}/news/1")]

    literal, named = asyncio.run(go())
    assert literal.outcome == "failed" and literal.reason == "address not allowed: 127.0.0.1"
    assert named.outcome == "failed" and named.reason.startswith("address not allowed: localhost resolves to ")
    assert sim.log == []


def test_http2_client_still_talks_to_http1_servers(sim: SiteSim) -> None:
    news = sim.sites["news"]

    async def go() -> FetchResult:
        async with Fetcher(FetchConfig(http2=True, per_host_delay=0, allow_private_addresses=True)) as fetcher:
            return await fetcher.fetch(news.url("/news/1"))

    assert asyncio.run(go()).ok


def test_connection_refused_is_a_transient_connection_error() -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def go() -> FetchResult:
        cfg = FetchConfig(per_host_delay=0, retries=1, backoff_base=0.01, obey_robots=False, allow_private_addresses=True)
        async with Fetcher(cfg) as fetcher:
            return await fetcher.fetch(f"http://127.0.0.1:{port}/x")

    result = asyncio.run(go())
    assert result.outcome == "failed" and result.transient and result.attempts == 2
    assert result.reason.startswith("connection error after 2 attempts: ConnectError")
