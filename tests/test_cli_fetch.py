"""`pagescrub run` fetching from the web: the real console script against fault-injecting sites on 127.0.0.1.

The sites (tests/sitesim.py) log every request and the most requests each saw
at once, so the tests can say what the crawler did to them, not only what it
reported. Nothing leaves the machine: every URL is on 127.0.0.1, which is why
each command passes --allow-private-addresses (the SSRF guard's own test
checks it stays shut without the flag).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from pagescrub.flows.fetching import FETCH_BATCH_SIZE
from pagescrub.flows.scrape import DEFAULT_BATCH_SIZE
from pagescrub.tasks.record import validate_record
from pagescrub.tasks.urls import short_page_name
from tests.conftest import SEEDS
from tests.sitesim import Page, Site, SiteSim, article_html

pytestmark = pytest.mark.prefect

EXE = str(Path(sys.executable).with_name("pagescrub"))
PER_HOST = 2
# Quick but real: no host delay, fast retries, a read timeout the slow page exceeds.
FAST = [
    "--per-host-delay", "0", "--per-host-concurrency", str(PER_HOST), "--global-concurrency", "8",
    "--timeout", "0.5", "--retries", "2", "--retry-backoff", "0.01", "--max-bytes", "100000",
    "--allow-private-addresses", "--no-progress",
]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert Path(EXE).exists(), "the pagescrub console script is not installed"
    return subprocess.run([EXE, "run", *args], env=env, capture_output=True, check=False, text=True, timeout=300)


def _manifests(runs: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in runs.glob("*.json")}


def _new_manifest(runs: Path, before: dict[str, dict]) -> dict:
    (name,) = set(_manifests(runs)) - set(before)
    return json.loads((runs / name).read_text(encoding="utf-8"))


def _records(out: Path) -> dict[str, dict]:
    """Records by the URL they were fetched from (``source.location``)."""
    recs = {}
    for path in (out / "articles").rglob("*.json"):
        rec = json.loads(path.read_text(encoding="utf-8"))
        recs[rec["source"]["location"]] = rec
    return recs


def sitemap(urls: list[tuple[str, str]]) -> bytes:
    items = "".join(f"<url><loc>{u}</loc><lastmod>{d}</lastmod></url>" for u, d in urls)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'.encode()


def _news_site(sim: SiteSim) -> Site:
    """robots.txt keeping us out of /private/; a sitemap index with a gzipped child; ten dated stories."""
    news = sim.site("news")
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
    return news


def _blog_site(sim: SiteSim) -> Site:
    blog = sim.site("blog")
    posts = [blog.add(f"/posts/{i}", article_html(f"Blog post {i}")) for i in range(1, 5)]
    items = "".join(
        f"<item><title>Post {i}</title><link>{u}</link><pubDate>Wed, 0{i} Feb 2022 08:00:00 GMT</pubDate></item>"
        for i, u in enumerate(posts, 1)
    )
    blog.add("/rss.xml", Page(f'<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>{items}</channel></rss>'.encode(), "application/rss+xml", validators=False))
    blog.add("/robots.txt", Page(b"User-agent: *\nAllow: /\n", "text/plain", validators=False))
    return blog


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's proxy settings must not route these 127.0.0.1 requests elsewhere (the CLI inherits os.environ)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sim():
    with SiteSim(latency=0.05) as sim:
        _news_site(sim)
        _blog_site(sim)
        flaky = sim.site("flaky")
        flaky.add("/retry-after", Page(article_html("Busy then fine"), fault="retry_after_once"))
        flaky.add("/slow", Page(article_html("Too slow"), fault="slow", slow_seconds=2.0))
        flaky.add("/gone", Page(b"gone", status=410, validators=False))
        flaky.add("/image.png", Page(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png"))
        flaky.add("/big", Page(article_html("Huge", paragraphs=800)))
        flaky.add("/old-address", Page(b"", status=301, headers={"Location": "/new-address"}, validators=False))
        flaky.add("/new-address", Page(article_html("Moved story")))
        down = sim.site("down")
        down.add("/robots.txt", Page(b"maintenance", "text/plain", status=503, validators=False))
        down.add("/a", article_html("Unreachable A"))
        yield sim


def test_sitemap_feed_and_urls_end_to_end_then_conditional_rerun(sim: SiteSim, tmp_path: Path, cli_env: dict[str, str]) -> None:
    news, blog, flaky, down = (sim.sites[n] for n in ("news", "blog", "flaky", "down"))
    given = [flaky.url(p) for p in ("/retry-after", "/slow", "/gone", "/missing", "/image.png", "/big", "/old-address")]
    given.append(down.url("/a"))
    out = tmp_path / "out"
    args = [*given, "--sitemap", news.url("/sitemap_index.xml"), "--feed", blog.url("/rss.xml"), "--out", str(out), *FAST]

    first = _run(args, cli_env)
    assert first.returncode == 1, first.stderr[-3000:]  # some pages cannot be fetched
    manifest = _new_manifest(out / "runs", {})
    by_input = {p["input"]: p for p in manifest["pages"]}

    news_pages = [news.url(f"/news/{i}") for i in range(1, 11)]
    blog_pages = [blog.url(f"/posts/{i}") for i in range(1, 5)]
    fetchable = news_pages + blog_pages + [flaky.url("/retry-after"), flaky.url("/old-address")]
    expected_failures = {
        flaky.url("/slow"): "timeout after 3 attempts",
        flaky.url("/gone"): "http 410",
        flaky.url("/missing"): "http 404",
        flaky.url("/image.png"): "content type image/png refused",
        flaky.url("/big"): "too large: over 100000 bytes",
        news.url("/private/secret"): "robots.txt disallows",
        down.url("/a"): "robots.txt unavailable (http 503): host disallowed",
    }
    # Every URL found (given, in the gzipped child sitemap and the plain one, in the feed) is in the manifest once.
    assert sorted(by_input) == sorted(fetchable + list(expected_failures))
    assert len(manifest["pages"]) == len(by_input)
    assert manifest["counts"] == {"pages": 23, "written": 16, "unchanged": 0, "failed": 7, "replaced": 0}
    assert manifest["fetch"]["discovered"] == 23 and manifest["fetch"]["mode"] == "batched"
    assert manifest["fetch"]["batch_size"] == FETCH_BATCH_SIZE
    assert manifest["timings"]["batch_size"] == FETCH_BATCH_SIZE  # fetched pages' default, not the saved ones'

    records = _records(out)
    assert sorted(records) == sorted(fetchable)
    for url, rec in records.items():
        validate_record(rec)
        assert rec["source"]["kind"] == "http" and by_input[url]["status"] == "written"
        assert rec["word_count"] > 50 and rec["title"]
    assert records[flaky.url("/old-address")]["url"] == flaky.url("/new-address")  # the final URL is recorded
    assert records[news.url("/news/3")]["title"] == "News story 3"
    assert by_input[flaky.url("/retry-after")]["attempts"] == 2  # 503 + Retry-After, then 200

    failed_records = [json.loads(p.read_text()) for p in (out / "failed").rglob("*.json")]
    assert sorted(f["source"]["location"] for f in failed_records) == sorted(expected_failures)
    for url, reason in expected_failures.items():
        entry = by_input[url]
        assert entry["status"] == "failed" and entry["stage"] == "fetch", entry
        assert entry["reason"].startswith(reason), (url, entry["reason"])
    assert manifest["failure_reasons"]["http 404"] == 1
    assert by_input[flaky.url("/gone")]["http_status"] == 410

    # Raw snapshots of fetched pages, so `reclean` can work without network.
    metas = [json.loads(p.read_text()) for p in (out / "raw").rglob("*.json")]
    assert sorted(m["location"] for m in metas) == sorted(fetchable)
    assert {m["kind"] for m in metas} == {"http"} and {m["ext"] for m in metas} == {"html"}

    # What the sites saw: disallowed pages never requested, a host whose robots.txt fails left alone,
    # permanent failures asked once, the per-host limit never exceeded (and reached where there was work).
    assert news.requests("/private/secret") == []
    assert {r.path for r in down.requests()} == {"/robots.txt"}
    assert len(flaky.requests("/gone")) == 1 and len(flaky.requests("/missing")) == 1
    assert len(flaky.requests("/slow")) == 3
    peaks = sim.peak_concurrency()
    assert max(peaks.values()) <= PER_HOST and peaks["news"] == PER_HOST, peaks
    assert all(r.headers["user-agent"].startswith("pagescrub/") for r in sim.log)
    state = sorted(p.name for p in (out / "state").iterdir())
    assert "robots.json" in state and len([n for n in state if n.startswith("validators-")]) == 3  # news, blog, flaky

    # Second run: conditional requests, 304s reported unchanged, nothing extracted or rewritten.
    sim.clear_log()
    articles_before = {p: p.stat().st_mtime_ns for p in (out / "articles").rglob("*.json")}
    runs_before = _manifests(out / "runs")
    second = _run(args, cli_env)
    assert second.returncode == 1, second.stderr[-3000:]
    again = _new_manifest(out / "runs", runs_before)
    again_by_input = {p["input"]: p for p in again["pages"]}
    assert sorted(again_by_input) == sorted(by_input)
    for url in fetchable:
        entry = again_by_input[url]
        assert entry["status"] == "unchanged" and entry["http_status"] == 304, entry
        assert "words" not in entry  # no extraction
    assert again["counts"]["unchanged"] == 16 and again["counts"]["written"] == 0
    assert again["fetch"]["not_modified"] == 16
    conditional = [r for r in sim.log if r.path.startswith(("/news/", "/posts/"))]
    assert len(conditional) == 14
    assert all(r.headers.get("if-none-match", "").startswith('"') for r in conditional)
    assert all(r.headers.get("if-modified-since") == "Wed, 09 Feb 2022 10:00:00 GMT" for r in conditional)
    assert {p: p.stat().st_mtime_ns for p in (out / "articles").rglob("*.json")} == articles_before
    # The robots.txt cache was kept in state/: no site was asked for it again.
    assert [r for r in sim.log if r.path == "/robots.txt"] == []
    peaks = sim.peak_concurrency()
    assert max(peaks.values()) <= PER_HOST, peaks



def _task_runs(names: list[str], flow_run_prefix: str) -> dict[str, Any]:
    """The task runs of one flow run (by its id prefix, as in the run id) with these names."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName
    from prefect.client.schemas.sorting import TaskRunSort

    async def read() -> list[Any]:
        async with get_client() as client:
            return await client.read_task_runs(
                task_run_filter=TaskRunFilter(name=TaskRunFilterName(any_=names)), sort=TaskRunSort.EXPECTED_START_TIME_DESC, limit=50
            )

    return {r.name: r for r in asyncio.run(read()) if str(r.flow_run_id).startswith(flow_run_prefix)}


def test_per_page_tasks_are_retried_by_prefect(tmp_path: Path, cli_env: dict[str, str], prefect_api_url: str) -> None:
    out = tmp_path / "out"
    with SiteSim(latency=0.01) as sim:
        site = sim.site("shaky")
        site.add("/robots.txt", Page(b"User-agent: *\nAllow: /\n", "text/plain", validators=False))
        twice = site.add("/twice", Page(article_html("Back after two 503s"), fault="unavailable_twice"))
        never = site.add("/never", Page(article_html("Never back"), fault="unavailable"))
        missing = site.url("/missing")
        # 3 URLs: per page by default; with saved pages, cleaned in batches, in the same run.
        result = _run([str(SEEDS), twice, never, missing, "--out", str(out), *FAST], cli_env)
    assert result.returncode == 1, result.stderr[-3000:]
    manifest = _new_manifest(out / "runs", {})
    assert manifest["fetch"]["mode"] == "per-page tasks" and manifest["fetch"]["batch_size"] == 1
    assert manifest["timings"]["batch_size"] == DEFAULT_BATCH_SIZE  # the saved pages'
    assert manifest["counts"]["written"] == 5 + 1
    by_input = {p["input"]: p for p in manifest["pages"]}
    assert by_input[twice]["status"] == "written" and by_input[twice]["http_status"] == 200
    assert by_input[never]["reason"] == "http 503 after 3 attempts" and by_input[never]["stage"] == "fetch"
    assert by_input[missing]["reason"] == "http 404"
    assert [len(site.requests(p)) for p in ("/twice", "/never", "/missing")] == [3, 3, 1]  # --retries 2; 404 never retried

    # Task runs are named after the page's host and path (no scheme, never credentials).
    name = {u: f"fetch {short_page_name(u)}" for u in (twice, never, missing)}
    runs = _task_runs(list(name.values()), manifest["run_id"].rsplit("-", 1)[1])
    assert {n: r.run_count for n, r in runs.items()} == {name[twice]: 3, name[never]: 3, name[missing]: 1}
    assert name[twice] == f"fetch 127.0.0.1:{urlsplit(twice).port}/twice"
    assert runs[name[twice]].state.is_completed() and runs[name[never]].state.is_failed()
    assert _flow_run_state(runs[name[never]].flow_run_id).is_completed()  # a failed page is the manifest's news


def _flow_run_state(flow_run_id: Any) -> Any:
    from prefect.client.orchestration import get_client

    async def read() -> Any:
        async with get_client() as client:
            return (await client.read_flow_run(flow_run_id)).state

    return asyncio.run(read())


def test_private_addresses_are_refused_without_the_flag(tmp_path: Path, cli_env: dict[str, str]) -> None:
    out = tmp_path / "out"
    with SiteSim(latency=0.01) as sim:
        url = sim.site("intranet").add("/admin", article_html("Internal"))
        result = _run([url, "--out", str(out), "--no-progress", "--per-host-delay", "0"], cli_env)
    assert result.returncode == 1, result.stderr[-3000:]
    (entry,) = _new_manifest(out / "runs", {})["pages"]
    assert entry["stage"] == "fetch" and entry["reason"] == "address not allowed: 127.0.0.1"
    assert sim.log == []  # not even robots.txt


def test_since_until_filter_sitemap_entries_but_not_given_urls(tmp_path: Path, cli_env: dict[str, str]) -> None:
    out = tmp_path / "out"
    with SiteSim(latency=0.01) as sim:
        news = _news_site(sim)
        urls = tmp_path / "urls.txt"
        urls.write_text(f"# given URLs are never filtered by date\n{news.url('/news/1')}?utm_source=x\n\n", encoding="utf-8")
        result = _run(
            ["--sitemap", news.url("/sitemap_index.xml"), "--urls", str(urls), "--since", "2022-02-03", "--until", "2022-02-05",
             "--out", str(out), "--allow-failures", *FAST],
            cli_env,
        )
        assert result.returncode == 0, result.stderr[-3000:]  # the robots-disallowed page is allowed to fail
    manifest = _new_manifest(out / "runs", {})
    assert manifest["fetch"]["mode"] == "per-page tasks"  # 5 pages: one task run each
    assert manifest["fetch"]["batch_size"] == manifest["timings"]["batch_size"] == 1
    window = [news.url(f"/news/{i}") for i in (3, 4, 5)]
    by_input = {p["input"]: p for p in manifest["pages"]}
    assert sorted(by_input) == sorted([news.url("/news/1"), *window, news.url("/private/secret")])  # utm_ dropped
    assert sorted(_records(out)) == sorted([news.url("/news/1"), *window])
    fetched = {r.path for r in news.requests() if r.path.startswith(("/news/", "/private/"))}
    assert fetched == {"/news/1", "/news/3", "/news/4", "/news/5"}


def test_fetch_to_s3_then_reclean_without_network(
    tmp_path: Path, s3_cli_env: dict[str, str], moto_server: Any, s3_bucket: str
) -> None:
    from pagescrub.tasks.store import StoreOptions, open_store

    s3 = ["--s3-endpoint-url", moto_server.url, "--s3-addressing-style", "path"]
    out = f"s3://{s3_bucket}/web/"
    sim = SiteSim(latency=0.01)
    sim.start()
    try:
        blog = _blog_site(sim)
        other = sim.site("other")
        pages = [other.add(f"/story/{i}", article_html(f"Other story {i}")) for i in (1, 2)]
        (tmp_path / "urls.txt").write_text("\n".join(pages) + "\n", encoding="utf-8")
        result = _run(["--feed", blog.url("/rss.xml"), "--urls", str(tmp_path / "urls.txt"), "--out", out, *s3, *FAST], s3_cli_env)
        assert result.returncode == 0, result.stderr[-3000:]
    finally:
        sim.stop()  # from here on, any request to the sites would fail

    options = StoreOptions(endpoint_url=moto_server.url, addressing_style="path")
    store = open_store(out, options)
    records = {store.get_article(i)["source"]["location"]: store.get_article(i) for i in store.article_ids()}
    assert sorted(records) == sorted(pages + [blog.url(f"/posts/{i}") for i in range(1, 5)])
    for rec in records.values():
        validate_record(rec)
    keys = [o["Key"] for o in moto_server.client().list_objects_v2(Bucket=s3_bucket, Prefix="web/state/")["Contents"]]
    assert sorted(k.rsplit("/", 1)[1].split("-")[0] for k in keys) == ["dedupe", "robots.json", "validators", "validators"]

    recleaned = subprocess.run(
        [EXE, "reclean", out, "--out", f"s3://{s3_bucket}/web-v2/", *s3, "--no-progress"],
        env=s3_cli_env, capture_output=True, check=False, text=True, timeout=300,
    )
    assert recleaned.returncode == 0, recleaned.stderr[-3000:]
    copy = open_store(f"s3://{s3_bucket}/web-v2/", options)
    again = {copy.get_article(i)["source"]["location"]: copy.get_article(i) for i in copy.article_ids()}
    assert sorted(again) == sorted(records)
    for url, rec in records.items():
        assert {k: v for k, v in again[url].items() if k != "retrieved_at"} == {k: v for k, v in rec.items() if k != "retrieved_at"}


def test_usage_errors_exit_2_before_any_flow(tmp_path: Path) -> None:
    for args, message in (
        (["--urls", str(tmp_path / "nope.txt")], "no such file"),
        (["--sitemap", "https://example.org/s.xml", "--since", "yesterday"], "not a date"),
        ([], "give saved pages, URLs"),
    ):
        result = subprocess.run([EXE, "run", *args, "--out", str(tmp_path / "o")], capture_output=True, check=False, text=True, timeout=60)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
    assert not (tmp_path / "o").exists()


def test_help_documents_the_fetch_options() -> None:
    result = subprocess.run([EXE, "run", "--help"], capture_output=True, check=False, text=True, timeout=60, env={"COLUMNS": "200", "PATH": ""})
    assert result.returncode == 0
    for option in ("--urls", "--sitemap", "--feed", "--since", "--until", "--user-agent", "--per-host-concurrency",
                   "--per-host-delay", "--global-concurrency", "--timeout", "--retries", "--max-bytes", "--ignore-robots",
                   "--allow-private-addresses", "--per-page-tasks"):
        assert option in result.stdout, option


# -- the pieces under the flow, without Prefect ----------------------------------------------------


def _state(tmp_path: Path):
    from pagescrub.tasks.crawl import CrawlState
    from pagescrub.tasks.store import LocalStore

    store = LocalStore(tmp_path / "out")
    store.ensure()
    return store, CrawlState(store)


def test_validators_are_kept_only_for_pages_whose_record_is_stored(tmp_path: Path) -> None:
    from pagescrub.tasks.crawl import CrawlState, validators_state_name
    from pagescrub.tasks.fetch import Validators

    store, state = _state(tmp_path)
    v1 = {"etag": '"v1"', "last_modified": "Wed, 09 Feb 2022 10:00:00 GMT"}
    a, b, c, d, e = (f"https://a.example/{n}" for n in "abcde")
    state.load([a])
    for url in (a, b, c, d, e):
        state.settle({"input": url, "status": "written", "http_status": 200}, v1)
    state.settle({"input": b, "status": "unchanged", "http_status": 304}, None)  # 304: keep
    state.settle({"input": c, "status": "failed", "stage": "fetch", "http_status": 503, "reason": "http 503"}, None)  # may pass: keep
    state.settle({"input": d, "status": "failed", "stage": "fetch", "http_status": 410, "reason": "http 410"}, None)  # gone
    state.settle({"input": e, "status": "failed", "stage": "store", "http_status": 200, "reason": "store unavailable"}, v1)
    assert state.save() == 1  # one object for the origin, not one per URL
    assert state.save() == 0  # nothing changed since

    again = CrawlState(store)
    assert again.validators(a) is None  # not loaded yet: load reads each origin once
    assert again.load([a, b, "https://other.example/x"]) == 2
    assert again.validators(a) == again.validators(b) == again.validators(c) == Validators('"v1"', v1["last_modified"])
    assert again.validators(d) is None and again.validators(e) is None

    (tmp_path / "out" / "state" / validators_state_name("https://a.example")).write_text("{not json")
    broken = CrawlState(store)
    broken.load([a])
    assert broken.validators(a) is None  # unreadable state costs a full fetch, never the run


def test_robots_cache_round_trips_through_the_store(tmp_path: Path) -> None:
    from pagescrub.tasks.fetch import FetchConfig
    from pagescrub.tasks.robots import RobotsResponse, RobotsRules

    _store, state = _state(tmp_path)
    cache = state.load_robots(FetchConfig())
    assert len(cache) == 0
    cache.put(RobotsRules.from_response("https://a.example", RobotsResponse(200, b"User-agent: *\nDisallow: /x\n")))
    assert state.save_robots(cache) is True
    assert state.save_robots(cache) is False  # unchanged: not rewritten

    _, fresh = _state(tmp_path)
    restored = fresh.load_robots(FetchConfig())
    rules = restored.get("https://a.example/")
    assert rules is not None and not rules.allowed("https://a.example/x/1", "pagescrub")


def test_session_streams_every_result_once_in_bounded_batches() -> None:
    from pagescrub.tasks.crawl import FetchSession
    from pagescrub.tasks.fetch import FetchConfig

    with SiteSim(latency=0.0) as sim:
        site = sim.site("s")
        urls = [site.add(f"/p/{i}", b"<p>hello</p>") for i in range(30)]
        config = FetchConfig(per_host_delay=0, per_host_concurrency=4, obey_robots=False, allow_private_addresses=True)
        with FetchSession(config) as session:
            batches = list(session.stream(urls, lambda _u: None, batch_size=7, buffer=5, linger=0.5))
            # A consumer that stops early leaves nothing running.
            stream = session.stream(urls, lambda _u: None, batch_size=2, buffer=2)
            assert len(next(stream)) >= 1
            stream.close()
            assert session.fetch(urls[0]).ok  # the session is still usable
    assert all(1 <= len(b) <= 7 for b in batches)
    results = [r for b in batches for r in b]
    assert sorted(r.url for r in results) == sorted(urls) and all(r.ok for r in results)
