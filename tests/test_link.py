"""The near-duplicate step: seeds linked as expected.json says, across runs through the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from pagescrub.tasks.extract import extract_article
from pagescrub.tasks.link import DuplicateLinker
from pagescrub.tasks.load import PageInput, read_page_bytes
from pagescrub.tasks.record import build_record, validate_record
from pagescrub.tasks.store import LocalStore

from .conftest import SEEDS


def _seed_records() -> dict[str, dict]:
    out = {}
    for path in sorted(SEEDS.glob("*.txt")):
        article = extract_article(read_page_bytes(path))
        out[path.name] = build_record(article, PageInput(location=str(path), key=path.name))
    return out


def test_seeds_link_only_the_syndicated_pair(tmp_path: Path, seeds_expected: dict) -> None:
    store = LocalStore(tmp_path)
    store.ensure()
    linker = DuplicateLinker(store)
    records = _seed_records()
    for rec in records.values():
        linker.link(rec)
        validate_record(rec)
    ids = {name: rec["id"] for name, rec in records.items()}
    linked = {frozenset([name, next(n for n, i in ids.items() if i == rec["duplicate_of"])])
              for name, rec in records.items() if rec["duplicate_of"]}
    assert linked == {frozenset(pair) for pair in seeds_expected["near_duplicates"]}
    first, second = sorted(seeds_expected["near_duplicates"][0])
    assert records[second]["duplicate_of"] == ids[first]
    assert records[first]["cluster_id"] == records[second]["cluster_id"] == ids[first]
    assert records["002_7bc585f0f75b8e8e.txt"]["cluster_id"] == ids["002_7bc585f0f75b8e8e.txt"]
    assert linker.linked == 1


def test_index_persists_across_runs_and_reruns_are_stable(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.ensure()
    records = _seed_records()
    original = records["000_7004b33b0c6d42ec.txt"]
    run1 = DuplicateLinker(store)
    run1.link(original)
    run1.save()
    assert store.get_state("dedupe-index.bin")

    # Next week: another site's copy of the same story, and a re-run of the first page.
    copy_text = original["text"].replace("\u2019", "'") + "\n\nRead the original article on Example News"
    copy = dict(original, id="f" * 32, text=copy_text, canonical_url=None)
    run2 = DuplicateLinker(store)
    run2.link(copy)
    again = dict(original)
    run2.link(again)
    assert copy["duplicate_of"] == original["id"]
    assert again["duplicate_of"] is None and again["cluster_id"] == original["id"]
    assert again["content_hash"] == original["content_hash"], "a re-run must not look changed"


def test_concurrent_runs_merge_their_indexes(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.ensure()
    records = list(_seed_records().values())
    a, b = DuplicateLinker(store), DuplicateLinker(store)
    a.link(records[2])
    b.link(records[3])
    a.save()
    b.save()  # finds a's newer index, merges, saves
    merged = DuplicateLinker(store)
    assert merged.index is not None and len(merged.index) == 2


def test_linking_off_leaves_fields_null(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    records = _seed_records()
    linker = DuplicateLinker(store, enabled=False)
    for rec in records.values():
        linker.link(rec)
    assert all(r["duplicate_of"] is None and r["cluster_id"] is None for r in records.values())
    linker.save()
    assert store.get_state("dedupe-index.bin") is None


def test_reclean_keeps_links_whatever_the_order(tmp_path: Path) -> None:
    src, dst = LocalStore(tmp_path / "src"), LocalStore(tmp_path / "dst")
    src.ensure()
    dst.ensure()
    records = _seed_records()
    first = DuplicateLinker(src)
    for rec in records.values():
        first.link(rec)
    first.save()
    again = DuplicateLinker(src, save_to=dst)
    for name in reversed(list(records)):  # another order than the original run's
        rec = dict(records[name])
        again.link(rec)
        assert rec["duplicate_of"] == records[name]["duplicate_of"]
    again.save()
    assert dst.get_state("dedupe-index.bin")


def test_apply_link_refuses_ids_that_are_not_record_ids() -> None:
    """Only the two link fields change after a record is validated: they are checked on their own."""
    from pagescrub.tasks.record import RecordInvalid, apply_link

    record = {"id": "a" * 32, "text": "x", "duplicate_of": None, "cluster_id": None}
    apply_link(record, "b" * 32, "b" * 32)
    assert record["duplicate_of"] == "b" * 32 and record["content_hash"].startswith("sha256:")
    for bad in ("B" * 32, "b" * 31, "../etc/passwd", 7):
        with pytest.raises(RecordInvalid):
            apply_link(dict(record), bad, "b" * 32)  # type: ignore[arg-type]


def test_apply_link_hash_always_matches_the_record() -> None:
    """Unchanged ids keep the hash without re-hashing; changed ones re-hash; both equal a fresh hash."""
    from pagescrub.tasks.record import apply_link, content_hash

    record = {"id": "a" * 32, "text": "x", "duplicate_of": None, "cluster_id": None}
    record["content_hash"] = first = content_hash(record)
    apply_link(record, None, None)
    assert record["content_hash"] == first == content_hash(record)
    apply_link(record, "b" * 32, "b" * 32)
    assert record["content_hash"] != first and record["content_hash"] == content_hash(record)
    apply_link(record, None, "b" * 32)
    assert record["duplicate_of"] is None and record["content_hash"] == content_hash(record)
    apply_link(record, None, None)
    assert record["content_hash"] == first
    bare = {"id": "a" * 32, "text": "x"}  # no link fields yet: they are set and hashed
    apply_link(bare, None, None)
    assert bare["duplicate_of"] is None and bare["content_hash"] == content_hash(bare)
