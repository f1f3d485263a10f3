"""The ``scrape`` flow: saved pages in, clean records and a run manifest out.

It reads like the process it runs: find the pages, clean them in batches on the
task runner, write one record per article, account for every input.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from itertools import islice
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import get_run_context
from prefect.futures import PrefectFuture, as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from pagescrub import __version__
from pagescrub.tasks.batch import clean_batch
from pagescrub.tasks.load import DEFAULT_MAX_BYTES, PageInput, iter_inputs, load_url_manifest
from pagescrub.tasks.store import LocalStore

__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_WORKERS", "ProgressHook", "reporting", "scrape"]

DEFAULT_BATCH_SIZE = 25
DEFAULT_WORKERS = 2

ProgressHook = Callable[[list[dict[str, Any]]], None]
_progress_hooks: list[ProgressHook] = []


@contextmanager
def reporting(hook: ProgressHook) -> Iterator[None]:
    """Let a caller in this process (the CLI's progress bar) see entries as batches finish.

    Flow parameters must be serializable, so a callback cannot be one.
    """
    _progress_hooks.append(hook)
    try:
        yield
    finally:
        _progress_hooks.remove(hook)


def _batches(pages: Iterable[PageInput], size: int) -> Iterator[list[PageInput]]:
    it = iter(pages)
    while batch := list(islice(it, size)):
        yield batch


def _run_id() -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    try:
        flow_run = get_run_context().flow_run  # type: ignore[union-attr]
        return f"{stamp}-{str(flow_run.id)[:8]}"
    except Exception:  # noqa: BLE001 - outside a flow run (called as a plain function)
        return stamp


@flow(
    name="scrape",
    flow_run_name="scrape-{out}",
    task_runner=ThreadPoolTaskRunner(max_workers=DEFAULT_WORKERS),
    log_prints=False,
)
def scrape(
    paths: list[str],
    out: str,
    url_manifest: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_in_flight: int = 2 * DEFAULT_WORKERS,
) -> dict[str, Any]:
    """Clean every saved page under ``paths`` into records under ``out``."""
    logger = get_run_logger()
    started = time.perf_counter()
    store = LocalStore(out)
    store.ensure()
    urls = load_url_manifest(url_manifest) if url_manifest else None
    run_id = _run_id()
    manifest = store.manifest(run_id)
    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    failures: list[dict[str, Any]] = []
    replaced = 0

    def collect(entries: list[dict[str, Any]]) -> None:
        nonlocal replaced
        for entry in entries:
            manifest.add(entry)
            counts[entry["status"]] += 1
            replaced += bool(entry.get("replaced"))
            if entry["status"] == "failed":
                reasons[entry["reason"].split(" (")[0].split(":")[0]] += 1
                if len(failures) < 200:
                    failures.append(entry)
        for hook in list(_progress_hooks):
            hook(entries)

    in_flight: set[PrefectFuture[list[dict[str, Any]]]] = set()
    batches = 0
    for batch in _batches(iter_inputs(paths, urls), batch_size):
        in_flight.add(clean_batch.submit(batches, batch, out, max_bytes))
        batches += 1
        while len(in_flight) >= max_in_flight:
            done = next(as_completed(in_flight))
            in_flight.discard(done)
            collect(done.result())
    for done in as_completed(in_flight):
        collect(done.result())

    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    summary: dict[str, Any] = {
        "run_id": run_id,
        "pagescrub_version": __version__,
        "inputs": [str(p) for p in paths],
        "out": str(out),
        "started_at": datetime.fromtimestamp(time.time() - elapsed, timezone.utc).isoformat(timespec="seconds"),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "counts": {
            "pages": total,
            "written": counts["written"],
            "unchanged": counts["unchanged"],
            "failed": counts["failed"],
            "replaced": replaced,
        },
        "failure_reasons": dict(reasons.most_common()),
        "timings": {
            "wall_seconds": round(elapsed, 3),
            "pages_per_second": round(total / elapsed, 2) if elapsed > 0 else None,
            "batches": batches,
            "batch_size": batch_size,
        },
    }
    summary["manifest"] = str(manifest.close(summary))
    logger.info(
        "%d pages: %d written, %d unchanged, %d failed in %.1fs; manifest %s",
        total, counts["written"], counts["unchanged"], counts["failed"], elapsed, summary["manifest"],
    )
    _publish_artifacts(summary, failures)
    return summary


def _publish_artifacts(summary: dict[str, Any], failures: list[dict[str, Any]]) -> None:
    """The run's counts and failures, readable in the Prefect UI."""
    counts = summary["counts"]
    create_table_artifact(
        key="scrape-summary",
        table=[{"measure": k, "value": v} for k, v in counts.items()]
        + [{"measure": "pages per second", "value": summary["timings"]["pages_per_second"]}],
        description=f"pagescrub run {summary['run_id']}",
    )
    if failures:
        lines = ["| input | stage | reason |", "|---|---|---|"]
        for f in failures:
            lines.append(f"| `{f['input']}` | {f.get('stage', '')} | {f['reason'].replace('|', '/')} |")
        if counts["failed"] > len(failures):
            lines.append(f"\n... and {counts['failed'] - len(failures)} more in {summary['manifest']}")
        create_markdown_artifact(key="scrape-failures", markdown="\n".join(lines), description="pages that gave no record")
