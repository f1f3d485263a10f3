"""The page checks of extract.py (long runs, markup, tree) give what their plain forms give."""

from __future__ import annotations

import random
import re
from itertools import islice

import pytest

from pagescrub.tasks.clean_html import parse_html
from pagescrub.tasks.extract import (
    _ATTRIBUTE,
    _LONG_RUN,
    _LONG_TAG,
    _VISIBLE_TEXT,
    MAX_ATTRIBUTE_CHARS,
    MAX_ATTRIBUTE_PAIRS,
    MAX_ATTRIBUTES,
    MAX_WORD_CHARS,
    ExtractionError,
    _check_markup,
    _check_tree,
    _cut_long_runs,
    _few_attributes,
    _markup_only,
    _may_hold_long_values,
    _visible_chars,
)


def _cut_long_runs_reference(text: str) -> str:
    return _LONG_RUN.sub(lambda m: m.group(0)[:MAX_WORD_CHARS], text)


def _check_markup_reference(text: str) -> None:
    pairs = 0
    for match in _LONG_TAG.finditer(_markup_only(text)):
        attributes = sum(1 for _ in islice(_ATTRIBUTE.finditer(match.group(0), 1), MAX_ATTRIBUTES + 1))
        if attributes > MAX_ATTRIBUTES:
            raise ExtractionError(f"too many attributes: an element with over {MAX_ATTRIBUTES}")
        pairs += attributes * (attributes - 1) // 2
        if pairs > MAX_ATTRIBUTE_PAIRS:
            raise ExtractionError(f"too many attributes: tags of hundreds of attributes, over {MAX_ATTRIBUTE_PAIRS} pairs in all")


def _outcome(check, text: str) -> str | None:
    try:
        check(text)
    except ExtractionError as exc:
        return exc.reason
    return None


def test_word_characters_are_isalnum_or_underscore() -> None:
    # _cut_long_runs finds all-word blocks with str.isalnum(): it must agree with re's \w.
    word = re.compile(r"\w")
    for code in range(0x30000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        assert bool(word.match(char)) == (char.isalnum() or char == "_"), hex(code)


@pytest.mark.parametrize("length", [499, 500, 999, 1000, 1001, 1002, 1499, 1500, 2001, 5000])
@pytest.mark.parametrize("offset", [0, 1, 250, 499, 500, 501, 999])
def test_cut_long_runs_at_every_alignment(length: int, offset: int) -> None:
    for fill in ("a", "_", "\u00e9", "7", "\u4e00"):
        text = "x " * (offset // 2) + "y" * (offset % 2) + " " + fill * length + " tail <p>" + "b" * length
        assert _cut_long_runs(text) == _cut_long_runs_reference(text)


def test_cut_long_runs_on_random_texts() -> None:
    rng = random.Random(11)
    pieces = ["a" * 300, "b_" * 200, "x", " ", "<", "_" * 700, "\u00e9" * 400, "1" * 999, "\u4e00" * 600, "-",
              "\n", "Z" * 1001, "q" * 499, "w" * 501, "\u00a0"]
    for _ in range(3000):
        text = "".join(rng.choices(pieces, k=rng.randint(0, 14)))
        assert _cut_long_runs(text) == _cut_long_runs_reference(text), repr(text[:80])


def test_cut_long_runs_cuts() -> None:
    blob = "QUJD" * 2000
    assert _cut_long_runs(f"<img src='data:{blob}'> text") == f"<img src='data:{blob[:MAX_WORD_CHARS]}'> text"
    assert _cut_long_runs("plain words only " * 500) == "plain words only " * 500


def _tag(n: int) -> str:
    return "<div " + " ".join(f"a{i}=1" for i in range(n)) + ">"


@pytest.mark.parametrize(
    "text",
    [
        "<p>short</p>" * 100,
        _tag(2001),
        _tag(1999),
        _tag(1000) * 500,
        _tag(700) * 900,
        _tag(300) * 5000,
        "<script>" + _tag(3000) + "</script>",
        "<script>" + _tag(3000),  # unclosed: the rest is raw text
        "<p " + "x" * 5000 + ">",
        "<p data-x='" + "y" * 50000 + "' b c d>",
        _tag(10) + _tag(2500) + _tag(1000) * 500,  # the element over the limit comes first
        _tag(1000) * 500 + _tag(2500),  # the pairs cross the limit first
    ],
)
def test_check_markup_matches_reference(text: str) -> None:
    assert _outcome(_check_markup, text) == _outcome(_check_markup_reference, text)


def _random_markup(rnd: random.Random) -> str:
    parts = []
    for _ in range(rnd.randint(1, 60)):
        kind = rnd.random()
        if kind < 0.3:  # about as many attributes as the limit, or about as long a tag, or less
            n = rnd.choice([rnd.randint(1990, 2010), rnd.randint(250, 2100), rnd.randint(0, 300)])
            parts.append("<p" + (" a" * n if rnd.random() < 0.3 else " " + "x" * n) + ">")
        elif kind < 0.6:  # text without any tag, of up to three blocks
            parts.append("t" * rnd.randint(0, 3100))
        elif kind < 0.7:
            parts.append("<script>" + "<b " + " c" * rnd.randint(0, 2500) + "</script>")
        else:
            parts.append(rnd.choice(["<div>", "</div>", "<a href='x'>", ">", "<"]))
    return "".join(parts)


def test_check_markup_matches_reference_on_random_markup() -> None:
    rnd = random.Random(15)
    texts = [_random_markup(rnd) for _ in range(600)]
    texts += ["x" * 200_000 + _tag(300), "<p " + "x" * 2000 + ">", "<p " + "x" * 1999 + ">", "y" * 999 + "<p " + "x" * 2001 + ">"]
    fast = 0
    for text in texts:
        assert _outcome(_check_markup, text) == _outcome(_check_markup_reference, text), text[:200]
        if _few_attributes(_markup_only(text)):
            fast += 1
            assert _outcome(_check_markup_reference, text) is None
    assert 0 < fast < len(texts)
    assert any(_outcome(_check_markup_reference, text) for text in texts)


@pytest.mark.parametrize(
    "html",
    [
        "<html><body><p>Hello <b>world</b></p>tail<script>var a = 1;</script><style>p{}</style></body></html>",
        "<html><head><title>T</title><style>x</style></head><body><div>a<template><p>hidden<script>s</script></p></template>b</div></body></html>",
        "<html><body><noscript>shown?</noscript><p>x</p><style>a</style><style>b<script>c</script></style></body></html>",
        "<p>no html or body tags</p><script>x</script>",
        "<html><body></body></html>",
        "<html><body>\u00e9\U0001f600 text<svg><text>in svg</text></svg></body></html>",
    ],
)
def test_visible_chars_matches_text_node_sum(html: str) -> None:
    tree = parse_html(html)
    assert _visible_chars(tree) == sum(map(len, _VISIBLE_TEXT(tree)))
    _check_tree(tree)


def test_visible_chars_on_odd_trees() -> None:
    # Trees the parser hardly makes, built by hand: two bodies, and a body inside a template.
    from lxml import etree

    two = parse_html("<html><body><p>one</p><script>x</script></body></html>")
    second = etree.SubElement(two, "body")
    second.text = "second body"
    etree.SubElement(second, "style").text = "css"
    nested = parse_html("<html><body><template><p>inner</p></template><p>outer</p></body></html>")
    inner = nested.find(".//template")
    etree.SubElement(inner, "body").text = "body in a template"
    for tree in (two, nested):
        assert _visible_chars(tree) == sum(map(len, _VISIBLE_TEXT(tree)))


def _longest_value(markup: str) -> int:
    tree = parse_html(markup)
    return max((len(v) for el in tree.iter() if isinstance(el.tag, str) for v in el.attrib.values()), default=0)


_VALUE_PIECES = [
    '<a title="', "<a title='", '"', "'", "=", " = ", ">", "<p>", "</p>", "</body>", "</html>", "<div x=",
    "&amp;", "&quot;", "&#x27;", "\t", "\n", "\f", "x" * 30, "y" * 45, "z z", "<!--", "-->", "<b c=d",
    "'q'", '"q"', "<script>", "</script>", "<textarea>", "\u00e9" * 20,
]


def test_long_value_precheck_misses_no_long_value_on_random_markup() -> None:
    """Where the parsed tree has an attribute value over the limit, the markup check says it may."""
    rnd = random.Random(11)
    long_trees = 0
    for _ in range(6000):
        markup = "<html><body>" + "".join(rnd.choice(_VALUE_PIECES) for _ in range(rnd.randint(1, 25)))
        if _longest_value(markup) > 40:
            long_trees += 1
            assert _may_hold_long_values(markup, 40), markup
    assert long_trees > 200  # the pieces make long values often enough to test something


_SPACED_VALUE = "v " * 29 + "v"  # 59 characters, a space in every other


@pytest.mark.parametrize(
    ("markup", "value"),
    [
        ('<p title="{}">x</p>', _SPACED_VALUE),
        ("<p title='{}'>x</p>", _SPACED_VALUE),
        ('<p title = \n "{}">x</p>', _SPACED_VALUE),
        ("<p title=</body>'{}'>x</p>", _SPACED_VALUE),  # the parser never sees the </body>
        ('<p title="a&amp;{}">x</p>', _SPACED_VALUE),
        ("<p title={}>x</p>", "u" * 59),
        ("<p title=\t{}>x</p>", "u\"'" * 20),
    ],
)
def test_long_values_found_and_dropped(markup: str, value: str) -> None:
    page = "<html><body>" + markup.format(value)
    assert _longest_value(page) > 40
    assert _may_hold_long_values(page, 40)
    assert not _may_hold_long_values(page.replace(value, "v" * 10), 40)
    tree = parse_html(page)
    _check_tree(tree)  # the real limit, over the values here: nothing dropped
    assert tree.find(".//p").get("title") is not None


def test_unclosed_long_values_count_as_long() -> None:
    for page in ('<html><body><p title="' + "w " * 30, "<html><body><p title='" + "w " * 30 + ">x</p>"):
        assert _may_hold_long_values(page, 40)


def test_long_value_precheck_passes_pages_without_one() -> None:
    text = "don't " * 3000  # 18,000 characters with a lone apostrophe every six, none after "="
    page = f'<html><body><p class="a">{text}</p><p title=\'short\'>{"b " * 9000}</p></body></html>'
    assert not _may_hold_long_values(page, MAX_ATTRIBUTE_CHARS)
    spaced = f"<html><body><p title='x'>{'c ' * 20000}</p></body></html>"  # no quote for 40,000 characters
    assert not _may_hold_long_values(spaced, MAX_ATTRIBUTE_CHARS)
    assert _may_hold_long_values(spaced.replace("title='x'>", "title='x>"), MAX_ATTRIBUTE_CHARS)
    assert _may_hold_long_values("<html><body>" + "d" * 40000, MAX_ATTRIBUTE_CHARS)  # no space for 40,000


def test_check_tree_with_markup_drops_long_values_as_without() -> None:
    page = f'<html><body><img src="data:image/png;base64,{"A" * 20000}" alt="a"><p title="{"t " * 9000}">x</p></body></html>'
    for markup in (None, page):
        tree = parse_html(page)
        _check_tree(tree, markup)
        assert [el.attrib.get("src") for el in tree.iter("img")] == [None]
        assert tree.find(".//img").get("alt") == "a" and tree.find(".//p").get("title") is None


def test_mojibake_is_repaired_in_the_article_and_its_metadata() -> None:
    from pagescrub.tasks.extract import extract_article

    body = " ".join(
        f"<p>The council\u2019s vote on paragraph {i} was \u201cfinal\u201d, said the mayor\u2019s office on Tuesday.</p>"
        for i in range(8)
    )
    page = (
        "<html><head><title>The council\u2019s vote</title>"
        '<meta name="author" content="Jos\u00e9 Mu\u00f1oz"></head>'
        f"<body><article><h1>The council\u2019s vote</h1>{body}</article></body></html>"
    )
    double_encoded = page.encode("utf-8").decode("latin-1").encode("utf-8")  # as some saved pages are
    article = extract_article(double_encoded)
    assert "\u00e2\x80" not in article.text
    assert "The council\u2019s vote on paragraph 3 was \u201cfinal\u201d" in article.text
    assert article.title == "The council\u2019s vote"
    assert article.authors == ["Jos\u00e9 Mu\u00f1oz"]
    assert "\u00e2\x80" not in article.html
    entity = page.replace("\u2019", "&#146;").encode("utf-8")  # HTML means cp1252's \u2019 by it
    assert "mayor\u2019s office" in extract_article(entity).text


def test_count_words_counts_what_the_full_pattern_counts() -> None:
    """The shortcut for texts without Chinese, Japanese or Thai gives the count of the pattern for all."""
    from pagescrub.tasks.extract import _WORDS, count_words

    rnd = random.Random(5)
    pieces = ["word", " ", "don't", "é", "_", "12", "—", "\u00a0", "日本", "テ", "ภาษา", "ß", "Ǆ", "\u0301", ".", "\n", "٣"]
    texts = ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 40))) for _ in range(3000)]
    for text in texts:
        assert count_words(text) == len(_WORDS.findall(text)), text
    assert count_words("日本語 abc") == 4 and count_words("plain words, here.") == 3
