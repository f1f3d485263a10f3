"""Article body from an HTML page: chrome pruning, readability-lxml, residual clean-up.

The page is parsed once (``parse_html``); metadata is read from that tree before
anything here runs, and this module works on its own copy. Readability finds the
article; what it is known to keep (share bars, "Related" lists, newsletter boxes,
credits) is removed before and after it.
"""

from __future__ import annotations

import copy
import importlib
import importlib.metadata
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Any
from urllib.parse import unquote_plus, urljoin

import lxml.etree
import lxml.html
import readability.readability as _rl_module
from lxml.html import HtmlElement, xhtml_to_html
from readability import Document
from readability.cleaners import html_cleaner as _RL_CLEANER  # noqa: N812 - a module constant here
from readability.readability import REGEXES as _RL_REGEXES, Unparseable

try:
    _READABILITY_VERSION = importlib.metadata.version("readability-lxml")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover
    _READABILITY_VERSION = None

__all__ = ["CleanedBody", "HtmlParseError", "clean_html_tree", "parse_html", "tree_to_text"]

# Entries of each per-string cache below (class and id words, readability's class weights). The
# hits come from one page repeating its template's strings: on 500 WCXB pages 1024 entries keep
# 98 % of the hits of 8192, at no measurable CPU cost, and a cleaning worker's peak RSS is 10 MB
# lower (126 vs 136 MB): the caches and the frozensets they keep alive.
_CACHED = 1024

# The attributes lxml.html's ``iterlinks`` reads a link from: its link attributes, a style
# attribute, a <meta http-equiv> (refresh) and a <param valuetype> (ref).
_LINK_ATTRS = lxml.html.defs.link_attrs | {"style", "http-equiv", "valuetype"}


class _LinkHolders:
    """Stands for an element in lxml.html's ``iterlinks``, which walks ``self.iter(Element)``:
    gives it only the elements that can hold a link (one of ``_LINK_ATTRS``, or a <style>)."""

    __slots__ = ("_root",)

    def __init__(self, root: HtmlElement) -> None:
        self._root = root

    def iter(self, tag: object = None) -> Iterator[HtmlElement]:  # tag: iterlinks always asks for Element
        for el in self._root.iter(lxml.etree.Element):
            if not _LINK_ATTRS.isdisjoint(el.keys()) or el.tag.endswith("style"):
                yield el


class _HtmlElement(HtmlElement):
    """HtmlElement with a faster ``text_content``, and whose ``iterlinks`` (run by ``rewrite_links``,
    twice on readability's copy: its cleaner drops javascript: links, then the links are made absolute)
    runs lxml's own code on the elements that hold one of its attributes, found by one set test,
    instead of 16 tests on every element."""

    def iterlinks(self) -> Iterator[tuple[HtmlElement, str | None, str, int]]:
        return lxml.html.HtmlMixin.iterlinks(_LinkHolders(self))

    def text_content(self) -> str:
        """lxml's (an XPath ``string()``, 1.5 us a call, a thousand calls a page) but for an element
        with no child node other than text, whose text is all it holds: read directly, in a third of that."""
        return super().text_content() if len(self) else self.text or ""


def _make_links_absolute(doc: HtmlElement, base_url: str, handle_failures: str | None) -> None:
    """``doc.make_links_absolute(base_url, handle_failures=handle_failures)``, joining each distinct
    link once: a page repeats its links (menus, share bars, a story linked from its picture and title)."""
    if handle_failures not in (None, "ignore", "discard"):
        doc.make_links_absolute(base_url, handle_failures=handle_failures)  # lxml's error
        return
    doc.resolve_base_href()
    joined: dict[str, str | None] = {}

    def link_repl(href: str) -> str | None:
        if href not in joined:
            try:
                joined[href] = urljoin(base_url, href)
            except ValueError:
                if handle_failures is None:
                    raise
                joined[href] = href if handle_failures == "ignore" else None
        return joined[href]

    doc.rewrite_links(link_repl)


try:
    _HTML_CLEAN_VERSION = importlib.metadata.version("lxml_html_clean")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - lxml's own lxml.html.clean
    _HTML_CLEAN_VERSION = None

# The module, not the package's attribute of that name (a Cleaner instance).
_rl_cleaner_module = importlib.import_module("lxml_html_clean.clean")
# readability's cleaner as configured in readability-lxml 0.9; _clean_like_readability does what it
# does only with these settings (and the lxml_html_clean releases its code was read from, 0.4.x).
_RL_CLEANER_SETTINGS = {
    "scripts": True, "javascript": True, "comments": True, "style": True, "inline_style": True, "links": True,
    "meta": False, "page_structure": False, "processing_instructions": True, "embedded": False, "frames": False,
    "forms": False, "annoying_tags": False, "remove_tags": None, "kill_tags": (), "allow_tags": (),
    "remove_unknown_tags": False, "safe_attrs_only": False, "add_nofollow": False, "host_whitelist": (),
}
_LIKE_RL_CLEANER = (
    type(_RL_CLEANER) is _rl_cleaner_module.Cleaner
    and (_HTML_CLEAN_VERSION or "").startswith("0.4.")
    and all(getattr(_RL_CLEANER, k, object()) == v for k, v in _RL_CLEANER_SETTINGS.items())
)
_LINK_ATTRIBUTE_NAMES = lxml.html.defs.link_attrs
_RL_KILLED = lxml.etree.XPath(
    "descendant-or-self::script | descendant-or-self::style | descendant-or-self::link"
    " | descendant-or-self::comment() | descendant-or-self::processing-instruction()"
)


def _clean_like_readability(doc: HtmlElement) -> None:
    """``readability.cleaners.html_cleaner(doc)``: the same tree, in about half the time.

    The cleaner walks every element in Python twice (event attributes, then the tags it
    kills) and runs every link through its ``javascript:`` test. Here one walk drops the
    event attributes and collects the links, XPath finds the killed nodes (in the same
    document order), and the links are tested one by one only when one of them could
    change: one with spaces around it (the rewrite strips them) or, once unquoted and
    unspaced as the cleaner does it, holding one of the schemes it looks for (tested on
    all links joined, with a separator the unquoting and unspacing keep: a scheme in one
    link is in the whole). After pruning, that is one WCXB or AEB page in six. Links in
    style attributes and style sheets are left alone: the cleaner removes both
    afterwards. Where lxml reads links otherwise (object, param, meta refresh), lxml's
    own ``rewrite_links`` runs, as in the cleaner.
    """
    if not _LIKE_RL_CLEANER:
        _RL_CLEANER(doc)
        return
    xhtml_to_html(doc)
    for el in doc.iter("image"):
        el.tag = "img"
    links: list[tuple[HtmlElement, str, str]] = []
    read_otherwise = False
    for el in doc.iter(lxml.etree.Element):
        names = el.keys()
        if not names:
            continue
        attrib = el.attrib
        for name in names:
            if name.startswith("on"):
                del attrib[name]
            elif name in _LINK_ATTRIBUTE_NAMES:
                links.append((el, name, attrib[name]))
        if el.tag.endswith(("object", "param", "meta")):
            read_otherwise = True
    if read_otherwise:
        doc.rewrite_links(_RL_CLEANER._remove_javascript_link, resolve_base_href=False)
    elif links and (
        any(value != value.strip() for _, _, value in links)
        or _rl_cleaner_module._possibly_malicious_schemes(
            _rl_cleaner_module._substitute_whitespace("", unquote_plus("\x1a".join(value for _, _, value in links)))
        )
    ):
        replace = _RL_CLEANER._remove_javascript_link
        for el, name, value in links:
            new = replace(value.strip())
            if new != value:
                el.set(name, new)
    lxml.etree.strip_attributes(doc, "style")
    for node in _RL_KILLED(doc):
        node.drop_tree()


_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False, default_doctype=False)
# Every element is an _HtmlElement, looked up in C: lxml.html's default lookup calls a Python
# method for every element proxy created (1-2 us each, millions per hundred pages), only to give
# <form>, <input>, <select>, <textarea> and <label> subclasses whose extra properties nothing here uses.
_PARSER.set_element_class_lookup(
    lxml.etree.ElementDefaultClassLookup(
        element=_HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity,
    )
)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
# Browsers ignore </body> and </html>: what follows them still goes into the body. libxml2
# stops there, and templates that close the document early lose the article after it.
_DOC_END_TAGS = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)

# Elements that never carry article text. A <textarea>'s content is raw text, never elements:
# it cannot have swallowed the article's markup, and what it holds is a form's value (often the
# article's own HTML source, offered for copying by a "republish this story" box).
_DROP_TAGS = (
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed", "link", "meta",
    "input", "select", "option", "datalist", "textarea",
)
# Widgets: dropped unless broken markup made them swallow the page (an unclosed
# <button> can end up containing <main>).
_WIDGET_TAGS = frozenset(("button", "label", "dialog", "map", "form"))
# Roles of an overlay (a "republish this story" box, a sign-up form): never the article,
# whatever its length (the page's main prose is never pruned).
_DIALOG_ROLES = frozenset(("dialog", "alertdialog"))
# Page chrome by HTML5 semantics; kept only when it holds most of the page's text.
_CHROME_TAGS = ("nav", "aside", "footer")
# Class/id words that mark chrome, matched as whole words of the attribute
# (split on non-letters). Strong words name blocks that are never the article;
# weak words are also used for layout ("elementor-widget", "has-sidebar") and
# only count when the block is short or mostly links.
_STRONG_CHROME = frozenset(
    """
    share sharing sharebar social socials sharetools share-tools addthis sociallinks
    related relatedposts related-posts relatedarticles related-articles recommended recommendations
    recirc recirculation outbrain taboola zergnet more-stories morestories also-read alsoread
    read-more readmore read-next readnext up-next upnext whats-next most-read mostread most-popular
    popular trending newsletter newsletters subscribe subscription signup sign-up
    comment comments commentlist comment-list disqus respond
    cookie cookies consent gdpr banner-ad advert adverts advertisement advertising ad ads adslot
    ad-slot ad-container adunit ad-unit dfp sponsor sponsored breadcrumb breadcrumbs
    skip-link skiplink author-bio authorbio pagination pager prev-next post-navigation jump-link
    republish republication
    """.split()
)
_WEAK_CHROME = frozenset(
    """
    widget widgets sidebar side-bar modal popup overlay toolbar promo promotion promoted signin sign-in
    login register paywall regwall meter print-only screen-reader-only sr-only visually-hidden
    hidden-print tags tag-list taglist topics keywords nav navigation menu masthead site-header
    site-footer footer header
    """.split()
)
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)

# Short blocks whose wording is chrome in any site's template: ^\W*(?:_CHROME_OPENING|_CHROME_FURTHER_IN).
# What opens the block:
_CHROME_OPENING = r"""
        (?:read|see|view|show|load)\s+(?:more|also|next|the\ full|all|comments?)\b
      | related(?:\s+(?:articles?|stories|posts|content|coverage|topics|links|reading))?\s*:?$
      | (?:more|top|latest|popular|trending)\s+(?:from|on|in|stories|news|articles|posts|videos?|reads?)\b.{0,40}$
      | (?:you|we\s+think\s+you)\s+(?:may|might|could|will)\s+(?:also\s+)?(?:like|enjoy|be\s+interested)
      | (?:recommended|suggested)\s+(?:for\s+you|stories|articles|reading)
      | (?:sign\s*up|subscribe|register|log\s*in|sign\s*in)\b.{0,120}$
      | (?:share|tweet|email|print|copy\s+link)(?:\s+(?:this|on|via|to|with|article|story|page|post|the\s+(?:article|story|page|post)).{0,40})?\W*$
      | follow\s+(?:us|me)\b.{0,60}$
      | advertisement\W*$ | sponsored(?:\s+content)?\W*$ | ad\W*$
      | (?:©|\(c\)|copyright)\s.{0,150}$
      | all\s+rights\s+reserved.{0,60}$
      | (?:this\s+(?:site|website)\s+uses\s+cookies|we\s+use\s+cookies).{0,200}$
      | (?:leave\s+a\s+(?:reply|comment)|post\s+a\s+comment|add\s+a\s+comment|\d+\s+comments?|no\s+comments)\W*.{0,40}$
      | click\s+here\b.{0,100}$
      | (?:table\s+of\s+contents|contents|in\s+this\s+article|on\s+this\s+page)\W*$
      | loading\b\W*(?:\w+\W*)?$
      | (?:updated\s+|posted\s+)?\d+\s+(?:seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\s+ago\W*$
      | \d+\s*-?\s*min(?:ute)?s?\s+read\W*$
      | (?:previous|next)\s+(?:article|post|story)\b.{0,150}$
      | (?:image|photo|picture)\s*(?:credit|source)?\s*:\s*.{0,80}$
      | also\s+(?:on|read|see|in)\b.{0,150}$
"""
# And what may stand up to 100 characters further in: tried from every one of those starting points,
# so costly; it needs one of _CHROME_FURTHER_IN_WORDS.
_CHROME_FURTHER_IN = r"""
        .{0,100}\bdelivered\s+(?:to|through|straight\s+to|right\s+to)\s+your\s+(?:inbox|letterbox|mailbox|door)\b.{0,150}$
      | .{0,80}\b(?:requires|enable)\s+javascript\b.{0,40}$
      | [^.!?]{0,80}\b(?:getty\s+images|shutterstock|istock(?:photo)?|ap\s+photo|afp\s+photo|reuters/|epa-efe)\b[^.!?]{0,40}$
"""
_CHROME_FURTHER_IN_WORDS = ("delivered", "javascript", "getty", "shutterstock", "istock", "photo", "reuters/", "epa-efe")
_CHROME_TEXT_OPENING = re.compile(r"^\W*(?:" + _CHROME_OPENING + ")", re.IGNORECASE | re.VERBOSE)
_CHROME_TEXT_FURTHER_IN = re.compile(r"^\W*(?:" + _CHROME_FURTHER_IN + ")", re.IGNORECASE | re.VERBOSE)


def _chrome_text(text: str) -> bool:
    r"""Whether ``text`` matches ``^\W*(?:_CHROME_OPENING|_CHROME_FURTHER_IN)`` (case-insensitive).

    The second half (5 us a text) is skipped for an ASCII text without any of its words once
    lowercased: in ASCII, only an ASCII letter matches one case-insensitively.
    """
    if _CHROME_TEXT_OPENING.match(text) is not None:
        return True
    if text.isascii():
        lowered = text.lower()
        if not any(word in lowered for word in _CHROME_FURTHER_IN_WORDS):
            return False
    return _CHROME_TEXT_FURTHER_IN.match(text) is not None


_BLOCK_TAGS = frozenset(
    "p div section article main header footer aside nav h1 h2 h3 h4 h5 h6 ul ol li dl dt dd "
    "blockquote pre table thead tbody tfoot tr figure figcaption address hr br center details summary".split()
)
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
# Runs of whitespace (newlines excepted: they separate lines) become one space. A single plain
# space is left alone (replacing it with itself is most of the work on long texts); a single
# other space character (tab, no-break, thin, zero-width ...) is replaced.
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]{2,}|[\t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]")
# What _SPACES.sub(" ", text) does, some four times faster: each other space character becomes a
# plain space (looked for with ``in``, a plain memchr-like scan; an ASCII text can only hold the
# first four), then runs of plain spaces become one (a regex with a literal prefix, which re scans
# for fast, and only when there is a run). The one-regex form tries its alternatives at every space.
_OTHER_SPACES_ASCII = ("\t", "\r", "\f", "\v")
_OTHER_SPACES = (*_OTHER_SPACES_ASCII, "\u00a0", *map(chr, range(0x2000, 0x200C)), "\u202f", "\u205f", "\u3000")
_SPACE_RUN = re.compile("  +")


def _collapse_spaces(text: str) -> str:
    """``_SPACES.sub(" ", text)``."""
    for char in _OTHER_SPACES_ASCII if text.isascii() else _OTHER_SPACES:
        if char in text:
            text = text.replace(char, " ")
    return _SPACE_RUN.sub(" ", text) if "  " in text else text
_KEEP_ATTRS = {"a": ("href",), "img": ("src", "alt"), "td": ("colspan", "rowspan"), "th": ("colspan", "rowspan")}


class HtmlParseError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CleanedBody:
    text: str
    html: str


def parse_html(text: str) -> HtmlElement:
    """Parse a page once; every later step reads this tree (or a copy of it)."""
    text = _XML_DECL.sub("", text, count=1)
    text = _DOC_END_TAGS.sub("", text)
    try:
        root = lxml.html.document_fromstring(text, parser=_PARSER)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise HtmlParseError(f"unparsable HTML: {exc}") from None
    if root is None:
        raise HtmlParseError("unparsable HTML: empty document")
    return root


def clean_html_tree(
    tree: HtmlElement, url: str | None = None, authors: Sequence[str] = (), *, owned: bool = False
) -> CleanedBody:
    """The article body of ``tree`` (not modified, unless ``owned``) as text and as cleaned HTML.

    ``authors`` (from the page's metadata) lets byline blocks be recognised and removed.
    ``owned``: the caller is done with ``tree``, which is then worked on in place instead
    of a deep copy (1 ms on a news page).
    """
    titles = _page_titles(tree)  # before pruning, which drops <meta>
    work = tree if owned else copy.deepcopy(tree)
    mains = _prune(work)
    scores = _score_prose(work)
    container = scores.best
    prose = scores.prose[container] if container is not None else 0
    if _clear_article(container, scores):
        summary = ""  # the densest block is taken below, as when readability finds nothing
    else:
        try:
            summary = _Readability(work, url=url).summary(html_partial=True)
        except Unparseable:
            summary = ""
    article = _fragment(summary)
    if container is not None and container.tag not in ("html", "body") and (
        article is None or _text_len(article) < 0.5 * prose
    ):
        # Readability lost the article (it does on pages without <p> or with
        # unusual nesting): fall back to the densest block of prose.
        article = copy.deepcopy(container)
        article.tail = None
    elif article is not None:
        region = _locate(work, article)
        grown = _expand(region, scores) if region is not None else None
        if grown is not None and grown is region and not _dense_prose(region, scores):
            grown = None
        if grown is not None and scores.total[grown] > 1.2 * _text_len(article):
            article = copy.deepcopy(grown)
            article.tail = None
        elif region is not None:
            _restore_lead(article, region)
            _restore_lists(article, region)
            _restore_intro(article, region)
    text = _finish(article, authors, titles) if article is not None else ""
    words = len(text.split())
    main = mains[0] if len(mains) == 1 else None  # the pruned page's one <main> (or role="main"), if it has one
    if main is not None and (words < _FEW_WORDS or len(main.text_content().split()) >= _MAIN_RATIO * words):
        # What was found is no article (a landing page of headlines and one-line blurbs) or
        # one section of a page made of many (a guide's sections, a docs page, a list of
        # entries): what the page marks as its main content is the text, when it holds
        # far more once cleaned alike.
        main = copy.deepcopy(main)
        main.tail = None
        main_text = _finish(main, authors, titles)
        main_words = len(main_text.split())
        if main_words > words and (words < _FEW_WORDS or main_words >= _MAIN_RATIO * words):
            article, text = main, main_text
    if article is None or not text:
        return CleanedBody(text="", html="")
    _strip_attributes(article)
    html = lxml.html.tostring(article, encoding="unicode", method="html")
    return CleanedBody(text=text, html=html)


def _clear_article(container: HtmlElement | None, scores: _ProseScores) -> bool:
    """Whether the densest block of prose is plainly the article, so readability need not be asked.

    That is when the page marks its article and one block of at least _CLEAR_PARAGRAPHS
    paragraphs holds nine tenths of its prose: readability (with the work on its result,
    a third of a WCXB page's CPU) then picks much the same block. The mark is an
    ``<article>`` around the block, or a ``<main>`` (or role="main") around it; not a
    ``<main>`` that is the block itself, which also holds the page's other blocks
    (prices, reading lists, references: readability leaves them out).
    Measured on the 974 benchmark pages, with <article> alone (41 % of WCXB's and half of
    AEB's pass): body F1 0.9556 -> 0.9557 on WCXB, 0.9761 -> 0.9756 on AEB, per core 1.47x ->
    1.62x trafilatura; with <main> around the block too (586 pages instead of 417): 0.9557 on
    WCXB (42 pages better, 31 worse), 0.9756 -> 0.9760 on AEB. Without the nine tenths, an
    article split into sections (one WCXB page) kept only one of them.
    """
    if container is None or container.tag in ("html", "body"):
        return False
    holder = None
    for el in (container, *container.iterancestors()):
        if el.tag == "article" or (el is not container and (el.tag == "main" or el.get("role") == "main")):
            holder = el
            break
    if holder is None or scores.prose.get(container, 0) < 0.9 * scores.prose.get(holder, 0):
        return False
    return sum(1 for _ in container.iter("p")) >= _CLEAR_PARAGRAPHS


_CLEAR_PARAGRAPHS = 8


# Fewer words than this and extract rejects the page (its MIN_WORDS): no article found.
_FEW_WORDS = 25
# The page's <main> replaces the article found when it holds this many times its words.
_MAIN_RATIO = 3


def _finish(article: HtmlElement, authors: Sequence[str], titles: set[str]) -> str:
    """Clean ``article`` in place and return its text."""
    _post_clean(article, authors)
    _drop_page_notes(article, titles)
    return tree_to_text(article)


class _Readability(Document):
    """Readability that parses from a fresh copy of our tree on every retry.

    Given a tree, readability-lxml mutates it and would re-run its lenient retry
    on the already-mutilated tree; a deep copy is far cheaper than re-parsing.

    With the readability-lxml release it was written against, two of its hot
    methods are replaced by copies that compute the same values faster (its
    text measure with precompiled patterns and a shortcut for short texts, no
    debug strings formatted for a logger that is off); with any other
    release, its own methods run.
    """

    def _parse(self, input: HtmlElement) -> HtmlElement:  # noqa: A002 - readability's name
        return super()._parse(copy.deepcopy(input))

    if _READABILITY_VERSION == "0.9":

        def _parse(self, input: HtmlElement) -> HtmlElement:  # noqa: A002 - readability's name
            # readability's own _parse of a fresh copy of our tree, with its cleaner run on that
            # copy in place: Cleaner.clean_html would deep-copy the whole tree once more.
            doc = copy.deepcopy(input)
            self.encoding = "utf-8"
            for elem in doc.xpath("//*[@hidden]"):
                elem.drop_tree()
            for elem in doc.xpath("//*[@style]"):
                if _RL_REGEXES["displayNoneRe"].search(elem.get("style")):
                    elem.drop_tree()
            _clean_like_readability(doc)
            if self.url:
                _make_links_absolute(doc, self.url, self.handle_failures)
            else:
                doc.resolve_base_href(handle_failures=self.handle_failures)
            return doc

        def get_link_density(self, elem: HtmlElement) -> float:
            link_length = 0
            for i in elem.findall(".//a"):
                link_length += _rl_text_length(i)
            total_length = _rl_text_length(elem)
            return float(link_length) / max(total_length, 1)

        def score_paragraphs(self) -> dict[HtmlElement, dict[str, Any]]:
            min_len = self.min_text_length
            candidates: dict[HtmlElement, dict[str, Any]] = {}
            ordered = []
            for elem in self.tags(self._html(), "p", "pre", "td", "blockquote"):
                parent_node = elem.getparent()
                if parent_node is None:
                    continue
                grand_parent_node = parent_node.getparent()
                inner_text = _rl_clean(elem.text_content() or "")
                inner_text_len = len(inner_text)
                if inner_text_len < min_len:
                    continue
                if parent_node not in candidates:
                    candidates[parent_node] = self.score_node(parent_node)
                    ordered.append(parent_node)
                if grand_parent_node is not None and grand_parent_node not in candidates:
                    candidates[grand_parent_node] = self.score_node(grand_parent_node)
                    ordered.append(grand_parent_node)
                content_score = 1
                content_score += len(inner_text.split(","))
                content_score += min((inner_text_len / 100), 3)
                candidates[parent_node]["content_score"] += content_score
                if grand_parent_node is not None:
                    candidates[grand_parent_node]["content_score"] += content_score / 2.0
            # get_link_density of each candidate, with each link's length measured once: a parent and
            # its grandparent hold the same links, and nothing changes the tree while scoring.
            link_lengths: dict[HtmlElement, int] = {}
            for elem in ordered:
                link_length = 0
                for link in elem.findall(".//a"):
                    length = link_lengths.get(link)
                    if length is None:
                        length = link_lengths[link] = _rl_text_length(link)
                    link_length += length
                total_length = _rl_text_length(elem)
                candidates[elem]["content_score"] *= 1 - float(link_length) / max(total_length, 1)
            return candidates

        def class_weight(self, e: HtmlElement) -> int:
            if self.positive_keywords or self.negative_keywords:
                return super().class_weight(e)
            return _rl_class_weight(e.get("class", None), e.get("id", None))

        def remove_unlikely_candidates(self) -> None:
            for elem in self.html.findall(".//*"):
                s = "{} {}".format(elem.get("class", ""), elem.get("id", ""))
                if len(s) < 2:
                    continue
                if (
                    _rl_unlikely(s)
                    and elem.tag not in ["html", "body"]
                    and not elem.xpath("ancestor-or-self::pre | ancestor-or-self::code")
                    and not elem.xpath(
                        "descendant-or-self::main | descendant-or-self::article | descendant-or-self::math"
                    )
                ):
                    elem.drop_tree()

        def transform_misused_divs_into_paragraphs(self) -> None:  # noqa: RET503 - returns the library's result (None) early
            holders = _rl_block_holders(self.html)
            if holders is None:  # a comment or processing instruction: let the library serialize
                return super().transform_misused_divs_into_paragraphs()
            # A <div> becomes a <p> when the serialization of its children holds no
            # "<blockquote", "<dl", "<div", "<img", "<ol", "<p", "<pre", "<table" or "<ul":
            # with no comments, that is, when no element inside has a tag starting so.
            for elem in self.tags(self.html, "div"):
                if elem not in holders:
                    elem.tag = "p"
            inline_tags = _RL_INLINE_TAGS
            for elem in self.tags(self.html, "div"):
                children = list(elem)
                paragraph = None
                if elem.text and elem.text.strip():
                    p = _PARSER.makeelement("p")
                    p.text = elem.text
                    elem.text = None
                    elem.insert(0, p)
                    paragraph = p
                for child in children:
                    if child.tag == "br":
                        paragraph = None
                        continue
                    if child.tag not in inline_tags or _RL_REGEXES["divToPElementsRe"].search(
                        lxml.etree.tounicode(child, method="html")
                    ):
                        paragraph = None
                        continue
                    if paragraph is None:
                        paragraph = _PARSER.makeelement("p")
                        child.addprevious(paragraph)
                    paragraph.append(child)
                for pos, child in reversed(list(enumerate(elem))):
                    if child.tail and child.tail.strip():
                        p = _PARSER.makeelement("p")
                        p.text = child.tail
                        child.tail = None
                        elem.insert(pos + 1, p)
                    if child.tag == "br":
                        child.drop_tree()


_RL_INLINE_TAGS = frozenset("a b cite code em font i small span strong sub sup u".split())
_RL_BLOCK_PREFIXES = ("blockquote", "dl", "div", "img", "ol", "p", "pre", "table", "ul")


def _rl_block_holders(root: HtmlElement) -> set[HtmlElement] | None:
    """The elements with an element inside whose tag starts like a block's (readability's
    ``divToPElementsRe`` on their serialization); None when a node would be serialized raw."""
    holders: set[HtmlElement] = set()
    for el in root.iter():
        tag = el.tag
        if not isinstance(tag, str):
            if tag is lxml.etree.Entity:
                continue
            return None
        if tag.lower().startswith(_RL_BLOCK_PREFIXES):
            parent = el.getparent()
            while parent is not None and parent not in holders:
                holders.add(parent)
                parent = parent.getparent()
        elif tag.startswith("{"):
            return None
    return holders


@lru_cache(maxsize=_CACHED)
def _rl_unlikely(s: str) -> bool:
    return _rl_found("unlikelyCandidatesRe", s) and not _rl_found("okMaybeItsACandidateRe", s)


@lru_cache(maxsize=_CACHED)
def _rl_class_weight(class_: str | None, id_: str | None) -> int:
    weight = 0
    for feature in (class_, id_):
        if feature:
            if _rl_found("negativeRe", feature):
                weight -= 25
            if _rl_found("positiveRe", feature):
                weight += 25
    return weight


_WORD_ALTERNATION = re.compile(r"[a-z0-9 -]+(?:\|[a-z0-9 -]+)*")
# Readability's class/id patterns that are alternations of lowercase words, compiled without
# IGNORECASE: on an ASCII value lowercased they find the same words, some five times faster
# (re's case-insensitive search of an alternation is slow). The others are left out.
_RL_LOWERED = {
    name: re.compile(pattern.pattern)
    for name, pattern in _RL_REGEXES.items()
    if pattern.flags & re.IGNORECASE and _WORD_ALTERNATION.fullmatch(pattern.pattern)
}


def _rl_found(name: str, value: str) -> bool:
    """Whether ``_RL_REGEXES[name]`` finds a match in ``value``."""
    lowered = _RL_LOWERED.get(name)
    if lowered is not None and value.isascii():
        return lowered.search(value.lower()) is not None
    return _RL_REGEXES[name].search(value) is not None


_RL_LONG_SPACE = re.compile(r"\s{255,}")
_RL_TABS = re.compile(r"\t|[ \t]{2,}")


def _rl_clean(text: str) -> str:
    """readability-lxml's ``clean`` (the same string), its patterns compiled once.

    Its middle step, every whitespace run holding a newline becoming one
    newline, is done line by line: the regex tries a match at every character.
    """
    if len(text) >= 255 and _space_block(text):
        text = _RL_LONG_SPACE.sub(" " * 255, text)
    if "\n" in text:
        text = "\n".join(line for line in (part.strip() for part in text.split("\n")) if line)
    if "\t" in text:
        text = _RL_TABS.sub(" ", text)
    elif "  " in text:  # without tabs the pattern is runs of spaces: found by their literal prefix
        text = _SPACE_RUN.sub(" ", text)
    return text.strip()


_SPACE_BLOCK = 128


def _space_block(text: str) -> bool:
    """Whether some aligned block of _SPACE_BLOCK characters of ``text`` is all whitespace.

    A run of 255 whitespace characters holds such a block, so without one ``_RL_LONG_SPACE``
    has nothing to replace: testing the blocks (``isspace`` stops at the first other
    character) is some ten times cheaper than the regex, which tries every space.
    """
    return any(text[start : start + _SPACE_BLOCK].isspace() for start in range(0, len(text) - _SPACE_BLOCK + 1, _SPACE_BLOCK))


def _rl_text_length(el: HtmlElement) -> int:
    """readability-lxml's ``text_length``."""
    return len(_rl_clean(el.text_content() or ""))


def _only_when_debugging(describe: Callable[..., str]) -> Callable[..., str]:
    """``describe`` when readability's debug messages are on, else "" (a message never shown)."""

    def described(*args: Any, **kwargs: Any) -> str:
        return describe(*args, **kwargs) if _RL_LOG.isEnabledFor(logging.DEBUG) else ""

    described.__wrapped__ = describe  # type: ignore[attr-defined]
    return described


_RL_LOG = logging.getLogger("readability.readability")
if _READABILITY_VERSION == "0.9" and not hasattr(_rl_module.describe, "__wrapped__"):
    # Readability formats its debug messages before calling the logger: the description and
    # the text of every block that sanitize removes or keeps (0.4 ms a page), for a logger
    # that is off. Its two debug helpers, as its module calls them, now do nothing then.
    _rl_module.describe = _only_when_debugging(_rl_module.describe)
    _rl_module.text_content = _only_when_debugging(_rl_module.text_content)
    # Its text measure (in sanitize and the candidate choice) as ours: the same string, cheaper.
    _rl_module.clean = _rl_clean


def _fragment(summary: str) -> HtmlElement | None:
    if not summary or not summary.strip():
        return None
    try:
        made = lxml.html.fragment_fromstring(summary, create_parent="div", parser=_PARSER)
    except (lxml.etree.ParserError, ValueError):
        return None
    # lxml.html makes the wrapper with its default parser, and what moves into it follows:
    # the same tree under a wrapper of ours keeps the element lookup in C.
    root = _PARSER.makeelement("div")
    root.text = made.text
    root.extend(list(made))
    return root


def _text_len(el: HtmlElement) -> int:
    return len(_collapse_spaces(el.text_content()).strip())


def _shorter_than(el: HtmlElement, limit: float) -> bool:
    """``_text_len(el) < limit``, without collapsing the text when its length settles it."""
    raw = el.text_content()
    if len(raw) < limit:
        return True
    if _solid_at_least(raw, limit):
        return False
    return len(_collapse_spaces(raw).strip()) < limit


def _solid_len(text: str) -> int:
    """A lower bound of ``len(_collapse_spaces(text).strip())``, several times cheaper on long texts.

    Characters that are neither whitespace nor zero-width spaces (the one ``_SPACES``
    character that is not whitespace to ``str.split``) survive both the collapsing and
    the strip.
    """
    return sum(map(len, text.split())) - text.count("\u200b")


def _solid_at_least(text: str, limit: float) -> bool:
    """``_solid_len(text) >= limit``, measured on the text's opening first.

    Solid characters are counted one by one, so an opening holds no more of them than
    the whole text: when the first ``2 * limit`` characters hold enough, the rest of a
    long text (a whole article, for its outer blocks) is never split.
    """
    head = int(2 * limit) + 1
    if len(text) > head and _solid_len(text[:head]) >= limit:
        return True
    return _solid_len(text) >= limit


def _attr_words(el: HtmlElement | Mapping[str, str]) -> frozenset[str]:
    """The class, id and role words of an element, or of its attributes as a dict."""
    return _words_of(f"{el.get('class', '')} {el.get('id', '')} {el.get('role', '')}")


@lru_cache(maxsize=_CACHED)
def _words_of(value: str) -> frozenset[str]:
    """The class/id/role words of an attribute string; templates repeat a few hundred strings per page."""
    value = value.lower()
    if not value.strip():
        return frozenset()
    # Each whitespace-separated part, and the letter and digit runs within them: whitespace is no
    # letter nor digit, so one split of the whole value gives those runs (and "" at its ends).
    words = set(value.split())
    words.update(_WORD_SPLIT.split(value))
    words.discard("")
    return frozenset(words)


def _prune(root: HtmlElement) -> list[HtmlElement]:
    """Remove what is never article text, before readability scores the page.

    Returns the page's <main> elements and those with role="main" that are left, in document
    order (the walk reads every element's attributes anyway: an XPath for them costs 1 % of a page)."""
    for el in list(root.iter(*_DROP_TAGS)):
        _drop(el)
    for el in list(root.iter(lxml.etree.Comment)):
        _drop(el)
    body = root.find("body")
    total = _text_len(body if body is not None else root) or 1
    protected = _main_text_path(root)
    # Document order, never descending into a removed element: what is inside it is gone
    # already, and judging it could change nothing in the page.
    mains: list[HtmlElement] = []
    stack = [root]
    while stack:
        el = stack.pop()
        if len(el):
            stack.extend(reversed(el))
        tag = el.tag
        if not isinstance(tag, str):
            continue
        if el.getparent() is None or el in protected:
            if tag == "main" or el.get("role") == "main":
                mains.append(el)
            continue
        attrs = dict(el.items())  # one call for the attributes read below (a lookup each costs as much)
        if tag in ("html", "body", "article", "main") or attrs.get("itemprop") == "articleBody":
            if tag == "main" or attrs.get("role") == "main":
                mains.append(el)
            continue
        if not attrs:
            # Hidden, modal and weak chrome all need an attribute: only the tag can make it chrome.
            if (tag in _CHROME_TAGS or tag in _WIDGET_TAGS) and _shorter_than(el, total * 0.3):
                _drop(el)
                del stack[len(stack) - len(el):]
            continue
        hidden = (
            attrs.get("hidden") is not None
            or attrs.get("aria-hidden") == "true"
            or _HIDDEN_STYLE.search(attrs.get("style", "") or "")
        )
        role = attrs.get("role")
        chrome = tag in _CHROME_TAGS or tag in _WIDGET_TAGS or role in ("navigation", "complementary", "contentinfo", "banner")
        modal = role in _DIALOG_ROLES or attrs.get("aria-modal") == "true"
        weak = False
        if not chrome:
            words = _attr_words(attrs)
            if words:
                chrome = not words.isdisjoint(_STRONG_CHROME)
                weak = not chrome and not words.isdisjoint(_WEAK_CHROME)
        if hidden and not chrome and not modal and _collapsed_prose(el):
            # A collapsed accordion or "read more" section: content, only hidden
            # until clicked. Unhide it so readability does not drop it either.
            el.attrib.pop("hidden", None)
            el.attrib.pop("style", None)
            el.attrib.pop("aria-hidden", None)
        elif hidden or chrome or modal:
            if modal or _shorter_than(el, total * 0.3):
                _drop(el)
                del stack[len(stack) - len(el):]
                continue
        elif weak:
            size = _text_len(el)
            if size < 150 or _link_density(el, size) > 0.5:
                _drop(el)
                del stack[len(stack) - len(el):]
                continue
        if role == "main":
            mains.append(el)
    return mains


def _collapsed_prose(el: HtmlElement) -> bool:
    """Whether a hidden element holds real paragraphs (300+ characters of them, few links)."""
    prose = sum(n for n in (len(p.text_content().strip()) for p in el.iter("p")) if n >= 80)
    return prose >= 300 and _link_density(el) < 0.3


def _main_text_path(root: HtmlElement) -> set[HtmlElement]:
    """The element holding the most paragraph prose, and its ancestors.

    Class words are a weak signal ("and-w-sidebar" on a layout wrapper): the
    container of the page's main prose is never pruned by them.
    """
    scores: dict[HtmlElement, int] = {}
    for p in root.iter("p"):
        n = len(p.text_content().strip())
        parent = p.getparent()
        if n >= 60 and parent is not None:
            scores[parent] = scores.get(parent, 0) + n
    if not scores:
        return set()
    best = max(scores, key=scores.__getitem__)
    return {best, *best.iterancestors()}


_PROSE_MIN = 70
_INLINE_SKIP = frozenset(("a", "button", "label", "option"))


@dataclass
class _ProseScores:
    """Per-element text measures of one tree, computed bottom-up in one pass."""

    total: dict[HtmlElement, int]
    prose: dict[HtmlElement, int]
    links: dict[HtmlElement, int]
    best: HtmlElement | None

    def score(self, el: HtmlElement) -> float:
        p = self.prose.get(el, 0)
        return p - 0.5 * (self.total.get(el, 0) - p)


def _score_prose(root: HtmlElement) -> _ProseScores:
    """Prose, total and link text of every element, and the best-scoring block.

    Prose is text directly inside an element in runs of at least 70 characters,
    credited to its parent only when the parent holds two such runs or more
    (paragraphs of one article are siblings; the one-line "deks" of teaser lists
    each sit alone in their item, beside a headline) or when the run is long
    (300+); a wrapper holding nothing but one paragraph counts as that paragraph. A block's
    score is its prose minus half of all its other text.
    """
    total: dict[HtmlElement, int] = {}
    prose: dict[HtmlElement, int] = {}
    links: dict[HtmlElement, int] = {}
    direct: dict[HtmlElement, int] = {}
    best: HtmlElement | None = None
    best_score = 0.0
    body = root.find("body") if root.tag == "html" else None
    top = body if body is not None else root
    for el in reversed(list(top.iter())):
        if not isinstance(el.tag, str):
            continue
        own = len((el.text or "").strip())
        if not len(el):
            # A leaf (most elements): its own text is all it holds; no prose is credited to it,
            # so it scores at most 0 and cannot be the best block.
            direct[el] = own if own >= _PROSE_MIN and el.tag not in _INLINE_SKIP else 0
            total[el], prose[el], links[el] = own, 0, own if el.tag == "a" else 0
            continue
        # Sums over lists and maps, not generators.
        kids = [c for c in el if isinstance(c.tag, str)]
        own += sum([len(tail.strip()) for c in el if (tail := c.tail)])
        direct[el] = own if own >= _PROSE_MIN and el.tag not in _INLINE_SKIP else 0
        runs = [direct[c] for c in kids if direct[c]]
        total[el] = own + sum(map(total.__getitem__, kids))
        if len(kids) == 1 and runs and runs[0] < 300 and not direct[el] and total[el] - runs[0] <= 5:
            # A wrapper around one paragraph (<div class="paragraph"><p>...</p></div>)
            # stands for that paragraph: its parent judges it among its siblings.
            direct[el] = runs[0]
            runs = []
        credited = sum(runs) if len(runs) >= 2 else sum(r for r in runs if r >= 300)
        prose[el] = credited + sum(map(prose.__getitem__, kids))
        links[el] = total[el] if el.tag == "a" else sum(map(links.__getitem__, kids))
        score = prose[el] - 0.5 * (total[el] - prose[el])
        if score > best_score:
            best, best_score = el, score
    return _ProseScores(total, prose, links, best)


def _prose_container(root: HtmlElement) -> tuple[HtmlElement | None, int]:
    """The block with the best prose score in ``root``, and its credited prose."""
    scores = _score_prose(root)
    return scores.best, (scores.prose[scores.best] if scores.best is not None else 0)


_NORM = re.compile(r"\W+")
_PARA_TAGS = frozenset(("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "dd", "dt", "blockquote", "figcaption"))


def _locate(work: HtmlElement, article: HtmlElement) -> HtmlElement | None:
    """Where readability's article sits in our tree: the common ancestor of its
    first and last paragraphs, found by their text."""
    leaves = _leaf_blocks(article)
    # The first three and the last three paragraphs: only those are ever looked for.
    first = list(islice((el for el in leaves if _text_len(el) >= 80), 3))
    if not first:
        return None
    last = list(islice((el for el in reversed(leaves) if _text_len(el) >= 80), 3))
    found = []
    # A paragraph readability made from a <div> split by inline tags may have no
    # counterpart: the next one in from either end stands in for it.
    for tries in (first, last):
        hit = next((h for h in (_find_para(work, para) for para in tries) if h is not None), None)
        if hit is None:
            return None
        found.append(hit)
    first_path = [found[0], *found[0].iterancestors()]
    ancestors_of_last = {found[1], *found[1].iterancestors()}
    return next((el for el in first_path if el in ancestors_of_last), None)


def _find_para(work: HtmlElement, para: HtmlElement) -> HtmlElement | None:
    """The element of ``work`` whose text opens like ``para``."""
    key = _NORM.sub(" ", para.text_content()).strip()[:25]
    # Normalizing keeps letters and digits as they are, so the key's longest word
    # must be in the raw text: a substring test rules out nearly every element.
    word = max(key.split(" "), key=len)
    for el in work.iter():
        if not isinstance(el.tag, str):
            continue
        # Paragraph-like elements are small: their whole text is cheap to read, and
        # catches paragraphs that open with a link or <strong>.
        text = el.text_content() if el.tag in _PARA_TAGS else el.text
        if text and word in text[:200] and key in _NORM.sub(" ", text[:200]):
            return el
    return None


def _expand(node: HtmlElement, scores: _ProseScores) -> HtmlElement:
    """Grow readability's region to the enclosing block while what is added is prose.

    Guides and long reads split into sections often lose all but one section to
    readability's choice; chrome around the article is link-heavy or not prose,
    which stops the climb.
    """
    while True:
        parent = node.getparent()
        if parent is None or parent.tag in ("body", "html") or parent not in scores.total:
            return node
        extra_total = scores.total[parent] - scores.total.get(node, 0)
        # At most the text added: the node's own text runs are credited to its parent.
        extra_prose = min(scores.prose[parent] - scores.prose.get(node, 0), extra_total)
        extra_links = scores.links[parent] - scores.links.get(node, 0)
        if extra_total <= max(40, 0.05 * scores.total.get(node, 0)):
            node = parent  # a thin wrapper
        elif extra_prose >= 200 and extra_prose >= 0.6 * extra_total and extra_links <= 0.2 * extra_total:
            node = parent
        else:
            return node


def _restore_lead(article: HtmlElement, region: HtmlElement) -> None:
    """Put back the paragraphs of ``region`` before readability's first one that it dropped:
    a lead set apart in its own block (a media or "sourced paragraph" box) is the text's opening."""
    first = next((el for el in _leaf_blocks(article) if _text_len(el) >= 80), None)
    anchor = _find_para(region, first) if first is not None else None
    if anchor is None:
        return
    holders = set(anchor.iterancestors())
    lead = []
    for el in region.iter():  # in document order: the anchor's own paragraphs come after it
        if el is anchor or (el.tag == "p" and el in holders):
            break
        if el.tag == "p" and _text_len(el) >= 150 and _link_density(el) < 0.2:
            lead.append(el)
    if lead:
        _prepend_copies(article, _missing_from(article, lead)[-2:])


def _restore_lists(article: HtmlElement, region: HtmlElement) -> None:
    """Put back the lists and tables of ``region`` that readability dropped after a heading
    or a "...:" line it kept: a guide's checklists and steps, which it judges by their links.

    Lists mostly of links stay out: those are the page's, not the text's.
    """
    kept: dict[str, HtmlElement] | None = None
    have: str | None = None
    for lst in list(region.iter("ul", "ol", "table")):
        prev = lst.getprevious()
        head = _lead_in(prev) if prev is not None else None
        if head is None or next(lst.iterancestors("li"), None) is not None:
            continue
        if kept is None:
            kept = _lead_in_lines(article)
        anchor = kept.get(_norm_words(head))
        if anchor is None or anchor.getparent() is None:
            continue
        first = next((li for li in lst.iter("li", "tr") if li.text_content().strip()), None)
        if first is None or _link_density(lst) >= 0.5:
            continue
        if have is None:
            have = _norm_words(article.text_content())
        if _norm_words(first.text_content()) in have:
            continue
        copied = copy.deepcopy(lst)
        copied.tail = None
        anchor.addnext(copied)


def _restore_intro(article: HtmlElement, region: HtmlElement) -> None:
    """Put back the blocks before ``region`` that are paragraphs through and through: an
    introduction readability left out, in a block of its own before the body's."""
    intro: list[HtmlElement] = []
    node = region
    for _ in range(3):
        before = [el for el in node.itersiblings(preceding=True) if isinstance(el.tag, str)]
        node = node.getparent()
        if node is None or node.tag in ("body", "html"):
            break
        if not before:
            continue
        total = sum(_text_len(el) for el in before)
        if total < 150:
            break
        links = sum(_text_len(a) for el in before for a in el.iter("a"))
        sizes = [n for el in before for p in el.iter("p") if (n := _text_len(p)) >= 80]
        if len(sizes) < 2 or sum(sizes) < 0.6 * total or links > 0.1 * total:
            break
        intro = before[::-1] + intro
    if intro:
        _prepend_copies(article, _missing_from(article, intro))


def _missing_from(article: HtmlElement, blocks: list[HtmlElement]) -> list[HtmlElement]:
    """The blocks whose opening (60 characters, punctuation folded) is not in ``article``'s text."""
    have = _NORM.sub(" ", article.text_content())
    return [el for el in blocks if _NORM.sub(" ", el.text_content()).strip()[:60] not in have]


def _prepend_copies(article: HtmlElement, blocks: list[HtmlElement]) -> None:
    """Copies of ``blocks`` (without their tails) at the start of ``article``, in their order."""
    for el in reversed(blocks):
        block = copy.deepcopy(el)
        block.tail = None
        article.insert(0, block)


def _lead_in(el: HtmlElement) -> str | None:
    """The text of a heading, or of a paragraph ending in a colon: a line a list may follow."""
    if not isinstance(el.tag, str) or not (el.tag in _HEADINGS or el.tag == "p"):
        return None
    text = el.text_content()
    return None if el.tag == "p" and not text.rstrip().endswith(":") else text


def _lead_in_lines(article: HtmlElement) -> dict[str, HtmlElement]:
    """The lead-in lines of ``article`` (see ``_lead_in``), by their words."""
    kept: dict[str, HtmlElement] = {}
    for el in article.iter(*_HEADINGS, "p"):
        text = _lead_in(el)
        key = _norm_words(text) if text is not None else ""
        if key:
            kept.setdefault(key, el)
    return kept


def _dense_prose(el: HtmlElement, scores: _ProseScores) -> bool:
    """Whether a block is mostly prose with few links.

    Readability keeps its best block and only those siblings it likes: sections of
    one article laid out as sibling blocks lose all but a few. When the block
    spanning its first and last paragraphs is prose through and through, the
    sections it skipped are article too.
    """
    total = scores.total.get(el, 0)
    return total > 0 and scores.prose.get(el, 0) >= 0.6 * total and scores.links.get(el, 0) <= 0.1 * total


def _drop(el: HtmlElement) -> None:
    """Remove an element but keep its tail text (it belongs to the parent)."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail and tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _link_density(el: HtmlElement, total: int | None = None) -> float:
    """The share of ``el``'s text inside links; ``total``, when given, is ``_text_len(el)``, already known."""
    if total is None:
        total = _text_len(el)
    if not total:
        return 0.0
    links = sum(_text_len(a) for a in el.iter("a"))
    return links / total


_WITH_ATTR_WORDS = lxml.etree.XPath("descendant-or-self::*[@class or @id or @role]")


def _post_clean(article: HtmlElement, authors: Sequence[str] = ()) -> None:
    """Remove the residual chrome readability keeps: short boilerplate blocks, link lists, empties."""
    # Headings such as "3 Comments" first: the block clean-up below would remove
    # them as chrome and leave what follows them behind.
    _truncate_at_end_marker(article, headings_only=True)
    for el in list(article.iter("figcaption", "figure")):
        if el.getparent() is not None and (el.tag == "figcaption" or _shorter_than(el, 300)):
            _drop(el)
    # Only an element with a class, id or role has words to judge (the XPath selects them in C).
    for el in _WITH_ATTR_WORDS(article):
        if el.getparent() is not None and not _attr_words(el).isdisjoint(_CAPTION_WORDS):
            if _shorter_than(el, 300):
                _drop(el)
    for el in list(article.iter("p", "div", "li", "span", "h2", "h3", "h4", "h5", "h6", "strong", "em", "small", "b", "i")):
        if el.getparent() is None:
            continue
        raw = el.text_content()
        if len(raw) >= 200 and _solid_at_least(raw, 200):
            continue  # 200 characters or more whatever the spacing: not a short chrome line
        text = _collapse_spaces(raw).strip()
        if text and len(text) < 200 and _chrome_text(text):
            _drop(el)
    for lst in list(article.iter("ul", "ol")):
        if lst.getparent() is None:
            continue
        items = list(lst.iter("li"))
        if len(items) >= 2 and _link_density(lst) > 0.7 and _text_len(lst) / max(len(items), 1) < 120:
            _drop(lst)
    _drop_teaser_cards(article)
    _drop_boilerplate_blocks(article, authors)
    _drop_data_values(article)
    _truncate_at_end_marker(article, authors=authors)
    _drop_empty(article)


# A calendar date as listings print it: "March 27, 2025", "27 Mar 2025", "2025-03-27", "03/27/2025".
_CARD_DATE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}(?!\d)"
    r"|\b\d{1,2}(?:st|nd|rd|th)?\.?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s+\d{4}(?!\d)"
    r"|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{4}(?!\d)",
    re.IGNORECASE,
)


def _drop_teaser_cards(article: HtmlElement) -> None:
    """Dated teaser cards after the text: small <article> elements nested in the article,
    each with a link and a date (a "more posts" or "previous / next" list).

    Listicles mark their entries as <article>s too, but undated; and cards before any
    text are the page itself (a listing).
    """
    if article.find(".//article") is None:
        return
    cards: list[HtmlElement] = []
    first = -1
    done = 0
    for el in article.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag == "article" and el is not article and _teaser_card(el):  # no <article> inside: never nested
            cards.append(el)
            if first < 0:
                first = done
        done += len((el.text or "").strip()) + len((el.tail or "").strip())
    if len(cards) >= 2 and first >= 300:
        for card in cards:
            _drop(card)


def _teaser_card(el: HtmlElement) -> bool:
    """A short block holding a link (or inside one) and a date."""
    if el.find(".//article") is not None or not _shorter_than(el, 1000):
        return False
    if el.find(".//a[@href]") is None and next(el.iterancestors("a"), None) is None:
        return False
    return el.find(".//time") is not None or bool(_CARD_DATE.search(el.text_content()))


# Machine values that leak into text from microdata and hidden widgets.
_DATA_VALUE = re.compile(r"^(?:https?://\S+|\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?|\d+(?:\.\d+)?)$")


def _drop_data_values(article: HtmlElement) -> None:
    """Elements whose whole text is a URL, an ISO date or a bare number."""
    for el in list(article.iter()):
        if not isinstance(el.tag, str) or len(el) or el.getparent() is None or el.tag in ("td", "th", "li"):
            continue
        text = (el.text or "").strip()
        if text and _DATA_VALUE.match(text):
            _drop(el)


# Headings that open what comes after an article: comments, teasers, author boxes.
_END_MARKER = re.compile(
    r"""^\W*(?:
        (?:\d+\s+)?(?:top\s+rated\s+|reader\s+|recent\s+)?comments?(?:\s*\(\d+\))?
      | (?:leave|post|add|write)\s+a\s+(?:reply|comment|review)
      | (?:join|start)\s+the\s+(?:discussion|conversation)
      | (?:tell\s+us\s+)?what\s+do\s+you\s+think.{0,20} | tell\s+us\s+what\s+you\s+think.{0,20} | have\s+your\s+say
      | (?:related|similar|recommended|suggested|more|latest|popular|trending|top)\s+(?:articles?|stories|posts|news|reads?|reading|content|videos?|links?)
      | related | more\s+from\s+.{1,40} | more\s+in\s+.{1,40} | more\s+stories\s+.{0,40}
      | (?:you|we\s+think\s+you)\s+(?:may|might|could|will)\s+(?:also\s+)?(?:like|enjoy|be\s+interested\s+in)
      | (?:read|see|watch)\s+(?:next|also|more)
      | about\s+the\s+authors?
      | (?:share|like)\s+this(?:\s+(?:article|story|post))?
      | tags? | topics | filed\s+under | categories
      | (?:sign\s+up\s+for|subscribe\s+to)\s+(?:our|the)\s+.{0,40}newsletters?
    )\W*$""",
    re.IGNORECASE | re.VERBOSE,
)


def _truncate_at_end_marker(article: HtmlElement, *, headings_only: bool = False, authors: Sequence[str] = ()) -> None:
    """Cut everything from a marker like "Comments" or "Related stories" on.

    An author's name standing alone after the text opens the author box.

    Only after some text (300 characters and a fifth of the whole), so a marker
    word in the article's opening cannot cut the article.
    """
    names = {a.lower() for a in authors if a}
    # The lines that read as a marker, found first (most articles have none): the walk below then
    # only asks whether a line past the opening is one of them. A line is a leaf block, and in the
    # headings-only pass a heading.
    if headings_only:
        markers = {el for el in article.iter(*_HEADINGS) if _end_marker(el, names)}
        if markers:
            markers.intersection_update(_leaf_blocks(article))
    else:
        markers = {el for el in _leaf_blocks(article) if _end_marker(el, names)}
    if not markers:
        return
    total = _text_len(article)
    if not total:
        return
    done = 0
    for el in article.iter():
        if el in markers and done >= max(300, total * 0.2):
            _drop_following(el, article)
            return
        if isinstance(el.tag, str):
            done += len((el.text or "").strip()) + len((el.tail or "").strip())


def _end_marker(el: HtmlElement, names: set[str]) -> bool:
    """Whether ``el``'s text is an end marker or, alone, one of the authors' ``names`` (lowercased)."""
    raw = el.text_content()
    text = _collapse_spaces(raw).strip() if len(raw) < 80 or not _solid_at_least(raw, 80) else raw
    return len(text) < 80 and (_END_MARKER.match(text) is not None or text.lower() in names)


def _drop_following(el: HtmlElement, root: HtmlElement) -> None:
    """Remove ``el`` and everything after it in document order, up to ``root``."""
    node = el
    while node is not None and node is not root:
        parent = node.getparent()
        for sib in list(node.itersiblings()):
            parent.remove(sib)
        node.tail = None
        node = parent
    if el.getparent() is not None:
        el.getparent().remove(el)


_CAPTION_WORDS = frozenset(("caption", "captions", "credit", "credits", "photo-credit", "image-credit", "wp-caption-text"))
_UI_WORDS = frozenset(
    """close advert advertisement ad ads comments comment tags tag updated published share print email menu search
    loading previous next back voltar more skip top subscribe login""".split()
)
_SOCIAL = frozenset(
    "facebook twitter x whatsapp pinterest pint linkedin reddit telegram instagram youtube tiktok email mail print copy link".split()
)
_DATE_WORDS = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\b|\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*day\b"
    r"|\b\d{1,2}:\d{2}\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b(?:am|pm|a\.m\.|p\.m\.|gmt|utc|[ecmp][sd]t)\b"
    r"|\b(?:updated|published|posted|last\s+modified)\b",
    re.IGNORECASE,
)
# The lookbehind starts an address only where its run of address characters starts: without it a
# long run of letters with no "@" is retried from every position (quadratic).
_CONTACT = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.]+|(?:^|\s)@\w{2,}|twitter\.com/|(?:follow|reach|contact|email)\s+(?:him|her|them|us|me|the\s+\w+)\b", re.IGNORECASE)
_BYLINE_START = re.compile(r"^(?:by|written\s+by|reporting\s+by|por|von|par|di|door|av)\s+\S", re.IGNORECASE)
_WORD = re.compile(r"\w+")


_LINE_TAGS = _BLOCK_TAGS - {"br", "hr"}
_LINE_TAG_NAMES = tuple(sorted(_LINE_TAGS))


def _leaf_blocks(root: HtmlElement) -> list[HtmlElement]:
    """Block elements with no block inside: the units a reader sees as lines."""
    # Only the block elements are visited (lxml selects them by tag, in document order),
    # and each ancestor once: the walk up stops at one already known to hold a block.
    blocks = [el for el in root.iter(*_LINE_TAG_NAMES) if el is not root]
    holders: set[HtmlElement] = set()  # elements with a block element somewhere inside
    for el in blocks:
        parent = el.getparent()
        while parent is not None and parent not in holders:
            holders.add(parent)
            parent = parent.getparent()
    return [el for el in blocks if el not in holders]


# No test in _drop_boilerplate_blocks tells a line of _MANY_WORDS words from a longer one.
_MANY_WORDS = 60
_WORDS_PREFIX = 600


def _opening_words(text: str) -> list[str]:
    """The words of ``text`` when fewer than _MANY_WORDS; else at least that many of its first words
    (a paragraph has them in its first _WORDS_PREFIX characters: the rest is not split)."""
    words = _WORD.findall(text, 0, _WORDS_PREFIX)
    return words if len(words) >= _MANY_WORDS or len(text) <= _WORDS_PREFIX else _WORD.findall(text)


def _drop_boilerplate_blocks(article: HtmlElement, authors: Sequence[str]) -> None:
    """Bylines, date lines, contact lines, lone UI words and repeated lines.

    Judged per visible line (leaf block) with its position: bylines and dates sit
    at the top, contact lines at the bottom; a line repeated three times or more
    is template, a repeated line is shown once.
    """
    leaves = _leaf_blocks(article)
    if not leaves:
        return
    texts = [_collapse_spaces(el.text_content()).strip() for el in leaves]
    counts = Counter(t.lower() for t in texts if t)
    names = [a.lower() for a in authors if a and len(a) > 3]
    seen: set[str] = set()
    n = len(leaves)
    for i, (el, text) in enumerate(zip(leaves, texts)):
        if not text or el.getparent() is None:
            continue
        key = text.lower()
        words = _opening_words(key)
        nwords = len(words)
        head = i < max(3, n * 0.3)
        tail = i >= n - max(3, n * 0.2)
        drop = False
        if counts[key] >= 3 and (
            not any(c.isalpha() for c in key)
            or all(w in _UI_WORDS or w in _SOCIAL for w in (words if nwords < _MANY_WORDS else _WORD.findall(key)))
        ):
            drop = True
        elif key in seen and 8 <= nwords < _MANY_WORDS and el.tag not in ("li", "td", "th"):
            drop = True
        elif nwords <= 2 and el.tag not in _HEADINGS and el.tag != "li" and all(w in _UI_WORDS for w in words):
            drop = True
        elif head and nwords <= 12 and (_BYLINE_START.match(text) or any(name in key for name in names)):
            drop = True
        elif head and nwords <= 14 and _DATE_WORDS.search(text) and not text.rstrip().endswith((".", "!", "?")):
            drop = True
        elif tail and nwords <= 40 and _CONTACT.search(text):
            drop = True
        elif el.tag not in ("li", "td", "th") and nwords < 30 and _link_density(el, len(text)) >= 0.9:
            drop = True  # a "read also" link standing as its own line
        seen.add(key)
        if drop:
            _drop(el)


# A page title's parts: "Headline | Site", "Site - Headline", "Headline :: Section".
_TITLE_SPLIT = re.compile(r"\s+[|\-\u2013\u2014:\u00b7\u2022\u00bb/]+\s+|\s*[|\u2013\u2014\u00bb\u2022]\s*")


def _norm_words(text: str) -> str:
    return _NORM.sub(" ", text).strip().lower()


def _page_titles(tree: HtmlElement) -> set[str]:
    """The page's headline as its <title> and og:/twitter: title give it, whole and by parts."""
    head = tree.find("head")
    if head is None:
        return set()
    raw = []
    for el in head:
        if el.tag == "title":
            raw.append(el.text_content())
        elif el.tag == "meta" and (el.get("property") or el.get("name") or "").lower() in ("og:title", "twitter:title"):
            raw.append(el.get("content") or "")
    titles = set()
    for t in raw:
        titles.add(_norm_words(t))
        titles.update(_norm_words(part) for part in _TITLE_SPLIT.split(t))
    return {t for t in titles if t.count(" ") >= 1}


# Class words of an article's standfirst (the summary under the headline): the page's, not the text's.
_DEK_WORDS = frozenset(("dek", "standfirst"))


_COPYRIGHT = re.compile(
    r"^\W*\u00a9|\u00a9\s*\d{4}|\bcopyright\s*\u00a9|\bsubject\s+to\s+copyright\b|\ball\s+rights\s+reserved\b", re.IGNORECASE
)


# Lines that are the page's notes about the article wherever they stand: the desk's credits,
# social-media prompts, gallery counters, publication stamps.
_NOTE_TEXT = re.compile(
    r"""^\W*(?:
        (?:additional\s+)?reporting\s+by\b.{0,250}\bedit(?:ing|ed)\s+by\b.{0,150}$
      | follow\s+\S+(?:\s+\S+){0,3}\s+on\s+(?:twitter|facebook|instagram|youtube|linkedin|tiktok)\b.{0,150}$
      | (?:like|liked|enjoy|enjoyed)\s+this\s+(?:story|article|post)\?.{0,80}$
      | (?:image|photo|slide|picture)\s+\d+\s+(?:of|/)\s+\d+\W*$
      | (?:published|updated|posted|last\s+updated)\b[^.!?]{0,30}\b(?:\d{1,2}:\d{2}|\d{4})\b[^.!?]{0,80}$
      | (?:related(?:\s+(?:article|story|post|reading|coverage|content))?|recommended(?:\s+reading)?|read\s+(?:more|also|next)|also\s+read
        |more\s+reading|see\s+also|leia\s+mais|lea\s+m\u00e1s|leggi\s+anche|lire\s+aussi|mehr\s+dazu)\s*:\s*\S.{0,200}
      | (?:pin\s+(?:it|this|for\s+later)(?:\s+here|\s+now)?|scroll\s+(?:down\s+)?for\s+more|learn\s+more(?:\s*[\u2192\u203a\u00bb>])?
        |where\s+to\s+buy|\d+\s*min\.\s+read|trending\s*:?|watch\s+live|don\W?t\s+miss|share\s+your\s+story|written\s+by)$
    )""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)


# _END_MARKER's headings in other languages: comments, reviews, related and "you may also like".
_END_MARKER_INTL = re.compile(
    r"""^\W*(?:
        (?:voc\u00ea\s+)?(?:tamb\u00e9m\s+)?pode\s+(?:tamb\u00e9m\s+)?(?:gostar|se\s+interessar).{0,20}
      | (?:tambi\u00e9n\s+)?te\s+puede(?:n)?\s+(?:interesar|gustar).{0,20}
      | (?:posts|artigos|not\u00edcias|mat\u00e9rias|art\u00edculos|noticias|entradas|articoli|articles)\s+(?:relacionad[oa]s|correlati|similaires|similares|connexes)
      | vous\s+aimerez\s+(?:aussi|\u00e9galement).{0,20} | sur\s+le\s+m\u00eame\s+sujet | potrebbe(?:ro)?\s+interessarti.{0,20}
      | (?:das\s+)?k\u00f6nnte\s+(?:sie|dich)\s+auch\s+interessieren | (?:\u00e4hnliche|weitere)\s+(?:artikel|beitr\u00e4ge) | mehr\s+zum\s+thema
      | (?:\d+\s+)?(?:coment\u00e1rios|comentarios|commentaires|kommentare|commenti|\u043a\u043e\u043c\u043c\u0435\u043d\u0442\u0430\u0440\u0438\u0438|\u043e\u0442\u0437\u044b\u0432\u044b)(?:\s*\(\d+\))?
      | (?:deixe|deja|laisser|lascia)\s+(?:um|un|una)\s+(?:coment\u00e1rio|comentario|commentaire|commento|resposta|respuesta)
      | \u0434\u043e\u0431\u0430\u0432\u0438\u0442\u044c\s+(?:\u043e\u0442\u0437\u044b\u0432|\u043a\u043e\u043c\u043c\u0435\u043d\u0442\u0430\u0440\u0438\u0439)
      | (?:\u0447\u0438\u0442\u0430\u0439\u0442\u0435\s+\u0442\u0430\u043a\u0436\u0435|\u043f\u043e\u0445\u043e\u0436\u0438\u0435\s+\u0441\u0442\u0430\u0442\u044c\u0438|\u0441\u0430\u043c\u044b\u0435\s+\u043f\u043e\u043f\u0443\u043b\u044f\u0440\u043d\u044b\u0435).{0,30}
    )\W*$""",
    re.IGNORECASE | re.VERBOSE,
)


_HOVER_WORDS = frozenset(("tooltip", "popover", "hovercard", "rollover"))


@lru_cache(maxsize=_CACHED)
def _mark_kind(words: frozenset[str]) -> int:
    """1 for the class words of a caption ("newsCaption", "imageEmbedCaption") or a standfirst, 2 for a hover card's."""
    if not words.isdisjoint(_DEK_WORDS) or any("caption" in w for w in words):
        return 1
    return 2 if not words.isdisjoint(_HOVER_WORDS) else 0


def _drop_page_notes(article: HtmlElement, titles: set[str]) -> None:
    """What the page adds around the text, by class and by line.

    By class: captions and standfirsts (short blocks); cards shown on hovering a name
    in the text (a picture or links), innermost first, as the outer element often
    holds the name itself. By line: the headline repeated at the top (the page's
    title, among the lines before the first paragraph); credits, prompts and stamps
    anywhere; copyright notices among the last lines; a non-English end marker
    cuts what follows it, after as much text as ``_truncate_at_end_marker`` needs.
    """
    for el in reversed(article.xpath(".//*[@class]")):
        kind = _mark_kind(_words_of(el.get("class")))
        if not kind or el.getparent() is None:
            continue
        if kind == 1:
            if _shorter_than(el, 300):
                _drop(el)
        elif not any(_mark_kind(_words_of(d.get("class"))) == 2 for d in el.xpath(".//*[@class]")):
            if el.find(".//img") is not None or len(el.findall(".//a")) >= 2:
                _drop(el)
    leaves = _leaf_blocks(article)
    texts = [el.text_content() for el in leaves]
    if titles:
        for el, text in zip(leaves[:4], texts):
            if len(text) > 150:
                break
            if _norm_words(text) in titles:
                _drop(el)
                break
    n = len(leaves)
    tail = n - max(3, n // 5)
    start = max(300, sum(map(len, texts)) * 0.2)
    done = 0
    for i, (el, text) in enumerate(zip(leaves, texts)):
        size = len(text)
        if size < 400 and el.getparent() is not None:
            line = text.strip()
            if _NOTE_TEXT.match(line) or (
                i >= tail and size < 300 and el.tag not in ("li", "td", "th")
                and ("\u00a9" in line or "ight" in line or "IGHT" in line) and _COPYRIGHT.search(line)
            ):
                _drop(el)
                continue
            if size < 80 and done >= start and _END_MARKER_INTL.match(line):
                _drop_following(el, article)
                return
        done += size


def _drop_empty(article: HtmlElement) -> None:
    for el in reversed(list(article.iter())):
        if el is article or not isinstance(el.tag, str) or el.tag in ("img", "br", "hr", "td", "th"):
            continue
        if len(el) == 0 and not (el.text or "").strip():
            _drop(el)


def _strip_attributes(article: HtmlElement) -> None:
    for el in article.iter(lxml.etree.Element):
        names = el.keys()
        if not names:
            continue
        keep = _KEEP_ATTRS.get(el.tag)
        if keep is None:
            el.attrib.clear()
            continue
        attrib = el.attrib
        for name in names:
            if name not in keep:
                del attrib[name]


def tree_to_text(root: HtmlElement) -> str:
    """Readable text: blocks separated by a blank line, list items and headings on their own lines."""
    blocks: list[tuple[str, str]] = []
    buf: list[str] = []

    def flush(kind: str) -> None:
        if not buf:  # a block right after another: nothing between them
            return
        text = _collapse_spaces("".join(buf))
        lines = [ln.strip() for ln in text.split("\n")]
        joined = "\n".join(ln for ln in lines if ln)
        if joined:
            blocks.append((kind, joined))
        buf.clear()

    def inline(text: str, pre: bool) -> str:
        # Source line breaks are spaces in HTML, except inside <pre>.
        return text if pre else text.replace("\n", " ")

    def walk(el: HtmlElement, kind: str, pre: bool) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        block = tag in _BLOCK_TAGS
        if tag == "br":
            buf.append("\n")
        elif block:
            flush(kind)
            if tag == "li":
                kind = "li"
            elif tag in _HEADINGS:
                kind = "h"
        if tag and tag != "br":
            inner = pre or tag == "pre"
            if el.text:
                buf.append(inline(el.text, inner))
            for child in el:
                walk(child, kind, inner)
                if isinstance(child.tag, str) and child.tag in ("td", "th"):
                    buf.append(" ")
            if block:
                flush(kind)
        if el.tail:
            buf.append(inline(el.tail, pre))

    walk(root, "p", False)
    flush("p")
    out: list[str] = []
    prev_kind = ""
    for kind, text in blocks:
        if out:
            out.append("\n" if kind == "li" and prev_kind == "li" else "\n\n")
        out.append(text)
        prev_kind = kind
    return "".join(out).strip()
