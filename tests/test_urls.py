"""URL normalization: one spelling per page so dedupe and joins compare like with like."""

from __future__ import annotations

import pytest

from pagescrub.tasks.urls import normalize_url, url_host


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # tracking parameters go, the rest stays in its order
        (
            "https://example.com/a?utm_source=tw&id=3&fbclid=XYZ&b=2&utm_medium=social",
            "https://example.com/a?id=3&b=2",
        ),
        ("https://example.com/a?gclid=1&mc_cid=2&mc_eid=3&igshid=4&ref_src=5&_ga=6&yclid=7&msclkid=8",
         "https://example.com/a"),
        ("https://example.com/a?UTM_Campaign=x&q=1", "https://example.com/a?q=1"),
        ("https://example.com/a?z=1&a=2", "https://example.com/a?z=1&a=2"),  # order kept, not sorted
        ("https://example.com/a?x=1&&y", "https://example.com/a?x=1&y"),
        ("https://example.com/a?", "https://example.com/a"),
        # fragment dropped
        ("https://example.com/story#comments", "https://example.com/story"),
        # scheme and host lower-cased, path case kept
        ("HTTPS://WWW.Example.COM/News/Story", "https://www.example.com/News/Story"),
        # default ports dropped, others kept
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        # credentials stripped
        ("https://user:secret@example.com/a", "https://example.com/a"),
        ("https://user@example.com/a", "https://example.com/a"),
        # empty path, dot segments, unsafe characters
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/a b/ü", "https://example.com/a%20b/%C3%BC"),
        ("https://example.com/a%2fb", "https://example.com/a%2Fb"),
        ("https://example.com./a", "https://example.com/a"),
        ("  https://example.com/a\n ", "https://example.com/a"),
        ("http://[2001:db8::1]:80/x", "http://[2001:db8::1]/x"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("/news/story?utm_source=x", "https://Example.com/section/page", "https://example.com/news/story"),
        ("story.html", "https://example.com/section/page", "https://example.com/section/story.html"),
        ("../img/a.jpg", "https://example.com/a/b/c", "https://example.com/a/img/a.jpg"),
        ("//cdn.example.com/i.jpg", "http://example.com/", "http://cdn.example.com/i.jpg"),
        ("#top", "https://example.com/x?y=1", "https://example.com/x?y=1"),
        ("https://other.org/x", "https://example.com/", "https://other.org/x"),
    ],
)
def test_relative_urls_resolve_against_base(url: str, base: str, expected: str) -> None:
    assert normalize_url(url, base) == expected


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "   ",
        "mailto:desk@example.com",
        "javascript:void(0)",
        "ftp://example.com/file",
        "data:image/png;base64,AAAA",
        "tel:+123",
        "relative/path",  # relative without a base: not absolute
        "http://",
        "https://example.com:99999/",  # port out of range
        "https://exa mple.com/",
        42,
    ],
)
def test_unusable_urls_give_none(url: object) -> None:
    assert normalize_url(url) is None  # type: ignore[arg-type]


def test_protocol_relative_without_base_defaults_to_https() -> None:
    assert normalize_url("//example.com/a") == "https://example.com/a"


def test_normalize_url_is_idempotent() -> None:
    once = normalize_url("HTTP://User@Example.com:80/a/../b c?utm_x=1&k=v#f")
    assert once == "http://example.com/b%20c?k=v"
    assert normalize_url(once) == once


def test_url_host() -> None:
    assert url_host("HTTPS://user:pw@WWW.Example.com:8443/x") == "www.example.com"
    assert url_host("https://news.example.co.uk/a") == "news.example.co.uk"
    assert url_host("not a url") is None
    assert url_host(None) is None
    assert url_host("mailto:a@example.com") is None
