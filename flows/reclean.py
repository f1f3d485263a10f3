"""The ``reclean`` flow: clean stored raw snapshots again, without the original files or network.

When the cleaner improves, ``reclean SRC --out DST`` rebuilds every record
from the raw snapshots under ``SRC/raw/`` with the same batch and write
machinery as ``scrape``, so its records equal a fresh run's (except
``retrieved_at``). ``DST`` may be ``SRC`` itself (changed records are
replaced, the others reported unchanged) or another store, which then also
receives the snapshots so it can be re-cleaned in turn.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner

from pagescrub.flows import observe
from pagescrub.flows.scrape import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_WORKERS,
    RunWriter,
    batched,
    cleaned,
    log_summary,
    publish_artifacts,
    resolve_store,
    run_id,
)
from pagescrub.tasks.batch_tasks import reclean_batch, release_sources
from pagescrub.tasks.dedupe import DEFAULT_THRESHOLD
from pagescrub.tasks.link import DuplicateLinker
from pagescrub.tasks.store import StoreOptions

__all__ = ["reclean"]


@flow(
    name="reclean",
    flow_run_name="reclean-{out}",
    task_runner=ThreadPoolTaskRunner(max_workers=DEFAULT_WORKERS),
    log_prints=False,
)
def reclean(
    src: str,
    out: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_in_flight: int = 2 * DEFAULT_WORKERS,
    src_options: StoreOptions | None = None,
    store_options: StoreOptions | None = None,
    store_block: str | None = None,
    link_duplicates: bool = True,
    duplicate_threshold: float = DEFAULT_THRESHOLD,
) -> dict[str, Any]:
    """Re-clean the raw snapshots of the store ``src`` into records in ``out`` (default: ``src``).

    Near-duplicate links come from ``src``'s index, so every record keeps the
    link it was given when first stored whatever order the snapshots are read
    in; the index is saved to ``out``.
    """
    logger = get_run_logger()
    source = resolve_store(src, src_options)
    source.ensure(writable=False)
    store = resolve_store(out or (None if store_block else src), store_options, store_block)
    store.ensure()
    this_run = run_id()
    linker = DuplicateLinker(source, enabled=link_duplicates, threshold=duplicate_threshold, save_to=store)
    writer = RunWriter(store, this_run, linker=linker)
    observer = observe.RunObserver(name="reclean")
    write = observer.watch(writer.write)
    try:
        for results in cleaned(
            lambda i, ids: reclean_batch.submit(i, ids, source.url, source.options, this_run),
            batched(source.raw_ids(), batch_size),
            max_in_flight,
        ):
            write(results)
    except BaseException:
        writer.abort()
        raise
    finally:
        release_sources(this_run)
    summary = writer.close(batch_size=batch_size, inputs=[source.url], source=source.url)
    log_summary(logger, summary)
    publish_artifacts(summary, "reclean")
    observer.finish(summary, None)  # progress 100 %, per-host table, failures with their records
    return summary
