"""Scoring functions for the extraction-quality benchmark (pure, standard library only).

Two corpora, two published scorings, reproduced here as faithfully as we can:

* **AEB** -- the article-extraction-benchmark by Zyte (Scrapinghub), MIT licence,
  https://github.com/scrapinghub/article-extraction-benchmark, scoring in its
  ``evaluate.py`` (``string_shingle_matching`` and ``metrics_from_tp_fp_fns``).
  ``aeb_tokens``, ``shingles``, ``aeb_page_scores`` and ``aeb_aggregate`` follow it
  rule for rule, including its handling of empty texts and of texts shorter than
  one shingle (see each docstring).

* **WCXB** -- the Web Content Extraction Benchmark by Murrough Foley (2026), data
  CC-BY-4.0, https://github.com/Murrough-Foley/web-content-extraction-benchmark,
  body scoring in its ``evaluate.py`` (``tokenize`` and ``word_f1``). ``word_prf``
  follows it. WCXB's script scores the body only; the metadata checks
  (``title_match``, ``author_match``, ``day_match``) are pagescrub's own
  definitions, documented on each function.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

__all__ = [
    "aeb_tokens",
    "shingles",
    "aeb_page_scores",
    "aeb_aggregate",
    "word_tokens",
    "word_prf",
    "normalize_title",
    "title_match",
    "author_f1",
    "author_match",
    "AUTHOR_F1_THRESHOLD",
    "iso_day",
    "day_match",
    "is_missing",
]

_WORD_RE = re.compile(r"\w+")

# --------------------------------------------------------------------------- AEB

AEB_SHINGLE_SIZE = 4


def aeb_tokens(text: str | None) -> list[str]:
    """Tokens as AEB counts them: every ``\\w+`` run, case kept.

    AEB ``evaluate.py`` ``_tokenize``: ``re.findall(r'\\w+', text or '')`` (its
    ``re.IGNORECASE`` flag changes nothing for ``\\w``; tokens are not lower-cased).
    """
    return _WORD_RE.findall(text or "")


def shingles(tokens: Sequence[str], n: int = AEB_SHINGLE_SIZE) -> Counter[tuple[str, ...]]:
    """Multiset of the ``n``-token shingles (overlapping n-grams) of ``tokens``.

    AEB ``evaluate.py`` ``_ngrams``: ``tokens[i:i+n]`` for ``i`` in
    ``range(max(1, len(tokens) - n + 1))``, empty tuples dropped. Consequences kept
    here on purpose:

    * a text with fewer than ``n`` tokens (but at least one) yields exactly one,
      shorter shingle: all of its tokens (``["a", "b"]`` -> ``{("a", "b"): 1}``);
    * an empty text yields no shingle at all.
    """
    tokens = list(tokens)
    out: Counter[tuple[str, ...]] = Counter()
    for i in range(max(1, len(tokens) - n + 1)):
        shingle = tuple(tokens[i : i + n])
        if shingle:
            out[shingle] += 1
    return out


def aeb_page_scores(pred: str | None, truth: str | None) -> tuple[float, float, float]:
    """Per-page ``(tp, fp, fn)`` over 4-token shingles, normalised to sum to 1.

    AEB ``evaluate.py`` ``string_shingle_matching``: shingles are compared as
    multisets (per shingle: tp += min(true, pred), fp += excess in prediction,
    fn += excess in truth), then the three counts are divided by their sum "so that
    longer texts do not have more weight". When both texts are empty the sum is 0
    and ``(0.0, 0.0, 0.0)`` is returned un-normalised, as AEB does. ``None`` counts
    as an empty text.
    """
    true_sh = shingles(aeb_tokens(truth))
    pred_sh = shingles(aeb_tokens(pred))
    tp = float(sum((true_sh & pred_sh).values()))
    fp = float(sum((pred_sh - true_sh).values()))
    fn = float(sum((true_sh - pred_sh).values()))
    total = tp + fp + fn
    if total > 0:
        return tp / total, fp / total, fn / total
    return 0.0, 0.0, 0.0


def aeb_aggregate(page_scores: Iterable[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Corpus ``(precision, recall, f1)`` from per-page ``(tp, fp, fn)``.

    AEB ``evaluate.py`` ``metrics_from_tp_fp_fns``:

    * precision = mean of ``tp / (tp + fp)`` over the pages where ``tp + fp > 0``,
      i.e. pages with a non-empty prediction -- an empty prediction does **not**
      lower precision, it only costs recall;
    * recall = mean of ``tp / (tp + fn)`` over the pages where ``tp + fn > 0``,
      i.e. pages with a non-empty truth -- an empty prediction scores recall 0;
    * F1 = 2PR / (P + R) of those two averages (not a mean of per-page F1).

    AEB would raise on an empty mean; here an empty set of pages gives 0.0.
    """
    precisions: list[float] = []
    recalls: list[float] = []
    for tp, fp, fn in page_scores:
        if tp + fp > 0:
            precisions.append(tp / (tp + fp))
        if tp + fn > 0:
            recalls.append(tp / (tp + fn))
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f1


# -------------------------------------------------------------------------- WCXB


def word_tokens(text: str | None) -> list[str]:
    """Tokens as WCXB counts them: ``\\w+`` runs of the lower-cased text.

    WCXB ``evaluate.py`` ``tokenize``: ``re.findall(r'\\w+', text.lower())``.
    """
    return _WORD_RE.findall(text.lower()) if text else []


def word_prf(pred: str | None, truth: str | None) -> tuple[float, float, float]:
    """Per-page word-level ``(precision, recall, f1)``, tokens compared as multisets.

    WCXB ``evaluate.py`` ``word_f1``: overlap = size of the multiset intersection of
    the lower-cased ``\\w+`` tokens; P = overlap / len(pred), R = overlap / len(truth).
    Edge cases as published: empty truth -> (1, 1, 1) if the prediction is empty too,
    else (0, 0, 0); empty prediction against a non-empty truth -> (0, 0, 0). The
    corpus figure is the plain mean of per-page F1 over all pages.
    """
    pred_tokens = word_tokens(pred)
    ref_tokens = word_tokens(truth)
    if not ref_tokens:
        return (1.0, 1.0, 1.0) if not pred_tokens else (0.0, 0.0, 0.0)
    if not pred_tokens:
        return 0.0, 0.0, 0.0
    overlap = sum((Counter(pred_tokens) & Counter(ref_tokens)).values())
    precision = overlap / len(pred_tokens)
    recall = overlap / len(ref_tokens)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f1


# ---------------------------------------------------------------- metadata checks

# Gold values that mean "no value": WCXB has a few records whose author and
# publish_date are the *string* "None" (a serialisation slip), and one empty author.
_MISSING_STRINGS = {"", "none", "null", "n/a", "unknown"}


def is_missing(value: object) -> bool:
    """True for a gold/predicted metadata value that carries nothing.

    ``None``, an empty or blank string, and the strings "None", "null", "N/A",
    "unknown" (any case) -- WCXB's ground truth has ``"author": "None"`` and
    ``"publish_date": "None"`` on at least one page, which are not real values.
    An empty list (no predicted authors) is missing too.
    """
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().casefold() in _MISSING_STRINGS
    if isinstance(value, (list, tuple)):
        return all(is_missing(v) for v in value)
    return False


def normalize_title(title: str | None) -> str:
    """Title folded for comparison: NFKC, case-folded, punctuation removed, spaces folded.

    Punctuation is every character in a Unicode ``P*`` category (so ASCII
    quotes, hyphens and colons, but also curly quotes, en/em dashes, ellipsis ...);
    it is deleted, not replaced by a space, so "Don't" and "Don’t" both become
    "dont" and "U.S." becomes "us". Symbols (``|``, ``+``, ``$``, emoji) are kept.
    Whitespace runs become one space; the result is stripped.
    """
    if not title:
        return ""
    text = unicodedata.normalize("NFKC", title).casefold()
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
    return " ".join(text.split())


def title_match(pred: str | None, gold: str | None) -> bool:
    """Title exact match after ``normalize_title`` on both sides (pagescrub's metric).

    A missing prediction never matches a gold title. The benchmark reports the
    share of matches over pages whose gold title is non-empty after folding.
    """
    return normalize_title(pred) == normalize_title(gold)


AUTHOR_F1_THRESHOLD = 0.8


def _meta_tokens(text: str) -> list[str]:
    return _WORD_RE.findall(unicodedata.normalize("NFKC", text).casefold())


def author_f1(pred_authors: Sequence[str] | str | None, gold: str | None) -> float:
    """Token F1 between the predicted authors (joined with spaces) and the gold string.

    Tokens are ``\\w+`` runs of the NFKC, case-folded text, compared as multisets
    (the same overlap as ``word_prf``), so separators and punctuation ("A, B",
    "A; B", "A and B") only matter through words like "and". Both sides empty ->
    1.0; exactly one side empty -> 0.0.
    """
    if isinstance(pred_authors, str):
        pred_authors = [pred_authors]
    pred_text = " ".join(a for a in (pred_authors or []) if a and not is_missing(a))
    gold_text = "" if is_missing(gold) else (gold or "")
    pred_tokens = _meta_tokens(pred_text)
    gold_tokens = _meta_tokens(gold_text)
    if not gold_tokens and not pred_tokens:
        return 1.0
    if not gold_tokens or not pred_tokens:
        return 0.0
    overlap = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    # 2PR / (P + R) with P = overlap/|pred| and R = overlap/|gold|, written so that
    # boundary cases are exact in floating point (2 of 3 gold tokens -> exactly 0.8).
    return 2 * overlap / (len(pred_tokens) + len(gold_tokens))


def author_match(pred_authors: Sequence[str] | str | None, gold: str | None) -> bool:
    """True when ``author_f1(pred_authors, gold) >= 0.8`` (pagescrub's metric).

    The benchmark reports the share of matches over pages whose gold author is
    present (``not is_missing(gold)``); pages without a gold author are left out
    of the figure (for the record, this function returns True on such a page only
    when nothing was predicted either).
    """
    return author_f1(pred_authors, gold) >= AUTHOR_F1_THRESHOLD


_DAY_RE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?![\d])")


def iso_day(value: object) -> str | None:
    """The ``YYYY-MM-DD`` day written at the start of an ISO-8601 date or datetime.

    The calendar day is taken *as written*, in the timestamp's own offset; it is
    never converted to UTC, so "2022-02-09T23:30:00-05:00" is 2022-02-09 (its
    publisher's day), not 2022-02-10. ``date``/``datetime`` objects are accepted.
    Returns ``None`` for a missing value, an invalid date ("2022-02-30") or a
    coarser one ("2015-11", "2015").
    """
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if not isinstance(value, str) or is_missing(value):
        return None
    m = _DAY_RE.match(value)
    if not m:
        return None
    try:
        return _dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        return None


def day_match(pred_iso: object, gold: object) -> bool:
    """Publication day exact: ``iso_day(pred) == iso_day(gold)`` (pagescrub's metric).

    False when either side has no day. The benchmark reports the share of matches
    over pages that have a gold date (``not is_missing(gold)``); a gold date
    coarser than a day (WCXB-dev has two, "2015-11" and "2003-11") stays in that
    denominator and can never match.
    """
    pred_day = iso_day(pred_iso)
    gold_day = iso_day(gold)
    return pred_day is not None and pred_day == gold_day
