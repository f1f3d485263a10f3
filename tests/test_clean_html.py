"""HTML cleaning: chrome pruning, readability, residual clean-up, text rendering."""

from __future__ import annotations

import lxml.html
import pytest

from pagescrub.tasks.clean_html import _prose_container, clean_html_tree, parse_html, tree_to_text

PARA = (
    "The council approved the new budget on Tuesday after a debate that lasted most of the evening, "
    "with members split over the cost of road repairs and the library extension."
)


def _page(body: str, head: str = "") -> str:
    return f"<!doctype html><html><head><title>T</title>{head}</head><body>{body}</body></html>"


def _article(n: int = 5) -> str:
    return "".join(f"<p>{PARA} Paragraph {i}.</p>" for i in range(n))


def test_text_has_paragraphs_headings_and_list_items_on_their_own_lines() -> None:
    root = lxml.html.fragment_fromstring(
        "<div><h2>Heading</h2><p>One\n two   three.</p><ul><li>a</li><li>b</li></ul><p>x<br>y</p><pre>l1\nl2</pre></div>"
    )
    assert tree_to_text(root) == "Heading\n\nOne two three.\n\na\nb\n\nx\ny\n\nl1\nl2"


def test_chrome_blocks_are_removed_and_the_article_kept() -> None:
    html = _page(
        '<nav><a href="/">Home</a> <a href="/world">World</a></nav>'
        '<div class="share-bar"><a href="#">Share on Facebook</a><a href="#">Tweet</a></div>'
        f"<article><h1>Headline</h1>{_article()}"
        '<div class="newsletter-signup"><p>Sign up for our daily newsletter to get the news first.</p></div>'
        '<h3>Related stories</h3><ul><li><a href="/a">Another story about the council</a></li><li><a href="/b">More news</a></li></ul>'
        "</article>"
        '<aside class="sidebar"><h3>Most popular</h3><p>Some other article teaser text that is long enough to be prose.</p></aside>'
        "<footer><p>Copyright 2024 The Paper. All rights reserved.</p></footer>"
    )
    tree = parse_html(html)
    before = lxml.html.tostring(tree)
    body = clean_html_tree(tree)
    assert lxml.html.tostring(tree) == before, "the caller's tree must not be modified"
    for i in range(5):
        assert f"Paragraph {i}." in body.text
    for chrome in ("Home", "Share on Facebook", "Sign up", "Related stories", "Another story", "Most popular", "All rights reserved"):
        assert chrome not in body.text
    assert "<p>" in body.html and "class=" not in body.html


def test_byline_and_date_lines_at_the_top_are_removed() -> None:
    html = _page(
        "<article><div>By Jane Doe</div><div>Updated 5:27 am CST, Wednesday, November 20, 2019</div>"
        f"{_article()}<p>Reach the reporter at jane.doe@example.org.</p></article>"
    )
    text = clean_html_tree(parse_html(html), authors=["Jane Doe"]).text
    assert "Jane Doe" not in text and "November 20" not in text and "example.org" not in text
    assert text.startswith(PARA[:40])


def test_article_without_paragraph_tags_falls_back_to_the_prose_block() -> None:
    # An unclosed <button> swallowing the page used to lose the whole article.
    body = "<button>Menu<div><span>" + "<br><br>".join(f"{PARA} Line {i}." for i in range(6)) + "</span></div>"
    text = clean_html_tree(parse_html(_page(body))).text
    assert "Line 0." in text and "Line 5." in text


def test_prose_container_prefers_the_story_over_teaser_deks() -> None:
    # One-line teaser "deks", each alone in its item, are not article prose even
    # when there is more of their text than of the story's.
    story = "<div class='story'><span>" + "<br><br>".join(f"{PARA} Line {i}." for i in range(4)) + "</span></div>"
    teasers = "".join(
        f'<div class="item"><h4><a href="/t{i}">Teaser headline {i}</a></h4>'
        f"<p>Officials in a different town said on Monday that the bridge would reopen, teaser {i}.</p></div>"
        for i in range(30)
    )
    tree = parse_html(_page(f"<div class='row'>{story}<div class='list'>{teasers}</div></div>"))
    container, prose = _prose_container(tree)
    assert container is not None and container.get("class") == "story"
    assert prose >= 4 * len(PARA)


def test_comments_after_the_article_are_cut() -> None:
    html = _page(f"<div id='main'>{_article(6)}<h2>3 Comments</h2><p>{PARA} I disagree with this.</p><p>{PARA} Great read.</p></div>")
    text = clean_html_tree(parse_html(html)).text
    assert "Paragraph 5." in text
    assert "I disagree" not in text and "Great read" not in text


def test_spaces_collapse_runs_and_single_exotic_spaces_but_keep_line_breaks() -> None:
    from pagescrub.tasks.clean_html import _SPACES

    assert _SPACES.sub(" ", "a b") == "a b"
    assert _SPACES.sub(" ", "a  \t b") == "a b"
    assert _SPACES.sub(" ", "a\tb\u00a0c\u2009d\u200be") == "a b c d e"
    assert _SPACES.sub(" ", "a \n b") == "a \n b"  # newlines separate lines in tree_to_text
    root = lxml.html.fragment_fromstring("<div><p>One\ttwo\u00a0three  four</p></div>")
    assert tree_to_text(root) == "One two three four"


def test_contact_pattern_finds_addresses_and_is_linear_on_long_words() -> None:
    import time

    from pagescrub.tasks.clean_html import _CONTACT

    assert _CONTACT.search("Write to jane.doe+news@example.org now").group(0) == "jane.doe+news@example.org"
    assert _CONTACT.search("See www.twitter.com/janedoe") is not None
    assert _CONTACT.search("ping @janedoe") is not None
    started = time.perf_counter()
    assert _CONTACT.search("x" * 200_000 + " and more") is None
    assert time.perf_counter() - started < 0.5  # without the lookbehind: quadratic, minutes


def test_text_after_an_early_end_of_document_is_kept() -> None:
    """Browsers put what follows a premature </body></html> into the body; so must we."""
    html = _page("<nav><a href='/'>Home</a></nav>") + f"\n<div class='post'>{_article()}</div>"
    body = clean_html_tree(parse_html(html))
    assert "Paragraph 4." in body.text


def test_sections_readability_skips_inside_the_article_block_are_kept() -> None:
    """Readability keeps the best block and the siblings it scores; a sibling whose
    paragraphs sit deeper scores nothing and is dropped, though the article spans it."""
    section = (
        "<section><div><div><h2>Step two</h2>"
        f"<p>Whisk the eggs with the sugar until pale, then fold in the flour a spoonful at a time. {PARA}</p>"
        f"<p>Bake the sponge for twenty minutes and leave it to cool on a rack before slicing. {PARA}</p>"
        "</div></div></section>"
    )
    last = "".join(f"<p>Step {i}: {PARA}</p>" for i in range(2))
    html = _page(f'<div class="guide"><div>{_article(4)}</div>{section}<div>{last}</div></div>')
    body = clean_html_tree(parse_html(html))
    assert "Whisk the eggs" in body.text and "Bake the sponge" in body.text
    assert "Paragraph 3." in body.text and "Step 1:" in body.text


def test_region_is_located_when_the_first_paragraph_has_no_counterpart() -> None:
    """A paragraph readability built (e.g. from a <div> split by inline tags) may match
    nothing in the page: the next paragraph in from that end locates the article."""
    from pagescrub.tasks.clean_html import _locate

    paras = "".join(f"<p>Part {i}: {PARA}</p>" for i in range(4))
    work = parse_html(_page(f"<div class='other'><p>Teaser: {PARA}</p></div><div id='post'>{paras}</div>"))
    article = lxml.html.fragment_fromstring(
        f"<div><p>Zebras quietly crossed the frozen lake before sunrise, unnoticed by anyone at all.</p>{paras}</div>"
    )
    region = _locate(work, article)
    assert region is not None and region.get("id") == "post"


def test_expanding_stops_at_a_headline_and_meta_line_around_a_text_block() -> None:
    """A block whose text runs sit directly in it (split by <br>) has them credited to its
    parent as prose: climbing must not count them as prose the parent adds."""
    from pagescrub.tasks.clean_html import _expand, _score_prose

    text = "<br><br>".join(f"{PARA} Line {i}." for i in range(3))
    tree = parse_html(
        _page(
            "<div class='post'><h1>Chelsea sign the goalkeeper from Bilbao for a record fee this morning</h1>"
            f"<div class='meta'><span>The Site</span> <span>August 08, 2018</span></div><div id='body'>{text}</div></div>"
        )
    )
    node = tree.get_element_by_id("body")
    assert _expand(node, _score_prose(tree)) is node


def test_table_of_contents_loading_age_and_reading_time_lines_are_removed() -> None:
    html = _page(
        "<article><div>8 min read</div><h2>Table of Contents</h2>"
        f"{_article(3)}<p>Loading paragraph...</p>{_article(3)}<div>3 days ago</div></article>"
    )
    text = clean_html_tree(parse_html(html)).text
    assert "Paragraph 2." in text
    for junk in ("min read", "Table of Contents", "Loading", "days ago"):
        assert junk not in text


def test_headline_repeating_the_page_title_is_removed_from_the_top_only() -> None:
    title = "Council approves the new budget after long debate"

    def page(article: str) -> str:
        return (
            f"<!doctype html><html><head><title>{title} | The Daily Paper</title>"
            f'<meta property="og:title" content="{title}"></head><body><article>{article}</article></body></html>'
        )

    text = clean_html_tree(parse_html(page(f"<h1>{title}</h1>{_article(4)}"))).text
    assert title not in text and "Paragraph 3." in text
    # After the text has begun, the same words are the article's.
    text = clean_html_tree(parse_html(page(f"{_article(2)}<h2>{title}</h2>{_article(2)}"))).text
    assert title in text


def test_blocks_classed_as_captions_or_standfirst_are_removed() -> None:
    html = _page(
        "<article><p class='c-entry-summary p-dek'>The budget row, explained in one line for readers.</p>"
        f"{_article(2)}<div class='photo'><img src='a.jpg'><span class='newsCaption'>The council chamber on Tuesday</span></div>"
        f"{_article(2)}</article>"
    )
    text = clean_html_tree(parse_html(html)).text
    assert "Paragraph 1." in text
    assert "explained in one line" not in text
    assert "council chamber on Tuesday" not in text


def test_copyright_notice_at_the_end_is_removed() -> None:
    html = _page(f"<article>{_article(4)}<p>The contents of this site are \u00a92019 The Daily Paper Corp.</p></article>")
    text = clean_html_tree(parse_html(html)).text
    assert "Paragraph 3." in text
    assert "contents of this site" not in text


def test_credit_social_gallery_and_stamp_lines_are_removed_anywhere() -> None:
    notes = (
        "<p>Published Nov 18, 2019 at 4:07 PM | Updated at 5:36 PM CST on Nov 18, 2019</p>",
        "<p>Image 1 of 5</p>",
        "<p>Follow Newsbeat on Instagram, Facebook, Twitter and YouTube.</p>",
        "<p>Like this story? Share it with a friend!</p>",
        "<p>(Reporting by Jane Doe; Editing by John Roe)</p>",
        "<p>Related: <a href='/x'>Students aren't benefiting much from tutoring</a></p>",
    )
    html = _page(f"<article>{_article(2)}{notes[0]}{_article(2)}{notes[1]}{_article(2)}{''.join(notes[2:])}{_article(1)}</article>")
    text = clean_html_tree(parse_html(html)).text
    assert "Paragraph 1." in text
    for junk in ("Published Nov", "Image 1 of 5", "Follow Newsbeat", "Like this story", "Reporting by", "Related:"):
        assert junk not in text


def test_lone_call_to_action_labels_are_removed() -> None:
    html = _page(f"<article><p>TRENDING:</p>{_article(3)}<p>WHERE TO BUY</p>{_article(2)}<p>Pin it here</p></article>")
    text = clean_html_tree(parse_html(html)).text
    assert "Paragraph 1." in text
    for junk in ("TRENDING", "WHERE TO BUY", "Pin it"):
        assert junk not in text


def test_non_english_end_marker_cuts_what_follows() -> None:
    teaser = "<p>Outro texto sobre a vida e a esperança, com coragem e otimismo para o melhor acontecer sempre.</p>"
    html = _page(f"<article>{_article(4)}<h3>Você pode gostar...</h3>{teaser * 3}</article>")
    text = clean_html_tree(parse_html(html)).text
    assert "Paragraph 3." in text
    assert "pode gostar" not in text and "Outro texto" not in text


def test_hover_card_inside_a_paragraph_is_removed_and_the_name_kept() -> None:
    card = (
        "<span class='rollover-people'><a href='/people/jane'>Jane Roe</a><span class='rollover-people-block'>"
        "<span class='rollover-block'><img src='j.jpg'><a href='/a'>Another headline about Jane</a> "
        "<a href='/b'>Yet another headline about Jane</a></span></span></span>"
    )
    html = _page(f"<article><p>The mayor, {card}, said the vote was fair. {PARA}</p>{_article(3)}</article>")
    text = clean_html_tree(parse_html(html)).text
    assert "The mayor, Jane Roe, said" in text
    assert "headline about Jane" not in text


def test_lead_paragraph_in_its_own_box_before_the_text_is_kept() -> None:
    lead = (
        "<div class='el__leafmedia el__leafmedia--sourced-paragraph'><p>(Wire) The city will borrow less next year "
        "than in any year of the past decade, the treasurer said on Monday, after a long review of what the city owes "
        "and what it will have to pay back.</p></div>"
    )
    body = "".join(f"<div class='zn-body__paragraph'>Part {i}: {PARA}</div>" for i in range(8))
    html = _page(f"<div class='l-container'>{lead}{body}</div><div class='rail'><a href='/x'>Other</a></div>")
    text = clean_html_tree(parse_html(html)).text
    assert text.startswith("(Wire) The city will borrow less")
    assert "Part 7:" in text


def test_textarea_holding_the_article_source_is_dropped() -> None:
    # A "republish this story" box offers the article's HTML in a <textarea>: longer than
    # the article, it is still a form's value, never text to keep.
    source = "&lt;h1&gt;Headline&lt;/h1&gt; " + " ".join(f"&lt;p&gt;{PARA} Copy {i}.&lt;/p&gt;" for i in range(8))
    html = _page(f"<article>{_article(3)}<div class='box'><textarea>{source}</textarea></div>{_article(2)}</article>")
    text = clean_html_tree(parse_html(html)).text
    assert "Paragraph 2." in text
    assert "Copy 3." not in text and "<p>" not in text


def test_dialog_is_dropped_however_long() -> None:
    guide = "".join(
        f"<p>Please credit the writer and link back to the original story when you share it, rule {i}.</p>"
        for i in range(10)
    )
    html = _page(f"<article>{_article(8)}<div role='dialog' class='modal'><h2>Share our work</h2>{guide}</div></article>")
    text = clean_html_tree(parse_html(html)).text
    assert "Paragraph 7." in text
    assert "Share our work" not in text and "rule 5" not in text


def test_republication_box_is_dropped() -> None:
    box = (
        "<div id='republication-tracker-tool'><h3>Republish this article</h3>"
        "<p>This work is licensed under a Creative Commons Attribution-NoDerivatives 4.0 International License, "
        "so you may republish it for free, in print or online, with a credit to the writer.</p>"
        "<p>Please keep the article whole, and do not change what it says; you may change references to time and place.</p></div>"
    )
    after = "".join(f"<p>{PARA} Later part {i}.</p>" for i in range(2))
    html = _page(f"<article>{_article(3)}{box}{after}</article>")
    text = clean_html_tree(parse_html(html)).text
    assert "Paragraph 2." in text and "Later part 1." in text
    assert "Creative Commons" not in text and "Republish" not in text and "keep the article whole" not in text


def test_dated_teaser_cards_after_the_text_are_dropped() -> None:
    cards = "".join(
        f"<article class='post'><h3><a href='/post-{i}'>Another post number {i}</a></h3>"
        f"<span>March {i + 2}, 2025</span><p>{PARA} Teaser {i}.</p><a href='/post-{i}'>Read more</a></article>"
        for i in range(4)
    )
    html = _page(f"<div class='content'><h1>Headline</h1>{_article(3)}<div class='posts'>{cards}</div></div>")
    text = clean_html_tree(parse_html(html)).text
    assert "Paragraph 2." in text
    assert "Teaser" not in text and "Another post" not in text


def test_undated_cards_of_a_listicle_are_kept() -> None:
    cards = "".join(
        f"<article class='entry'><h3><a href='/place-{i}'>Place number {i}</a></h3><p>{PARA} Place {i}.</p></article>"
        for i in range(4)
    )
    html = _page(f"<div class='content'><h1>Headline</h1>{_article(3)}<div class='list'>{cards}</div></div>")
    text = clean_html_tree(parse_html(html)).text
    assert "Place 3." in text


def test_landing_page_with_nothing_but_blurbs_falls_back_to_main() -> None:
    slides = "".join(
        f"<section><h2>Project number {i}</h2><div><p>Work for client {i}.</p></div></section>"
        for i in range(6)
    )
    html = _page(f"<nav><a href='/'>Home</a></nav><main><h1>Work made to meet your goals.</h1>{slides}</main>")
    # Headlines and blurbs too short for readability and for the prose score.
    text = clean_html_tree(parse_html(html)).text
    assert "Work made to meet your goals." in text
    assert "client 5" in text
    assert "Home" not in text


def test_page_of_many_sections_keeps_all_of_main_not_one_section() -> None:
    # Readability and the prose score keep the one block of paragraphs; the page's other
    # sections are lists of short items, three times as much text, all inside <main>.
    sections = "".join(
        f"<div class='section'><h2>Part {n}</h2><ul>"
        + "".join(f"<li>Step {n}.{i}: check the settings, then restart.</li>" for i in range(10))
        + "</ul></div>"
        for n in range(4)
    )
    html = _page(
        "<nav><a href='/'>Home</a> <a href='/docs'>Docs</a></nav>"
        f"<main><div class='layout'><article><div class='text'>{_article(2)}</div></article>"
        f"<div class='sections'>{sections}</div></div></main>"
    )
    text = clean_html_tree(parse_html(html)).text
    assert "Paragraph 1." in text
    assert "Step 0.0:" in text and "Step 3.9:" in text
    assert "Docs" not in text


def test_list_readability_drops_after_a_kept_heading_is_put_back() -> None:
    # Readability drops a list with some links in it (a checklist naming products);
    # the heading it kept introduces it, so it is the text's.
    items = "".join(f"<li><a href='/p{i}'>Tent model {i}</a> for two people, light enough</li>" for i in range(6))
    links = "".join(f"<li><a href='/more{i}'>Another guide number {i}</a></li>" for i in range(6))
    before = "".join(f"<p>Part {i}: {PARA}</p>" for i in range(8))
    after = "".join(f"<p>Closing {i}: {PARA}</p>" for i in range(4))
    html = _page(
        f"<article><div class='body'>{before}<h3>What to pack</h3><ul>{items}</ul>"
        f"<h3>Guides</h3><ul>{links}</ul>{after}</div></article>"
    )
    text = clean_html_tree(parse_html(html)).text
    assert "What to pack" in text and "Closing 3:" in text
    assert "Tent model 0 for two people" in text and "Tent model 5" in text
    assert "Another guide" not in text


def test_table_readability_drops_after_a_kept_heading_is_put_back() -> None:
    rows = "".join(
        f"<tr><td><a href='/m{i}'>Model {i} tent</a> in the range</td><td>{i + 2} lb</td></tr>" for i in range(6)
    )
    before = "".join(f"<p>Part {i}: {PARA}</p>" for i in range(8))
    after = "".join(f"<p>Closing {i}: {PARA}</p>" for i in range(4))
    html = _page(f"<article><div class='body'>{before}<h3>How they compare</h3><table>{rows}</table>{after}</div></article>")
    text = clean_html_tree(parse_html(html)).text
    assert "How they compare" in text and "Closing 3:" in text
    assert "Model 0 tent in the range 2 lb" in text and "Model 5" in text


def test_introduction_in_a_block_before_the_body_is_put_back() -> None:
    # Readability keeps the body's block and leaves out the short one before it; both are
    # paragraphs through and through.
    intro = (
        "<div class='intro'><p>Opening: the city will borrow less next year than in any year of the past decade, "
        "the treasurer said.</p><p>Second: what the city owes will fall by a fifth, after a long review of its "
        "debts and what it will have to pay back.</p></div>"
    )
    body = "".join(f"<p>Part {i}: {PARA}</p>" for i in range(12))
    html = _page(f"<article>{intro}<div class='body'>{body}</div></article>")
    text = clean_html_tree(parse_html(html)).text
    assert text.startswith("Opening: the city")
    assert "Second: what the city owes" in text and "Part 11:" in text


def _counting_readability(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count readability's passes (it still runs: the counter wraps it)."""
    from pagescrub.tasks import clean_html

    calls: list[int] = []
    summary = clean_html._Readability.summary

    def counted(self: object, *args: object, **kwargs: object) -> str:
        calls.append(1)
        return summary(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(clean_html._Readability, "summary", counted)
    return calls


def test_a_plainly_marked_article_is_cleaned_without_readability(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting_readability(monkeypatch)
    html = _page(
        '<nav><a href="/">Home</a> <a href="/world">World</a></nav>'
        f"<article><h1>Headline</h1><div class='body'>{_article(9)}</div></article>"
        "<footer><p>Copyright 2024 The Paper. All rights reserved.</p></footer>"
    )
    text = clean_html_tree(parse_html(html)).text
    assert calls == []
    assert all(f"Paragraph {i}." in text for i in range(9))
    assert "Home" not in text and "Copyright" not in text


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(f"<div class='story'><h1>Headline</h1>{_article(9)}</div>", id="no <article> on the page"),
        pytest.param(f"<article><h1>Headline</h1><div>{_article(7)}</div></article>", id="fewer than 8 paragraphs"),
        pytest.param(
            f"<article><div class='part-1'>{_article(9)}</div>"
            + "<div class='facts'>" + "".join(f"<div>Fact {i}: a short line of figures</div>" for i in range(40)) + "</div>"
            + f"<div class='part-2'>{_article(3)}</div></article>",
            id="over a tenth of the article's prose outside the block",
        ),
    ],
)
def test_readability_still_reads_pages_that_do_not_plainly_mark_their_article(monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    calls = _counting_readability(monkeypatch)
    text = clean_html_tree(parse_html(_page(body))).text
    assert calls == [1]
    assert "Paragraph 0." in text


@pytest.mark.parametrize(
    ("body", "asked"),
    [
        # The article marked: <article> or <main> (or role="main") around the block of paragraphs.
        (f"<article><div>{_article(9)}</div></article>", False),
        (f"<main><div class='story'>{_article(9)}</div><div class='more'><p>Prices from $30</p></div></main>", False),
        (f"<div role='main'><div class='story'>{_article(9)}</div></div>", False),
        # <main> as the block itself holds the page's other blocks too: readability reads the page.
        (f"<main>{_article(9)}<ul><li>Reading list</li><li>References</li></ul></main>", True),
        # Too few paragraphs, or no mark: readability reads the page.
        (f"<main><div class='story'>{_article(5)}</div></main>", True),
        (f"<div><div class='story'>{_article(9)}</div></div>", True),
    ],
)
def test_readability_is_asked_only_when_the_article_is_not_plain(body: str, asked: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from pagescrub.tasks import clean_html as ch

    calls: list[bool] = []
    original = ch._Readability.summary

    def summary(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(True)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ch._Readability, "summary", summary)
    text = clean_html_tree(parse_html(_page(body))).text
    assert bool(calls) == asked
    assert "Paragraph 0." in text and "Paragraph 4." in text


def test_only_links_images_and_table_spans_keep_attributes() -> None:
    from pagescrub.tasks.clean_html import _strip_attributes

    root = lxml.html.fragment_fromstring(
        '<div class="a" id="b"><!-- note --><a class="c" href="/x" title="t">x</a>'
        '<img style="s" alt="A" data-x="1" src="i.png"><table><tr><td colspan="2" class="d">c</td>'
        '<th rowspan="3" scope="col">h</th></tr></table><p>plain</p></div>'
    )
    _strip_attributes(root)
    assert lxml.html.tostring(root, encoding="unicode") == (
        '<div><!-- note --><a href="/x">x</a><img alt="A" src="i.png"><table><tr><td colspan="2">c</td>'
        '<th rowspan="3">h</th></tr></table><p>plain</p></div>'
    )


@pytest.mark.parametrize(
    ("tail", "authors", "cut"),
    [
        ("<p>Related stories</p><p>Another story teaser.</p>", (), True),  # a line, not a heading
        ("<div><p>Jane Doe</p><p>Jane writes about councils.</p></div>", ("Jane Doe",), True),  # the author box
        ("<p>Jane Doe</p><p>Jane writes about councils.</p>", (), False),  # a name that is no author's
        ("<p>Related stories about the budget are linked from the council's page on it.</p>", (), False),
    ],
)
def test_end_marker_lines_cut_what_follows(tail: str, authors: tuple[str, ...], cut: bool) -> None:
    from pagescrub.tasks.clean_html import _truncate_at_end_marker

    root = lxml.html.fragment_fromstring(f"<div><p>Related</p>{_article(4)}{tail}</div>")
    _truncate_at_end_marker(root, authors=authors)
    text = tree_to_text(root)
    assert text.startswith("Related\n\n")  # a marker in the opening never cuts
    assert "Paragraph 3." in text
    follows = "councils" in text or "linked" in text or "teaser" in text  # the lines after the marker
    assert follows is not cut


def test_headings_only_pass_cuts_at_a_heading_line_only() -> None:
    """In the headings-only pass a marker cuts only as a heading that is a line of its own: a
    heading holding a block is not one (its inner block is the line, and no heading)."""
    from pagescrub.tasks.clean_html import _truncate_at_end_marker

    for heading, cut in (("<h3>Comments</h3>", True), ("<h3><div>Comments</div></h3>", False), ("<p>Comments</p>", False)):
        root = lxml.html.fragment_fromstring(f"<div>{_article(4)}{heading}<p>First reader comment.</p></div>")
        _truncate_at_end_marker(root, headings_only=True)
        assert ("First reader comment." not in tree_to_text(root)) is cut, heading
