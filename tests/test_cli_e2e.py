"""The real `pagescrub` console script, running the real flow against a real (local) Prefect server."""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pagescrub.flows.scrape import DEFAULT_BATCH_SIZE
from pagescrub.tasks.record import validate_record

from .conftest import SEEDS
from .seedcheck import problems

pytestmark = pytest.mark.prefect

ARTICLE_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Harbour reopens after storm repairs | The Coast Times</title>
<meta property="og:site_name" content="The Coast Times">
<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Harbour reopens after storm repairs",
 "datePublished": "2023-03-14T08:00:00Z", "author": [{"@type": "Person", "name": "Ana Ruiz"}]}</script>
</head><body><nav><a href="/">Home</a><a href="/news">News</a></nav>
<article><h1>Harbour reopens after storm repairs</h1>
<p>The harbour reopened on Tuesday after six weeks of repairs to the sea wall damaged in the February storm, the port authority said.</p>
<p>Fishing boats returned to their moorings by mid-morning, and the ferry service to the islands will resume its full timetable next week.</p>
<p>Engineers rebuilt two hundred metres of the wall with larger granite blocks, a design meant to withstand waves a third higher than the storm's.</p>
<div class="share-tools"><a href="#">Share on Facebook</a><a href="#">Tweet</a></div>
</article><footer>Copyright 2023 The Coast Times. All rights reserved.</footer></body></html>"""


# The console script installed beside this interpreter (the venv's bin/ need not be on PATH).
EXE = str(Path(sys.executable).with_name("pagescrub"))


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert Path(EXE).exists(), "the pagescrub console script is not installed"
    return subprocess.run([EXE, *args], env=env, capture_output=True, check=False, text=True, timeout=300)


def _records(out: Path) -> dict[str, dict]:
    recs = {}
    for path in (out / "articles").rglob("*.json"):
        rec = json.loads(path.read_text(encoding="utf-8"))
        recs[Path(rec["source"]["location"]).name] = rec
    return recs


def _manifest(out: Path) -> dict:
    (path,) = sorted((out / "runs").glob("*.json"))[-1:]
    return json.loads(path.read_text(encoding="utf-8"))


def test_seeds_end_to_end_then_unchanged(tmp_path: Path, cli_env: dict[str, str], seeds_expected: dict, prefect_api_url: str) -> None:
    out = tmp_path / "out"
    first = _run(["run", str(SEEDS), "--out", str(out)], cli_env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "written" in first.stdout

    recs = _records(out)
    assert sorted(recs) == sorted(seeds_expected["pages"])
    for name, rec in recs.items():
        validate_record(rec)
        assert problems(seeds_expected["pages"][name], rec) == [], name

    # The syndicated copy is linked to the first-seen one, and no other pair (expected.json's near_duplicates).
    ids = {rec["id"]: name for name, rec in recs.items()}
    linked = {frozenset([name, ids[rec["duplicate_of"]]]) for name, rec in recs.items() if rec["duplicate_of"]}
    assert linked == {frozenset(pair) for pair in seeds_expected["near_duplicates"]}
    for pair in seeds_expected["near_duplicates"]:
        assert len({recs[name]["cluster_id"] for name in pair}) == 1
    assert len({rec["cluster_id"] for rec in recs.values()}) == len(recs) - 1

    manifest = _manifest(out)
    assert manifest["counts"] == {"pages": 5, "written": 5, "unchanged": 0, "failed": 0, "replaced": 0}
    assert manifest["duplicates"]["linked"] == 1 and manifest["duplicates"]["index_saved"] is True
    assert manifest["timings"]["batch_size"] == DEFAULT_BATCH_SIZE  # saved pages' default, not the fetched ones'
    assert (out / "state").is_dir()
    assert sorted(Path(p["input"]).name for p in manifest["pages"]) == sorted(recs)
    assert {p["id"] for p in manifest["pages"]} == {r["id"] for r in recs.values()}
    before = {p: p.stat().st_mtime_ns for p in (out / "articles").rglob("*.json")}

    second = _run(["run", str(SEEDS), "--out", str(out)], cli_env)
    assert second.returncode == 0, second.stderr[-3000:]
    runs = sorted((out / "runs").glob("*.json"))
    assert len(runs) == 2
    again = json.loads(runs[-1].read_text())
    assert again["counts"]["unchanged"] == 5 and again["counts"]["written"] == 0
    assert {p["status"] for p in again["pages"]} == {"unchanged"}
    assert {p: p.stat().st_mtime_ns for p in (out / "articles").rglob("*.json")} == before

    # It was a real Prefect flow run, with task runs, on the configured server.
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import FlowRunSort, TaskRunSort

    async def runs_on_server() -> tuple[list, int]:
        async with get_client() as client:
            flow_runs = await client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=["scrape"])), sort=FlowRunSort.START_TIME_DESC, limit=200
            )
            mine = [r for r in flow_runs if str(out) in r.name]
            tasks = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[r.id for r in mine])),
                sort=TaskRunSort.EXPECTED_START_TIME_DESC, limit=200,
            )
            return mine, len(tasks)

    mine, task_runs = asyncio.run(runs_on_server())
    assert len(mine) == 2 and all(r.state.is_completed() for r in mine)
    assert task_runs >= 2


def test_mixed_folder_with_bad_inputs(tmp_path: Path, cli_env: dict[str, str]) -> None:
    pages = tmp_path / "pages"
    (pages / "nested").mkdir(parents=True)
    (pages / "story.html").write_text(ARTICLE_HTML, encoding="utf-8")
    (pages / "nested" / "story2.html.gz").write_bytes(gzip.compress(ARTICLE_HTML.replace("Harbour", "Marina").encode()))
    shutil.copy(SEEDS / "004_80973514d3295959.txt", pages / "nested" / "capture.txt")
    (pages / "empty.html").write_bytes(b"")
    (pages / "image.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    (pages / "login.html").write_text("<html><body><form><input name=u><input type=password></form><p>Sign in</p></body></html>")
    out = tmp_path / "out"

    failing = _run(["run", str(pages), "--out", str(out)], cli_env)
    assert failing.returncode == 1, failing.stderr[-3000:]
    manifest = _manifest(out)
    by_name = {Path(p["input"]).name: p for p in manifest["pages"]}
    assert len(by_name) == 6
    assert {n for n, p in by_name.items() if p["status"] == "written"} == {"story.html", "story2.html.gz", "capture.txt"}
    assert by_name["empty.html"]["reason"].startswith("empty input")
    assert by_name["image.html"]["reason"].startswith("binary content (png)")
    assert by_name["login.html"]["reason"].startswith("no article found")
    failed_files = list((out / "failed").rglob("*.json"))
    assert len(failed_files) == 3
    assert all(json.loads(f.read_text())["reason"] for f in failed_files)

    story = _records(out)["story.html"]
    assert story["title"] == "Harbour reopens after storm repairs"
    assert story["authors"] == ["Ana Ruiz"]
    assert story["published_at"].startswith("2023-03-14T08:00:00")
    assert story["site_name"] == "The Coast Times"
    assert "Share on Facebook" not in story["text"] and "All rights reserved" not in story["text"]
    assert "Home" not in story["text"].split()

    allowed = _run(["run", str(pages), "--out", str(out), "--allow-failures"], cli_env)
    assert allowed.returncode == 0, allowed.stderr[-3000:]
    assert _manifest(out)["counts"]["unchanged"] == 3


def test_help_on_every_command() -> None:
    for args in (["--help"], ["run", "--help"], ["version", "--help"]):
        result = subprocess.run([EXE, *args], capture_output=True, check=False, text=True, timeout=60)
        assert result.returncode == 0 and "Usage" in result.stdout


def test_missing_input_is_a_clear_usage_error(tmp_path: Path) -> None:
    result = subprocess.run([EXE, "run", str(tmp_path / "nope"), "--out", str(tmp_path / "o")],
                            capture_output=True, check=False, text=True, timeout=60)
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr
