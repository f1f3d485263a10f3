"""The local store: atomic writes, unchanged detection, manifests, and the record contract."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pagescrub.tasks.extract import Article
from pagescrub.tasks.load import PageInput
from pagescrub.tasks.record import RecordInvalid, build_record, record_id, validate_record
from pagescrub.tasks.store import LocalStore

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
    from datetime import datetime, timezone

    r1 = build_record(_article(), _page(), datetime(2020, 1, 1, tzinfo=timezone.utc))
    r2 = build_record(_article(), _page(), datetime(2024, 1, 1, tzinfo=timezone.utc))
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
    assert store.put_article(rec) == ("written", False)
    path = store.article_path(rec["id"])
    mtime = path.stat().st_mtime_ns
    again = build_record(_article(), _page())
    assert store.put_article(again) == ("unchanged", False)
    assert path.stat().st_mtime_ns == mtime
    changed = build_record(_article(text=TEXT + "\n\nA correction was added."), _page())
    assert store.put_article(changed) == ("written", True)
    assert json.loads(path.read_text())["text"].endswith("A correction was added.")
    assert not [p for p in tmp_path.rglob("*.tmp")]


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
