"""The near-duplicate step: seeds linked as expected.json says, across runs through the store."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pagescrub.tasks.extract import extract_article
from pagescrub.tasks.link import DuplicateLinker
from pagescrub.tasks.load import PageInput, read_page_bytes
from pagescrub.tasks.record import build_record, validate_record
from pagescrub.tasks.store import LocalStore, StateConflict, Store

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


def _store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    if kind == "local":
        store: Store = LocalStore(tmp_path)
    else:
        from pagescrub.tasks.s3store import S3Store

        store = S3Store(request.getfixturevalue("s3_bucket"), "news/", request.getfixturevalue("s3_options"))
    store.ensure()
    return store


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_put_state_if_writes_only_over_the_version_read(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    store = _store(kind, tmp_path, request)
    assert store.read_state("idx") == (None, None)
    store.put_state_if("idx", b"one", None)
    with pytest.raises(StateConflict):
        store.put_state_if("idx", b"not there before?", None)  # it is there now
    data, version = store.read_state("idx")
    assert data == b"one" and version
    store.put_state_if("idx", b"two", version)
    with pytest.raises(StateConflict):
        store.put_state_if("idx", b"three", version)  # stale: "two" was written over it
    assert store.get_state("idx") == b"two"


class _SavesInBetween:
    """A store through which, right after this run reads the index to save it, another run saves first."""

    def __init__(self, store: Store, other: DuplicateLinker) -> None:
        self._store, self._other = store, other

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def read_state(self, name: str) -> tuple[bytes | None, str | None]:
        got = self._store.read_state(name)
        if self._other is not None:
            other, self._other = self._other, None
            other.save()
        return got


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_a_save_overtaken_between_its_read_and_its_write_merges_and_loses_nothing(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The window a check-then-write save left open: the other run's additions used to be overwritten."""
    store = _store(kind, tmp_path, request)
    records = list(_seed_records().values())
    first = DuplicateLinker(store)
    first.link(records[2])
    first.save()
    a = DuplicateLinker(store)
    a.link(records[3])
    b = DuplicateLinker(_SavesInBetween(store, a))  # type: ignore[arg-type]
    b.link(records[4])
    b.save()
    assert a.index is not None and a.index.generation == 2
    final = DuplicateLinker(store)
    assert final.index is not None and final.index.generation == 3
    assert sorted(final.index._ids) == sorted(r["id"] for r in records[2:5])


def test_concurrent_saves_into_one_folder_end_with_the_union(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.ensure()
    records = list(_seed_records().values())
    base = DuplicateLinker(store)
    base.link(records[0])
    base.save()
    runs = [DuplicateLinker(LocalStore(tmp_path)) for _ in range(4)]
    for run, rec in zip(runs, records[1:]):
        run.link(dict(rec))
        run.link(dict(rec, id=rec["id"][::-1], canonical_url=None))  # a second site's exact copy
    barrier = threading.Barrier(len(runs))
    errors: list[BaseException] = []

    def save(run: DuplicateLinker) -> None:
        try:
            barrier.wait()
            run.save()
        except BaseException as exc:  # noqa: BLE001 - reported below  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(run,)) for run in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    final = DuplicateLinker(store)
    assert final.index is not None and final.index.generation == 1 + len(runs)
    expected = {records[0]["id"]} | {i for r in records[1:] for i in (r["id"], r["id"][::-1])}
    assert set(final.index._ids) == expected
    assert [p.name for p in (tmp_path / "state").iterdir() if not p.name.startswith(".")] == ["dedupe-index.bin"]


def test_an_endpoint_without_conditional_writes_gets_a_plain_put(caplog: pytest.LogCaptureFixture) -> None:
    import boto3
    from botocore.stub import Stubber

    from pagescrub.tasks.s3store import S3Store
    from pagescrub.tasks.store import StoreOptions

    client = boto3.client("s3", endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="y")
    store = S3Store("my-bucket", "news/", StoreOptions(retries=3, backoff_base=5.0), client=client)
    with Stubber(client) as stub:
        base = {"Bucket": "my-bucket", "Key": "news/state/idx", "Body": b"blob", "ContentType": "application/octet-stream"}
        stub.add_client_error("put_object", service_error_code="NotImplemented", http_status_code=501,
                              expected_params={**base, "IfNoneMatch": "*"})
        stub.add_response("put_object", {"ETag": '"e"'}, expected_params=base)
        assert store.put_state_if("idx", b"blob", None) == "state/idx"  # no 5 s retry of the 501
        stub.assert_no_pending_responses()
    assert "does not support conditional writes" in caplog.text


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
