"""Where pages are cleaned: the run's worker processes (local runs), or the workers of a Dask cluster."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pagescrub.tasks.batch import WORKER_DIED, CleaningPool, cleaning_pool
from pagescrub.tasks.batch_tasks import clean_batch
from pagescrub.tasks.load import PageInput

from .conftest import SEEDS

ARTICLE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title} | The Valley Courier</title><meta property="og:site_name" content="The Valley Courier">
<meta property="article:published_time" content="2024-0{n}-12T09:30:00Z"></head>
<body><nav><a href="/">Home</a> <a href="/local">Local</a> <a href="/sport">Sport</a></nav>
<article><h1>{title}</h1><p class="byline">By Mara Lindqvist</p>
<p>The council voted on Monday to {what}, after a consultation that drew more replies than any in the last decade.</p>
<p>Residents of the northern estates had asked for the change for years, pointing to the long detours their buses take.</p>
<p>Work is due to start in the spring and to last about eight months, with the busiest roads closed only at night.</p>
<aside class="related"><h3>Related stories</h3><ul><li><a href="/a">Budget approved</a></li><li><a href="/b">New school</a></li></ul></aside>
</article><footer>Copyright 2024 The Valley Courier</footer></body></html>"""

WHAT = ("rebuild the old river bridge", "open a second library branch", "add cycle lanes on the ring road")


def _inputs(tmp_path: Path) -> Path:
    """The seeds, a few HTML pages, and one input that fails (empty)."""
    folder = tmp_path / "in"
    shutil.copytree(SEEDS, folder / "seeds", ignore=shutil.ignore_patterns("*.json"))
    for n, what in enumerate(WHAT, 1):
        title = f"Council agrees to {what}"
        (folder / f"page{n}.html").write_text(ARTICLE.format(title=title, n=n, what=what), encoding="utf-8")
    (folder / "empty.html").write_bytes(b"")
    return folder


def _outputs(out: Path) -> dict[str, dict]:
    """Records (without ``retrieved_at``) and failure entries (without ``failed_at``), by file."""
    found = {}
    for kind, volatile in (("articles", "retrieved_at"), ("failed", "failed_at")):
        for path in (out / kind).rglob("*.json"):
            item = json.loads(path.read_text(encoding="utf-8"))
            item.pop(volatile)
            found[f"{kind}/{path.name}"] = item
    return found


@pytest.mark.prefect
def test_dask_cluster_gives_the_records_of_the_local_run(prefect_api_url: str, tmp_path: Path) -> None:
    pytest.importorskip("prefect_dask")
    from pagescrub.flows.scrape import scrape, task_runner

    inputs = _inputs(tmp_path)
    local = scrape(paths=[str(inputs)], out=str(tmp_path / "local"), batch_size=2, processes=2)
    on_dask = scrape.with_options(task_runner=task_runner("dask", workers=2))(
        paths=[str(inputs)], out=str(tmp_path / "dask"), batch_size=2
    )

    assert local["processes"] == 2  # cleaned by the run's two worker processes
    assert on_dask["processes"] == 0  # cleaned by the Dask workers, nothing started here
    assert local["counts"] == on_dask["counts"] == {"pages": 9, "written": 8, "unchanged": 0, "failed": 1, "replaced": 0}
    records = _outputs(tmp_path / "local")
    assert len(records) == 9
    assert _outputs(tmp_path / "dask") == records


def _upper_or_die(item: str) -> str:
    if item == "boom":
        os._exit(3)  # what a crash in a C library, or the out-of-memory killer, looks like from outside
    return item.upper()


def test_a_page_that_kills_its_worker_fails_alone() -> None:
    pool = CleaningPool(2)
    try:
        out = pool.map(_upper_or_die, ["a", "boom", "c", "d"], lambda item, why: f"{item}: {why}")
        assert out == ["A", f"boom: {WORKER_DIED}", "C", "D"]
        assert pool.map(_upper_or_die, ["e", "f"], lambda item, why: why) == ["E", "F"]  # usable afterwards
    finally:
        pool.close()


def test_a_batch_outside_a_flow_run_cleans_where_it_runs(tmp_path: Path) -> None:
    """The pool name is this process's: a task run elsewhere (a Dask worker) does not find it and cleans itself."""
    page = tmp_path / "page.html"
    page.write_text(ARTICLE.format(title="Council agrees to a new park", n=3, what="open a new park"), encoding="utf-8")
    pages = [PageInput(location=str(page), key=page.name)]
    here = clean_batch.fn(0, pages, pool="some-other-process-pool")
    with cleaning_pool(1) as name:
        pooled = clean_batch.fn(0, pages, pool=name)
    assert here[0].record is not None and pooled[0].record is not None
    for result in (here[0], pooled[0]):
        result.record.pop("retrieved_at")
        result.entry.pop("ms")
    assert here[0].record == pooled[0].record and here[0].entry == pooled[0].entry


def test_batches_come_out_in_input_order_whatever_finishes_first() -> None:
    """Links (first seen wins) and manifests must not depend on which worker was faster."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from pagescrub.flows.scrape import cleaned

    started: list[int] = []
    lock = threading.Lock()

    def work(index: int, batch: list[int]) -> list[int]:
        with lock:
            started.append(index)
        time.sleep(0.05 * (5 - index % 5))  # later batches finish first
        return [x * 10 for x in batch]

    with ThreadPoolExecutor(4) as pool:
        out = [list(r) for r in cleaned(lambda i, b: pool.submit(work, i, b), ([i] for i in range(12)), 4)]
    assert out == [[i * 10] for i in range(12)]
    assert len(started) == 12


def test_flow_process_loads_the_cleaning_code_only_when_it_cleans() -> None:
    """The flow's process hands pages to the pool: readability and CLD2 (~7 MB) stay out of it until
    it cleans a page itself (no pool: Dask, the process-pool runner), which then works as usual."""
    import subprocess
    import sys

    page = SEEDS / min(p.name for p in SEEDS.iterdir() if p.suffix == ".txt")
    code = (
        "import sys; import pagescrub.flows.cli, pagescrub.flows.scrape, pagescrub.flows.reclean; "
        "from pagescrub.tasks.batch import clean_page; from pagescrub.tasks.load import PageInput; "
        "heavy = ('readability', 'pycld2', 'pagescrub.tasks.extract'); "
        "print([m for m in heavy if m in sys.modules]); "
        f"r = clean_page(PageInput(location={str(page)!r}, kind='file')); "
        "print(r.failure, bool(r.record and r.record['text']), [m for m in heavy if m in sys.modules])"
    )
    lines = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert lines == ["[]", "None True ['readability', 'pycld2', 'pagescrub.tasks.extract']"]
