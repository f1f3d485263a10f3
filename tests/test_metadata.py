"""Page metadata: JSON-LD > OpenGraph > other meta > markup > htmldate, and the normalizers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import lxml.html
import pytest

from pagescrub.tasks.metadata import (
    GENERIC_AUTHORS,
    Metadata,
    clean_title,
    detect_language,
    extract_html_metadata,
    normalize_authors,
    normalize_date,
)

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def parse(html: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(html)


def page(head: str = "", body: str = "", lang: str | None = None) -> lxml.html.HtmlElement:
    attr = f' lang="{lang}"' if lang else ""
    return parse(f"<!DOCTYPE html><html{attr}><head>{head}</head><body>{body}</body></html>")


def ld(obj: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


# --------------------------------------------------------------------------- JSON-LD

YOAST_GRAPH = {
    "@context": "https://schema.org",
    "@graph": [
        {"@type": "WebSite", "@id": "https://news.example.com/#website", "name": "Example News"},
        {
            "@type": "WebPage",
            "@id": "https://news.example.com/2022/02/kremlin/",
            "name": "Kremlin rebuffs Macron | Example News",
            "datePublished": "2021-01-01T00:00:00+00:00",
        },
        {
            "@type": ["NewsArticle", "Article"],
            "@id": "https://news.example.com/2022/02/kremlin/#article",
            "headline": "Kremlin rebuffs Macron after Moscow talks",
            "author": [
                {"@id": "https://news.example.com/#/person/1"},
                {"@type": "Person", "name": "Jane Doe"},
                {"@type": "Person", "name": "JANE DOE"},  # duplicate, other case
            ],
            "datePublished": "2022-02-08T15:30:00+01:00",
            "dateModified": "2022-02-09T08:00:00+01:00",
            "publisher": {"@id": "https://news.example.com/#organization"},
            "keywords": ["Russia", "France", "russia"],
            "image": {"@type": "ImageObject", "url": "/img/kremlin.jpg"},
            "description": "Moscow says Paris &amp; Berlin cannot make deals.",
            "inLanguage": "en-GB",
        },
        {"@type": "Organization", "@id": "https://news.example.com/#organization", "name": "Example News"},
        {"@type": "Person", "@id": "https://news.example.com/#/person/1", "name": "LAUREN LEWIS"},
    ],
}


def test_json_ld_graph_with_several_person_authors() -> None:
    tree = page(
        head=ld(YOAST_GRAPH)
        + '<meta property="og:title" content="Something else entirely">'
        + '<meta name="author" content="Ignored Because JSON-LD Wins">',
        body="<h1>Kremlin rebuffs Macron after Moscow talks</h1>",
    )
    md = extract_html_metadata(tree, "https://news.example.com/2022/02/kremlin/?utm_source=x")
    assert md.title == "Kremlin rebuffs Macron after Moscow talks"
    # @id references resolved, ALL CAPS title-cased, case-insensitive duplicate dropped
    assert md.authors == ["Lauren Lewis", "Jane Doe"]
    assert md.published_at == "2022-02-08T15:30:00+01:00"  # the article's date, not the WebPage's
    assert md.modified_at == "2022-02-09T08:00:00+01:00"
    assert md.site_name == "Example News"
    assert md.image == "https://news.example.com/img/kremlin.jpg"
    assert md.tags == ["Russia", "France"]
    assert md.description == "Moscow says Paris & Berlin cannot make deals."
    assert md.language == "en"


def test_json_ld_nested_main_entity_and_author_shapes() -> None:
    data = [
        {"@type": "BreadcrumbList", "itemListElement": []},
        {
            "@type": "WebPage",
            "mainEntity": {
                "@type": "http://schema.org/ReportageNewsArticle",
                "headline": ["Floods hit the valley"],
                "author": "Ann Lee and Bob Stone",
                "datePublished": "Wednesday, February 9, 2022",
                "keywords": "floods, weather ,  , Weather",
                "image": ["https://cdn.example.com/a.jpg", "https://cdn.example.com/b.jpg"],
            },
        },
    ]
    md = extract_html_metadata(page(head=ld(data)), "https://example.com/floods")
    assert md.title == "Floods hit the valley"
    assert md.authors == ["Ann Lee", "Bob Stone"]
    assert md.published_at == "2022-02-09T00:00:00+00:00"
    assert md.tags == ["floods", "weather"]
    assert md.image == "https://cdn.example.com/a.jpg"


def test_json_ld_organization_author_is_last_resort() -> None:
    data = {
        "@type": "Article",
        "headline": "Quarterly results",
        "author": {"@type": "Organization", "name": "Acme Corp"},
        "publisher": {"@type": "Organization", "name": "Acme Corp"},
    }
    md = extract_html_metadata(page(head=ld(data)), "https://acme.example/results")
    assert md.authors == ["Acme Corp"]  # nobody else is named: the company signs its own post
    md = extract_html_metadata(
        page(head=ld(data) + '<meta name="author" content="Maria Gomez">'), "https://acme.example/results"
    )
    assert md.authors == ["Maria Gomez"]


def test_author_equal_to_site_is_dropped_when_a_person_is_named() -> None:
    head = (
        '<meta property="og:site_name" content="The Daily Example">'
        '<meta name="author" content="The Daily Example, Sam Writer">'
    )
    md = extract_html_metadata(page(head=head), "https://dailyexample.com/a")
    assert md.authors == ["Sam Writer"]


def test_invalid_json_ld_never_raises_and_is_repaired_when_possible() -> None:
    trailing_comma = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Fixed headline",'
                      ' "author": {"name": "Ann\tLee",}, "datePublished": "2022-02-09",}</script>')
    md = extract_html_metadata(page(head=trailing_comma))
    assert md.title == "Fixed headline"
    assert md.authors == ["Ann Lee"]
    assert md.published_at == "2022-02-09T00:00:00+00:00"

    broken = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>'
        '<script type="application/ld+json">not json at all</script>'
        '<meta property="og:title" content="From OpenGraph">'
    )
    md = extract_html_metadata(page(head=broken))
    assert md.title == "From OpenGraph"


def test_wrong_types_are_ignored() -> None:
    data = {
        "@type": "NewsArticle",
        "headline": 12345,
        "author": [42, None, {"name": 7}, {"name": "Real Person"}],
        "datePublished": "yesterday",
        "dateModified": 1.5,
        "keywords": {"bad": "shape"},
        "image": 3,
        "publisher": "Example Wire",
    }
    md = extract_html_metadata(page(head=ld(data) + "<title>Fallback title</title>"))
    assert md.title == "Fallback title"
    assert md.authors == ["Real Person"]
    assert md.published_at is None
    assert md.modified_at is None
    assert md.tags == []
    assert md.image is None


def test_huge_inputs_are_capped_not_fatal() -> None:
    deep = "[" * 5000 + "]" * 5000
    big = {"@type": "Article", "headline": "H" * 100_000, "articleBody": "x" * 500_000}
    head = f'<script type="application/ld+json">{deep}</script>' + ld(big)
    md = extract_html_metadata(page(head=head))
    assert md.title is not None and len(md.title) == 1000
    assert clean_title("t" * 100_000) == "t" * 1000


# --------------------------------------------------------------------------- OpenGraph / meta / markup


def test_opengraph_only_page() -> None:
    head = """
    <meta property="og:title" content="Storm closes schools | Coast Herald">
    <meta property="og:site_name" content="Coast Herald">
    <meta property="og:description" content="  Schools shut   as the storm nears. ">
    <meta property="og:image" content="/media/storm.jpg">
    <meta property="og:url" content="https://CoastHerald.example/storm?utm_campaign=rss#top">
    <meta property="og:locale" content="fr_FR">
    <meta property="article:published_time" content="2023-10-05T07:15:00-04:00">
    <meta property="article:modified_time" content="2023-10-05T09:00:00-04:00">
    <meta property="article:author" content="https://www.facebook.com/someone">
    <meta property="article:tag" content="Weather">
    <meta property="article:tag" content="Schools">
    """
    md = extract_html_metadata(page(head=head), "https://coastherald.example/storm")
    assert md == Metadata(
        title="Storm closes schools",
        authors=[],  # article:author was a profile URL, not a name
        published_at="2023-10-05T07:15:00-04:00",
        modified_at="2023-10-05T09:00:00-04:00",
        site_name="Coast Herald",
        canonical_url="https://coastherald.example/storm",
        description="Schools shut as the storm nears.",
        image="https://coastherald.example/media/storm.jpg",
        tags=["Weather", "Schools"],
        language="fr",
    )


def test_empty_page_gives_empty_metadata() -> None:
    assert extract_html_metadata(parse("<html><body><p>Nothing to see.</p></body></html>")) == Metadata()
    assert extract_html_metadata(None) == Metadata()  # type: ignore[arg-type]


def test_other_meta_and_markup_sources() -> None:
    head = """
    <title>Council approves budget - Valley Times</title>
    <meta name="application-name" content="Valley Times">
    <meta name="byl" content="By MARY SMITH and Tom Jones">
    <meta name="news_keywords" content="budget, council">
    <meta http-equiv="content-language" content="de-AT">
    <link rel="canonical" href="/2024/03/budget">
    """
    body = """
    <aside><time datetime="2019-01-01">old teaser</time></aside>
    <article><header><h1>Council approves budget</h1>
      <time class="published" datetime="2024-03-04T10:00:00Z">March 4</time></header>
      <p>Text</p></article>
    """
    md = extract_html_metadata(page(head=head, body=body), "https://valleytimes.example/x")
    assert md.title == "Council approves budget"
    assert md.authors == ["Mary Smith", "Tom Jones"]
    assert md.published_at == "2024-03-04T10:00:00+00:00"  # the article's <time>, not the sidebar's
    assert md.site_name == "Valley Times"
    assert md.canonical_url == "https://valleytimes.example/2024/03/budget"
    assert md.tags == ["budget", "council"]
    assert md.language == "de"


def test_byline_markup_when_no_structured_author() -> None:
    body = """
    <article><h1>A long headline about local news</h1>
    <div class="article-byline"><span>By</span><a href="/authors/jane-roe">JANE ROE</a><span>Feb 8, 2022</span></div>
    <p>Body text.</p></article>
    """
    md = extract_html_metadata(page(body=body), "https://example.com/news/1")
    assert md.authors == ["Jane Roe"]
    assert md.title == "A long headline about local news"


def test_itemprop_author_name() -> None:
    body = (
        '<div itemprop="author" itemscope itemtype="https://schema.org/Person">'
        '<span itemprop="name">Kim Park</span><span itemprop="jobTitle">Reporter</span></div>'
    )
    assert extract_html_metadata(page(body=body)).authors == ["Kim Park"]


def test_modified_before_published_is_dropped_and_future_dates_ignored() -> None:
    head = (
        '<meta property="article:published_time" content="2099-01-01T00:00:00Z">'  # future: ignored
        '<meta name="pubdate" content="2022-02-09T10:00:00Z">'
        '<meta property="article:modified_time" content="2022-02-01T00:00:00Z">'
    )
    md = extract_html_metadata(page(head=head))
    assert md.published_at == "2022-02-09T10:00:00+00:00"
    assert md.modified_at is None


def test_htmldate_is_the_last_resort_for_the_date() -> None:
    body = "<article><h1>Some title here</h1><p>Published on 2021-03-04, somewhere.</p></article>"
    md = extract_html_metadata(page(body=body), "https://example.com/2021/03/04/story.html")
    assert md.published_at == "2021-03-04T00:00:00+00:00"


def test_placeholder_titles_are_never_returned() -> None:
    md = extract_html_metadata(page(head="<title>Untitled</title><meta property='og:title' content='Home'>"))
    assert md.title is None


def test_h1_with_dateline_loses_to_the_clean_og_title() -> None:
    head = '<meta property="og:title" content="Preparing a transition in Debusine">'
    body = "<article><h1><span>Dec 18 2025</span> Preparing a transition in Debusine</h1></article>"
    assert extract_html_metadata(page(head=head, body=body)).title == "Preparing a transition in Debusine"


def test_extract_does_not_mutate_the_tree() -> None:
    html = (
        "<html lang='en'><head><title>Budget vote | Town Crier</title>"
        "<script type='application/ld+json'>{\"@type\": \"Article\", \"headline\": \"Budget vote\",}</script>"
        "<!-- a comment --><style>p{color:red}</style></head><body>"
        "<header><h1>Town Crier</h1></header><article><h1>Budget vote</h1>"
        "<div class='byline'>By <a rel='author' href='/author/al-bo'>Al Bo</a></div>"
        "<script>var x = 1;</script><p>Voted on 5 March 2021.</p><time datetime='2021-03-05'>x</time>"
        "</article><div class='author-box'>About the author</div></body></html>"
    )
    for url in (None, "https://towncrier.example/2021/03/05/budget"):
        tree = lxml.html.document_fromstring(html)
        before = lxml.html.tostring(tree)
        md = extract_html_metadata(tree, url)
        assert lxml.html.tostring(tree) == before
        assert md.title == "Budget vote"
    # and when nothing structured gives a date, htmldate runs on the same tree
    tree = lxml.html.document_fromstring("<html><body><div><p>Posted 2020-05-06</p><p>text</p></div></body></html>")
    before = lxml.html.tostring(tree)
    extract_html_metadata(tree, "https://example.com/x")
    assert lxml.html.tostring(tree) == before


# --------------------------------------------------------------------------- clean_title


@pytest.mark.parametrize(
    ("raw", "site", "h1", "expected"),
    [
        ("Storm closes schools | Coast Herald", "Coast Herald", None, "Storm closes schools"),
        ("Storm closes schools - Coast Herald", "Coast Herald", None, "Storm closes schools"),
        ("Coast Herald: Storm closes schools", "Coast Herald", None, "Storm closes schools"),
        ("Storm closes schools — The Coast Herald", "Coast Herald", None, "Storm closes schools"),
        ("Storm closes schools » Coast Herald", "Coast Herald", None, "Storm closes schools"),
        ("Big storm ahead - BBC News", "BBC", None, "Big storm ahead"),
        ("Time to act on climate - Time", "Time", None, "Time to act on climate"),
        ("Storm closes schools | Local | Herald", None, "Storm closes schools", "Storm closes schools"),
        ("Headline - CNN", None, "CNN", "Headline - CNN"),  # a logo h1 confirms nothing
        ("Russia-Ukraine talks - Coast Herald", "Coast Herald", None, "Russia-Ukraine talks"),
        ("  Storm\n closes   schools ", None, None, "Storm closes schools"),
        ("Coast Herald", "Coast Herald", None, None),
        ("", None, None, None),
        (None, None, None, None),
        ("Home", None, None, None),
    ],
)
def test_clean_title(raw: str | None, site: str | None, h1: str | None, expected: str | None) -> None:
    assert clean_title(raw, site_name=site, h1=h1) == expected


# --------------------------------------------------------------------------- normalize_authors


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["By JOHN SMITH and Jane Doe"], ["John Smith", "Jane Doe"]),
        (["Jane Doe, Staff Writer"], ["Jane Doe"]),
        (["staff"], []),
        (["Editorial Board"], []),
        (["jane@example.com"], []),
        (["By Jane Doe (jane@example.com)"], ["Jane Doe"]),
        (["Written by Mary O'Neil | Senior Correspondent"], ["Mary O'Neil"]),
        (["Author: Kim Lee; Bo Chan & Al Roe"], ["Kim Lee", "Bo Chan", "Al Roe"]),
        (["Jane Doe with Ann Lee"], ["Jane Doe", "Ann Lee"]),
        (["By Jane Doe Published Feb 8, 2022 10:00 AM"], ["Jane Doe"]),
        (["https://www.facebook.com/janedoe"], []),
        (["Reuters"], ["Reuters"]),  # an agency alone is the byline
        (["Jane Doe, Reuters"], ["Jane Doe"]),  # next to a person it is an affiliation
        (["Vanessa Mendez, MD"], ["Vanessa Mendez"]),
        (["Jane Doe", "jane doe", "JANE DOE"], ["Jane Doe"]),
        ([42, None, "Real Name"], ["Real Name"]),
        (["{{author}}", "February", "View all posts by Ray Ansari"], ["Ray Ansari"]),
        ([f"Person {chr(65 + i)}x" for i in range(15)], [f"Person {chr(65 + i)}x" for i in range(10)]),
        (["A" * 200], []),
    ],
)
def test_normalize_authors(values: list, expected: list[str]) -> None:
    assert normalize_authors(values) == expected


def test_generic_denylist_is_explicit() -> None:
    assert {"staff", "admin", "editorial board", "newsroom", "agencies"} <= GENERIC_AUTHORS
    assert "reuters" not in GENERIC_AUTHORS


# --------------------------------------------------------------------------- normalize_date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-02-09", "2022-02-09T00:00:00+00:00"),
        ("2022-02-09T10:00:00Z", "2022-02-09T10:00:00+00:00"),
        ("2022-02-09T10:00:00.000+0000", "2022-02-09T10:00:00+00:00"),
        ("2022-02-09T10:00:00+05:30", "2022-02-09T10:00:00+05:30"),
        ("2022-02-09 10:00:00", "2022-02-09T10:00:00+00:00"),
        ("Tue, 08 Feb 2022 10:00:00 -0500", "2022-02-08T10:00:00-05:00"),
        ("Feb. 8, 2022", "2022-02-08T00:00:00+00:00"),
        ("Wednesday, February 9, 2022", "2022-02-09T00:00:00+00:00"),
        ("9 February 2022 10:00 GMT", "2022-02-09T10:00:00+00:00"),
        ("Published: Feb 8, 2022 at 10:00 a.m. EST", "2022-02-08T10:00:00-05:00"),
        ("2022-02-09 10:00 GMT+3", "2022-02-09T10:00:00+03:00"),  # web meaning, not POSIX
        ("09.02.2022", "2022-02-09T00:00:00+00:00"),  # dotted: day first
        ("9 février 2022", "2022-02-09T00:00:00+00:00"),
        ("1644364800", "2022-02-09T00:00:00+00:00"),  # unix seconds
        ("1644364800000", "2022-02-09T00:00:00+00:00"),  # unix milliseconds
        ("yesterday", None),
        ("3 hours ago", None),
        ("12345", None),
        ("2022", None),
        ("February 2022", None),  # no day
        ("2022-02-30", None),
        ("not a date", None),
        ("", None),
        (None, None),
        ("2030-01-01", None),  # future
        ("1980-05-05", None),  # before 1990
        ("1970-01-01T00:00:00Z", None),  # epoch placeholder
    ],
)
def test_normalize_date(value: str | None, expected: str | None) -> None:
    assert normalize_date(value, now=NOW) == expected


def test_normalize_date_future_window_is_one_day() -> None:
    assert normalize_date("2024-06-02T06:00:00Z", now=NOW) == "2024-06-02T06:00:00+00:00"
    assert normalize_date("2024-06-03T00:00:00Z", now=NOW) is None
    assert normalize_date("2024-06-02", now=datetime(2024, 6, 1)) == "2024-06-02T00:00:00+00:00"  # naive now = UTC


# --------------------------------------------------------------------------- detect_language

ENGLISH = (
    "The city council voted on Tuesday to approve a new budget that increases spending on "
    "schools and public transport, after months of debate among residents and officials."
)
FRENCH = (
    "Le conseil municipal a voté mardi un nouveau budget qui augmente les dépenses pour les "
    "écoles et les transports publics, après des mois de débat entre habitants et élus."
)
RUSSIAN = (
    "Городской совет во вторник проголосовал за новый бюджет, который увеличивает расходы на "
    "школы и общественный транспорт после нескольких месяцев обсуждений."
)


@pytest.mark.parametrize(("text", "expected"), [(ENGLISH, "en"), (FRENCH, "fr"), (RUSSIAN, "ru")])
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected
    assert detect_language(text * 50) == expected  # long texts are sampled, same answer


HEBREW = "מועצת העיר הצביעה ביום שלישי בעד תקציב חדש שמגדיל את ההוצאות על בתי ספר ותחבורה ציבורית."


def test_detect_language_gives_todays_codes_not_cld2s_legacy_ones() -> None:
    assert detect_language(HEBREW) == "he"  # CLD2 says "iw"


def test_detect_language_reads_past_control_characters() -> None:
    # U+0092 from "&#146;" and U+0080 from mojibake: CLD2 refuses both as invalid UTF-8.
    assert detect_language(ENGLISH.replace("council", "council\x92s").replace("budget", "\u00e2\x80\x99budget")) == "en"
    assert detect_language(ENGLISH + "\ud800") == "en"  # a lone surrogate is dropped, not fatal


def test_detect_language_reads_text_as_text_not_markup() -> None:
    assert detect_language("<p>" + FRENCH + " &amp; <b>") == "fr"
    assert detect_language(ENGLISH.replace("schools", "<schools>")) == "en"


@pytest.mark.parametrize("text", ["", "short", "12345 67890 !!! ???", None])
def test_detect_language_abstains_on_too_little_text(text: str | None) -> None:
    assert detect_language(text) is None  # type: ignore[arg-type]


# ------------------------------------------------------------- rules of issue 3


def test_organisation_author_yields_to_a_byline_naming_a_person() -> None:
    # The site signs its own article in the structured data (typed Person by its CMS).
    site = '<meta property="og:site_name" content="Heart Health Foundation">'
    data = {"@type": "Article", "headline": "Eat well", "author": {"@type": "Person", "name": "Heart Health Foundation"}}
    body = "<article><h1>Eat well</h1><p class='byline'>By Tracy Parker</p><p>Text.</p></article>"
    md = extract_html_metadata(page(head=site + ld(data), body=body), "https://hhf.example/eat-well")
    assert md.authors == ["Tracy Parker"]
    # A personal site signing with its owner's name is a person: a byline elsewhere does not override.
    owner = '<meta property="og:site_name" content="Ash Writer">'
    data["author"] = {"@type": "Person", "name": "Ash Writer"}
    md = extract_html_metadata(page(head=owner + ld(data), body=body), "https://ashwriter.example/post")
    assert md.authors == ["Ash Writer"]
    # An organisation and no byline: the organisation signs.
    data["author"] = {"@type": "Organization", "name": "Heart Health Foundation"}
    md = extract_html_metadata(page(head=site + ld(data), body="<article><p>Text.</p></article>"), "https://hhf.example/a")
    assert md.authors == ["Heart Health Foundation"]


def test_shown_publication_date_wins_over_markup_naming_another_day() -> None:
    head = '<meta property="article:published_time" content="2024-05-20T10:00:00+00:00">'
    body = "<article><h1>Headline</h1><div class='meta'>By Kim Park, Published: April 26, 2023</div><p>Text.</p></article>"
    md = extract_html_metadata(page(head=head, body=body))
    assert md.published_at == "2023-04-26T00:00:00+00:00"


def test_shown_date_one_day_off_keeps_the_exact_markup_time() -> None:
    head = '<meta property="article:published_time" content="2024-05-20T23:30:00+00:00">'
    body = "<article><div>Published May 21, 2024</div><p>Text.</p></article>"
    md = extract_html_metadata(page(head=head, body=body))
    assert md.published_at == "2024-05-20T23:30:00+00:00"  # the same moment in the site's time zone


def test_shown_date_one_day_off_that_no_time_zone_explains_wins() -> None:
    head = '<meta property="article:published_time" content="2024-05-20T23:30:00+00:00">'
    body = "<article><div>Published May 19, 2024</div><p>Text.</p></article>"
    assert extract_html_metadata(page(head=head, body=body)).published_at == "2024-05-19T00:00:00+00:00"
    # The same for the unlabelled day beside the headline.
    data = {"@type": "BlogPosting", "headline": "A new standard", "datePublished": "2025-12-19T22:02:58Z"}
    body = "<article><h1>A new standard</h1><div><div>Dec 18, 2025</div><div>5 min read</div></div><p>Text.</p></article>"
    assert extract_html_metadata(page(head=ld(data), body=body)).published_at == "2025-12-18T00:00:00+00:00"
    data["datePublished"] = "2025-12-19T02:41:41Z"  # the evening of the 18th in the Americas
    assert extract_html_metadata(page(head=ld(data), body=body)).published_at == "2025-12-19T02:41:41+00:00"


def test_unlabelled_date_beside_an_update_is_the_publication() -> None:
    body = "<article><h1>Headline</h1><div class='byline'>April 26, 2024 <span>Updated on: October 28, 2024</span></div><p>Text.</p></article>"
    md = extract_html_metadata(page(body=body), "https://example.com/story")
    assert md.published_at == "2024-04-26T00:00:00+00:00"
    assert md.modified_at == "2024-10-28T00:00:00+00:00"


def test_shown_update_alone_is_never_the_publication() -> None:
    head = '<meta property="article:published_time" content="2020-03-11T14:49:33+00:00">'
    body = "<article><div>Last updated: Jul 22, 2021</div><p>Text.</p></article>"
    md = extract_html_metadata(page(head=head, body=body))
    assert md.published_at == "2020-03-11T14:49:33+00:00"
    assert md.modified_at == "2021-07-22T00:00:00+00:00"


def test_shown_dates_in_comments_sidebars_and_author_boxes_are_ignored() -> None:
    head = '<meta property="article:published_time" content="2024-05-20T10:00:00+00:00">'
    body = (
        "<article><p>Text.</p></article>"
        "<aside><div>Published January 3, 2022</div></aside>"
        "<div class='comments'><div>Posted on March 1, 2023</div></div>"
        "<div class='author-card'>Jo Bloggs · Last published Apr 8, 2021</div>"
    )
    md = extract_html_metadata(page(head=head, body=body))
    assert md.published_at == "2024-05-20T10:00:00+00:00"


def test_htmldate_scans_free_text_only_on_pages_up_to_a_million_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    import htmldate

    calls: list[bool] = []

    def fake_find_date(tree: object, **kwargs: object) -> None:
        calls.append(bool(kwargs["extensive_search"]))
        return

    monkeypatch.setattr(htmldate, "find_date", fake_find_date)
    extract_html_metadata(page(body="<p>" + "word " * 1000 + "</p>"))
    extract_html_metadata(page(body="<p>" + "word " * 210_000 + "</p>"))
    assert calls == [True, False]


# --------------------------------------------------------------------------- dates in the page's language

FRENCH_PROSE = (
    "<p>Le gouvernement a présenté mardi un projet de loi sur la réforme des retraites, "
    "qui prévoit un relèvement progressif de l'âge légal de départ et une hausse de la durée "
    "de cotisation pour les générations nées après le milieu des années soixante.</p>"
)


@pytest.fixture
def parser_languages(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[str, ...] | None]]:
    """The (settings, languages) of every dateparser parser asked for, in order."""
    from pagescrub.tasks import metadata

    asked: list[tuple[str, tuple[str, ...] | None]] = []
    real = metadata._date_parser

    def spy(settings: str, languages: tuple[str, ...] | None) -> object:
        asked.append((settings, languages))
        return real(settings, languages)

    monkeypatch.setattr(metadata, "_date_parser", spy)
    return asked


def test_dates_are_read_in_the_declared_language_and_english(parser_languages: list) -> None:
    md = extract_html_metadata(page(head='<meta name="date" content="9 février 2022">', lang="fr-FR"))
    assert md.published_at == "2022-02-09T00:00:00+00:00"
    assert parser_languages == [("pagescrub", ("fr", "en"))]


def test_dates_of_a_page_without_a_declared_language_are_read_in_the_language_of_its_text(
    parser_languages: list,
) -> None:
    md = extract_html_metadata(page(head='<meta name="date" content="9 février 2022">', body=FRENCH_PROSE))
    assert md.published_at == "2022-02-09T00:00:00+00:00"
    assert parser_languages == [("pagescrub", ("fr", "en"))]
    assert md.language is None  # detected for its dates only: the record's language is the article's


def test_a_language_dateparser_does_not_know_falls_back_to_all_of_them(parser_languages: list) -> None:
    md = extract_html_metadata(page(head='<meta name="date" content="9 février 2022">', lang="tlh"))  # Klingon
    assert md.published_at == "2022-02-09T00:00:00+00:00"
    assert parser_languages == [("pagescrub", None)]


def test_outside_a_page_dates_are_read_in_every_language(parser_languages: list) -> None:
    assert normalize_date("9 février 2022", now=NOW) == "2022-02-09T00:00:00+00:00"
    assert parser_languages == [("pagescrub", None)]


def test_htmldate_asks_dateparser_for_the_page_languages_with_its_own_settings() -> None:
    from htmldate import extractors

    from pagescrub.tasks.metadata import _htmldate_in_page_languages, page_date_languages

    _htmldate_in_page_languages()
    original = extractors.get_external_parser.__wrapped_original__()
    with page_date_languages("de", None):
        parser = extractors.get_external_parser()
    assert parser.languages == ["de", "en"]
    assert parser._settings is original._settings
    assert extractors.get_external_parser().languages is None  # no page: every language, as htmldate asks


def test_warm_up_loads_dateparser_english_only() -> None:
    """A worker that loads every language holds some 40 MB more; pages load theirs as they need them."""
    import subprocess
    import sys

    code = (
        "from pagescrub.tasks.batch import warm_up; warm_up()\n"
        "from dateparser.languages.loader import LocaleDataLoader as L\n"
        "print(sorted(L._loaded_languages))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["['en']"]


# --------------------------------------------------------------------------- the date beside the headline


def test_header_date_beats_a_later_structured_date_published() -> None:
    # A CMS migration rewrote datePublished (and dateModified) to the day of the move.
    data = {"@type": "BlogPosting", "headline": "How to price a class", "datePublished": "2025-06-24", "dateModified": "2025-06-24"}
    body = (
        "<article><h1>How to price a class</h1><div class='attributed'><div>Shauna Ray</div>"
        "<div class='text-date'>August 25, 2024</div></div><p>" + "Body text. " * 30 + "</p></article>"
    )
    md = extract_html_metadata(page(head=ld(data), body=body), "https://example.com/blog/price")
    assert md.published_at == "2024-08-25T00:00:00+00:00"


def test_header_date_later_than_date_published_is_an_update_and_loses() -> None:
    head = (
        '<meta property="article:published_time" content="2024-05-09T00:00:00+00:00">'
        '<meta property="article:modified_time" content="2025-12-16T00:00:00+00:00">'
    )
    body = "<article><h1>State of things</h1><div>16 December 2025 by Sam Lee</div><p>Text.</p></article>"
    assert extract_html_metadata(page(head=head, body=body)).published_at == "2024-05-09T00:00:00+00:00"


@pytest.mark.parametrize(
    "masthead",
    [
        "<header class='site'><div>Monday, March 2, 2026</div><a href='/'>The Daily Example</a></header>",
        "<div role='banner'><span>Mar 2, 2026</span> <span>Weather 12C</span></div>",
    ],
    ids=["header", "role-banner"],
)
def test_masthead_date_is_never_the_publication(masthead: str) -> None:
    """A site's masthead prints today's date on every page: neither the headline rule nor htmldate takes it."""
    body = masthead + "<main><h1>Council approves the new bridge</h1><p>By Jane Doe</p><p>The council voted.</p></main>"
    assert extract_html_metadata(page(body=body), "https://example.com/news/bridge").published_at is None


def test_dates_in_the_articles_own_header_still_count() -> None:
    """Only a header outside the article that holds no headline is a masthead."""
    for body in (
        "<header><p>February 4, 2025</p><h1>Cloud trends to watch</h1></header><p>Text.</p>",
        "<article><header><span>February 4, 2025</span></header><h1>Cloud trends to watch</h1><p>Text.</p></article>",
    ):
        assert (extract_html_metadata(page(body=body)).published_at or "")[:10] == "2025-02-04", body


def test_header_dates_in_sentences_labelled_updates_or_events_are_not_the_publication() -> None:
    head = '<meta property="article:published_time" content="2024-05-20T10:00:00+00:00">'
    for shown in (
        "<p>On March 3, 2021 the council voted to close the old bridge for good.</p>",
        "<div><span>Reviewed on</span> <span>March 3, 2021</span></div>",
        "<div>Event: March 3, 2021</div>",
        "<div>Last active <span>March 3, 2021 13:58</span></div>",
        "<h4>Effective beginning 3/3/2021:</h4>",
    ):
        body = f"<article><h1>Bridge closes</h1>{shown}<p>Text.</p></article>"
        assert extract_html_metadata(page(head=head, body=body)).published_at == "2024-05-20T10:00:00+00:00", shown


def test_header_date_before_the_headline_is_found_and_beats_htmldate(monkeypatch: pytest.MonkeyPatch) -> None:
    import htmldate

    monkeypatch.setattr(htmldate, "find_date", lambda tree, **kwargs: "2025-04-06T16:10:39+0000")
    body = "<header><p>February 4, 2025 - 11 minutes</p><h1>Cloud trends to watch</h1></header><p>Text.</p>"
    assert extract_html_metadata(page(body=body)).published_at == "2025-02-04T00:00:00+00:00"
    # htmldate naming the same day keeps its time.
    monkeypatch.setattr(htmldate, "find_date", lambda tree, **kwargs: "2025-02-04T16:10:39+0000")
    assert extract_html_metadata(page(body=body)).published_at == "2025-02-04T16:10:39+00:00"


def test_header_date_in_time_element_reads_its_datetime() -> None:
    head = '<meta property="article:published_time" content="2024-12-20T00:00:00+00:00">'
    body = "<main><h1>Tech stack</h1><div><time datetime='2024-12-20'>August 28, 2024</time></div><p>Text.</p></main>"
    assert extract_html_metadata(page(head=head, body=body)).published_at == "2024-12-20T00:00:00+00:00"


@pytest.mark.parametrize(
    ("lang", "url", "shown", "expected"),
    [
        ("en-US", None, "3/4/2025", "2025-03-04"),
        ("en", None, "3/4/2025", "2025-03-04"),
        ("en-GB", None, "3/4/2025", "2025-04-03"),
        ("fr", None, "3/4/2025", "2025-04-03"),
        ("en-US", None, "13/4/2025", "2025-04-13"),
        ("en-US", None, "12.11.2025", "2025-11-12"),
        ("en", "https://example.com/2023/october/03/wine-types/", "03/10/2023", "2023-10-03"),
        ("en", None, "2024/11/06", "2024-11-06"),
    ],
)
def test_numeric_header_dates_follow_the_page_locale(lang: str, url: str | None, shown: str, expected: str) -> None:
    body = f"<article><h1>Smart home automation</h1><div class='author'><span>Yu C</span><span>{shown}</span></div><p>Text.</p></article>"
    md = extract_html_metadata(page(body=body, lang=lang), url)
    assert md.published_at is not None and md.published_at[:10] == expected


def test_header_date_walk_skips_inline_styles_and_scripts(monkeypatch: pytest.MonkeyPatch) -> None:
    import htmldate

    monkeypatch.setattr(htmldate, "find_date", lambda tree, **kwargs: None)
    css = ".c{margin:0;color:#5d6c74;font-family:Euclid,sans-serif;}" * 12
    body = (
        f"<main><h1>Faster batching</h1><style>{css}</style><script>var x = '1/2/2020';</script>"
        "<span>December 18, 2025 ・ 3 min read</span><p>" + "Text. " * 50 + "</p></main>"
    )
    assert extract_html_metadata(page(body=body)).published_at[:10] == "2025-12-18"


@pytest.mark.parametrize(
    ("lang", "value", "expected"),
    [
        ("en-US", "03-09-2026", "2026-03-09"),
        ("en_GB", "03-09-2026", "2026-09-03"),
        ("fr", "03/09/2026", "2026-09-03"),
        ("en-US", "03.09.2026", "2026-09-03"),  # dotted: day first everywhere
        (None, "03-09-2026", "2026-09-03"),  # no language: dashes day first, as before
        (None, "03/09/2026", "2026-03-09"),  # and slashes month first
    ],
)
def test_numeric_structured_dates_follow_the_page_locale(lang: str | None, value: str, expected: str) -> None:
    head = f'<meta property="article:published_time" content="{value}">'
    assert extract_html_metadata(page(head=head, lang=lang)).published_at[:10] == expected


def test_normalize_date_reads_numeric_dates_in_the_order_given() -> None:
    assert normalize_date("03-09-2022", now=NOW, month_first=True) == "2022-03-09T00:00:00+00:00"
    assert normalize_date("03/09/2022", now=NOW, month_first=False) == "2022-09-03T00:00:00+00:00"
    assert normalize_date("03.09.2022", now=NOW, month_first=True) == "2022-09-03T00:00:00+00:00"


def test_text_nodes_looked_up_are_the_nodes_of_the_values() -> None:
    """_TextNodes hands out, for a value's index, lxml's own node for it: by lookup first, then from
    the full list once lookups pile up (both before and after the switch, the same nodes)."""
    from pagescrub.tasks import metadata as md

    html = "<html><body>" + "".join(
        f"<div>lead {i}<p>By Writer {i}<b>bold {i}</b>tail {i}</p><!-- c -->after {i}</div>" for i in range(30)
    ) + "</body></html>"
    tree = lxml.html.document_fromstring(html)
    texts = md._TextNodes(tree)
    expected = tree.xpath(".//text()")
    assert texts.values == [str(node) for node in expected]
    for index in [0, 7, len(expected) - 1, *range(1, 40, 2)]:
        node = texts.node(index)
        assert node == expected[index]
        assert node.getparent() is expected[index].getparent() and node.is_tail == expected[index].is_tail
    assert texts._nodes is not None  # switched to the full list after _NTH_LOOKUPS lookups
    assert texts.node(len(expected)) is None
    assert md._TextNodes(tree).node(len(expected)) is None
