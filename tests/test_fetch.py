"""The fetch client against mocked HTTP (pytest-httpx): statuses, retries, limits, robots, politeness.

Nothing here reaches a network: every request is answered by ``httpx_mock`` and
any unexpected one fails the test. Waits are recorded, not slept (``clock``).
"""

from __future__ import annotations

import asyncio
import gzip
import re
import socket
import zlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from pytest_httpx import HTTPXMock, IteratorStream

from pagescrub import PROJECT_URL, __version__
from pagescrub.tasks import fetch as fetch_mod
from pagescrub.tasks.extract import extract_article
from pagescrub.tasks.fetch import (
    DEFAULT_USER_AGENT,
    FetchConfig,
    Fetcher,
    FetchFailed,
    FetchResult,
    Validators,
    is_transient,
    parse_retry_after,
    retry_delay,
    validators_from_result,
)

URL = "https://news.example/story"
ROBOTS = re.compile(r"https://[^/]+/robots\.txt")


def config(**overrides) -> FetchConfig:
    """Fast, deterministic settings: tiny backoff, no jitter, no host delay, robots off unless asked."""
    values = dict(
        per_host_delay=0.0,
        backoff_base=0.01,
        retry_after_cap=0.05,
        jitter=0.0,
        obey_robots=False,
        allow_private_addresses=True,
    )
    values.update(overrides)
    return FetchConfig(**values)


def fetch(url: str = URL, validators: Validators | None = None, **overrides) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(config(**overrides)) as fetcher:
            return await fetcher.fetch(url, validators)

    return asyncio.run(go())


def fetch_all(urls: list[str], cfg: FetchConfig, **kwargs) -> list[FetchResult]:
    async def go() -> list[FetchResult]:
        async with Fetcher(cfg, **kwargs) as fetcher:
            return [result async for result in fetcher.fetch_many(urls)]

    return asyncio.run(go())


class VirtualClock:
    """Stands in for the fetcher's clock and sleep: a sleep returns at once and moves time forward."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.start = self.now
        self.delays: list[float] = []
        self.wakes: list[float] = []
        """When each sleep ended, in seconds since the test began."""

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)
        wake = self.now + delay
        self.wakes.append(wake - self.start)
        self.now = max(self.now, wake)
        await asyncio.sleep(0)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    """Every wait the fetcher asks for (backoff, Retry-After, host delay), without waiting."""
    virtual = VirtualClock()
    monkeypatch.setattr(fetch_mod, "_sleep", virtual.sleep)
    monkeypatch.setattr(fetch_mod, "_monotonic", virtual.monotonic)
    return virtual


HTML = b"<html><head><title>T</title></head><body><p>Hello</p></body></html>"


# --- 2xx ---------------------------------------------------------------------------------------


def test_ok_records_body_headers_and_sends_our_user_agent(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=URL,
        content=HTML,
        headers={"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"', "Last-Modified": "Wed, 09 Feb 2022 10:00:00 GMT", "X-Other": "x"},
    )
    result = fetch()
    assert result.outcome == "ok" and result.ok
    assert result.body == HTML
    assert result.status == 200 and result.final_url == URL and result.attempts == 1
    assert result.headers == {
        "content-type": "text/html; charset=utf-8",
        "etag": '"v1"',
        "last-modified": "Wed, 09 Feb 2022 10:00:00 GMT",
    }
    request = httpx_mock.get_requests()[0]
    assert request.headers["User-Agent"] == DEFAULT_USER_AGENT == f"pagescrub/{__version__} (+{PROJECT_URL})"
    assert request.headers["Accept-Encoding"] == "gzip, deflate"
    assert "text/html" in request.headers["Accept"]
    assert validators_from_result(result) == Validators('"v1"', "Wed, 09 Feb 2022 10:00:00 GMT")


def test_user_agent_can_be_overridden(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, content=HTML, headers={"Content-Type": "text/html"})
    assert fetch(user_agent="MyCrawler/2.0 (+https://me.example)").ok
    assert httpx_mock.get_requests()[0].headers["User-Agent"] == "MyCrawler/2.0 (+https://me.example)"


def test_charset_only_in_meta_passes_bytes_through_untouched(httpx_mock: HTTPXMock) -> None:
    words = " ".join(["Le café du coin sert un très bon déjeuner chaque midi."] * 6)
    page = (
        '<html><head><meta charset="windows-1252"><title>Café</title></head>'
        f"<body><article><h1>Café</h1><p>{words}</p><p>{words}</p></article></body></html>"
    ).encode("cp1252")
    httpx_mock.add_response(url=URL, content=page, headers={"Content-Type": "text/html"})
    result = fetch()
    assert result.ok and result.body == page  # not decoded, not re-encoded
    assert result.content_type == "text/html"
    article = extract_article(result.body, url=result.final_url, content_type=result.content_type)
    assert article.encoding.lower() in ("cp1252", "windows-1252")
    assert "café du coin" in article.text


def test_gzip_and_deflate_bodies_are_decoded(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL + "/gz", content=gzip.compress(HTML), headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})
    httpx_mock.add_response(url=URL + "/zlib", content=zlib.compress(HTML), headers={"Content-Type": "text/html", "Content-Encoding": "deflate"})
    raw = zlib.compressobj(wbits=-15)
    httpx_mock.add_response(url=URL + "/raw", content=raw.compress(HTML) + raw.flush(), headers={"Content-Type": "text/html", "Content-Encoding": "deflate"})
    for suffix in ("/gz", "/zlib", "/raw"):
        result = fetch(URL + suffix)
        assert result.ok and result.body == HTML, suffix


def test_missing_content_type_is_sniffed(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL + "/html", content=HTML)
    httpx_mock.add_response(url=URL + "/png", content=b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    assert fetch(URL + "/html").ok
    png = fetch(URL + "/png")
    assert png.outcome == "failed" and png.reason == "no content type and body is png"


# --- refusals that are never retried -------------------------------------------------------------


def test_content_type_refused_before_the_body(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, content=b"\x89PNG\r\n\x1a\n", headers={"Content-Type": "image/png"})
    result = fetch()
    assert result.outcome == "failed" and result.reason == "content type image/png refused"
    assert result.attempts == 1 and not is_transient(result) and result.body is None


def test_size_limit_enforced_while_streaming(httpx_mock: HTTPXMock) -> None:
    # No Content-Length: only counting the stream can catch it.
    httpx_mock.add_response(url=URL + "/stream", stream=IteratorStream([b"a" * 400] * 5), headers={"Content-Type": "text/plain"})
    httpx_mock.add_response(url=URL + "/declared", content=b"a" * 2000, headers={"Content-Type": "text/plain"})
    httpx_mock.add_response(url=URL + "/fits", content=b"a" * 1000, headers={"Content-Type": "text/plain"})
    for suffix in ("/stream", "/declared"):
        result = fetch(URL + suffix, max_bytes=1000)
        assert result.outcome == "failed" and result.reason == "too large: over 1000 bytes", suffix
        assert result.attempts == 1 and not result.transient
    assert "content-length" not in httpx_mock.get_requests(url=URL + "/stream")[0].headers
    assert fetch(URL + "/fits", max_bytes=1000).body == b"a" * 1000


def test_decompression_bomb_refused(httpx_mock: HTTPXMock) -> None:
    bomb = gzip.compress(b"\x00" * (4 * 1024 * 1024))  # ~4 KB that inflates to 4 MiB
    httpx_mock.add_response(url=URL, content=bomb, headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})
    result = fetch()
    assert len(bomb) < 10_000
    assert result.outcome == "failed" and result.reason == "decompression bomb" and result.attempts == 1


def test_compressed_page_over_the_limit_is_too_large_not_a_bomb(httpx_mock: HTTPXMock) -> None:
    text = b"".join(b"<p>sentence %d about things</p>" % i for i in range(2000))  # compresses ~5x
    httpx_mock.add_response(url=URL, content=gzip.compress(text), headers={"Content-Type": "text/html", "Content-Encoding": "gzip"})
    result = fetch(max_bytes=len(text) - 1)
    assert result.reason == f"too large: over {len(text) - 1} bytes"


@pytest.mark.parametrize("status", [404, 410, 403, 400])
def test_permanent_statuses_are_not_retried(httpx_mock: HTTPXMock, status: int) -> None:
    httpx_mock.add_response(url=URL, status_code=status)
    result = fetch()
    assert result.outcome == "failed" and result.reason == f"http {status}" and result.status == status
    assert result.attempts == 1 and not is_transient(result)
    assert len(httpx_mock.get_requests()) == 1


def test_invalid_url_fails_without_a_request(httpx_mock: HTTPXMock) -> None:
    result = fetch("not a url")
    assert result.outcome == "failed" and result.reason.startswith("invalid url")
    assert httpx_mock.get_requests() == []


# --- redirects -----------------------------------------------------------------------------------


def test_redirect_chain_records_final_url(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=301, headers={"Location": "https://www.news.example/story"})
    httpx_mock.add_response(url="https://www.news.example/story", status_code=302, headers={"Location": "/2022/story"})
    httpx_mock.add_response(url="https://www.news.example/2022/story", content=HTML, headers={"Content-Type": "text/html"})
    result = fetch()
    assert result.ok and result.url == URL and result.final_url == "https://www.news.example/2022/story"
    assert [str(r.url) for r in httpx_mock.get_requests()] == [
        URL, "https://www.news.example/story", "https://www.news.example/2022/story",
    ]


def test_redirect_loop_is_too_many_redirects(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=302, headers={"Location": URL + "/b"}, is_reusable=True)
    httpx_mock.add_response(url=URL + "/b", status_code=302, headers={"Location": URL}, is_reusable=True)
    result = fetch(max_redirects=3)
    assert result.outcome == "failed" and result.reason == "too many redirects"
    assert result.attempts == 1 and not result.transient
    assert len(httpx_mock.get_requests()) == 4  # the first request and three redirects followed


def test_redirect_to_file_url_is_refused(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=302, headers={"Location": "file:///etc/passwd"})
    result = fetch()
    assert result.outcome == "failed" and result.reason.startswith("address not allowed: file")
    assert result.final_url == "file:///etc/passwd" and len(httpx_mock.get_requests()) == 1


def test_redirect_to_an_unparsable_location_fails_cleanly(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=302, headers={"Location": "http://[::1/broken"})
    result = fetch()
    assert result.outcome == "failed" and result.reason.startswith("redirect to an invalid location: ")
    assert result.attempts == 1 and not result.transient


# --- SSRF guard ----------------------------------------------------------------------------------


async def public_resolver(host: str, port: int) -> list[str]:
    return {"internal.example": ["10.0.0.7"], "mapped.example": ["::ffff:127.0.0.1"]}.get(host, ["93.184.216.34"])


def guarded_fetch(url: str) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(config(allow_private_addresses=False), resolver=public_resolver) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(go())


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/", "http://10.1.2.3/", "http://172.16.5.4/", "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[fd00::1]/",
        "http://internal.example/", "http://mapped.example/",
    ],
)
def test_private_addresses_are_refused_without_a_request(httpx_mock: HTTPXMock, url: str) -> None:
    result = guarded_fetch(url)
    assert result.outcome == "failed" and result.reason.startswith("address not allowed: ")
    assert httpx_mock.get_requests() == []


def test_redirect_to_metadata_address_is_refused(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    result = guarded_fetch(URL)
    assert result.reason == "address not allowed: 169.254.169.254"
    assert [str(r.url) for r in httpx_mock.get_requests()] == [URL]


def test_unresolvable_host_is_a_transient_connection_error(httpx_mock: HTTPXMock, clock: VirtualClock) -> None:
    async def failing_resolver(host: str, port: int) -> list[str]:
        raise socket.gaierror(-2, "Name or service not known")

    async def go() -> FetchResult:
        async with Fetcher(config(allow_private_addresses=False, retries=1), resolver=failing_resolver) as fetcher:
            return await fetcher.fetch(URL)

    result = asyncio.run(go())
    assert result.reason == "connection error after 2 attempts: cannot resolve news.example: gaierror: [Errno -2] Name or service not known"
    assert is_transient(result) and httpx_mock.get_requests() == []


def test_public_addresses_pass_the_guard(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, content=HTML, headers={"Content-Type": "text/html"})
    assert guarded_fetch(URL).ok


# --- conditional GET -----------------------------------------------------------------------------


def test_conditional_get_sends_validators_and_304_is_not_modified(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=304, headers={"ETag": '"v2"'})
    result = fetch(validators=Validators('"v1"', "Wed, 09 Feb 2022 10:00:00 GMT"))
    request = httpx_mock.get_requests()[0]
    assert request.headers["If-None-Match"] == '"v1"'
    assert request.headers["If-Modified-Since"] == "Wed, 09 Feb 2022 10:00:00 GMT"
    assert result.outcome == "not_modified" and result.status == 304 and result.body is None
    assert validators_from_result(result) == Validators('"v2"', None)


def test_no_validators_no_conditional_headers(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, content=HTML, headers={"Content-Type": "text/html"})
    fetch(validators=Validators())
    request = httpx_mock.get_requests()[0]
    assert "If-None-Match" not in request.headers and "If-Modified-Since" not in request.headers


def test_validators_round_trip_for_the_store() -> None:
    v = Validators('W/"abc"', "Wed, 09 Feb 2022 10:00:00 GMT")
    assert Validators.from_dict(v.to_dict()) == v
    assert Validators.from_dict({}) is None and Validators.from_dict(None) is None
    failed = FetchResult(URL, URL, 503, {"etag": '"x"'}, None, "failed", "http 503")
    assert validators_from_result(failed) is None


# --- retries -------------------------------------------------------------------------------------


def test_500_then_200_is_retried_with_backoff(httpx_mock: HTTPXMock, clock: VirtualClock) -> None:
    httpx_mock.add_response(url=URL, status_code=500)
    httpx_mock.add_response(url=URL, content=HTML, headers={"Content-Type": "text/html"})
    result = fetch()
    assert result.ok and result.attempts == 2
    assert clock.delays == [pytest.approx(0.01)]


def test_500_forever_fails_after_all_attempts(httpx_mock: HTTPXMock, clock: VirtualClock) -> None:
    httpx_mock.add_response(url=URL, status_code=500, is_reusable=True)
    result = fetch(retries=3)
    assert result.outcome == "failed" and result.reason == "http 500 after 4 attempts"
    assert result.attempts == 4 and len(httpx_mock.get_requests()) == 4
    assert result.transient and is_transient(result)
    assert clock.delays == [pytest.approx(0.01), pytest.approx(0.02), pytest.approx(0.04)]


def test_429_retry_after_seconds_is_honoured_and_capped(httpx_mock: HTTPXMock, clock: VirtualClock) -> None:
    httpx_mock.add_response(url=URL, status_code=429, headers={"Retry-After": "30"})
    httpx_mock.add_response(url=URL, content=HTML, headers={"Content-Type": "text/html"})
    httpx_mock.add_response(url=URL + "/2", status_code=429, headers={"Retry-After": "7"})
    httpx_mock.add_response(url=URL + "/2", content=HTML, headers={"Content-Type": "text/html"})
    assert fetch().ok  # cap 0.05 s
    assert fetch(URL + "/2", retry_after_cap=120).ok
    # The retry waits what was asked (capped); the host is held back as long, not longer.
    assert clock.delays == [pytest.approx(0.05), pytest.approx(7)]


def test_503_retry_after_http_date_then_200(httpx_mock: HTTPXMock, clock: VirtualClock) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    httpx_mock.add_response(url=URL, status_code=503, headers={"Retry-After": when})
    httpx_mock.add_response(url=URL, content=HTML, headers={"Content-Type": "text/html"})
    result = fetch(retry_after_cap=120)
    assert result.ok and result.attempts == 2
    assert len(clock.delays) == 1 and 15 < clock.delays[0] <= 20


@pytest.mark.parametrize(
    "exception, reason",
    [
        (httpx.ConnectError("Connection refused"), "connection error after 3 attempts: ConnectError: Connection refused"),
        (httpx.ReadTimeout("timed out"), "timeout after 3 attempts"),
        (httpx.RemoteProtocolError("peer closed connection"), "connection error after 3 attempts: RemoteProtocolError: peer closed connection"),
    ],
)
def test_network_failures_are_transient(httpx_mock: HTTPXMock, clock: VirtualClock, exception: Exception, reason: str) -> None:
    httpx_mock.add_exception(exception, url=URL, is_reusable=True)
    result = fetch(retries=2)
    assert result.outcome == "failed" and result.reason == reason and result.status is None
    assert result.attempts == 3 and is_transient(result)


def test_timeout_then_success(httpx_mock: HTTPXMock, clock: VirtualClock) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("timed out"), url=URL)
    httpx_mock.add_response(url=URL, content=HTML, headers={"Content-Type": "text/html"})
    result = fetch()
    assert result.ok and result.attempts == 2


def test_retries_zero_leaves_retrying_to_the_caller(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=503)
    result = fetch(retries=0)
    assert result.reason == "http 503" and result.attempts == 1 and is_transient(result)
    assert is_transient(FetchFailed(result))


def test_is_transient_classification() -> None:
    for status in (408, 429, 500, 502, 503, 504):
        assert is_transient(status)
    for status in (200, 301, 304, 400, 401, 403, 404, 410, 451, 501):
        assert not is_transient(status)
    request = httpx.Request("GET", URL)
    assert is_transient(httpx.ConnectTimeout("x"))
    assert is_transient(httpx.ReadError("reset"))
    assert is_transient(httpx.HTTPStatusError("x", request=request, response=httpx.Response(502, request=request)))
    assert not is_transient(httpx.HTTPStatusError("x", request=request, response=httpx.Response(404, request=request)))
    assert not is_transient(ValueError("bug"))
    assert not is_transient(True)
    ok = FetchResult(URL, URL, 200, {}, b"", "ok")
    assert not is_transient(ok)


def test_retry_delay_backoff_jitter_and_cap() -> None:
    cfg = FetchConfig(backoff_base=1.0, backoff_max=10.0, jitter=0.5, retry_after_cap=120.0)
    for attempt, base in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)):
        delays = [retry_delay(attempt, None, cfg) for _ in range(50)]
        assert all(base <= d <= base * 1.5 for d in delays), (attempt, delays)
    assert len({retry_delay(1, None, cfg) for _ in range(20)}) > 1  # jitter spreads retries
    assert retry_delay(1, 30.0, cfg) == 30.0
    assert retry_delay(1, 3600.0, cfg) == 120.0
    assert retry_delay(3, 0.0, cfg) == 0.0


def test_parse_retry_after() -> None:
    now = datetime(2022, 2, 9, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 5 ") == 5.0
    assert parse_retry_after("Wed, 09 Feb 2022 10:01:30 GMT", now=now) == 90.0
    assert parse_retry_after("Wed, 09 Feb 2022 09:00:00 GMT", now=now) == 0.0
    for bad in (None, "", "soon", "-5", "nan"):
        assert parse_retry_after(bad) is None


def test_config_rejects_nonsense() -> None:
    for bad in ({"per_host_concurrency": 0}, {"max_bytes": 0}, {"retries": -1}, {"read_timeout": 0}, {"per_host_delay": -1}):
        with pytest.raises(ValueError):
            FetchConfig(**bad)


def test_fetcher_must_be_opened() -> None:
    with pytest.raises(RuntimeError, match="not open"):
        asyncio.run(Fetcher(config()).fetch(URL))


# --- robots.txt ----------------------------------------------------------------------------------


ROBOTS_TXT = b"""User-agent: *
Disallow: /private/
Crawl-delay: 5
Sitemap: https://news.example/sitemap.xml

User-agent: otherbot
Disallow: /
"""


def test_robots_disallowed_path_is_never_requested(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url="https://news.example/robots.txt", content=ROBOTS_TXT, headers={"Content-Type": "text/plain"})
    httpx_mock.add_response(url="https://news.example/public", content=HTML, headers={"Content-Type": "text/html"})
    results = fetch_all(
        ["https://news.example/private/a", "https://news.example/public", "https://news.example/private/b"],
        config(obey_robots=True, max_crawl_delay=0),
    )
    by_url = {r.url: r for r in results}
    assert by_url["https://news.example/public"].ok
    for path in ("a", "b"):
        denied = by_url[f"https://news.example/private/{path}"]
        assert denied.outcome == "failed" and denied.reason == "robots.txt disallows" and denied.attempts == 1
        assert not is_transient(denied)
    requested = [str(r.url) for r in httpx_mock.get_requests()]
    assert requested.count("https://news.example/robots.txt") == 1  # cached for the host
    assert not any("/private/" in u for u in requested)


def test_robots_group_for_our_token_applies(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url="https://news.example/robots.txt", content=ROBOTS_TXT)
    result = fetch(obey_robots=True, user_agent="OtherBot/1.0 (+https://other.example)")
    assert result.reason == "robots.txt disallows"
    assert [str(r.url) for r in httpx_mock.get_requests()] == ["https://news.example/robots.txt"]


@pytest.mark.parametrize("status", [404, 403, 410])
def test_robots_4xx_allows_everything(httpx_mock: HTTPXMock, status: int) -> None:
    httpx_mock.add_response(url="https://news.example/robots.txt", status_code=status)
    httpx_mock.add_response(url=URL, content=HTML, headers={"Content-Type": "text/html"})
    assert fetch(obey_robots=True).ok


def test_robots_5xx_disallows_the_whole_host(httpx_mock: HTTPXMock, clock: VirtualClock) -> None:
    httpx_mock.add_response(url="https://news.example/robots.txt", status_code=503, is_reusable=True)
    results = fetch_all([URL, URL + "/2"], config(obey_robots=True, retries=1))
    for result in results:
        assert result.outcome == "failed"
        assert result.reason == "robots.txt unavailable (http 503): host disallowed"
    requested = [str(r.url) for r in httpx_mock.get_requests()]
    assert requested == ["https://news.example/robots.txt"] * 2  # robots.txt itself retried once, no page asked


def test_robots_unreachable_disallows(httpx_mock: HTTPXMock, clock: VirtualClock) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), url="https://news.example/robots.txt", is_reusable=True)
    result = fetch(obey_robots=True, retries=0)
    assert result.reason.startswith("robots.txt unavailable (connection error: ConnectError: refused)")


def test_robots_redirect_is_followed(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url="https://news.example/robots.txt", status_code=301, headers={"Location": "https://cdn.example/robots.txt"})
    httpx_mock.add_response(url="https://cdn.example/robots.txt", content=b"User-agent: *\nDisallow: /story\n")
    assert fetch(obey_robots=True).reason == "robots.txt disallows"


def test_crawl_delay_spaces_requests_to_the_host(httpx_mock: HTTPXMock, clock: VirtualClock) -> None:
    httpx_mock.add_response(url="https://news.example/robots.txt", content=ROBOTS_TXT)
    httpx_mock.add_response(url=re.compile(r"https://news\.example/p\d"), content=HTML, headers={"Content-Type": "text/html"}, is_reusable=True)
    results = fetch_all([f"https://news.example/p{i}" for i in range(3)], config(obey_robots=True, per_host_delay=1.0))
    assert all(r.ok for r in results)
    # Crawl-delay 5 beats per_host_delay 1: the pages start 5, 10 and 15 s after robots.txt.
    assert clock.wakes == [pytest.approx(5), pytest.approx(10), pytest.approx(15)]


def test_crawl_delay_is_capped(httpx_mock: HTTPXMock, clock: VirtualClock) -> None:
    httpx_mock.add_response(url="https://news.example/robots.txt", content=b"User-agent: *\nCrawl-delay: 86400\n")
    httpx_mock.add_response(url=URL, content=HTML, headers={"Content-Type": "text/html"})
    assert fetch(obey_robots=True, max_crawl_delay=30).ok
    assert clock.wakes == [pytest.approx(30)]


# --- politeness ----------------------------------------------------------------------------------


def test_per_host_delay_spaces_request_starts(httpx_mock: HTTPXMock, clock: VirtualClock) -> None:
    httpx_mock.add_response(url=re.compile(r"https://(a|b)\.example/\d"), content=HTML, headers={"Content-Type": "text/html"}, is_reusable=True)
    urls = [f"https://a.example/{i}" for i in range(3)] + ["https://b.example/0"]
    results = fetch_all(urls, config(per_host_delay=2.0, per_host_concurrency=1))
    assert all(r.ok for r in results)
    # a.example: 0, 2, 4 s; b.example starts at once (no wait recorded for first requests).
    assert sorted(clock.wakes) == [pytest.approx(2), pytest.approx(4)]


def test_fetch_many_keeps_per_host_and_global_limits(httpx_mock: HTTPXMock) -> None:
    current: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    in_flight = [0, 0]  # now, peak

    async def slow_page(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        current[host] += 1
        in_flight[0] += 1
        peak[host] = max(peak[host], current[host])
        in_flight[1] = max(in_flight[1], in_flight[0])
        await asyncio.sleep(0.01)
        current[host] -= 1
        in_flight[0] -= 1
        return httpx.Response(200, content=HTML, headers={"Content-Type": "text/html"})

    httpx_mock.add_callback(slow_page, is_reusable=True)
    urls = [f"https://h{h}.example/{i}" for i in range(6) for h in range(4)]
    results = fetch_all(urls, config(per_host_concurrency=2, global_concurrency=5))
    assert sorted(r.url for r in results) == sorted(urls) and all(r.ok for r in results)
    assert max(peak.values()) == 2  # reached, never exceeded
    assert in_flight[1] == 5


def test_fetch_many_uses_validators_for(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=304)
    httpx_mock.add_response(url=URL + "/new", content=HTML, headers={"Content-Type": "text/html"})

    async def go() -> list[FetchResult]:
        async with Fetcher(config()) as fetcher:
            stored = {URL: Validators('"v1"')}
            return [r async for r in fetcher.fetch_many([URL, URL + "/new"], stored)]

    results = {r.url: r for r in asyncio.run(go())}
    assert results[URL].outcome == "not_modified" and results[URL + "/new"].ok
    assert httpx_mock.get_requests(url=URL)[0].headers["If-None-Match"] == '"v1"'
    assert "If-None-Match" not in httpx_mock.get_requests(url=URL + "/new")[0].headers
