"""The Prefect task runs of a run: one per batch of pages, over the plain functions of ``tasks/batch.py``.

Apart from ``tasks/batch.py`` so that the cleaning worker processes, which
import that module to run its functions, do not import Prefect (about 60 MB each).
"""

from __future__ import annotations

import threading
from functools import partial

from prefect import task
from prefect.cache_policies import NO_CACHE

from .batch import PageResult, _clean_all, _fetch_crashed, _page_crashed, clean_fetched, clean_page, reclean_page
from .fetch import FetchResult
from .load import DEFAULT_MAX_BYTES, PageInput
from .store import Store, StoreOptions, open_store

__all__ = ["clean_batch", "clean_fetched_batch", "reclean_batch", "release_sources"]


@task(name="clean-batch", cache_policy=NO_CACHE, task_run_name="clean-batch-{index}")
def clean_batch(
    index: int, pages: list[PageInput], max_bytes: int = DEFAULT_MAX_BYTES, pool: str | None = None
) -> list[PageResult]:
    """A batch of pages cleaned in one Prefect task run (in the run's worker processes when ``pool`` names them)."""
    return _clean_all(pool, partial(clean_page, max_bytes=max_bytes), pages, _page_crashed)


@task(name="clean-fetched-batch", cache_policy=NO_CACHE, task_run_name="clean-fetched-batch-{index}")
def clean_fetched_batch(index: int, results: list[FetchResult], pool: str | None = None) -> list[PageResult]:
    """A batch of fetched pages cleaned in one task run (the fetching happened in the flow's event loop)."""
    return _clean_all(pool, clean_fetched, results, _fetch_crashed)


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
