"""Tests for the text-mode cleaner of plain-text page captures.

The seed checks come from tests/fixtures/seeds/expected.json; the made-up
captures use layouts and chrome that none of the seeds contain, so they catch
rules that only fit the five sample sites.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from pathlib import Path
from textwrap import dedent

import pytest

from pagescrub.tasks.clean_text import TextArticle, clean_text_capture

SEEDS = Path(__file__).parent / "fixtures" / "seeds"
EXPECTED: dict = json.loads((SEEDS / "expected.json").read_text(encoding="utf-8"))["pages"]


def _fold(text: str) -> str:
    """Compare the way expected.json says: NFKC, whitespace runs folded to one space."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def _seed(name: str) -> TextArticle:
    return clean_text_capture((SEEDS / name).read_text(encoding="utf-8"))


def _capture(text: str) -> TextArticle:
    return clean_text_capture(dedent(text).strip("\n"))


# --------------------------------------------------------------------------- #
# The five seeds
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_matches_expected(name: str) -> None:
    expected = EXPECTED[name]
    article = _seed(name)
    text = _fold(article.text)

    missing = [s for s in expected["include"] if _fold(s) not in text]
    leaked = [s for s in expected["exclude"] if _fold(s) in text]
    assert not missing, f"body lost article text: {missing}"
    assert not leaked, f"chrome left in body: {leaked}"
    assert article.title is not None
    assert _fold(article.title) == _fold(expected["title"])
    if "site_name" in expected:
        assert article.site_name == expected["site_name"]


def test_seed_002_date_line_goes_to_date_text_not_body() -> None:
    article = _seed("002_7bc585f0f75b8e8e.txt")
    assert article.date_text == "Wednesday, February 9, 2022"
    assert "February 9, 2022" not in article.text


def test_seed_004_wire_dateline_is_reported_and_body_kept_verbatim() -> None:
    article = _seed("004_80973514d3295959.txt")
    assert article.date_text == "Feb. 8 (UPI)"
    assert article.text.startswith("Feb. 8 (UPI) — French President Emmanuel Macron said")


def test_seed_000_masthead_date_is_not_taken_as_publication_date() -> None:
    # "Saturday, 7 Jun 2025" sits above the menus, far from the headline: it is
    # the site's "today" banner, not when the 2022 story was published.
    article = _seed("000_7004b33b0c6d42ec.txt")
    assert article.date_text is None
    assert "Jun 2025" not in article.text
    assert article.authors == ["Enspirers"]


def test_seed_000_key_points_kept_as_plain_paragraphs() -> None:
    article = _seed("000_7004b33b0c6d42ec.txt")
    paragraphs = article.text.split("\n\n")
    assert paragraphs[0] == (
        "The Kremlin threw cold water on Macron’s claim that Putin said he wouldn’t "
        "escalate the Ukraine crisis."
    )
    assert "•" not in article.text
    assert "  " not in article.text
    assert article.text == article.text.strip()
    assert all(p and p == p.strip() for p in paragraphs)


def test_seed_002_second_embedded_story_stays_in_body() -> None:
    text = _fold(_seed("002_7bc585f0f75b8e8e.txt").text)
    assert "Macron is set to meet Zelensky in Kiev on Tuesday." in text
    assert "Russia has denied reports that Vladimir Putin agreed a deal" in text
    assert text.endswith("pulled into a war conflict with Russia'.")


# --------------------------------------------------------------------------- #
# Made-up captures with other layouts
# --------------------------------------------------------------------------- #

LOCAL_NEWS = """
    We use cookies to improve your experience on our website. By continuing to browse, you agree to our Cookie Policy.
    Accept all cookies
    Manage preferences
    The Riverside Courier
    Home
    News
    Sport
    Business
    Home › News › Local
    Council approves new cycle lanes for the city centre
    By Maria Lopez, Transport Reporter
    March 3, 2023 at 9:15 am
    Share on Facebook
    Share on X

    The city council voted on Tuesday evening to approve a network of protected cycle lanes running through the centre, ending a consultation that lasted almost two years.

    Councillors backed the plan by 31 votes to 12 after a debate that ran past midnight. Supporters said the lanes would cut congestion and make the streets safer for children.

    Subscribe to our newsletter
    Get the day's top stories delivered straight to your inbox.
    Email address
    Sign up

    Opponents argued that the loss of 240 parking spaces would hurt shops on the high street. "Trade is already fragile," said one shop owner.

    Share prices of the two local bus operators fell after the vote was announced.

    Next year the council will publish figures on how many people use the new lanes.

    Related stories
    Bus fares to rise in April as operator blames fuel costs
    Residents protest against new parking rules near the station.
    Comments (12)
    Join the conversation
    Log in to comment
    © 2023 The Riverside Courier. All rights reserved.
    Privacy Policy | Terms of Use | Cookie settings
"""


def test_cookie_banner_newsletter_related_comments_and_footer_removed() -> None:
    article = _capture(LOCAL_NEWS)
    paragraphs = article.text.split("\n\n")

    assert article.title == "Council approves new cycle lanes for the city centre"
    assert paragraphs[0].startswith("The city council voted on Tuesday evening")
    # The newsletter box sits between paragraphs: the body continues past it.
    assert paragraphs[2].startswith("Opponents argued that the loss of 240 parking spaces")
    # Prose that starts like a widget ("Share ...", "Next ...") is still prose.
    assert paragraphs[3] == "Share prices of the two local bus operators fell after the vote was announced."
    assert paragraphs[-1] == "Next year the council will publish figures on how many people use the new lanes."
    assert len(paragraphs) == 5
    for chrome in (
        "cookies",
        "newsletter",
        "inbox",
        "Email address",
        "Related stories",
        "Bus fares to rise",
        "Residents protest",
        "Comments",
        "conversation",
        "All rights reserved",
        "Privacy Policy",
        "Share on",
        "Home ›",
    ):
        assert chrome not in article.text, chrome
    assert article.authors == ["Maria Lopez"]
    assert article.date_text == "March 3, 2023 at 9:15 am"
    assert article.site_name == "The Riverside Courier"


MARKETS_PAGE = """
    THE MORNING LEDGER
    Menu
    Most read
    1
    Scientists find new frog species in Peruvian cloud forest
    2
    Why your energy bill is about to go up again
    3
    The best budget phones you can buy right now
    Markets / Economy
    Central bank holds rates as inflation cools faster than expected
    Updated 14 May 2024, 08:30 BST
    The central bank left its benchmark interest rate unchanged on Thursday, saying that inflation had fallen faster than its economists had forecast in the spring.
    Policymakers voted seven to two to keep rates on hold, with the two dissenters favouring an immediate cut of a quarter point.
    The governor told reporters that the committee wanted to see "a few more months of good news" before it would consider easing policy.
    Analysts said the decision had been widely expected and that markets were now pricing in a first cut in September.
    Most read
    1
    Scientists find new frog species in Peruvian cloud forest
    2
    Why your energy bill is about to go up again
    3
    The best budget phones you can buy right now
    Copyright © 2024 The Morning Ledger Ltd
"""


def test_numbered_most_read_list_is_not_title_or_body() -> None:
    article = _capture(MARKETS_PAGE)
    # The list items repeat (sidebar shown twice) but as a block, not as a headline.
    assert article.title == "Central bank holds rates as inflation cools faster than expected"
    assert article.text.startswith("The central bank left its benchmark interest rate unchanged")
    assert article.text.endswith("pricing in a first cut in September.")
    assert article.text.count("\n\n") == 3
    for chrome in ("Most read", "frog", "energy bill", "budget phones", "Markets / Economy", "Copyright"):
        assert chrome not in article.text, chrome
    assert article.date_text == "14 May 2024, 08:30 BST"
    assert article.site_name == "The Morning Ledger"


def test_short_two_paragraph_article_is_kept_exactly() -> None:
    article = _capture(
        """
        Local Weekly
        Bakery wins national award for sourdough
        By Tom Reed
        Published 12 May 2021

        A family-run bakery in the old town has won a national prize for its sourdough loaf, beating more than 400 entries.

        The owners said they would celebrate by giving away free bread to the first fifty customers on Saturday.

        Tags: food, business, awards
        Back to top
        """
    )
    assert article.text == (
        "A family-run bakery in the old town has won a national prize for its sourdough loaf, "
        "beating more than 400 entries.\n\n"
        "The owners said they would celebrate by giving away free bread to the first fifty "
        "customers on Saturday."
    )
    assert article.title == "Bakery wins national award for sourdough"
    assert article.authors == ["Tom Reed"]
    assert article.date_text == "12 May 2021"


def test_login_page_has_no_article() -> None:
    article = _capture(
        """
        Sign in
        Welcome back! Sign in to continue.
        Email
        Password
        Remember me
        Forgot your password?
        Sign in
        Don't have an account? Create one
        By continuing, you agree to our Terms of Service and Privacy Policy.
        © 2024 Example Media Group
        """
    )
    assert article.text == ""
    assert article.title is None


def test_home_page_of_teasers_has_no_article() -> None:
    teasers = [
        ("Floods force thousands from their homes in the north",
         "Heavy rain caused rivers to burst their banks overnight, and emergency services evacuated several villages."),
        ("Parliament passes budget after marathon session",
         "Lawmakers approved the spending plan shortly before dawn after more than twenty hours of debate."),
        ("Star striker signs record contract with city club",
         "The forward agreed a five-year deal that makes him the best-paid player in the league's history."),
        ("New museum opens with exhibition on Viking trade routes",
         "The museum's first show brings together objects loaned from collections in six countries."),
    ]
    lines = ["The Daily Signal Post", "Home", "World", "Politics", "Top stories"]
    for n, (headline, summary) in enumerate(teasers):
        lines += [headline, summary, f"By Reporter Number{n}", f"{n + 2} hours ago"]
    lines.append("© 2024 The Daily Signal Post")
    article = clean_text_capture("\n".join(lines))
    assert article.text == ""


def test_inline_ads_subheads_lists_and_unlabelled_teaser_block() -> None:
    article = _capture(
        """
        Skip to content
        Is this the end of cheap flights?
        Analysis by Sam Hart
        Airlines are raising fares across Europe as fuel costs climb and demand for summer travel stays strong, figures show.

        Advertisement

        The average return ticket on short-haul routes now costs 18% more than a year ago, the data shows.
        Related: Airport strikes called off after pay deal
        What the carriers say
        Executives insist the increases are temporary. "We are absorbing as much as we can," one chief executive said.
        The main drivers, according to the industry body, are:
          • fuel
          • airport charges
          • new environmental levies
        Consumer groups have urged passengers to book early and to compare prices before paying.
        Elsewhere on the site
        Ten hidden beaches you need to visit
        The coastline is dotted with quiet coves that most tourists never find.
        How to pack for a week with only hand luggage
        A few simple rules make it possible to travel light without leaving anything behind.
        Why sleep matters more than you think
        Researchers say most adults are not getting enough rest during the working week.
        """
    )
    lines = article.text.split("\n\n")
    assert article.title == "Is this the end of cheap flights?"
    assert article.authors == ["Sam Hart"]
    assert lines[0].startswith("Airlines are raising fares")
    assert "Advertisement" not in article.text
    assert "Related:" not in article.text
    # Subheading and list items are article content; bullets lose their glyph.
    assert "What the carriers say" in lines
    assert lines[5:8] == ["fuel", "airport charges", "new environmental levies"]
    assert lines[-1] == "Consumer groups have urged passengers to book early and to compare prices before paying."
    assert "beaches" not in article.text and "sleep" not in article.text


@pytest.mark.parametrize(
    "widget",
    [
        "Facebook Twitter LinkedIn Email",
        "Share this story",
        "12 comments",
        "Leave a Reply",
        "Previous article: Bus fares to rise in April",
        "Tags: transport, council",
        "You might also like",
        "© 2024 Example News Ltd. All rights reserved.",
        "Privacy | Terms | Contact us",
    ],
)
def test_closing_widget_ends_the_article(widget: str) -> None:
    # Without the widget's rule the reader comment below it would join the body:
    # only two short lines separate it from the last paragraph.
    article = _capture(
        f"""
        Harbour bridge to close for repairs next month
        Engineers will close the harbour bridge for six weeks while they replace corroded cables, the port authority said.
        Ferries will run every ten minutes during the closure, and fares will be halved for residents.
        {widget}
        Jenny P
        About time too. I cycle over that bridge every day and the traffic is terrifying.
        Reply
        """
    )
    assert article.text.startswith("Engineers will close the harbour bridge")
    assert article.text.endswith("fares will be halved for residents.")
    assert "terrifying" not in article.text
    assert widget not in article.text


def test_site_blurb_after_a_block_of_footer_links_stays_out() -> None:
    # No chrome phrase marks the footer here: only the run of link-like lines
    # between the article and the blurb separates them.
    article = _capture(
        """
        Harbour bridge to close for repairs next month
        Engineers will close the harbour bridge for six weeks while they replace corroded cables, the port authority said.
        Ferries will run every ten minutes during the closure, and fares will be halved for residents.
        Independent journalism for the river valley
        Our team
        Contact
        Archive
        We are a reader-funded newsroom that has covered the towns of the river valley since 1874.
        Every story we publish is free to read, thanks to the support of thousands of members across the region.
        """
    )
    assert article.text.endswith("fares will be halved for residents.")
    assert "newsroom" not in article.text
    assert "Archive" not in article.text


def test_hard_wrapped_paragraphs_are_joined() -> None:
    article = _capture(
        """
        Harbour bridge to close for repairs next month

        Engineers will close the harbour bridge for six weeks from the start of next
        month while they replace corroded cables, the port authority said on Friday.

        Ferries will run every ten minutes during the closure and fares will be cut
        by half for residents who show a travel card, the authority added.
        """
    )
    assert article.title == "Harbour bridge to close for repairs next month"
    assert article.text.split("\n\n") == [
        ("Engineers will close the harbour bridge for six weeks from the start of next "
         "month while they replace corroded cables, the port authority said on Friday."),
        ("Ferries will run every ten minutes during the closure and fares will be cut "
         "by half for residents who show a travel card, the authority added."),
    ]


# --------------------------------------------------------------------------- #
# Scripts without spaces (Chinese, Japanese)
# --------------------------------------------------------------------------- #

ZH_BODY = [
    "市政府今天宣布，新的地铁线路将于明年春季正式开通运营。这条线路全长三十二公里，共设二十四个车站。",
    "交通部门负责人在新闻发布会上表示，项目建设历时五年，总投资超过两百亿元。",
    "开通后，预计每天可运送乘客约六十万人次，将大大缓解地面交通的压力。市民对此普遍表示欢迎！",
]
ZH_CHROME = ["首页 | 新闻 | 体育 | 财经", "分享到：微信 微博", "相关新闻", "公交线路下月调整", "机场快线站点公布",
             "© 2024 海港日报 版权所有"]


def test_chinese_capture_keeps_the_body_and_drops_the_chrome() -> None:
    """No spaces and full-width terminals: the paragraphs are prose, the menu, share bar, related
    headlines and footer are not, and the title and date line are found as in an English capture.
    (The chrome phrase lists are English: a Chinese share bar between two paragraphs would stay.)"""
    capture = "\n\n".join([ZH_CHROME[0], "新地铁线路明年开通", "2024年3月1日 10:30", *ZH_BODY, *ZH_CHROME[1:]])
    article = clean_text_capture(capture)
    assert article.text == "\n\n".join(ZH_BODY)
    assert article.title == "新地铁线路明年开通"
    assert article.date_text == "2024年3月1日 10:30"
    assert not [line for line in ZH_CHROME if line in article.text]


def test_japanese_capture_keeps_the_body_and_drops_the_chrome() -> None:
    article = _capture("""
        ホーム | ニュース | スポーツ

        新しい地下鉄路線が来年開業へ

        市は今日、新しい地下鉄路線が来年の春に正式に開業すると発表した。路線の全長は三十二キロだ。

        交通局の担当者は記者会見で、工事には五年かかり、総投資額は二千億円を超えたと述べた。

        関連ニュース

        駅前の再開発が始まる

        © 2024 みなと新聞 All rights reserved.
    """)
    assert article.text.startswith("市は今日、") and article.text.endswith("超えたと述べた。")
    assert article.text.count("\n\n") == 1
    assert article.title == "新しい地下鉄路線が来年開業へ"
    assert article.site_name == "みなと新聞"


def test_a_short_chinese_line_or_one_without_a_terminal_is_not_prose() -> None:
    """The same thresholds as for English: a headline-length line, or a long one that does not end a
    sentence, is not an article (the page is rejected as having no prose)."""
    assert clean_text_capture("今天天气很好。\n\n明天也很好。").text == ""  # two sentences of 6 characters
    assert clean_text_capture("\n\n".join(p.rstrip("。！") for p in ZH_BODY)).text == ""
    assert clean_text_capture("\n\n".join(ZH_BODY)).text != ""


# --------------------------------------------------------------------------- #
# Robustness and speed
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "capture",
    [
        pytest.param("a" * 5_000_000, id="5MB-single-line"),
        pytest.param("Word " * 1_000_000 + "end.", id="5MB-single-sentence"),
        pytest.param("\n" * 100_000, id="100k-empty-lines"),
        pytest.param("\x00" * 100_000 + "\n\x00\x00\n", id="NULs"),
        pytest.param("  • Home\n" * 50_000, id="50k-menu-items"),
        pytest.param(("x" * 60 + "\n" + "y" * 60 + "\n") * 20_000, id="40k-wrapped-lines"),
        pytest.param("  • a\n" + "      continuation\n" * 50_000, id="50k-bullet-continuations"),
        pytest.param("", id="empty"),
        pytest.param("汉字" * 1_000_000 + "。", id="2M-CJK-single-sentence"),
        pytest.param(("新闻" * 40 + "。\n") * 20_000, id="20k-CJK-sentences"),
    ],
)
def test_pathological_input_is_fast_and_does_not_crash(capture: str) -> None:
    started = time.perf_counter()
    article = clean_text_capture(capture)
    elapsed = time.perf_counter() - started
    assert isinstance(article, TextArticle)
    assert "\x00" not in article.text
    assert elapsed < 10.0, f"took {elapsed:.2f}s: not linear?"  # a bound against quadratic blow-up, not a benchmark


def test_nul_characters_are_removed_from_body() -> None:
    body = (
        "The regional water company said on Monday that\x00 supplies had returned to normal. "
        "Engineers repaired the main pipe overnight.\n\n"
        "Customers were advised to run their taps for a few minutes before drinking the water."
    )
    article = clean_text_capture(body)
    assert "\x00" not in article.text
    assert "that supplies had returned to normal." in article.text
