"""One page's bytes to one article: decode, clean, metadata. No I/O, no Prefect.

This is the single extraction path: the flows, ``reclean`` and the benchmarks
all call ``extract_article``, so what is measured is what runs.

Pages are untrusted, so what one page may cost is bounded here, before the
expensive steps (metadata, readability, our cleaning) see it: the number of
elements, their nesting depth, the attributes on one element, the visible
text, runs of letters without a break, and the CPU time of the page (checked
between steps). The byte size is bounded before this, where the bytes are read
(``load.read_page_bytes``) or fetched (``FetchConfig.max_bytes``). A page over
a limit fails with a reason that names it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from functools import partial
from html import escape
from itertools import islice

from lxml import etree

from .clean_html import HtmlParseError, clean_html_tree, parse_html
from .clean_text import clean_text_capture
from .decode import DecodeError, decode_page, repair_mojibake
from .markup import replace_spans, without_code
from .metadata import (
    Metadata,
    clean_title,
    detect_language,
    extract_html_metadata,
    normalize_authors,
    normalize_date,
)
from .urls import normalize_url

__all__ = [
    "Article",
    "ExtractionError",
    "MAX_ATTRIBUTES",
    "MAX_ATTRIBUTE_CHARS",
    "MAX_ATTRIBUTE_PAIRS",
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "MAX_MARKUP_TAGS",
    "MAX_PAGE_CPU_SECONDS",
    "MAX_TEXT_CHARS",
    "MAX_WORD_CHARS",
    "MIN_WORDS",
    "count_words",
    "extract_article",
]

#: Fewer words than this is not an article (a login page, an error page, a stub).
MIN_WORDS = 25

# -- what one page may cost ------------------------------------------------------------------
# Cleaning costs 40-200 us of CPU per element and 1-2 us per character of article text
# (readability, metadata and our passes are Python), so these limits, with the byte limit
# of the caller (10 MB by default), keep every page within a few seconds and a few hundred MB.

#: Most elements in a parsed HTML page, counted exactly after parsing, before any cleaning
#: (the insides of inline SVG images, dropped first thing, do not count).
MAX_ELEMENTS = 20_000
#: Most ``<`` in the markup, counted before parsing: keeps the parse itself bounded when a
#: caller allows pages larger than the default (a parsed element costs about 130 bytes).
MAX_MARKUP_TAGS = 1_000_000
#: Deepest nesting. libxml2's HTML parser stops at 256 levels and silently drops the rest of
#: the page, so a page that deep has lost its content: it fails instead of giving a stub.
MAX_DEPTH = 255
#: Most attributes on one element: libxml2 compares each new attribute with all the ones
#: before it, so 100,000 attributes on one tag (1 MB) would take minutes to parse.
MAX_ATTRIBUTES = 2_000  # real pages with broken quoting reach a few hundred "attributes"
#: And so most such comparisons in the whole page (the sum over its tags of n(n-1)/2 for n
#: attributes): 10 MB of tags with 1,999 attributes each is 6 s of parsing, in C, that no
#: timer can interrupt; 200 million is about 0.5 s.
MAX_ATTRIBUTE_PAIRS = 200_000_000
#: Longer attribute values (inline data: images, generated class lists) are dropped before
#: metadata and cleaning, which split class and id values into words and run regexes on them.
MAX_ATTRIBUTE_CHARS = 16_384
#: Most characters of visible text (outside script, style and template) in an HTML page, and
#: in a plain-text capture: two million characters are some 300,000 words, a book, not an article.
MAX_TEXT_CHARS = 2_000_000
#: Longer runs of letters and digits with no space or punctuation are cut to this length:
#: no language has such words, and regexes of the cleaning steps are quadratic in them.
MAX_WORD_CHARS = 1_000
#: CPU seconds (of the thread cleaning the page) one page may use, checked after each step.
MAX_PAGE_CPU_SECONDS = 5.0

# Tags long enough to hold 100 attributes: shorter ones cannot add up to MAX_ATTRIBUTE_PAIRS in 10 MB.
_LONG_TAG = re.compile(r"<[A-Za-z][^<>]{256,}")
# The bodies of these are raw text to the parser, not markup ("a<b ..." in minified code would look
# like a tag with thousands of attributes): the attribute check skips them.
_RAW_TEXT = ("script", "style", "textarea", "title", "xmp", "iframe")
_RAW_TEXT_OPEN = re.compile(r"<(%s)\b[^<>]*>" % "|".join(_RAW_TEXT), re.IGNORECASE)
_RAW_TEXT_CLOSE = {name: re.compile(r"</%s\s*>" % name, re.IGNORECASE) for name in _RAW_TEXT}
_ATTRIBUTE = re.compile(r"""[^\s"'<>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]*))?""")
_LONG_RUN = re.compile(r"(?<!\w)\w{%d}\w+" % MAX_WORD_CHARS)
_TOO_DEEP = etree.XPath("boolean(/*" + "/*" * MAX_DEPTH + ")")
_COUNT_ELEMENTS = etree.XPath("count(//*) - count(//svg//*)")
_LONG_ATTRIBUTES = etree.XPath("//@*[string-length(.) > $limit]")
_VISIBLE_TEXT = etree.XPath(
    "//body//text()[not(ancestor::script or ancestor::style or ancestor::template)]", smart_strings=False
)
_ONE_PLAIN_BODY = etree.XPath("count(//body) = 1 and not(//script//body | //style//body | //template//body)")
_BODY_TEXT_LENGTH = etree.XPath("string-length(//body)")
_HIDDEN_IN_BODY = etree.XPath(
    "(//body//script | //body//style | //body//template)[not(ancestor::script or ancestor::style or ancestor::template)]"
)
_TEXT_LENGTH = etree.XPath("string-length()")


# Scripts written without spaces between words: each character counts as a word.
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f"
_WORDS = re.compile(f"[{_UNSPACED}]|[^\\W{_UNSPACED}]+")
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")
_PLAIN_WORDS = re.compile(r"\w+")


def count_words(text: str) -> int:
    """Words in ``text``; Chinese, Japanese and Thai characters count one each."""
    if text.isascii() or not _UNSPACED_CHAR.search(text):
        return len(_PLAIN_WORDS.findall(text))  # the same runs, a quarter faster to find
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
    budget = _Budget(MAX_PAGE_CPU_SECONDS)
    try:
        decoded = decode_page(data, _charset(content_type), prepare_html=without_code)
    except DecodeError as exc:
        raise ExtractionError(exc.reason) from None
    budget.check("decoding")
    page_url = normalize_url(url)
    text = _cut_long_runs(decoded.text)
    if decoded.kind == "html":
        article = _from_html(text, page_url, budget)
    else:
        article = _from_text(text, budget)
    _repair_mojibake(article)
    article.encoding = decoded.encoding
    article.url = page_url
    words = article.word_count  # counted once: a findall over the whole text
    if words < MIN_WORDS:
        raise ExtractionError(f"no article found ({words} words of text after cleaning, fewer than {MIN_WORDS})")
    error_page = _error_page(article, words)
    if error_page:
        raise ExtractionError(f"no article found (an error page: {error_page!r})")
    article.language = detect_language(article.text) or article.language
    return article


def _repair_mojibake(article: Article) -> None:
    """Mojibake undone in every text field, the article's and its metadata's (the page's own bytes
    are left as they were: the spotting is cheap on the article, not on a whole page)."""
    article.text = repair_mojibake(article.text)
    article.html = repair_mojibake(article.html)
    for name in ("title", "site_name", "description"):
        value = getattr(article, name)
        if value:
            setattr(article, name, repair_mojibake(value))
    article.authors = [repair_mojibake(a) for a in article.authors]
    article.tags = [repair_mojibake(t) for t in article.tags]


class _Budget:
    """The page's CPU time so far (of this thread: other pages cleaned in parallel do not count)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.thread_time()

    def check(self, step: str) -> None:
        used = time.thread_time() - self.started
        if used > self.seconds:
            raise ExtractionError(f"too slow: {used:.1f} s of CPU by the end of {step}, over {self.seconds:g} s")


def _cut_long_runs(text: str) -> str:
    """Cut runs of more than MAX_WORD_CHARS letters and digits (base64 or hex blobs, junk)."""
    # A run of more than 1,000 word characters (``\w``: what str.isalnum() accepts, and "_") covers
    # at least one whole aligned block of 500 characters. Most blocks hold a space or a "<" among
    # their first characters, where isalnum() stops: looking at every block costs some 0.2 ms on a
    # 250 KB page, where splitting it into tokens to find the long ones cost 2-3 ms and the regex
    # over the whole text 10-20. The regex runs only around the all-word blocks (base64 data, long
    # URLs): from the block before to the block after each series of them. Such a span starts and
    # ends in a block that holds a non-word character, so no run longer than a block crosses its
    # ends, and its runs are cut as in the whole text.
    size = len(text)
    spans: list[list[int]] = []
    for start in range(0, size - _WORD_BLOCK + 1, _WORD_BLOCK):
        block = text[start : start + _WORD_BLOCK]
        if block.isalnum() or ("_" in block and block.replace("_", "a").isalnum()):
            low, high = max(0, start - _WORD_BLOCK), min(size, start + 2 * _WORD_BLOCK)
            if spans and low <= spans[-1][1]:
                spans[-1][1] = high
            else:
                spans.append([low, high])
    return replace_spans(text, spans, partial(_LONG_RUN.sub, _cut_run))


def _cut_run(match: re.Match[str]) -> str:
    return match.group(0)[:MAX_WORD_CHARS]


_WORD_BLOCK = MAX_WORD_CHARS // 2


def _check_markup(text: str) -> None:
    """Limits checked on the markup, before parsing: what would make the parse itself costly."""
    if text.count("<") > MAX_MARKUP_TAGS:
        raise ExtractionError(f"too many elements: over {MAX_MARKUP_TAGS} tags in the markup")
    if not _LONG_TAG.search(text) or _few_attributes(text):
        # _few_attributes of the whole text holds for its markup too: leaving raw-text bodies out
        # makes no run without "<" or ">" longer, nor the text.
        return
    # A tag of n characters holds fewer than n attributes (the count starts after its "<", and each
    # attribute takes a character): only a tag of more than MAX_ATTRIBUTES characters can hold too
    # many, and only its attributes are counted; the shorter ones count as n - 1 attributes. Where
    # that bound on the pairs crosses the limit, the attributes of every tag are counted, in order.
    markup = _markup_only(text)
    if _few_attributes(markup):
        return
    bound = 0
    for match in _LONG_TAG.finditer(markup):
        attributes = match.end() - match.start() - 1
        if attributes > MAX_ATTRIBUTES:
            attributes = _count_attributes(match.group(0))
            if attributes > MAX_ATTRIBUTES:
                raise ExtractionError(f"too many attributes: an element with over {MAX_ATTRIBUTES}")
        bound += attributes * (attributes - 1) // 2
        if bound > MAX_ATTRIBUTE_PAIRS:
            break
    else:
        return
    pairs = 0
    for match in _LONG_TAG.finditer(markup):
        # Only a long tag can hold many attributes; counting them costs one regex pass over it.
        attributes = _count_attributes(match.group(0))
        if attributes > MAX_ATTRIBUTES:
            raise ExtractionError(f"too many attributes: an element with over {MAX_ATTRIBUTES}")
        pairs += attributes * (attributes - 1) // 2
        if pairs > MAX_ATTRIBUTE_PAIRS:
            raise ExtractionError(f"too many attributes: tags of hundreds of attributes, over {MAX_ATTRIBUTE_PAIRS} pairs in all")


_MARKUP_BLOCK = MAX_ATTRIBUTES // 2


def _few_attributes(markup: str) -> bool:
    """Whether the tags of ``markup`` are known to pass the checks below without being read one by one.

    Each tag then holds at most MAX_ATTRIBUTES (its length minus one), so its pairs are at most
    MAX_ATTRIBUTES - 1 halves of that length: the markup's length bounds their sum. A tag longer
    than that is a run of over 2 x _MARKUP_BLOCK characters with no "<" nor ">", which holds a
    whole aligned block of the markup: blocks are checked for one with ``find`` (memchr), in some
    20 us where reading every tag costs 1 ms. False when the markup is too long or has such a block.
    """
    if len(markup) * (MAX_ATTRIBUTES - 1) > 2 * MAX_ATTRIBUTE_PAIRS:
        return False
    for start in range(0, len(markup) - _MARKUP_BLOCK + 1, _MARKUP_BLOCK):
        end = start + _MARKUP_BLOCK
        if markup.find("<", start, end) < 0 and markup.find(">", start, end) < 0:
            return False
    return True


def _count_attributes(tag: str) -> int:
    """The attributes of ``tag`` (its name counts as one), up to MAX_ATTRIBUTES + 1."""
    return sum(1 for _ in islice(_ATTRIBUTE.finditer(tag, 1), MAX_ATTRIBUTES + 1))


def _markup_only(text: str) -> str:
    """``text`` without the bodies of raw-text elements; an unclosed one runs to the end, as in the parser.

    One pass: every search starts where the previous one ended (a pattern like ``<script>.*?</script>``
    would rescan to the end for each unclosed ``<script>``: quadratic).
    """
    bodies: list[tuple[int, int]] = []
    pos = 0
    while (opening := _RAW_TEXT_OPEN.search(text, pos)) is not None:
        closing = _RAW_TEXT_CLOSE[opening.group(1).lower()].search(text, opening.end())
        pos = len(text) if closing is None else closing.start()
        bodies.append((opening.end(), pos))
        if closing is None:
            break
    return replace_spans(text, bodies)


def _check_tree(tree: etree._Element, markup: str | None = None) -> None:
    """Limits checked on the parsed page, before metadata and cleaning look at it.

    ``markup``, the text ``tree`` was parsed from, spares the search for long attribute
    values where the markup cannot hold one (``_may_hold_long_values``).
    """
    if _TOO_DEEP(tree):
        raise ExtractionError(f"too deeply nested: elements more than {MAX_DEPTH} levels deep (the parser stops there)")
    elements = int(_COUNT_ELEMENTS(tree))
    if elements > MAX_ELEMENTS:
        raise ExtractionError(f"too many elements: {elements}, over {MAX_ELEMENTS}")
    if markup is None or _may_hold_long_values(markup, MAX_ATTRIBUTE_CHARS):
        _drop_long_attributes(tree)
    chars = _visible_chars(tree)
    if chars > MAX_TEXT_CHARS:
        raise ExtractionError(f"too much text: {chars} characters, over {MAX_TEXT_CHARS}")


def _drop_long_attributes(tree: etree._Element) -> None:
    for value in _LONG_ATTRIBUTES(tree, limit=MAX_ATTRIBUTE_CHARS):
        owner = value.getparent()
        if owner is not None and value.attrname in owner.attrib:
            del owner.attrib[value.attrname]


_HTML_SPACE = " \t\n\r\f"
_HTML_SPACE_OR_END = tuple(_HTML_SPACE + ">")


def _may_hold_long_values(markup: str, limit: int) -> bool:
    """Whether parsing ``markup`` may give an attribute value longer than ``limit`` characters.

    Such a value is, in the markup, a run of more than ``limit`` characters (entities only
    shorten it) either between quotes, the opening one right after "=" and spaces, or
    unquoted, with no space nor ">". A run that long holds a whole aligned block of half
    the limit, so blocks are read, with ``find`` (memchr): for a quote missing from a block,
    the run around it is measured and the character before its opening quote looked at.
    That character may also be ">": the parser is given the markup without its </body>
    and </html> tags. Some 20 us on a news page, where the search on the tree costs 0.6 ms.
    """
    block = limit // 2
    size = len(markup)
    judged: set[int] = set()  # opening quotes whose run was measured
    for start in range(0, size - block + 1, block):
        end = start + block
        if not any(markup.find(char, start, end) >= 0 for char in _HTML_SPACE_OR_END):
            return True  # maybe a long unquoted value
        for quote in "\"'":
            if markup.find(quote, start, end) >= 0:
                continue
            opening = markup.rfind(quote, 0, start)
            if opening < 0 or opening in judged:
                continue
            judged.add(opening)
            closing = markup.find(quote, end)
            if (size if closing < 0 else closing) - opening - 1 <= limit:
                continue
            before = opening - 1
            while before >= 0 and markup[before] in _HTML_SPACE:
                before -= 1
            if before >= 0 and markup[before] in "=>":
                return True
    return False


def _visible_chars(tree: etree._Element) -> int:
    """Characters of the text nodes ``_VISIBLE_TEXT`` selects.

    Counted as the body's whole text less that of its outermost script, style and template
    elements: 0.6 ms on a page of 1,000 elements, where testing the ancestors of every text
    node costs 2. A page with more than one body, or a body inside one of those, is counted
    node by node.
    """
    if _ONE_PLAIN_BODY(tree):
        return int(_BODY_TEXT_LENGTH(tree)) - sum(int(_TEXT_LENGTH(hidden)) for hidden in _HIDDEN_IN_BODY(tree))
    return sum(map(len, _VISIBLE_TEXT(tree)))


# An error page saved or served as a page: a short text under a "not found" title or heading.
_ERROR_TITLE = re.compile(
    r"^\W*(?:error\W*)?(?:404|410)(?:\W+(?:error|not\s+found|page|gone)\b|\W*$)"
    r"|\b(?:page|article|story|content|file)\s+(?:was\s+)?not\s+found\b"
    r"|\b(?:page|article|story|content|file)\s+(?:could\s+not|cannot|can't)\s+be\s+found\b"
    r"|^\W*not\s+found\W*$|\bpage\s+(?:does\s+not|doesn't|no\s+longer)\s+exists?\b"
    r"|\bseite\s+nicht\s+gefunden\b|\bp[aá]gina\s+no\s+encontrada\b|\bpage\s+introuvable\b"
    r"|\bpagina\s+non\s+trovata\b|\bp[aá]gina\s+n[aã]o\s+encontrada\b|\bpagina\s+niet\s+gevonden\b",
    re.IGNORECASE,
)
_ERROR_PAGE_MAX_WORDS = 150


def _error_page(article: Article, words: int) -> str | None:
    """The title or first line that marks a short page (of ``words`` words) as an error page ("404 - Page not found"), or None."""
    if words > _ERROR_PAGE_MAX_WORDS:
        return None
    first_line = article.text.lstrip().split("\n", 1)[0][:200]
    for candidate in (article.title or "", first_line):
        if candidate and _ERROR_TITLE.search(candidate[:200]):
            return candidate[:80]
    return None


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def _from_html(text: str, url: str | None, budget: _Budget) -> Article:
    _check_markup(text)
    try:
        tree = parse_html(text)
    except HtmlParseError as exc:
        raise ExtractionError(exc.reason) from None
    _check_tree(tree, text)
    budget.check("parsing")
    meta = extract_html_metadata(tree, url)
    budget.check("metadata")
    try:
        body = clean_html_tree(tree, url, authors=meta.authors, owned=True)  # the tree is not read after
    except AssertionError:
        # lxml asserts when readability's summary cannot be parsed back (an unclosed <title>
        # or <textarea> swallowed the whole page): there is no body to find.
        raise ExtractionError("no article found (the page's markup has no readable body)") from None
    budget.check("cleaning")
    return _article(meta, text=body.text, html=body.html, method="html")


def _from_text(text: str, budget: _Budget) -> Article:
    if len(text) > MAX_TEXT_CHARS:
        raise ExtractionError(f"too much text: {len(text)} characters, over {MAX_TEXT_CHARS}")
    capture = clean_text_capture(text)
    budget.check("cleaning")
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
