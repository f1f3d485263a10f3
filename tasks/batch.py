"""Processing pages in batches: load, extract, build the record, store it.

A Prefect task run costs 10 to 14 ms and several events; one per page would
flood the server on large runs. Pages are therefore processed in batches, one
task run per batch, and the per-page detail goes to the run manifest.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from .extract import ExtractionError, extract_article
from .load import DEFAULT_MAX_BYTES, LoadError, PageInput, read_page_bytes
from .record import RecordInvalid, build_record, record_id
from .store import LocalStore

__all__ = ["clean_batch", "process_batch", "process_page"]


def process_page(page: PageInput, store: LocalStore, *, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """One page end to end; always returns its manifest entry, never raises.

    A page that cannot become a record is stored as a failed entry with its
    reason, so nothing is lost silently and the run goes on.
    """
    started = time.perf_counter()
    entry: dict[str, Any] = {"input": page.location, "id": record_id(page)}
    if page.url:
        entry["url"] = page.url
    stage = "load"
    try:
        data = read_page_bytes(page.location, max_bytes)
        stage = "extract"
        article = extract_article(data, url=page.url, name=page.key)
        stage = "record"
        record = build_record(article, page, datetime.now(timezone.utc))
        stage = "store"
        status, replaced = store.put_article(record)
        entry.update(status=status, title=record["title"], words=record["word_count"], method=article.method)
        if replaced:
            entry["replaced"] = True
    except (LoadError, ExtractionError, RecordInvalid) as exc:
        entry.update(status="failed", stage=stage, reason=exc.reason)
    except Exception as exc:  # noqa: BLE001 - one bad page must not end the run
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno}" if last else ""
        entry.update(status="failed", stage=stage, reason=f"internal error in {stage}: {type(exc).__name__}: {exc}{where}"[:500])
    entry["ms"] = round((time.perf_counter() - started) * 1000, 1)
    if entry["status"] == "failed":
        _record_failure(store, page, entry)
    return entry


def _record_failure(store: LocalStore, page: PageInput, entry: dict[str, Any]) -> None:
    failure = {
        "id": entry["id"],
        "source": {"kind": page.kind, "location": page.location},
        "url": page.url,
        "stage": entry["stage"],
        "reason": entry["reason"],
        "failed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    try:
        store.put_failed(failure)
    except OSError as exc:
        entry["reason"] += f" (and the failure record could not be written: {exc.strerror or exc})"


def process_batch(pages: Sequence[PageInput], out: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[dict[str, Any]]:
    store = LocalStore(out)
    return [process_page(page, store, max_bytes=max_bytes) for page in pages]


@task(name="clean-batch", cache_policy=NO_CACHE, task_run_name="clean-batch-{index}")
def clean_batch(index: int, pages: list[PageInput], out: str, max_bytes: int = DEFAULT_MAX_BYTES) -> list[dict[str, Any]]:
    """A batch of pages as one Prefect task run (per-page detail is in the manifest)."""
    return process_batch(pages, out, max_bytes=max_bytes)
