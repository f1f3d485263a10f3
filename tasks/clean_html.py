"""Article body from an HTML page: chrome pruning, readability-lxml, residual clean-up.

The page is parsed once (``parse_html``); metadata is read from that tree before
anything here runs, and this module works on its own copy. Readability finds the
article; what it is known to keep (share bars, "Related" lists, newsletter boxes,
credits) is removed before and after it.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import lxml.etree
import lxml.html
from lxml.html import HtmlElement
from readability import Document
from readability.readability import Unparseable

__all__ = ["CleanedBody", "HtmlParseError", "clean_html_tree", "parse_html", "tree_to_text"]

_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False, default_doctype=False)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)

# Elements that never carry article text.
_DROP_TAGS = (
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed", "link", "meta",
    "input", "select", "option", "datalist",
)
# Widgets: dropped unless broken markup made them swallow the page (an unclosed
# <button> can end up containing <main>).
_WIDGET_TAGS = frozenset(("button", "textarea", "label", "dialog", "map", "form"))
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

# Short blocks whose wording is chrome in any site's template.
_CHROME_TEXT = re.compile(
    r"""^\W*(?:
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
      | (?:previous|next)\s+(?:article|post|story)\b.{0,150}$
      | (?:image|photo|picture)\s*(?:credit|source)?\s*:\s*.{0,80}$
      | also\s+(?:on|read|see|in)\b.{0,150}$
      | .{0,100}\bdelivered\s+(?:to|through|straight\s+to|right\s+to)\s+your\s+(?:inbox|letterbox|mailbox|door)\b.{0,150}$
      | .{0,80}\b(?:requires|enable)\s+javascript\b.{0,40}$
      | [^.!?]{0,80}\b(?:getty\s+images|shutterstock|istock(?:photo)?|ap\s+photo|afp\s+photo|reuters/|epa-efe)\b[^.!?]{0,40}$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_BLOCK_TAGS = frozenset(
    "p div section article main header footer aside nav h1 h2 h3 h4 h5 h6 ul ol li dl dt dd "
    "blockquote pre table thead tbody tfoot tr figure figcaption address hr br center details summary".split()
)
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
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
    try:
        root = lxml.html.document_fromstring(text, parser=_PARSER)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise HtmlParseError(f"unparsable HTML: {exc}") from None
    if root is None:
        raise HtmlParseError("unparsable HTML: empty document")
    return root


def clean_html_tree(tree: HtmlElement, url: str | None = None, authors: Sequence[str] = ()) -> CleanedBody:
    """The article body of ``tree`` (not modified) as text and as cleaned HTML.

    ``authors`` (from the page's metadata) lets byline blocks be recognised and removed.
    """
    work = copy.deepcopy(tree)
    _prune(work)
    try:
        summary = _Readability(work, url=url).summary(html_partial=True)
    except Unparseable:
        summary = ""
    article = _fragment(summary)
    scores = _score_prose(work)
    container = scores.best
    prose = scores.prose[container] if container is not None else 0
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
        if grown is not None and grown is not region and scores.total[grown] > 1.2 * _text_len(article):
            article = copy.deepcopy(grown)
            article.tail = None
    if article is None:
        return CleanedBody(text="", html="")
    _post_clean(article, authors)
    text = tree_to_text(article)
    _strip_attributes(article)
    html = lxml.html.tostring(article, encoding="unicode", method="html")
    return CleanedBody(text=text, html=html)


class _Readability(Document):
    """Readability that parses from a fresh copy of our tree on every retry.

    Given a tree, readability-lxml mutates it and would re-run its lenient retry
    on the already-mutilated tree; a deep copy is far cheaper than re-parsing.
    """

    def _parse(self, input: HtmlElement) -> HtmlElement:  # noqa: A002 - readability's name
        return super()._parse(copy.deepcopy(input))


def _fragment(summary: str) -> HtmlElement | None:
    if not summary or not summary.strip():
        return None
    try:
        return lxml.html.fragment_fromstring(summary, create_parent="div", parser=_PARSER)
    except (lxml.etree.ParserError, ValueError):
        return None


def _text_len(el: HtmlElement) -> int:
    return len(_SPACES.sub(" ", el.text_content()).strip())


def _attr_words(el: HtmlElement) -> set[str]:
    value = f"{el.get('class', '')} {el.get('id', '')} {el.get('role', '')}".lower()
    if not value.strip():
        return set()
    parts = value.split()
    words = set(parts)
    for part in parts:
        words.update(w for w in _WORD_SPLIT.split(part) if w)
    return words


def _prune(root: HtmlElement) -> None:
    """Remove what is never article text, before readability scores the page."""
    for el in list(root.iter(*_DROP_TAGS)):
        _drop(el)
    for el in list(root.iter(lxml.etree.Comment)):
        _drop(el)
    body = root.find("body")
    total = _text_len(body if body is not None else root) or 1
    protected = _main_text_path(root)
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el.getparent() is None or el in protected:
            continue
        if el.tag in ("html", "body", "article", "main") or el.get("itemprop") == "articleBody":
            continue
        hidden = (
            el.get("hidden") is not None
            or el.get("aria-hidden") == "true"
            or _HIDDEN_STYLE.search(el.get("style", "") or "")
        )
        chrome = el.tag in _CHROME_TAGS or el.tag in _WIDGET_TAGS or el.get("role") in ("navigation", "complementary", "contentinfo", "banner")
        weak = False
        if not chrome:
            words = _attr_words(el)
            if words:
                chrome = not words.isdisjoint(_STRONG_CHROME)
                weak = not chrome and not words.isdisjoint(_WEAK_CHROME)
        if hidden and not chrome and _collapsed_prose(el):
            # A collapsed accordion or "read more" section: content, only hidden
            # until clicked. Unhide it so readability does not drop it either.
            el.attrib.pop("hidden", None)
            el.attrib.pop("style", None)
            el.attrib.pop("aria-hidden", None)
        elif hidden or chrome:
            if _text_len(el) < total * 0.3:
                _drop(el)
        elif weak:
            size = _text_len(el)
            if size < 150 or _link_density(el) > 0.5:
                _drop(el)


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
        kids = [c for c in el if isinstance(c.tag, str)]
        own = len((el.text or "").strip()) + sum(len((c.tail or "").strip()) for c in el)
        direct[el] = own if own >= _PROSE_MIN and el.tag not in _INLINE_SKIP else 0
        runs = [direct[c] for c in kids if direct[c]]
        total[el] = own + sum(total[c] for c in kids)
        if len(kids) == 1 and runs and runs[0] < 300 and not direct[el] and total[el] - runs[0] <= 5:
            # A wrapper around one paragraph (<div class="paragraph"><p>...</p></div>)
            # stands for that paragraph: its parent judges it among its siblings.
            direct[el] = runs[0]
            runs = []
        credited = sum(runs) if len(runs) >= 2 else sum(r for r in runs if r >= 300)
        prose[el] = credited + sum(prose[c] for c in kids)
        links[el] = total[el] if el.tag == "a" else sum(links[c] for c in kids)
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
    paras = [el for el in _leaf_blocks(article) if _text_len(el) >= 80]
    if not paras:
        return None
    found = []
    for para in (paras[0], paras[-1]):
        key = _NORM.sub(" ", para.text_content()).strip()[:25]
        hit = None
        for el in work.iter():
            if not isinstance(el.tag, str):
                continue
            # Paragraph-like elements are small: their whole text is cheap to read, and
            # catches paragraphs that open with a link or <strong>.
            text = el.text_content() if el.tag in _PARA_TAGS else el.text
            if text and key in _NORM.sub(" ", text[:200]):
                hit = el
                break
        if hit is None:
            return None
        found.append(hit)
    first_path = [found[0], *found[0].iterancestors()]
    ancestors_of_last = {found[1], *found[1].iterancestors()}
    return next((el for el in first_path if el in ancestors_of_last), None)


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
        extra_prose = scores.prose[parent] - scores.prose.get(node, 0)
        extra_links = scores.links[parent] - scores.links.get(node, 0)
        if extra_total <= max(40, 0.05 * scores.total.get(node, 0)):
            node = parent  # a thin wrapper
        elif extra_prose >= 200 and extra_prose >= 0.6 * extra_total and extra_links <= 0.2 * extra_total:
            node = parent
        else:
            return node


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


def _link_density(el: HtmlElement) -> float:
    total = _text_len(el)
    if not total:
        return 0.0
    links = sum(_text_len(a) for a in el.iter("a"))
    return links / total


def _post_clean(article: HtmlElement, authors: Sequence[str] = ()) -> None:
    """Remove the residual chrome readability keeps: short boilerplate blocks, link lists, empties."""
    # Headings such as "3 Comments" first: the block clean-up below would remove
    # them as chrome and leave what follows them behind.
    _truncate_at_end_marker(article, headings_only=True)
    for el in list(article.iter("figcaption", "figure")):
        if el.getparent() is not None and (el.tag == "figcaption" or _text_len(el) < 300):
            _drop(el)
    for el in list(article.iter()):
        if isinstance(el.tag, str) and el.getparent() is not None and not _attr_words(el).isdisjoint(_CAPTION_WORDS):
            if _text_len(el) < 300:
                _drop(el)
    for el in list(article.iter("p", "div", "li", "span", "h2", "h3", "h4", "h5", "h6", "strong", "em", "small", "b", "i")):
        if el.getparent() is None:
            continue
        text = _SPACES.sub(" ", el.text_content()).strip()
        if text and len(text) < 200 and _CHROME_TEXT.match(text):
            _drop(el)
    for lst in list(article.iter("ul", "ol")):
        if lst.getparent() is None:
            continue
        items = [li for li in lst.iter("li")]
        if len(items) >= 2 and _link_density(lst) > 0.7 and _text_len(lst) / max(len(items), 1) < 120:
            _drop(lst)
    _drop_boilerplate_blocks(article, authors)
    _drop_data_values(article)
    _truncate_at_end_marker(article, authors=authors)
    _drop_empty(article)


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
    total = _text_len(article)
    if not total:
        return
    leaves = set(_leaf_blocks(article))
    names = {a.lower() for a in authors if a}
    done = 0
    for el in article.iter():
        if el in leaves and done >= max(300, total * 0.2) and (not headings_only or el.tag in _HEADINGS):
            text = _SPACES.sub(" ", el.text_content()).strip()
            if len(text) < 80 and (_END_MARKER.match(text) or text.lower() in names):
                _drop_following(el, article)
                return
        if isinstance(el.tag, str):
            done += len((el.text or "").strip()) + len((el.tail or "").strip())


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
_CONTACT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|(?:^|\s)@\w{2,}|twitter\.com/|(?:follow|reach|contact|email)\s+(?:him|her|them|us|me|the\s+\w+)\b", re.IGNORECASE)
_BYLINE_START = re.compile(r"^(?:by|written\s+by|reporting\s+by|por|von|par|di|door|av)\s+\S", re.IGNORECASE)
_WORD = re.compile(r"\w+")


def _leaf_blocks(root: HtmlElement) -> list[HtmlElement]:
    """Block elements with no block inside: the units a reader sees as lines."""
    leaves = []
    for el in root.iter():
        if not isinstance(el.tag, str) or el.tag not in _BLOCK_TAGS or el.tag in ("br", "hr") or el is root:
            continue
        if not any(isinstance(d.tag, str) and d.tag in _BLOCK_TAGS and d.tag not in ("br", "hr") for d in el.iterdescendants()):
            leaves.append(el)
    return leaves


def _drop_boilerplate_blocks(article: HtmlElement, authors: Sequence[str]) -> None:
    """Bylines, date lines, contact lines, lone UI words and repeated lines.

    Judged per visible line (leaf block) with its position: bylines and dates sit
    at the top, contact lines at the bottom; a line repeated three times or more
    is template, a repeated line is shown once.
    """
    leaves = _leaf_blocks(article)
    if not leaves:
        return
    texts = [_SPACES.sub(" ", el.text_content()).strip() for el in leaves]
    counts = Counter(t.lower() for t in texts if t)
    names = [a.lower() for a in authors if a and len(a) > 3]
    seen: set[str] = set()
    n = len(leaves)
    for i, (el, text) in enumerate(zip(leaves, texts)):
        if not text or el.getparent() is None:
            continue
        key = text.lower()
        words = _WORD.findall(key)
        nwords = len(words)
        head = i < max(3, n * 0.3)
        tail = i >= n - max(3, n * 0.2)
        drop = False
        if counts[key] >= 3 and (not any(c.isalpha() for c in key) or all(w in _UI_WORDS or w in _SOCIAL for w in words)):
            drop = True
        elif key in seen and 8 <= nwords < 60 and el.tag not in ("li", "td", "th"):
            drop = True
        elif nwords <= 2 and el.tag not in _HEADINGS and el.tag != "li" and all(w in _UI_WORDS for w in words):
            drop = True
        elif head and nwords <= 12 and (_BYLINE_START.match(text) or any(name in key for name in names)):
            drop = True
        elif head and nwords <= 14 and _DATE_WORDS.search(text) and not text.rstrip().endswith((".", "!", "?")):
            drop = True
        elif tail and nwords <= 40 and _CONTACT.search(text):
            drop = True
        elif el.tag not in ("li", "td", "th") and nwords < 30 and _link_density(el) >= 0.9:
            drop = True  # a "read also" link standing as its own line
        seen.add(key)
        if drop:
            _drop(el)


def _drop_empty(article: HtmlElement) -> None:
    for el in reversed(list(article.iter())):
        if el is article or not isinstance(el.tag, str) or el.tag in ("img", "br", "hr", "td", "th"):
            continue
        if len(el) == 0 and not (el.text or "").strip():
            _drop(el)


def _strip_attributes(article: HtmlElement) -> None:
    for el in article.iter():
        if not isinstance(el.tag, str):
            continue
        keep = _KEEP_ATTRS.get(el.tag, ())
        for name in list(el.attrib):
            if name not in keep:
                del el.attrib[name]


def tree_to_text(root: HtmlElement) -> str:
    """Readable text: blocks separated by a blank line, list items and headings on their own lines."""
    blocks: list[tuple[str, str]] = []
    buf: list[str] = []

    def flush(kind: str) -> None:
        text = _SPACES.sub(" ", "".join(buf))
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
