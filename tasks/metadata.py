"""Page metadata (title, authors, dates, site, canonical URL, image, tags, language) read from the raw HTML.

Sources are read in order of trust: JSON-LD, then OpenGraph, then other <meta> tags, then markup
(<link rel=canonical>, <time>, itemprop/rel=author, bylines, <h1>, <title>), and htmldate only as
the last resort for the publication date. Every value is cross-checked because single sources are
wrong often enough on real pages to matter:

* title: the headline <h1> when it stands on its own (it is what readers see; og:title and <title>
  are often SEO variants), otherwise the candidate most corroborated by the others, trust breaking
  ties; site names are cut off and placeholders ("Home", "Untitled") never returned.
* authors: the first source that names someone other than the site. The site's or publisher's own
  name is kept only when nobody else is named: company blogs and personal sites sign with it
  (dropping it cost 9 points of author accuracy on WCXB-dev). Generic bylines (GENERIC_AUTHORS)
  are always dropped; agencies only when a person is also named.
* dates: in [1990, now + 1 day]; a modification before the publication is dropped.

Nothing here mutates the tree: extraction runs before cleaning and the cleaner needs the page intact.
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import cached_property, lru_cache
from itertools import islice
from typing import TYPE_CHECKING, Any

import pycld2
from dateutil import parser as _du_parser
from lxml import etree

from .urls import normalize_url, url_host

if TYPE_CHECKING:  # pragma: no cover
    import lxml.html

__all__ = [
    "Metadata",
    "extract_html_metadata",
    "normalize_authors",
    "normalize_date",
    "clean_title",
    "detect_language",
    "GENERIC_AUTHORS",
    "AGENCY_AUTHORS",
]

LOGGER = logging.getLogger(__name__)


@dataclass
class Metadata:
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: str | None = None  # ISO 8601 with offset; date-only -> midnight "+00:00"
    modified_at: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None  # normalized with normalize_url
    description: str | None = None
    image: str | None = None  # absolute URL, normalized
    tags: list[str] = field(default_factory=list)
    language: str | None = None  # lower-case primary subtag ("en")


# --------------------------------------------------------------------------------------------
# limits
# --------------------------------------------------------------------------------------------
_MAX_TITLE = 1000
_MAX_DESCRIPTION = 2000
_MAX_SITE_NAME = 200
_MAX_AUTHOR = 80
_MAX_AUTHORS = 10
_MAX_AUTHOR_WORDS = 7
_MAX_TAGS = 50
_MAX_TAG = 100
_MAX_JSONLD_CHARS = 2_000_000
_MAX_JSONLD_NODES = 5000
_MAX_DATE_CHARS = 120
_MIN_DATE = datetime(1990, 1, 1, tzinfo=UTC)
_LANG_SAMPLE = 2000
_LANG_MIN_CHARS = 20

_WS_RE = re.compile(r"\s+")
_NON_ALNUM_RE = re.compile(r"[\W_]+")


def _collapse(value: Any, limit: int | None = None) -> str:
    """Collapse whitespace (NBSP included) of a string; '' for non-strings."""
    if not isinstance(value, str):
        return ""
    if limit is not None and len(value) > limit * 4:
        value = value[: limit * 4]
    text = _WS_RE.sub(" ", value).strip()
    if limit is not None and len(text) > limit:
        text = text[:limit].rstrip()
    return text


_ENTITY_RE = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# UTF-8 read as Latin-1/cp1252: "â€™", "Ã©", "â\x80\x99".
_MOJIBAKE_RE = re.compile(r"[ÂÃâ][\x80-\xbf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]")


def _fix_text(text: str) -> str:
    """Undo double escaping ("&amp;#8217;" read once) and UTF-8 mojibake, both common in meta tags."""
    if "&" in text and _ENTITY_RE.search(text):
        text = html.unescape(text)
    if _MOJIBAKE_RE.search(text):
        for codec in ("cp1252", "latin-1"):
            try:
                return text.encode(codec).decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
    return text


def _key(text: str) -> str:
    """Comparison key: case, accents' composition, punctuation and spacing don't count."""
    return _NON_ALNUM_RE.sub("", unicodedata.normalize("NFKC", text).casefold())


# --------------------------------------------------------------------------------------------
# dates
# --------------------------------------------------------------------------------------------
# Relative expressions depend on the crawl day, not on the article: never turned into a date.
_RELATIVE_RE = re.compile(
    r"\b(?:ago|yesterday|today|tomorrow|tonight|now|just|last|next|this|"
    r"hours?|hrs?|minutes?|mins?|seconds?|secs?|weeks?)\b",
    re.IGNORECASE,
)
_DATE_LABEL_RE = re.compile(
    r"^(?:(?:first|originally|last)\s+)?(?:published|updated|posted|modified|created|date|released|issued)"
    r"(?:\s+(?:on|at))?\s*[:\-–—|]?\s*",
    re.IGNORECASE,
)
_ISO_PREFIX_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}|$)")
_ISO_LOOSE_RE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,]\d+)?)?\s*"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_RFC2822_RE = re.compile(r"^[A-Za-z]{3},\s*\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}")
_DIGITS_RE = re.compile(r"^\d+(?:\.\d+)?$")
_DOTTED_DMY_RE = re.compile(r"^\d{1,2}[.-]\s?\d{1,2}[.-]\s?\d{4}")
_NUMERIC_DMY_RE = re.compile(r"^\d{1,2}([/-])\s?\d{1,2}\1\s?\d{4}")
_PAREN_RE = re.compile(r"\([^)]*\)")
# "GMT+3" means UTC+3 on web pages, but dateutil reads it the POSIX way (UTC-3): rewrite it.
_GMT_OFFSET_RE = re.compile(r"\b(?:GMT|UTC)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\b", re.IGNORECASE)
_OFFSET_THEN_ZONE_RE = re.compile(r"([+-]\d{2}:?\d{2})\s+(?:GMT|UTC|Z)\b", re.IGNORECASE)
_H = 3600
_TZINFOS: dict[str, int] = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "WEST": _H, "BST": _H, "IST": 5 * _H + 1800,
    "CET": _H, "CEST": 2 * _H, "MET": _H, "MEST": 2 * _H, "EET": 2 * _H, "EEST": 3 * _H, "MSK": 3 * _H,
    "EST": -5 * _H, "EDT": -4 * _H, "CST": -6 * _H, "CDT": -5 * _H, "MST": -7 * _H, "MDT": -6 * _H,
    "PST": -8 * _H, "PDT": -7 * _H, "AKST": -9 * _H, "AKDT": -8 * _H, "HST": -10 * _H, "AST": -4 * _H,
    "ADT": -3 * _H, "NST": -3 * _H - 1800, "NDT": -2 * _H - 1800, "ET": -5 * _H, "PT": -8 * _H,
    "CT": -6 * _H, "MT": -7 * _H, "JST": 9 * _H, "KST": 9 * _H, "HKT": 8 * _H, "SGT": 8 * _H,
    "PHT": 8 * _H, "WIB": 7 * _H, "ICT": 7 * _H, "PKT": 5 * _H, "GST": 4 * _H, "SAST": 2 * _H,
    "CAT": 2 * _H, "EAT": 3 * _H, "WAT": _H, "AEST": 10 * _H, "AEDT": 11 * _H, "ACST": 9 * _H + 1800,
    "ACDT": 10 * _H + 1800, "AWST": 8 * _H, "NZST": 12 * _H, "NZDT": 13 * _H, "BRT": -3 * _H,
    "ART": -3 * _H,
}
# Two different defaults expose the components dateutil had to invent (a missing day or year).
_DEFAULT_A = datetime(1904, 1, 1)
_DEFAULT_B = datetime(1908, 2, 2)
_DATEPARSER_SETTINGS = {
    # No "relative-time" parser: "2 hours ago" must not become a publication date.
    "PARSERS": ["custom-formats", "absolute-time"],
    "REQUIRE_PARTS": ["day", "month", "year"],
    "TIMEZONE": "UTC",
    "PREFER_DATES_FROM": "past",
}


def _as_aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None or dt.utcoffset() is None else dt


def _from_timestamp(value: float) -> datetime | None:
    """Unix seconds, or milliseconds when the number is too large to be seconds."""
    if value > 1e11:
        value /= 1000.0
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _parse_iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    m = _ISO_LOOSE_RE.match(text)
    if not m:
        return None
    y, mo, d, hh, mm, ss, tz = m.groups()
    try:
        dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
    except ValueError:
        return None
    if tz:
        tz = tz.upper()
        if tz == "Z":
            return dt.replace(tzinfo=UTC)
        digits = tz[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
        if minutes >= 24 * 60:
            return None
        sign = -1 if tz[0] == "-" else 1
        return dt.replace(tzinfo=timezone(sign * timedelta(minutes=minutes)))
    return dt


def _gmt_offset(m: re.Match[str]) -> str:
    sign, hours, minutes = m.group(1), int(m.group(2)), m.group(3) or "00"
    return f" {sign}{hours:02d}:{minutes}"


def _parse_dateutil(text: str, month_first: bool | None = None) -> datetime | None:
    """dateutil for English free text; rejects strings where it had to invent the day or year.
    A numeric date with dashes or slashes is read in the page's order when it is known."""
    text = _GMT_OFFSET_RE.sub(_gmt_offset, text)
    text = _OFFSET_THEN_ZONE_RE.sub(r"\1", text)
    dayfirst = bool(_DOTTED_DMY_RE.match(text))
    if month_first is not None and _NUMERIC_DMY_RE.match(text):
        dayfirst = not month_first
    try:
        a = _du_parser.parse(text, default=_DEFAULT_A, tzinfos=_TZINFOS, dayfirst=dayfirst)
        b = _du_parser.parse(text, default=_DEFAULT_B, tzinfos=_TZINFOS, dayfirst=dayfirst)
    except (ValueError, OverflowError, TypeError, LookupError):
        return None
    if (a.year, a.month, a.day) != (b.year, b.month, b.day):
        return None
    return a


_DATEPARSER_LOCK = threading.Lock()


def _parse_dateparser(text: str) -> datetime | None:
    """dateparser for other languages ("9 février 2022"); slow, so the last of the parsers."""
    if len(text) > 60 or not re.search(r"\d{4}|\d{1,2}\D+\d{2}$", text):
        return None  # a publication date string names its year
    try:
        with _DATEPARSER_LOCK:  # its language caches are not documented as thread-safe
            data = _date_parser(_SETTINGS_OURS, date_languages()).get_date_data(text)
            return data["date_obj"] if data else None
    except Exception:  # noqa: BLE001 - dateparser raises a zoo of errors on odd input
        return None


# The languages dateparser reads a page's dates in. Told none, it tries each of the ~200 it knows
# on every string (10-20 ms a string), and once it has loaded them all a process holds some 40 MB
# more: the page's own language (declared, else detected) and English are enough for dates.
_PAGE_LANGUAGES: ContextVar[_DateLanguages | None] = ContextVar("pagescrub_date_languages", default=None)
_SETTINGS_OURS, _SETTINGS_HTMLDATE = "pagescrub", "htmldate"


class _DateLanguages:
    """A page's languages for dates, worked out only when a date needs dateparser."""

    def __init__(self, declared: str | None, tree: Any) -> None:
        self._declared = declared
        self._tree = tree

    @cached_property
    def languages(self) -> tuple[str, ...] | None:
        code = self._declared or detect_language(_paragraph_text(self._tree))
        # A language dateparser does not know: all of them, as when none is known.
        return tuple(dict.fromkeys((code, "en"))) if code in _dateparser_languages() else None


@lru_cache(maxsize=1)
def _dateparser_languages() -> frozenset[str]:
    from dateparser.data.languages_info import language_order

    return frozenset(language_order)


def _paragraph_text(tree: Any) -> str:
    """The text of the page's first paragraphs: prose, unlike its scripts or menus."""
    return " ".join(p.text_content() for p in islice(tree.iter("p"), 40))


@contextmanager
def page_date_languages(declared: str | None, tree: Any) -> Iterator[None]:
    """Within: dateparser reads dates in ``declared`` (or the language of ``tree``'s text) and English."""
    token = _PAGE_LANGUAGES.set(_DateLanguages(declared, tree))
    try:
        yield
    finally:
        _PAGE_LANGUAGES.reset(token)


def date_languages() -> tuple[str, ...] | None:
    """The current page's languages for dateparser; None (all of them) outside a page or when unknown."""
    page = _PAGE_LANGUAGES.get()
    return page.languages if page is not None else None


@lru_cache(maxsize=64)
def _date_parser(settings: str, languages: tuple[str, ...] | None) -> Any:
    """dateparser's parser for ``languages`` (all of them: None) with our settings or htmldate's."""
    from dateparser import DateDataParser  # imported lazily: ~0.5 s of import time for a rarely used path

    chosen = _htmldate_settings() if settings == _SETTINGS_HTMLDATE else _DATEPARSER_SETTINGS
    return DateDataParser(languages=list(languages) if languages else None, settings=chosen)


def warm_date_parsers() -> None:
    """Load dateparser's English, which every page's dates may be read in (the rest loads as pages need it)."""
    with page_date_languages("en", None):
        _parse_dateparser("qzxv 12 brrk 2020")
        with suppress(ImportError):
            _htmldate_in_page_languages()
            from htmldate import extractors

            extractors.get_external_parser().get_date_data("qzxv 12 brrk 2020")


def _htmldate_settings() -> Any:
    """htmldate's own settings for its parser (its ``get_external_parser``, as it ships)."""
    from htmldate import extractors

    original = getattr(extractors.get_external_parser, "__wrapped_original__", extractors.get_external_parser)
    return original()._settings


def _htmldate_in_page_languages() -> None:
    """Make htmldate's dateparser read the current page's languages (it asks for all of them).

    With an htmldate without ``get_external_parser`` (its home in 1.9-1.11) nothing changes.
    """
    from htmldate import extractors

    current = getattr(extractors, "get_external_parser", None)
    if current is None or hasattr(current, "__wrapped_original__"):
        return

    def get_external_parser() -> Any:
        return _date_parser(_SETTINGS_HTMLDATE, date_languages())

    get_external_parser.__wrapped_original__ = current  # type: ignore[attr-defined]
    extractors.get_external_parser = get_external_parser


def _parse_date(text: str, month_first: bool | None = None) -> datetime | None:
    if _DIGITS_RE.match(text):
        integer = text.split(".")[0]
        if len(integer) == 8:  # 20220209
            try:
                return datetime.strptime(integer, "%Y%m%d")
            except ValueError:
                return None
        if len(integer) in (9, 10, 12, 13):  # unix seconds / milliseconds
            return _from_timestamp(float(text))
        return None
    if _ISO_PREFIX_RE.match(text):
        dt = _parse_iso(text)
        if dt is not None:
            return dt
    if _RFC2822_RE.match(text):
        try:
            return parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            pass
    if _RELATIVE_RE.search(text):
        return None
    return _parse_dateutil(text, month_first) or _parse_dateparser(text)


def normalize_date(value: str | None, *, now: datetime | None = None, month_first: bool | None = None) -> str | None:
    """Any reasonable date string -> ISO 8601 with offset ("2022-02-09T00:00:00+00:00").

    None when unparsable, relative ("yesterday"), incomplete (no day or year), in the future
    (> now + 1 day: a wrong date is worse than none) or before 1990 (no news site archive is older;
    such values are placeholders like 1970-01-01). Naive values are taken as UTC. month_first: how
    the page writes numeric dates (3/4/2025, 03-04-2025) when known; dotted ones are day first.
    """
    try:
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, (int, float)):
            dt = _from_timestamp(float(value))
        elif isinstance(value, str):
            text = _collapse(value)
            if not text or len(text) > _MAX_DATE_CHARS:
                return None
            text = _DATE_LABEL_RE.sub("", text)
            text = _PAREN_RE.sub(" ", text).strip(" ,;|-–—")
            if not text:
                return None
            dt = _parse_date(text, month_first)
        else:
            return None
        if dt is None:
            return None
        dt = _as_aware(dt)
        reference = _as_aware(now) if now is not None else datetime.now(UTC)
        if dt < _MIN_DATE or dt > reference + timedelta(days=1):
            return None
        return dt.replace(microsecond=0).isoformat()
    except Exception:  # a date string must never break a page
        LOGGER.debug("unparsable date %r", value, exc_info=True)
        return None


# --------------------------------------------------------------------------------------------
# authors
# --------------------------------------------------------------------------------------------
# Bylines that name no person. Matched on the whole cleaned name, case-insensitively.
GENERIC_AUTHORS: frozenset[str] = frozenset(
    {
        "staff", "admin", "administrator", "editor", "editors", "the editors", "editorial",
        "editorial staff", "editorial team", "editorial board", "editorial desk", "editorial department",
        "the editorial board", "newsroom", "news room", "news desk", "newsdesk", "news staff", "news team",
        "news service", "news services", "web desk", "web team", "web staff", "web editor", "online desk",
        "online staff", "online editor", "digital desk", "digital team", "digital staff", "desk", "team",
        "staff writer", "staff writers", "staff reporter", "staff report", "staff reports", "wire", "wires",
        "wire service", "wire services", "wire staff", "wire reports", "agencies", "agency", "agency staff",
        "news agencies", "guest", "guest author", "guest post", "guest writer", "guest contributor",
        "contributor", "contributors", "anonymous", "unknown", "author", "authors", "user", "webmaster",
        "null", "none", "undefined", "n/a", "na", "nan", "by", "press release", "sponsored",
        "sponsored content", "sponsored post", "partner content", "paid content", "advertisement",
        "advertorial", "admin user", "site admin", "root", "publisher", "various", "multiple authors",
        "correspondent", "our correspondent", "special correspondent", "reporter", "reporters",
        "our reporter", "bureau", "our bureau", "facebook", "twitter", "instagram", "linkedin", "email",
        "e-mail", "share", "print", "follow", "subscribe", "more", "posts", "view all posts",
        "read more", "see all", "default", "test", "system", "info", "support", "team member",
        "sign in", "log in", "login", "view more posts", "more posts", "all posts",
        "home", "menu", "search", "close", "written by", "posted by", "about the author", "about author",
        "author bio", "share this", "share this article", "comments", "leave a comment", "no comments",
        "about", "about me", "about us", "careers", "contact", "contact us", "blog", "news", "team page",
        "how we test", "our impact", "our team", "meet the team", "profile", "sample profile", "role",
        "type", "event type", "benefits", "industry", "learn more", "click here", "here", "website",
    }
)
# News agencies: kept when they are the whole byline (they tell where syndicated copy comes
# from), dropped when a person is also named ("Jane Doe, Reuters" -> "Jane Doe").
AGENCY_AUTHORS: frozenset[str] = frozenset(
    {
        "reuters", "thomson reuters", "ap", "the associated press", "associated press", "afp",
        "agence france-presse", "agence france presse", "dpa", "pti", "ians", "ani", "bloomberg",
        "bloomberg news", "xinhua", "efe", "ansa", "kyodo", "kyodo news", "yonhap", "tass", "upi",
        "united press international", "pa", "pa media", "press association", "aap",
        "australian associated press", "cp", "the canadian press", "canadian press", "cnn wire",
        "ap news", "anadolu", "anadolu agency", "europa press", "sputnik", "ria novosti", "interfax",
    }
)
_MONTHS = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\b\.?"
)
_WEEKDAYS = (
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues|tue|wed|thurs|thur|thu|"
    r"fri|sat|sun)\b\.?,?"
)
_BY_PREFIX_RE = re.compile(
    r"^(?:(?:(?:view|see|read|browse)\s+)?(?:all\s+|more\s+)?(?:posts|articles|stories|content)\s+(?:by|from)"
    r"|(?:read\s+)?more\s+(?:about|from)"
    r"|(?:(?:story|article|text|words|report(?:ing)?|reported|written|authored|posted|published|"
    r"compiled|edited|updated|photos?|pictures?|video|analysis|opinion|commentary|column|guide|recipe|"
    r"review|post|insights|blog|interview|a\s+guest\s+post)\s+)?(?:by|from))\b\s*[:\-–—]?\s*",
    re.IGNORECASE,
)
# "ByJane Doe", "AuthorJane Doe": a label glued to the name by markup without whitespace.
_GLUED_LABEL_RE = re.compile(r"^(?:[Ww]ritten\s+[Bb]y|[Bb]y|Author|AUTHOR|Autor|Par)(?=[A-Z][a-z])")
# Everything after these is about someone else or something else.
_AUTHOR_CUT_RE = re.compile(
    r"\s+(?:(?:(?:medically|expert|fact)\s+)?reviewed|fact[- ]checked|edited|photos?|photographs?|"
    r"illustrations?|graphics?|video)\s+by\b.*$"
    r"|\s+(?:more|view|see|read)\s+(?:all\s+|more\s+)?(?:posts|articles|stories)\b.*$",
    re.IGNORECASE,
)
_CALENDAR_ONLY_RE = re.compile(rf"^(?:{_MONTHS}|{_WEEKDAYS})$", re.IGNORECASE)
_USERNAME_RE = re.compile(r"^[a-z0-9_]+(?:[._][a-z0-9_]+)+$")
# Post-nominal credentials: a separate part after a comma, never a second author.
_CREDENTIAL_RE = re.compile(
    r"^(?:(?:md|m\.d\.|do|phd|ph\.d\.|rn|np|pa-c|dvm|vmd|dds|dmd|mba|cpa|cfa|cfp|jd|esq|msc|ms|ma|ba|bsc|"
    r"mph|mw|lvt|vts|dacvb|facs|facp|rd|rdn|ld|cscs|ryt|e-ryt|lcsw|lmft|psyd|pharmd|mpharm|frcs|"
    r"mrcp|mbbs|bds|ccc-slp|otr|pt|dpt|atc|cissp|pmp)\b\.?\s*)+$",
    re.IGNORECASE,
)
# Trailing ALL-CAPS outlet after a mixed-case name: "Brian Truitt USA TODAY" -> "Brian Truitt".
_CAPS_TAIL_RE = re.compile(r"(?<=[a-z])\s+((?:[A-Z][A-Z&.'-]+\s*)+)$")
_NAME_SUFFIXES = frozenset({"II", "III", "IV", "JR", "JR.", "SR", "SR."})
# Non-English "by": stripped only when a full name follows, "Von Miller" is a name.
_FOREIGN_BY_RE = re.compile(r"^(?:(?i:par|von|por|door|av|af|przez|od)|di|da)\s+(?=\S+\s+\S)")
_AUTHOR_LABEL_RE = re.compile(
    r"^(?:authors?|autor(?:in|en|es)?|auteurs?|autore|byline|writers?|reporters?|posted|"
    r"written|contributors?)\s*[:\-–—]\s*",
    re.IGNORECASE,
)
_AUTHOR_SPLIT_RE = re.compile(r"\s+(?:and|with|und|et|&)\s+|\s*[,;|&/•·]\s*|\s+[-–—]\s+", re.IGNORECASE)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URLISH_RE = re.compile(r"(?:https?:|www\.|\.com\b|\.html?\b|/)", re.IGNORECASE)
_URL_RE = re.compile(r"^(?:https?:)?//|^www\.|://", re.IGNORECASE)
_ROLE_WORDS = (
    r"(?:senior|chief|staff|special|contributing|political|foreign|national|international|"
    r"business|sports?|science|health|tech(?:nology)?|investigative|associate|managing|deputy|"
    r"executive|assistant|general|local|city|metro|news|digital|editorial|data|legal|economics?|"
    r"economy|freelance|guest|white house|washington|world|entertainment|culture|arts|opinion|"
    r"features?|global|regional|europe|asia|africa|middle east|lead|principal|junior|"
    r"multimedia|video|photo|breaking news|social media|content|web|online|copy|field|auto|autos|"
    r"automotive|motoring|travel|food|fashion|style|real estate|markets?|finance|financial|money|"
    r"ap|associated press|reuters|afp|bloomberg|cnn|bbc|usa today|medical|weather|education|climate|"
    r"energy|environment|environmental|crime|courts?|investigations?|transportation|religion|"
    r"sr\.?|jr\.?)"
)
_ROLE_NOUNS = (
    r"(?:writer|reporter|correspondent|editor|columnist|contributor|journalist|photographer|"
    r"photojournalist|producer|analyst|critic|intern|anchor|host|author|bureau chief|staff|"
    r"fellow|blogger|strategist|researcher|director|manager|presenter|commentator|"
    r"desk|team|chief|head|publisher|founder|ceo|president)"
)
_ROLE_RE = re.compile(
    rf"^(?:(?:the|a|an|our)\s+)?(?:{_ROLE_WORDS}\s+)*{_ROLE_NOUNS}s?(?:\s+(?:at|for|of|with|in|to)\b.*)?$"
    r"|^special\s+to\b.*$|^for\s+(?:the\s+)?\S.*$",
    re.IGNORECASE,
)
_ROLE_TAIL_RE = re.compile(
    rf"\s+(?:{_ROLE_WORDS}\s+)*(?:writer|reporter|correspondent|editor|columnist|contributor|journalist|"
    r"founder|co-founder|ceo|expert|reviewer|consultant|specialist|strategist|editor-in-chief|"
    r"photographer|producer|analyst)s?$",
    re.IGNORECASE,
)
_PLACE_TAIL_RE = re.compile(r"\s+(?:in|at|for|from)\s+(?:the\s+)?[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*)*$")
_DATE_TAIL_RE = re.compile(
    rf"\s+(?:(?:last\s+)?(?:updated|published|posted|modified|on)\b.*"
    rf"|{_WEEKDAYS}\s+.*\d.*|{_MONTHS}\s+\d.*|\d.*)$",
    re.IGNORECASE,
)
_DATE_HEAD_RE = re.compile(r"^(?:(?:last|first)\s+)?(?:updated|published|posted|modified|created|on)\b", re.IGNORECASE)
_URL_IN_TEXT_RE = re.compile(r"(?:https?://|www\.)\S*", re.IGNORECASE)
# Words that make a byline part an organization ("The Washington Post", "Example Media Group").
_ORG_WORD_RE = re.compile(
    r"\b(?:post|times|news|journal|media|press|tribune|herald|gazette|daily|magazine|network|agency|"
    r"group|inc|ltd|llc|gmbh|corp|corporation|company|newspaper|radio|television|tv|broadcasting|"
    r"chronicle|observer|telegraph|guardian|independent|express|mirror|standard|review|weekly|"
    r"online|digital|wire|service|services|bureau|channel|studios?)\b\.?$|\.(?:com|org|net|co\.uk)$",
    re.IGNORECASE,
)
_LAST_FIRST_RE = re.compile(r"^\s*([^\W\d_][\w'’.-]+),\s*([^\W\d_][\w'’.-]+(?:\s+[^\W\d_]\.?)?)\s*$")
_ET_AL_RE = re.compile(r"\s*\bet\s+al\b\.?", re.IGNORECASE)
_TEMPLATE_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|%[a-z_]+%|\$\{.*?\}", re.IGNORECASE)
_STRIP_CHARS = " \t-–—:;,|/\\'\"•·*_~+=<>[](){}!?"
_HAS_LETTER_RE = re.compile(r"[^\W\d_]")
_DIGIT_RE = re.compile(r"\d")


def _smart_case(name: str) -> str:
    """ALL-CAPS bylines become Title Case; short all-caps tokens (AP, AFP, PTI) are acronyms."""
    letters = [c for c in name if c.isalpha()]
    if len(letters) >= 2 and name.isupper() and (" " in name or len(letters) >= 5):
        return name.title()
    return name


def _clean_author(raw: str) -> str | None:
    name = _collapse(raw, limit=400)
    if not name:
        return None
    name = _EMAIL_RE.sub(" ", name)
    name = _TEMPLATE_RE.sub(" ", name)
    name = _PAREN_RE.sub(" ", name)
    name = _ET_AL_RE.sub("", name)
    name = _collapse(name).strip(_STRIP_CHARS)
    for _ in range(2):  # "Story by: Author: Jane"
        name = _GLUED_LABEL_RE.sub("", name)
        name = _BY_PREFIX_RE.sub("", name)
        name = _AUTHOR_LABEL_RE.sub("", name)
        name = _FOREIGN_BY_RE.sub("", name).strip(_STRIP_CHARS)
    if not name or _URLISH_RE.search(name) or "@" in name:
        return None
    if _ROLE_RE.match(name) or _DATE_HEAD_RE.match(name) or _CREDENTIAL_RE.match(name):
        return None
    if _USERNAME_RE.match(name):
        return None
    name = _DATE_TAIL_RE.sub("", name).strip(_STRIP_CHARS)
    if " " in name.strip():
        stripped = _ROLE_TAIL_RE.sub("", name)
        if " " in stripped:  # keep at least two words: "Jane Doe Staff Writer" -> "Jane Doe"
            name = stripped
        stripped = _PLACE_TAIL_RE.sub("", name)
        if " " in stripped:  # "Shaun Walker in Kyiv" -> "Shaun Walker"
            name = stripped
        m = _CAPS_TAIL_RE.search(name)
        if m and m.group(1).strip().upper() not in _NAME_SUFFIXES and " " in name[: m.start()].strip():
            name = name[: m.start()]
    name = name.strip(_STRIP_CHARS).lstrip(".")
    if not name or len(name) < 2 or len(name) > _MAX_AUTHOR:
        return None
    if _DIGIT_RE.search(name) or not _HAS_LETTER_RE.search(name):
        return None
    if len(name.split()) > _MAX_AUTHOR_WORDS:
        return None
    if name.casefold() in GENERIC_AUTHORS or _CALENDAR_ONLY_RE.match(name) or _ROLE_RE.match(name):
        return None
    return _smart_case(name)


def _normalize_authors(
    values: Iterable[Any], exclude: Iterable[str] = (), *, last_first: bool = False
) -> list[str]:
    excluded = {k for e in exclude if isinstance(e, str) for k in (_key(e), _site_key(e)) if k}
    excluded_sites = [k for k in (_site_key(e) for e in exclude if isinstance(e, str)) if k]
    out: list[str] = []
    seen: set[str] = set()
    count = 0
    for value in values:
        count += 1
        if count > 50:
            break
        if not isinstance(value, str):
            continue  # author 42 or {"x": 1}: not a name
        text = _fix_text(_collapse(value, limit=1000))
        text = _URL_IN_TEXT_RE.sub(" ", text)  # before splitting: URLs contain "/" separators
        if last_first:  # citation_author is "Doe, Jane"
            m = _LAST_FIRST_RE.match(text)
            if m:
                text = f"{m.group(2)} {m.group(1)}"
        # A prefix like "By" applies to the whole line, strip it before splitting.
        text = _GLUED_LABEL_RE.sub("", text)
        text = _BY_PREFIX_RE.sub("", text)
        text = _AUTHOR_CUT_RE.sub("", text)
        for part in _AUTHOR_SPLIT_RE.split(text):
            name = _clean_author(part)
            if name is None:
                continue
            k = _key(name)
            if not k or k in seen or k in excluded or (excluded_sites and _site_match(name, excluded_sites)):
                continue
            seen.add(k)
            out.append(name)
    people = [n for n in out if n.casefold() not in AGENCY_AUTHORS and not _ORG_WORD_RE.search(n)]
    if people:
        out = people
    return out[:_MAX_AUTHORS]


def normalize_authors(values: Iterable[str]) -> list[str]:
    """Byline strings -> clean, de-duplicated person names, in order.

    Strips "By"/"Written by"/"Author:" prefixes, splits on and/&/,/;/|/with, drops e-mails, URLs,
    dates, role suffixes ("Staff Writer"), credentials ("MD"), generic bylines (GENERIC_AUTHORS), and
    agency/outlet names when a person is also named (AGENCY_AUTHORS); ALL-CAPS names become Title
    Case. At most 10 names of at most 80 characters. The site's own name is handled by
    extract_html_metadata, which knows it.
    """
    try:
        if isinstance(values, str):
            values = [values]
        return _normalize_authors(values)
    except Exception:
        LOGGER.debug("author normalization failed for %r", values, exc_info=True)
        return []


# --------------------------------------------------------------------------------------------
# titles
# --------------------------------------------------------------------------------------------
_TITLE_SEP_RE = re.compile(r"(\s+(?:[|\-–—~/\\·•»«:]{1,2}|::)\s+|\s*[|»«]\s*)")
_PREFIX_COLON_RE = re.compile(r"^([^:]{2,60}):\s+(.+)$")
_ELLIPSIS_RE = re.compile(r"(?:\.\.\.|…)\s*$")
_PLACEHOLDER_TITLES = frozenset(
    {
        "", "untitled", "untitleddocument", "home", "homepage", "index", "pagenotfound", "404",
        "404notfound", "404pagenotfound", "notfound", "error", "null", "none", "undefined", "title",
        "newpage", "justamoment", "accessdenied", "attentionrequired", "attentionrequiredcloudflare",
        "loading", "document", "welcome", "default", "article", "news", "blog", "post", "page",
        "youarebeingredirected", "redirecting", "pleasewait", "securitycheck", "captcha",
        "subscribetoread", "signin", "login", "forbidden", "403forbidden",
    }
)
_DOMAIN_TAIL_RE = re.compile(r"\.(?:com|net|org|info|news|co|io|tv|fm|[a-z]{2})(?:\.[a-z]{2})?$")


def _site_key(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).casefold().strip()
    t = t.removeprefix("www.")
    t = _DOMAIN_TAIL_RE.sub("", t)
    t = t.removeprefix("the ")
    return _NON_ALNUM_RE.sub("", t)


# Words a site adds to its name in titles ("BBC News", "CNN Politics", "Guardian US").
_SITE_EXTRAS = frozenset(
    {
        "news", "online", "com", "net", "org", "politics", "sport", "sports", "business", "world",
        "live", "uk", "us", "usa", "international", "intl", "tv", "digital", "magazine", "mag", "blog",
        "daily", "newsroom", "media", "network", "group", "edition", "today", "tech", "technology",
        "science", "health", "opinion", "entertainment", "culture", "lifestyle", "travel", "money",
        "markets", "finance", "radio", "channel", "newspaper", "times", "post", "press", "journal",
        "español", "espanol", "deutsch", "français", "francais", "en", "es", "de", "fr", "the",
        "newsuk", "newsus", "worldnews", "latest", "breaking", "breakingnews",
    }
)


def _site_match(segment: str, site_keys: list[str]) -> bool:
    """Loose match so "BBC News" matches "bbc" (from the host) and "The Guardian" matches "Guardian",
    without eating a headline segment that merely starts with the site's name ("Time to act")."""
    k = _site_key(segment)
    if not k:
        return False
    for s in site_keys:
        if not s:
            continue
        if k == s:
            return True
        if len(s) >= 2 and (k.startswith(s) or k.endswith(s)):
            rest = k[len(s):] if k.startswith(s) else k[: len(k) - len(s)]
            if rest in _SITE_EXTRAS:
                return True
        if len(k) >= 3 and len(k) * 2 >= len(s) and (s.startswith(k) or s.endswith(k)):
            return True
    return False


def _is_placeholder(title: str, site_keys: list[str]) -> bool:
    k = _key(title)
    if k in _PLACEHOLDER_TITLES or _TEMPLATE_RE.search(title):
        return True
    return bool(site_keys) and _site_key(title) in site_keys


def _words(text: str) -> int:
    return len(text.split())


def _h1_preferred(title: str, h1: str, site_keys: list[str]) -> bool:
    """h1 is the headline as displayed: take it when the title merely wraps it (site/section around it)."""
    kt, kh = _key(title), _key(h1)
    if not kh or not kt:
        return False
    if kh == kt:
        return True
    if site_keys and _site_match(h1, site_keys):
        return False  # a logo in <h1>
    if _words(h1) < 3:
        return False
    if kh in kt and len(kh) * 5 >= len(kt) * 2:
        return True
    if _ELLIPSIS_RE.search(title):  # truncated <title>/og:title: the full h1 wins
        stem = _key(_ELLIPSIS_RE.sub("", title))
        if len(stem) >= 15 and kh.startswith(stem):
            return True
    return False


def _strip_site(title: str, site_keys: list[str]) -> str:
    parts = _TITLE_SEP_RE.split(title)
    segments = parts[0::2]
    seps = parts[1::2]
    if len(segments) > 1 and site_keys:
        # Drop site segments from either end: "Headline | Section | Site" keeps the section only if
        # nothing says it is one, because a wrong cut loses words of the headline.
        while len(segments) > 1:
            if _site_match(segments[-1], site_keys) and _key("".join(segments[:-1])):
                segments.pop()
                seps.pop()
            elif _site_match(segments[0], site_keys) and _key("".join(segments[1:])):
                segments.pop(0)
                seps.pop(0)
            else:
                break
        out = segments[0]
        for sep, seg in zip(seps, segments[1:]):
            out += sep + seg
        title = out.strip()
    if site_keys:
        m = _PREFIX_COLON_RE.match(title)
        if m and _site_match(m.group(1), site_keys) and _words(m.group(2)) >= 2:
            title = m.group(2)
    return title.strip(" |-–—:·•»«~")


def _clean_title(raw: Any, sites: Iterable[str | None], h1: str | None = None) -> str | None:
    title = _collapse(raw, limit=_MAX_TITLE)
    if not title:
        return None
    title = _collapse(_fix_text(title))
    site_keys = [k for k in (_site_key(s) for s in sites if isinstance(s, str)) if k]
    h1_text = _collapse(_fix_text(_collapse(h1, limit=_MAX_TITLE))) if h1 else ""
    if h1_text and _h1_preferred(title, h1_text, site_keys):
        title = h1_text
    else:
        title = _strip_site(title, site_keys)
    title = _collapse(title)
    if not title or _is_placeholder(title, site_keys):
        return None
    return title


def clean_title(raw: str | None, *, site_name: str | None = None, h1: str | None = None) -> str | None:
    """Headline without the site name around it ("Headline | Site" -> "Headline").

    A segment is removed only when it matches site_name (loosely), or when h1 confirms the rest;
    an h1 contained in or nearly equal to the title is preferred (it is the displayed headline).
    Whitespace is collapsed, length capped at 1000, empty or placeholder titles give None.
    """
    try:
        return _clean_title(raw, [site_name] if site_name else [], h1)
    except Exception:
        LOGGER.debug("title cleaning failed for %r", raw, exc_info=True)
        return None


def _agree(a: str, b: str) -> bool:
    """Two title candidates name the same headline (equal, or one is a truncation of the other)."""
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= 20 and long_.startswith(short) and len(short) * 10 >= len(long_) * 6


_STRUCTURED_TITLE_SOURCES = frozenset({"ld", "og", "twitter", "meta"})
_UNBALANCED_PAIRS = (("(", ")"), ("[", "]"), ("“", "”"))
_PREFIX_NOISE_RE = re.compile(
    rf"^(?:\w{{1,15}}\s*:|(?=.*\b{_MONTHS}(?:\W|$))(?=.*\d)[\w\s,./-]{{1,30}})$", re.IGNORECASE
)
_SUFFIX_NOISE_RE = re.compile(
    r"^(?:(?:posted|published|updated|by|on)\b.*|\(?[\w.-]+\.[a-z]{2,}\)?\s*\d*|\d+)$", re.IGNORECASE
)
_TRAILING_CONNECTOR_RE = re.compile(r"\b(?:and|or|of|the|a|an|to|in|for|with|on|at|by|from|including)$", re.IGNORECASE)


def _looks_truncated(text: str) -> bool:
    t = text.rstrip()
    if _ELLIPSIS_RE.search(t) or _TRAILING_CONNECTOR_RE.search(t):
        return True
    return any(t.count(a) > t.count(b) for a, b in _UNBALANCED_PAIRS)


def _h1_extra_is_noise(h1: str, core: str) -> bool:
    """What the <h1> adds around the structured title is a dateline, a "Label:" or a byline/score,
    not words of the headline (a kicker year or a subtitle stays)."""
    h, c = h1.casefold(), core.casefold()
    idx = h.find(c)
    if idx < 0:
        return False
    prefix = h[:idx].strip(" \t|-–—·•,.")
    suffix = h[idx + len(c):].strip(" \t|-–—·•,.")
    if prefix and not _PREFIX_NOISE_RE.match(prefix):
        return False
    if suffix and not _SUFFIX_NOISE_RE.match(suffix):
        return False
    return bool(prefix or suffix)


def _choose_title(cands: list[tuple[str, str]], prefer: str | None = None) -> str | None:
    """Candidates in order of trust; the most corroborated wins, trust breaks ties.

    prefer names a source that wins outright: the headline <h1> when it stands on its own, because
    the displayed headline is what readers (and benchmarks) call the title, while og:title and
    <title> are often SEO variants of it."""
    keyed = [(src, text, _key(text)) for src, text in cands if text]
    keyed = [c for c in keyed if c[2]]
    if not keyed:
        return None
    best_i, best_support = 0, -1
    h1_rejected = False
    for i, (src, text, k) in enumerate(keyed):
        if prefer is not None and src == prefer:
            best_i, best_support = i, 1
            # An <h1> that wraps a structured title with a dateline, "Title:" label or byline:
            # the structured title is the clean headline.
            for j, (s2, t2, k2) in enumerate(keyed):
                if s2 in _STRUCTURED_TITLE_SOURCES and k2 != k and len(k2) >= 15 and k2 in k:
                    if _h1_extra_is_noise(text, t2) and not _looks_truncated(t2):
                        best_i, h1_rejected = j, True
                        break
            break
        support = sum(1 for j, (s2, _t2, k2) in enumerate(keyed) if j != i and s2 != src and _agree(k, k2))
        if support > best_support:
            best_i, best_support = i, support
    src, text, k = keyed[best_i]
    agreeing = [c for c in keyed if _agree(k, c[2])]
    for s2, t2, k2 in agreeing:
        # Same words: the visible <h1> spelling, unless it is shouted in ALL CAPS; a longer <h1>
        # that starts with the winner: the winner was truncated (JSON-LD headlines often are).
        if h1_rejected:
            break
        if s2 == "h1" and (k2 == k or (k2.startswith(k) and _looks_truncated(text))) and not t2.isupper():
            text = t2
            break
    if _looks_truncated(text) and len(agreeing) > 1:
        text = max((c[1] for c in agreeing), key=len)
    return text[:_MAX_TITLE]


# --------------------------------------------------------------------------------------------
# language
# --------------------------------------------------------------------------------------------
_LANG_CODE_RE = re.compile(r"^[a-z]{2,3}$")
_NO_LANG = frozenset({"und", "mul", "zxx", "xx", "mis", "zz"})
# CLD2 still speaks a few pre-2000 ISO 639 codes.
_CLD2_LEGACY = {"iw": "he", "jw": "jv", "in": "id", "ji": "yi"}
# What CLD2 refuses as invalid UTF-8: C0 and C1 control characters, which reach the text as mojibake
# or as "&#146;" references (HTML means cp1252 punctuation, lxml leaves U+0092), and lone surrogates.
_CONTROL_TO_SPACE = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0), *range(0xD800, 0xE000)], " ")


def _lang_code(value: Any) -> str | None:
    """'en-US', 'en_GB', 'EN', 'fr, en' -> primary subtag, lower-case."""
    text = _collapse(value)
    if not text:
        return None
    primary = re.split(r"[-_,;\s]", text, maxsplit=1)[0].lower()
    if _LANG_CODE_RE.match(primary) and primary not in _NO_LANG:
        return primary
    return None


def _has_letters(text: str, count: int) -> bool:
    """Whether ``text`` holds at least ``count`` letters; stops counting there (C-level filter)."""
    return len(list(islice(filter(str.isalpha, text), count))) == count


def detect_language(text: str) -> str | None:
    """Language of a text with CLD2 (pycld2), on the first ~2000 characters (enough, and fast).

    None for texts shorter than ~20 characters or when CLD2 does not call its answer reliable:
    an unknown language is better than a wrong one.
    """
    if not isinstance(text, str):
        return None
    sample = _collapse(text[: _LANG_SAMPLE * 2])
    if len(sample) > _LANG_SAMPLE:
        cut = sample.rfind(" ", 0, _LANG_SAMPLE)
        sample = sample[: cut if cut > _LANG_SAMPLE // 2 else _LANG_SAMPLE]
    if len(sample) < _LANG_MIN_CHARS or not _has_letters(sample, _LANG_MIN_CHARS // 2):
        return None
    try:
        reliable, _, details = pycld2.detect(sample.translate(_CONTROL_TO_SPACE), isPlainText=True)
    except pycld2.error:
        LOGGER.debug("language identification failed", exc_info=True)
        return None
    if not reliable or details[0][1] == "un":  # "un": CLD2's own "unknown"
        return None
    code = _lang_code(details[0][1])  # "zh-Hant" -> "zh"; "xx-Qaai" (an unknown script) -> None
    return _CLD2_LEGACY.get(code, code) if code else None


# --------------------------------------------------------------------------------------------
# JSON-LD
# --------------------------------------------------------------------------------------------
_ARTICLE_TYPES = frozenset(
    {
        "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
        "reviewnewsarticle", "backgroundnewsarticle", "askpublicnewsarticle", "satiricalarticle",
        "scholarlyarticle", "medicalscholarlyarticle", "techarticle", "report", "blogposting",
        "liveblogposting", "socialmediaposting", "discussionforumposting", "advertisercontentarticle",
        "posting",
    }
)
_PAGE_TYPES = frozenset({"webpage", "itempage", "videoobject", "mediaobject", "audioobject", "creativework"})
_ORG_TYPES = frozenset(
    {
        "organization", "newsmediaorganization", "corporation", "ngo", "governmentorganization",
        "educationalorganization", "localbusiness", "onlinebusiness", "website", "brand",
    }
)
_TRAILING_COMMA_RE = re.compile(r",\s*([}\]])")
_JSON_WRAPPER_RE = re.compile(r"^\s*(?:<!--|/\*\s*<!\[CDATA\[\s*\*/|<!\[CDATA\[)|(?:-->|/\*\s*\]\]>\s*\*/|\]\]>)\s*;?\s*$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _load_json_ld(text: str | None) -> list[Any]:
    """Parse one ld+json block; lenient about trailing commas, control characters, comments and
    several concatenated objects. Returns [] rather than raising."""
    if not text:
        return []
    text = text.strip()
    if not text or len(text) > _MAX_JSONLD_CHARS:
        return []
    try:
        return [json.loads(text)]
    except (ValueError, RecursionError):
        pass
    fixed = _JSON_WRAPPER_RE.sub("", text)
    fixed = _CONTROL_RE.sub(" ", fixed)
    fixed = _TRAILING_COMMA_RE.sub(r"\1", fixed).strip().rstrip(";")
    decoder = json.JSONDecoder(strict=False)
    try:
        return [decoder.decode(fixed)]
    except (ValueError, RecursionError):
        pass
    out: list[Any] = []
    idx, n = 0, len(fixed)
    while idx < n and len(out) < 20:
        while idx < n and fixed[idx] in " \t\r\n,;":
            idx += 1
        if idx >= n:
            break
        try:
            obj, idx = decoder.raw_decode(fixed, idx)
        except (ValueError, RecursionError):
            break
        out.append(obj)
    return out


def _types(node: dict[str, Any]) -> set[str]:
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    out = set()
    for v in values:
        if isinstance(v, str) and v:
            out.add(re.split(r"[/:#]", v.strip())[-1].lower())
    return out


def _ld_text(value: Any, limit: int = _MAX_TITLE) -> str:
    """A JSON-LD text value: string, {"@value"|"name": ...} or a list of those; entities decoded
    (many CMSs double-escape them in JSON-LD)."""
    for _ in range(3):
        if isinstance(value, list):
            value = next((v for v in value if v), None)
        elif isinstance(value, dict):
            value = value.get("@value", value.get("name"))
        else:
            break
    if not isinstance(value, str):
        return ""
    text = _collapse(value, limit=limit * 2)
    if "&" in text:
        text = html.unescape(text)
    if "<" in text and ">" in text:
        text = re.sub(r"<[^>]{0,200}>", " ", text)
    return _collapse(text, limit=limit)


class _JsonLd:
    """The typed nodes of all ld+json blocks, an @id index, and the chosen article node."""

    def __init__(self, blocks: list[Any]) -> None:
        self.candidates: list[dict[str, Any]] = []
        self.by_id: dict[str, dict[str, Any]] = {}
        self._walk(blocks)
        self.article: dict[str, Any] | None = None
        self.page: dict[str, Any] | None = None
        self.website: dict[str, Any] | None = None

    def _walk(self, blocks: list[Any]) -> None:
        stack: list[tuple[Any, bool]] = [(b, True) for b in reversed(blocks)]
        seen = 0
        while stack and seen < _MAX_JSONLD_NODES:
            node, top = stack.pop()
            seen += 1
            if isinstance(node, list):
                stack.extend((n, top) for n in reversed(node[:500]))
                continue
            if not isinstance(node, dict):
                continue
            nid = node.get("@id")
            if isinstance(nid, str) and nid and len(node) > 1:
                self.by_id.setdefault(nid, node)
            if top and "@type" in node:
                self.candidates.append(node)
            for key, value in node.items():
                if not isinstance(value, (dict, list)):
                    continue
                # Only the top level, @graph and mainEntity can hold "the" article; anything
                # deeper (related articles, breadcrumbs) is indexed for @id lookups only.
                stack.append((value, top and key in ("@graph", "mainEntity")))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and set(value) <= {"@id", "@type"} and isinstance(value.get("@id"), str):
            return self.by_id.get(value["@id"], value)
        return value

    def choose(self, page_url: str | None) -> None:
        best: tuple[int, int] | None = None
        for order, node in enumerate(self.candidates):
            types = _types(node)
            if types & _ARTICLE_TYPES or any(t.endswith("article") for t in types):
                score = (
                    4 * bool(node.get("headline"))
                    + 2 * bool(node.get("datePublished"))
                    + 2 * bool(node.get("author"))
                    + bool(node.get("articleBody"))
                )
                node_url = node.get("url") or node.get("mainEntityOfPage")
                if isinstance(node_url, dict):
                    node_url = node_url.get("@id")
                if page_url and isinstance(node_url, str) and normalize_url(node_url, page_url) == page_url:
                    score += 3
                if best is None or score > best[0]:
                    best = (score, order)
            elif types & _PAGE_TYPES and self.page is None:
                self.page = node
            elif "website" in types and self.website is None:
                self.website = node
        if best is not None:
            self.article = self.candidates[best[1]]

    def nodes(self) -> list[dict[str, Any]]:
        return [n for n in (self.article, self.page) if n is not None]

    def values(self, *keys: str) -> list[Any]:
        """Every non-empty value of these keys, article node first (for fallbacks across nodes)."""
        return [n.get(k) for n in self.nodes() for k in keys if n.get(k) not in (None, "", [], {})]

    def get(self, *keys: str) -> Any:
        for node in self.nodes():
            for key in keys:
                value = node.get(key)
                if value not in (None, "", [], {}):
                    return value
        return None

    def authors(self) -> tuple[list[str], list[str]]:
        """(person names, organization names) from author/creator of the article node."""
        persons: list[str] = []
        orgs: list[str] = []
        for node in self.nodes():
            value = node.get("author") or node.get("creator")
            if not value:
                continue
            items = value if isinstance(value, list) else [value]
            for item in items[:30]:
                item = self.resolve(item)
                if isinstance(item, str):
                    persons.append(item)
                elif isinstance(item, dict):
                    name = _ld_text(item.get("name"), 200)
                    if not name:
                        given = _ld_text(item.get("givenName"), 100)
                        family = _ld_text(item.get("familyName"), 100)
                        name = f"{given} {family}".strip()
                    if not name:
                        continue
                    (orgs if _types(item) & _ORG_TYPES else persons).append(name)
            if persons or orgs:
                break
        return persons, orgs

    def publisher_names(self) -> list[str]:
        names = []
        for node in self.nodes():
            pub = self.resolve(node.get("publisher") or node.get("sourceOrganization"))
            for p in pub if isinstance(pub, list) else [pub]:
                p = self.resolve(p)
                if isinstance(p, dict) and "person" in _types(p):
                    continue  # a personal blog's publisher is its author, not a site name
                name = _ld_text(p.get("name") if isinstance(p, dict) else p, _MAX_SITE_NAME)
                if name:
                    names.append(name)
        if self.website is not None:
            name = _ld_text(self.website.get("name"), _MAX_SITE_NAME)
            if name:
                names.append(name)
        return names

    def image(self) -> str | None:
        value = self.get("image", "thumbnailUrl")
        for _ in range(4):
            value = self.resolve(value)
            if isinstance(value, list):
                value = next((v for v in value if v), None)
            elif isinstance(value, dict):
                value = value.get("url") or value.get("contentUrl") or value.get("@id")
            else:
                break
        return value if isinstance(value, str) else None

    def keywords(self) -> list[str]:
        value = self.get("keywords")
        if isinstance(value, str):
            return value.split(",")
        if isinstance(value, list):
            out: list[str] = []
            for v in value[:200]:
                if isinstance(v, str):
                    out.extend(v.split(",") if "," in v and len(value) == 1 else [v])
                elif isinstance(v, dict):
                    out.append(_ld_text(v, _MAX_TAG))
            return out
        return []


# --------------------------------------------------------------------------------------------
# page scan
# --------------------------------------------------------------------------------------------
_TEXT_NODES_XPATH = etree.XPath(
    "descendant-or-self::text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]"
)
# Element boundaries that separate words even without whitespace in the source.
_BREAKING_TAGS = frozenset(
    {"br", "p", "div", "li", "ul", "ol", "section", "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
     "table", "tr", "td", "th", "dt", "dd", "figure", "figcaption", "blockquote", "hr", "address", "time"}
)


def _element_text(el: Any, limit: int, *, spaced: bool) -> str:
    """Visible text of an element without touching it. spaced=True puts a space at every element
    boundary (bylines: "<span>Jane Doe</span><span>May 5</span>"), otherwise only at <br> and
    block boundaries (headings, where inline markup splits words: "Head<em>line</em>")."""
    pieces: list[str] = []
    total = 0
    for node in _TEXT_NODES_XPATH(el):
        if spaced:
            pieces.append(" ")
        else:
            parent = node.getparent()
            if parent is not None and parent is not el and parent.tag in _BREAKING_TAGS:
                pieces.append(" ")
        pieces.append(node)
        total += len(node)
        if total > limit * 4:
            break
    return _collapse("".join(pieces), limit=limit)


def _in_content(el: Any) -> bool:
    for depth, anc in enumerate(el.iterancestors()):
        if depth > 15:
            break
        if anc.tag in ("article", "main") or (anc.get("role") or "").lower() == "main":
            return True
    return False


class _TextNodes:
    """A tree's text nodes in document order, for the passes that look for a few of them (bylines,
    shown dates): their values are read once, as plain strings (lxml's "smart" strings, which
    know their element, cost twice as much, 1 ms for the thousand text nodes of a page), and a
    node itself is looked up by its position when one is used. A lookup lists the text nodes
    again (a third of a millisecond): past _NTH_LOOKUPS of them, all the nodes are read instead."""

    __slots__ = ("_lookups", "_nodes", "_tree", "_values")

    def __init__(self, tree: Any) -> None:
        self._tree = tree
        self._values: list[str] | None = None
        self._nodes: list[Any] | None = None
        self._lookups = 0

    @property
    def values(self) -> list[str]:
        if self._values is None:
            self._values = _TEXT_VALUES_XPATH(self._tree)
        return self._values

    def node(self, index: int) -> Any | None:
        """The text node (a smart string) of ``values[index]``."""
        if self._nodes is None:
            self._lookups += 1
            if self._lookups <= _NTH_LOOKUPS:
                nodes = _NTH_TEXT_XPATH(self._tree, n=index + 1)
                return nodes[0] if nodes else None
            self._nodes = _ALL_TEXT_XPATH(self._tree)
        return self._nodes[index] if index < len(self._nodes) else None


_TEXT_VALUES_XPATH = etree.XPath(".//text()", smart_strings=False)
_ALL_TEXT_XPATH = etree.XPath(".//text()")
_NTH_TEXT_XPATH = etree.XPath("(.//text())[$n]")
_NTH_LOOKUPS = 3


class _Page:
    """Everything read in one pass over the few tags metadata lives in."""

    __slots__ = (
        "metas", "canonical", "image_src", "scripts", "title", "h1s", "h1_elements", "h1_total", "times", "base", "lang",
        "texts",
    )

    def __init__(self, tree: Any) -> None:
        self.metas: dict[str, list[str]] = {}
        self.canonical: str | None = None
        self.image_src: str | None = None
        self.scripts: list[str] = []
        self.title: str | None = None
        self.h1s: list[tuple[str, bool]] = []  # (text, inside article/main)
        self.h1_elements: dict[str, Any] = {}  # the first <h1> element of each text in h1s
        self.h1_total = 0
        self.times: list[Any] = []
        self.base: str | None = None
        self.lang: str | None = None
        self.texts = _TextNodes(tree)
        fallback_title: str | None = None
        for el in tree.iter("meta", "link", "script", "title", "h1", "time", "base"):
            tag = el.tag
            if tag == "meta":
                content = el.get("content")
                if content is None:
                    continue
                for attr in ("property", "name", "itemprop", "http-equiv"):
                    names = el.get(attr)
                    if names:
                        for name in names.lower().split():
                            self.metas.setdefault(name, []).append(content)
            elif tag == "link":
                rel = (el.get("rel") or "").lower().split()
                href = el.get("href")
                if href:
                    if "canonical" in rel and self.canonical is None:
                        self.canonical = href
                    elif "image_src" in rel and self.image_src is None:
                        self.image_src = href
            elif tag == "script":
                if "ld+json" in (el.get("type") or "").lower() and el.text:
                    self.scripts.append(el.text)
            elif tag == "title":
                parent = el.getparent()
                if parent is not None and parent.tag == "head" and self.title is None:
                    self.title = el.text_content()
                elif fallback_title is None and (parent is None or parent.tag not in ("svg", "symbol", "g")):
                    fallback_title = el.text_content()
            elif tag == "h1":
                self.h1_total += 1
                if len(self.h1s) < 5:
                    text = _element_text(el, _MAX_TITLE, spaced=False)
                    if text:
                        self.h1s.append((text, _in_content(el)))
                        self.h1_elements.setdefault(text, el)
            elif tag == "time":
                if len(self.times) < 100:
                    self.times.append(el)
            elif tag == "base":
                if self.base is None and el.get("href"):
                    self.base = el.get("href")
        if self.title is None:
            self.title = fallback_title
        root = tree.getroottree().getroot()
        self.lang = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or root.get("xml:lang")

    def meta(self, *names: str) -> list[str]:
        out: list[str] = []
        for name in names:
            out.extend(self.metas.get(name, ()))
        return out

    def first(self, *names: str, limit: int = _MAX_TITLE) -> str | None:
        for value in self.meta(*names):
            text = _collapse(value, limit=limit)
            if text:
                return text
        return None


_META_TITLE = ("og:title",)
_META_TWITTER_TITLE = ("twitter:title",)
_META_OTHER_TITLE = ("dc.title", "dcterms.title", "parsely-title", "sailthru.title", "headline", "title")
_META_AUTHORS = (
    "author", "byl", "parsely-author", "sailthru.author", "dc.creator", "dcterms.creator",
    "article.author", "article:author_name", "cxenseparse:author", "byline",
)
_META_PUBLISHED = (
    "article:published_time", "og:article:published_time", "article:published", "og:published_time",
    "published_time", "datepublished", "date", "pubdate", "publishdate", "publish-date", "publish_date",
    "published-date", "publication_date", "date_published", "dc.date", "dc.date.issued", "dcterms.date",
    "dcterms.issued", "dcterms.created", "dc.date.created", "sailthru.date", "parsely-pub-date",
    "article.published", "citation_publication_date", "citation_date", "citation_online_date",
    "originalpublicationdate", "og:pubdate", "displaydate", "cxenseparse:recs:publishtime",
    "article_date_original", "datecreated", "uploaddate",
)
_META_MODIFIED = (
    "article:modified_time", "og:article:modified_time", "article:modified", "og:updated_time",
    "modified_time", "datemodified", "dcterms.modified", "dc.date.modified", "last-modified",
    "lastmod", "article.updated", "sailthru.lastmodified", "parsely-updated", "cxenseparse:recs:updatetime",
)
_META_KEYWORDS = ("news_keywords", "keywords", "parsely-tags", "sailthru.tags", "dc.subject")

# Plain contains() on the usual spellings: translate() to lower case costs ~4x on big pages.
# The same elements as testing each word on every element: an element without the attribute
# is passed over before its (empty) value is made into a string for each word, a third faster.
_BYLINE_XPATH = etree.XPath(
    ".//*[@class and (contains(@class, 'byline') or contains(@class, 'author') or contains(@class, 'Byline')"
    " or contains(@class, 'Author') or contains(@class, 'BYLINE') or contains(@class, 'by-line'))"
    " or @id and (contains(@id, 'byline') or contains(@id, 'author'))]"
)
_ITEMPROP_AUTHOR_XPATH = etree.XPath(".//*[@itemprop and contains(concat(' ', normalize-space(@itemprop), ' '), ' author ')]")
_ITEMPROP_NAME_XPATH = etree.XPath(".//*[@itemprop='name']")
_REL_AUTHOR_XPATH = etree.XPath(".//a[@rel and contains(concat(' ', normalize-space(@rel), ' '), ' author ')]")  # links without rel skipped first
_ITEMPROP_DATE_XPATH = etree.XPath(".//*[@itemprop='datePublished' or @itemprop='dateModified']")
_BYLINE_SKIP_RE = re.compile(
    r"avatar|image|img|photo|pic|thumb|bio|desc|about|social|share|follow|twitter|facebook|"
    r"mail|comment|more|related|widget|popup|modal|authorized|list",
    re.IGNORECASE,
)
_BYLINE_SKIP_TAGS = frozenset({"script", "style", "img", "meta", "link", "noscript", "svg", "template", "form", "button"})
_MAX_BYLINE_TEXT = 120
_PUBLISH_HINT_RE = re.compile(r"publish|posted|created|issued|release|dateline|article-date|entry-date|post-date", re.IGNORECASE)
_MODIFIED_HINT_RE = re.compile(r"modif|updat|edited|revis", re.IGNORECASE)
_ARTICLE_CONTEXT_TAGS = frozenset({"article", "header", "main"})


def _site_label(host: str | None) -> str | None:
    """'www.bbc.co.uk' -> 'bbc': the name part of a host, used to recognize the site in titles."""
    if not host:
        return None
    labels = [lbl for lbl in host.split(".") if lbl]
    while labels and labels[0] in ("www", "m", "amp", "mobile", "edition", "news"):
        labels = labels[1:]
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in ("co", "com", "org", "net", "gov", "ac", "ne", "or", "go"):
        return labels[-3]
    if len(labels) >= 2:
        return labels[-2]
    return labels[0] if labels else None


def _first_date(values: Iterable[Any], now: datetime, month_first: bool | None = None) -> str | None:
    for value in values:
        if isinstance(value, list):
            value = next((v for v in value if v), None)
        if isinstance(value, dict):
            value = value.get("@value")
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            text = value if not isinstance(value, str) else value[: _MAX_DATE_CHARS * 2]
            result = normalize_date(text, now=now, month_first=month_first)
            if result:
                return result
    return None


def _time_value(el: Any) -> str | None:
    return el.get("datetime") or el.get("content") or _collapse(el.text_content(), limit=_MAX_DATE_CHARS) or None


def _markup_dates(page: _Page, tree: Any, now: datetime) -> tuple[str | None, str | None]:
    """Dates from itemprop elements and <time>: published prefers a <time> flagged as publication
    or sitting in the article header, so sidebar teasers' times are not taken for the article's."""
    published = modified = None
    for el in _ITEMPROP_DATE_XPATH(tree):
        if el.tag == "meta":
            continue  # already read with the other meta tags
        value = _time_value(el)
        if el.get("itemprop") == "datePublished":
            published = published or _first_date([value], now)
        else:
            modified = modified or _first_date([value], now)
    if published is not None and modified is not None:
        return published, modified
    scored: list[tuple[int, int, Any]] = []
    for order, el in enumerate(page.times):
        value = el.get("datetime")
        if not value:
            continue
        hints = " ".join(filter(None, (el.get("class"), el.get("id"), el.get("itemprop"), el.get("data-testid"))))
        if _MODIFIED_HINT_RE.search(hints):
            if modified is None:
                modified = _first_date([value], now)
            continue
        score = 0
        if el.get("pubdate") is not None or el.get("itemprop") == "datePublished":
            score += 3
        if _PUBLISH_HINT_RE.search(hints):
            score += 2
        for depth, anc in enumerate(el.iterancestors()):
            if depth > 12:
                break
            if anc.tag in _ARTICLE_CONTEXT_TAGS:
                score += 1
                break
        if score > 0:
            scored.append((-score, order, value))
    if published is None and scored:
        scored.sort(key=lambda t: (t[0], t[1]))
        published = _first_date([v for _, _, v in scored], now)
    return published, modified


def _structured_author_sources(
    page: _Page, tree: Any, persons: list[str], orgs: list[str]
) -> Iterable[Callable[[], list[str]]]:
    """Author sources that state authorship explicitly, in order of trust, evaluated lazily."""

    def meta() -> list[str]:
        values = [v for v in page.meta("article:author") if not _URL_RE.search(v.strip())]
        for name in _META_AUTHORS:
            values.extend(page.meta(name))
        return _normalize_authors(values)

    yield lambda: _normalize_authors(persons)
    yield meta
    yield lambda: _normalize_authors(page.meta("citation_author"), last_first=True)
    yield lambda: _itemprop_authors(tree)
    yield lambda: _rel_authors(tree)
    yield lambda: _normalize_authors(orgs)


def _heuristic_author_sources(tree: Any, texts: _TextNodes) -> Iterable[Callable[[], list[str]]]:
    """Bylines guessed from markup: labels ("Written by"), author-page links, byline classes."""
    for text in _label_bylines(texts):
        yield lambda text=text: _heuristic_names([text])
    yield lambda: _linked_authors(tree)
    for text in _byline_texts(tree):
        yield lambda text=text: _heuristic_names([text])


def _find_authors(page: _Page, tree: Any, persons: list[str], orgs: list[str], site_like: list[str]) -> list[str]:
    """First source naming someone other than the site wins. A byline that is the site or publisher
    itself is kept only as a last resort (company blogs and personal sites sign with the site's
    name), and only markup that states authorship can override it: guessed bylines cannot."""
    fallback: list[str] = []
    for source in _structured_author_sources(page, tree, persons, orgs):
        names = source()
        if not names:
            continue
        others = _normalize_authors(names, site_like)
        if others:
            return others
        fallback = fallback or names
    org_signed = bool(fallback) and (
        all(_is_org_name(n) for n in fallback) or fallback == _normalize_authors(orgs)
    )
    if fallback and not org_signed:
        return fallback
    # Nobody named, or only an organisation ("British Heart Foundation", a JSON-LD Organization):
    # a byline in the page names the person who wrote the article and wins.
    for source in _heuristic_author_sources(tree, page.texts):
        names = source()
        if not names:
            continue
        others = _normalize_authors(names, site_like)
        if others:
            return others
        fallback = fallback or names
    return fallback


# Words naming an organisation rather than a person, anywhere in the name ("Obesity Medicine
# Association", "Acme Editorial Team"); _ORG_WORD_RE covers the ones that end a publication's name.
_ORG_NAME_RE = re.compile(
    r"\b(?:foundation|clinic|association|institute|university|college|hospital|society|council|"
    r"team|staff|editorial|editors|newsroom|collective|solutions|company|ltd|inc|llc|gmbh|plc|"
    r"hotels?|academy|center|centre|department|ministry|organi[sz]ation|today)\b",
    re.IGNORECASE,
)


def _is_org_name(name: str) -> bool:
    return bool(_ORG_NAME_RE.search(name) or _ORG_WORD_RE.search(name))


def _itemprop_authors(tree: Any) -> list[str]:
    """Microdata authors: [itemprop=author] [itemprop=name], or the author element's own text."""
    values: list[str] = []
    for el in _ITEMPROP_AUTHOR_XPATH(tree)[:10]:
        if el.tag == "meta" or "organization" in (el.get("itemtype") or "").lower():
            continue
        names = _ITEMPROP_NAME_XPATH(el)
        if names:
            value = names[0].get("content") or _element_text(names[0], 400, spaced=True)
        else:
            value = el.get("content") or _element_text(el, 400, spaced=True)
        value = _collapse(value, limit=400)
        if value and len(value) <= _MAX_BYLINE_TEXT:
            values.append(value)
    return _normalize_authors(values)


def _rel_authors(tree: Any) -> list[str]:
    values = [_element_text(a, 400, spaced=True) for a in _REL_AUTHOR_XPATH(tree)[:10]]
    return _normalize_authors([v for v in values if v and len(v) <= _MAX_BYLINE_TEXT])


# All text nodes, filtered by a Python regex: cheaper than any XPath string test on big pages.
_LABEL_START_RE = re.compile(
    r"^\s*(?:By|by|BY|Written|written|WRITTEN|Posted|posted|Authored|Author|author|AUTHOR|Autor|Par|par|"
    r"Von|von|Door|door|Auteur|Words|Story|Text|Article|Blog)\b"
)
_NON_TEXT_TAGS = frozenset({"script", "style", "noscript", "template", "textarea", "option"})
_BY_LABEL_RE = re.compile(
    r"^(?:(?:(?:written|posted|authored|words|story|text|article|blog\s+post)\s+)?by|authors?|autor(?:in|en)?|"
    r"par|von|door|auteur|written|author\s+name)\s*[:\-–—]?$",
    re.IGNORECASE,
)
_BY_LINE_RE = re.compile(r"^(?:(?:[Ww]ritten|[Pp]osted|[Aa]uthored)\s+[Bb]y|By|BY):?\s+[^\W\d_]")
_NAME_PARTICLES = frozenset(
    {"de", "da", "do", "dos", "das", "di", "del", "della", "van", "von", "der", "den", "ter", "ten", "la", "le",
     "du", "bin", "binti", "ibn", "al", "el", "y", "e", "st.", "mc", "mac", "the"}
)


def _looks_like_name(name: str) -> bool:
    """For names found by markup heuristics only: 1-5 words, each capitalized (or a particle),
    so "accessing or using this website" from "By accessing..." is not an author."""
    words = name.split()
    if not 1 <= len(words) <= 5:
        return False
    for i, word in enumerate(words):
        first = word[0]
        if first.isupper() or (not first.isalpha() and len(word) > 1 and word[1].isupper()):
            continue
        if word.lower() in _NAME_PARTICLES and (0 < i < len(words) - 1 or (i == 0 and word.lower() == "the")):
            continue
        return False
    return True


def _heuristic_names(values: list[str]) -> list[str]:
    return [n for n in _normalize_authors(values) if _looks_like_name(n)]
_AUTHOR_HREF_XPATH = etree.XPath(
    ".//a[contains(@href, '/author/') or contains(@href, '/authors/') or contains(@href, '/profile/')"
    " or contains(@href, '/profiles/') or contains(@href, '/writer/') or contains(@href, '/writers/')"
    " or contains(@href, '/contributor/') or contains(@href, '/contributors/') or contains(@href, '/people/')"
    " or contains(@href, '/staff/') or contains(@href, '/journalist/') or contains(@href, '/journalists/')"
    " or contains(@href, '/producers/') or contains(@href, '/byline/') or contains(@href, '/user/')"
    " or contains(@href, '/users/')]"
)


def _label_bylines(texts: _TextNodes) -> Iterable[str]:
    """Bylines found by their label: "Written by" / "By" / "Author:" in its own text node, with the
    name in the same element or the next one, or a short text that starts with "By Name"."""
    hits = 0
    for index, value in enumerate(texts.values):
        if len(value) > 200 or not _LABEL_START_RE.match(value):
            continue
        node = texts.node(index)
        if node is None:
            continue
        owner = node.getparent()
        if owner is None or (owner.tag if node.is_text else getattr(owner.getparent(), "tag", None)) in _NON_TEXT_TAGS:
            continue
        text = _collapse(node)
        if len(text) >= 70:
            continue
        if _BY_LABEL_RE.match(text):
            parent = node.getparent()
            if parent is None:
                continue
            holder = parent if node.is_text else parent.getparent()
            if holder is None:
                continue
            whole = _element_text(holder, _MAX_BYLINE_TEXT * 2, spaced=True)
            if len(whole) <= _MAX_BYLINE_TEXT and _key(whole) != _key(text):
                yield whole
            else:
                # The name follows the label's element (<b>By</b><a>Name</a>) or, for a tail, the
                # element the label follows (<i>x</i> By <a>Name</a>): the parent's next sibling either way.
                nxt = parent.getnext()
                if nxt is not None and isinstance(nxt.tag, str):
                    name = _element_text(nxt, _MAX_BYLINE_TEXT * 2, spaced=True)
                    if name and len(name) <= _MAX_BYLINE_TEXT:
                        yield name
        elif _BY_LINE_RE.match(text) and len(text) <= 60:
            yield text
        else:
            continue
        hits += 1
        if hits >= 5:
            break


def _linked_authors(tree: Any) -> list[str]:
    """Names in links to an author page whose slug spells the name (/author/jane-doe -> "Jane Doe"):
    the slug check keeps "All articles", avatars and comment links out."""
    for a in _AUTHOR_HREF_XPATH(tree)[:30]:
        text = _element_text(a, 200, spaced=True)
        if not text or len(text) > 60:
            continue
        href = (a.get("href") or "").split("?", 1)[0].split("#", 1)[0].rstrip("/")
        slug = _key(href.rsplit("/", 1)[-1])
        names = _heuristic_names([text])
        if not names or not slug:
            continue
        k = _key(names[0])
        if len(k) >= 4 and (k == slug or k in slug or (len(slug) >= 4 and slug in k)):
            return names
    return []


def _byline_texts(tree: Any) -> Iterable[str]:
    """Short texts of byline/author-classed elements, document order, at most 10."""
    tried = 0
    for el in _BYLINE_XPATH(tree):
        if tried >= 10:
            break
        if not isinstance(el.tag, str) or el.tag in _BYLINE_SKIP_TAGS:
            continue
        hints = f"{el.get('class') or ''} {el.get('id') or ''}"
        if _BYLINE_SKIP_RE.search(hints):
            continue
        text = _element_text(el, _MAX_BYLINE_TEXT * 2, spaced=True)
        if not text or len(text) > _MAX_BYLINE_TEXT:
            continue
        tried += 1
        yield text


# -- dates shown to readers in the article's byline ------------------------------------------
# "Published on March 9, 2026", "Posted: 8 Oct 2022", "April 26, 2024 · Updated on: October 28, 2024".
_SHOWN_LABEL_HINT_RE = re.compile(r"publi|posted|updated|modified", re.IGNORECASE)
# The same words in a lowercased ASCII text: twice as fast as the case-insensitive search.
_SHOWN_LABEL_HINT_ASCII_RE = re.compile(_SHOWN_LABEL_HINT_RE.pattern)
_SHOWN_DATE_RE = re.compile(
    rf"(?:(?<=published)|(?<=posted)|(?<=updated)|\b)(?:{_WEEKDAYS}\s*)?(?:{_MONTHS}\s*\d{{1,2}}(?:st|nd|rd|th)?,?\s*\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS},?\s*\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})(?!\d)",
    re.IGNORECASE,
)
_SHOWN_PUBLISHED_RE = re.compile(
    r"(?<!last )(?:(?:first|originally)\s+)?(?:published|posted)(?:\s+(?:on|at|date))?\s*[:\-–—]?\s*$", re.IGNORECASE
)
_SHOWN_MODIFIED_RE = re.compile(
    r"(?:(?:last|page)\s+)?(?:updated|modified)(?:\s+(?:on|at|date))?\s*[:\-–—]?\s*$", re.IGNORECASE
)
_SHOWN_SKIP_TAGS = frozenset({"nav", "footer", "aside", "script", "style", "noscript", "template", "option", "head"})
# Whole class or id values of containers whose dates are other articles' or comments'.
_SHOWN_SKIP_WORDS_RE = re.compile(
    r"^(?:comments?|comment-list|commentlist|comments-area|related(?:[-_]\w+)?|sidebar|widget(?:-area)?|"
    r"site-footer|footer|recirc\w*|teasers?|more-stories)$",
    re.IGNORECASE,
)
_SHOWN_MAX_CHARS = 160
def _shown_dates(texts: _TextNodes, now: datetime) -> tuple[str | None, str | None]:
    """The publication and update dates the article's byline shows, from the first short block
    (in document order, outside navigation, sidebars, footers and comments) that labels one:
    a date after "Published"/"Posted" is the publication, after "Updated"/"Modified" the update,
    and an unlabelled date beside a labelled update is the publication."""
    for index, value in enumerate(texts.values):
        if len(value) > _SHOWN_MAX_CHARS or not (
            _SHOWN_LABEL_HINT_ASCII_RE.search(value.lower()) if value.isascii() else _SHOWN_LABEL_HINT_RE.search(value)
        ):
            continue
        node = texts.node(index)
        if node is None:
            continue
        holder = node.getparent()
        if holder is None:
            continue
        if not node.is_text:
            holder = holder.getparent()
        if holder is None or not isinstance(holder.tag, str) or _shown_skip(holder):
            continue
        # The label's element, or the smallest enclosing one that also holds a date.
        for _ in range(3):
            text = _collapse(holder.text_content(), limit=_SHOWN_MAX_CHARS * 2)
            if len(text) > _SHOWN_MAX_CHARS:
                break
            if _SHOWN_DATE_RE.search(text):
                published, modified = _labelled_dates(text, now)
                if published:
                    return published, modified
                if modified:
                    # "December 3, 2025. <i>Updated: December 7, 2025</i>": the publication may sit
                    # beside the update, in the enclosing block.
                    parent = holder.getparent()
                    if parent is not None and isinstance(parent.tag, str):
                        outer = _collapse(parent.text_content(), limit=_SHOWN_MAX_CHARS * 2)
                        if len(outer) <= _SHOWN_MAX_CHARS:
                            published = _labelled_dates(outer, now)[0]
                    return published, modified
                break
            holder = holder.getparent()
            if holder is None or not isinstance(holder.tag, str):
                break
    return None, None


def _shown_skip(el: Any) -> bool:
    for depth, anc in enumerate(el.iterancestors()):
        if depth > 15:
            break
        if anc.tag in ("body", "html"):
            break
        if anc.tag in _SHOWN_SKIP_TAGS:
            return True
        hints = f"{anc.get('class') or ''} {anc.get('id') or ''}"
        if hints.strip() and any(_SHOWN_SKIP_WORDS_RE.match(word) for word in hints.split()):
            return True
    return el.tag in _SHOWN_SKIP_TAGS


def _labelled_dates(text: str, now: datetime) -> tuple[str | None, str | None]:
    published = modified = unlabelled = None
    start = 0
    for m in _SHOWN_DATE_RE.finditer(text):
        before = text[max(start, m.start() - 30) : m.start()]
        start = m.end()
        value = normalize_date(m.group(0), now=now)
        if value is None:
            continue
        if _SHOWN_PUBLISHED_RE.search(before):
            published = published or value
        elif _SHOWN_MODIFIED_RE.search(before):
            modified = modified or value
        elif unlabelled is None:
            unlabelled = value
    if published is None and modified is not None and unlabelled is not None:
        published = unlabelled
    return published, modified


# -- the date shown beside the headline -------------------------------------------------------
# Article headers show the publication day without a label ("Jane Doe · March 1, 2024",
# "7 min read · Dec 30, 2013", "12.12.2025"): a short text right before or after the <h1>.
_HEADER_BEFORE_NODES = 8
_HEADER_AFTER_NODES = 30
_HEADER_BEFORE_CHARS = 200  # text between the date and the headline: a kicker, breadcrumbs
_HEADER_AFTER_CHARS = 400  # a standfirst and a byline; the article's own text starts after
_HEADER_NODE_EXTRA = 40  # text beside the date in its own text node: "by Jane Doe", "- 11 minutes"
_HEADER_MAX_TEXT = _HEADER_NODE_EXTRA + 30  # the longest written date and that extra
_HEADER_MAX_STEPS = 400  # texts looked at on each side, blank ones included: a bound on odd pages
_NUMERIC_DATE_RE = re.compile(r"(?<![\d./-])(\d{1,2})([./-])(\d{1,2})\2(\d{4})(?![\d/-]|\.\d)")
_YMD_SLASHED_RE = re.compile(r"(?<![\d./-])(\d{4})([./])(\d{1,2})\2(\d{1,2})(?![\d./-])")
# What a header date must not be: an update, a review, an event's or an offer's day, a span's bound.
_HEADER_NOT_PUBLISHED_RE = re.compile(
    r"(?:(?:updated|modified|reviewed|revised|edited|checked|verified)(?:\s+(?:on|at))?|last\s+\w+|as\s+of|event|"
    r"expir\w*|effective|beginning|starting|valid|deadline|due|until|through|from|since|ends?|starts?|closes?|"
    r"opens?|©|copyright)\W*$",
    re.IGNORECASE,
)
_HEADER_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "option", "textarea", "h1"})
_SUBHEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
_HEADER_CODE_TAGS = frozenset({"script", "style"})
# Regions writing numeric dates month first (3/4/2025 = March 4); everyone else writes the day first.
_MONTH_FIRST_REGIONS = frozenset({"us", "ph", "fm", "mh", "pw", "as", "gu", "mp", "pr", "vi", "um"})


def _month_first(*langs: str | None) -> bool | None:
    """Whether the page's language tag ("en-US", "en_GB", "de") writes numeric dates month first:
    a US region, or English without a region (most English pages are American); None without a tag."""
    for raw in langs:
        if not raw:
            continue
        parts = [p for p in re.split(r"[-_]", raw.strip().lower()) if p]
        if not parts or not parts[0].isalpha():
            continue
        region = next((p for p in parts[1:] if len(p) == 2 and p.isalpha()), None)
        if region is not None:
            return region in _MONTH_FIRST_REGIONS
        return parts[0] == "en"
    return None


_URL_DAY_RE = re.compile(rf"/((?:19|20)\d{{2}})[/-](\d{{1,2}}|{_MONTHS})[/-](\d{{1,2}})(?=[/_.-]|$)", re.IGNORECASE)
_MONTH_NAMES = _du_parser.parserinfo()  # its month(): every name _MONTHS matches, to 1-12


def _url_day(url: str | None) -> tuple[int, int, int] | None:
    """(year, month, day) from a dated path ("/2023/10/03/", "/2023/october/03/")."""
    m = _URL_DAY_RE.search(url or "")
    if not m:
        return None
    month = m.group(2).lower().rstrip(".")
    number = int(month) if month.isdigit() else _MONTH_NAMES.month(month)
    return (int(m.group(1)), number, int(m.group(3))) if number else None


def _numeric_date(
    text: str, month_first: bool, now: datetime, url_day: tuple[int, int, int] | None = None
) -> tuple[int, int, str] | None:
    """The first all-numeric date in a text: (start, end, ISO). Dotted dates are day first
    everywhere; slashed ones are read as the page's dated URL says, else in the page's order,
    unless a number over 12 settles it."""
    m = _YMD_SLASHED_RE.search(text)
    if m:
        return _checked_day(m, int(m.group(1)), int(m.group(3)), int(m.group(4)), now)
    m = _NUMERIC_DATE_RE.search(text)
    if not m:
        return None
    a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
    if url_day in ((year, a, b), (year, b, a)):
        month_first = url_day == (year, a, b)
    day_first = m.group(2) == "." or a > 12 or (b <= 12 and not month_first)
    day, month = (a, b) if day_first else (b, a)
    return _checked_day(m, year, month, day, now)


def _checked_day(m: re.Match[str], year: int, month: int, day: int, now: datetime) -> tuple[int, int, str] | None:
    try:
        value = datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None
    if value < _MIN_DATE or value > now + timedelta(days=1):
        return None
    return m.start(), m.end(), value.isoformat()


def _header_date(
    h1: Any, month_first: bool, now: datetime, url_day: tuple[int, int, int] | None = None
) -> str | None:
    """The day shown beside the headline: the date in the text nearest the <h1> (a few short
    texts before it, the standfirst and byline after it) whose own text is little more than the
    date, outside navigation, sidebars and comments, and not labelled as an update or an event."""
    before = _near_texts(_texts_before(h1), _HEADER_BEFORE_NODES, _HEADER_BEFORE_CHARS)
    after = _near_texts(_texts_after(h1), _HEADER_AFTER_NODES, _HEADER_AFTER_CHARS)
    nodes = before[::-1] + after
    # Nearest first: the texts right after the headline, then those right before it.
    for index in [*range(len(before), len(nodes)), *range(len(before) - 1, -1, -1)]:
        raw, holder = nodes[index]
        text = _collapse(raw)
        if len(text) > _HEADER_MAX_TEXT or not _DIGIT_RE.search(text):
            continue
        found = _header_date_in(text, month_first, now, url_day)
        if found is None:
            continue
        start, end, value = found
        if len(text) - (end - start) > _HEADER_NODE_EXTRA:
            continue  # a sentence mentioning a day, not a dateline
        if holder is None or holder.tag in _HEADER_SKIP_TAGS or _shown_skip(holder) or _in_site_banner(holder):
            continue
        if holder.tag in _SUBHEADINGS and len(text) - (end - start) > 2:
            continue  # "Effective from 6/2/2025": a heading naming a day is about something else
        first = len(before) if index >= len(before) else 0  # a label never reaches across the headline
        label = _collapse(" ".join(t for t, _ in nodes[max(first, index - 2) : index]) + " " + text[:start])[-40:]
        if _HEADER_NOT_PUBLISHED_RE.search(label) or _SHOWN_MODIFIED_RE.search(label):
            continue
        return _machine_value(holder, now) or value
    return None


# The site's masthead: a <header> or role=banner outside <article>/<main> that holds no <h1>.
# The date a masthead prints is today's, the same on every page, never the article's.
_SITE_BANNER = "*[self::header or @role='banner'][not(.//h1)][not(ancestor::article or ancestor::main)]"
_SITE_BANNERS = etree.XPath(f"//{_SITE_BANNER}")
_IN_SITE_BANNER = etree.XPath(f"boolean(ancestor-or-self::{_SITE_BANNER})")


def _in_site_banner(el: Any) -> bool:
    return bool(_IN_SITE_BANNER(el))


def _without_site_banners(tree: Any) -> Any:
    """The tree, or a copy of it without its mastheads when it has any (for htmldate, which reads
    every date on the page)."""
    if not _SITE_BANNERS(tree):
        return tree
    copy = deepcopy(tree.getroottree().getroot())
    for el in _SITE_BANNERS(copy):
        if el.getparent() is not None:
            el.drop_tree()  # its tail is the text after it, kept
    return copy


def _near_texts(texts: Iterator[tuple[str, Any]], most: int, chars: int) -> list[tuple[str, Any]]:
    """The first non-blank texts of a walk, up to `most` of them and `chars` characters."""
    out: list[tuple[str, Any]] = []
    total = 0
    for steps, (text, holder) in enumerate(texts):
        if steps > _HEADER_MAX_STEPS or len(out) >= most:
            break
        stripped = text.strip()
        if not stripped:
            continue
        total += len(stripped)
        if total > chars:
            break
        out.append((text, holder))
    return out


# Walks of the texts beside an element, each with the element holding it, lazily: a few are read.
# (XPath's preceding:: and following:: axes build the whole rest of the page first.)
def _texts_after(el: Any) -> Iterator[tuple[str, Any]]:
    """Texts after an element (its own content excluded), in document order."""
    node = el
    while node is not None:
        if node.tail:
            yield node.tail, node.getparent()
        for sibling in node.itersiblings():
            yield from _texts_inside(sibling)
            if sibling.tail:
                yield sibling.tail, sibling.getparent()
        node = node.getparent()


def _texts_inside(el: Any) -> Iterator[tuple[str, Any]]:
    if el.text and isinstance(el.tag, str) and el.tag not in _HEADER_CODE_TAGS:
        yield el.text, el
    for child in el:
        yield from _texts_inside(child)
        if child.tail:
            yield child.tail, el


def _texts_before(el: Any) -> Iterator[tuple[str, Any]]:
    """Texts before an element, nearest first (reverse document order)."""
    node = el
    while True:
        for sibling in node.itersiblings(preceding=True):
            if sibling.tail:
                yield sibling.tail, sibling.getparent()
            yield from _texts_inside_reversed(sibling)
        parent = node.getparent()
        if parent is None:
            return
        if parent.text:
            yield parent.text, parent
        node = parent


def _texts_inside_reversed(el: Any) -> Iterator[tuple[str, Any]]:
    for child in reversed(el):
        if child.tail:
            yield child.tail, el
        yield from _texts_inside_reversed(child)
    if el.text and isinstance(el.tag, str) and el.tag not in _HEADER_CODE_TAGS:
        yield el.text, el


def _machine_value(el: Any, now: datetime) -> str | None:
    """The datetime attribute of the <time> a shown date is written in: the page's own reading of
    its text, with the time and offset the text leaves out."""
    for _ in range(2):
        if el is None:
            break
        if el.tag == "time" and el.get("datetime"):
            return normalize_date(el.get("datetime"), now=now)
        el = el.getparent()
    return None


def _header_date_in(
    text: str, month_first: bool, now: datetime, url_day: tuple[int, int, int] | None
) -> tuple[int, int, str] | None:
    m = _SHOWN_DATE_RE.search(text)
    if m:
        value = normalize_date(m.group(0), now=now)
        return (m.start(), m.end(), value) if value else None
    return _numeric_date(text, month_first, now, url_day)


#: htmldate's extensive search (a scan of the page's free text for date patterns) only on pages
#: with at most this many characters of text: its cost grows with the text.
_HTMLDATE_EXTENSIVE_MAX_CHARS = 1_000_000
_TEXT_LENGTH = etree.XPath("string-length(string(/))")


def _htmldate(tree: Any, url: str | None, now: datetime) -> str | None:
    """htmldate as the last resort: markup and URL patterns, and a scan of the free text when the
    page's text is at most _HTMLDATE_EXTENSIVE_MAX_CHARS characters.
    htmldate deep-copies a caller's tree before pruning it, so ours is left as it was."""
    try:
        from htmldate import find_date

        _htmldate_in_page_languages()
        extensive = _TEXT_LENGTH(tree) <= _HTMLDATE_EXTENSIVE_MAX_CHARS
        found = find_date(
            _without_site_banners(tree),
            extensive_search=extensive,
            original_date=True,
            outputformat="%Y-%m-%dT%H:%M:%S%z",
            url=url,
            min_date=_MIN_DATE.strftime("%Y-%m-%d"),
            max_date=(now + timedelta(days=1)).strftime("%Y-%m-%d"),
        )
    except Exception:  # third-party heuristics on arbitrary HTML
        LOGGER.debug("htmldate failed", exc_info=True)
        return None
    if not found or found[4:19] == "-01-01T00:00:00":
        return None  # January 1st at midnight: a bare year (a copyright line), not a publication day
    return normalize_date(found, now=now)


def _tags(page: _Page, ld: _JsonLd) -> list[str]:
    sources: list[list[Any]] = [ld.keywords(), page.meta("article:tag", "og:article:tag")]
    sources.extend(page.meta(name) for name in _META_KEYWORDS)
    for values in sources:
        out: list[str] = []
        seen: set[str] = set()
        for value in values:
            if not isinstance(value, str):
                continue
            for part in value.split(",") if "," in value else [value]:
                tag = _collapse(html.unescape(part) if "&" in part else part)
                k = _key(tag)
                if not k or len(tag) > _MAX_TAG or k in seen or _URL_RE.search(tag):
                    continue
                seen.add(k)
                out.append(tag)
                if len(out) >= _MAX_TAGS:
                    return out
        if out:
            return out
    return []


def _extract(tree: Any, url: str | None, md: Metadata) -> None:
    now = datetime.now(UTC)
    page = _Page(tree)
    blocks: list[Any] = []
    for script in page.scripts:
        blocks.extend(_load_json_ld(script))
    page_url = normalize_url(url)
    ld = _JsonLd(blocks)
    ld.choose(page_url)

    # URLs: the page's <base> first, then the URL the page was fetched from.
    base = normalize_url(page.base, page_url) if page.base else page_url
    base = base or page_url
    canonical_raw = page.canonical or page.first("og:url")
    md.canonical_url = normalize_url(canonical_raw, base) if canonical_raw else None
    if md.canonical_url is None:
        ld_url = ld.get("url")
        if isinstance(ld_url, str) and ld.article is not None:
            md.canonical_url = normalize_url(ld_url, base)
    base = base or md.canonical_url

    # Site name: og:site_name says exactly this; a JSON-LD publisher may be a parent company.
    publishers = ld.publisher_names()
    site_candidates = [
        page.first("og:site_name", limit=_MAX_SITE_NAME),
        *publishers,
        page.first("application-name", "al:android:app_name", "al:ios:app_name", limit=_MAX_SITE_NAME),
    ]
    site_candidates = [s for s in site_candidates if s and not _URL_RE.search(s)]
    md.site_name = site_candidates[0] if site_candidates else None
    host = url_host(page_url or md.canonical_url)
    label = _site_label(host)
    sites = site_candidates + ([label] if label else []) + ([host] if host else [])

    # Title.
    raw_cands = [
        ("ld", _ld_text(ld.get("headline", "name")) if ld.article is not None else ""),
        ("og", page.first(*_META_TITLE)),
        ("twitter", page.first(*_META_TWITTER_TITLE)),
        ("meta", page.first(*_META_OTHER_TITLE)),
        (
            "ldpage",
            _ld_text(ld.page.get("headline") or ld.page.get("name")) if ld.article is None and ld.page else "",
        ),
    ]
    title_tag = _collapse(page.title, limit=_MAX_TITLE)
    h1, h1_trusted = _main_h1(page.h1s, [c for _, c in raw_cands if c] + [title_tag], sites)
    cands: list[tuple[str, str]] = []
    for src, raw in raw_cands:
        cleaned = _clean_title(raw, sites, h1) if raw else None
        if cleaned:
            cands.append((src, cleaned))
    # <h1> sits between structured sources and <title>: it wins ties against <title> only.
    cleaned_h1 = _clean_title(h1, sites) if h1 else None
    if cleaned_h1:
        cands.append(("h1", cleaned_h1))
    cleaned_title = _clean_title(title_tag, sites, h1) if title_tag else None
    if cleaned_title:
        cands.append(("title", cleaned_title))
    md.title = _choose_title(cands, prefer="h1" if h1_trusted else None)

    # Authors: JSON-LD persons, meta, microdata, rel=author, JSON-LD organizations, then markup
    # heuristics; the site's own name only when nobody else is named.
    persons, orgs = ld.authors()
    md.authors = _find_authors(page, tree, persons, orgs, [s for s in sites if s] + publishers)

    # Dates, read in the page's language (dateparser is told it).
    md.language = _declared_language(page, ld)
    with page_date_languages(md.language, tree):
        _read_dates(page, ld, tree, md, h1, page_url, now)

    # Description, image, tags.
    desc = _ld_text(ld.get("description"), _MAX_DESCRIPTION) or page.first(
        "og:description", "description", "twitter:description", "dc.description", limit=_MAX_DESCRIPTION
    )
    md.description = desc or None
    for img in (
        ld.image(),
        *page.meta("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src", "image", "thumbnail"),
        page.image_src,
    ):
        normalized = normalize_url(img, base) if isinstance(img, str) else None
        if normalized:
            md.image = normalized
            break
    md.tags = _tags(page, ld)


def _declared_language(page: _Page, ld: _JsonLd) -> str | None:
    """The language the page says it is in (JSON-LD, <html lang>, og:locale, Content-Language)."""
    return (
        _lang_code(_ld_text(ld.get("inLanguage"), 50))
        or _lang_code(page.lang)
        or _lang_code(page.first("og:locale", limit=50))
        or _lang_code(page.first("content-language", "language", "dc.language", "dcterms.language", limit=50))
    )


def _read_dates(page: _Page, ld: _JsonLd, tree: Any, md: Metadata, h1: str | None, page_url: str | None, now: datetime) -> None:
    """published_at and modified_at: markup first, then what the page shows, htmldate last."""
    ld_published = ld.values("datePublished", "dateCreated", "uploadDate")
    locale = (page.lang, page.first("og:locale", limit=50), page.first("content-language", limit=50))
    month_first = _month_first(*locale)
    md.published_at = _first_date([*ld_published, *page.meta(*_META_PUBLISHED)], now, month_first)
    md.modified_at = _first_date([*ld.values("dateModified"), *page.meta(*_META_MODIFIED)], now, month_first)
    if md.published_at is None or md.modified_at is None:
        pub, mod = _markup_dates(page, tree, now)
        md.published_at = md.published_at or pub
        md.modified_at = md.modified_at or mod
    # What the byline shows readers: a labelled publication date wins over markup that says
    # another day (CMSs often write the last save as datePublished); a day one off that some time
    # zone puts the markup's moment on is the same moment, and the markup's exact time is kept.
    shown_published, shown_modified = _shown_dates(page.texts, now)
    if shown_published and (md.published_at is None or not _zone_explains(shown_published, md.published_at)):
        md.published_at = shown_published
    md.modified_at = md.modified_at or shown_modified
    # The day shown beside the headline: before htmldate's guesses, and before markup naming a later day.
    if shown_published is None and h1 is not None:
        header = _header_date(page.h1_elements[h1], month_first is not False, now, _url_day(page_url))
        if header is not None and _header_wins(header, md.published_at, md.modified_at):
            if md.published_at is None:
                # htmldate's reading of the same day keeps the time the header leaves out.
                found = _htmldate(tree, page_url or md.canonical_url, now)
                header = found if found and found[:10] == header[:10] else header
            md.published_at = header
    if md.published_at is None:
        md.published_at = _htmldate(tree, page_url or md.canonical_url, now)
    if md.published_at and md.modified_at and _iso_before(md.modified_at, md.published_at):
        md.modified_at = None

def _header_wins(header: str, published: str | None, modified: str | None) -> bool:
    """The day beside the headline is the publication when the markup names none, or names a later
    day (more than a time zone apart) that is not the update the header shows: a page cannot have
    been published after the day it shows as its own, but CMS migrations rewrite datePublished."""
    if published is None:
        return True
    if header[:10] >= published[:10] or _zone_explains(header, published):
        return False
    return modified is None or header[:10] != modified[:10] or modified[:10] == published[:10]


def _zone_explains(day: str, iso: str) -> bool:
    """Whether a moment is on the given day somewhere on Earth (UTC-12 to UTC+14): a shown day one
    off the markup's is then the same moment in the site's time zone, not another date."""
    try:
        moment = datetime.fromisoformat(iso).astimezone(UTC)
        shown = datetime.fromisoformat(day[:10]).date()
    except ValueError:
        return False
    return (moment - timedelta(hours=12)).date() <= shown <= (moment + timedelta(hours=14)).date()


def _days_apart(a: str, b: str) -> int:
    """Calendar days between the days written in two ISO dates (each in its own offset)."""
    try:
        return abs((datetime.fromisoformat(a[:10]) - datetime.fromisoformat(b[:10])).days)
    except ValueError:
        return 0


def _iso_before(a: str, b: str) -> bool:
    try:
        return datetime.fromisoformat(a) < datetime.fromisoformat(b)
    except ValueError:
        return False


# Section labels that sit in an <h1> on listing-like templates; never a headline.
_GENERIC_H1 = frozenset(
    {
        "blog", "news", "latestnews", "recentposts", "latestposts", "ourblog", "theblog", "articles",
        "resources", "menu", "search", "searchresults", "relatedposts", "relatedarticles", "categories",
        "archives", "comments", "leaveareply", "subscribe", "newsletter", "contactus", "aboutus", "about",
        "mainmenu", "navigation", "skiptocontent", "skiptomaincontent", "insights", "stories", "press",
        "pressreleases", "newsroom", "events", "home", "welcome", "login", "signin", "register", "cart",
        "shop", "products", "services", "faq", "help", "support", "opinion", "features", "sections",
    }
)


def _main_h1(h1s: list[tuple[str, bool]], others: list[str], sites: list[str]) -> tuple[str | None, bool]:
    """The headline <h1> and whether it is trustworthy on its own.

    Corroborated by a title source -> trusted; otherwise the first <h1> that is not the site's logo
    or a section label, trusted when it is the only one or sits inside <article>/<main>."""
    if not h1s:
        return None, False
    other_keys = [k for k in (_key(o) for o in others) if k]
    best: tuple[float, str] | None = None
    for text, _ in h1s:
        kh = _key(text)
        if len(kh) < 8:
            continue
        # How much of the matching title source the <h1> covers: a site logo in <h1> is contained in
        # "Headline | Site" too, but covers little of it.
        cover = 0.0
        for ko in other_keys:
            if kh in ko:
                cover = max(cover, len(kh) / len(ko))
            elif len(ko) >= 15 and ko in kh:
                cover = max(cover, len(ko) / len(kh))
        if cover >= 0.5 and (best is None or cover > best[0]):
            best = (cover, text)
    if best is not None:
        return best[1], True
    site_keys = [k for k in (_site_key(s) for s in sites) if k]
    for text, in_content in h1s:
        if _site_match(text, site_keys) or _key(text) in _GENERIC_H1:
            continue
        trusted = (len(h1s) == 1 or in_content) and _words(text) >= 2 and len(text) <= 300
        return text, trusted
    return None, False


def extract_html_metadata(tree: lxml.html.HtmlElement, url: str | None = None) -> Metadata:
    """Read metadata from the page BEFORE any cleaning mutates it. Must not modify the tree.

    Never raises: a page that breaks one extractor still yields the fields found before it.
    """
    md = Metadata()
    if tree is None or not hasattr(tree, "iter"):
        return md
    try:
        _extract(tree, url, md)
    except Exception:  # one odd page must not stop a crawl
        LOGGER.warning("metadata extraction failed for %s", url, exc_info=True)
    return md
