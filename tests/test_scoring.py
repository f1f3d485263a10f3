"""Hand-computed cases for benchmarks/scoring.py (no corpus access, pure functions)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from benchmarks import scoring
from benchmarks.scoring import (
    aeb_aggregate,
    aeb_page_scores,
    aeb_tokens,
    author_f1,
    author_match,
    day_match,
    is_missing,
    iso_day,
    normalize_title,
    shingles,
    title_match,
    word_prf,
)

approx = pytest.approx


# ----------------------------------------------------------------------------- AEB


def test_aeb_tokens_keep_case_and_drop_punctuation():
    assert aeb_tokens("Hello, World! It's 2019.") == ["Hello", "World", "It", "s", "2019"]
    assert aeb_tokens(None) == []


def test_shingles_are_overlapping_4grams_counted_as_multiset():
    toks = ["a", "b", "c", "d", "a", "b", "c", "d"]
    assert shingles(toks) == Counter(
        {
            ("a", "b", "c", "d"): 2,
            ("b", "c", "d", "a"): 1,
            ("c", "d", "a", "b"): 1,
            ("d", "a", "b", "c"): 1,
        }
    )


def test_shingles_of_short_and_empty_texts_follow_aeb():
    # AEB's range(max(1, len - n + 1)): fewer than 4 tokens -> one shorter shingle.
    assert shingles(["a", "b"]) == Counter({("a", "b"): 1})
    assert shingles([]) == Counter()


def test_aeb_identical_texts_score_one():
    text = "the quick brown fox jumps over"  # 6 tokens -> 3 shingles
    assert aeb_page_scores(text, text) == (1.0, 0.0, 0.0)
    assert aeb_aggregate([aeb_page_scores(text, text)]) == (1.0, 1.0, 1.0)


def test_aeb_disjoint_texts_score_zero():
    page = aeb_page_scores("a b c d", "e f g h")  # 1 shingle each, no overlap
    assert page == approx((0.0, 0.5, 0.5))
    assert aeb_aggregate([page]) == (0.0, 0.0, 0.0)


def test_aeb_partial_overlap_exact_p_r():
    # truth shingles: abcd bcde cdef defg; prediction: abcd bcde -> tp 2, fp 0, fn 2
    page = aeb_page_scores(pred="a b c d e", truth="a b c d e f g")
    assert page == approx((0.5, 0.0, 0.5))
    p, r, f1 = aeb_aggregate([page])
    assert (p, r) == approx((1.0, 0.5))
    assert f1 == approx(2 / 3)


def test_aeb_f1_is_of_the_averages_not_the_mean_of_page_f1():
    half = aeb_page_scores(pred="a b c d e", truth="a b c d e f g")  # P 1, R 0.5
    full = aeb_page_scores("w x y z", "w x y z")  # P 1, R 1
    p, r, f1 = aeb_aggregate([half, full])
    assert (p, r) == approx((1.0, 0.75))
    assert f1 == approx(6 / 7)  # 2*1*0.75/1.75, not the mean page F1 (2/3 + 1)/2


def test_aeb_multiset_repeated_shingles():
    # truth "a b c d a b c d" has abcd twice (5 shingles); prediction has it once.
    page = aeb_page_scores(pred="a b c d", truth="a b c d a b c d")
    assert page == approx((0.2, 0.0, 0.8))  # a set comparison would give recall 1/4
    # both sides repeat abcd: it counts twice in tp (5 of 6 predicted shingles match)
    page = aeb_page_scores(pred="a b c d a b c d x", truth="a b c d a b c d")
    assert page == approx((5 / 6, 1 / 6, 0.0))


def test_aeb_is_case_sensitive():
    assert aeb_page_scores("Apple pie is good", "apple pie is good") == approx((0.0, 0.5, 0.5))


def test_aeb_empty_prediction_costs_recall_only():
    empty = aeb_page_scores("", "a b c d e")
    assert empty == (0.0, 0.0, 1.0)
    good = aeb_page_scores("w x y z", "w x y z")
    p, r, f1 = aeb_aggregate([empty, good])
    # AEB averages precision over pages with a prediction only (tp + fp > 0).
    assert (p, r) == approx((1.0, 0.5))
    assert f1 == approx(2 / 3)


def test_aeb_both_empty_page_is_left_out_of_both_averages():
    assert aeb_page_scores(None, "") == (0.0, 0.0, 0.0)
    half = aeb_page_scores(pred="a b c d e", truth="a b c d e f g")
    assert aeb_aggregate([half, (0.0, 0.0, 0.0)]) == aeb_aggregate([half])


def test_aeb_short_texts_compare_as_one_shingle():
    assert aeb_page_scores("a b", "a b") == (1.0, 0.0, 0.0)
    assert aeb_page_scores("a b", "a c") == approx((0.0, 0.5, 0.5))


def test_aeb_aggregate_of_nothing_is_zero():
    assert aeb_aggregate([]) == (0.0, 0.0, 0.0)


# ---------------------------------------------------------------------------- WCXB


def test_word_prf_identical_and_disjoint():
    assert word_prf("One two three.", "one TWO three") == (1.0, 1.0, 1.0)
    assert word_prf("alpha beta", "gamma delta") == (0.0, 0.0, 0.0)


def test_word_prf_partial_overlap():
    # pred 4 tokens, truth 5 tokens, 3 shared -> P 3/4, R 3/5, F1 2/3
    p, r, f1 = word_prf("a b c x", "a b c d e")
    assert (p, r, f1) == approx((0.75, 0.6, 2 / 3))


def test_word_prf_multiset():
    # pred the x3, cat; truth the, cat, sat -> overlap 2 (not 4): P 2/4, R 2/3, F1 4/7
    p, r, f1 = word_prf("the the the cat", "the cat sat")
    assert (p, r, f1) == approx((0.5, 2 / 3, 4 / 7))
    # repeated on both sides: "the" matches twice -> overlap 2 of 3 each way
    assert word_prf("the the cat", "the the dog") == approx((2 / 3, 2 / 3, 2 / 3))


def test_word_prf_empty_cases_follow_wcxb():
    assert word_prf("", "some gold text") == (0.0, 0.0, 0.0)
    assert word_prf(None, "") == (1.0, 1.0, 1.0)
    assert word_prf("anything", "") == (0.0, 0.0, 0.0)


# ----------------------------------------------------------------------- metadata


def test_normalize_title_folds_case_punctuation_space_and_nfkc():
    assert normalize_title("  Don’t Panic:\tA  “Guide”…  ") == "dont panic a guide"
    assert normalize_title("ＦＵＬＬ ｗｉｄｔｈ ﬁnance") == "full width finance"  # NFKC


@pytest.mark.parametrize(
    ("pred", "gold"),
    [
        ("Hello, World!", "hello world"),
        ("Don't panic", "Don’t Panic"),
        ("STRASSE", "straße"),  # casefold, not lower
        ("Ｃｏｖｉｄ – a  year\non", "covid - A YEAR ON"),
    ],
)
def test_title_match_true(pred, gold):
    assert title_match(pred, gold)


@pytest.mark.parametrize(
    ("pred", "gold"),
    [
        ("Hello World | Example News", "Hello World"),
        ("Hello Worlds", "Hello World"),
        (None, "Hello World"),
        ("", "Hello World"),
    ],
)
def test_title_match_false(pred, gold):
    assert not title_match(pred, gold)


def test_author_exact_and_order_and_case():
    assert author_match(["Jane Doe"], "Jane Doe")
    assert author_match(["DOE, JANE"], "Jane Doe")
    assert author_match("Jane Doe", "jane doe")  # a bare string is one author


def test_author_token_f1_threshold():
    # 4 predicted tokens, 5 gold tokens ("and"), 4 shared: F1 = 8/9 >= 0.8
    assert author_f1(["Jane Doe", "John Roe"], "Jane Doe and John Roe") == approx(8 / 9)
    assert author_match(["Jane Doe", "John Roe"], "Jane Doe and John Roe")
    # 2 of 3 gold tokens, nothing extra: F1 = 4/5 exactly -> passes (>=)
    assert author_f1(["Jane Doe"], "Jane Q Doe") == 0.8
    assert author_match(["Jane Doe"], "Jane Q Doe")
    # 3 of 4 on both sides: F1 = 0.75 -> fails
    assert author_f1(["Jane Q Doe Jr"], "Jane X Doe Jr") == approx(0.75)
    assert not author_match(["Jane Q Doe Jr"], "Jane X Doe Jr")
    # credentials in the gold string: F1 = 2*2/(2+5) = 4/7 -> fails
    assert not author_match(["Dylan Bailey"], "Dylan Bailey, MS, RD, FAND")


def test_author_missing_prediction_or_gold():
    assert not author_match([], "Jane Doe")
    assert not author_match(None, "Jane Doe")
    assert not author_match(["Jane Doe"], None)
    assert author_match([], None)  # nothing to find, nothing found
    assert is_missing("None") and is_missing("  ") and is_missing(None) and is_missing([])
    assert not is_missing("Jane Doe")


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        ("2022-02-09T23:30:00-05:00", "2022-02-09", True),  # day as written, not UTC
        ("2022-02-10T04:30:00+00:00", "2022-02-09", False),  # same instant, other day
        ("2022-02-09T23:30:00Z", "2022-02-09", True),
        ("2022-02-09 08:00", "2022-02-09", True),
        ("2022-02-09", "2022-02-10", False),
        (None, "2022-02-09", False),
        ("2022-02-09", None, False),
        ("2015-11-03", "2015-11", False),  # gold without a day
        (dt.datetime(2022, 2, 9, 23, 30), "2022-02-09", True),
        (None, None, False),  # no day on either side is not a match
        ("2015-11", "2015-11", False),
    ],
)
def test_day_match(pred, gold, expected):
    assert day_match(pred, gold) is expected


def test_iso_day_rejects_coarse_invalid_and_missing():
    assert iso_day("2022-02-09T23:30:00-05:00") == "2022-02-09"
    assert iso_day("2015-11") is None
    assert iso_day("2022-02-30") is None
    assert iso_day("20220209") is None
    assert iso_day("None") is None


def test_module_exports_are_callable():
    for name in scoring.__all__:
        assert hasattr(scoring, name), name


# ------------------------------------------------------ readability text conversion


def test_html_to_text_separates_blocks():
    from benchmarks.quality import html_to_text

    markup = "<html><body><div><p>End.</p><p>Next <b>bold</b> word<br>line</p><ul><li>a</li><li>b</li></ul></div></body></html>"
    assert html_to_text(markup) == "End.\nNext bold word\nline\na\nb"
    assert html_to_text("") == ""


def test_wcxb_date_column_scores_published_only_and_the_note_counts_modified():
    """The modified day never counts toward the date column; the diagnostic counts it as a fallback."""
    from pathlib import Path

    from benchmarks.quality import Corpus, Page, PageRun, Prediction, score_wcxb

    gold = {"body": "a b c", "title": "T", "author": "None", "date": "2024-05-02"}
    pages = [Page(id=str(i), path="", url=None) for i in range(3)]
    corpus = Corpus("wcxb", Path("."), pages, {p.id: gold for p in pages})
    runs = [
        PageRun(Prediction("a b c", "T", [], "2024-05-02T10:00:00+00:00", None), 0.1, 0.1),
        PageRun(Prediction("a b c", "T", [], "2023-01-01", "2024-05-02T08:00:00+02:00"), 0.1, 0.1),
        PageRun(Prediction("a b c", "T", [], "2023-01-01", "2023-02-02"), 0.1, 0.1),
    ]
    summary, rows = score_wcxb(corpus, "pagescrub", runs)
    assert summary["date_day"] == pytest.approx(1 / 3)
    assert summary["date_day_published_or_modified"] == pytest.approx(2 / 3)
    assert [r["date_ok"] for r in rows] == [True, False, False]
    # trafilatura reports one date only: no diagnostic for it.
    assert score_wcxb(corpus, "trafilatura", runs)[0]["date_day_published_or_modified"] is None
