"""What a run shows in the UI: names, per-host counts, failures with their records, the final state."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from pagescrub.flows import observe

from .conftest import SEEDS


def _entry(status: str, url: str | None = None, **extra: object) -> dict:
    entry = {"input": url or "/pages/a.html", "id": "ab" + "0" * 30, "status": status, **extra}
    if url:
        entry["url"] = url
    return entry


def test_page_names_are_host_and_path_shortened() -> None:
    assert observe.short_page_name("https://www.coast-times.example/2022/02/09/harbour?utm=x#top") == "coast-times.example/2022/02/09/harbour"
    long = "https://news.example/" + "/".join(["section"] * 20) + "/the-story"
    name = observe.short_page_name(long, 60)
    assert len(name) == 60 and name.startswith("news.example/") and name.endswith("/the-story") and "…" in name
    assert observe.page_task_run_name({"url": "http://127.0.0.1:8080/a/b/"}) == "fetch 127.0.0.1:8080/a/b"


def test_window_labels() -> None:
    assert observe.window_label("2022-02-01", "2022-02-07") == "2022-02-01..2022-02-07"
    assert observe.window_label("2022-02-01T06:00:00+00:00", None) == "2022-02-01T06:00Z.."
    assert observe.window_label(None, None) is None


def test_host_rows_count_by_status() -> None:
    watcher = observe.RunObserver(publish=False)
    watcher.update([
        _entry("written", "https://a.example/1", http_status=200),
        _entry("unchanged", "https://a.example/2", http_status=304),
        _entry("failed", "https://a.example/3", http_status=404, stage="fetch", reason="http 404"),
        _entry("written", "https://www.b.example/1", http_status=200),
        _entry("written"),
    ])
    rows = {r["host"]: r for r in watcher.host_rows()}
    assert rows["a.example"] == {"host": "a.example", "pages": 3, "fetched": 3, "written": 1, "unchanged": 1, "failed": 1}
    assert rows["b.example"]["written"] == 1
    assert rows[observe.LOCAL] == {"host": observe.LOCAL, "pages": 1, "fetched": 0, "written": 1, "unchanged": 0, "failed": 0}
    assert watcher.done == 5 and watcher.failed == 1 and len(watcher.failures) == 1
    many = {f"h{i}.example": Counter(pages=1) for i in range(5)}
    assert observe.host_rows(many, limit=3)[-1]["host"] == "(2 more hosts)"


def test_failures_markdown_links_pages_and_records() -> None:
    failures = [
        _entry("failed", "https://a.example/x|y", stage="fetch", reason="http 404"),
        _entry("failed", None, stage="load", reason="empty input"),
        _entry("failed", "https://a.example/z", stage="store", reason="store unavailable: timeout"),
    ]
    text = observe.failures_markdown(failures, "s3://bucket/out/", total_failed=5, manifest="s3://bucket/out/runs/r.json")
    assert "### 5 pages gave no record" in text
    assert "[a.example/x\\|y](https://a.example/x|y)" in text
    assert "stored under `s3://bucket/out/`" in text
    assert "| `failed/ab/ab" + "0" * 30 + ".json` |" in text and "`/pages/a.html`" in text
    assert "not stored" in text  # a record the store refused has no failed/ record either
    assert "... and 2 more" in text and "runs/r.json" in text
    assert observe.failed_record_location("/out", failures[1]) == "/out/failed/ab/ab" + "0" * 30 + ".json"


def test_final_state_follows_the_failure_ratio() -> None:
    def summary(pages: int, failed: int, unsent: int = 0) -> dict:
        return {"counts": {"pages": pages, "written": pages - failed, "unchanged": 0, "failed": failed}, "store": {"unsent": unsent}}

    assert observe.final_state(summary(10, 5)).is_completed()  # 50 % is not over 50 %
    failed = observe.final_state(summary(10, 6))
    assert failed.is_failed() and "60% failed, over the 50% threshold" in failed.message
    assert observe.final_state(summary(10, 2), threshold=0.1).is_failed()
    assert observe.final_state(summary(10, 9), threshold=None).is_completed()
    assert observe.final_state(summary(0, 0)).is_completed()
    assert observe.final_state(summary(10, 0, unsent=1)).is_failed()
    assert observe.final_state(summary(10, 6)).result(raise_on_failure=False)["counts"]["failed"] == 6


@pytest.mark.prefect
def test_run_names_and_final_state_of_a_real_run(prefect_api_url: str, tmp_path: Path) -> None:
    """In a real flow run: named <source>/<window> from its tags; Failed over the threshold, with the summary."""
    from prefect import flow, tags

    from pagescrub.flows.scrape import scrape

    @flow(flow_run_name=observe.flow_run_name)
    def named(out: str, since: str | None = None, until: str | None = None) -> str:
        from prefect.runtime import flow_run

        return flow_run.name

    assert named(out="/tmp/o") == "scrape-/tmp/o"
    with tags("source:news", "kind:sitemap"):
        assert named(out="/tmp/o", since="2022-02-01", until="2022-02-07") == "news/2022-02-01..2022-02-07"

    pages = tmp_path / "pages"
    shutil.copytree(SEEDS, pages, ignore=shutil.ignore_patterns("*.json"))
    for i in range(6):
        (pages / f"empty{i}.html").write_bytes(b"")  # 6 of 11 fail: over half
    state = scrape(paths=[str(pages)], out=str(tmp_path / "out"), failure_threshold=0.5, return_state=True)
    assert state.is_failed() and "over the 50% threshold" in state.message
    summary = state.result(raise_on_failure=False)
    assert summary["counts"]["failed"] == 6 and summary["hosts"][0]["failed"] == 6
    relaxed = scrape(paths=[str(pages)], out=str(tmp_path / "out"), failure_threshold=0.9, return_state=True)
    assert relaxed.is_completed()
