"""Issue 9: a run killed with SIGKILL in the middle, then started again, loses nothing and duplicates nothing.

The real ``pagescrub run`` over ~300 pages (the seed captures and generated
articles, under different names) is started as a subprocess against the
session's Prefect server, killed with SIGKILL once some but not all records
exist, then started again to completion. Afterwards: every page is stored
exactly once (one record per input, ids equal to the final manifest's), no
partial file or object is left (no ``*.tmp``, every JSON parses), and the final
manifest accounts for every input. On the local store and on S3 (moto's server).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pagescrub.tasks.record import validate_record

from .conftest import SEEDS, MotoServer
from .hostile.make_corpus import EN_PARAGRAPHS, article_html

pytestmark = pytest.mark.prefect

EXE = str(Path(sys.executable).with_name("pagescrub"))
SEED_COPIES = 20  # 5 seed captures x 20 = 100 text pages
ARTICLES = 200  # generated HTML articles
TOTAL = 5 * SEED_COPIES + ARTICLES


def make_pages(root: Path) -> Path:
    """~300 pages in nested folders: the seeds under new names, and distinct generated articles."""
    seeds = sorted(p for p in SEEDS.glob("*.txt"))
    assert len(seeds) == 5
    for k in range(SEED_COPIES):
        folder = root / f"captures-{k:02d}"
        folder.mkdir(parents=True)
        for seed in seeds:
            shutil.copy(seed, folder / f"copy{k:02d}-{seed.name}")
    for i in range(ARTICLES):
        folder = root / f"site-{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        paragraphs = [f"Dispatch {i}: {p}" for p in EN_PARAGRAPHS] + [
            f"This is story number {i} of the run, told in its own words so that no two pages are the same."
        ]
        (folder / f"story-{i:03d}.html").write_text(article_html(f"Harbour story {i}", paragraphs), encoding="utf-8")
    return root


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    # Its own session: the kill reaches the command and anything it started.
    return subprocess.Popen([EXE, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def kill_midway(proc: subprocess.Popen[str], count: Callable[[], int], low: int = 20) -> int:
    """SIGKILL the run once ``count()`` records exist (at least ``low``, fewer than all); returns the count then."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        n = count()
        if n >= low:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            return count()
        if proc.poll() is not None:
            _out, err = proc.communicate()
            pytest.fail(f"the run ended (rc {proc.returncode}) before it could be killed: {err[-2000:]}")
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail("no records appeared in time")


def check_final(manifest: dict, records: dict[str, dict], article_keys: list[str], leftovers: list[str]) -> None:
    """Every input once in the manifest, every page stored exactly once, nothing partial."""
    pages = manifest["pages"]
    assert len(pages) == TOTAL and manifest["counts"]["pages"] == TOTAL
    assert len({p["input"] for p in pages}) == TOTAL
    assert {p["status"] for p in pages} <= {"written", "unchanged"}, [p for p in pages if p["status"] == "failed"][:3]
    assert manifest["counts"]["unchanged"] > 0 and manifest["counts"]["written"] > 0  # it did resume
    assert len(article_keys) == TOTAL == len(records), "a page stored twice, or not at all"
    assert set(records) == {p["id"] for p in pages}
    for rec in records.values():
        validate_record(rec)
    assert leftovers == [], f"partial files or objects left behind: {leftovers[:5]}"


def test_killed_local_run_resumes_without_loss_or_duplicates(tmp_path: Path, cli_env: dict[str, str]) -> None:
    pages = make_pages(tmp_path / "pages")
    out = tmp_path / "out"
    args = ["run", str(pages), "--out", str(out), "--batch-size", "5", "--no-progress"]
    articles = out / "articles"

    def count() -> int:
        return sum(1 for p in articles.rglob("*.json")) if articles.exists() else 0

    stored = kill_midway(start(args, cli_env), count)
    assert 0 < stored < TOTAL, f"killed with {stored} of {TOTAL} records"
    assert not list((out / "runs").glob("*.json")), "the killed run cannot have finished its manifest"
    for path in articles.rglob("*.json"):  # what exists after the kill is whole
        json.loads(path.read_text(encoding="utf-8"))
    orphans = list((out / ".writing").iterdir())
    assert any(p.name.endswith(".pages.jsonl") for p in orphans), "the killed run's manifest spool should be left"

    again = subprocess.run([EXE, *args], env=cli_env, capture_output=True, check=False, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]

    (manifest_path,) = (out / "runs").glob("*.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    records = {}
    for path in articles.rglob("*.json"):
        rec = json.loads(path.read_text(encoding="utf-8"))
        assert path.stem == rec["id"]
        records[rec["id"]] = rec
    every_file = [p for p in out.rglob("*") if p.is_file()]
    for path in every_file:
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
    # The killed run's temporary files (in .writing/, never renamed into place) are swept by the next run.
    # The duplicate index's lock file stays by design (removing a lock file races); it holds no data.
    lock = out / "state" / ".dedupe-index.bin.lock"
    assert lock.exists() and lock.stat().st_size == 0
    leftovers = [str(p.relative_to(out)) for p in every_file if p != lock and (
                 p.name.endswith((".tmp", ".pages.jsonl")) or p.name.startswith(".") or ".writing" in p.parts)]
    check_final(manifest, records, [str(p) for p in articles.rglob("*.json")], leftovers)
    assert not (out / "failed").exists() or not list((out / "failed").rglob("*.json"))
    assert manifest["counts"]["unchanged"] == stored or manifest["counts"]["unchanged"] >= stored


def test_killed_s3_run_resumes_without_loss_or_duplicates(
    tmp_path: Path, s3_cli_env: dict[str, str], moto_server: MotoServer, s3_bucket: str
) -> None:
    pages = make_pages(tmp_path / "pages")
    prefix = "crawl/"
    url = f"s3://{s3_bucket}/{prefix}"
    args = ["run", str(pages), "--out", url, "--batch-size", "5", "--no-progress",
            "--s3-endpoint-url", moto_server.url, "--s3-addressing-style", "path"]
    client = moto_server.client()

    def keys(folder: str) -> list[str]:
        found = []
        for listing in client.get_paginator("list_objects_v2").paginate(Bucket=s3_bucket, Prefix=prefix + folder):
            found += [o["Key"] for o in listing.get("Contents", [])]
        return found

    stored = kill_midway(start(args, s3_cli_env), lambda: len(keys("articles/")))
    assert 0 < stored < TOTAL, f"killed with {stored} of {TOTAL} records"
    assert keys("runs/") == [], "the killed run cannot have published its manifest"

    again = subprocess.run([EXE, *args], env=s3_cli_env, capture_output=True, check=False, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]

    (manifest_key,) = keys("runs/")
    manifest = json.loads(client.get_object(Bucket=s3_bucket, Key=manifest_key)["Body"].read())
    article_keys = keys("articles/")
    records = {}
    for key in article_keys:
        rec = json.loads(client.get_object(Bucket=s3_bucket, Key=key)["Body"].read())
        assert key.endswith(f"/{rec['id']}.json")
        records[rec["id"]] = rec
    every_key = keys("")
    for key in every_key:
        if key.endswith(".json"):
            json.loads(client.get_object(Bucket=s3_bucket, Key=key)["Body"].read())
    leftovers = [k for k in every_key if k.endswith(".tmp") or "/." in k]
    check_final(manifest, records, article_keys, leftovers)
    assert keys("failed/") == []
