"""The sources file: the documented example loads, mistakes are reported with their line and field."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from pagescrub.tasks.sources import (
    SavedSource,
    SitemapSource,
    SourcesError,
    load_sources,
    parse_duration,
    parse_sources,
    scrape_parameters,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "sources.yaml"


def _problems(text: str) -> SourcesError:
    with pytest.raises(SourcesError) as caught:
        parse_sources(textwrap.dedent(text), name="sources.yaml")
    return caught.value


def test_the_example_file_loads_and_maps_to_scrape_parameters() -> None:
    from pagescrub.flows.ops import flow_parameters
    from pagescrub.flows.scrape import scrape

    parsed = load_sources(EXAMPLE)
    assert [s.kind for s in parsed.sources] == ["sitemap", "feed", "urls", "saved"]
    news = parsed.get("news-sitemaps")
    assert isinstance(news, SitemapSource)
    assert news.schedule is not None and news.schedule.cron == "0 6 * * *" and news.schedule.timezone == "Europe/Madrid"
    assert news.tags == ["pagescrub", "news"]  # defaults' tags, then the source's
    params = scrape_parameters(news)
    assert params["out"] == "/data/pagescrub-out"  # from defaults
    assert params["sitemaps"] == ["https://coast-times.example/sitemap-news.xml"]
    assert params["fetch"]["per_host_delay"] == 1.0 and params["fetch"]["read_timeout"] == 30
    feed = parsed.get("world-feed")
    assert feed.schedule.interval == timedelta(hours=2)
    assert scrape_parameters(feed)["store_options"] == {"endpoint_url": "http://127.0.0.1:9000", "addressing_style": "path"}
    assert scrape_parameters(feed)["fetch"]["per_host_delay"] == 2.0  # the source's politeness over the defaults'
    watch = scrape_parameters(parsed.get("watchlist"))
    assert watch["url_lists"] == [str(EXAMPLE.parent / "watchlist.txt")]  # relative to the sources file
    saved = parsed.get("daily-drop")
    assert isinstance(saved, SavedSource) and scrape_parameters(saved)["paths"] == ["/data/incoming"]
    assert "fetch" not in scrape_parameters(saved)
    for source in parsed.sources:  # every parameter is one the scrape flow takes
        flow_parameters(scrape, source)


def test_a_wrong_value_names_its_line_and_field() -> None:
    error = _problems(
        """\
        sources:
          - name: news
            kind: sitemap
            out: /tmp/out
            sitemaps: [https://news.example/sitemap.xml]
            politeness:
              per_host_delay: fast
        """
    )
    (problem,) = error.problems
    assert (problem.line, problem.field) == (7, "sources[0].politeness.per_host_delay (source 'news')")
    assert "sources.yaml:7:" in str(error) and "per_host_delay" in str(error) and "'fast'" in str(error)


def test_a_misspelt_key_is_an_error_listing_the_allowed_ones() -> None:
    error = _problems(
        """\
        sources:
          - name: news
            kind: feed
            out: /tmp/out
            feeds: https://news.example/rss.xml
            schedule: {cron: "0 6 * * *"}
            tgas: [news]
        """
    )
    (problem,) = error.problems
    assert problem.line == 7 and problem.column == 5
    assert problem.field.startswith("sources[0].tgas")
    assert "unknown field 'tgas'" in problem.message and "tags" in problem.message


def test_every_mistake_is_reported_with_its_line() -> None:
    error = _problems(
        """\
        defaults:
          out: /tmp/out
        sources:
          - name: a
            kind: sitemaps
          - name: b
            kind: feed
            feeds: [ftp://b.example/rss]
            schedule: {interval: 3x}
          - name: c
            kind: saved
          - name: d
            kind: urls
            urls: [https://d.example/]
            schedule: {cron: "61 * * * *"}
            batch_size: 0
        """
    )
    by_line = {p.line: p for p in error.problems}
    assert "kind must be one of urls, sitemap, feed, saved (got 'sitemaps')" in by_line[5].message
    assert by_line[8].field.startswith("sources[1].feeds") and "ftp://b.example/rss" in by_line[8].message
    assert by_line[9].field.startswith("sources[1].schedule.interval") and "not a duration: '3x'" in by_line[9].message
    assert by_line[10].field.startswith("sources[2].paths") and by_line[10].message == "required field missing"
    assert by_line[15].field.startswith("sources[3].schedule.cron")
    assert by_line[16].field.startswith("sources[3].batch_size")
    assert len(error.problems) == 6


def test_a_mistake_in_defaults_points_at_defaults() -> None:
    error = _problems(
        """\
        defaults:
          out: /tmp/out
          politeness: {retries: many}
        sources:
          - {name: a, kind: feed, feeds: [https://a.example/rss]}
          - {name: b, kind: feed, feeds: [https://b.example/rss]}
        """
    )
    (problem,) = error.problems  # once, not once per source
    assert (problem.line, problem.field) == (3, "defaults.politeness.retries")


def test_cross_field_rules() -> None:
    error = _problems(
        """\
        sources:
          - name: a
            kind: urls
            urls: [https://a.example/]
          - name: a
            kind: feed
            feeds: [https://a.example/rss]
            out: /tmp/out
            schedule: {cron: "0 * * * *", interval: 1h}
        """
    )
    messages = [(p.line, p.message) for p in error.problems]
    assert (2, "give out (a folder or s3://bucket/prefix/) or store_block") in messages
    assert any(line == 9 and "exactly one of cron or interval" in m for line, m in messages)
    fixed = _problems(
        """\
        sources:
          - {name: a, kind: urls, urls: [https://a.example/], out: /tmp/o}
          - {name: a, kind: feed, feeds: [https://a.example/rss], out: /tmp/o}
        """
    )
    assert "two sources are named 'a'" in str(fixed)


def test_yaml_errors_and_duplicate_keys_have_lines() -> None:
    broken = _problems("sources:\n  - name: a\n    kind: urls\n   urls: [x]\n")
    assert broken.problems[0].line == 4 and "not valid YAML" in broken.problems[0].message
    twice = _problems("sources:\n  - name: a\n    kind: urls\n    out: /tmp/a\n    out: /tmp/b\n    urls: [https://a.example/]\n")
    assert (twice.problems[0].line, twice.problems[0].field) == (5, "sources[0].out")
    assert "given twice" in twice.problems[0].message
    assert "empty" in str(_problems("# nothing\n"))


def test_missing_file_is_a_sources_error(tmp_path: Path) -> None:
    with pytest.raises(SourcesError, match="cannot read"):
        load_sources(tmp_path / "nope.yaml")


def test_relative_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "sources.yaml"
    path.write_text("sources:\n  - {name: s, kind: saved, paths: [pages, /abs/pages], out: out}\n", encoding="utf-8")
    params = scrape_parameters(load_sources(path).sources[0])
    assert params["paths"] == [str(tmp_path / "conf" / "pages"), "/abs/pages"]
    assert params["out"] == str(tmp_path / "conf" / "out")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1d", 86400), ("6h", 21600), ("1h30m", 5400), ("90s", 90), ("2w", 1209600), (3600, 3600), ("1.5h", 5400)],
)
def test_durations(text: object, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "1x", "d", "0h", "-1d", "1d foo", True])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
