"""Script and style bodies left out before parsing: the parsed page must not change otherwise."""

from __future__ import annotations

import random

import lxml.etree
import pytest

from pagescrub.tasks.clean_html import parse_html
from pagescrub.tasks.decode import decode_page
from pagescrub.tasks.extract import extract_article
from pagescrub.tasks.markup import without_code


def _tree_without_code(markup: str) -> str:
    """The parsed page with the bodies ``without_code`` may remove emptied: what must not differ."""
    tree = parse_html(markup)
    for el in tree.iter("script", "style"):
        kind = (el.get("type") or "").lower()
        if el.tag == "style" or not ("ld+json" in kind or "settings+json" in kind):
            el.text = None
    return lxml.etree.tostring(tree, encoding="unicode", method="html")


def _same_page(markup: str) -> None:
    assert _tree_without_code(without_code(markup)) == _tree_without_code(markup)


def test_bodies_go_and_the_elements_stay() -> None:
    page = (
        "<html><head><style>p { color: red }</style><SCRIPT type=text/javascript>var a = '<p>x</p>';</SCRIPT >"
        "</head><body><p>Text</p><script src=a.js></script><script>if (a < b) { go() }</script></body></html>"
    )
    out = without_code(page)
    assert "color" not in out and "var a" not in out and "go()" not in out
    assert out.count("<script") + out.count("<SCRIPT") == 3 and "<style>" in out
    assert "<p>Text</p>" in out
    _same_page(page)


@pytest.mark.parametrize(
    "opening",
    [
        '<script type="application/ld+json">',
        "<script type='application/ld+json'>",
        '<script type="application/ld&#x2B;json">',  # the "+" as a character reference (a WCXB page)
        '<SCRIPT TYPE="Application/LD+JSON">',
        '<script type="application/settings+json">',  # htmldate reads this one too
    ],
)
def test_json_read_from_the_tree_is_kept(opening: str) -> None:
    page = f'<html><head>{opening}{{"headline": "Kept"}}</script><script>var dropped = 1;</script></head><body><p>x</p></body></html>'
    out = without_code(page)
    assert '{"headline": "Kept"}' in out
    assert "dropped" not in out


def test_other_json_goes() -> None:
    out = without_code('<script type="application/json" id="__NEXT_DATA__">{"props": {"big": 1}}</script><p>x</p>')
    assert "props" not in out


@pytest.mark.parametrize(
    ("page", "kept"),
    [
        # Text to the parser, not a script: the real one after it still goes.
        ("<html><head><title>Use the <script> tag</title></head><body><p>keep</p><script>x()</script></body></html>", "<p>keep</p>"),
        ("<html><body><textarea><style></textarea><p>keep</p><style>s{}</style></body></html>", "<p>keep</p>"),
        ("<html><body><iframe><script></iframe><p>keep</p></body></html>", "<p>keep</p>"),
        ("<html><body><!-- <script> --><p>keep</p><script>x()</script></body></html>", "<p>keep</p>"),
        ('<html><body><div title="<script>">a</div><p>keep</p><script>x()</script></body></html>', "<p>keep</p>"),
        ("<html><body><!x <script> y><p>keep</p></script></body></html>", "<p>keep</p>"),
        ("<html><body><plaintext><script>x()</script><p>keep</p></body></html>", "<p>keep</p>"),
        # Self-closed: no body, so what follows is page markup.
        ('<html><body><script src="a.js"/><p>keep</p><script>x()</script></body></html>', "<p>keep</p>"),
    ],
)
def test_a_script_tag_that_is_text_to_the_parser_cuts_nothing(page: str, kept: str) -> None:
    out = without_code(page)
    assert kept in out
    _same_page(page)


def test_a_script_holding_a_comment_stops_the_cutting() -> None:
    # With "<!--" and "<script" in it, the first "</script>" does not end it (the parser reads on to the
    # second): cut there, '") -->' would become page text. Nothing from there on is touched.
    page = (
        '<html><body><script>a()</script><script><!-- document.write("<script>x</script>") --></script>'
        "<p>after</p><style>s{}</style></body></html>"
    )
    out = without_code(page)
    assert "a()" not in out
    assert out.endswith('<script><!-- document.write("<script>x</script>") --></script><p>after</p><style>s{}</style></body></html>')
    _same_page(page)


def test_a_slash_in_an_unquoted_value_does_not_close_the_tag() -> None:
    page = "<html><body><script src=a/>var q = 1;</script><p>keep</p></body></html>"
    assert "var q" not in without_code(page)
    _same_page(page)


def test_a_tag_whose_end_is_not_sure_ends_the_cutting() -> None:
    page = '<html><body><style>a{}</style><script src="a.js>var x;</script><p>keep</p><style>s{}</style></body></html>'
    out = without_code(page)
    assert "a{}" not in out
    assert out.endswith('<script src="a.js>var x;</script><p>keep</p><style>s{}</style></body></html>')
    _same_page(page)


def test_many_unclosed_openings_stay_linear() -> None:
    # Each attempt stops at the next "<" outside a quote: 200,000 characters of them take milliseconds.
    for piece in ("<script a='", '<script a="', "<style x="):
        markup = piece * (200_000 // len(piece))
        assert without_code(markup) == markup  # no tag ends: nothing is cut
    assert without_code("<p><script>" * 20_000) == "<p><script>"  # the first script never closes


def test_an_unclosed_script_runs_to_the_end() -> None:
    assert without_code("<p>a</p><script>var x = 1; <p>not a paragraph</p>") == "<p>a</p><script>"


_PIECES = [
    "<p>para</p>", "<div class='x'>d", "</div>", "<script>s1()</script>", "<script>if (a<b) c()</script>",
    "<script>document.write('<p>w</p>')</script>", "<style>a>b{}</style>", "<!-- c -->", "<!-- <script> -->",
    "<title>t <script> t</title>", "<textarea>x <style> y</textarea>", '<img alt="<script>">', "<a title='<style>'>l</a>",
    '<script type="application/ld+json">{"a": "<b>"}</script>', "<script>", "</script>", "<style>", "</style>",
    "<!--", "-->", "<script><!-- x", "a < b", "<!x y>", "<?php echo 1 ?>", "</p>", "<p>", "<iframe>f</iframe>",
    "<xmp>x</xmp>", '<script src="a>b.js"></script>', "<script/>", "</script >", "<SCRIPT>u()</SCRIPT>", "text ",
    '<script data-x="a<b">v()</script>', "<script a='>'>", '<script src="', "<style a<b>", "<script src=a/>",
]


def test_random_markup_parses_the_same() -> None:
    rnd = random.Random(7)
    for _ in range(3000):
        body = "".join(rnd.choice(_PIECES) for _ in range(rnd.randint(1, 12)))
        _same_page(f"<html><head></head><body>{body}</body></html>")


def test_decode_page_prepares_html_only() -> None:
    html = decode_page(b"<html><body><p>Hi</p><script>x()</script></body></html>", prepare_html=without_code)
    assert html.kind == "html" and "x()" not in html.text
    capture = b"A plain capture that quotes <script>x()</script> in its text.\n"
    text = decode_page(capture, prepare_html=without_code)
    assert text.kind == "text" and "x()" in text.text


def test_extract_still_reads_json_ld_written_with_a_character_reference() -> None:
    words = " ".join(f"word{i}" for i in range(80))
    page = (
        '<html><head><script type="application/ld&#x2B;json">'
        '{"@type": "NewsArticle", "headline": "A headline from JSON-LD", "author": {"@type": "Person", "name": "Ada Lovelace"},'
        ' "datePublished": "2024-03-05T10:00:00Z"}</script><script>var t = "2019-01-01";</script></head>'
        f"<body><article><p>{words}.</p><p>{words}.</p></article></body></html>"
    ).encode()
    article = extract_article(page)
    assert article.title == "A headline from JSON-LD"
    assert article.authors == ["Ada Lovelace"]
    assert article.published_at is not None and article.published_at.startswith("2024-03-05")
