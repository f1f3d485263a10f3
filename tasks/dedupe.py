"""Near-duplicate linking: one story, many copies, across sources and runs.

Why: reprints are 30-40% of news stories. A pipeline that stores every copy as an
unrelated article misleads every count downstream. Nothing is deleted: each
record gets ``duplicate_of`` (the id of the first-seen copy, or None) and
``cluster_id`` (that first copy's id; a record's own id when it is first).

How ``DuplicateIndex.link`` decides, cheapest first (first match wins):

1. ``canonical_url``: the same canonical URL as an indexed record (dict lookup;
   pass the record's normalized ``canonical_url``). A site root ("https://x.com/")
   is ignored: many sites declare it as the canonical URL of every page.
2. ``exact``: the same ``text_hash`` of the normalized text (dict lookup).
   Normalization (``normalize_for_dedupe``): NFKC, curly quotes, apostrophes and
   dashes folded to ASCII, case-folded, punctuation dropped, whitespace collapsed;
   the seeds 000 and 001 (one wire story, two sites) normalize alike.
3. ``near``: MinHash over word 5-shingles of the normalized text, looked up with
   LSH banding, then *verified* on the candidates so LSH false positives are
   rejected: similarity = max(Jaccard, containment of the smaller text in the
   larger), both estimated from the signatures and the stored shingle counts
   (|A∩B| = J·(|A|+|B|)/(1+J)). Containment keeps a copy with paragraphs cut
   or chrome added linked although its Jaccard drops. Linked when similarity >=
   ``threshold``. Among matching clusters the earliest-seen one wins.

Parameters (chosen by measurement with ``benchmarks/dedupe.py``; figures below
are from its synthetic set of WCXB + AEB texts at 10,000 records):

* 128 permutations (datasketch's ``MinHash`` scheme ``affine32``, fixed seed):
  the Jaccard estimate has a standard error of at most 0.044, small against the
  gap between copies and different articles.
* word 5-shingles: different articles on one story share names and phrases but
  hardly any five-word run (seeds 002/003/004 vs 000: max(J, C) <= 0.02;
  synthetic articles quoting a passage of another: max 0.17), while
  paragraph-level edits change only the shingles they touch (edited copies:
  1st percentile 0.73, minimum 0.60).
* LSH: 42 bands of 3 rows. P(candidate) = 1-(1-J^3)^42 is 0.94 at J=0.4,
  0.996 at J=0.5 and 0.99996 at J=0.6; 0.04 at J=0.1. 32x4 missed more copies
  (recall 0.990 vs 0.998 at 10,000 records).
* ``threshold`` 0.5 (default) on max(Jaccard, containment). Sweep at 10,000
  records (precision/recall): 0.3 1.000/1.000, 0.4 1.000/0.999, 0.5
  1.000/0.998, 0.6 1.000/0.990, 0.7 1.000/0.953. The synthetic negatives
  top out at 0.17, so lower thresholds look free here; 0.5 keeps a margin for
  real rewrites of one wire story (shared quotes and passages) and sits about
  5 standard errors below the edited copies' 1st percentile (0.73).
  Settable (e.g. from the CLI); only the verification uses it.
* containment is taken from a lower confidence bound of J (J - 1.5 sigma):
  the estimate is amplified by the length ratio of the two texts, and an
  unbounded one linked a long article to a short one it half-quoted.
* Records with fewer than 10 shingles are linked only exactly (by URL or hash):
  on a few words a "near" match means nothing.

Cost: one ``link`` is O(len(text)) to normalize, shingle and hash (about 2 ms
of CPU for a 1,800-word article), then O(1) in the index size: dict lookups,
42 bucket probes into an open-addressing table, and a verification over the
candidates. A bucket holding ``BUCKET_CAP`` records stops growing (shared
boilerplate, not a story) and a duplicate is not added to buckets where its
cluster already is, so a story copied a thousand times does not make its
buckets long. Memory: about 900 bytes per record in all (89 MB at 100,000
records), 290 bytes per record serialized: the signature is kept as 16-bit
b-bit MinHash values (Li & König; the Jaccard estimate is biased by at most
2^-16), 256 bytes; the table costs 4 bytes per (record, band) at 50-75% load;
then ids and digests. datasketch's own ``MinHashLSH`` keeps a Python set per
bucket and the band hashes per key: measured at 12.7 kB per record for the
same 42 x 3 bands at 10,000 records (some 1.3 GB at 100,000), hence this table.

Persistence: ``to_bytes``/``from_bytes`` write a versioned binary blob (magic,
JSON header, gzip of little-endian numpy arrays: signatures, shingle counts,
seen order, cluster roots, reasons, similarities, 16-byte text and URL digests,
ids). No pickle: a state object from a shared bucket is never executed. The
header carries a probe signature; a blob written by code that shingles or
hashes differently is refused (``IndexStateError``) instead of silently never
matching. The LSH table is rebuilt from the signatures on load.

Concurrent runs on one store (the guarantee): every saved blob carries a
``generation``. An index remembers the generation it was loaded from; saving
writes generation+1 *only if* the store still holds that generation, else it
re-reads, merges, and tries again (optimistic concurrency). The merge is a
union of records; a record id present in both keeps its earliest-seen entry
(``seen_at``, a nanosecond clock kept monotonic per index), and exact and near
lookups afterwards prefer the earliest-seen cluster, so a merge never loses a
record and every link already handed out stays what it was. How the write is
made conditional depends on the store:

* through a pagescrub store (what a run does, ``tasks/link.py``): ``write``
  reads the blob with its version (``Store.read_state``) and raises
  ``IndexConflict`` if the generation moved, else writes with
  ``Store.put_state_if``, which a local folder makes atomic with an exclusive
  ``flock`` around compare-and-write and S3 with a conditional PUT
  (``If-Match: <ETag read>``, or ``If-None-Match: *`` when there was none);
  a refused write becomes ``IndexConflict``.
* any other caller passes ``save`` a ``write`` conditional in the same way;
  on ``IndexConflict``, ``save`` calls ``read``, merges and retries.

A ``write`` that is not conditional (a plain PUT) still never corrupts the
blob (a PUT is atomic) but a concurrent run's additions can be lost: last
writer wins. Re-runs are idempotent: ``link`` with an id already indexed
returns the answer that id got the first time, whatever the text is now.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import sys
import time
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import urlsplit

import numpy as np

__all__ = [
    "BANDS",
    "BUCKET_CAP",
    "DEFAULT_KEY",
    "DEFAULT_THRESHOLD",
    "MIN_SHINGLES",
    "NUM_PERM",
    "ROWS",
    "SHINGLE_SIZE",
    "DuplicateIndex",
    "IndexConflict",
    "IndexStateError",
    "Link",
    "Reason",
    "blob_generation",
    "normalize_for_dedupe",
    "text_hash",
]

Reason = Literal["canonical_url", "exact", "near"]

#: Where the index lives in a store (the store's ``state/`` area).
DEFAULT_KEY = "state/dedupe-index.bin"
NUM_PERM = 128
SHINGLE_SIZE = 5
BANDS, ROWS = 42, 3
DEFAULT_THRESHOLD = 0.5
MIN_SHINGLES = 10
CONTAINMENT_Z = 1.5
BUCKET_CAP = 32

# Persisted signatures depend on these: changing any of them changes the probe
# signature in the header, and old state is refused rather than misread.
_SEED = 20240608
_SCHEME = "affine32"
_FORMAT = 1
_MAGIC = b"PSDEDUP\x01"
_PROBE_TEXT = (  # touches every normalization path: quotes, dashes, case, accents, CJK, marks
    "Pagescrub dedupe probe — the Kremlin’s “deal” wasn't made, Peskov said on "
    "Tuesday; naïve café «ok» 日本語のテキスト "
    "हिन्दी STRASSE straße_x 3.5%"
)

_REASONS: tuple[Reason | None, ...] = (None, "canonical_url", "exact", "near")
_REASON_CODE = {r: i for i, r in enumerate(_REASONS)}


@dataclass(frozen=True, slots=True)
class Link:
    """What the index says about one record: ``duplicate_of`` is None for a first copy."""

    duplicate_of: str | None
    cluster_id: str
    reason: Reason | None
    similarity: float | None


class IndexStateError(ValueError):
    """A saved index that cannot be used: corrupt, or written by incompatible code."""


class IndexConflict(RuntimeError):
    """Raised by a conditional ``write``: the stored index changed since it was read."""


# --------------------------------------------------------------------------- text

_FOLD = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2035\u00b4\u0060\u2039\u203a\uff07", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb\uff02", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
}
# Scripts written without spaces between words: one character is one token.
_NO_SPACE = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f"
_HAS_NO_SPACE = re.compile(f"[{_NO_SPACE}]")
_TOKEN = re.compile(rf"[{_NO_SPACE}]|[^\s{_NO_SPACE}]+")


# Bytes < 128 that are not letters or digits become spaces, in one C pass over
# the UTF-8 (multi-byte sequences never contain such bytes); apostrophes go.
_BYTE_TABLE = bytes(32 if c < 128 and not chr(c).isalnum() else c for c in range(256))
_APOSTROPHES = frozenset(ch for ch, ascii_ in _FOLD.items() if ascii_ == "'")


def normalize_for_dedupe(text: str) -> str:
    """Fold away what differs between two sites' copies of one story: quotes, dashes, case, punctuation.

    NFKC, case-folded; apostrophes (straight, curly, prime, backtick) are
    dropped, so "Macron’s" and "Macron's" are both "macrons"; every other
    character that is not a letter, digit or combining mark (quotes, dashes,
    punctuation, underscores) becomes a space; whitespace runs collapse to one space.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.encode("utf-8").translate(_BYTE_TABLE, b"'`").decode("utf-8")
    if not text.isascii():
        for ch in set(text):
            if ch > "\x7f" and not ch.isalnum() and unicodedata.category(ch)[0] != "M":  # keep vowel signs
                text = text.replace(ch, "" if ch in _APOSTROPHES else " ")
    return " ".join(text.split())


def text_hash(text: str) -> str:
    """``sha256:<hex>`` of the normalized text: equal for exact copies, whatever their quotes."""
    return "sha256:" + hashlib.sha256(normalize_for_dedupe(text).encode("utf-8")).hexdigest()


def _token_string(normalized: str) -> str:
    """The tokens separated by single spaces; scripts without spaces get one token per character."""
    if not normalized.isascii() and _HAS_NO_SPACE.search(normalized):
        return " ".join(_TOKEN.findall(normalized))
    return normalized


_U64 = np.uint64
_MIX = _U64(0x9E3779B97F4A7C15)
_P = 0x100000001B3  # odd, so invertible mod 2^64
_POWERS: list[np.ndarray] = []


def _fmix64(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> _U64(33))
    x = x * _U64(0xFF51AFD7ED558CCD)
    x = x ^ (x >> _U64(33))
    x = x * _U64(0xC4CEB9FE1A85EC53)
    return x ^ (x >> _U64(33))


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """P^i and P^-i mod 2^64 for i < n (cached, grown by doubling)."""
    if not _POWERS or len(_POWERS[0]) < n:
        size = 1 << max(12, (n - 1).bit_length())
        pw = np.ones(size, dtype=np.uint64)
        inv = np.ones(size, dtype=np.uint64)
        pw[1:] = np.cumprod(np.full(size - 1, _P, dtype=np.uint64))
        inv[1:] = np.cumprod(np.full(size - 1, pow(_P, -1, 1 << 64), dtype=np.uint64))
        _POWERS[:] = [pw, inv]
    return _POWERS[0], _POWERS[1]


def _token_hashes(tokens: str) -> np.ndarray:
    """64-bit hash of every space-separated token, all at once.

    A polynomial hash of the UTF-8 bytes from prefix sums (uint64 arithmetic
    wraps: that is the mod 2^64), then fmix64. Stable across processes, unlike
    ``hash()`` (signatures are persisted), and ~10x faster than hashing tokens
    one by one in Python.
    """
    data = np.frombuffer(tokens.encode("utf-8"), dtype=np.uint8)
    n = data.size
    if not n:
        return np.empty(0, dtype=np.uint64)
    pw, inv = _powers(n + 1)
    prefix = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum((data.astype(np.uint64) + _U64(1)) * inv[:n], out=prefix[1:])
    spaces = np.flatnonzero(data == 32)
    starts = np.concatenate(([0], spaces + 1))
    ends = np.concatenate((spaces, [n]))
    h = (prefix[ends] - prefix[starts]) * pw[ends]  # sum of (byte + 1) * P^(end - j)
    return _fmix64(h + (ends - starts).astype(np.uint64) * _MIX)


def _shingle_hashes(normalized: str, k: int) -> np.ndarray:
    """Distinct 32-bit hashes of the word k-shingles (a text shorter than k is one shingle)."""
    h = _token_hashes(_token_string(normalized))
    if not h.size:
        return np.empty(0, dtype=np.uint32)
    width = max(1, h.size - k + 1)
    x = h[:width].copy()
    for j in range(1, min(k, h.size)):
        x = x * _MIX + h[j : j + width]
    return np.unique((_fmix64(x) >> _U64(32)).astype(np.uint32))


@lru_cache(maxsize=4)
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch 2.x's affine32 permutations (``MinHash(seed=..., scheme="affine32").permutations``).

    Drawn here the way datasketch draws them (odd ``a``, any ``b``, from one
    ``RandomState(seed)``) rather than by importing datasketch at run time:
    its package import pulls in scipy, redis and its async LSH, +66 MB RSS and
    0.5 s in the flow process for three lines of numpy. A test holds them, and
    the signatures, equal to datasketch's (persisted state depends on both).
    """
    gen = np.random.RandomState(_SEED)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))


def _signature(shingles: np.ndarray, num_perm: int) -> np.ndarray:
    """datasketch's affine32 MinHash of the shingle set, kept as 16-bit b-bit values.

    Computed as ``MinHash(scheme="affine32", hashfunc=identity).update_batch``
    does (fmix32, then a*h+b mod 2^32, min per permutation), without its
    per-item Python call: 3x faster. A test holds it bit-identical to datasketch.
    """
    if not shingles.size:
        return np.full(num_perm, 0xFFFF, dtype=np.uint16)
    a, b = _permutations(num_perm)
    s1, m1, s2, m2 = _FMIX32
    h = shingles.astype(np.uint32)
    h = (h ^ (h >> s1)) * m1
    h = (h ^ (h >> s2)) * m2
    h = (h ^ (h >> s1))[:, None]
    return ((h * a + b).min(axis=0) & 0xFFFF).astype(np.uint16)


@lru_cache(maxsize=4)
def _probe(num_perm: int, k: int) -> tuple[int, ...]:
    sig = _signature(_shingle_hashes(normalize_for_dedupe(_PROBE_TEXT), k), num_perm)
    return tuple(int(v) for v in sig[:16])


def _usable_canonical(url: str | None) -> bool:
    """A site's root is no article's canonical URL: sites that declare it on every page are common."""
    if not url or not url.strip():
        return False
    parts = urlsplit(url.strip())
    return bool(parts.path.strip("/") or parts.query)


def _digest16(data: str) -> bytes:
    return hashlib.sha256(data.encode("utf-8")).digest()[:16]


# --------------------------------------------------------------------------- LSH table


def _band_mix(v: np.ndarray, band: np.ndarray) -> np.ndarray:
    """64-bit bucket key from a band's ``rows`` values (last axis); the band number is mixed in."""
    x = (band + _U64(1)) * _MIX
    for j in range(v.shape[-1]):
        x = (x ^ v[..., j]) * _MIX
        x ^= x >> _U64(29)
    return _fmix64(x)


def _band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Bucket key per (record, band): one table serves all bands."""
    v = sigs[:, : bands * rows].astype(np.uint64).reshape(len(sigs), bands, rows)
    return _band_mix(v, np.arange(bands, dtype=np.uint64)[None, :])


_WIDTH = 16  # slots per bucket: one gather reads a whole bucket, so a probe rarely needs a second round
_MAX_LOAD = 0.75
_BUILD_LOAD = 0.5


class _BandTable:
    """Open-addressing multimap bucket key -> (record, band): a (buckets x 16) uint32 array.

    A slot holds index * bands + band + 1 (0 is empty), not the key: the key of
    an occupied slot is recomputed from that record's signature when probed, so
    the table costs 4 bytes per entry at 50-75% load (and holds up to
    2^32 / bands records: 102 million with 42 bands). A full bucket overflows into the
    next one (linear probing by bucket); the table is rebuilt 1.5x larger past
    75%, amortized O(1) per insert.
    """

    __slots__ = ("slots", "used", "bands")

    def __init__(self, bands: int, nbuckets: int = 512) -> None:
        self.slots = np.zeros((nbuckets, _WIDTH), dtype=np.uint32)
        self.used = 0
        self.bands = bands

    @property
    def capacity(self) -> int:
        return self.slots.size

    def lookup(self, keys: np.ndarray, key_at: Callable[[np.ndarray, np.ndarray], np.ndarray]
               ) -> tuple[np.ndarray, np.ndarray]:
        """(band, record index) of every entry whose key equals ``keys[band]``; all bands probed together."""
        nb = len(self.slots)
        bands = np.arange(len(keys))
        want = keys
        bucket = (keys % _U64(nb)).astype(np.int64)
        out_b: list[np.ndarray] = []
        out_i: list[np.ndarray] = []
        while True:
            rows = self.slots[bucket]
            occupied = rows != 0
            r, c = np.nonzero(occupied)
            if r.size:
                idx, band = np.divmod(rows[r, c].astype(np.int64) - 1, self.bands)
                same_band = band == bands[r]
                idx, band, r = idx[same_band], band[same_band], r[same_band]
                hit = key_at(idx, band) == want[r]
                out_b.append(band[hit])
                out_i.append(idx[hit])
            full = occupied.all(axis=1)
            if not full.any():
                break
            bands, want, bucket = bands[full], want[full], (bucket[full] + 1) % nb
        if not out_b:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return np.concatenate(out_b), np.concatenate(out_i)

    def add(self, key: int, index: int, band: int) -> None:
        nb = len(self.slots)
        bucket = key % nb
        value = index * self.bands + band + 1
        if value > 0xFFFFFFFF:
            raise OverflowError("too many records for one dedupe index")
        while True:
            row = self.slots[bucket].tolist()  # Python ints: faster than numpy calls on a tiny array
            if 0 in row:
                self.slots[bucket, row.index(0)] = value
                self.used += 1
                return
            bucket = (bucket + 1) % nb

    @classmethod
    def build(cls, bands: int, keys: np.ndarray, indexes: np.ndarray, band: np.ndarray) -> _BandTable:
        """Bulk insert, vectorized: each round fills buckets in order and moves the overflow on."""
        table = cls(bands, max(512, int(len(keys) / (_WIDTH * _BUILD_LOAD)) + 1))
        nb = len(table.slots)
        values = indexes.astype(np.int64) * bands + band + 1
        if values.size and values.max() > 0xFFFFFFFF:
            raise OverflowError("too many records for one dedupe index")
        values = values.astype(np.uint32)
        pos = (keys % _U64(nb)).astype(np.int64)
        fill = np.zeros(nb, dtype=np.int64)
        pending = np.arange(len(keys))
        while pending.size:
            order = np.argsort(pos[pending])  # order inside a bucket does not matter
            pending = pending[order]
            p = pos[pending]
            start = np.ones(p.size, dtype=bool)
            start[1:] = p[1:] != p[:-1]
            at = np.arange(p.size)
            col = fill[p] + at - np.maximum.accumulate(np.where(start, at, 0))
            ok = col < _WIDTH
            table.slots[p[ok], col[ok]] = values[pending[ok]]
            fill += np.bincount(p[ok], minlength=nb)
            pending = pending[~ok]
            pos[pending] = (pos[pending] + 1) % nb
        table.used = len(keys)
        return table


# --------------------------------------------------------------------------- the index

_COLUMNS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    # name, little-endian dtype, per-record shape (num_perm filled in at run time)
    ("sig", "<u2", (-1,)),
    ("size", "<u4", ()),
    ("seen", "<i8", ()),
    ("root", "<i4", ()),
    ("reason", "u1", ()),
    ("sim", "<f4", ()),
    ("thash", "u1", (16,)),
    ("uhash", "u1", (16,)),
)


class DuplicateIndex:
    """Links each record to the first-seen copy of its story; persists across runs.

    ``enabled`` False makes ``link`` answer "no duplicate" without indexing;
    ``threshold`` is the verified similarity a near match needs. Not
    thread-safe: one index per run, fed from one thread (links depend on order
    anyway: first seen wins).
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, *, enabled: bool = True, num_perm: int = NUM_PERM,
                 shingle_size: int = SHINGLE_SIZE, bands: int = BANDS, rows: int = ROWS) -> None:
        if bands * rows > num_perm or bands < 1 or rows < 1:
            raise ValueError(f"bands x rows must be between 1 and num_perm ({num_perm})")
        self.bands, self.rows = bands, rows
        self.num_perm = num_perm
        self.shingle_size = shingle_size
        self.enabled = enabled
        self.threshold = threshold
        #: generation of the stored state this index was loaded from or last saved as (0: none).
        self.generation = 0
        self._n = 0
        self._cols: dict[str, np.ndarray] = {}
        # cluster root of each record, for matching: the root it was given,
        # followed through merges that made that root a member of an older cluster
        self._cluster = np.zeros(0, dtype=np.int32)
        self._alloc(1024)
        self._ids: list[str] = []
        self._by_id: dict[str, int] = {}
        self._by_hash: dict[bytes, int] = {}
        self._by_url: dict[bytes, int] = {}
        self._table = _BandTable(bands)
        self._last_seen = 0

    # -- settings

    @property
    def threshold(self) -> float:
        return self._threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        if not 0.0 < value <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self._threshold = float(value)

    def __len__(self) -> int:
        return self._n

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._by_id

    # -- linking

    def link(self, record_id: str, text: str, canonical_url: str | None = None) -> Link:
        """Link one record to the first-seen copy of its story; a known id gets its first answer again."""
        if not self.enabled:
            return Link(None, record_id, None, None)
        known = self._by_id.get(record_id)
        if known is not None:
            return self._link_of(known)

        normalized = normalize_for_dedupe(text)
        thash = hashlib.sha256(normalized.encode("utf-8")).digest()[:16] if normalized else None
        uhash = _digest16(canonical_url.strip()) if _usable_canonical(canonical_url) else None
        shingles = _shingle_hashes(normalized, self.shingle_size)
        sig = _signature(shingles, self.num_perm)
        size = int(shingles.size)
        idx = self._n

        match: int | None = None
        reason: Reason | None = None
        similarity: float | None = None
        if uhash is not None and uhash in self._by_url:
            match, reason = self._by_url[uhash], "canonical_url"
            similarity = float(self._similarity(sig, size, np.array([match]))[0]) if size else None
        elif thash is not None and thash in self._by_hash:
            match, reason, similarity = self._by_hash[thash], "exact", 1.0

        keys = band_hits_b = band_hits_i = None
        if size >= MIN_SHINGLES:
            keys = _band_keys(sig[None, :], self.bands, self.rows)[0]
            band_hits_b, band_hits_i = self._table.lookup(keys, self._key_at)
            if match is None and band_hits_i.size:
                cands = np.unique(band_hits_i)
                sims = self._similarity(sig, size, cands)
                ok = sims >= self._threshold
                if ok.any():
                    roots = self._cluster[cands[ok]]
                    best_root = int(roots.min())
                    in_best = roots == best_root
                    match, reason = best_root, "near"
                    similarity = round(float(sims[ok][in_best].max()), 4)

        root = idx if match is None else int(self._cluster[match])
        self._append(record_id, sig, size, root, reason, similarity, thash, uhash)
        if thash is not None:
            self._by_hash.setdefault(thash, idx)
        if uhash is not None:
            self._by_url.setdefault(uhash, idx)
        if keys is not None:
            self._index_bands(idx, root, keys, band_hits_b, band_hits_i)
        return self._link_of(idx)

    def get(self, record_id: str) -> Link | None:
        """The link given to ``record_id`` earlier, or None if it was never linked."""
        idx = self._by_id.get(record_id)
        return None if idx is None else self._link_of(idx)

    def _link_of(self, idx: int) -> Link:
        root = int(self._cols["root"][idx])
        if root == idx:
            return Link(None, self._ids[idx], None, None)
        reason = _REASONS[int(self._cols["reason"][idx])]
        sim = float(self._cols["sim"][idx])
        return Link(self._ids[root], self._ids[root], reason, None if np.isnan(sim) else round(sim, 4))

    def _similarity(self, sig: np.ndarray, size: int, cands: np.ndarray) -> np.ndarray:
        """max(Jaccard, containment of the smaller set), estimated from signatures and set sizes.

        Containment comes from J as |A∩B| = J(|A|+|B|)/(1+J), which multiplies
        the error of J by up to (|A|+|B|)/min(|A|,|B|): it is computed from a
        lower confidence bound of J so that a noisy estimate between texts of
        very different lengths does not make a link.
        """
        j = (self._cols["sig"][cands] == sig).mean(axis=1)
        other = self._cols["size"][cands].astype(np.float64)
        j_low = np.maximum(j - CONTAINMENT_Z * np.sqrt(j * (1.0 - j) / sig.size), 0.0)
        inter = j_low * (size + other) / (1.0 + j_low)
        smaller = np.maximum(np.minimum(other, size), 1.0)
        return np.maximum(j, np.minimum(inter / smaller, 1.0))

    def _index_bands(self, idx: int, root: int, keys: np.ndarray, hit_b: np.ndarray, hit_i: np.ndarray) -> None:
        """Add the record to its buckets, except full ones and ones its cluster is already in."""
        counts = np.bincount(hit_b, minlength=self.bands)
        same = np.zeros(self.bands, dtype=bool)
        if hit_b.size:
            same[hit_b[self._cluster[hit_i] == root]] = True
        todo = np.nonzero(~same & (counts < BUCKET_CAP))[0]
        if self._table.used + todo.size > _MAX_LOAD * self._table.capacity:
            self._rebuild_table()  # includes this record: it is already appended
            return
        for band in todo.tolist():
            self._table.add(int(keys[band]), idx, band)

    def _key_at(self, idx: np.ndarray, band: np.ndarray) -> np.ndarray:
        """Bucket keys of the given (record, band) pairs, from the stored signatures."""
        cols = band[:, None] * self.rows + np.arange(self.rows)
        return _band_mix(self._cols["sig"][idx[:, None], cols].astype(np.uint64), band.astype(np.uint64))

    def _table_entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The (key, index, band) entries the online rules give, recomputed for all records in seen order."""
        n = self._n
        idx = np.nonzero(self._cols["size"][:n] >= MIN_SHINGLES)[0]
        if not idx.size:
            return np.empty(0, np.uint64), np.empty(0, np.int64), np.empty(0, np.int64)
        # entries in (record, band) order: stable sorts below keep "earliest record first"
        keys = _band_keys(self._cols["sig"][idx], self.bands, self.rows).ravel()
        recs = np.repeat(idx, self.bands)
        band = np.tile(np.arange(self.bands), idx.size)
        # a cluster enters a bucket once, with its earliest record (only clusters of 2+ can repeat)
        clusters = self._cluster[idx]
        multi = np.bincount(clusters, minlength=n)[clusters] > 1
        sub = np.flatnonzero(np.repeat(multi, self.bands))
        if sub.size:
            ck = _fmix64(keys[sub] ^ (np.repeat(clusters[multi], self.bands).astype(np.uint64) * _MIX))
            order = np.argsort(ck, kind="stable")
            ck = ck[order]
            repeat = np.zeros(sub.size, dtype=bool)
            repeat[1:] = ck[1:] == ck[:-1]
            drop = np.zeros(keys.size, dtype=bool)
            drop[sub[order[repeat]]] = True
            keys, recs, band = keys[~drop], recs[~drop], band[~drop]
        # a bucket keeps its first BUCKET_CAP records
        order = np.argsort(keys, kind="stable")
        k = keys[order]
        start = np.ones(order.size, dtype=bool)
        start[1:] = k[1:] != k[:-1]
        positions = np.arange(order.size)
        rank = positions - np.maximum.accumulate(np.where(start, positions, 0))
        keep = np.sort(order[rank < BUCKET_CAP])
        return keys[keep], recs[keep], band[keep]

    def _rebuild_table(self) -> None:
        self._table = _BandTable.build(self.bands, *self._table_entries())

    # -- storage of records

    def _alloc(self, capacity: int) -> None:
        cols = {}
        for name, dtype, shape in _COLUMNS:
            full = (capacity, *(self.num_perm if s == -1 else s for s in shape))
            arr = np.zeros(full, dtype=np.dtype(dtype).newbyteorder("="))
            old = self._cols.get(name)
            if old is not None:
                arr[: self._n] = old[: self._n]
            cols[name] = arr
        self._cols = cols
        cluster = np.zeros(capacity, dtype=np.int32)
        cluster[: self._n] = self._cluster[: self._n]
        self._cluster = cluster

    def _append(self, record_id: str, sig: np.ndarray, size: int, root: int, reason: Reason | None,
                similarity: float | None, thash: bytes | None, uhash: bytes | None) -> None:
        idx = self._n
        if idx == len(self._cols["seen"]):
            self._alloc(2 * idx)
        c = self._cols
        self._last_seen = max(time.time_ns(), self._last_seen + 1)
        c["sig"][idx] = sig
        c["size"][idx] = size
        c["seen"][idx] = self._last_seen
        c["root"][idx] = root
        self._cluster[idx] = root
        c["reason"][idx] = _REASON_CODE[reason]
        c["sim"][idx] = np.nan if similarity is None else similarity
        c["thash"][idx] = np.frombuffer(thash, np.uint8) if thash else 0
        c["uhash"][idx] = np.frombuffer(uhash, np.uint8) if uhash else 0
        self._ids.append(record_id)
        self._by_id[record_id] = idx
        self._n = idx + 1

    def _reindex(self) -> None:
        """Rebuild the lookups from the columns (after a load or a merge)."""
        n = self._n
        self._by_id = {rid: i for i, rid in enumerate(self._ids)}
        if len(self._by_id) != n:
            raise IndexStateError("duplicate record ids in index state")
        self._by_hash, self._by_url = {}, {}
        zero = bytes(16)
        for col, lookup in (("thash", self._by_hash), ("uhash", self._by_url)):
            raw = self._cols[col][:n].tobytes()
            for i in range(n):
                d = raw[16 * i : 16 * i + 16]
                if d != zero:
                    lookup.setdefault(d, i)
        self._last_seen = int(self._cols["seen"][n - 1]) if n else 0
        cluster = self._cols["root"][:n].astype(np.int32)
        while n and np.any(cluster[cluster] != cluster):  # pointer jumping: roots point backwards
            cluster = cluster[cluster]
        self._cluster[:n] = cluster
        self._rebuild_table()

    def memory_bytes(self) -> int:
        """Approximate bytes held: the arrays as allocated, the Python dicts, their keys and the ids."""
        total = sum(a.nbytes for a in self._cols.values()) + self._cluster.nbytes + self._table.slots.nbytes
        total += sys.getsizeof(self._ids) + sum(sys.getsizeof(s) for s in self._ids)
        for d in (self._by_id, self._by_hash, self._by_url):
            total += sys.getsizeof(d)
        total += (sys.getsizeof(bytes(16)) + 28) * (len(self._by_hash) + len(self._by_url)) + 28 * len(self._by_id)
        return total

    # -- merging

    def merge(self, other: DuplicateIndex) -> None:
        """Make this index the union of both; an id in both keeps its earliest-seen entry.

        Every record keeps the answer it was given (its ``duplicate_of``). If two
        runs made two clusters of one story, future copies join the earlier one.
        """
        self._check_compatible(other)
        seen = np.concatenate([self._cols["seen"][: self._n], other._cols["seen"][: other._n]])
        ids = self._ids + other._ids
        order = np.argsort(seen, kind="stable")  # ties: this index first
        kept: list[int] = []
        taken: set[str] = set()
        for s in order.tolist():
            if ids[s] not in taken:
                taken.add(ids[s])
                kept.append(s)
        sel = np.array(kept, dtype=np.int64)
        new_pos = {ids[s]: k for k, s in enumerate(kept)}
        roots_by_id = [self._ids[r] for r in self._cols["root"][: self._n].tolist()]
        roots_by_id += [other._ids[r] for r in other._cols["root"][: other._n].tolist()]
        merged = {
            name: np.concatenate([self._cols[name][: self._n], other._cols[name][: other._n]])[sel]
            for name, _, _ in _COLUMNS
        }
        merged["root"] = np.array([new_pos[roots_by_id[s]] for s in kept], dtype=np.int32)
        self._n = len(kept)
        self._ids = [ids[s] for s in kept]
        self._cols = merged
        self._cluster = np.zeros(self._n, dtype=np.int32)  # recomputed by _reindex
        self._alloc(max(1024, self._n))
        self.generation = max(self.generation, other.generation)
        self._reindex()

    def _check_compatible(self, other: DuplicateIndex) -> None:
        if (other.num_perm, other.shingle_size) != (self.num_perm, self.shingle_size):
            raise IndexStateError(
                f"index parameters differ: num_perm/shingle {other.num_perm}/{other.shingle_size}"
                f" vs {self.num_perm}/{self.shingle_size}"
            )

    # -- persistence

    def to_bytes(self) -> bytes:
        """The index as a compact, pickle-free blob carrying ``self.generation``."""
        return self._to_bytes(self.generation)

    def _to_bytes(self, generation: int) -> bytes:
        n = self._n
        encoded = [rid.encode("utf-8") for rid in self._ids]
        offsets = np.zeros(n + 1, dtype="<u4")
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        payload = [self._cols[name][:n].astype(dtype, copy=False).tobytes() for name, dtype, _ in _COLUMNS]
        payload += [offsets.tobytes(), b"".join(encoded)]
        body = b"".join(payload)
        header = {
            "format": _FORMAT,
            "generation": int(generation),
            "count": n,
            "num_perm": self.num_perm,
            "shingle_size": self.shingle_size,
            "scheme": _SCHEME,
            "sig_bits": 16,
            "probe": list(_probe(self.num_perm, self.shingle_size)),
            "payload_bytes": len(body),
        }
        hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
        comp = zlib.compressobj(1, zlib.DEFLATED, 31)  # gzip container; level 1: signatures do not compress
        return _MAGIC + struct.pack("<I", len(hj)) + hj + comp.compress(body) + comp.flush()

    @classmethod
    def from_bytes(cls, data: bytes, *, threshold: float = DEFAULT_THRESHOLD, enabled: bool = True) -> DuplicateIndex:
        """Read a blob written by ``to_bytes``/``save``; refuse corrupt or incompatible state."""
        header, body_start = _read_header(data)
        try:
            num_perm, k, n = int(header["num_perm"]), int(header["shingle_size"]), int(header["count"])
            expected = int(header["payload_bytes"])
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexStateError(f"index header incomplete: {exc}") from None
        if header.get("format") != _FORMAT or header.get("scheme") != _SCHEME or header.get("sig_bits") != 16:
            raise IndexStateError("index state written in another format")
        fixed = n * sum(np.dtype(dt).itemsize * (num_perm if sh == (-1,) else int(np.prod(sh)))
                        for _, dt, sh in _COLUMNS) + 4 * (n + 1)
        if num_perm < 2 or n < 0 or not fixed <= expected <= fixed + 4096 * n:
            raise IndexStateError("index header out of range")
        if tuple(header.get("probe", ())) != _probe(num_perm, k):
            raise IndexStateError("index state was written by code that hashes text differently; rebuild it")
        try:
            d = zlib.decompressobj(31)
            body = d.decompress(data[body_start:], expected + 1)
        except zlib.error as exc:
            raise IndexStateError(f"index payload corrupt: {exc}") from None
        if len(body) != expected or not d.eof:
            raise IndexStateError("index payload truncated or oversized")

        try:
            index = cls(threshold, enabled=enabled, num_perm=num_perm, shingle_size=k)
        except ValueError as exc:
            raise IndexStateError(f"index parameters unusable: {exc}") from None
        index.generation = int(header["generation"])
        cols: dict[str, np.ndarray] = {}
        pos = 0
        try:
            for name, dtype, shape in _COLUMNS:
                full = (n, *(num_perm if s == -1 else s for s in shape))
                count = int(np.prod(full))
                arr = np.frombuffer(body, dtype=dtype, count=count, offset=pos).reshape(full)
                pos += arr.nbytes
                cols[name] = arr.astype(np.dtype(dtype).newbyteorder("="))
            offsets = np.frombuffer(body, dtype="<u4", count=n + 1, offset=pos).astype(np.int64)
            pos += 4 * (n + 1)
            blob = body[pos:]
            if offsets[0] != 0 or offsets[-1] != len(blob) or np.any(np.diff(offsets) < 0):
                raise ValueError("id offsets do not match")
            ids = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
        except (ValueError, UnicodeDecodeError) as exc:
            raise IndexStateError(f"index payload malformed: {exc}") from None
        root = cols["root"]
        if n and (np.any(root < 0) or np.any(root > np.arange(n)) or np.any(cols["reason"] >= len(_REASONS))
                  or np.any(np.diff(cols["seen"]) < 0)):
            raise IndexStateError("index records inconsistent")
        index._n = n
        index._ids = ids
        index._cols = cols
        index._cluster = np.zeros(n, dtype=np.int32)  # recomputed by _reindex
        index._alloc(max(1024, n))
        index._reindex()
        return index

    @classmethod
    def load_or_new(cls, read: Callable[[str], bytes | None], key: str = DEFAULT_KEY, *,
                    threshold: float = DEFAULT_THRESHOLD, enabled: bool = True) -> DuplicateIndex:
        """The index saved under ``key`` in any store (``read`` is its get-bytes), or a new one."""
        data = read(key)
        if not data:
            return cls(threshold, enabled=enabled)
        return cls.from_bytes(data, threshold=threshold, enabled=enabled)

    def save(self, write: Callable[[str, bytes], None], key: str = DEFAULT_KEY, *,
             read: Callable[[str], bytes | None] | None = None, attempts: int = 10) -> int:
        """Write the index as generation+1; on ``IndexConflict`` from ``write``, re-read, merge, retry.

        ``write`` must store the blob only if the store still holds generation
        ``self.generation`` (see the module docstring), else raise
        ``IndexConflict``. Returns the generation written.
        """
        for _ in range(max(1, attempts)):
            blob = self._to_bytes(self.generation + 1)
            try:
                write(key, blob)
            except IndexConflict:
                if read is None:
                    raise
                current = read(key)
                if current:
                    self.merge(DuplicateIndex.from_bytes(current))
                continue
            self.generation += 1
            return self.generation
        raise IndexConflict(f"{key}: still changing after {attempts} attempts")


def _read_header(data: bytes) -> tuple[dict[str, Any], int]:
    if len(data) < len(_MAGIC) + 4 or not data.startswith(_MAGIC):
        raise IndexStateError("not a pagescrub dedupe index")
    (hlen,) = struct.unpack_from("<I", data, len(_MAGIC))
    start = len(_MAGIC) + 4
    if hlen > 1 << 20 or start + hlen > len(data):
        raise IndexStateError("index header truncated")
    try:
        header = json.loads(data[start : start + hlen])
    except ValueError as exc:
        raise IndexStateError(f"index header unreadable: {exc}") from None
    if not isinstance(header, dict):
        raise IndexStateError("index header is not an object")
    return header, start + hlen


def blob_generation(data: bytes | None) -> int:
    """The generation a saved blob carries (0 for none), read from its header only."""
    if not data:
        return 0
    header, _ = _read_header(data)
    return int(header.get("generation", 0))
