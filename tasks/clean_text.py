"""Clean plain-text captures of web pages (a rendered page copied as text).

Readability works on HTML structure, which a text capture no longer has, so this
module rebuilds the little structure that survives: lines, blank-line gaps and
bullet glyphs. Each line (a bullet item with its continuation lines counts as one
unit) is classified as

* ``prose``: a sentence-like line (long enough, ends with ``.``, ``!`` or ``?``,
  or their full-width forms ``。``, ``！``, ``？``),
* ``hard`` chrome: widgets that close an article (share bars, related-story
  headings, comment forms, previous/next links, copyright and legal footers),
* ``soft`` chrome: widgets that may sit inside an article and are only dropped
  (ads, newsletter boxes, error banners, sign-in prompts, search boxes),
* ``other``: headings, captions, menu items, bylines, teaser headlines.

Prose units are grouped into clusters that no hard chrome crosses and whose
gaps of non-prose lines stay small; the cluster with the most connected prose is
the article. Title, byline, date and site name come from the lines around it.
Everything is plain ``re`` plus linear scans, so pathological input stays cheap.

Lengths and word counts were made for alphabets with spaces. Chinese and
Japanese have no spaces, and one of their characters (like a Hangul syllable)
stands for several Latin letters, so a line's size counts each Han, kana or
Hangul character as ``_WIDE_CHAR`` characters and its words count one per
``_CHARS_PER_WORD`` Han or kana characters: a Chinese paragraph then measures
like its English translation, and the same thresholds apply to both.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = ["TextArticle", "clean_text_capture"]


@dataclass
class TextArticle:
    """The article found in a text capture; ``text`` is empty when none was found."""

    title: str | None
    text: str
    authors: list[str] = field(default_factory=list)
    date_text: str | None = None
    site_name: str | None = None


# --------------------------------------------------------------------------- #
# Tunables
# --------------------------------------------------------------------------- #

_MAX_CHROME_LEN = 300
"""Chrome widgets are short; longer lines skip the phrase regexes (speed, safety)."""

_MAX_GAP = 3.0
"""Non-prose weight allowed between two prose units of one article (headings, a
byline of an embedded story, an ad marker) before the cluster is closed."""

_MIN_RUN_CHARS = 180
"""A page is an article only if some run of adjacent prose units is this long..."""

_MIN_SINGLE_CHARS = 400
"""...or one standalone prose paragraph is this long (teaser pages have neither)."""

_TEASER_MAX_CHARS = 220
"""Lone one-sentence prose units under headlines, trailing an article, are teasers."""

_WIDE_CHAR = 3
"""Latin characters one Han, kana or Hangul character stands for in sizes: an English word takes
about 6 characters with its space, a Chinese word under 2 characters (1.6 to 1.8 on average)."""

_CHARS_PER_WORD = 2
"""Han or kana characters per word. Korean is left to its spaces: it writes them between words."""

# --------------------------------------------------------------------------- #
# Line-level patterns
# --------------------------------------------------------------------------- #

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NEWLINES_RE = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_BULLET_RE = re.compile(r"^([ \t]*)[•◦▪▫●○■□‣⁃∙·*][ \t]+(?=\S)")
_CAMEL_RE = re.compile(r"(?<=[a-z])(?=[A-Z])")
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_INNER_SENTENCE_RE = re.compile(r"[.!?][\"'”’»)\]]*\s+\S|[。！？][」』”’）)\]]*\S")
_UNSPACED = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
"""Scripts written without spaces between words: Hiragana, Katakana, Han (CJK ideographs)."""
_UNSPACED_RE = re.compile(f"[{_UNSPACED}]")
_WIDE_RE = re.compile(f"[{_UNSPACED}\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
"""Characters that stand for several Latin letters: the scripts above and Hangul."""

_CLOSERS = "\"'”’»)]」』）】"
_TERMINALS = ".!?。！？"


def _rx(*alternatives: str) -> re.Pattern[str]:
    """Compile whole-line alternatives; chrome widgets fill their whole line.

    Callers pass lower-cased text: case-sensitive matching is ~2x faster than
    re.IGNORECASE, which matters because every line meets every family.
    """
    return re.compile(r"^(?:" + "|".join(alternatives) + r")$")


# Headings that open "more stories" blocks, which only come after an article.
_SECTION_HEADING_RE = _rx(
    r"(?:you (?:may|might|will|could) (?:also )?(?:like|love|enjoy|be interested in)|"
    r"related(?: (?:articles?|stories|story|posts?|news|content|coverage|topics|reading|links|videos))?|"
    r"more (?:stories|articles|news|headlines|coverage|videos|from .{1,40}|in .{1,30}|on (?:this|the) (?:topic|story|subject)|like this)|"
    r"most (?:popular|read|viewed|watched|shared|commented|emailed)(?: (?:posts|stories|articles|news|now|today|this week|videos))?|"
    r"popular(?: (?:posts|stories|articles|news|now|today|this week|videos))?|"
    r"trending(?: (?:now|stories|news|today|topics|articles))?|top (?:news|stories|headlines|picks|articles)|"
    r"latest(?: (?:news|stories|posts|articles|headlines|updates|videos))?|"
    r"recent (?:posts|articles|stories|news|comments)|"
    r"recommended(?: (?:for you|stories|reading|articles|videos))?|editor'?s'? (?:picks?|choice)|"
    r"don'?t miss(?: this)?|in case you missed it|(?:what to )?read (?:this )?next|up next|"
    r"(?:also )?(?:see|read) also|further reading|around the (?:web|site)|"
    r"sponsored (?:content|stories|links|posts)|promoted (?:stories|content|links)|"
    r"from (?:our|the) (?:partners|network|web|sponsors)|other (?:stories|news|articles)|"
    r"today'?s (?:top )?(?:headlines|stories)|about the authors?"
    r")\s*[:»›>]?"
)

# Comment sections and comment forms.
_COMMENTS_RE = _rx(
    r"(?:\d+\s+|reader )?comments?(?:\s*[(\[]\d+[)\]])?\s*:?|\d+\s+(?:responses?|replies)|repl(?:y|ies)",
    r"no (?:comments?|responses?|replies)(?: yet)?\s*[:.]?",
    r"(?:leave|post|add|write|submit|join) (?:a|your|the) (?:reply|comment|response|conversation|discussion)\b.*",
    r"(?:join|start) the (?:conversation|discussion)\b.*",
    r"please enter (?:your|a) (?:comment|name|e-?mail|website)\b.*",
    r"(?:show|view|load|read|see|hide) (?:all |more |the )?(?:\d+ )?comments?\b.*",
    r"comments? (?:are|is) (?:closed|disabled)\b.*",
    r"(?:log|sign) ?in to (?:comment|reply|join)\b.*",
    r"you must be (?:logged|signed) in\b.*",
    r"(?:your )?e-?mail address will not be published\b.*",
    r"required fields are marked\b.*",
    r"be the first to (?:comment|reply)\b.*",
    r"notify me of\b.*",
    r"save my name, e-?mail\b.*",
    r"(?:cancel reply|post comment|submit comment)",
)

# Pagination between stories and end-of-article markers.
_ARTICLE_END_RE = _rx(
    r"(?:previous|next|prev|older|newer)\s*[:»›>]?",
    r"(?:previous|next|prev|older|newer) (?:article|post|story|entry|page|item)\b.*",
    r"[«‹<]\s*(?:previous|prev|older)\b.*",
    r"[^.!?]{0,80}\b(?:next|newer)\s*[»›>]",
    r"(?:read|view|see) (?:the )?(?:original|full|complete) (?:article|story|post|report)\b.*",
    r"(?:this (?:article|story|post) )?(?:was )?originally (?:appeared|published|posted) (?:on|in|at)\b.*",
    r"(?:tags?|tagged(?: with)?|filed under|topics?|categories|category|keywords)\s*:.*",
    r"(?:about|more (?:from|by)) the authors?\b.*",
)

# Copyright and legal footers.
_COPYRIGHT_RE = re.compile(
    r"©|\(c\)\s*\d{4}|^copyright\s*(?:©|\(c\)|\d{4})|\ball rights reserved\b", re.IGNORECASE
)
# Legal footer links. Alone on a line only the unambiguous ones count ("Jobs"
# could be an article subheading); in a '|'-separated row any of them do.
_LEGAL_STRICT_RE = _rx(
    r"privacy (?:policy|notice|statement|settings)|terms (?:of (?:use|service|sale)|and conditions|& conditions)",
    r"cookie (?:policy|settings|preferences|notice)|accessibility statement|ad choices|sitemap|impressum",
    r"do not sell(?: or share)? my (?:personal )?info(?:rmation)?|(?:contact|about) us",
)
_LEGAL_ITEM_RE = _rx(
    r"privacy(?: (?:policy|notice|statement|settings|centre|center))?",
    r"terms(?: (?:of (?:use|service|sale)|and conditions|& conditions))?",
    r"(?:digital products )?terms of (?:use|service|sale)",
    r"cookies?(?: (?:policy|settings|preferences|notice))?",
    r"accessibility(?: statement)?",
    r"(?:contact|about)(?: us)?|imprint|impressum|legal(?: notice)?|disclaimer|sitemap|site map",
    r"careers|jobs|advertise(?: with us)?|ad choices|rss(?: feeds?)?|faq|help|newsletters?",
    r"do not sell(?: or share)? my (?:personal )?info(?:rmation)?",
    r"(?:rss )?terms of service|editorial (?:policy|standards|guidelines)",
)

# Social / share widgets: every token is a social word or filler.
_SOCIAL_STRONG = frozenset(
    "share shares shared sharing tweet facebook twitter youtube instagram linkedin "
    "pinterest reddit whatsapp telegram tumblr tiktok flipboard messenger medium quora "
    "follow like likes connect bluesky threads mastodon snapchat vk weibo wechat line "
    "pocket digg mix google".split()
)
_SOCIAL_FILLER = frozenset(
    "us on this article story post page via the with x email e mail print copy link "
    "save comment comments to it k m and or".split()
)

# Ads, error banners, search boxes, cookie banners, newsletter boxes: dropped,
# but they never close an article because sites inject them between paragraphs.
# These phrasings do not occur as whole lines of news prose.
_SOFT_RE = _rx(
    r"[-–—\s]*(?:advertisement|advertising|advert|ad|ads|ad image|sponsored|promoted|"
    r"paid (?:content|post|partnership)|partner content|"
    r"(?:story|article|text) continues below(?: (?:advertisement|this ad))?|"
    r"continue reading (?:below|the main story)|scroll (?:down )?to (?:continue|read)(?: with content)?|"
    r"ad loading|report (?:this )?ad)[-–—\s]*",
    r"by (?:signing up|subscribing|registering|clicking|continuing)\b.{0,80}"
    r"\b(?:agree|accept|consent|terms|privacy|policy)\b.{0,120}",
    r"(?:oops!?\s*)?(?:something went wrong|an error (?:has )?occurred)[.!]?"
    r"(?:\s*please (?:try again|refresh(?: the page)?)(?: later)?[.!]?)?",
    r"oops\b.{0,200}|please try again(?: later)?[.!]?",
    r"(?:page )?not found|404\b.{0,60}|loading(?:\.\.\.|…)?",
    r"search(?: for| here| this site| the site)?\s*(?:\.\.\.|…|:)?",
    r"(?:type|press enter) to search\b.{0,40}",
    r"(?:accept|reject|allow|decline|manage|customi[sz]e)(?: all)?(?: cookies| preferences| settings| choices)?|"
    r"(?:i )?(?:agree|accept|got it|ok(?:ay)?)!?|no,? thanks",
    r"(?:read|see|show|view|load|click for|continue reading|read the rest)?\s*more"
    r"(?: (?:stories|news|articles|photos|videos|comments|details))?\s*(?:\.\.\.|…|»|›|>|→|\+)?",
    r"continue reading(?:\.\.\.|…|»|›|>|→)?|read (?:the )?full (?:story|article)",
    r"(?:related|read more|more|see also|also read|read also|also see|recommended|watch|listen)\s*:.{0,200}",
    r"(?:menu|close|open|toggle (?:navigation|menu)|skip to (?:main )?content|back to top|home|"
    r"font (?:size|resizer)\b.*|text size|listen(?: to (?:this )?(?:article|story))?|"
    r"\d+\s*min(?:ute)?s?\s+read|reading time\b.{0,30}|print(?: this)?(?: (?:article|page|story))?|"
    r"(?:share|copy) link|link copied|bookmark|save(?: (?:article|story|for later))?|gift (?:this )?article)",
    r"(?:photo|image|picture|video|credit|source|getty images|file photo)\s*:?",
    r"(?:your |enter (?:your )?)?(?:e-?mail(?: address)?|name|password|username|first name|last name|website)\s*[:*]?",
    r"remember me|keep me (?:signed|logged) in|welcome back!?|my account|forgot (?:your )?password\??",
)

# The same families when the tell-tale phrase sits inside a longer line
# ("Get the day's top stories delivered to your inbox.", cookie banners).
_SOFT_CONTAINS_RE = re.compile(
    r"\b(?:our|your) (?:[\w-]+ ){0,2}(?:newsletters?|inbox)\b|\bunsubscribe\b|"
    r"\benabled? javascript\b|\bjavascript (?:is )?(?:disabled|required)\b|"
    r"\bwhat are you looking for\b|"
    r"\b(?:we|this (?:site|website)|our (?:site|website|partners)) (?:use|uses|store|set|and our partners use)\b"
    r".{0,60}\bcookies?\b|"
    r"\bcookies?\b.{0,80}\b(?:you (?:agree|accept|consent)|our (?:cookie )?policy|cookie settings)\b"
)

# Sign-in and subscription prompts. Prose can start this way ("Join the march,
# organisers said."), so these only count on lines that are not sentences.
_SOFT_NONPROSE_RE = _rx(
    r"(?:subscribe|sign up|signup|register|join(?: now| us| free)?|get (?:our|the) newsletter)\b.{0,100}",
    r"(?:sign|log) ?(?:in|on|out|up)(?: (?:to|with|or|for)\b.{0,80})?",
    r".{0,60}\b(?:have|don'?t have|already have|need) an? (?:existing |free )?account\b.{0,60}",
    r"(?:forgot|lost|reset|forgotten) (?:your )?(?:password|username)\b.{0,40}",
    r"create (?:an |your |a free )?account\b.{0,60}|click here\b.{0,60}",
)

_ROLE_RE = re.compile(
    r"\b(?:editor(?:ial)?|board|staff|reporter|correspondent|writer|contributor|columnist|"
    r"desk|team|author|journalist|producer|analyst|bureau|newsroom|wire|agency|"
    r"senior|chief|editors)\b",
    re.IGNORECASE,
)
_BYLINE_PREFIX_RE = re.compile(
    r"^(?:(?:analysis|opinion|commentary|review|interview|column|words|story|text|reporting|"
    r"written|posted|published|compiled) )?(?:by|author|authors|von|par|por)\s*:?\s+(?=\S)",
    re.IGNORECASE,
)
_NAME_RE = re.compile(
    r"^(?:[A-ZÀ-ÖØ-Þ][\w'’.-]*|de|da|van|von|der|den|del|la|le|du|bin|al|y)"
    r"(?: (?:[A-ZÀ-ÖØ-Þ][\w'’.-]*|de|da|van|von|der|den|del|la|le|du|bin|al|y)){0,4}$"
)
_CAPTION_RE = re.compile(
    r"\b(?:photo(?:graph)?s?|picture|image|illustration|video)s? (?:by|courtesy|credit|via)\b|"
    r"\bgetty ?images\b|\bshutterstock\b|\b(?:photo|image|picture) credit\b|\bcredit\s*(?::|\.\.\.|…)|"
    r"\bfile (?:photo|picture|image)\b|\b(?:photo|image|picture)\s*:",
    re.IGNORECASE,
)

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = (
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)\.?"
)
_DATE_CORE = (
    rf"(?:{_WEEKDAY},?\s+)?(?:\d{{1,2}}(?:st|nd|rd|th)?\.?\s+{_MONTH},?\s+\d{{4}}|"
    rf"{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{4}}-\d{{1,2}}-\d{{1,2}}|"
    r"\d{4}\s?年\s?\d{1,2}\s?月\s?\d{1,2}\s?[日号]|"
    rf"\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}})"
)
_TIME = r"(?:\d{1,2}[:.]\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?(?:\s*[A-Z]{2,5}(?:[+-]\d{1,2})?)?)"
_DATE_LINE_RE = re.compile(
    rf"^(?:(?:published|updated|posted|last updated|first published|last modified|date|on)\b\s*(?:on|at)?\s*:?\s*)?"
    rf"(?P<date>{_DATE_CORE}(?:\s*(?:,|at|-|–|—|\||/)?\s*{_TIME})?)\s*\.?$",
    re.IGNORECASE,
)
_DATELINE_RE = re.compile(
    rf"^(?:[A-Z][A-Za-z .'’-]{{1,40}},\s+)?({_MONTH}\s+\d{{1,2}}(?:,\s*\d{{4}})?\s*\([A-Za-z][\w .&/-]{{0,30}}\))\s*[—–-]",
    re.IGNORECASE,
)
_COPYRIGHT_NAME_RE = re.compile(
    r"(?:©|\(c\)|copyright)\s*(?:©\s*)?(?:\d{4}(?:\s*[-–]\s*\d{4})?\s*)?,?\s*"
    r"(?P<name>[^.|,©\n]{2,60}?)\s*(?:[.,|]|\ball rights reserved|$)",
    re.IGNORECASE,
)
_CORPORATE_SUFFIX_RE = re.compile(
    r"\s*(?:,\s*)?\b(?:ltd|limited|inc|llc|plc|gmbh|s\.?a|corp|co)\.?$", re.IGNORECASE
)
_BREADCRUMB_SPLIT_RE = re.compile(r"\s[>»›]\s")
_LEGAL_SPLIT_RE = re.compile(r"\s*[|·•]\s*")
_SEGMENT_SPLIT_RE = _LEGAL_SPLIT_RE
_NAME_SPLIT_RE = re.compile(r"\s*,\s*|\s+(?:and|&)\s+")
_WORD_SPLIT_RE = re.compile(r"[^A-Za-z0-9]+")


# --------------------------------------------------------------------------- #
# Units
# --------------------------------------------------------------------------- #


@dataclass(slots=True)
class _Unit:
    """One logical line of the capture: a line, or a bullet item with its continuation."""

    text: str
    bullet: bool
    blank_before: bool
    blank_after: bool = False
    key: str = ""
    size: int = 0
    """``_size`` of the text."""
    kind: str = "other"
    repeats: int = 1
    is_date: bool = False
    is_byline: bool = False
    is_breadcrumb: bool = False
    in_repeated_block: bool = False


def _normalize(text: str) -> str:
    """Unify line breaks and drop control characters so later scans see clean lines."""
    if _NEWLINES_RE.search(text):
        text = _NEWLINES_RE.sub("\n", text)
    if _CONTROL_RE.search(text):
        text = _CONTROL_RE.sub("", text)
    return text


def _fold(line: str) -> str:
    """Collapse whitespace runs to one space (str.split is far faster than re.sub)."""
    return " ".join(line.split())


def _count(chars: re.Pattern[str], text: str) -> int:
    """How many characters of ``text`` match ``chars`` (removing them is twice as fast as findall)."""
    return len(text) - len(chars.sub("", text))


def _size(text: str) -> int:
    """Length of a line in Latin-letter terms (see ``_WIDE_CHAR``): what the length thresholds compare."""
    if text.isascii():
        return len(text)
    return len(text) + (_WIDE_CHAR - 1) * _count(_WIDE_RE, text)


def _word_count(text: str) -> int:
    """Words of a folded line: its space-separated tokens, a token in Han or kana one per ``_CHARS_PER_WORD``."""
    if text.isascii() or not _UNSPACED_RE.search(text):
        return text.count(" ") + 1
    words = 0
    for token in text.split(" "):
        unspaced = _count(_UNSPACED_RE, token)
        words += -(-unspaced // _CHARS_PER_WORD) if unspaced else 1
    return words


def _ends_sentence(text: str) -> bool:
    """True when the line ends like finished prose (not a headline, not a '…' teaser)."""
    core = text.rstrip(_CLOSERS)
    if not core or core[-1] not in _TERMINALS:
        return False
    return not core.endswith("..")


def _build_units(text: str) -> list[_Unit]:
    """Split the capture into units; bullets absorb their indented continuation lines.

    Hard-wrapped paragraphs (a long unfinished line followed by a lowercase line)
    are joined too, so sentence detection sees the whole paragraph. Pieces are
    collected in lists and joined once, so long continuation chains stay linear.
    """
    units: list[_Unit] = []
    pieces: list[list[str]] = []
    blank = True
    bullet_indent = -1  # indent of the open bullet item, -1 when none
    for raw in text.split("\n"):
        line = _fold(raw)
        if not line:
            blank = True
            bullet_indent = -1
            if units:
                units[-1].blank_after = True
            continue
        match = _BULLET_RE.match(raw)
        if match:
            units.append(_Unit("", True, blank))
            pieces.append([_fold(raw[match.end():])])
            bullet_indent = len(match.group(1).expandtabs(4))
            blank = False
            continue
        indent = len(raw) - len(raw.lstrip(" \t"))
        prev = units[-1] if units and not blank else None
        last = pieces[-1][-1] if prev is not None else ""
        if prev is not None and prev.bullet and bullet_indent >= 0 and indent > bullet_indent:
            pieces[-1].append(line)
        elif (
            prev is not None
            and not prev.bullet
            and len(last) >= 50
            and not _ends_sentence(last)
            and line[:1].islower()
        ):
            pieces[-1].append(line)
        else:
            units.append(_Unit("", False, blank))
            pieces.append([line])
            bullet_indent = -1
        blank = False
    for unit, parts in zip(units, pieces):
        unit.text = parts[0] if len(parts) == 1 else " ".join(parts)
    if units:
        units[-1].blank_after = True
    return units


def _is_social(text: str) -> bool:
    """Share/follow bars: every token is a social-network word or filler.

    Glued labels ("FacebookLike", "TwitterFollow") are split at case changes, but
    only when the whole word is unknown, so "LinkedIn" and "YouTube" stay whole.
    """
    if len(text) > 150 or text.count(" ") > 14:
        return False
    strong = 0
    count = 0
    for word in _WORD_SPLIT_RE.split(text):
        if not word:
            continue
        low = word.lower()
        parts = [low] if low in _SOCIAL_STRONG or low in _SOCIAL_FILLER else (
            _CAMEL_RE.sub(" ", word).lower().split()
        )
        for token in parts:
            count += 1
            if token in _SOCIAL_STRONG:
                strong += 1
            elif token not in _SOCIAL_FILLER and not token.isdigit():
                return False
    return strong > 0 and count <= 14


def _is_legal_list(text: str) -> bool:
    """Footer links: 'Privacy Policy', or rows like 'Privacy | Terms of Use | Cookies'."""
    if "|" not in text and "·" not in text and "•" not in text:
        return len(text) <= 60 and bool(_LEGAL_STRICT_RE.match(text.strip(" .")))
    parts = [p.strip(" .") for p in _LEGAL_SPLIT_RE.split(text) if p.strip(" .")]
    if len(parts) == 1:
        return bool(_LEGAL_STRICT_RE.match(parts[0]))
    hits = sum(1 for p in parts if _LEGAL_ITEM_RE.match(p))
    return len(parts) > 1 and hits * 2 >= len(parts)


def _has_copyright(low: str) -> bool:
    """Copyright/legal line test on lower-cased text (plain substring checks are fastest)."""
    return (
        "©" in low
        or "all rights reserved" in low
        or ("(c)" in low and _COPYRIGHT_RE.search(low) is not None)
        or (low.startswith("copyright") and _COPYRIGHT_RE.search(low) is not None)
    )


def _is_hard_chrome(core: str, low: str) -> bool:
    """Widgets that only appear outside an article body: they close a cluster.

    ``core`` is the line without edge punctuation, ``low`` its lower-case form.
    """
    return bool(
        _SECTION_HEADING_RE.match(low)
        or _COMMENTS_RE.match(low)
        or _ARTICLE_END_RE.match(low)
        or (len(low) <= 200 and _has_copyright(low))
        or _is_social(core)
        or _is_legal_list(low)
    )


def _is_prose(text: str, size: int) -> bool:
    """Sentence-like line: long enough, several words, ends a sentence.

    Short one-sentence questions/exclamations are headline-like and are not prose.
    """
    if size < 30 or not _ends_sentence(text):
        return False
    words = _word_count(text)
    if words < 5:
        return False
    last = text.rstrip(_CLOSERS)[-1]
    if last in "?!" and words < 12 and not _INNER_SENTENCE_RE.search(text):  # noqa: SIM103 - one guard among several
        return False
    return True


def _is_breadcrumb(text: str) -> bool:
    """'Site > Section > Headline': at least two separators, short leading crumbs."""
    if ">" not in text and "»" not in text and "›" not in text:
        return False
    parts = _BREADCRUMB_SPLIT_RE.split(text)
    return len(parts) >= 3 and all(0 < len(p) <= 60 for p in parts[:-1])


def _date_of_line(text: str) -> str | None:
    """The date of a line that is only a date, without a 'Published:' style label.

    The label is dropped because date parsers downstream choke on it.
    """
    match = _DATE_LINE_RE.match(text) if len(text) <= 90 else None
    return match.group("date") if match else None


def _is_date_line(text: str) -> bool:
    """A line that is only a date (with optional time and 'Published' prefix)."""
    return _date_of_line(text) is not None


def _byline_names(text: str) -> list[str] | None:
    """Names from a byline ('By A and B', 'Name | Editorial Board'), else None."""
    if len(text) > 120 or _ends_sentence(text):
        return None
    prefixed = _BYLINE_PREFIX_RE.match(text)
    body = text[prefixed.end():] if prefixed else text
    segments = [s.strip() for s in _SEGMENT_SPLIT_RE.split(body) if s.strip()]
    if not prefixed and len(segments) < 2:
        return None
    names: list[str] = []
    roles = 0
    for segment in segments:
        if _is_date_line(segment):
            continue
        for piece in _NAME_SPLIT_RE.split(segment):
            piece = piece.strip(" .")
            if not piece:
                continue
            if _ROLE_RE.search(piece):
                roles += 1
            elif _NAME_RE.match(piece) and len(piece) <= 40:
                names.append(piece)
            elif prefixed:
                return None
    if not names or (not prefixed and roles == 0):
        return None
    return names


def _line_kind(text: str, size: int) -> tuple[str, bool, bool, bool]:
    """(kind, is_breadcrumb, is_date, is_byline) of one line of ``_size`` ``size``, ignoring page context."""
    short = len(text) <= _MAX_CHROME_LEN
    prose = _is_prose(text, size)
    if short:
        core = text.strip(" -–—|:•·*")
        low = core.lower()
        if _is_breadcrumb(text):
            return "soft", True, False, False
        # Closing widgets are short; a long finished paragraph is never one.
        if not (prose and len(text) > 200) and _is_hard_chrome(core, low):
            return "hard", False, False, False
        if (
            _SOFT_RE.match(low)
            or _SOFT_CONTAINS_RE.search(low)
            or (not prose and _SOFT_NONPROSE_RE.match(low))
        ):
            return "soft", False, False, False
    if prose:
        return "prose", False, False, False
    if not short:
        return "other", False, False, False
    is_date = _is_date_line(text)
    return "other", False, is_date, not is_date and _byline_names(text) is not None


def _classify(units: list[_Unit]) -> None:
    """Tag every unit with its kind and page-level repeat count.

    Lines are classified once per distinct text: menus and teaser blocks repeat.
    A repeated sentence is demoted to 'other' (sidebar teaser, pull quote).
    """
    for unit in units:
        unit.key = unit.text.casefold()
    counts = Counter(u.key for u in units)
    cache: dict[str, tuple[str, bool, bool, bool, int]] = {}
    for unit in units:
        facts = cache.get(unit.text)
        if facts is None:
            size = _size(unit.text)
            facts = cache[unit.text] = (*_line_kind(unit.text, size), size)
        unit.kind, unit.is_breadcrumb, unit.is_date, unit.is_byline, unit.size = facts
        unit.repeats = counts[unit.key]
        if unit.kind == "prose" and unit.repeats > 1:
            unit.kind = "other"
    # A repeated line whose neighbour repeats with it belongs to a repeated block
    # (menu, sidebar list shown twice); a headline repeats alone (h1, og:title).
    pairs = Counter(zip((u.key for u in units), (u.key for u in units[1:])))
    for i, unit in enumerate(units):
        if unit.repeats > 1:
            before = i > 0 and pairs[(units[i - 1].key, unit.key)] > 1
            after = i + 1 < len(units) and pairs[(unit.key, units[i + 1].key)] > 1
            unit.in_repeated_block = before or after


def _gap_weight(unit: _Unit) -> float:
    """How much a non-prose unit separates two prose units.

    Repeated lines (menus, duplicated headlines) weigh more; bullets and soft
    chrome (ads, newsletter boxes) weigh less since they sit inside articles.
    """
    if unit.kind == "soft":
        return 0.5
    if unit.repeats > 1:
        return 2.0
    if unit.bullet:
        return 0.34
    return 1.0


# --------------------------------------------------------------------------- #
# Body selection
# --------------------------------------------------------------------------- #


def _clusters(units: list[_Unit]) -> list[tuple[int, int]]:
    """Spans (first prose, last prose) of prose groups no hard chrome crosses."""
    spans: list[tuple[int, int]] = []
    start = end = -1
    gap = 0.0
    for i, unit in enumerate(units):
        if unit.kind == "prose":
            if start < 0:
                start = i
            end = i
            gap = 0.0
            continue
        if start < 0:
            continue
        gap += 99.0 if unit.kind == "hard" else _gap_weight(unit)
        if gap > _MAX_GAP:
            spans.append((start, end))
            start = end = -1
            gap = 0.0
    if start >= 0:
        spans.append((start, end))
    return spans


class _Run(NamedTuple):
    """Adjacent prose units (soft chrome such as ad markers between them is ignored)."""

    first: int
    last: int
    chars: int
    count: int


def _prose_runs(units: list[_Unit], start: int, end: int) -> list[_Run]:
    """Runs of adjacent prose units in a span; headings and other lines split runs."""
    runs: list[_Run] = []
    first = last = -1
    chars = count = 0
    for i in range(start, end + 1):
        unit = units[i]
        if unit.kind == "prose":
            if first < 0:
                first = i
            last = i
            chars += unit.size
            count += 1
        elif unit.kind != "soft" and first >= 0:
            runs.append(_Run(first, last, chars, count))
            first = -1
            chars = count = 0
    if first >= 0:
        runs.append(_Run(first, last, chars, count))
    return runs


def _span_score(runs: list[_Run]) -> float:
    """Connected prose counts fully; lone short paragraphs (teasers) barely count."""
    score = 0.0
    for run in runs:
        if run.count > 1 or run.chars >= _MIN_SINGLE_CHARS:
            score += run.chars
        else:
            score += run.chars * 0.25
    return score


def _is_teaser(units: list[_Unit], run: _Run) -> bool:
    """A lone one-sentence summary directly under a headline-like line."""
    if run.count != 1 or run.chars > _TEASER_MAX_CHARS or run.first == 0:
        return False
    text = units[run.first].text
    above = units[run.first - 1]
    return (
        not _INNER_SENTENCE_RE.search(text)
        and above.kind == "other"
        and not above.bullet
        and not _ends_sentence(above.text)
    )


def _trim_teaser_tail(units: list[_Unit], end: int, runs: list[_Run]) -> int:
    """Cut a trailing series of teaser summaries off a span.

    One short paragraph under a subheading is a normal article ending; two or
    more in a row are a 'more stories' block whose heading the patterns missed.
    """
    tail = 0
    for run in reversed(runs[1:]):
        if not _is_teaser(units, run):
            break
        tail += 1
    if tail >= 2:
        return runs[len(runs) - tail - 1].last
    return end


def _select_body(units: list[_Unit]) -> tuple[int, int] | None:
    """The span that holds the article, or None when the page has no article."""
    best: tuple[float, int, int] | None = None
    for start, end in _clusters(units):
        runs = _prose_runs(units, start, end)
        end = _trim_teaser_tail(units, end, runs)
        runs = [r for r in runs if r.last <= end]
        if not any(
            (r.count > 1 and r.chars >= _MIN_RUN_CHARS) or r.chars >= _MIN_SINGLE_CHARS
            for r in runs
        ):
            continue
        score = _span_score(runs)
        if best is None or score > best[0]:
            best = (score, start, end)
    return None if best is None else (best[1], best[2])


# --------------------------------------------------------------------------- #
# Metadata around the body
# --------------------------------------------------------------------------- #


def _is_title_case(text: str) -> bool:
    """Most words of four letters or more are capitalised (headline style)."""
    words = [w for w in _WORD_RE.findall(text) if len(w) >= 4]
    if not words:
        return False
    capitalised = sum(1 for w in words if w[0].isupper())
    return capitalised * 10 >= len(words) * 6


def _title_words(text: str) -> int:
    """Words of a headline candidate: letter runs, or Han and kana by ``_CHARS_PER_WORD``."""
    if text.isascii() or not _UNSPACED_RE.search(text):
        return len(_WORD_RE.findall(text))
    return _word_count(" ".join(_WORD_RE.findall(text)))


def _crumb_tails(units: list[_Unit]) -> set[str]:
    """Last segments of breadcrumbs: the current page's headline when present."""
    tails: set[str] = set()
    for unit in units:
        if unit.is_breadcrumb:
            tails.add(_BREADCRUMB_SPLIT_RE.split(unit.text)[-1].casefold())
    return tails


def _find_title(units: list[_Unit], body_start: int) -> int | None:
    """Index of the headline among the units before the body.

    Headlines are repeated (page title, og-title, breadcrumb) and sit just above
    the body; captions, taglines and menu items lose on those signals.
    """
    tails = _crumb_tails(units)
    best: tuple[float, int] | None = None
    close = 0  # non-chrome units between the candidate and the body
    for i in range(body_start - 1, max(-1, body_start - 400), -1):
        unit = units[i]
        text = unit.text
        is_candidate = (
            unit.kind in ("other", "prose")
            and not unit.bullet
            and not unit.is_date
            and not unit.is_byline
            and 15 <= unit.size <= 300
            and not unit.in_repeated_block
        )
        words = _title_words(text) if is_candidate else 0
        if words >= 3:
            score = 0.0
            if unit.repeats > 1 or unit.key in tails:
                score += 4
            if words < 5:
                score -= 1
            if close <= 2:
                score += 2
            if _is_title_case(text):
                score += 1
            if unit.blank_before and unit.blank_after:
                score += 1
            if _CAPTION_RE.search(text):
                score -= 3
            if len(_SEGMENT_SPLIT_RE.split(text)) >= 3:  # a menu row ("Home | News | Sport"), however long its words
                score -= 2
            if text.rstrip(_CLOSERS).endswith((".", "。")):
                score -= 1
            if best is None or score >= best[0]:
                best = (score, i)
        if unit.kind in ("other", "prose") and not unit.is_date and not unit.is_byline:
            close += 1
    return None if best is None or best[0] < 1 else best[1]


def _find_date(units: list[_Unit], body_start: int, title_idx: int | None) -> str | None:
    """The date line next to the headline/byline, else a wire dateline in the lede.

    Date lines far from the headline are masthead 'today' dates, not publication dates.
    """
    anchors = [body_start] + ([title_idx] if title_idx is not None else [])
    lo = max(0, min(anchors) - 3)
    for i in range(lo, body_start):
        unit = units[i]
        if unit.is_date and any(abs(i - a) <= 4 for a in anchors):
            return _date_of_line(unit.text)
        if unit.is_byline and abs(i - body_start) <= 6:
            for segment in _SEGMENT_SPLIT_RE.split(unit.text):
                date = _date_of_line(segment)
                if date:
                    return date
    lede = units[body_start].text[:200]
    match = _DATELINE_RE.match(lede)
    return match.group(1) if match else None


def _find_authors(units: list[_Unit], body_start: int, title_key: str | None) -> list[str]:
    """Byline names between the (first) headline and the body."""
    lo = max(0, body_start - 8)
    if title_key is not None:
        for i in range(body_start):
            if units[i].key == title_key:
                lo = min(lo, i)
                break
    authors: list[str] = []
    for unit in units[lo:body_start]:
        if unit.is_byline:
            for name in _byline_names(unit.text) or []:
                if name not in authors:
                    authors.append(name)
    return authors


def _find_site_name(units: list[_Unit], body: tuple[int, int] | None) -> str | None:
    """Site name from a copyright line, a breadcrumb root, or a repeated brand line."""
    for unit in units:
        if len(unit.text) <= 200 and _COPYRIGHT_RE.search(unit.text):
            match = _COPYRIGHT_NAME_RE.search(unit.text)
            if match:
                name = _CORPORATE_SUFFIX_RE.sub("", match.group("name").strip(" -–—"))
                if re.search(r"[^\W\d_]", name) and not re.match(
                    r"(?i)all rights|copyright", name
                ):
                    return name
    for unit in units:
        if unit.is_breadcrumb:
            root = _BREADCRUMB_SPLIT_RE.split(unit.text)[0].strip()
            if root and root.casefold() not in ("home", "homepage", "start", "news"):
                return root
    lo, hi = body or (len(units), -1)
    bullet_keys = {u.key for u in units if u.bullet}
    for i, unit in enumerate(units):
        text = unit.text
        if (
            lo <= i <= hi
            or unit.bullet
            or unit.repeats < 2
            or unit.kind != "other"
            or unit.is_byline
            or unit.is_date
            or unit.key in bullet_keys
            or len(text) > 40
            or any(ch.isdigit() for ch in text)
        ):
            continue
        words = text.split()
        if 2 <= len(words) <= 4 and all(w[0].isupper() for w in words):
            return text
    return None


# --------------------------------------------------------------------------- #
# Public entry point
# --------------------------------------------------------------------------- #


def _body_lines(units: list[_Unit], start: int, end: int, title_key: str | None) -> list[str]:
    """Kept lines of the body span: chrome, dates, duplicated lines and captions go."""
    lines: list[str] = []
    seen: set[str] = set()
    for unit in units[start : end + 1]:
        if unit.kind in ("hard", "soft") or unit.is_date or unit.key == title_key:
            continue
        if unit.key in seen:
            continue
        if unit.kind == "other" and (unit.repeats > 1 or _CAPTION_RE.search(unit.text)):
            continue
        seen.add(unit.key)
        lines.append(unit.text)
    return lines


def clean_text_capture(text: str) -> TextArticle:
    """Extract the article (title, body, byline, date line, site) from a text capture.

    Returns ``text=""`` when no article-like prose is found (login pages, teaser
    grids), so the caller can reject the page as 'no article found'.
    """
    units = _build_units(_normalize(text or ""))
    _classify(units)
    body = _select_body(units)
    site_name = _find_site_name(units, body)
    if body is None:
        return TextArticle(title=None, text="", site_name=site_name)
    start, end = body
    title_idx = _find_title(units, start)
    title = units[title_idx].text if title_idx is not None else None
    title_key = units[title_idx].key if title_idx is not None else None
    return TextArticle(
        title=title,
        text="\n\n".join(_body_lines(units, start, end, title_key)),
        authors=_find_authors(units, start, title_key),
        date_text=_find_date(units, start, title_idx),
        site_name=site_name,
    )
