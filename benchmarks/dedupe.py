#!/usr/bin/env python3
"""Near-duplicate linking benchmark: precision, recall, cost per article, index size.

Builds a synthetic stream from real article texts and runs ``pagescrub.tasks.dedupe``
over it (issue 8). Not a test: it prints a table.

The synthetic set (seeded, reproducible):

* originals: corpus texts (WCXB ``ground_truth.main_content`` files in a folder, or
  an AEB ``ground-truth.json`` with ``articleBody``); to reach 10,000 / 100,000
  records, *replicas*: a corpus text with every word relabelled by a
  replica-specific suffix, so the lengths and layout are real but replicas share
  no shingle with each other;
* edited copies of ~35% of the originals (reprints are 30-40% of news), one to
  three each, each with a random mix of: deleted paragraphs (10%, at least one),
  changed paragraphs (10%, at least one: half with a third of their words
  rewritten, half swapped for new text of the same length), changed quote and
  dash characters, 3-7 added chrome lines (share bars, newsletter boxes, "Read
  more" teasers, ...); ``all`` applies the four at once. A text with fewer than
  10 paragraphs is edited by sentences, or by tenths of its words, so that an
  edit stays at ~10% of it;
* hard negatives, "same story, different article": a replica of another text with
  one or two passages of an original quoted verbatim (each <= 10%, together
  <= 20% of either text). These must not be linked.

Corpus texts shorter than 60 words are left out, and so is a text that shares
>= 30% of its 5-shingles with an earlier one (the corpora hold a few articles
twice): otherwise two "distinct" originals would be duplicates in truth.

"index memory" is ``DuplicateIndex.memory_bytes()``: the numpy arrays as
allocated (with their growth headroom) plus the Python dicts, keys and ids;
"serialized" is ``len(to_bytes())``; "save / load" times ``to_bytes`` and
``from_bytes`` (which rebuilds the LSH table).

The stream is shuffled (a copy may come before its original: first seen wins).
A record counts as a positive when a record of its group was seen before it;
a link is correct when it points into the record's own group. Precision =
correct links / links, recall = correct links / positives.

Usage::

    python benchmarks/dedupe.py ../shared/data/wcxb-dev/ground-truth [../shared/data/aeb/ground-truth.json]
        [--sizes 10000,100000] [--threshold 0.5] [--sweep 0.3,0.4,0.6,0.7] [--pairs]
        [--bands 42 --rows 3] [--datasketch-lsh] [--seed 8] [--json out.json]

--pairs prints the exact similarity percentiles of copies and hard negatives,
--sweep reruns the first size at other thresholds, --datasketch-lsh measures
datasketch's MinHashLSH on the same number of signatures (the rejected
alternative). At 100,000 records a run takes 5-10 minutes on 2 cores.

Corpora are read in place and never copied: WCXB, Murrough Foley 2026, CC-BY-4.0;
AEB (article-extraction-benchmark) by Zyte, MIT.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pagescrub.tasks import dedupe

MIN_WORDS = 60  # shorter corpus texts are not articles (and can only link exactly)
COPY_RATE = 0.35
HARD_NEGATIVE_RATE = 0.05
EDITS = ("delete", "change", "quotes", "chrome")

CHROME = (
    "Advertisement",
    "- Advertisement -",
    "Share this article",
    "Share on Facebook Share on Twitter Share via Email",
    "Follow us on Twitter and Instagram for the latest updates",
    "Sign up for our daily newsletter and never miss a story",
    "Click here to subscribe to our YouTube channel",
    "Comments (12)",
    "Copyright © 2024 Daily Courier Media Group. All rights reserved.",
    "Related: Five things you need to know this morning",
    "Read more: What the latest figures mean for your wallet",
    "This article was originally published by a wire service and republished with permission.",
    "Have an existing account? Sign In",
    "You May Also Like",
    "Trending now",
)


@dataclass(slots=True)
class Spec:
    """One record of the stream, generated on demand (100k texts would not fit comfortably)."""

    rid: str
    group: int
    base: int  # corpus text index
    replica: int  # 0: the corpus text itself
    kind: str  # "original", "copy:<edits>", "hard-negative"
    seed: int
    quoted: int = -1  # hard negatives: corpus index of the original quoted
    quoted_replica: int = 0


@dataclass
class Result:
    size: int
    threshold: float
    tp: int = 0
    fp: int = 0
    fn: int = 0
    hard_neg: int = 0
    hard_neg_linked: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [positives, found]
    reasons: dict[str, int] = field(default_factory=dict)
    link_s: float = 0.0
    cpu_s: float = 0.0
    memory: int = 0
    serialized: int = 0
    to_bytes_s: float = 0.0
    from_bytes_s: float = 0.0
    rss_mb: float = 0.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


# ------------------------------------------------------------------------ corpus


def load_corpus(paths: Sequence[Path]) -> tuple[list[str], int]:
    """Corpus texts of >= MIN_WORDS words; texts that overlap an earlier one are dropped.

    The corpora hold some articles twice (the same story on two pages, a
    truncated and a full version): kept, they would be "distinct" originals that
    are in truth duplicates. A text is dropped when >= 30% of its 5-shingles (or
    of the earlier text's) are shared, counted exactly. Returns the texts and the
    number dropped.
    """
    texts: list[str] = []
    for path in paths:
        if path.is_dir():
            for f in sorted(path.glob("*.json")):
                gt = json.loads(f.read_text(encoding="utf-8")).get("ground_truth") or {}
                texts.append(gt.get("main_content") or "")
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
            items = data.values() if isinstance(data, dict) else data
            texts.extend((item or {}).get("articleBody") or "" for item in items)
    texts = [t.strip() for t in texts if len(t.split()) >= MIN_WORDS]
    postings: dict[int, list[int]] = {}
    sizes: list[int] = []
    kept: list[str] = []
    dropped = 0
    for t in texts:
        shingles = shingle_set(t)
        overlap: dict[int, int] = {}
        for s in shingles:
            for j in postings.get(s, ()):
                overlap[j] = overlap.get(j, 0) + 1
        if any(c >= 0.3 * min(len(shingles), sizes[j]) for j, c in overlap.items()):
            dropped += 1
            continue
        for s in shingles:
            postings.setdefault(s, []).append(len(kept))
        sizes.append(len(shingles))
        kept.append(t)
    return kept, dropped


def shingle_set(text: str) -> set[int]:
    return set(dedupe._shingle_hashes(dedupe.normalize_for_dedupe(text), dedupe.SHINGLE_SIZE).tolist())


def units(text: str) -> tuple[list[str], str]:
    """What edits work on, so that one unit is about 10% of the text or less.

    Paragraphs when there are >= 10, else sentences when there are >= 10, else
    ten runs of words of equal length.
    """
    paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    if len(paras) >= 10:
        return paras, "\n\n"
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    if len(sentences) >= 10:
        return sentences, " "
    words = text.split()
    size = -(-len(words) // 10)
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)], " "


_WORD = re.compile(r"\w+")


def replica(text: str, r: int) -> str:
    """The same layout with every word relabelled: a distinct article of the same length."""
    if r == 0:
        return text
    suffix = "".join(chr(97 + (r // 26**i) % 26) for i in range(4))
    return _WORD.sub(lambda m: m.group() + "q" + suffix, text)


_STRAIGHT_TO_CURLY = (("'", "\u2019"), ('"', "\u201d"), (" - ", " \u2014 "))
_CURLY_TO_STRAIGHT = (
    ("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u2014", "--"), ("\u2013", "-"),
)


def edit(text: str, edits: Sequence[str], rng: random.Random, corpus: list[str]) -> str:
    """An edited copy: 10% of the units (at least one) changed and/or deleted, quotes, chrome."""
    parts, sep = units(text)
    n = len(parts)
    k = max(1, round(0.10 * n))
    if "change" in edits and n >= 2:
        for i in rng.sample(range(n), min(k, n - 1)):
            words = parts[i].split()
            if rng.random() < 0.5:  # rewritten: a third of its words replaced
                for j in rng.sample(range(len(words)), max(1, len(words) // 3)):
                    words[j] = rng.choice(("the", "new", "said", "report", "officials", "on", "Monday", "also"))
                parts[i] = " ".join(words)
            else:  # swapped for as many words of new text (relabelled so no record holds it)
                other = replica(rng.choice(corpus), 200_000 + rng.randrange(200_000)).split()
                start = rng.randrange(max(1, len(other) - len(words)))
                parts[i] = " ".join(other[start : start + len(words)])
    if "delete" in edits and n >= 3:
        for i in sorted(rng.sample(range(len(parts)), min(k, len(parts) - 2)), reverse=True):
            del parts[i]
    out = sep.join(parts)
    if "chrome" in edits:
        lines = rng.sample(CHROME, rng.randint(3, 7))
        top = rng.randint(0, len(lines))
        out = "\n\n".join([*lines[:top], out, *lines[top:]])
    if "quotes" in edits:
        table = _STRAIGHT_TO_CURLY if rng.random() < 0.5 else _CURLY_TO_STRAIGHT
        for a, b in table:
            out = out.replace(a, b)
    return out


def build_specs(n_records: int, n_corpus: int, seed: int) -> list[Spec]:
    """The stream's records, shuffled; texts are made later from these specs."""
    rng = random.Random(seed)
    specs: list[Spec] = []
    group = 0
    base_count = 0
    per_base = 1 + COPY_RATE * 1.6 + HARD_NEGATIVE_RATE
    n_bases = max(1, round(n_records / per_base))
    while len(specs) < n_records:
        base = base_count % n_corpus
        rep = base_count // n_corpus
        base_count += 1
        specs.append(Spec(f"g{group}-o", group, base, rep, "original", rng.getrandbits(32)))
        if rng.random() < COPY_RATE:
            for c in range(rng.choice((1, 1, 1, 2, 2, 3))):
                if rng.random() < 0.2:
                    edits: tuple[str, ...] = EDITS
                else:
                    edits = tuple(e for e in EDITS if rng.random() < 0.5) or (rng.choice(EDITS),)
                kind = "copy:all" if edits == EDITS else "copy:" + "+".join(edits)
                specs.append(Spec(f"g{group}-c{c}", group, base, rep, kind, rng.getrandbits(32)))
        if rng.random() < HARD_NEGATIVE_RATE:
            group += 1
            other = rng.randrange(n_corpus)
            specs.append(Spec(f"g{group}-h", group, other, n_bases + group, "hard-negative",
                              rng.getrandbits(32), quoted=base, quoted_replica=rep))
        group += 1
    specs = specs[:n_records]
    rng.shuffle(specs)
    return specs


def make_text(spec: Spec, corpus: list[str]) -> str:
    base = replica(corpus[spec.base], spec.replica)
    if spec.kind == "original":
        return base
    rng = random.Random(spec.seed)
    if spec.kind == "hard-negative":
        # quotes up to two passages of an original, each <= 10% and together
        # <= 20% of both texts: a different article on the same story
        parts, sep = units(base)
        quoted = replica(corpus[spec.quoted], spec.quoted_replica)
        budget = 0.2 * min(len(base.split()), len(quoted.split()))
        pool = [u for u in units(quoted)[0] if len(u.split()) <= budget / 2]
        for u in rng.sample(pool, min(2, len(pool))):
            parts.insert(rng.randint(0, len(parts)), u)
        return sep.join(parts)
    edits = EDITS if spec.kind == "copy:all" else tuple(spec.kind[5:].split("+"))
    return edit(base, edits, rng, corpus)


# ------------------------------------------------------------------------ runs


def run(specs: list[Spec], corpus: list[str], threshold: float, bands: int = dedupe.BANDS,
        rows: int = dedupe.ROWS, measure_size: bool = True, progress: bool = True) -> Result:
    index = dedupe.DuplicateIndex(threshold, bands=bands, rows=rows)
    res = Result(len(specs), threshold)
    group_of: dict[str, int] = {}
    seen_groups: set[int] = set()
    elapsed = cpu = 0.0
    for i, spec in enumerate(specs, 1):
        text = make_text(spec, corpus)
        t0, c0 = time.perf_counter(), time.process_time()
        link = index.link(spec.rid, text, None)
        elapsed += time.perf_counter() - t0
        cpu += time.process_time() - c0
        group_of[spec.rid] = spec.group
        positive = spec.group in seen_groups
        seen_groups.add(spec.group)
        correct = link.duplicate_of is not None and group_of[link.duplicate_of] == spec.group
        if link.duplicate_of is not None:
            res.reasons[link.reason or "?"] = res.reasons.get(link.reason or "?", 0) + 1
            if correct:
                res.tp += 1
            else:
                res.fp += 1
        if positive and not correct:
            res.fn += 1
        if positive:
            kind = spec.kind if spec.kind != "original" else "original (copy seen first)"
            counts = res.by_kind.setdefault(kind, [0, 0])
            counts[0] += 1
            counts[1] += int(correct)
        if spec.kind == "hard-negative":
            res.hard_neg += 1
            res.hard_neg_linked += int(link.duplicate_of is not None and not correct)
        if progress and i % 10000 == 0:
            print(f"  {i:,} records, {elapsed / i * 1e6:,.0f} us/article", file=sys.stderr)
    res.link_s = elapsed
    res.cpu_s = cpu
    if measure_size:
        res.memory = index.memory_bytes()
        t0 = time.perf_counter()
        blob = index.to_bytes()
        res.to_bytes_s = time.perf_counter() - t0
        res.serialized = len(blob)
        t0 = time.perf_counter()
        again = dedupe.DuplicateIndex.from_bytes(blob, threshold=threshold)  # default bands: load cost
        res.from_bytes_s = time.perf_counter() - t0
        assert len(again) == len(index)
        res.rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return res


def pair_similarities(specs: list[Spec], corpus: list[str], limit: int = 2000) -> dict[str, list[float]]:
    """Exact max(Jaccard, containment) of copies vs their original and hard negatives vs the text they quote."""
    out: dict[str, list[float]] = {"copies": [], "hard negatives": []}
    shingles = shingle_set
    for spec in specs:
        if spec.kind.startswith("copy") and len(out["copies"]) < limit:
            a = shingles(make_text(spec, corpus))
            b = shingles(replica(corpus[spec.base], spec.replica))
            key = "copies"
        elif spec.kind == "hard-negative" and len(out["hard negatives"]) < limit:
            a = shingles(make_text(spec, corpus))
            b = shingles(replica(corpus[spec.quoted], spec.quoted_replica))
            key = "hard negatives"
        else:
            continue
        inter = len(a & b)
        out[key].append(max(inter / len(a | b), inter / max(1, min(len(a), len(b)))))
    return out


def datasketch_lsh_bytes(n: int, bands: int, rows: int) -> int:
    """Memory of datasketch's own MinHashLSH (dict storage) holding n signatures, same bands: the alternative."""
    import tracemalloc

    from datasketch import MinHash, MinHashLSH

    perms = dedupe._permutations(dedupe.NUM_PERM)
    rng = np.random.default_rng(0)
    sigs = rng.integers(0, 2**32, size=(n, dedupe.NUM_PERM), dtype=np.uint32)
    gc.collect()
    tracemalloc.start()
    lsh = MinHashLSH(num_perm=dedupe.NUM_PERM, params=(bands, rows))
    for i in range(n):
        m = MinHash(num_perm=dedupe.NUM_PERM, hashvalues=sigs[i], scheme="affine32", permutations=perms)
        lsh.insert(f"{i:032x}", m, check_duplication=False)
        del m
    used = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del lsh
    return used


# ------------------------------------------------------------------------ report


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def print_table(results: list[Result]) -> None:
    head = ("records", "threshold", "precision", "recall", "hard neg. linked", "us/article (cpu)",
            "index memory", "per record", "serialized", "save / load s")
    rows = []
    for r in results:
        rows.append((  # noqa: PERF401 - one table row per result, clearer as a loop
            f"{r.size:,}", f"{r.threshold:.2f}", f"{r.precision:.4f}", f"{r.recall:.4f}",
            f"{r.hard_neg_linked}/{r.hard_neg}", f"{r.link_s / r.size * 1e6:,.0f} ({r.cpu_s / r.size * 1e6:,.0f})",
            _mb(r.memory) if r.memory else "-", f"{r.memory / r.size:,.0f} B" if r.memory else "-",
            _mb(r.serialized) if r.serialized else "-",
            f"{r.to_bytes_s:.2f} / {r.from_bytes_s:.2f}" if r.serialized else "-",
        ))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths)) + " |")


def print_kinds(r: Result) -> None:
    print(f"\nrecall by kind at {r.size:,} records (threshold {r.threshold:.2f}); links by reason: {r.reasons}")
    for kind, (pos, found) in sorted(r.by_kind.items()):
        print(f"  {kind:<34} {found:>6}/{pos:<6} {found / pos:.4f}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Near-duplicate linking benchmark (precision, recall, cost, index size) on a synthetic set.",
        epilog="Example: python benchmarks/dedupe.py ../shared/data/wcxb-dev/ground-truth "
               "../shared/data/aeb/ground-truth.json",
    )
    p.add_argument("corpus", nargs="+", type=Path,
                   help="a folder of WCXB ground-truth JSON files (ground_truth.main_content), "
                        "or an AEB ground-truth.json (articleBody); several may be given")
    p.add_argument("--sizes", default="10000,100000", help="stream sizes to run (default 10000,100000)")
    p.add_argument("--threshold", type=float, default=dedupe.DEFAULT_THRESHOLD,
                   help="link threshold (default %(default)s)")
    p.add_argument("--sweep", default="", metavar="T1,T2,...",
                   help="also run the first size at these thresholds (precision/recall only)")
    p.add_argument("--pairs", action="store_true",
                   help="print exact similarity percentiles of copies and hard negatives")
    p.add_argument("--datasketch-lsh", action="store_true",
                   help="also measure datasketch MinHashLSH's memory for the first size (the rejected alternative)")
    p.add_argument("--bands", type=int, default=dedupe.BANDS, help="LSH bands (default %(default)s)")
    p.add_argument("--rows", type=int, default=dedupe.ROWS, help="LSH rows per band (default %(default)s)")
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--json", type=Path, metavar="FILE", help="write the figures as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    corpus, dropped = load_corpus(args.corpus)
    if not corpus:
        print("no usable texts in the corpus paths given", file=sys.stderr)
        return 2
    sizes = [int(s) for s in args.sizes.split(",") if s]
    print(f"corpus: {len(corpus)} texts of >= {MIN_WORDS} words ({dropped} dropped: overlap an earlier text); "
          f"num_perm {dedupe.NUM_PERM}, {dedupe.SHINGLE_SIZE}-shingles, LSH {args.bands} bands x {args.rows} rows")
    results: list[Result] = []
    extra: dict[str, object] = {}
    if args.pairs:
        sims = pair_similarities(build_specs(sizes[0], len(corpus), args.seed), corpus)
        for name, values in sims.items():
            q = np.percentile(values, [0, 1, 5, 50, 95, 99, 100]) if values else []
            print(f"exact max(J, C) of {name} (n={len(values)}): min/p1/p5/p50/p95/p99/max = "
                  + " / ".join(f"{v:.3f}" for v in q))
            extra[f"pairs:{name}"] = [float(v) for v in q]
    if args.sweep:
        specs = build_specs(sizes[0], len(corpus), args.seed)
        sweep = [run(specs, corpus, float(t), args.bands, args.rows, measure_size=False, progress=False)
                 for t in args.sweep.split(",")]
        print("\nthreshold sweep:")
        print_table(sweep)
        results.extend(sweep)
    for size in sizes:
        specs = build_specs(size, len(corpus), args.seed)
        gc.collect()
        res = run(specs, corpus, args.threshold, args.bands, args.rows, progress=not args.quiet)
        results.append(res)
        print_kinds(res)
    print(f"\nlinking at threshold {args.threshold:.2f}:")
    print_table([r for r in results if r.memory])
    if args.datasketch_lsh:
        used = datasketch_lsh_bytes(sizes[0], args.bands, args.rows)
        extra["datasketch_lsh_bytes"] = used
        print(f"\ndatasketch MinHashLSH, {args.bands}x{args.rows}, {sizes[0]:,} signatures: "
              f"{_mb(used)} ({used / sizes[0]:,.0f} B per record) for the LSH alone")
    if args.json:
        args.json.write_text(json.dumps({
            "results": [dict(vars(r), precision=r.precision, recall=r.recall) for r in results], **extra,
        }, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
