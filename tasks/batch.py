"""A page's life in two steps: clean it (CPU, in a task), then write it (I/O, in the flow's writer).

Cleaning returns a ``PageResult`` (the record or the failure, the gzipped raw
bytes, the manifest entry so far) instead of writing, so the flow can look at
a whole batch between the two steps (near-duplicate linking) and so writes
go through one bounded pool whatever the store.

A Prefect task run costs 10 to 14 ms and several events; one per page would
flood the server on large runs. Pages are therefore cleaned in batches, one
task run per batch, and the per-page detail goes to the run manifest.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from .extract import ExtractionError, extract_article
from .load import DEFAULT_MAX_BYTES, LoadError, PageInput, read_page_bytes
from .record import RecordInvalid, build_record, record_id
from .store import RawSnapshot, Store, StoreError, StoreOptions, open_store, raw_meta_key, snapshot

__all__ = [
    "PageResult",
    "clean_batch",
    "clean_bytes",
    "clean_page",
    "process_batch",
    "process_page",
    "reclean_batch",
    "reclean_page",
    "release_sources",
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


# -- cleaning (CPU) ----------------------------------------------------------------------------


def clean_page(page: PageInput, *, max_bytes: int = DEFAULT_MAX_BYTES) -> PageResult:
    """Read a saved page and clean it; never raises: a bad page becomes a failed result."""
    started = time.perf_counter()
    try:
        data = read_page_bytes(page.location, max_bytes)
    except LoadError as exc:
        result = PageResult(_entry(page))
        _fail(result, page, "load", exc.reason)
        result.entry["ms"] = _ms(started)
        return result
    return clean_bytes(page, data, started=started)


def clean_bytes(
    page: PageInput,
    data: bytes,
    *,
    content_type: str | None = None,
    started: float | None = None,
    raw: RawSnapshot | None = None,
) -> PageResult:
    """Clean bytes already in hand (read from disk, fetched, or from a raw snapshot)."""
    started = time.perf_counter() if started is None else started
    result = PageResult(_entry(page))
    stage = "raw"
    try:
        result.raw = raw or snapshot(
            result.entry["id"], data, location=page.location, kind=page.kind, url=page.url, key=page.key,
            content_type=content_type,
        )
        stage = "extract"
        article = extract_article(data, url=page.url, name=page.key, content_type=content_type)
        stage = "record"
        result.record = build_record(article, page, datetime.now(timezone.utc))
        result.entry.update(title=result.record["title"], words=result.record["word_count"], method=article.method)
    except (ExtractionError, RecordInvalid) as exc:
        _fail(result, page, stage, exc.reason)
    except Exception as exc:  # noqa: BLE001 - one bad page must not end the run
        _fail(result, page, stage, _internal(stage, exc))
    result.entry["ms"] = _ms(started)
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
        result.entry.update(status="failed", stage="load", reason=f"raw snapshot unreadable: {getattr(exc, 'reason', None) or exc}")
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
    result.entry.update(status="failed", stage=stage, reason=reason)
    result.failure = {
        "id": result.entry["id"],
        "source": {"kind": page.kind, "location": page.location},
        "url": page.url,
        "stage": stage,
        "reason": reason,
        "failed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _internal(stage: str, exc: Exception) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:]
    where = f" at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno}" if last else ""
    return f"internal error in {stage}: {type(exc).__name__}: {exc}{where}"[:500]


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


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
        why = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
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


# -- tasks -------------------------------------------------------------------------------------


@task(name="clean-batch", cache_policy=NO_CACHE, task_run_name="clean-batch-{index}")
def clean_batch(index: int, pages: list[PageInput], max_bytes: int = DEFAULT_MAX_BYTES) -> list[PageResult]:
    """A batch of pages cleaned in one Prefect task run; the flow writes the results."""
    return [clean_page(page, max_bytes=max_bytes) for page in pages]


_sources: dict[tuple[str, str, StoreOptions | None], Store] = {}
_sources_lock = threading.Lock()


def _source(run_id: str, src: str, options: StoreOptions | None) -> Store:
    """One source store per run, shared by its tasks: tasks get names, not clients (no cache-key errors)."""
    with _sources_lock:
        store = _sources.get((run_id, src, options))
        if store is None:
            store = _sources[(run_id, src, options)] = open_store(src, options)
        return store


def release_sources(run_id: str) -> None:
    """Forget the run's source stores (and their state, such as an endpoint found down)."""
    with _sources_lock:
        for key in [k for k in _sources if k[0] == run_id]:
            del _sources[key]


@task(name="reclean-batch", cache_policy=NO_CACHE, task_run_name="reclean-batch-{index}")
def reclean_batch(
    index: int, raw_ids: list[str], src: str, src_options: StoreOptions | None = None, run_id: str = ""
) -> list[PageResult]:
    """A batch of raw snapshots read from ``src`` and cleaned in one task run (reads run in the workers)."""
    source = _source(run_id, src, src_options)
    return [reclean_page(raw_id, source) for raw_id in raw_ids]
