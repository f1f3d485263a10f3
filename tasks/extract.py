"""One page's bytes to one article: decode, clean, metadata. No I/O, no Prefect.

This is the single extraction path: the flows, ``reclean`` and the benchmarks
all call ``extract_article``, so what is measured is what runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

from .clean_html import HtmlParseError, clean_html_tree, parse_html
from .clean_text import clean_text_capture
from .decode import DecodeError, decode_page
from .metadata import (
    Metadata,
    clean_title,
    detect_language,
    extract_html_metadata,
    normalize_authors,
    normalize_date,
)
from .urls import normalize_url

__all__ = ["Article", "ExtractionError", "MIN_WORDS", "count_words", "extract_article"]

#: Fewer words than this is not an article (a login page, an error page, a stub).
MIN_WORDS = 25


# Scripts written without spaces between words: each character counts as a word.
_WORDS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f]|[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f]+")


def count_words(text: str) -> int:
    """Words in ``text``; Chinese, Japanese and Thai characters count one each."""
    return len(_WORDS.findall(text))


class ExtractionError(ValueError):
    """A page that yields no article; ``reason`` is what the manifest says."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class Article:
    text: str
    html: str
    method: str
    encoding: str
    url: str | None = None
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: str | None = None
    modified_at: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None
    language: str | None = None
    description: str | None = None
    image: str | None = None
    tags: list[str] = field(default_factory=list)

    @property
    def word_count(self) -> int:
        return count_words(self.text)


def extract_article(
    data: bytes,
    *,
    url: str | None = None,
    name: str | None = None,
    content_type: str | None = None,
) -> Article:
    """Extract the article from a page's bytes.

    ``url`` is the page's address if known, ``name`` its file name (for messages),
    ``content_type`` the transport's ``Content-Type`` (its charset is trusted first).
    Raises ExtractionError with a reason for the manifest.
    """
    try:
        decoded = decode_page(data, _charset(content_type))
    except DecodeError as exc:
        raise ExtractionError(exc.reason) from None
    page_url = normalize_url(url)
    if decoded.kind == "html":
        article = _from_html(decoded.text, page_url)
    else:
        article = _from_text(decoded.text)
    article.encoding = decoded.encoding
    article.url = page_url
    if article.word_count < MIN_WORDS:
        raise ExtractionError(
            f"no article found ({article.word_count} words of text after cleaning, fewer than {MIN_WORDS})"
        )
    article.language = detect_language(article.text) or article.language
    return article


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def _from_html(text: str, url: str | None) -> Article:
    try:
        tree = parse_html(text)
    except HtmlParseError as exc:
        raise ExtractionError(exc.reason) from None
    meta = extract_html_metadata(tree, url)
    body = clean_html_tree(tree, url, authors=meta.authors)
    return _article(meta, text=body.text, html=body.html, method="html")


def _from_text(text: str) -> Article:
    capture = clean_text_capture(text)
    meta = Metadata(
        title=clean_title(capture.title, site_name=capture.site_name),
        authors=normalize_authors(capture.authors),
        published_at=normalize_date(capture.date_text),
        site_name=capture.site_name,
    )
    html = "".join(f"<p>{escape(p)}</p>" for p in capture.text.split("\n\n") if p.strip())
    return _article(meta, text=capture.text, html=html, method="text")


def _article(meta: Metadata, *, text: str, html: str, method: str) -> Article:
    return Article(
        text=text,
        html=html,
        method=method,
        encoding="",
        title=meta.title,
        authors=list(meta.authors),
        published_at=meta.published_at,
        modified_at=meta.modified_at,
        site_name=meta.site_name,
        canonical_url=meta.canonical_url,
        language=meta.language,
        description=meta.description,
        image=meta.image,
        tags=list(meta.tags),
    )
