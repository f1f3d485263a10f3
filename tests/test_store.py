"""The stores: the record contract, the local store's atomic writes, and one contract both stores pass.

The contract tests at the end run twice, on a local folder and on S3 (moto's
server on loopback), through the same ``Store`` interface.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import pytest

from pagescrub.tasks.batch import clean_bytes, write_page
from pagescrub.tasks.extract import Article
from pagescrub.tasks.load import PageInput
from pagescrub.tasks.record import RecordInvalid, build_record, record_id, validate_record
from pagescrub.tasks.store import LocalStore, Store, StoreConfigError, article_key, open_store, raw_meta_key, snapshot

TEXT = "First paragraph of the article with enough words to count.\n\nSecond paragraph, also real text."


def _article(**over) -> Article:
    base = dict(text=TEXT, html="<p>x</p>", method="html", encoding="utf-8", title="A headline",
                authors=["Jane Doe"], published_at="2022-02-09T00:00:00+00:00")
    base.update(over)
    return Article(**base)


def _page(key: str = "a/page.html", url: str | None = None) -> PageInput:
    return PageInput(location=f"/data/{key}", kind="file", url=url, key=key)


def test_record_is_valid_and_id_is_stable() -> None:
    rec = build_record(_article(), _page())
    validate_record(rec)
    assert rec["id"] == build_record(_article(), _page())["id"] == record_id(_page())
    assert rec["id"] != record_id(_page("b/page.html"))
    assert rec["word_count"] == len(TEXT.split())
    assert rec["schema_version"] == "1.0"
    assert rec["extractor"]["method"] == "html"


def test_id_comes_from_the_normalized_url_when_known() -> None:
    a = record_id(_page("x.html", "https://Example.org/story?utm_source=tw#top"))
    b = record_id(_page("other/y.html", "https://example.org/story"))
    assert a == b


def test_content_hash_ignores_retrieved_at_but_not_content() -> None:
    from datetime import datetime

    r1 = build_record(_article(), _page(), datetime(2020, 1, 1, tzinfo=UTC))
    r2 = build_record(_article(), _page(), datetime(2024, 1, 1, tzinfo=UTC))
    r3 = build_record(_article(title="Another headline"), _page())
    assert r1["retrieved_at"] != r2["retrieved_at"]
    assert r1["content_hash"] == r2["content_hash"] != r3["content_hash"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", ""), ("published_at", "2022-02-09"), ("language", "English"), ("authors", [""]), ("text", "")],
)
def test_schema_rejects_placeholders_and_bad_formats(field: str, value) -> None:
    rec = build_record(_article(), _page())
    rec[field] = value
    with pytest.raises(RecordInvalid, match=field):
        validate_record(rec)


def test_put_article_writes_then_reports_unchanged_then_replaces(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.ensure()
    rec = build_record(_article(), _page())
    wrote = store.put_article(rec)
    assert (wrote.status, wrote.replaced) == ("written", False)
    path = store.article_path(rec["id"])
    assert (wrote.objects, wrote.nbytes) == (1, path.stat().st_size)
    mtime = path.stat().st_mtime_ns
    again = build_record(_article(), _page())
    assert store.put_article(again) == ("unchanged", False, 0, 0)
    assert path.stat().st_mtime_ns == mtime
    changed = build_record(_article(text=TEXT + "\n\nA correction was added."), _page())
    assert store.put_article(changed)[:2] == ("written", True)
    assert json.loads(path.read_text())["text"].endswith("A correction was added.")
    assert not list(tmp_path.rglob("*.tmp"))


def test_corrupt_stored_record_is_rewritten(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    rec = build_record(_article(), _page())
    path = store.article_path(rec["id"])
    path.parent.mkdir(parents=True)
    path.write_text('{"id": "trunc')
    assert store.put_article(rec)[0] == "written"
    assert json.loads(path.read_text())["content_hash"] == rec["content_hash"]


def test_failed_atomic_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path)
    rec = build_record(_article(), _page())

    def boom(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        store.put_article(rec)
    folder = store.article_path(rec["id"]).parent
    assert list(folder.iterdir()) == []


def test_unsafe_ids_cannot_escape_the_store(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    for bad in ("../../etc/passwd", "/abs", "ABCDEF0123", ""):
        with pytest.raises(ValueError):
            store.article_path(bad)


def test_manifest_streams_entries_into_one_json_object(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    writer = store.manifest("run-1")
    for i in range(3):
        writer.add({"input": f"p{i}", "status": "written", "id": f"{i:032x}"})
    path = writer.close({"run_id": "run-1", "counts": {"pages": 3}})
    data = json.loads(path.read_text())
    assert data["run_id"] == "run-1"
    assert [p["input"] for p in data["pages"]] == ["p0", "p1", "p2"]
    assert sorted(x.name for x in (tmp_path / "runs").iterdir()) == ["run-1.json"]


def test_empty_manifest_is_valid_json(tmp_path: Path) -> None:
    path = LocalStore(tmp_path).manifest("r").close({})
    assert json.loads(path.read_text()) == {"pages": []}


# -- the store contract: the same tests on a local folder and on S3 ---------------------------------

ARTICLE = (
    "<html><head><title>Storm repairs finished | Coast Times</title></head><body><article>"
    + "".join(f"<p>Paragraph {i}: the harbour wall was rebuilt with granite blocks after the storm damaged it.</p>" for i in range(6))
    + "</article></body></html>"
).encode()


@dataclass
class Harness:
    """A store plus a view of everything around it, to prove nothing lands outside its prefix."""

    store: Store
    everything: Callable[[], list[str]]  # every object/file in the bucket or the test's folder
    inside: str  # what every one of them must start with

    def stored(self) -> list[str]:
        return sorted(self.everything())


@pytest.fixture(params=["local", "s3"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    if request.param == "local":
        root = tmp_path / "store"
        store = open_store(str(root))
        assert isinstance(store, LocalStore)
        return Harness(store, lambda: [str(p) for p in tmp_path.rglob("*") if p.is_file()], str(root) + os.sep)
    bucket = request.getfixturevalue("s3_bucket")
    server = request.getfixturevalue("moto_server")
    store = open_store(f"s3://{bucket}/news/2024", request.getfixturevalue("s3_options"))
    client = server.client()

    def keys() -> list[str]:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [o["Key"] for page in pages for o in page.get("Contents", [])]

    return Harness(store, keys, "news/2024/")


def test_contract_write_unchanged_replace(harness: Harness) -> None:
    store = harness.store
    store.ensure()
    rec = build_record(_article(), _page())
    first = store.put_article(rec)
    assert (first.status, first.replaced, first.objects) == ("written", False, 1)
    assert store.get_article(rec["id"]) == rec
    assert first.nbytes == len(json.dumps(rec, ensure_ascii=False, indent=1)) + 1
    assert store.put_article(build_record(_article(), _page())) == ("unchanged", False, 0, 0)
    changed = build_record(_article(title="A corrected headline"), _page())
    assert store.put_article(changed)[:2] == ("written", True)
    assert store.get_article(rec["id"])["title"] == "A corrected headline"
    assert list(store.article_ids()) == [rec["id"]]
    assert all(k.startswith(harness.inside) for k in harness.stored())
    assert [k for k in harness.stored() if "/articles/" in "/" + k.replace(os.sep, "/")] != []


def test_contract_corrupt_record_is_rewritten(harness: Harness) -> None:
    store = harness.store
    rec = build_record(_article(), _page())
    store._put(article_key(rec["id"]), b'{"id": "trunc', content_type="application/json")
    assert store.put_article(rec)[:2] == ("written", True)
    assert store.get_article(rec["id"])["content_hash"] == rec["content_hash"]


def test_contract_raw_snapshot_round_trip_and_unchanged(harness: Harness) -> None:
    store = harness.store
    page = PageInput(location="/data/site/story.HTML", kind="file", url="https://example.org/story", key="site/story.HTML")
    rid = record_id(page)
    snap = snapshot(rid, ARTICLE, location=page.location, kind=page.kind, url=page.url, key=page.key, content_type="text/html")
    wrote = store.put_raw(snap)
    assert (wrote.status, wrote.objects) == ("written", 2)
    assert wrote.nbytes > len(snap.gz)
    back = store.get_raw(rid)
    assert back is not None and back.meta == snap.meta and back.data() == ARTICLE
    assert back.meta.ext == "html" and back.meta.url == "https://example.org/story"
    raw_keys = [k for k in harness.stored() if k.endswith(".gz")]
    assert len(raw_keys) == 1 and raw_keys[0].replace(os.sep, "/").endswith(f"raw/{rid[:2]}/{rid}.html.gz")
    assert gzip.decompress(store._get(f"raw/{rid[:2]}/{rid}.html.gz")) == ARTICLE
    assert store.put_raw(snap) == ("unchanged", False, 0, 0)
    newer = snapshot(rid, ARTICLE + b"<!-- edited -->", location=page.location, kind=page.kind, url=page.url, key=page.key)
    assert store.put_raw(newer)[:2] == ("written", True)
    assert store.get_raw(rid).data().endswith(b"<!-- edited -->")
    assert list(store.raw_ids()) == [rid]


def test_contract_tampered_raw_snapshot_is_refused(harness: Harness) -> None:
    store = harness.store
    rid = "ab" * 16
    snap = snapshot(rid, ARTICLE, location="x.html", kind="file", url=None, key="x.html")
    store.put_raw(snap)
    store._put(f"raw/ab/{rid}.html.gz", gzip.compress(b"something else"), content_type="application/gzip")
    with pytest.raises(Exception, match="does not match its hash"):
        store.get_raw(rid).data()
    meta = json.loads(store._get(raw_meta_key(rid)))
    meta["id"] = "cd" * 16  # a description pointing at another id
    store._put(raw_meta_key(rid), json.dumps(meta).encode(), content_type="application/json")
    with pytest.raises(Exception, match="names another id"):
        store.get_raw(rid)


def test_contract_failed_entries_are_written_then_cleared(harness: Harness) -> None:
    store = harness.store
    entry = {"id": "0123456789abcdef0123456789abcdef", "stage": "extract", "reason": "no article found"}
    assert store.put_failed(entry).objects == 1
    assert store.get_failed(entry["id"]) == entry
    store.clear_failed(entry["id"])
    store.clear_failed(entry["id"])  # clearing twice is fine
    assert store.get_failed(entry["id"]) is None


@pytest.mark.parametrize(
    "name",
    [
        "../../../../etc/passwd",
        "/etc/passwd",
        "..",
        ".",
        "",
        "a/../../b",
        "\\\\server\\share\\..\\x",
        "https://example.org/a b/../../c?d=../e#f",
        "x" * 5000,
        "名前 with spaces\x00\n\t<>|*?\"'`$(rm -rf)",
        "..hidden",
    ],
)
def test_contract_odd_names_stay_inside_the_prefix(harness: Harness, name: str) -> None:
    store = harness.store
    key = store.put_state(name, b"v")
    assert key.startswith("state/") and key.count("/") == 1
    segment = key.split("/", 1)[1]
    assert segment and not segment.startswith(".") and len(segment) <= 120
    assert store.get_state(name) == b"v"
    assert store.location(key).startswith(harness.store.url)
    stored = harness.stored()
    assert len(stored) == 1 and stored[0].startswith(harness.inside), stored
    # Two different hostile names never share a key.
    assert store.put_state(name + "/", b"w") != key


def test_contract_hostile_page_names_and_urls_stay_inside_the_prefix(harness: Harness) -> None:
    """Whatever a file name or URL holds, keys come from the hex id and a whitelisted extension."""
    store = harness.store
    pages = [
        PageInput(location="/../../etc/cron.d/x.html", kind="file", key="../../etc/cron.d/x.html"),
        PageInput(location="C:\\..\\..\\win.ini", kind="file", key="C:\\..\\..\\win.ini"),
        PageInput(location="https://evil.example/../../x", kind="http", url="https://evil.example/%2e%2e/%2e%2e/x?a=/../b",
                  key="https://evil.example/../../x"),
        PageInput(location="/data/" + "y" * 3000 + ".ht\x00ml", kind="file", key="y" * 3000 + ".ht\x00ml"),
        PageInput(location="/data/odd.$(reboot)", kind="file", key="odd.$(reboot)"),
    ]
    for page in pages:
        entry, objects, _ = write_page(store, clean_bytes(page, ARTICLE))
        assert entry["status"] == "written", entry
        assert objects == 3  # raw bytes, raw description, record
    stored = harness.stored()
    assert len(stored) == 3 * len(pages)
    assert all(k.startswith(harness.inside) for k in stored), stored
    rel = sorted(k[len(harness.inside):].replace(os.sep, "/") for k in stored)
    assert all(r.split("/")[0] in ("articles", "raw") and ".." not in r.split("/") for r in rel), rel
    assert {r.rsplit(".", 2)[-2] for r in rel if r.endswith(".gz")} <= {"html", "ini", "bin"}


def test_contract_unsafe_ids_are_refused(harness: Harness) -> None:
    for bad in ("../../etc/passwd", "/abs", "ABCDEF0123", ""):
        with pytest.raises(ValueError):
            harness.store.put_article({"id": bad, "content_hash": "sha256:0"})
        with pytest.raises(ValueError):
            harness.store.put_failed({"id": bad})
    assert harness.stored() == []


def test_contract_concurrent_writes_lose_nothing(harness: Harness) -> None:
    store = harness.store
    records = [build_record(_article(title=f"Headline {i}"), _page(f"p/{i}.html")) for i in range(40)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(store.put_article, records))
    assert [r.status for r in results] == ["written"] * 40
    assert sorted(store.article_ids()) == sorted(r["id"] for r in records)
    for rec in records[::7]:
        assert store.get_article(rec["id"])["title"] == rec["title"]


def test_contract_manifest_is_one_json_object_in_runs(harness: Harness) -> None:
    store = harness.store
    writer = store.manifest("run-1")
    for i in range(3):
        writer.add({"input": f"p{i}", "status": "written", "id": f"{i:032x}"})
    where = str(writer.close({"run_id": "run-1", "counts": {"pages": 3}}))
    assert where.startswith(store.url) and where.endswith("runs/run-1.json")
    data = json.loads(store._get("runs/run-1.json"))
    assert data["run_id"] == "run-1" and [p["input"] for p in data["pages"]] == ["p0", "p1", "p2"]
    assert [k for k in harness.stored() if "runs" in k] == [k for k in harness.stored() if k.endswith("run-1.json")]


def test_local_ensure_fails_early_on_an_unusable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreConfigError, match="cannot write"):
        LocalStore(blocker / "out").ensure()
    with pytest.raises(StoreConfigError, match="no such store folder"):
        LocalStore(tmp_path / "missing").ensure(writable=False)


def test_open_store_picks_by_url(tmp_path: Path) -> None:
    assert isinstance(open_store(str(tmp_path)), LocalStore)
    with pytest.raises(ValueError, match="unsupported store"):
        open_store("gs://bucket/x")
    digest = hashlib.sha256(b"x").hexdigest()  # ids are hex; a path that looks like one is still a path
    assert isinstance(open_store(str(tmp_path / digest)), LocalStore)


# -- temporary files of a local store: where they go, and who sweeps them ------------------------------


def _dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_local_writes_go_through_writing_folder_named_after_the_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path)
    store.ensure()
    renamed: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        renamed.append((os.fspath(src), os.fspath(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    rec = build_record(_article(), _page())
    store.put_article(rec)
    writer = store.manifest("run-1")
    spool = list((tmp_path / ".writing").iterdir())  # the manifest's spool of page entries, while the run goes
    writer.close({"run_id": "run-1"})
    assert [Path(d) for _, d in renamed] == [store.article_path(rec["id"]), tmp_path / "runs" / "run-1.json"]
    for src, _ in renamed:
        assert Path(src).parent == tmp_path / ".writing"
        assert re.fullmatch(rf"{os.getpid()}@[^/@]+-[0-9a-f]{{16}}\.tmp", Path(src).name), src
    assert [p.name.endswith(".pages.jsonl") and p.name.startswith(f"{os.getpid()}@") for p in spool] == [True]
    assert list((tmp_path / ".writing").iterdir()) == []
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["run-1.json"]


def test_ensure_sweeps_temporary_files_of_dead_processes_only(tmp_path: Path) -> None:
    from pagescrub.tasks import store as store_module

    store = LocalStore(tmp_path)
    store.ensure()
    writing = tmp_path / ".writing"
    host = store_module._HOST
    dead, token = _dead_pid(), "0123456789abcdef"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        names = {
            "dead": f"{dead}@{host}-{token}.tmp",
            "dead_spool": f"{dead}@{host}-{token}.pages.jsonl",
            "live": f"{sleeper.pid}@{host}-{token}.tmp",  # a concurrent run on this host
            "other_host": f"{dead}@elsewhere.example-{token}.tmp",  # a shared folder: not ours to judge
            "mine": f"{os.getpid()}@{host}-{token}.tmp",  # this process, writing right now
            "reused_pid": f"{os.getpid()}@{host}-{'f' * 16}.tmp",  # an earlier process that had our pid
            "unknown": "notes.txt",
        }
        for name in names.values():
            (writing / name).write_bytes(b"partial")
        old = store_module._IMPORTED - 3600
        os.utime(writing / names["reused_pid"], (old, old))
        store.ensure()
        assert sorted(p.name for p in writing.iterdir()) == sorted(
            names[k] for k in ("live", "other_host", "mine", "unknown")
        )
    finally:
        sleeper.kill()
        sleeper.wait()
    assert sorted(store.sweep_orphans()) == [names["live"]]  # its process is gone now


def test_a_killed_writer_leaves_nothing_after_the_next_ensure(tmp_path: Path) -> None:
    """SIGKILL between the temporary file and its rename (what test_kill_restart does to a whole run)."""
    code = (
        "import os, signal, sys\n"
        "from pagescrub.tasks import store as s\n"
        "st = s.LocalStore(sys.argv[1]); st.ensure()\n"
        "w = st.manifest('killed'); w.add({'input': 'x'})\n"
        "real = os.replace\n"
        "os.replace = lambda a, b: os.kill(os.getpid(), signal.SIGKILL)\n"
        "st.put_state('validators', b'v')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    left = sorted(p.name.rsplit(".", 1)[-1] for p in (tmp_path / ".writing").iterdir())
    assert left == ["jsonl", "tmp"]  # the spool and the state file's temporary copy
    LocalStore(tmp_path).ensure()
    assert list((tmp_path / ".writing").iterdir()) == []
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
