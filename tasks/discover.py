"""Finding the pages to fetch: sitemaps, feeds, robots.txt ``Sitemap:`` lines and URL lists.

The parsers are pure (bytes in, entries out) and the XML they read is untrusted:
documents declaring entities are refused before parsing, and the parser itself
never resolves entities, loads DTDs or touches the network, so neither a
"billion laughs" sitemap nor an external entity can do harm.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from .urls import normalize_url

if TYPE_CHECKING:
    from .fetch import Fetcher

__all__ = [
    "DiscoveryError",
    "Entry",
    "discover",
    "filter_entries",
    "parse_date",
    "parse_document",
    "parse_feed",
    "parse_sitemap",
    "parse_url_list",
    "read_url_list",
]

logger = logging.getLogger(__name__)

#: The sitemap protocol's limit on an uncompressed sitemap (50 MB), with room for sloppy servers.
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
#: Sitemap indexes may not nest per the protocol; some do, a little.
MAX_DEPTH = 3
#: Documents fetched for one discovery at most, so a generated index cannot run forever.
MAX_DOCUMENTS = 1000
# What sitemaps and feeds are served as in the wild (text/html included: misconfigured servers).
_DOCUMENT_TYPES = frozenset(
    {
        "application/xml", "text/xml", "application/rss+xml", "application/atom+xml", "application/rdf+xml",
        "application/x-rss+xml", "application/gzip", "application/x-gzip", "application/octet-stream",
        "text/plain", "text/html",
    }
)
_BARE_AMPERSAND = re.compile(rb"&(?!(?:[A-Za-z_][\w.-]*|#[0-9]+|#x[0-9A-Fa-f]+);)")
_YEAR_MONTH = re.compile(r"^(\d{4})(?:-(\d{2}))?$")
_FETCH_BATCH = 8


class DiscoveryError(ValueError):
    """A sitemap, feed or list that cannot be used; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Entry:
    """A URL found in a sitemap or feed, with its date (``lastmod``, ``pubDate``, ...) when given."""

    url: str
    date: datetime | None = None


# --- dates ---------------------------------------------------------------------------------------


def parse_date(text: str | None) -> datetime | None:
    """W3C datetime (sitemaps, Atom) or RFC 822 (RSS) to an aware UTC datetime; None when unreadable."""
    if not text:
        return None
    text = text.strip()
    if not text:
        return None
    found: datetime | None = None
    match = _YEAR_MONTH.match(text)
    if match:
        found = datetime(int(match.group(1)), int(match.group(2) or 1), 1)
    else:
        try:
            found = datetime.fromisoformat(text)
        except ValueError:
            try:
                found = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    if found.tzinfo is None:
        found = found.replace(tzinfo=UTC)
    return found.astimezone(UTC)


def _bound(value: date | datetime | str | None, *, end: bool) -> datetime | None:
    """A --since/--until value as an instant; a bare day means its whole day (``until`` is inclusive)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text)
        except ValueError:
            value = datetime.fromisoformat(text)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    day = datetime.combine(value, time.min, tzinfo=UTC)
    return day + timedelta(days=1) if end else day


def filter_entries(
    entries: Iterable[Entry],
    since: date | datetime | str | None = None,
    until: date | datetime | str | None = None,
    *,
    keep_undated: bool = False,
) -> list[Entry]:
    """Entries dated within [since, until]; undated ones only with ``keep_undated`` when a bound is set."""
    start = _bound(since, end=False)
    stop = _bound(until, end=True)
    if start is None and stop is None:
        return list(entries)
    kept = []
    for entry in entries:
        if entry.date is None:
            if keep_undated:
                kept.append(entry)
            continue
        if start is not None and entry.date < start:
            continue
        if stop is not None and entry.date >= stop:
            continue
        kept.append(entry)
    return kept


# --- parsing -------------------------------------------------------------------------------------


def _gunzip(data: bytes, cap: int = MAX_DOCUMENT_BYTES) -> bytes:
    """Gunzip with a cap on the output: a gzipped sitemap is untrusted too."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        out = inflater.decompress(data, cap + 1)
    except zlib.error:
        raise DiscoveryError("corrupt gzip") from None
    if len(out) > cap:
        raise DiscoveryError(f"too large: over {cap} bytes uncompressed")
    return out


def _parser(recover: bool = False) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
        recover=recover,
    )


def _root(data: bytes) -> etree._Element:
    """The document element of untrusted XML, or DiscoveryError."""
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data)
    data = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not data:
        raise DiscoveryError("empty document")
    # Legitimate sitemaps and feeds never declare entities; refusing them is what defusedxml does.
    if b"<!ENTITY" in data:
        raise DiscoveryError("XML entity declarations refused")
    root = None
    for attempt in (data, _BARE_AMPERSAND.sub(b"&amp;", data)):  # raw '&' in URLs: common, not fatal
        try:
            root = etree.fromstring(attempt, _parser())
            break
        except etree.XMLSyntaxError:
            continue
    if root is None:
        try:
            root = etree.fromstring(_BARE_AMPERSAND.sub(b"&amp;", data), _parser(recover=True))
        except etree.XMLSyntaxError as exc:
            raise DiscoveryError(f"not XML: {exc}") from None
    if root is None:
        raise DiscoveryError("not XML")
    return root


def _local(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower() if "}" in tag else tag.split(":")[-1].lower()


def _child_text(element: etree._Element, *names: str) -> str | None:
    """Text of the first child named (local name) by one of ``names``, in that order of preference."""
    found: dict[str, str] = {}
    for child in element:
        name = _local(child)
        if name in names and name not in found:
            text = "".join(child.itertext()).strip()
            if text:
                found[name] = text
    for name in names:
        if name in found:
            return found[name]
    return None


def _news_date(url_element: etree._Element) -> str | None:
    """Google News sitemaps date an article in ``<news:news><news:publication_date>``."""
    for child in url_element:
        if _local(child) == "news":
            return _child_text(child, "publication_date")
    return None


def _entry(loc: str | None, when: str | None, base: str | None) -> Entry | None:
    url = normalize_url(loc, base) if loc else None
    return Entry(url, parse_date(when)) if url else None


def parse_sitemap(data: bytes, base: str | None = None) -> tuple[list[Entry], list[Entry]]:
    """A sitemap (``urlset``) or sitemap index (gzipped or not) to (page entries, child sitemap entries).

    URLs come normalized (relative ones resolved against ``base``); an entry's date
    is its ``lastmod``, else its Google News publication date. Raises DiscoveryError.
    """
    return _sitemap_entries(_root(data), base)


def _sitemap_entries(root: etree._Element, base: str | None) -> tuple[list[Entry], list[Entry]]:
    kind = _local(root)
    pages: list[Entry] = []
    children: list[Entry] = []
    if kind == "urlset":
        for item in root:
            if _local(item) == "url":
                entry = _entry(_child_text(item, "loc"), _child_text(item, "lastmod") or _news_date(item), base)
                if entry:
                    pages.append(entry)
    elif kind == "sitemapindex":
        for item in root:
            if _local(item) == "sitemap":
                entry = _entry(_child_text(item, "loc"), _child_text(item, "lastmod"), base)
                if entry:
                    children.append(entry)
    else:
        raise DiscoveryError(f"not a sitemap: root element <{kind or root.tag}>")
    return pages, children


def parse_feed(data: bytes, base: str | None = None) -> list[Entry]:
    """RSS 2.0, RSS 1.0 (RDF) or Atom to entries: each item's link and date (published, else updated)."""
    return _feed_entries(_root(data), base)


def _feed_entries(root: etree._Element, base: str | None) -> list[Entry]:
    kind = _local(root)
    entries: list[Entry] = []
    if kind == "rss":
        items = [item for channel in root if _local(channel) == "channel" for item in channel if _local(item) == "item"]
        for item in items:
            link = _child_text(item, "link") or _rss_guid(item)
            entry = _entry(link, _child_text(item, "pubdate", "date", "published", "updated"), base)
            if entry:
                entries.append(entry)
    elif kind == "rdf":
        for item in root:
            if _local(item) == "item":
                link = _child_text(item, "link") or item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
                entry = _entry(link, _child_text(item, "date", "pubdate"), base)
                if entry:
                    entries.append(entry)
    elif kind == "feed":
        for item in root:
            if _local(item) == "entry":
                link, link_base = _atom_link(item)
                entry = _entry(link, _child_text(item, "published", "updated"), link_base or base)
                if entry:
                    entries.append(entry)
    else:
        raise DiscoveryError(f"not a feed: root element <{kind or root.tag}>")
    return entries


def _rss_guid(item: etree._Element) -> str | None:
    for child in item:
        if _local(child) == "guid" and (child.get("isPermaLink") or "true").lower() != "false":
            text = (child.text or "").strip()
            return text if text.startswith(("http://", "https://")) else None
    return None


def _atom_link(entry: etree._Element) -> tuple[str | None, str | None]:
    """The entry's ``rel="alternate"`` (or rel-less) link, with its xml:base for relative hrefs."""
    for child in entry:
        if _local(child) == "link" and (child.get("rel") or "alternate") == "alternate" and child.get("href"):
            return child.get("href"), child.base
    return None, None


def parse_document(data: bytes, base: str | None = None) -> tuple[list[Entry], list[Entry]]:
    """Any discovery document to (pages, child sitemaps): sitemap, index, feed, or a plain-text URL list.

    The sitemap protocol accepts feeds and text files as sitemaps, and users mix
    up ``--sitemap`` and ``--feed``, so the content decides, not the option.
    """
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data)
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head != b"<":
        text = data.decode("utf-8", errors="replace")
        urls = parse_url_list(text, base=base)
        if not urls:
            raise DiscoveryError("neither XML nor a list of URLs")
        return [Entry(u) for u in urls], []
    root = _root(data)
    root_kind = _local(root)
    if root_kind in ("urlset", "sitemapindex"):
        return _sitemap_entries(root, base)
    if root_kind in ("rss", "rdf", "feed"):
        return _feed_entries(root, base), []
    raise DiscoveryError(f"not a sitemap or feed: root element <{root_kind}>")


def parse_url_list(text: str, base: str | None = None) -> list[str]:
    """One URL per line; blank lines and ``#`` comments skipped; normalized, de-duplicated, order kept."""
    seen: set[str] = set()
    urls: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        url = normalize_url(line.split(None, 1)[0], base)
        if url is None:
            logger.warning("line %d is not an http(s) URL: %.80s", number, line)
            continue
        if url not in seen:
            seen.add(url)
            urls.append(url)
    return urls


def read_url_list(path: str | os.PathLike[str]) -> list[str]:
    """``parse_url_list`` of a UTF-8 file (``--urls urls.txt``)."""
    return parse_url_list(Path(path).read_text(encoding="utf-8-sig", errors="replace"))


# --- fetching ------------------------------------------------------------------------------------


def _as_list(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


async def discover(
    fetcher: Fetcher,
    *,
    urls: Iterable[str] = (),
    sitemap: str | Iterable[str] | None = None,
    feed: str | Iterable[str] | None = None,
    robots: str | Iterable[str] | None = None,
    since: date | datetime | str | None = None,
    until: date | datetime | str | None = None,
    keep_undated: bool = False,
    failures: list[tuple[str, str]] | None = None,
) -> list[str]:
    """The URLs to fetch: given ``urls``, then sitemap pages, then feed items; normalized, de-duplicated, in order.

    ``robots`` names sites whose robots.txt ``Sitemap:`` lines are followed.
    ``since``/``until`` (inclusive days or instants) filter sitemap and feed
    entries by date; undated entries are dropped under a filter unless
    ``keep_undated``. Child sitemaps whose ``lastmod`` predates ``since`` are not
    fetched. A source that cannot be fetched or parsed is skipped and, when a
    ``failures`` list is given, appended to it as ``(url, reason)``.
    """
    found: list[str] = []
    seen: set[str] = set()

    def add(url: str | None) -> None:
        if url is not None and url not in seen:
            seen.add(url)
            found.append(url)

    def fail(url: str, reason: str) -> None:
        logger.warning("discovery: %s: %s", url, reason)
        if failures is not None:
            failures.append((url, reason))

    for url in urls:
        normalized = normalize_url(url)
        if normalized is None:
            fail(url, "invalid url")
        add(normalized)

    sitemaps = _as_list(sitemap)
    for site in _as_list(robots):
        rules = await fetcher.robots_for(site)
        if not rules.sitemaps:
            fail(site, f"robots.txt lists no sitemap ({rules.reason or rules.kind})")
        sitemaps.extend(rules.sitemaps)
    start = _bound(since, end=False)
    for sources in (sitemaps, _as_list(feed)):
        entries = await _crawl(fetcher, sources, start, fail)
        for entry in filter_entries(entries, since, until, keep_undated=keep_undated):
            add(entry.url)
    return found


async def _crawl(
    fetcher: Fetcher, sources: list[str], start: datetime | None, fail: Callable[[str, str], None]
) -> list[Entry]:
    """Fetch documents breadth-first, following sitemap indexes; page entries in document order."""
    entries: list[Entry] = []
    visited: set[str] = set()
    level: list[str] = []
    for source in sources:
        url = normalize_url(source)
        if url is None:
            fail(source, "invalid url")
        elif url not in visited:
            visited.add(url)
            level.append(url)
    depth = 0
    fetched = 0
    while level and depth <= MAX_DEPTH:
        next_level: list[str] = []
        for i in range(0, len(level), _FETCH_BATCH):
            batch = level[i : i + _FETCH_BATCH]
            if fetched + len(batch) > MAX_DOCUMENTS:
                fail(batch[0], f"more than {MAX_DOCUMENTS} sitemaps: the rest skipped")
                return entries
            fetched += len(batch)
            results = await asyncio.gather(
                *(fetcher.fetch(url, content_types=_DOCUMENT_TYPES, max_bytes=MAX_DOCUMENT_BYTES) for url in batch)
            )
            for url, result in zip(batch, results):
                if not result.ok or result.body is None:
                    fail(url, result.reason or result.outcome)
                    continue
                try:
                    pages, children = parse_document(result.body, base=result.final_url)
                except DiscoveryError as exc:
                    fail(url, exc.reason)
                    continue
                entries.extend(pages)
                for child in children:
                    if start is not None and child.date is not None and child.date < start:
                        continue  # the whole child sitemap was last changed before the window
                    if child.url not in visited:
                        visited.add(child.url)
                        next_level.append(child.url)
        level = next_level
        depth += 1
    if level:
        fail(level[0], f"sitemap indexes nested deeper than {MAX_DEPTH}: {len(level)} skipped")
    return entries
