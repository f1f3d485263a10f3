"""The ``scrape`` flow: saved pages and web pages in, clean records and a run manifest out.

It reads like the process it runs: find the pages, clean them in batches on
the task runner (CPU), then write each finished batch through the store with a
bounded pool of concurrent writes (I/O), and account for every input. At most
``max_in_flight`` batches are being cleaned while one is written, so memory
stays flat however many pages there are.

Where the cleaning runs. On the local thread-pool task runner (the default) a
batch task run is a thread that sends its pages to the run's worker processes
(``processes``, default: one per CPU; see ``tasks/batch.py``): Prefect sees one
task run per batch, the CPUs see one job per page. On a Dask cluster
(``task_runner("dask", ...)``) each batch task runs in a Dask worker process
and cleans its pages there; no local processes are started.

Web pages (URLs, URL lists, sitemaps, feeds) are fetched by ``flows/fetching.py``
into the same cleaning path and the same writer, so one run's manifest covers
saved and fetched pages alike.
"""

from __future__ import annotations

import queue
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TypeVar

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.context import get_run_context
from prefect.futures import PrefectFuture
from prefect.task_runners import ThreadPoolTaskRunner

from pagescrub import __version__
from pagescrub.flows import observe
from pagescrub.flows.fetching import FETCH_BATCH_SIZE, fetch_pages
from pagescrub.tasks.batch import PageResult, available_cpus, cleaning_pool, write_page
from pagescrub.tasks.batch_tasks import clean_batch
from pagescrub.tasks.dedupe import DEFAULT_THRESHOLD
from pagescrub.tasks.fetch import FetchConfig
from pagescrub.tasks.link import DuplicateLinker
from pagescrub.tasks.load import DEFAULT_MAX_BYTES, install_log_redaction, iter_inputs, load_url_manifest, redact_secrets, redact_url
from pagescrub.tasks.store import Store, StoreOptions, open_store
from pagescrub.tasks.store_block import PagescrubStore

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_PROCESSES",
    "DEFAULT_WORKERS",
    "ProgressHook",
    "RunWriter",
    "TASK_RUNNERS",
    "cleaned",
    "completed_in_turn",
    "in_input_order",
    "release",
    "log_summary",
    "publish_artifacts",
    "reporting",
    "resolve_store",
    "scrape",
    "scrape_without_prefect",
    "task_runner",
]

#: Saved pages per batch task run. Each task run costs the Prefect server CPU (states, events,
#: logs): on 5000 pages the temporary server took 18.2 s of the run's CPU at 25 and 9.9 s at 100,
#: with the same peak memory (benchmarks/throughput.py, 2026-12-01).
DEFAULT_BATCH_SIZE = 100
#: Task runner threads of flows that clean in their threads (``reclean``).
DEFAULT_WORKERS = 2
#: Worker processes cleaning a local ``scrape`` run's pages, and its task runner threads: one per
#: CPU this process may use (a container's CPU quota counts).
DEFAULT_PROCESSES = available_cpus()
TASK_RUNNERS = ("thread", "dask")

T = TypeVar("T")
ProgressHook = Callable[[list[dict[str, Any]]], None]
_progress_hooks: list[ProgressHook] = []


@contextmanager
def reporting(hook: ProgressHook) -> Iterator[None]:
    """Let a caller in this process (the CLI's progress bar) see entries as batches are written.

    Flow parameters must be serializable, so a callback cannot be one.
    """
    _progress_hooks.append(hook)
    try:
        yield
    finally:
        _progress_hooks.remove(hook)


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def run_id() -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        flow_run = get_run_context().flow_run  # type: ignore[union-attr]
        return f"{stamp}-{str(flow_run.id)[:8]}"
    except Exception:  # noqa: BLE001 - outside a flow run (called as a plain function)
        return stamp


def resolve_store(out: str | None, options: StoreOptions | None = None, block: str | None = None) -> Store:
    """The store named by ``out``, or by a saved ``PagescrubStore`` block (``out``/``options`` win)."""
    if block:
        settings = PagescrubStore.load(block)
        out = out or settings.url
        options = options or settings.options()
    if not out:
        raise ValueError("no output store: give out (a folder or s3://bucket/prefix/) or a store block")
    return open_store(out, options)


def cleaned(
    submit: Callable[[int, list[Any]], PrefectFuture[list[PageResult]]],
    batches: Iterable[list[Any]],
    max_in_flight: int,
) -> Iterator[list[PageResult]]:
    """Submit batches to the task runner, at most ``max_in_flight`` at once; yield each as it finishes.

    The consumer writes a batch while the others are still being cleaned; the
    next batch is only read from ``batches`` when a slot frees, so inputs are
    never listed whole. ``submit`` returns a Prefect future or a
    ``concurrent.futures`` one.

    Batches come out in input order, not as they finish: near-duplicate links
    (first seen wins) and the manifest must not depend on which worker was
    faster, or a rerun after a kill would relink and rewrite what was stored.
    A slow batch holds at most ``max_in_flight`` finished ones behind it.
    """
    for _item, future in in_input_order(submit, batches, max_in_flight):
        results = future.result()
        yield results
        release(results)


def release(results: list[PageResult]) -> None:
    """Empty a batch's result list once it is written.

    The task run's final state holds the list, and Prefect's futures sit in
    reference cycles (future, wrapped future, its done-callbacks) that only the
    cyclic garbage collector frees, and it seldom runs a full collection in a
    process holding Prefect's many objects: without this, every batch's pages
    stayed in memory until then (+340 MB over 5,000 pages).
    """
    results.clear()


def in_input_order(
    submit: Callable[[int, T], Any], items: Iterable[T], max_in_flight: int
) -> Iterator[tuple[T, Any]]:
    """Submit ``items``, at most ``max_in_flight`` at once; yield each with its finished future, in order."""
    pending: deque[tuple[T, Any]] = deque()
    for index, item in enumerate(items):
        pending.append((item, submit(index, item)))
        if len(pending) >= max(1, max_in_flight):
            oldest = pending.popleft()
            oldest[1].result()  # no done-callbacks: nothing keeps a finished future alive
            yield oldest
    while pending:
        oldest = pending.popleft()
        oldest[1].result()
        yield oldest


def completed_in_turn(
    submit: Callable[[int, T], Any], items: Iterable[T], max_in_flight: int
) -> Iterator[tuple[T, Any]]:
    """Submit ``items``, at most ``max_in_flight`` at once; yield each with its future as it finishes.

    Each future gets one done-callback, into a queue. Not ``prefect.futures.as_completed``
    called again for each item: every call adds a callback to every pending future
    that keeps the futures finished since, so a run held every batch's results
    until it ended (+340 MB over 5,000 pages).
    """
    finished: queue.SimpleQueue[Any] = queue.SimpleQueue()
    pending: dict[int, tuple[T, Any]] = {}  # by id(): a future need not be hashable; held, so ids stay unique
    for index, item in enumerate(items):
        future = submit(index, item)
        pending[id(future)] = (item, future)
        future.add_done_callback(finished.put)
        while len(pending) >= max(1, max_in_flight):
            yield pending.pop(id(finished.get()))
    while pending:
        yield pending.pop(id(finished.get()))


def task_runner(kind: str = "thread", workers: int | None = None, address: str | None = None) -> Any:
    """The task runner for ``scrape``: ``thread`` (local, ``workers`` threads) or ``dask``.

    ``dask``: prefect-dask's ``DaskTaskRunner`` on the scheduler at ``address``,
    or on a local cluster of ``workers`` single-threaded worker processes
    (needs the ``dask`` extra).
    """
    workers = workers or DEFAULT_PROCESSES
    if kind == "thread":
        return ThreadPoolTaskRunner(max_workers=workers)
    if kind == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError:
            raise RuntimeError("--task-runner dask needs prefect-dask: pip install 'pagescrub[dask]'") from None
        if address:
            return DaskTaskRunner(address=address)
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None}
        )
    raise ValueError(f"unknown task runner {kind!r}: choose from {', '.join(TASK_RUNNERS)}")


def _local_processes(processes: int | None) -> int:
    """Worker processes to open for this flow run: none unless its tasks run in this process's threads."""
    if processes is not None:
        return max(0, processes)
    try:
        runner = get_run_context().task_runner  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - outside a flow run
        runner = None
    return DEFAULT_PROCESSES if isinstance(runner, ThreadPoolTaskRunner) else 0


def clean_and_write(
    submit: Callable[[int, list[Any]], Any],
    pages: Iterable[Any],
    write: Callable[[list[PageResult]], Any],
    *,
    batch_size: int,
    max_in_flight: int,
) -> None:
    """The run's main loop: batches of ``pages`` cleaned by ``submit``, written (``RunWriter.write``) as they finish."""
    for results in cleaned(submit, batched(pages, batch_size), max_in_flight):
        write(results)


class RunWriter:
    """Writes cleaned batches through the store with a bounded pool, and keeps the run's books.

    One write job per page (its raw snapshot, then its record or failure
    entry); ``max_concurrency`` jobs at once. A batch is written whole before
    the next is taken, so at most one batch of results waits in memory here.

    With a ``linker``, each batch's records are linked to the first-seen copy
    of their story before any is written, in input order and in this one
    thread (first seen wins), and the store's duplicate index is saved on close.
    """

    def __init__(
        self, store: Store, run_id: str, *, max_concurrency: int | None = None, linker: DuplicateLinker | None = None
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.linker = linker
        self.concurrency = max(1, max_concurrency or store.options.max_concurrency)
        self.manifest = store.manifest(run_id)
        self.counts: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.replaced = 0
        self.objects = 0
        self.nbytes = 0
        self.unsent = 0
        self.batches = 0
        self.started = time.perf_counter()
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="store-write")

    def write(self, results: list[PageResult]) -> list[dict[str, Any]]:
        if self.linker is not None:
            for result in results:
                if result.record is not None:
                    self.linker.link(result.record)
                    if result.record.get("duplicate_of"):
                        result.entry["duplicate_of"] = result.record["duplicate_of"]
        jobs = [self._pool.submit(write_page, self.store, result) for result in results]
        entries = []
        for job in jobs:  # in input order, so the manifest is deterministic
            entry, objects, nbytes = job.result()
            self.objects += objects
            self.nbytes += nbytes
            entries.append(entry)
            self._account(entry)
        self.batches += 1
        for hook in list(_progress_hooks):  # noqa: PERF101 - a copy: the list can change while hooks run
            hook(entries)
        return entries

    def _account(self, entry: dict[str, Any]) -> None:
        self.manifest.add(entry)
        self.counts[entry["status"]] += 1
        self.replaced += bool(entry.get("replaced"))
        if entry["status"] == "failed":
            self.unsent += entry.get("stage") == "store"
            self.reasons[entry["reason"].split(" (")[0].split(":")[0]] += 1

    def close(self, *, batch_size: int, **extra: Any) -> dict[str, Any]:
        """Finish the writes, save the duplicate index, close the manifest; returns the run summary."""
        self._pool.shutdown(wait=True)
        duplicates = self._save_index()
        elapsed = time.perf_counter() - self.started
        total = sum(self.counts.values())
        summary: dict[str, Any] = {
            "run_id": self.run_id,
            "pagescrub_version": __version__,
            **extra,
            "out": self.store.url,
            "started_at": datetime.fromtimestamp(time.time() - elapsed, UTC).isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "counts": {
                "pages": total,
                "written": self.counts["written"],
                "unchanged": self.counts["unchanged"],
                "failed": self.counts["failed"],
                "replaced": self.replaced,
            },
            "store": {
                "url": self.store.url,
                "objects_written": self.objects,
                "bytes_written": self.nbytes,
                "unsent": self.unsent,
                "write_concurrency": self.concurrency,
            },
            "failure_reasons": dict(self.reasons.most_common()),
            "duplicates": duplicates,
            "timings": {
                "wall_seconds": round(elapsed, 3),
                "pages_per_second": round(total / elapsed, 2) if elapsed > 0 else None,
                "batches": self.batches,
                "batch_size": batch_size,
            },
        }
        summary["manifest"] = str(self.manifest.close(summary))
        return summary

    def _save_index(self) -> dict[str, Any]:
        """Save the store's duplicate index. An index that cannot be saved costs links, not records:
        the records written keep theirs, and a later run links its pages afresh."""
        linker = self.linker
        if linker is None or linker.index is None:
            return {"enabled": False}
        report: dict[str, Any] = {"enabled": True, "threshold": linker.index.threshold, "linked": linker.linked}
        try:
            linker.save()
            report.update(index_saved=True, index_bytes=linker.saved_bytes)
        except Exception as exc:  # noqa: BLE001 - the records are written; the run must still close its books
            report["index_saved"] = False
            report["error"] = redact_secrets(str(exc))[:300]
        return report

    def abort(self) -> None:
        """The run failed: stop writing and drop the spooled entries (a rerun accounts for every input)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.manifest.discard()


@flow(
    name="scrape",
    flow_run_name=observe.flow_run_name,
    task_runner=ThreadPoolTaskRunner(max_workers=DEFAULT_PROCESSES),
    log_prints=False,
)
def scrape(
    paths: list[str] | None = None,
    out: str | None = None,
    url_manifest: str | None = None,
    batch_size: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_in_flight: int = 2 * DEFAULT_PROCESSES,
    store_options: StoreOptions | None = None,
    store_block: str | None = None,
    urls: list[str] | None = None,
    url_lists: list[str] | None = None,
    sitemaps: list[str] | None = None,
    feeds: list[str] | None = None,
    sites: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    fetch: FetchConfig | None = None,
    per_page_tasks: bool | None = None,
    refresh: bool = False,
    processes: int | None = None,
    link_duplicates: bool = True,
    duplicate_threshold: float = DEFAULT_THRESHOLD,
    failure_threshold: float | None = None,
) -> Any:
    """Clean every saved page under ``paths``, and every page fetched from the web sources, into records in ``out``.

    Web sources: ``urls``; ``url_lists`` (files, one URL a line); ``sitemaps``
    and ``feeds``; ``sites`` (their robots.txt ``Sitemap:`` lines). ``since`` and
    ``until`` (ISO dates, inclusive) filter sitemap and feed entries. ``fetch``
    tunes the client and its politeness (``max_bytes`` applies when it is not given).

    ``batch_size``: pages per batch task run; by default DEFAULT_BATCH_SIZE saved
    pages and FETCH_BATCH_SIZE fetched ones.

    ``processes``: worker processes cleaning the pages of batch task runs that
    run in this process (the thread-pool task runner); default one per CPU, 0
    cleans in the task runner's threads. Ignored on Dask, whose workers clean.

    ``link_duplicates``: link each record to the first-seen copy of its story
    (``duplicate_of``, ``cluster_id``), through the index kept in the store's
    ``state/``; ``duplicate_threshold`` is the similarity a near copy needs.

    Returns the run summary. With ``failure_threshold`` (deployments set it
    from the sources file) it returns the run's final state instead, carrying
    the summary: Failed when more than that share of pages failed or records
    went unwritten, Completed otherwise.
    """
    install_log_redaction()
    logger = get_run_logger()
    paths = paths or []
    store = resolve_store(out, store_options, store_block)
    store.ensure()  # credentials, bucket, permissions: fail before any page
    url_map = load_url_manifest(url_manifest) if url_manifest else None
    linker = DuplicateLinker(store, enabled=link_duplicates, threshold=duplicate_threshold)
    writer = RunWriter(store, run_id(), linker=linker)
    observer = observe.RunObserver(total=observe.count_inputs(paths, url_map))
    write = observer.watch(writer.write)
    web = [*(urls or []), *(url_lists or []), *(sitemaps or []), *(feeds or []), *(sites or [])]
    page_batch, fetch_batch = batch_size or DEFAULT_BATCH_SIZE, batch_size or FETCH_BATCH_SIZE
    fetched: dict[str, Any] | None = None
    local = _local_processes(processes)
    try:
        with cleaning_pool(local) as pool:
            if paths:
                clean_and_write(
                    lambda i, batch: clean_batch.submit(i, batch, max_bytes, pool), iter_inputs(paths, url_map), write,
                    batch_size=page_batch, max_in_flight=max_in_flight,
                )
            if web:
                fetched = fetch_pages(
                    write, store, fetch or FetchConfig(max_bytes=max_bytes),
                    urls=urls or [], url_lists=url_lists or [], sitemaps=sitemaps or [], feeds=feeds or [],
                    sites=sites or [], since=since, until=until, batch_size=fetch_batch, max_in_flight=max_in_flight,
                    per_page_tasks=per_page_tasks, refresh=refresh, log=logger, pool=pool,
                )
    except BaseException:
        writer.abort()
        raise
    # The inputs as given, without credentials: a URL's user:password belongs to the fetch.
    extra: dict[str, Any] = {"inputs": [redact_url(str(p)) for p in [*paths, *web]], "processes": local}
    if fetched is not None:
        extra["fetch"] = fetched
    # The batch size of the pages that ran: a run of saved and fetched pages names the saved ones'
    # here and the fetch's in its own section (1 when it ran one task run per page).
    summary = writer.close(batch_size=page_batch if paths or fetched is None else fetched["batch_size"], **extra)
    log_summary(logger, summary)
    publish_artifacts(summary, "scrape")
    state = observer.finish(summary, failure_threshold)
    return summary if failure_threshold is None else state


def scrape_without_prefect(
    paths: list[str],
    out: str,
    *,
    processes: int = DEFAULT_PROCESSES,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_bytes: int = DEFAULT_MAX_BYTES,
    url_manifest: str | None = None,
    store_options: StoreOptions | None = None,
    link_duplicates: bool = True,
) -> dict[str, Any]:
    """``scrape``'s work on saved pages with no flow run nor task runs: the same functions, pool and writer.

    For measuring what orchestration costs (``benchmarks/throughput.py``); runs
    should use the flow, which the Prefect UI, retries and artifacts need.
    """
    store = resolve_store(out, store_options)
    store.ensure()
    url_map = load_url_manifest(url_manifest) if url_manifest else None
    writer = RunWriter(store, run_id(), linker=DuplicateLinker(store, enabled=link_duplicates))
    threads = max(1, processes)
    try:
        with cleaning_pool(processes) as pool, ThreadPoolExecutor(threads, thread_name_prefix="clean-batch") as runner:
            clean_and_write(
                lambda i, batch: runner.submit(clean_batch.fn, i, batch, max_bytes, pool), iter_inputs(paths, url_map),
                writer.write, batch_size=batch_size, max_in_flight=2 * threads,
            )
    except BaseException:
        writer.abort()
        raise
    return writer.close(batch_size=batch_size, inputs=[str(p) for p in paths], processes=processes)


def log_summary(logger: Any, summary: dict[str, Any]) -> None:
    c, s = summary["counts"], summary["store"]
    logger.info(
        "%d pages: %d written, %d unchanged, %d failed (%d unsent) in %.1fs; %d objects, %d bytes to %s; manifest %s",
        c["pages"], c["written"], c["unchanged"], c["failed"], s["unsent"], summary["timings"]["wall_seconds"],
        s["objects_written"], s["bytes_written"], s["url"], summary["manifest"],
    )
    if s["unsent"]:
        logger.error("%d records were not written (store unavailable); the next run writes them", s["unsent"])
    f = summary.get("fetch")
    if f:
        logger.info(
            "fetched %d pages in %.1fs (%s pages/s, %s): %d ok, %d not modified, %d failed",
            f["fetched"], f["seconds"], f["pages_per_second"], f["mode"], f["ok"], f["not_modified"], f["failed"],
        )


def publish_artifacts(summary: dict[str, Any], name: str) -> None:
    """The run's counts as a table in the Prefect UI (the failures: ``RunObserver.finish``)."""
    counts = summary["counts"]
    create_table_artifact(
        key=f"{name}-summary",
        table=[{"measure": k, "value": v} for k, v in counts.items()]
        + [
            {"measure": "objects written", "value": summary["store"]["objects_written"]},
            {"measure": "bytes written", "value": summary["store"]["bytes_written"]},
            {"measure": "unsent (store unavailable)", "value": summary["store"]["unsent"]},
            {"measure": "pages per second", "value": summary["timings"]["pages_per_second"]},
        ],
        description=f"pagescrub run {summary['run_id']}",
    )
