"""The flows against S3 (moto's server on loopback) and the local store: runs, re-runs, faults, reclean.

The console script is run as a subprocess where the command line is what is
tested (exit codes, messages); elsewhere the flows are called in-process,
which is quicker and lets a test stop the endpoint in the middle of a run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from pagescrub.tasks.record import validate_record
from pagescrub.tasks.store import LocalStore, StoreOptions, open_store

from .conftest import SEEDS, MotoServer
from .seedcheck import problems

pytestmark = pytest.mark.prefect

EXE = str(Path(sys.executable).with_name("pagescrub"))


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], env=env, capture_output=True, check=False, text=True, timeout=300)


def _objects(server: MotoServer, bucket: str, prefix: str) -> dict[str, dict[str, Any]]:
    """Every object under ``prefix``: key (relative) to its listing entry."""
    pages = server.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {o["Key"][len(prefix):]: o for page in pages for o in page.get("Contents", [])}


def _records(store) -> dict[str, dict[str, Any]]:
    """The store's records by the name of the page they came from."""
    recs = {}
    for rid in store.article_ids():
        rec = store.get_article(rid)
        recs[Path(rec["source"]["location"]).name] = rec
    return recs


def _same_records(a: dict[str, dict], b: dict[str, dict]) -> None:
    assert sorted(a) == sorted(b)
    for name in a:
        left = {k: v for k, v in a[name].items() if k != "retrieved_at"}
        right = {k: v for k, v in b[name].items() if k != "retrieved_at"}
        assert left == right, name


def _s3_args(server: MotoServer) -> list[str]:
    return ["--s3-endpoint-url", server.url, "--s3-addressing-style", "path", "--no-progress"]


def test_cli_run_to_s3_writes_valid_records_and_a_rerun_writes_nothing(
    s3_cli_env: dict[str, str], moto_server: MotoServer, s3_bucket: str, seeds_expected: dict
) -> None:
    out = f"s3://{s3_bucket}/news/"
    first = _cli(["run", str(SEEDS), "--out", out, *_s3_args(moto_server)], s3_cli_env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert f"{out}articles/" in first.stdout

    store = open_store(out, StoreOptions(endpoint_url=moto_server.url))
    recs = _records(store)
    assert sorted(recs) == sorted(seeds_expected["pages"])
    for name, rec in recs.items():
        validate_record(rec)
        assert problems(seeds_expected["pages"][name], rec) == [], name

    objects = _objects(moto_server, s3_bucket, "news/")
    folders = sorted({k.split("/")[0] for k in objects})
    assert folders == ["articles", "raw", "runs", "state"]  # state/: the near-duplicate index
    assert len([k for k in objects if k.startswith("articles/")]) == 5
    assert len([k for k in objects if k.startswith("raw/") and k.endswith(".txt.gz")]) == 5
    (run_key,) = [k for k in objects if k.startswith("runs/")]
    manifest = json.loads(store._get(run_key))
    assert manifest["counts"] == {"pages": 5, "written": 5, "unchanged": 0, "failed": 0, "replaced": 0}
    assert manifest["store"]["objects_written"] == 15  # 5 records, 5 raw snapshots and their 5 descriptions
    written_bytes = sum(o["Size"] for k, o in objects.items() if not k.startswith(("runs/", "state/")))
    assert manifest["store"]["bytes_written"] == written_bytes
    assert manifest["duplicates"]["index_bytes"] == sum(o["Size"] for k, o in objects.items() if k.startswith("state/"))

    second = _cli(["run", str(SEEDS), "--out", out, *_s3_args(moto_server)], s3_cli_env)
    assert second.returncode == 0, second.stderr[-3000:]
    after = _objects(moto_server, s3_bucket, "news/")
    runs = sorted(k for k in after if k.startswith("runs/"))
    assert len(runs) == 2
    again = json.loads(store._get(runs[-1]))
    assert again["counts"]["unchanged"] == 5 and again["counts"]["written"] == 0
    assert again["store"]["objects_written"] == 0 and again["store"]["bytes_written"] == 0
    unchanged = {k: (o["ETag"], o["LastModified"]) for k, o in objects.items() if not k.startswith("runs/")}
    assert {k: (o["ETag"], o["LastModified"]) for k, o in after.items() if not k.startswith("runs/")} == unchanged


def test_cli_reclean_s3_into_another_prefix_gives_the_same_records(
    s3_cli_env: dict[str, str], moto_server: MotoServer, s3_bucket: str, prefect_api_url: str
) -> None:
    from pagescrub.flows.scrape import scrape

    options = StoreOptions(endpoint_url=moto_server.url, addressing_style="path")
    original = scrape(paths=[str(SEEDS)], out=f"s3://{s3_bucket}/news/", store_options=options)
    assert original["counts"]["written"] == 5

    result = _cli(["reclean", f"s3://{s3_bucket}/news/", "--out", f"s3://{s3_bucket}/news-v2/", *_s3_args(moto_server)], s3_cli_env)
    assert result.returncode == 0, result.stderr[-3000:]
    source = open_store(f"s3://{s3_bucket}/news/", options)
    copy = open_store(f"s3://{s3_bucket}/news-v2/", options)
    _same_records(_records(source), _records(copy))
    assert sorted(copy.raw_ids()) == sorted(source.raw_ids())  # the copy can be re-cleaned in turn
    assert copy.get_raw(next(copy.raw_ids())).data() == source.get_raw(next(source.raw_ids())).data()

    # Re-cleaning in place with the same cleaner changes nothing.
    from pagescrub.flows.reclean import reclean

    in_place = reclean(src=f"s3://{s3_bucket}/news/", src_options=options, store_options=options)
    assert in_place["counts"] == {"pages": 5, "written": 0, "unchanged": 5, "failed": 0, "replaced": 0}
    assert in_place["store"]["objects_written"] == 0


def test_reclean_local_snapshots_without_the_original_files(tmp_path: Path, prefect_api_url: str) -> None:
    from pagescrub.flows.reclean import reclean
    from pagescrub.flows.scrape import scrape

    pages = tmp_path / "pages"
    pages.mkdir()
    for seed in sorted(SEEDS.glob("*.txt"))[:3]:
        (pages / seed.name).write_bytes(seed.read_bytes())
    (pages / "empty.html").write_bytes(b"")
    (pages / "login.html").write_text("<html><body><form><input type=password></form><p>Sign in</p></body></html>")
    first = scrape(paths=[str(pages)], out=str(tmp_path / "out"))
    assert first["counts"]["written"] == 3 and first["counts"]["failed"] == 2
    snapshot_dir = tmp_path / "out" / "raw"
    assert len(list(snapshot_dir.rglob("*.gz"))) == 5  # every page that could be read, failed or not

    # The original files are gone: reclean needs only the store.
    for page in pages.iterdir():
        page.unlink()
    result = reclean(src=str(tmp_path / "out"), out=str(tmp_path / "v2"))
    assert result["counts"]["written"] == 3 and result["counts"]["failed"] == 2
    failures = {Path(p["input"]).name: p["reason"] for p in json.loads(Path(result["manifest"]).read_text())["pages"]
                if p["status"] == "failed"}
    assert failures["login.html"].startswith("no article found") and failures["empty.html"].startswith("empty input")
    assert len(list((tmp_path / "v2" / "failed").rglob("*.json"))) == 2
    _same_records(_records(LocalStore(tmp_path / "out")), _records(LocalStore(tmp_path / "v2")))


def test_endpoint_down_mid_run_reports_unsent_records_and_the_next_run_completes_the_set(
    aws_env: dict, prefect_api_url: str
) -> None:
    from pagescrub.flows.scrape import reporting, scrape

    server = MotoServer().start()
    try:
        bucket = f"flaky-{uuid.uuid4().hex[:10]}"
        server.client().create_bucket(Bucket=bucket)
        out = f"s3://{bucket}/news/"
        options = StoreOptions(endpoint_url=server.url, addressing_style="path", max_attempts=2, retries=2, backoff_base=0.01)
        batches: list[list[dict]] = []

        def stop_after_first_batch(entries: list[dict]) -> None:
            batches.append(entries)
            if len(batches) == 1:
                server.stop()

        with reporting(stop_after_first_batch):
            first = scrape(paths=[str(SEEDS)], out=out, batch_size=2, store_options=options)

        assert [e["status"] for e in batches[0]] == ["written", "written"]
        assert first["counts"]["written"] == 2 and first["counts"]["failed"] == 3
        assert first["store"]["unsent"] == 3
        manifest_path = Path(first["manifest"])
        assert manifest_path.is_file()  # the store was down: the manifest was kept on local disk
        manifest = json.loads(manifest_path.read_text())
        unsent = [p for p in manifest["pages"] if p["status"] == "failed"]
        assert len(unsent) == 3
        assert all(p["stage"] == "store" and p["reason"].startswith("store unavailable: ") for p in unsent)
        assert manifest["failure_reasons"] == {"store unavailable": 3}
        manifest_path.unlink()

        server.start()  # same port, same (in-memory) buckets
        second = scrape(paths=[str(SEEDS)], out=out, store_options=options)
        assert second["counts"] == {"pages": 5, "written": 3, "unchanged": 2, "failed": 0, "replaced": 0}
        assert {p["id"] for p in unsent} == {
            p["id"] for p in json.loads(open_store(out, options)._get(second["manifest"].split("/news/", 1)[1]))["pages"]
            if p["status"] == "written"
        }
        objects = _objects(server, bucket, "news/")
        articles = [k for k in objects if k.startswith("articles/")]
        assert len(articles) == len(set(articles)) == 5
        store = open_store(out, options)
        for rid in store.article_ids():
            validate_record(store.get_article(rid))  # every object whole
        assert not [k for k in objects if k.startswith("failed/")]
    finally:
        server.stop()


def test_cli_missing_bucket_exits_2_before_any_page(s3_cli_env: dict[str, str], moto_server: MotoServer) -> None:
    result = _cli(["run", str(SEEDS), "--out", "s3://no-such-bucket-x/news/", *_s3_args(moto_server)], s3_cli_env)
    assert result.returncode == 2
    assert "bucket 'no-such-bucket-x' does not exist" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "flow run" not in result.stderr.lower()  # no page was processed: Prefect never started


def test_cli_access_denied_exits_2_before_any_page(s3_cli_env: dict[str, str], moto_server: MotoServer, s3_bucket: str) -> None:
    from moto.core.authorization import enable_iam_authentication

    with enable_iam_authentication():  # the dummy key is now unknown to the endpoint: 403
        result = _cli(["reclean", f"s3://{s3_bucket}/news/", "--out", f"s3://{s3_bucket}/v2/", *_s3_args(moto_server)], s3_cli_env)
    assert result.returncode == 2
    assert f"cannot use bucket '{s3_bucket}'" in result.stderr and "403" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_store_block_names_the_store_and_its_settings(
    s3_cli_env: dict[str, str], moto_server: MotoServer, s3_bucket: str, prefect_api_url: str
) -> None:
    from pagescrub.tasks.store_block import PagescrubStore

    name = f"news-{uuid.uuid4().hex[:8]}"
    PagescrubStore(url=f"s3://{s3_bucket}/blocked/", endpoint_url=moto_server.url, addressing_style="path", max_concurrency=4).save(name)
    result = _cli(["run", str(SEEDS / "000_7004b33b0c6d42ec.txt"), "--store-block", name, "--no-progress"], s3_cli_env)
    assert result.returncode == 0, result.stderr[-3000:]
    objects = _objects(moto_server, s3_bucket, "blocked/")
    assert len([k for k in objects if k.startswith("articles/")]) == 1
    (run_key,) = [k for k in objects if k.startswith("runs/")]
    store = open_store(f"s3://{s3_bucket}/blocked/", StoreOptions(endpoint_url=moto_server.url))
    assert json.loads(store._get(run_key))["store"]["write_concurrency"] == 4

    # A deployment passes the block's name to the flow itself.
    from pagescrub.flows.scrape import scrape

    summary = scrape(paths=[str(SEEDS / "001_458b23e8ecbeef01.txt")], store_block=name)
    assert summary["out"] == f"s3://{s3_bucket}/blocked/" and summary["counts"]["written"] == 1
    assert summary["store"]["write_concurrency"] == 4

    missing = _cli(["run", str(SEEDS), "--store-block", "no-such-block", "--no-progress"], s3_cli_env)
    assert missing.returncode == 2 and "cannot load store block 'no-such-block'" in missing.stderr


def test_unsent_records_fail_the_command_even_with_allow_failures() -> None:
    import typer

    from pagescrub.flows.cli import _exit

    summary = {"counts": {"failed": 2}, "store": {"unsent": 2}}
    with pytest.raises(typer.Exit) as err:
        _exit(summary, allow_failures=True)
    assert err.value.exit_code == 1
    _exit({"counts": {"failed": 2}, "store": {"unsent": 0}}, allow_failures=True)  # page failures alone are allowed


def test_help_on_the_new_command() -> None:
    result = subprocess.run([EXE, "reclean", "--help"], capture_output=True, check=False, text=True, timeout=60)
    assert result.returncode == 0 and "Usage" in result.stdout
    assert "--s3-endpoint-url" in result.stdout and "--store-block" in result.stdout
