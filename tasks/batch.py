"""A page's life in two steps: clean it (CPU, in a task), then write it (I/O, in the flow's writer).

Cleaning returns a ``PageResult`` (the record or the failure, the gzipped raw
bytes, the manifest entry so far) instead of writing, so the flow can look at
a whole batch between the two steps (near-duplicate linking) and so writes
go through one bounded pool whatever the store.

A Prefect task run costs 10 to 14 ms and several events; one per page would
flood the server on large runs. Pages are therefore cleaned in batches, one
task run per batch, and the per-page detail goes to the run manifest.

Fetched pages take the same path: ``clean_fetched`` turns a ``FetchResult``
into a ``PageResult`` (cleaned with ``clean_bytes`` when the fetch gave a body,
``unchanged`` after a 304, failed at stage ``fetch`` otherwise).

Where the CPU work runs. Cleaning is pure Python (lxml, readability, regexes):
threads share one core through the GIL. A flow run on the local thread-pool
task runner therefore opens a ``CleaningPool`` of worker processes once
(``cleaning_pool``) and registers it under a name; its batch task runs (cheap
threads) pass that name and send their pages to the processes, one page per
job, so every core is busy and a batch's slow page does not hold the others.
Tasks get the pool's name, never the pool: a task parameter must be
serializable (and hashable for Prefect's cache keys). Where the name is unknown
(a Dask worker, a process of Prefect's process-pool runner, a call outside a
flow run) the batch is cleaned in the calling process, which is what those
runners are for.

Hard limits in the worker processes. A page may use ``PAGE_CPU_SECONDS`` of
CPU (env ``PAGESCRUB_PAGE_CPU_SECONDS``, default 10): a profiling timer
interrupts it and it fails ``too slow``, while the worker goes on with the
next page. The extraction's own budget (checked between steps) catches most
slow pages first; this one also stops a step that never ends. Python code is
interrupted where it is; a call into C that never looks at signals (a parse in
libxml2) is killed by ``RLIMIT_CPU`` at twice the limit plus a second, and the
page then fails as a worker that died. Each worker also gets 2 GB of address
space (``RLIMIT_AS``): a page that needs more fails, the run goes on. Pages
cleaned outside the pool (Dask workers, the in-process path) have only the
extraction's budget: a signal timer belongs to a process, not to a thread.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from .fetch import FetchResult, validators_from_result
from .load import DEFAULT_MAX_BYTES, LoadError, PageInput, read_page, redact_secrets
from .record import RecordInvalid, build_record, record_id
from .store import RawSnapshot, Store, StoreError, open_store, raw_meta_key, snapshot

try:
    import resource
except ImportError:  # not POSIX: no rlimits, and no setitimer either
    resource = None  # type: ignore[assignment]

__all__ = [
    "PAGE_CPU_SECONDS",
    "WORKER_MEMORY_BYTES",
    "CleaningPool",
    "PageResult",
    "PageTooSlow",
    "available_cpus",
    "clean_bytes",
    "clean_fetched",
    "clean_page",
    "cleaning_pool",
    "failed_page",
    "fetched_input",
    "process_batch",
    "prestart_workers",
    "process_page",
    "reclean_page",
    "too_slow_reason",
    "warm_up",
    "write_page",
]


@dataclass(slots=True)
class PageResult:
    """One page after cleaning: everything the writer needs, nothing it must recompute."""

    entry: dict[str, Any]
    """The manifest entry so far; ``status`` is set by the writer unless the page already failed."""
    record: dict[str, Any] | None = None
    failure: dict[str, Any] | None = None
    """The ``failed/`` entry, when the page gave no record."""
    raw: RawSnapshot | None = None
    """The page's bytes (gzipped) when they could be read."""
    validators: dict[str, str] | None = None
    """A fetched page's ETag/Last-Modified, remembered for the next run once its record is stored."""


# -- cleaning (CPU) ----------------------------------------------------------------------------


def clean_page(page: PageInput, *, max_bytes: int = DEFAULT_MAX_BYTES) -> PageResult:
    """Read a saved page and clean it; never raises: a bad page becomes a failed result."""
    started = time.perf_counter()
    try:
        data, packed = read_page(page.location, max_bytes)
    except LoadError as exc:
        result = PageResult(_entry(page))
        _fail(result, page, "load", exc.reason)
        result.entry["ms"] = _ms(started)
        return result
    return clean_bytes(page, data, started=started, packed=packed)


def clean_bytes(
    page: PageInput,
    data: bytes,
    *,
    content_type: str | None = None,
    started: float | None = None,
    raw: RawSnapshot | None = None,
    packed: bytes | None = None,
) -> PageResult:
    """Clean bytes already in hand (read from disk, fetched, or from a raw snapshot).

    ``packed``: the gzip file ``data`` was read from, kept as the raw snapshot (see ``store.snapshot``).
    """
    # Imported here, not at the top: the flow's process imports this module for the pool and the
    # writer, and cleans no page itself when it has a pool; the cleaning code (readability, CLD2:
    # 7 MB of RSS) then stays out of it. Once imported this is a dictionary lookup.
    from .extract import ExtractionError, extract_article

    started = time.perf_counter() if started is None else started
    result = PageResult(_entry(page))
    stage = "raw"
    try:
        result.raw = raw or snapshot(
            result.entry["id"], data, location=page.location, kind=page.kind, url=page.url, key=page.key,
            content_type=content_type, gz=packed,
        )
        stage = "extract"
        article = extract_article(data, url=page.url, name=page.key, content_type=content_type)
        stage = "record"
        result.record = build_record(article, page, datetime.now(UTC))
        result.entry.update(title=result.record["title"], words=result.record["word_count"], method=article.method)
    except (ExtractionError, RecordInvalid) as exc:
        _fail(result, page, stage, exc.reason)
    except MemoryError:  # over a worker's RLIMIT_AS: this page, not the run
        _fail(result, page, stage, "too large: out of memory while cleaning")
    except Exception as exc:  # noqa: BLE001 - one bad page must not end the run
        _fail(result, page, stage, _internal(stage, exc))
    result.entry["ms"] = _ms(started)
    return result


def fetched_input(result: FetchResult) -> PageInput:
    """A fetched page as a pipeline input: located by the URL requested, its ``url`` the one that answered."""
    return PageInput(location=result.url, kind="http", url=result.final_url or result.url, key=result.url)


def clean_fetched(result: FetchResult) -> PageResult:
    """A fetch outcome as a page result: cleaned (with its raw snapshot), ``unchanged`` (304), or failed."""
    page = fetched_input(result)
    if result.outcome == "ok" and result.body is not None:
        out = clean_bytes(page, result.body, content_type=result.content_type)
        found = validators_from_result(result)
        out.validators = found.to_dict() if found else None
    elif result.outcome == "not_modified":
        out = PageResult(_entry(page))
        out.entry["status"] = "unchanged"  # no extraction: the stored record is this version's
    else:
        out = failed_page(page, "fetch", result.reason or result.outcome)
    return _with_fetch(out, result)


def _with_fetch(out: PageResult, result: FetchResult) -> PageResult:
    out.entry["http_status"] = result.status
    out.entry["attempts"] = result.attempts
    if out.failure is not None:
        out.failure["http_status"] = result.status
    out.entry["fetch_ms"] = _ms_of(result.elapsed)
    return out


def failed_page(page: PageInput, stage: str, reason: str) -> PageResult:
    """A page that gave no record before any bytes were cleaned (fetch or discovery failed)."""
    result = PageResult(_entry(page))
    _fail(result, page, stage, reason)
    return result


def reclean_page(raw_id: str, source: Store) -> PageResult:
    """Clean a stored raw snapshot exactly as the original run cleaned the page."""
    started = time.perf_counter()
    try:
        snap = source.get_raw(raw_id)
        if snap is None:
            raise StoreError("raw snapshot missing")
        data = snap.data()
    except (StoreError, OSError, EOFError, ValueError, TypeError) as exc:
        result = PageResult({"input": source.location(raw_meta_key(raw_id)), "id": raw_id})
        why = redact_secrets(f"raw snapshot unreadable: {getattr(exc, 'reason', None) or exc}")
        result.entry.update(status="failed", stage="load", reason=why)
        result.entry["ms"] = _ms(started)
        return result  # no failure record: the snapshot, not the page, is what is broken
    meta = snap.meta
    page = PageInput(location=meta.location, kind=meta.kind, url=meta.url, key=meta.key)
    return clean_bytes(page, data, content_type=meta.content_type, started=started, raw=snap)


def _entry(page: PageInput) -> dict[str, Any]:
    entry: dict[str, Any] = {"input": page.location, "id": record_id(page)}
    if page.url:
        entry["url"] = page.url
    return entry


def _fail(result: PageResult, page: PageInput, stage: str, reason: str) -> None:
    reason = redact_secrets(reason)  # an exception's text may quote a URL with its credentials
    result.entry.update(status="failed", stage=stage, reason=reason)
    result.failure = {
        "id": result.entry["id"],
        "source": {"kind": page.kind, "location": page.location},
        "url": page.url,
        "stage": stage,
        "reason": reason,
        "failed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _internal(stage: str, exc: Exception) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:]
    where = f" at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno}" if last else ""
    return f"internal error in {stage}: {type(exc).__name__}: {exc}{where}"[:500]


def _ms(started: float) -> float:
    return _ms_of(time.perf_counter() - started)


def _ms_of(seconds: float) -> float:
    return round(seconds * 1000, 1)


# -- writing (I/O) -----------------------------------------------------------------------------


def write_page(store: Store, result: PageResult) -> tuple[dict[str, Any], int, int]:
    """Write one cleaned page; returns its final manifest entry, objects and bytes sent.

    Never raises. A record the store would not take is reported failed with
    ``store unavailable: ...`` and nothing about it is marked done anywhere, so
    the next run writes it.
    """
    started = time.perf_counter()
    entry = result.entry
    objects = nbytes = 0
    try:
        if result.raw is not None:
            wrote = store.put_raw(result.raw)
            objects, nbytes = objects + wrote.objects, nbytes + wrote.nbytes
        if result.record is not None:
            wrote = store.put_article(result.record)
            objects, nbytes = objects + wrote.objects, nbytes + wrote.nbytes
            entry["status"] = wrote.status
            if wrote.replaced:
                entry["replaced"] = True
            if wrote.status == "written":
                store.clear_failed(result.record["id"])
        elif result.failure is not None:
            wrote = store.put_failed(result.failure)
            objects, nbytes = objects + wrote.objects, nbytes + wrote.nbytes
    except (StoreError, OSError) as exc:
        why = redact_secrets(getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc))
        if entry.get("status") == "failed":  # the page failed anyway; say its own failure was not kept
            entry["reason"] += f" (and the failure record could not be written: {why})"
        else:
            entry.update(status="failed", stage="store", reason=f"store unavailable: {why}"[:500])
    entry["ms"] = round(entry.get("ms", 0) + (time.perf_counter() - started) * 1000, 1)
    return entry, objects, nbytes


def process_page(page: PageInput, store: Store, *, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """One page end to end (clean, then write), for callers outside the flow."""
    return write_page(store, clean_page(page, max_bytes=max_bytes))[0]


def process_batch(pages: Sequence[PageInput], out: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[dict[str, Any]]:
    store = open_store(out)
    return [process_page(page, store, max_bytes=max_bytes) for page in pages]


# -- worker processes (CPU) ----------------------------------------------------------------------

T = TypeVar("T")


def available_cpus() -> int:
    """CPUs this process may use: its CPU affinity, capped by a container's CPU quota (cgroup v2 or v1).

    ``os.cpu_count()`` is the machine's: in a container limited to 2 CPUs on a
    64-CPU node it would start 64 cleaning processes, each some 250 MB.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cpus = os.cpu_count() or 1
    for path, read in (("/sys/fs/cgroup/cpu.max", _quota_v2), ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", _quota_v1)):
        try:
            quota = read(path)
        except (OSError, ValueError):
            continue
        if quota is not None:
            cpus = min(cpus, max(1, int(quota + 0.999)))
        break
    return max(1, cpus)


def _quota_v2(path: str) -> float | None:
    with open(path, encoding="ascii") as fh:
        limit, _, period = fh.read().strip().partition(" ")
    return None if limit == "max" else int(limit) / int(period or 100_000)


def _quota_v1(path: str) -> float | None:
    with open(path, encoding="ascii") as fh:
        quota = int(fh.read().strip())
    with open(path.replace("cfs_quota_us", "cfs_period_us"), encoding="ascii") as fh:
        period = int(fh.read().strip())
    return None if quota <= 0 or period <= 0 else quota / period


WORKER_DIED = "worker process died while cleaning this page (crashed, or killed: out of memory, or stuck in C past the CPU limit?)"


def _env_seconds(name: str, default: float) -> float:
    """A number of seconds from the environment; 0 or less (or inf) turns the limit off, junk keeps the default."""
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    if math.isnan(value):
        return default
    return 0.0 if math.isinf(value) else value


PAGE_CPU_SECONDS: float = _env_seconds("PAGESCRUB_PAGE_CPU_SECONDS", 10.0)
"""CPU one page may use in a cleaning worker process (read at import; the pool passes it to its workers)."""
WORKER_MEMORY_BYTES = 2 * 1024**3
"""Address space of a cleaning worker process (about 300 MB once the cleaning code is imported)."""


class PageTooSlow(BaseException):
    """Raised in a worker by the CPU timer: a BaseException, so no ``except Exception`` on the way swallows it."""


@dataclass(frozen=True, slots=True)
class _Stopped:
    """What a worker returns for a page it stopped: the pool turns it into the caller's failed result."""

    reason: str


def too_slow_reason(seconds: float) -> str:
    return f"too slow: stopped after {seconds:g} s of CPU"


class CleaningPool:
    """Worker processes that clean pages for the threads of one flow run.

    Processes are never forked from the flow's process, which runs Prefect's
    threads (a fork copies their locks in whatever state they are): they are
    forked from a forkserver, a fresh single-threaded process that imports the
    cleaning code and loads its models (dateparser's patterns for every
    language, ~43 MB) once, before any worker exists. Workers share those
    pages with it copy-on-write and start warm, a replacement for a crashed one
    included. Where there is no forkserver (Windows), they are spawned and each
    warms up on its own.

    A worker that dies (a crash in a C library, the kernel's out-of-memory
    killer) breaks the whole executor. The pages it held are then cleaned
    again one at a time in a new executor: the page that kills its worker
    twice is failed with ``WORKER_DIED``; the others, in flight by chance,
    come out as usual.
    """

    def __init__(self, processes: int) -> None:
        self.processes = max(1, processes)
        self._lock = threading.Lock()
        self._closed = False
        self._executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.processes, mp_context=_worker_context(), initializer=_worker_started,
            initargs=(PAGE_CPU_SECONDS, WORKER_MEMORY_BYTES),
        )

    def map(self, fn: Callable[[T], PageResult], items: Sequence[T], crashed: Callable[[T, str], PageResult]) -> list[PageResult]:
        """``fn`` over ``items`` in the workers, results in order; ``crashed(item, reason)`` for a page that kills its worker."""
        executor = self._executor
        jobs: list[Future[PageResult] | None] = []
        for item in items:
            try:
                jobs.append(executor.submit(_limited, fn, item))
            except (BrokenProcessPool, RuntimeError):  # broken by another batch's page, or shut down
                jobs.append(None)
        out = []
        for item, job in zip(items, jobs):
            try:
                if job is None:
                    raise BrokenProcessPool("not submitted")
                out.append(_settled(job.result(), item, crashed))
            except BrokenProcessPool:
                out.append(self._alone(fn, item, executor, crashed))
            except Exception as exc:  # noqa: BLE001 - a result that did not come back (pickling): one page, not the run
                out.append(crashed(item, f"internal error: {type(exc).__name__}: {exc}"[:500]))
        return out

    def _alone(self, fn: Callable[[T], PageResult], item: T, broken: ProcessPoolExecutor, crashed: Callable[[T, str], PageResult]) -> PageResult:
        with self._lock:
            if self._closed:  # the run is ending (stopped, or failed): start nothing new
                return crashed(item, "not cleaned: the run stopped")
            if self._executor is broken:
                self._executor = self._start()
                broken.shutdown(wait=False, cancel_futures=True)
            executor = self._executor
            try:
                return _settled(executor.submit(_limited, fn, item).result(), item, crashed)
            except BrokenProcessPool:
                self._executor = self._start()
                executor.shutdown(wait=False, cancel_futures=True)
                return crashed(item, WORKER_DIED)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._executor.shutdown(wait=True, cancel_futures=True)


def _worker_context() -> multiprocessing.context.BaseContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # Read when this process's forkserver starts (its first pool); importing the module warms it up.
    ctx.set_forkserver_preload(["pagescrub.tasks.warm_worker"])
    return ctx


def prestart_workers() -> None:
    """Start the workers' forkserver, and so its warm-up (~3 s of CPU), now rather than at the first batch.

    The CLI calls it at its start, where the warm-up overlaps the Prefect
    server's boot and the CLI's own imports; a pool opened later forks warm workers at once.
    """
    if _worker_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _settled(result: PageResult | _Stopped, item: T, crashed: Callable[[T, str], PageResult]) -> PageResult:
    return crashed(item, result.reason) if isinstance(result, _Stopped) else result


# In a worker process only: the limits of its pages.
_cpu_seconds = 0.0
_armed = False


def _worker_started(cpu_seconds: float = 0.0, memory_bytes: int = 0) -> None:
    """Set a worker's limits; never called in the flow's process, whose threads the limits would hit."""
    global _cpu_seconds
    # Ctrl-C reaches the whole process group: the flow's process stops the run and its workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warm_up()
    if cpu_seconds > 0 and hasattr(signal, "setitimer") and resource is not None:
        signal.signal(signal.SIGPROF, _cpu_exceeded)
        _cpu_seconds = cpu_seconds
        _soft_limit("RLIMIT_CORE", 0)  # a worker killed by RLIMIT_CPU leaves no core file behind
    if memory_bytes > 0:
        _soft_limit("RLIMIT_AS", memory_bytes)


_WARM_UP_HTML = (
    b"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Warm-up | Site</title>"
    b"<meta name='author' content='Ana Ruiz'></head><body><nav><a href='/'>Home</a></nav><article>"
    b"<h1>Warm-up</h1><p>Published 3 March 2021</p>"
    + b"<p>" + b"The harbour reopened on Tuesday after six weeks of repairs to the sea wall, officials said. " * 4 + b"</p>"
    + b"<p>" + b"Fishing boats returned to their moorings by mid-morning and the ferry resumed its timetable. " * 4 + b"</p>"
    b"</article><footer>Copyright 2021</footer></body></html>"
)
_WARM_UP_TEXT = (
    "Home | News | Sport\nWarm-up\nBy Ana Ruiz\nWednesday, March 3, 2021\n\n"
    + "The harbour reopened on Tuesday after six weeks of repairs to the sea wall, officials said. " * 4
    + "\n\nShare this article\n"
).encode()


_warmed = False


def warm_up() -> None:
    """Clean two small pages before any limit is set, so a worker's lazy imports and models
    (readability, htmldate, the language detector, dateparser's English) are loaded outside the
    per-page CPU budget: a page is never charged for them, nor stopped halfway through an import.
    dateparser's other languages load as pages in them need them (a page of unknown language,
    all of them once: ~2.5 s and ~40 MB, which a whole warm-up would put in every worker)."""
    global _warmed
    if _warmed:  # done in the forkserver this worker was forked from
        return
    from .extract import extract_article

    for data in (_WARM_UP_HTML, _WARM_UP_TEXT):
        with suppress(Exception):  # a warm-up that fails only leaves the work to the first page
            extract_article(data)
    try:
        from .metadata import warm_date_parsers

        warm_date_parsers()
    except Exception:  # noqa: BLE001 - another htmldate or dateparser: the first page pays instead
        pass
    _warmed = True


def _soft_limit(name: str, value: int) -> None:
    """Set a soft rlimit to ``value`` (capped by the hard one); skipped where the platform has none or refuses."""
    which = getattr(resource, name, None) if resource is not None else None
    if which is None:
        return
    try:
        _, hard = resource.getrlimit(which)
        resource.setrlimit(which, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))
    except (ValueError, OSError):  # refused (macOS for RLIMIT_AS): run without it
        pass


def _cpu_exceeded(signum: int, frame: object) -> None:
    global _armed
    if _armed:  # once per page: a late signal never lands outside the page it was set for
        _armed = False
        raise PageTooSlow


def _limited(fn: Callable[[T], PageResult], item: T) -> PageResult | _Stopped:
    """``fn(item)`` in a worker, stopped once it has used ``_cpu_seconds`` of CPU."""
    global _armed
    seconds = _cpu_seconds
    if seconds <= 0:
        return fn(item)
    _cpu_backstop(seconds)
    try:
        try:
            _armed = True
            signal.setitimer(signal.ITIMER_PROF, seconds)
            return fn(item)
        finally:
            _armed = False
            signal.setitimer(signal.ITIMER_PROF, 0)
    except PageTooSlow:
        return _Stopped(too_slow_reason(seconds))


def _cpu_backstop(seconds: float) -> None:
    """Let the kernel kill the worker (SIGXCPU) if this page stays in C, out of the timer's reach, past 2x + 1 s."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _soft_limit("RLIMIT_CPU", math.ceil(usage.ru_utime + usage.ru_stime + 2 * seconds + 1))


_pools: dict[str, CleaningPool] = {}
_pools_lock = threading.Lock()


@contextmanager
def cleaning_pool(processes: int | None) -> Iterator[str | None]:
    """Open ``processes`` worker processes for this flow run; yields the name batch tasks pass (None: no pool).

    The processes are this process's: a task run elsewhere (Dask worker) does
    not find the name and cleans in its own process.
    """
    if not processes or processes < 1:
        yield None
        return
    pool = CleaningPool(processes)
    name = f"{os.getpid()}-{uuid.uuid4().hex}"
    with _pools_lock:
        _pools[name] = pool
    try:
        yield name
    finally:
        with _pools_lock:
            del _pools[name]
        pool.close()


def _clean_all(pool: str | None, fn: Callable[[T], PageResult], items: Sequence[T], crashed: Callable[[T, str], PageResult]) -> list[PageResult]:
    found = _pools.get(pool) if pool else None
    if found is None:
        return [fn(item) for item in items]
    return found.map(fn, items, crashed)


def _page_crashed(page: PageInput, reason: str) -> PageResult:
    return failed_page(page, "extract", reason)


def _fetch_crashed(result: FetchResult, reason: str) -> PageResult:
    return _with_fetch(failed_page(fetched_input(result), "extract", reason), result)
