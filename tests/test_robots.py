"""robots.txt rules and their cache, without a network: RFC 9309 status handling, TTLs, persistence."""

from __future__ import annotations

import asyncio
import json

import pytest

from pagescrub.tasks.robots import (
    ROBOTS_MAX_BYTES,
    RobotsCache,
    RobotsResponse,
    RobotsRules,
    origin_of,
    product_token,
    robots_url,
)

UA = "pagescrub/0.1.0 (+https://github.com/pagescrub/pagescrub)"
ORIGIN = "https://news.example"

TEXT = b"""# comment
User-agent: *
Disallow: /private/
Allow: /private/open
Crawl-delay: 2.5
Sitemap: https://news.example/sitemap.xml
Sitemap: https://news.example/news.xml

User-agent: pagescrub
Disallow: /no-scrub/
"""


def rules(status: int | None, body: bytes = b"", error: str | None = None, now: float = 0.0) -> RobotsRules:
    return RobotsRules.from_response(ORIGIN, RobotsResponse(status, body, error), now=now)


@pytest.mark.parametrize(
    "url, origin",
    [
        ("https://News.Example/a/b?c=1", "https://news.example"),
        ("https://news.example:443/x", "https://news.example"),
        ("http://news.example:80/x", "http://news.example"),
        ("http://news.example:8080/x", "http://news.example:8080"),
        ("http://[::1]:8000/x", "http://[::1]:8000"),
    ],
)
def test_origin_is_scheme_host_and_port(url: str, origin: str) -> None:
    assert origin_of(url) == origin
    assert robots_url(url) == origin + "/robots.txt"


def test_product_token() -> None:
    assert product_token(UA) == "pagescrub"
    assert product_token("MyBot") == "MyBot"
    assert product_token("My Bot/2") == "My"


def test_parsed_rules_most_specific_group_wins() -> None:
    r = rules(200, TEXT)
    assert r.kind == "rules"
    # Our own group replaces '*' entirely (RFC 9309 §2.2.1).
    assert not r.allowed("https://news.example/no-scrub/a", UA)
    assert r.allowed("https://news.example/private/a", UA)
    other = "otherbot/1.0"
    assert not r.allowed("https://news.example/private/a", other)
    assert r.allowed("https://news.example/private/open", other)  # longest match wins
    assert r.allowed("https://news.example/no-scrub/a", other)


def test_crawl_delay_and_sitemaps() -> None:
    r = rules(200, TEXT)
    assert r.crawl_delay("otherbot") == 2.5
    assert r.crawl_delay(UA) is None  # our group has none
    assert r.sitemaps == ["https://news.example/sitemap.xml", "https://news.example/news.xml"]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 451, 301])
def test_unavailable_robots_allows_everything(status: int) -> None:
    r = rules(status)
    assert r.kind == "allow_all" and r.reason == f"http {status}"
    assert r.allowed("https://news.example/anything", UA)
    assert r.crawl_delay(UA) is None and r.sitemaps == []


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_unreachable_robots_disallows_everything(status: int) -> None:
    r = rules(status)
    assert r.kind == "disallow_all" and r.reason == f"http {status}"
    assert not r.allowed("https://news.example/", UA)
    assert not r.allowed("https://news.example/page", UA)


def test_no_response_disallows_everything() -> None:
    r = rules(None, error="connection error: refused")
    assert r.kind == "disallow_all" and r.reason == "connection error: refused"
    assert not r.allowed("https://news.example/page", UA)


def test_content_past_500_kib_is_ignored() -> None:
    padding = b"# " + b"x" * ROBOTS_MAX_BYTES + b"\n"
    r = rules(200, b"User-agent: *\nDisallow: /early/\n" + padding + b"Disallow: /late/\n")
    assert not r.allowed("https://news.example/early/a", UA)
    assert r.allowed("https://news.example/late/a", UA)


def test_garbage_body_is_parsed_leniently() -> None:
    r = rules(200, b"\xff\xfe<html>not robots</html>\x00")
    assert r.kind == "rules" and r.allowed("https://news.example/a", UA)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_cache_fetches_once_per_origin_even_when_asked_concurrently() -> None:
    calls: list[str] = []

    async def fetch(url: str) -> RobotsResponse:
        calls.append(url)
        await asyncio.sleep(0.01)
        return RobotsResponse(200, TEXT)

    async def go() -> list[RobotsRules]:
        cache = RobotsCache()
        urls = [f"https://news.example/{i}" for i in range(5)] + ["https://news.example:8443/x"]
        return await asyncio.gather(*(cache.rules_for(u, fetch) for u in urls))

    results = asyncio.run(go())
    assert calls == ["https://news.example/robots.txt", "https://news.example:8443/robots.txt"]
    assert len({id(r) for r in results[:5]}) == 1


def test_cache_expires_after_ttl_and_errors_sooner() -> None:
    clock = Clock()
    cache = RobotsCache(ttl=24 * 3600, error_ttl=600, clock=clock)
    cache.put(RobotsRules.from_response(ORIGIN, RobotsResponse(200, TEXT), now=clock.now))
    cache.put(RobotsRules.from_response("https://down.example", RobotsResponse(503), now=clock.now))
    clock.now += 599
    assert cache.get("https://news.example/a") is not None
    assert cache.get("https://down.example/a") is not None
    clock.now += 2
    assert cache.get("https://down.example/a") is None  # a 503 is re-checked after 10 minutes
    clock.now += 24 * 3600
    assert cache.get("https://news.example/a") is None  # a good file after a day


def test_expired_rules_are_refetched() -> None:
    clock = Clock()
    cache = RobotsCache(ttl=100, clock=clock)
    bodies = [b"User-agent: *\nDisallow: /a\n", b"User-agent: *\nDisallow: /b\n"]

    async def fetch(url: str) -> RobotsResponse:
        return RobotsResponse(200, bodies.pop(0))

    async def go() -> tuple[bool, bool]:
        first = await cache.rules_for("https://news.example/x", fetch)
        clock.now += 101
        second = await cache.rules_for("https://news.example/x", fetch)
        return first.allowed("https://news.example/b", UA), second.allowed("https://news.example/b", UA)

    assert asyncio.run(go()) == (True, False)


def test_cache_round_trips_through_json() -> None:
    clock = Clock()
    cache = RobotsCache(clock=clock)
    cache.put(RobotsRules.from_response(ORIGIN, RobotsResponse(200, TEXT), now=clock.now))
    cache.put(RobotsRules.from_response("https://gone.example", RobotsResponse(404), now=clock.now))
    cache.put(RobotsRules.from_response("https://old.example", RobotsResponse(404), now=clock.now - 2 * 24 * 3600))
    state = json.loads(json.dumps(cache.to_dict()))
    assert {e["origin"] for e in state["origins"]} == {ORIGIN, "https://gone.example"}  # stale entries not saved

    restored = RobotsCache.from_dict(state, clock=clock)
    assert len(restored) == 2
    news = restored.get("https://news.example/page")
    assert news is not None and news.fetched_at == clock.now
    assert not news.allowed("https://news.example/no-scrub/1", UA)
    assert news.sitemaps == ["https://news.example/sitemap.xml", "https://news.example/news.xml"]
    assert restored.get("https://gone.example/x").kind == "allow_all"


def test_from_dict_skips_unreadable_entries() -> None:
    state = {"origins": [{"origin": ORIGIN, "kind": "bogus"}, {"kind": "rules"}, "junk", {"origin": ORIGIN, "kind": "allow_all", "fetched_at": 1.0}]}
    cache = RobotsCache.from_dict(state, clock=lambda: 2.0)
    assert len(cache) == 1 and cache.get(ORIGIN + "/").kind == "allow_all"
    assert len(RobotsCache.from_dict(None)) == 0
