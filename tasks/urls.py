"""URL normalization: one canonical spelling per page, so dedupe and joins compare like with like."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

__all__ = ["normalize_url", "page_task_run_name", "short_page_name", "url_host", "TRACKING_PARAMS", "TRACKING_PREFIXES"]

# Query keys (compared lower-case) that only identify a campaign, click or share, never the page.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        # ad-click identifiers
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
        "twclid", "ttclid", "li_fat_id", "epik", "rb_clickid", "s_kwcid",
        # social shares
        "igshid", "igsh", "ref_src", "ref_url", "sr_share", "smid", "smtyp", "share_id",
        # mail / marketing automation
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "__hstc", "__hssc", "__hsfp", "hsctatracking",
        "mkt_tok", "vero_id", "vero_conv", "oly_anon_id", "oly_enc_id", "wickedid", "__s",
        "_bta_tid", "_bta_c", "ml_subscriber", "ml_subscriber_hash",
        # analytics cross-domain linkers
        "_ga", "_gl", "_openstat",
        # news-site campaign ids (Yahoo/HuffPost ncid, Guardian CMP, Adobe s_cid/cmpid, WSJ/Dow Jones mod)
        "ncid", "cmp", "cmpid", "s_cid", "ito", "spm",
    }
)
# Key prefixes of tracking families: Google/Matomo/Piwik/HubSpot ads/AT Internet (BBC).
TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "pk_", "mtm_", "hsa_", "at_")

_DEFAULT_PORTS = {"http": 80, "https": 443}
# WHATWG URL parsing drops these anywhere in the input; hrefs copied from markup often contain them.
_STRIP_CHARS_RE = re.compile(r"[\t\n\r]")
_PCT_RE = re.compile(r"%[0-9a-fA-F]{2}")
# Characters left as-is when re-encoding; '%' keeps existing escapes intact.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = "/%:@!$&'()*+,;=-._~?"


def _upper_escapes(text: str) -> str:
    """%2f and %2F are the same octet; one spelling makes URLs comparable."""
    return _PCT_RE.sub(lambda m: m.group(0).upper(), text)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, so /a/./b/../c and /a/c compare equal even without a base."""
    if "." not in path:
        return path
    segments = path.split("/")
    out: list[str] = []
    for seg in segments[1:] if path.startswith("/") else segments:
        if seg == "..":
            if out:
                out.pop()
        elif seg != ".":
            out.append(seg)
    result = "/" + "/".join(out) if path.startswith("/") else "/".join(out)
    if segments[-1] in (".", "..") and not result.endswith("/"):
        result += "/"
    return result


def _is_tracking(key: str) -> bool:
    k = unquote(key).strip().lower()
    return k in TRACKING_PARAMS or k.startswith(TRACKING_PREFIXES)


def _clean_query(query: str) -> str:
    """Drop tracking pairs but keep the rest byte-for-byte and in order (order can matter to servers)."""
    if not query:
        return ""
    kept = [pair for pair in query.split("&") if pair and not _is_tracking(pair.split("=", 1)[0])]
    return "&".join(kept)


def normalize_url(url: str | None, base: str | None = None) -> str | None:
    """Absolute (resolved against base), lower-case scheme and host, default port dropped, no fragment,
    tracking parameters removed (utm_*, fbclid, gclid, mc_cid, mc_eid, igshid, ref_src, _ga, yclid, msclkid, ...),
    remaining query kept in order; None for empty/non-http(s)/unparsable input. Credentials (user:pass@) are stripped.

    An empty path becomes "/", dot segments are resolved, unsafe characters (spaces, non-ASCII) are
    percent-encoded as a browser would, and a trailing dot on the host is dropped.
    """
    if not isinstance(url, str):
        return None
    url = _STRIP_CHARS_RE.sub("", url).strip()
    if not url or len(url) > 8192:
        return None
    try:
        if isinstance(base, str) and base.strip():
            base_clean = _STRIP_CHARS_RE.sub("", base).strip()
            base_scheme = urlsplit(base_clean).scheme.lower()
            if base_scheme in _DEFAULT_PORTS:
                url = urljoin(base_clean, url)
            elif url.startswith("//"):
                url = "https:" + url
        elif url.startswith("//"):
            # Protocol-relative without a base: https is what every news site serves today.
            url = "https:" + url
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            return None
        host = parts.hostname  # lower-cased, credentials and port removed, IPv6 brackets removed
        if not host:
            return None
        host = host.rstrip(".")
        if not host or any(c in host for c in " <>\"{}|\\^`"):
            return None
        port = parts.port  # raises ValueError on a non-numeric or out-of-range port
    except ValueError:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _remove_dot_segments(parts.path) or "/"
    path = _upper_escapes(quote(path, safe=_PATH_SAFE))
    query = _upper_escapes(quote(_clean_query(parts.query), safe=_QUERY_SAFE))
    return urlunsplit((scheme, netloc, path, query, ""))


def url_host(url: str | None) -> str | None:
    """Lower-case host name of an http(s) URL (no port, no credentials, "www." kept); None when invalid."""
    normalized = normalize_url(url)
    if normalized is None:
        return None
    try:
        return urlsplit(normalized).hostname
    except ValueError:
        return None


def short_page_name(url: str, limit: int = 60) -> str:
    """``host/path`` of a URL, without scheme, ``www.`` or query, middle elided past ``limit`` characters."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").removeprefix("www.")
        if parts.port:
            host += f":{parts.port}"
    except ValueError:  # a bad port: still a name, never the raw URL (it may hold credentials)
        return "(not a valid URL)"
    text = (host + (parts.path or "/")).rstrip("/") or "/"
    if len(text) <= limit:
        return text
    keep = limit - 1
    head = max(len(host) + 1, keep // 2)
    head = min(head, keep - 8)
    return text[:head] + "…" + text[len(text) - (keep - head) :]


def page_task_run_name(parameters: dict[str, Any]) -> str:
    """``task_run_name`` for a per-page task: ``fetch <host/path, shortened>``."""
    url = parameters.get("url") or parameters.get("page") or ""
    return f"fetch {short_page_name(str(url))}"
