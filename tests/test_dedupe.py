"""Near-duplicate linking (issue 8): seeds, synthetic copies, persistence, concurrent saves."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from pagescrub.tasks import dedupe
from pagescrub.tasks.dedupe import (
    DuplicateIndex,
    IndexConflict,
    IndexStateError,
    Link,
    blob_generation,
    normalize_for_dedupe,
    text_hash,
)
from pagescrub.tasks.extract import extract_article
from pagescrub.tasks.load import read_page_bytes

CHROME = [
    "Share this article",
    "Sign up for our daily newsletter and never miss a story",
    "Advertisement",
    "Follow us on Twitter and Instagram",
    "Copyright © 2024 Daily Courier. All rights reserved.",
]


@pytest.fixture(scope="module")
def seeds(seeds_dir: Path) -> dict[str, str]:
    """Clean text of each seed page, by file name, the way the pipeline extracts it."""
    return {p.name: extract_article(read_page_bytes(p)).text for p in sorted(seeds_dir.glob("*.txt"))}


def _paras(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


def _edit(text: str, kind: str, seed: int = 1) -> str:
    """An edited copy: 10% of paragraphs deleted or changed, quotes swapped, chrome lines added."""
    rng = random.Random(seed)
    paras = _paras(text)
    k = max(1, len(paras) // 10)
    if kind in ("delete", "all"):
        for i in sorted(rng.sample(range(len(paras)), k), reverse=True):
            del paras[i]
    if kind in ("change", "all"):
        for i in rng.sample(range(len(paras)), k):
            words = paras[i].split()
            for j in rng.sample(range(len(words)), max(1, len(words) // 2)):
                words[j] = rng.choice(["officials", "said", "on", "Monday", "report"])
            paras[i] = " ".join(words)
    if kind in ("chrome", "all"):
        paras = CHROME[:2] + paras[: len(paras) // 2] + [CHROME[2]] + paras[len(paras) // 2 :] + CHROME[3:]
    out = "\n\n".join(paras)
    if kind in ("quotes", "all"):
        for a, b in (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u2014", "--")):
            out = out.replace(a, b)
        out = out.replace("'", "\u2019") if "\u2019" not in text else out
    return out


def _linked_pairs(order: list[str], texts: dict[str, str]) -> set[tuple[str, str]]:
    index = DuplicateIndex()
    pairs = set()
    for name in order:
        link = index.link(name, texts[name], None)
        if link.duplicate_of is not None:
            pairs.add((name, link.duplicate_of))
    return pairs


# ---------------------------------------------------------------- normalization


def test_normalize_folds_quotes_dashes_case_and_punctuation() -> None:
    a = "Paris is \u2018not the leader\u2019 \u2014 Macron\u2019s \u201cdeal\u201d,  said   PESKOV."
    b = "Paris is 'not the leader' -- Macron's \"deal\" said Peskov"
    assert normalize_for_dedupe(a) == normalize_for_dedupe(b) == "paris is not the leader macrons deal said peskov"


def test_text_hash_is_equal_for_the_two_seed_copies_only(seeds: dict[str, str]) -> None:
    hashes = {name: text_hash(text) for name, text in seeds.items()}
    assert hashes["000_7004b33b0c6d42ec.txt"] == hashes["001_458b23e8ecbeef01.txt"]
    assert hashes["000_7004b33b0c6d42ec.txt"].startswith("sha256:")
    assert len(set(hashes.values())) == 4


def test_permutations_are_datasketchs() -> None:
    """The permutations are drawn without importing datasketch; they must be exactly its affine32 ones."""
    from datasketch import MinHash

    for num_perm in (1, 128, 257):
        a, b = MinHash(num_perm=num_perm, seed=dedupe._SEED, scheme="affine32").permutations
        ours = dedupe._permutations(num_perm)
        assert ours[0].dtype == ours[1].dtype == np.uint32
        assert np.array_equal(ours[0], a) and np.array_equal(ours[1], b)


def test_runtime_does_not_import_datasketch() -> None:
    """datasketch is the tests' reference only: importing it costs the flow process 66 MB."""
    code = (
        "import sys; from pagescrub.tasks import dedupe; import pagescrub.flows.scrape; "
        "dedupe._signature(dedupe._shingle_hashes(dedupe.normalize_for_dedupe('a b c d e f g'), 5), 128); "
        "print('datasketch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_signature_is_datasketch_minhash() -> None:
    """The vectorized signature must stay bit-identical to datasketch's affine32 MinHash (persisted state)."""
    from datasketch import MinHash

    shingles = dedupe._shingle_hashes(normalize_for_dedupe("one two three four five six seven eight " * 4), 5)
    m = MinHash(num_perm=128, seed=dedupe._SEED, scheme="affine32", hashfunc=lambda v: v)
    m.update_batch(shingles.tolist())
    assert np.array_equal((m.hashvalues & 0xFFFF).astype(np.uint16), dedupe._signature(shingles, 128))


# ---------------------------------------------------------------- seeds


@pytest.mark.parametrize("reverse", [False, True], ids=["000-first", "001-first"])
def test_seeds_link_only_the_syndicated_pair(seeds: dict[str, str], seeds_expected: dict, reverse: bool) -> None:
    order = sorted(seeds, reverse=reverse)
    pairs = _linked_pairs(order, seeds)
    (first, second), = [sorted(p, reverse=reverse) for p in seeds_expected["near_duplicates"]]
    assert pairs == {(second, first)}


def test_seeds_on_the_same_event_stay_apart_even_at_a_low_threshold(seeds: dict[str, str]) -> None:
    """002/003/004 report the same event as 000 but are different articles: far below the threshold."""
    base = seeds["000_7004b33b0c6d42ec.txt"]
    for name in ("002_7bc585f0f75b8e8e.txt", "003_c1c75fd31f989258.txt", "004_80973514d3295959.txt"):
        index = DuplicateIndex(threshold=0.2)
        index.link("000", base)
        assert index.link(name, seeds[name]) == Link(None, name, None, None)


# ---------------------------------------------------------------- synthetic copies


@pytest.mark.parametrize("kind", ["delete", "change", "quotes", "chrome", "all"])
@pytest.mark.parametrize("base", ["000_7004b33b0c6d42ec.txt", "002_7bc585f0f75b8e8e.txt",
                                  "003_c1c75fd31f989258.txt", "004_80973514d3295959.txt"])
def test_edited_copy_is_linked_to_its_original(seeds: dict[str, str], base: str, kind: str) -> None:
    original = seeds[base]
    copy = _edit(original, kind)
    assert copy != original
    index = DuplicateIndex()
    index.link("orig", original)
    for other in seeds:  # the other seeds are in the index too and must not attract the copy
        if other != base and text_hash(seeds[other]) != text_hash(original):
            index.link(other, seeds[other])
    link = index.link("copy", copy)
    assert link.duplicate_of == "orig" and link.cluster_id == "orig"
    assert link.reason == ("exact" if kind == "quotes" else "near")
    assert link.similarity is not None and link.similarity >= index.threshold


@pytest.mark.parametrize("base", ["000_7004b33b0c6d42ec.txt", "003_c1c75fd31f989258.txt", "004_80973514d3295959.txt"])
def test_truncated_reprint_links_by_containment(seeds: dict[str, str], base: str) -> None:
    """The first 40% of a story plus chrome: Jaccard ~0.3-0.4, but nearly all of it is in the original."""
    paras = _paras(seeds[base])
    cut = "\n\n".join(paras[: int(len(paras) * 0.4)] + CHROME[:2])
    index = DuplicateIndex()
    index.link("orig", seeds[base])
    link = index.link("cut", cut)
    assert (link.duplicate_of, link.reason) == ("orig", "near")
    assert link.similarity > 0.7  # containment, not the Jaccard


def test_copy_of_a_copy_points_at_the_first_seen(seeds: dict[str, str]) -> None:
    original = seeds["000_7004b33b0c6d42ec.txt"]
    index = DuplicateIndex()
    index.link("a", original)
    assert index.link("b", _edit(original, "chrome")).duplicate_of == "a"
    link = index.link("c", _edit(_edit(original, "chrome"), "change", seed=7))
    assert (link.duplicate_of, link.cluster_id, link.reason) == ("a", "a", "near")


def test_threshold_is_settable_and_used(seeds: dict[str, str]) -> None:
    original = seeds["000_7004b33b0c6d42ec.txt"]
    copy = _edit(original, "all")
    strict = DuplicateIndex(threshold=0.99)
    strict.link("orig", original)
    assert strict.link("copy", copy).duplicate_of is None
    loose = DuplicateIndex()
    loose.link("orig", original)
    loose.threshold = 0.6
    assert loose.link("copy", copy).duplicate_of == "orig"
    with pytest.raises(ValueError):
        loose.threshold = 0.0


def test_disabled_index_links_nothing_and_stores_nothing(seeds: dict[str, str]) -> None:
    index = DuplicateIndex(enabled=False)
    text = seeds["000_7004b33b0c6d42ec.txt"]
    assert index.link("a", text) == Link(None, "a", None, None)
    assert index.link("b", text) == Link(None, "b", None, None)
    assert len(index) == 0


def test_same_canonical_url_links_even_when_text_differs(seeds: dict[str, str]) -> None:
    index = DuplicateIndex()
    url = "https://example.com/news/kremlin-macron"
    index.link("a", seeds["000_7004b33b0c6d42ec.txt"], url)
    link = index.link("b", seeds["003_c1c75fd31f989258.txt"], url)
    assert (link.duplicate_of, link.reason) == ("a", "canonical_url")
    assert index.link("c", seeds["004_80973514d3295959.txt"], "https://example.com/other").duplicate_of is None


def test_a_site_root_as_canonical_url_links_nothing(seeds: dict[str, str]) -> None:
    """Sites that declare their home page canonical on every article must not merge their articles."""
    index = DuplicateIndex()
    index.link("a", seeds["002_7bc585f0f75b8e8e.txt"], "https://example.com/")
    assert index.link("b", seeds["003_c1c75fd31f989258.txt"], "https://example.com/").duplicate_of is None
    assert index.link("c", seeds["004_80973514d3295959.txt"], "https://example.com").duplicate_of is None


def test_short_texts_link_only_exactly() -> None:
    index = DuplicateIndex()
    index.link("a", "Markets closed higher on Friday.")
    assert index.link("b", "Markets closed higher on Friday!").reason == "exact"
    assert index.link("c", "Markets closed lower on Friday.").duplicate_of is None
    assert index.link("empty-1", "").duplicate_of is None
    assert index.link("empty-2", "  ").duplicate_of is None  # empty text is no evidence of a copy


def test_rerun_of_a_record_gets_its_first_answer(seeds: dict[str, str]) -> None:
    index = DuplicateIndex()
    first = index.link("000", seeds["000_7004b33b0c6d42ec.txt"])
    dup = index.link("001", seeds["001_458b23e8ecbeef01.txt"])
    assert dup == Link("000", "000", "exact", 1.0)
    # same ids again, one with changed text: same answers, never a link to itself, nothing added
    assert index.link("000", seeds["000_7004b33b0c6d42ec.txt"]) == first == Link(None, "000", None, None)
    assert index.link("001", seeds["003_c1c75fd31f989258.txt"]) == dup
    assert len(index) == 2


def test_a_widely_copied_story_does_not_grow_its_buckets(seeds: dict[str, str]) -> None:
    """Copies join buckets only where their cluster is not yet: the lookup cost stays O(1)."""
    original = seeds["000_7004b33b0c6d42ec.txt"]
    index = DuplicateIndex()
    index.link("orig", original)
    after_one = index._table.used
    for i in range(150):
        assert index.link(f"copy-{i}", _edit(original, "change", seed=i)).duplicate_of == "orig"
    assert index._table.used - after_one < 150 * index.bands / 4


def test_online_table_equals_the_one_rebuilt_on_load(seeds: dict[str, str]) -> None:
    """Buckets filled link by link hold what a load rebuilds, so links after a reload do not drift."""
    index = DuplicateIndex()
    rng = random.Random(5)
    texts = list(seeds.values())
    words = normalize_for_dedupe(" ".join(texts)).split()
    for i in range(400):  # originals, copies, unrelated texts; the table grows on the way
        if i % 3 == 0:
            text = " ".join(rng.choices(words, k=200))
        else:
            text = _edit(rng.choice(texts), rng.choice(["change", "delete", "chrome", "all"]), seed=i)
        index.link(f"r{i}", text)
    assert index._table.capacity > dedupe._BandTable(index.bands).capacity  # grown at least once

    def entries(table: dedupe._BandTable) -> set[tuple[int, int]]:
        found: set[tuple[int, int]] = set()
        keys = dedupe._band_keys(index._cols["sig"][: len(index)], index.bands, index.rows)
        for r in range(len(index)):
            bands, idx = table.lookup(keys[r], index._key_at)
            found.update(zip(bands.tolist(), idx.tolist()))
        return found

    online = entries(index._table)
    rebuilt = entries(dedupe._BandTable.build(index.bands, *index._table_entries()))
    assert online == rebuilt
    assert len(online) == index._table.used


# ---------------------------------------------------------------- persistence


def _sample_index(seeds: dict[str, str]) -> DuplicateIndex:
    index = DuplicateIndex()
    for name, text in seeds.items():
        index.link(name, text, None)
    for kind in ("delete", "change", "chrome"):
        index.link(f"copy-{kind}", _edit(seeds["002_7bc585f0f75b8e8e.txt"], kind))
    return index


def test_round_trip_gives_the_same_links(seeds: dict[str, str]) -> None:
    index = _sample_index(seeds)
    blob = index.to_bytes()
    assert blob.startswith(b"PSDEDUP") and b"pickle" not in blob[:200]
    again = DuplicateIndex.from_bytes(blob)
    assert len(again) == len(index)
    for rid in [*seeds, "copy-delete", "copy-change", "copy-chrome"]:
        assert again.get(rid) == index.get(rid)
    new_copy = _edit(seeds["004_80973514d3295959.txt"], "all")
    assert again.link("new", new_copy) == index.link("new", new_copy)
    assert again.get("new").duplicate_of == "004_80973514d3295959.txt"


def test_corrupt_or_foreign_state_is_refused(seeds: dict[str, str]) -> None:
    blob = _sample_index(seeds).to_bytes()
    for bad in (b"not an index", blob[: len(blob) // 2], blob[:-4] + b"\0\0\0\0"):
        with pytest.raises(IndexStateError):
            DuplicateIndex.from_bytes(bad)
    # a state whose probe signature differs (other hashing code) must not be read as if it matched
    tampered = blob.replace(b'"probe":[', b'"probe":[1,', 1)
    tampered = tampered[:8] + (int.from_bytes(tampered[8:12], "little") + 2).to_bytes(4, "little") + tampered[12:]
    with pytest.raises(IndexStateError, match="hashes text differently"):
        DuplicateIndex.from_bytes(tampered)


def test_store_callbacks_carry_the_index_across_runs(seeds: dict[str, str]) -> None:
    store: dict[str, bytes] = {}
    run1 = DuplicateIndex.load_or_new(store.get)
    run1.link("000", seeds["000_7004b33b0c6d42ec.txt"])
    assert run1.save(store.__setitem__) == 1
    assert blob_generation(store[dedupe.DEFAULT_KEY]) == 1
    run2 = DuplicateIndex.load_or_new(store.get)
    assert run2.generation == 1
    # next week's copy from another site links to the record stored in the first run
    assert run2.link("001", seeds["001_458b23e8ecbeef01.txt"]).duplicate_of == "000"
    assert run2.link("near", _edit(seeds["000_7004b33b0c6d42ec.txt"], "all")).duplicate_of == "000"
    assert run2.save(store.__setitem__) == 2


def _cas_store() -> tuple[dict[str, bytes], object, object]:
    """An in-memory store whose write is conditional, as an S3 PUT with If-Match is."""
    store: dict[str, bytes] = {}
    lock = threading.Lock()

    def write(key: str, blob: bytes) -> None:
        with lock:
            if blob_generation(store.get(key)) != blob_generation(blob) - 1:
                raise IndexConflict(key)
            store[key] = blob

    return store, store.get, write


def test_conditional_save_merges_on_conflict(seeds: dict[str, str]) -> None:
    _store, read, write = _cas_store()
    base = DuplicateIndex()
    base.link("000", seeds["000_7004b33b0c6d42ec.txt"])
    base.save(write)
    a, b = DuplicateIndex.load_or_new(read), DuplicateIndex.load_or_new(read)
    a.link("002", seeds["002_7bc585f0f75b8e8e.txt"])
    link_b = b.link("001", seeds["001_458b23e8ecbeef01.txt"])
    b.link("003", seeds["003_c1c75fd31f989258.txt"])
    assert a.save(write, read=read) == 2
    with pytest.raises(IndexConflict):
        b.save(write)  # without read, a conflict is the caller's to handle
    assert b.save(write, read=read) == 3
    final = DuplicateIndex.load_or_new(read)
    assert sorted(final._ids) == ["000", "001", "002", "003"]
    assert final.get("001") == link_b


def test_merge_keeps_every_answer_and_prefers_the_earliest_cluster(seeds: dict[str, str]) -> None:
    """Two runs saw one story first under different ids: answers stay, later copies join the earliest."""
    story = seeds["000_7004b33b0c6d42ec.txt"]
    early = DuplicateIndex()
    early.link("y", _edit(story, "chrome"))
    early.link("x", story)  # in this run x is a copy of y
    late = DuplicateIndex()
    late.link("x", story)  # the other run saw x first (later in time)
    r_link = late.link("r", _edit(story, "delete"))
    assert r_link.duplicate_of == "x"
    late.merge(early)
    assert late.get("x").duplicate_of == "y"  # the earliest entry of x wins
    assert late.get("r") == r_link  # r keeps the answer it was given
    assert late.link("z", _edit(story, "change")).duplicate_of == "y"
    again = DuplicateIndex.from_bytes(late.to_bytes())
    assert again.get("r") == r_link and again.get("z").duplicate_of == "y"


def test_index_size_per_record_stays_small(seeds: dict[str, str]) -> None:
    index = DuplicateIndex()
    rng = random.Random(3)
    words = normalize_for_dedupe(" ".join(seeds.values())).split()
    for i in range(3000):
        index.link(f"{i:032x}", " ".join(rng.choices(words, k=300)))
    assert index.memory_bytes() / len(index) < 1500
    assert len(index.to_bytes()) / len(index) < 450
