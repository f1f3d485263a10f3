"""What fetching needs around the ``Fetcher``: state kept in the store, one event loop for the run, the page task.

``CrawlState`` keeps, in the output store's ``state/``, what makes the next
run cheaper and politer::

    state/robots.json                 the robots.txt cache (RobotsCache.to_dict), one object, read once a run
    state/validators-<h>.json         ETag / Last-Modified of the pages of one origin, h = sha256(origin)[:16]

Validators are sharded by origin, not stored one object per URL, so a run over
N pages of H sites costs H reads, not N (on S3, every read is a request). They
are written back at the end of the run, for the origins that changed, and only
for pages whose record is in the store: a 304 must never hide a page that was
not written.

``FetchSession`` runs the run's single ``Fetcher`` in an event loop on a thread
of its own. The flow is synchronous and its tasks run on a thread pool, but
politeness (per-host slots and delays, the robots.txt cache) holds only if every
request of the run goes through one Fetcher, whose asyncio state lives in one
loop. The flow thread and the task threads call into that loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from datetime import date, datetime
from typing import Any, ClassVar, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE

from .batch import PageResult, clean_fetched
from .discover import discover
from .fetch import FetchConfig, Fetcher, FetchFailed, FetchResult, Validators, is_transient
from .robots import RobotsCache, origin_of
from .store import Store, StoreError
from .urls import page_task_run_name

__all__ = [
    "ROBOTS_STATE",
    "CrawlState",
    "FetchSession",
    "fetch_page",
    "retry_transient",
    "validators_state_name",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

ROBOTS_STATE = "robots.json"
_STATE_VERSION = 1
# Statuses that say the page is gone: what we knew about it is of no use any more.
_GONE = frozenset({404, 410})


def validators_state_name(origin: str) -> str:
    """The state object holding one origin's validators (a hash: origins may contain anything)."""
    return f"validators-{hashlib.sha256(origin.encode('utf-8')).hexdigest()[:16]}.json"


def _origin(url: str) -> str | None:
    try:
        return origin_of(url)
    except ValueError:
        return None


class CrawlState:
    """Validators per URL and the robots.txt cache, read from and written back to ``store``'s ``state/``.

    Unreadable state is treated as absent (the pages are fetched in full) and a
    state write that fails is logged, never fatal: state only saves work.
    """

    def __init__(self, store: Store, *, threads: int | None = None) -> None:
        self.store = store
        self.threads = max(1, threads or store.options.max_concurrency)
        self._pages: dict[str, dict[str, dict[str, str]]] = {}  # origin -> url -> Validators.to_dict()
        self._dirty: set[str] = set()
        self._robots_loaded: bytes | None = None
        self._lock = threading.Lock()

    # validators --------------------------------------------------------------------------

    def load(self, urls: Iterable[str]) -> int:
        """Read the validators of every origin among ``urls`` not read yet; returns how many were read."""
        origins = sorted({o for u in urls if (o := _origin(u)) and o not in self._pages})
        if not origins:
            return 0
        with ThreadPoolExecutor(max_workers=min(self.threads, len(origins)), thread_name_prefix="state-read") as pool:
            for origin, pages in zip(origins, pool.map(self._read, origins)):
                self._pages[origin] = pages
        return len(origins)

    def _read(self, origin: str) -> dict[str, dict[str, str]]:
        name = validators_state_name(origin)
        try:
            data = self.store.get_state(name)
        except (StoreError, OSError) as exc:
            logger.warning("state %s unreadable (%s): fetching %s in full", name, getattr(exc, "reason", exc), origin)
            return {}
        if data is None:
            return {}
        try:
            obj = json.loads(data)
            if obj.get("origin") != origin:
                raise ValueError(f"names origin {obj.get('origin')!r}")
            pages = obj["pages"]
            return {str(url): dict(v) for url, v in pages.items() if isinstance(v, dict) and Validators.from_dict(v)}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            logger.warning("state %s corrupt (%s): fetching %s in full", name, exc, origin)
            return {}

    def validators(self, url: str) -> Validators | None:
        """What to send with ``url`` for a conditional GET (call ``load`` first)."""
        origin = _origin(url)
        pages = self._pages.get(origin) if origin else None
        return Validators.from_dict(pages.get(url)) if pages else None

    def settle(self, entry: dict[str, Any], validators: dict[str, str] | None) -> None:
        """Update ``entry``'s page from its final manifest entry (after the write) and the fetch's validators.

        Kept only when the record is in the store (written, or unchanged); a 304
        keeps the old ones; a page gone (404, 410), or one whose record could not
        be made or written, loses them, so the next run fetches it in full.
        """
        url = entry.get("input")
        http = entry.get("http_status")
        if not isinstance(url, str) or http == 304:
            return
        if entry.get("status") in ("written", "unchanged") and isinstance(http, int) and 200 <= http < 300:
            self._set(url, validators)
        elif entry.get("stage") == "fetch" and http not in _GONE:
            return  # refused or may pass: what we knew still holds
        else:
            self._set(url, None)

    def _set(self, url: str, validators: dict[str, str] | None) -> None:
        origin = _origin(url)
        if origin is None:
            return
        with self._lock:
            pages = self._pages.setdefault(origin, {})
            if validators:
                if pages.get(url) != validators:
                    pages[url] = dict(validators)
                    self._dirty.add(origin)
            elif pages.pop(url, None) is not None:
                self._dirty.add(origin)

    def save(self) -> int:
        """Write the origins whose validators changed; returns how many objects were written."""
        with self._lock:
            dirty = sorted(self._dirty)
            payloads = [(o, _dump({"version": _STATE_VERSION, "origin": o, "pages": self._pages.get(o, {})})) for o in dirty]
            self._dirty.clear()
        if not payloads:
            return 0
        failed: list[str] = []

        def put(item: tuple[str, bytes]) -> None:
            origin, data = item
            try:
                self.store.put_state(validators_state_name(origin), data)
            except (StoreError, OSError) as exc:
                logger.warning("validators of %s not saved (%s): next run fetches its pages in full", origin, getattr(exc, "reason", exc))
                failed.append(origin)

        with ThreadPoolExecutor(max_workers=min(self.threads, len(payloads)), thread_name_prefix="state-write") as pool:
            list(pool.map(put, payloads))
        with self._lock:
            self._dirty.update(failed)  # a later save may succeed
        return len(payloads) - len(failed)

    # robots.txt --------------------------------------------------------------------------

    def load_robots(self, config: FetchConfig) -> RobotsCache:
        """The persisted robots.txt cache; entries older than the TTL are refetched as usual."""
        data: dict[str, Any] | None = None
        try:
            raw = self.store.get_state(ROBOTS_STATE)
            self._robots_loaded = raw
            if raw is not None:
                data = json.loads(raw)
        except (StoreError, OSError, ValueError) as exc:
            logger.warning("robots.txt cache unreadable (%s): refetching", getattr(exc, "reason", exc))
        return RobotsCache.from_dict(data, ttl=config.robots_ttl, error_ttl=config.robots_error_ttl)

    def save_robots(self, cache: RobotsCache) -> bool:
        """Write the cache back (its fresh entries) when it changed; returns whether it was written."""
        data = _dump(cache.to_dict())
        if data == self._robots_loaded:
            return False
        try:
            self.store.put_state(ROBOTS_STATE, data)
        except (StoreError, OSError) as exc:
            logger.warning("robots.txt cache not saved (%s)", getattr(exc, "reason", exc))
            return False
        self._robots_loaded = data
        return True


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


# -- the run's fetcher on its own event loop ------------------------------------------------------

_END = object()


class _Pump:
    """Moves ``fetch_many`` results into a bounded queue, so fetching runs ahead of cleaning by at most ``maxsize`` pages."""

    def __init__(self, fetcher: Fetcher, urls: Iterable[str], lookup: Callable[[str], Validators | None], maxsize: int) -> None:
        self.fetcher = fetcher
        self.urls = urls
        self.lookup = lookup
        self.maxsize = maxsize
        self.error: BaseException | None = None
        self.ended = False
        self._queue: asyncio.Queue[Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self._getter: asyncio.Future[Any] | None = None

    async def start(self) -> None:
        self._queue = asyncio.Queue(self.maxsize)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        assert self._queue is not None
        try:
            async with aclosing(self.fetcher.fetch_many(self.urls, self.lookup)) as results:
                async for result in results:
                    await self._queue.put(result)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            self.error = exc
        await self._queue.put(_END)

    async def take(self, size: int, linger: float) -> list[FetchResult]:
        """Up to ``size`` results: waits for the first, then at most ``linger`` seconds for the rest; [] at the end."""
        loop = asyncio.get_running_loop()
        batch: list[FetchResult] = []
        deadline: float | None = None
        while len(batch) < size and not self.ended:
            timeout = None if deadline is None else deadline - loop.time()
            if timeout is not None and timeout <= 0:
                break
            item = await self._next(timeout)
            if item is None:
                break
            if item is _END:
                self.ended = True
                break
            batch.append(item)
            if deadline is None:
                deadline = loop.time() + linger
        if not batch and self.error is not None:
            raise self.error
        return batch

    async def _next(self, timeout: float | None) -> Any:
        """The next item, or None after ``timeout``; the pending get survives a timeout, so nothing is lost."""
        assert self._queue is not None
        if self._getter is None:
            self._getter = asyncio.ensure_future(self._queue.get())
        done, _ = await asyncio.wait({self._getter}, timeout=timeout)
        if not done:
            return None
        item = self._getter.result()
        self._getter = None
        return item

    async def stop(self) -> None:
        for pending in (self._task, self._getter):
            if pending is not None and not pending.done():
                pending.cancel()
        await asyncio.gather(*(p for p in (self._task, self._getter) if p is not None), return_exceptions=True)


class FetchSession:
    """The run's one ``Fetcher``, open in an event loop on its own thread; any thread may call into it.

    Use as ``with FetchSession(config, robots) as session``. A session is also
    registered under ``session.id`` so that page tasks, which get names and
    not clients as parameters, find it (in this process: the thread pool runner).
    """

    _registry: ClassVar[dict[str, FetchSession]] = {}
    _registry_lock = threading.Lock()

    def __init__(self, config: FetchConfig, robots: RobotsCache | None = None) -> None:
        self.config = config
        self.fetcher = Fetcher(config, robots=robots)
        self.id = uuid.uuid4().hex
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="pagescrub-fetch", daemon=True)

    @classmethod
    def get(cls, session_id: str) -> FetchSession:
        with cls._registry_lock:
            session = cls._registry.get(session_id)
        if session is None:
            raise RuntimeError(f"no open fetch session {session_id!r} in this process (page tasks need the thread pool runner)")
        return session

    def __enter__(self) -> FetchSession:
        self._thread.start()
        try:
            self.call(self.fetcher.__aenter__())
        except BaseException:
            self._stop_loop()
            raise
        with self._registry_lock:
            self._registry[self.id] = self
        return self

    def __exit__(self, *exc: object) -> None:
        with self._registry_lock:
            self._registry.pop(self.id, None)
        try:
            self.call(self._close())
        finally:
            self._stop_loop()

    async def _close(self) -> None:
        """Cancel whatever is still running (a stream left open by an aborted run), then close the client."""
        current = asyncio.current_task()
        leftovers = [t for t in asyncio.all_tasks() if t is not current]
        for leftover in leftovers:
            leftover.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
        await self.fetcher.__aexit__(None, None, None)

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` in the session's loop and wait for its result (from any thread but the loop's)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    @property
    def robots(self) -> RobotsCache:
        return self.fetcher.robots

    def discover(
        self,
        *,
        urls: Iterable[str] = (),
        sitemaps: Iterable[str] = (),
        feeds: Iterable[str] = (),
        sites: Iterable[str] = (),
        since: date | datetime | str | None = None,
        until: date | datetime | str | None = None,
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """The URLs to fetch (normalized, de-duplicated) and the sources that failed, as ``(url, reason)``."""
        failures: list[tuple[str, str]] = []
        found = self.call(
            discover(
                self.fetcher, urls=list(urls), sitemap=list(sitemaps), feed=list(feeds), robots=list(sites),
                since=since, until=until, failures=failures,
            )
        )
        return found, failures

    def fetch(self, url: str, validators: Validators | None = None, *, retries: int | None = None) -> FetchResult:
        """One page, blocking the calling thread; politeness is shared with every other request of the run."""
        return self.call(self.fetcher.fetch(url, validators, retries=retries))

    def stream(
        self,
        urls: Iterable[str],
        validators_for: Callable[[str], Validators | None],
        *,
        batch_size: int,
        buffer: int,
        linger: float = 5.0,
    ) -> Iterator[list[FetchResult]]:
        """Fetch ``urls`` (``fetch_many``), yielding results in batches of up to ``batch_size`` as they arrive.

        At most ``buffer`` fetched pages wait for the consumer; fetching pauses
        while the buffer is full, so memory stays flat when cleaning is the
        slower side. A partial batch is yielded ``linger`` seconds after its
        first page: a slow, polite crawl still gets its pages cleaned and
        written as it goes, with at most one batch task run per ``linger``.
        """
        pump = _Pump(self.fetcher, urls, validators_for, max(1, buffer))
        self.call(pump.start())
        try:
            while batch := self.call(pump.take(batch_size, linger)):
                yield batch
        finally:
            self.call(pump.stop())


# -- the per-page task ----------------------------------------------------------------------------


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """``retry_condition_fn``: Prefect retries a page only when the fetcher would have (``is_transient``)."""
    exc = state.data if isinstance(state.data, BaseException) else None
    if exc is None:
        try:
            exc = state.result(raise_on_failure=False)
        except Exception:  # noqa: BLE001 - a result we cannot read is not a reason to retry
            return False
    return isinstance(exc, BaseException) and is_transient(exc)


def _with_attempts(reason: str, attempts: int) -> str:
    """``http 503 after 3 attempts``, ``connection error after 3 attempts: ...``: the fetcher's own wording."""
    head, sep, detail = reason.partition(": ")
    return f"{head} after {attempts} attempts{sep}{detail}"


@task(name="fetch-page", cache_policy=NO_CACHE, task_run_name=page_task_run_name)
def fetch_page(url: str, validators: dict[str, str] | None, session_id: str) -> PageResult:
    """Fetch one URL (no retries of the fetcher's own) and clean it; raises ``FetchFailed`` when it may pass.

    The caller sets ``retries``/``retry_delay_seconds``/``retry_jitter_factor``
    and ``retry_condition_fn=retry_transient``, so each retry is a visible run
    of this task. A ``Retry-After`` is honoured by the shared Fetcher: the host's
    next request waits for it, whatever Prefect's delay.
    """
    from prefect.runtime import task_run

    session = FetchSession.get(session_id)
    result = session.fetch(url, Validators.from_dict(validators), retries=0)
    if result.outcome == "failed" and result.transient:
        attempts = max(1, int(task_run.run_count or 1))
        result.attempts = attempts
        if attempts > 1 and result.reason:
            result.reason = _with_attempts(result.reason, attempts)
        raise FetchFailed(result)
    return clean_fetched(result)
