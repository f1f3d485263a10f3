"""Fetching inside the ``scrape`` flow: discover, fetch politely, clean, write, remember what servers said.

Where the fetching runs. One ``Fetcher`` serves the whole flow run, in an event
loop on its own thread (``FetchSession``); the task runner's workers only clean.
Fetching is I/O bound and async: one loop keeps up to ``global_concurrency``
requests in flight at no CPU cost. Cleaning is CPU bound: it runs in batch task
runs (their pages in the run's worker processes), while the loop goes on fetching (at most
``batch_size * max_in_flight`` fetched pages wait, so memory stays flat). A
Fetcher per batch task would be simpler and wrong: each would have its own
per-host slots, delays and robots.txt cache, so two batches in flight could
hit one host with twice its limit and read its robots.txt twice.

Retries, two ways:

* batched (the default above ``PER_PAGE_AUTO_MAX`` pages): the fetcher retries
  transient failures itself (exponential backoff with jitter, ``Retry-After``
  honoured); the attempts are in each page's manifest entry. One task run per
  page would cost 10-14 ms and several events each, too much for large runs.
* per page (``per_page_tasks``, automatic for small runs): each URL is a
  ``fetch-page`` task run with Prefect ``retries``, ``retry_delay_seconds``,
  ``retry_jitter_factor`` and ``retry_condition_fn`` (``is_transient``), and the
  fetcher makes one attempt per run, so a retried page shows as retried in the
  UI. The requests still go through the run's Fetcher: politeness is the same.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import Any, TypeVar

from prefect.futures import PrefectFuture

from pagescrub.tasks.batch import PageResult, clean_fetched, failed_page
from pagescrub.tasks.batch_tasks import clean_fetched_batch
from pagescrub.tasks.crawl import CrawlState, FetchSession, fetch_page, retry_transient
from pagescrub.tasks.discover import read_url_list
from pagescrub.tasks.fetch import FETCH_BATCH_SIZE, FetchConfig, FetchFailed, Validators
from pagescrub.tasks.load import PageInput
from pagescrub.tasks.store import Store
from pagescrub.tasks.urls import normalize_url

__all__ = ["FETCH_BATCH_SIZE", "PER_PAGE_AUTO_MAX", "fetch_pages", "prefect_retry_delays"]

#: Runs with at most this many pages use one task run per page (Prefect retries) unless told otherwise.
PER_PAGE_AUTO_MAX = 20

T = TypeVar("T")
Write = Callable[[list[PageResult]], list[dict[str, Any]]]


def prefect_retry_delays(config: FetchConfig) -> list[float]:
    """The fetcher's backoff schedule (without its jitter: Prefect adds its own) for ``retry_delay_seconds``."""
    return [min(config.backoff_max, config.backoff_base * 2**i) for i in range(config.retries)]


def fetch_pages(
    write: Write,
    store: Store,
    config: FetchConfig,
    *,
    urls: Iterable[str] = (),
    url_lists: Iterable[str] = (),
    sitemaps: Iterable[str] = (),
    feeds: Iterable[str] = (),
    sites: Iterable[str] = (),
    since: date | datetime | str | None = None,
    until: date | datetime | str | None = None,
    batch_size: int = FETCH_BATCH_SIZE,
    max_in_flight: int = 4,
    per_page_tasks: bool | None = None,
    refresh: bool = False,
    log: Any = None,
    pool: str | None = None,
) -> dict[str, Any]:
    """Fetch every page the sources name and pass each result to ``write``; returns the fetch statistics.

    Every URL found ends as one result: a record, ``unchanged`` (304), or a
    failure at stage ``fetch`` with the fetcher's reason. A source that gives
    no URLs (a sitemap that 404s, an unreadable URL list) is a failure at stage
    ``discover``. ``refresh`` sends no validators (every page fetched in full).
    ``pool`` names the run's cleaning processes (``tasks.batch.cleaning_pool``).
    """
    state = CrawlState(store)
    stats: Counter[str] = Counter()
    started = time.perf_counter()

    def write_fetched(results: list[PageResult]) -> None:
        for result in results:
            entry = result.entry
            if entry.get("stage") == "fetch":
                stats["failed"] += 1
            elif entry.get("http_status") == 304:
                stats["not_modified"] += 1
            else:
                stats["ok"] += 1
                stats["bytes"] += result.raw.meta.size if result.raw is not None else 0
        for result, entry in zip(results, write(results)):
            state.settle(entry, result.validators)

    given = list(urls)
    failures: list[tuple[str, str]] = []
    for path in url_lists:
        try:
            given.extend(read_url_list(path))
        except OSError as exc:
            failures.append((str(path), f"url list unreadable: {exc.strerror or exc}"))

    with FetchSession(config, state.load_robots(config)) as session:
        try:
            found, discovery_failures = session.discover(
                urls=given, sitemaps=sitemaps, feeds=feeds, sites=sites, since=since, until=until
            )
            failures.extend(discovery_failures)
            if failures:
                write([failed_page(_source(url), "discover", reason) for url, reason in failures])
            state.load(found)
            lookup: Callable[[str], Validators | None] = (lambda _url: None) if refresh else state.validators
            per_page = per_page_tasks if per_page_tasks is not None else len(found) <= PER_PAGE_AUTO_MAX
            if log is not None:
                log.info(
                    "%d pages to fetch (%d sources failed), %s", len(found), len(failures),
                    "one task run per page (Prefect retries)" if per_page else f"in batches of {batch_size}",
                )
            fetch_started = time.perf_counter()
            if per_page:
                _per_page(session, found, lookup, write_fetched, config, max_in_flight)
                fetch_seconds = time.perf_counter() - fetch_started
            else:
                fetch_seconds = (
                    _batched(session, found, lookup, write_fetched, batch_size, max_in_flight, pool) - fetch_started
                )
        finally:
            saved = state.save()
            robots_saved = state.save_robots(session.robots)

    fetched = stats["ok"] + stats["not_modified"] + stats["failed"]
    return {
        "mode": "per-page tasks" if per_page else "batched",
        "batch_size": 1 if per_page else batch_size,
        "discovered": len(found),
        "sources_failed": len(failures),
        "fetched": fetched,
        "ok": stats["ok"],
        "not_modified": stats["not_modified"],
        "failed": stats["failed"],
        "bytes": stats["bytes"],
        "seconds": round(fetch_seconds, 3),
        "pages_per_second": round(fetched / fetch_seconds, 2) if fetch_seconds > 0 else None,
        "total_seconds": round(time.perf_counter() - started, 3),
        "state_objects_written": saved + robots_saved,
    }


def _source(url: str) -> PageInput:
    """A sitemap, feed, site or URL list that failed, as a manifest input."""
    is_url = url.lower().startswith(("http://", "https://"))
    return PageInput(location=url, kind="http" if is_url else "file", url=normalize_url(url) if is_url else None, key=url)


def _batched(
    session: FetchSession,
    urls: list[str],
    lookup: Callable[[str], Validators | None],
    write: Callable[[list[PageResult]], None],
    batch_size: int,
    max_in_flight: int,
    pool: str | None = None,
) -> float:
    """Fetch in the session's loop; clean pages with a body in batch task runs, write the rest at once.

    Returns when the last page was fetched (``perf_counter``), for the fetch rate.
    """
    fetched_at = time.perf_counter()

    def with_body() -> Iterator[list[Any]]:
        nonlocal fetched_at
        stream = session.stream(urls, lookup, batch_size=batch_size, buffer=batch_size * max(1, max_in_flight))
        for results in stream:
            fetched_at = time.perf_counter()
            body = [r for r in results if r.ok]
            settled = [clean_fetched(r) for r in results if not r.ok]  # 304s and failures: nothing to clean
            if settled:
                write(settled)
            if body:
                yield body

    from pagescrub.flows.scrape import cleaned  # scrape imports this module

    for results in cleaned(lambda i, batch: clean_fetched_batch.submit(i, batch, pool), with_body(), max_in_flight):
        write(results)
    return fetched_at


def _per_page(
    session: FetchSession,
    urls: list[str],
    lookup: Callable[[str], Validators | None],
    write: Callable[[list[PageResult]], None],
    config: FetchConfig,
    max_in_flight: int,
) -> None:
    """One ``fetch-page`` task run per URL, retried by Prefect while the failure is transient."""
    page_task = fetch_page.with_options(
        retries=config.retries,
        retry_delay_seconds=prefect_retry_delays(config) or 0,
        retry_jitter_factor=config.jitter or None,
        retry_condition_fn=retry_transient,
    )

    def submit(_index: int, url: str) -> PrefectFuture[PageResult]:
        validators = lookup(url)
        return page_task.submit(url, validators.to_dict() if validators else None, session.id)

    for url, future in _completed(submit, urls, max_in_flight):
        try:
            result = future.result()
        except FetchFailed as exc:  # transient, and Prefect's retries are spent
            result = clean_fetched(exc.result)
        except Exception as exc:  # noqa: BLE001 - one page's bug must not end the run
            result = failed_page(_source(url), "fetch", f"internal error: {type(exc).__name__}: {exc}"[:500])
        write([result])


def _completed(
    submit: Callable[[int, T], PrefectFuture[Any]], items: Iterable[T], max_in_flight: int
) -> Iterator[tuple[T, PrefectFuture[Any]]]:
    """Submit ``items``, at most ``max_in_flight`` at once; yield each with its future as it finishes."""
    from pagescrub.flows.scrape import completed_in_turn  # scrape imports this module

    return completed_in_turn(submit, items, max_in_flight)
