"""Fetching pages from the live web, politely and without losing any to a passing error.

One ``Fetcher`` owns one ``httpx.AsyncClient`` for a run: connections are pooled,
every host gets at most ``per_host_concurrency`` requests at once and at least
``per_host_delay`` seconds between request starts (more when robots.txt asks),
and the whole run at most ``global_concurrency`` requests in flight.

Every fetch ends as a ``FetchResult``, never an exception: ``ok`` with the body,
``not_modified`` after a conditional GET, or ``failed`` with a specific reason.
Transient failures are retried here (backoff, ``Retry-After``); ``is_transient``
and ``retry_delay`` are exposed so a Prefect task can make the same decision
with ``retry_condition_fn`` when retries are per page.

Bodies are read with ``aiter_raw`` and inflated here with a cap on the output,
so a decompression bomb never gets more than ``max_bytes`` of memory.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import ipaddress
import logging
import math
import random
import socket
import ssl
import time
import zlib
from collections import Counter, deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Collection, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import httpx

from pagescrub import PROJECT_URL, __version__

from .decode import sniff_binary
from .load import DEFAULT_MAX_BYTES
from .robots import ROBOTS_MAX_BYTES, ROBOTS_MAX_REDIRECTS, RobotsCache, RobotsResponse, RobotsRules, origin_of

__all__ = [
    "DEFAULT_USER_AGENT",
    "FETCH_BATCH_SIZE",
    "PAGE_CONTENT_TYPES",
    "TRANSIENT_STATUSES",
    "FetchConfig",
    "FetchFailed",
    "FetchResult",
    "Fetcher",
    "Validators",
    "http2_available",
    "is_transient",
    "parse_retry_after",
    "retry_delay",
    "validators_from_result",
]

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"pagescrub/{__version__} (+{PROJECT_URL})"
#: Fetched pages per batch task run: they come at polite fetching's pace, and smaller batches
#: are written sooner (saved pages go in larger ones: scrape's DEFAULT_BATCH_SIZE).
FETCH_BATCH_SIZE = 25
#: What a page may be; anything else is refused before its body is read.
PAGE_CONTENT_TYPES: frozenset[str] = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
#: Statuses worth asking again: the server or something in front of it is struggling, not the page.
TRANSIENT_STATUSES: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.1"
# Only what we inflate ourselves (with an output cap): never br/zstd, which httpx would inflate uncapped.
_ACCEPT_ENCODING = "gzip, deflate"
# The compression ratio test starts here: small pages may compress very well and are harmless.
_BOMB_FLOOR = 1024 * 1024
# Error and redirect bodies read (and dropped) to keep the connection reusable.
_DRAIN_BYTES = 64 * 1024
_RESOLVE_TTL = 60.0

Outcome = Literal["ok", "not_modified", "failed"]

# Indirections so tests can observe waits without waiting.
_sleep = asyncio.sleep
_monotonic = time.monotonic


@functools.lru_cache(maxsize=2)
def _ssl_context(http2: bool) -> ssl.SSLContext:
    """Loading the CA bundle costs ~0.1 s: once per process, not per Fetcher (one per ALPN set, which httpcore mutates)."""
    return httpx.create_ssl_context()


def http2_available() -> bool:
    """HTTP/2 needs the optional ``h2`` package (extra ``http2``)."""
    try:
        import h2  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class FetchConfig:
    """Everything a run may tune; the defaults are polite enough for any public site."""

    user_agent: str = DEFAULT_USER_AGENT
    robots_user_agent: str | None = None
    """Token matched against robots.txt groups; default: the product token of ``user_agent``."""
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 120.0
    """Cap on one request, body included: a server trickling bytes cannot hold a slot forever."""
    max_redirects: int = 10
    max_bytes: int = DEFAULT_MAX_BYTES
    """Largest body accepted, after decompression; enforced while streaming."""
    max_compression_ratio: float = 100.0
    """Decoded/raw ratio above which a body over 1 MiB is a decompression bomb."""
    allowed_content_types: frozenset[str] = PAGE_CONTENT_TYPES
    """Media types fetched as pages; a missing Content-Type is allowed when the body does not look binary."""
    per_host_concurrency: int = 2
    per_host_delay: float = 1.0
    """Minimum seconds between request starts on one host (robots ``Crawl-delay`` wins when larger)."""
    max_crawl_delay: float = 60.0
    """Cap on a robots ``Crawl-delay`` so one site cannot stall a run for hours."""
    global_concurrency: int = 16
    retries: int = 3
    """Retries after the first attempt for transient failures (0: leave retrying to the caller)."""
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    jitter: float = 0.5
    """Up to this fraction of the backoff is added at random, so retries from many pages spread out."""
    retry_after_cap: float = 120.0
    obey_robots: bool = True
    robots_ttl: float = 24 * 3600.0
    robots_error_ttl: float = 600.0
    http2: bool = False
    """Use HTTP/2 where servers offer it; only when ``h2`` is installed."""
    allow_private_addresses: bool = False
    """Allow hosts resolving to loopback/private/link-local addresses (tests, intranets). Off: SSRF guard."""

    def __post_init__(self) -> None:
        for name in ("max_bytes", "per_host_concurrency", "global_concurrency"):
            if getattr(self, name) < 1:
                raise ValueError(f"FetchConfig.{name} must be at least 1")
        if self.max_redirects < 0 or self.retries < 0:
            raise ValueError("FetchConfig.max_redirects and retries must not be negative")
        for name in ("connect_timeout", "read_timeout", "total_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"FetchConfig.{name} must be positive")
        if self.per_host_delay < 0 or self.backoff_base < 0 or self.retry_after_cap < 0 or self.jitter < 0:
            raise ValueError("FetchConfig delays must not be negative")

    @property
    def robots_agent(self) -> str:
        return self.robots_user_agent or self.user_agent


@dataclass(frozen=True, slots=True)
class Validators:
    """What the server said identifies this version of a page; sent back for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("etag", self.etag), ("last_modified", self.last_modified)) if v}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Validators | None:
        if not data:
            return None
        found = cls(data.get("etag") or None, data.get("last_modified") or None)
        return found or None


@dataclass(slots=True)
class FetchResult:
    """One URL's fetch, whatever happened."""

    url: str
    """The URL as requested."""
    final_url: str
    """Where the last response came from, after redirects."""
    status: int | None
    """The last HTTP status, None when no response arrived."""
    headers: dict[str, str]
    """``content-type``, ``etag`` and ``last-modified`` when the server sent them."""
    body: bytes | None
    """The decoded body (no content-encoding left), None unless ``outcome`` is ``ok``."""
    outcome: Outcome
    reason: str | None = None
    attempts: int = 0
    elapsed: float = 0.0
    transient: bool = False
    """A failure that may pass: worth retrying later (see ``is_transient``)."""

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


class FetchFailed(Exception):
    """Raised by callers that want a failed fetch as an exception (e.g. to trigger Prefect retries)."""

    def __init__(self, result: FetchResult) -> None:
        super().__init__(f"{result.url}: {result.reason}")
        self.result = result


def validators_from_result(result: FetchResult) -> Validators | None:
    """Validators to store for next time; None when the response gave none (keep the old ones on a 304)."""
    if result.outcome == "failed":
        return None
    found = Validators(result.headers.get("etag"), result.headers.get("last-modified"))
    return found or None


def is_transient(outcome: FetchResult | BaseException | int) -> bool:
    """Whether a failure may pass if asked again later: the one rule for our retries and Prefect's."""
    if isinstance(outcome, FetchFailed):
        outcome = outcome.result
    if isinstance(outcome, FetchResult):
        return outcome.outcome == "failed" and outcome.transient
    if isinstance(outcome, bool):
        return False
    if isinstance(outcome, int):
        return outcome in TRANSIENT_STATUSES
    if isinstance(outcome, httpx.HTTPStatusError):
        return outcome.response.status_code in TRANSIENT_STATUSES
    return isinstance(
        outcome, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError, TimeoutError, ConnectionError)
    )


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds asked by a ``Retry-After`` header: delay-seconds or an HTTP-date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_delay(attempt: int, retry_after: float | None, config: FetchConfig) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based).

    The server's ``Retry-After`` wins, capped at ``retry_after_cap``; otherwise
    exponential backoff from ``backoff_base`` up to ``backoff_max``, plus jitter.
    """
    if retry_after is not None:
        return max(0.0, min(retry_after, config.retry_after_cap))
    base = min(config.backoff_max, config.backoff_base * 2 ** max(0, attempt - 1))
    return base + random.uniform(0.0, config.jitter * base)


# --- internals -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Mode:
    """What kind of document a fetch is for: pages, feeds/sitemaps, or robots.txt itself."""

    content_types: frozenset[str] | None  # None: any
    max_bytes: int
    max_redirects: int
    robots: bool
    truncate: bool = False  # robots.txt: keep the first max_bytes instead of failing
    sniff: bool = True  # refuse binary bodies served without a Content-Type
    accept: str = "*/*"


@dataclass(slots=True)
class _Attempt:
    outcome: Outcome
    final_url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    reason: str | None = None
    detail: str | None = None
    transient: bool = False
    retry_after: float | None = None
    redirect: str | None = None


class _Host:
    __slots__ = ("sem", "next_at", "last_start")

    def __init__(self, limit: int) -> None:
        self.sem = asyncio.Semaphore(limit)
        self.next_at = 0.0
        self.last_start = -math.inf


class _BodyError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Inflater:
    """gzip/deflate decoding that never produces more than asked for (zlib ``max_length``)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.active = encoding not in ("", "identity")
        self._gzip = encoding in ("gzip", "x-gzip")
        if self.active and not self._gzip and encoding != "deflate":
            raise _BodyError(f"unsupported content encoding {encoding}")
        self._d: Any = zlib.decompressobj(zlib.MAX_WBITS | 16) if self._gzip else None

    def feed(self, data: bytes, room: int) -> bytes:
        """Decode ``data``; returns at most ``room + 1`` bytes (one more than allowed means: over the limit)."""
        if not self.active:
            return data
        try:
            if self._d is None:  # deflate: zlib-wrapped as the RFC says, or raw as some servers send
                self._d = zlib.decompressobj()
                try:
                    return self._d.decompress(data, room + 1)
                except zlib.error:
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._d.decompress(data, room + 1)
            while self._gzip and self._d.eof and self._d.unused_data.startswith(b"\x1f\x8b") and len(out) <= room:
                rest = self._d.unused_data  # another gzip member follows
                self._d = zlib.decompressobj(zlib.MAX_WBITS | 16)
                out += self._d.decompress(rest, room + 1 - len(out))
            return out
        except zlib.error:
            raise _BodyError(f"corrupt {self.encoding} content encoding") from None

    def flush(self) -> bytes:
        if not self.active or self._d is None or self._d.eof:
            return b""
        try:
            return self._d.flush()
        except zlib.error:
            raise _BodyError(f"corrupt {self.encoding} content encoding") from None


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _subset(headers: httpx.Headers) -> dict[str, str]:
    return {k: headers[k] for k in ("content-type", "etag", "last-modified") if k in headers}


def _describe(exc: BaseException) -> str:
    """``Type: message``; httpx often wraps an OSError with an empty message, so the cause speaks then."""
    text = str(exc).strip()
    cause = exc.__cause__ or exc.__context__
    while not text and cause is not None:
        text = str(cause).strip()
        cause = cause.__cause__ or cause.__context__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _address_blocked(address: str) -> bool:
    """Loopback, private, link-local (cloud metadata), unique-local, multicast, reserved: anything not global."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


Resolver = Callable[[str, int], Awaitable[list[str]]]


async def _resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def _aiter(urls: Iterable[str] | AsyncIterable[str]) -> AsyncIterator[str]:
    if isinstance(urls, AsyncIterable):
        async for url in urls:
            yield url
    else:
        for url in urls:
            yield url


class Fetcher:
    """The run's HTTP client with its politeness state; use as ``async with Fetcher(config) as f``.

    ``robots`` may be a cache restored from the store (``RobotsCache.from_dict``);
    ``transport`` and ``resolver`` exist for tests and unusual networks.
    """

    def __init__(
        self,
        config: FetchConfig | None = None,
        *,
        robots: RobotsCache | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.config = cfg = config or FetchConfig()
        self.robots = robots or RobotsCache(ttl=cfg.robots_ttl, error_ttl=cfg.robots_error_ttl)
        self._transport = transport
        self._resolver = resolver or _resolve
        self._resolved: dict[tuple[str, int], tuple[float, list[str]]] = {}
        self._client: httpx.AsyncClient | None = None
        self._global = asyncio.Semaphore(cfg.global_concurrency)
        self._hosts: dict[str, _Host] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._page_mode = _Mode(cfg.allowed_content_types, cfg.max_bytes, cfg.max_redirects, True, accept=_PAGE_ACCEPT)
        self._robots_mode = _Mode(None, ROBOTS_MAX_BYTES, ROBOTS_MAX_REDIRECTS, False, truncate=True, sniff=False)

    async def __aenter__(self) -> Fetcher:
        cfg = self.config
        http2 = cfg.http2 and http2_available()
        self._client = httpx.AsyncClient(
            headers={"User-Agent": cfg.user_agent, "Accept-Encoding": _ACCEPT_ENCODING},
            timeout=httpx.Timeout(
                connect=cfg.connect_timeout, read=cfg.read_timeout, write=cfg.read_timeout, pool=cfg.connect_timeout
            ),
            limits=httpx.Limits(
                max_connections=cfg.global_concurrency, max_keepalive_connections=cfg.global_concurrency
            ),
            follow_redirects=False,  # done here, so every hop is checked (scheme, address, robots, politeness)
            http2=http2,
            verify=_ssl_context(http2),
            transport=self._transport,
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- public API ------------------------------------------------------------------------

    async def fetch(
        self,
        url: str,
        validators: Validators | None = None,
        *,
        content_types: Collection[str] | None = None,
        max_bytes: int | None = None,
        retries: int | None = None,
    ) -> FetchResult:
        """Fetch one page; never raises for anything the network or server does.

        ``content_types``/``max_bytes`` override the config for documents that are
        not pages (discovery fetches sitemaps and feeds this way). ``retries``
        overrides ``config.retries`` for this call: 0 when the caller retries
        itself (a Prefect task per page), while the same Fetcher, and so the same
        politeness state, keeps its own retries for everything else.
        """
        mode = self._page_mode
        if content_types is not None or max_bytes is not None:
            mode = _Mode(
                frozenset(content_types) if content_types is not None else mode.content_types,
                max_bytes or mode.max_bytes,
                mode.max_redirects,
                True,
                accept=", ".join(sorted(content_types)) + ", */*;q=0.1" if content_types else "*/*",
            )
        return await self._fetch(url, validators, mode, retries)

    async def fetch_many(
        self,
        urls: Iterable[str] | AsyncIterable[str],
        validators_for: Callable[[str], Validators | None] | Mapping[str, Validators] | None = None,
        *,
        window: int = 1000,
    ) -> AsyncIterator[FetchResult]:
        """Fetch many URLs, yielding results as they complete (match them by ``result.url``).

        Hosts are served round-robin so one large site does not starve the others;
        at most ``window`` URLs are read ahead from ``urls``. Close the iterator
        (``contextlib.aclosing``) when stopping early, so pending fetches are cancelled.
        """
        cfg = self.config
        lookup: Callable[[str], Validators | None]
        if validators_for is None:
            lookup = lambda _url: None  # noqa: E731
        elif isinstance(validators_for, Mapping):
            lookup = validators_for.get
        else:
            lookup = validators_for
        queues: dict[str, deque[str]] = {}
        running: dict[asyncio.Task[FetchResult], str] = {}
        per_host: Counter[str] = Counter()
        # Tasks waiting out a host delay hold no request slot, so more tasks than requests may exist.
        max_tasks = 4 * cfg.global_concurrency
        source = _aiter(urls)
        buffered = 0
        exhausted = False
        try:
            while True:
                while not exhausted and buffered < window:
                    try:
                        url = await anext(source)
                    except StopAsyncIteration:
                        exhausted = True
                        break
                    queues.setdefault(self._origin(url), deque()).append(url)
                    buffered += 1
                launched = True
                while launched and len(running) < max_tasks:
                    launched = False
                    for origin in list(queues):
                        if len(running) >= max_tasks:
                            break
                        if per_host[origin] >= cfg.per_host_concurrency:
                            continue
                        queue = queues[origin]
                        url = queue.popleft()
                        if not queue:
                            del queues[origin]
                        buffered -= 1
                        task = asyncio.create_task(self._fetch_safe(url, lookup(url)))
                        self._tasks.add(task)
                        task.add_done_callback(self._tasks.discard)
                        running[task] = origin
                        per_host[origin] += 1
                        launched = True
                if not running:
                    return
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    per_host[running.pop(task)] -= 1
                    yield task.result()
        finally:
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    async def robots_for(self, url: str) -> RobotsRules:
        """The robots.txt verdict for ``url``'s origin (cached); discovery reads its ``Sitemap:`` lines."""
        self._require_open()
        return await self.robots.rules_for(url, self._fetch_robots)

    def _require_open(self) -> None:
        if self._client is None:
            raise RuntimeError("Fetcher is not open: use 'async with Fetcher(...) as fetcher'")

    # -- one URL, with retries ---------------------------------------------------------------

    async def _fetch_safe(self, url: str, validators: Validators | None) -> FetchResult:
        """A bug must not end the run: it becomes a failed result like any other."""
        try:
            return await self._fetch(url, validators, self._page_mode)
        except Exception as exc:  # pragma: no cover - defensive
            logger.exception("fetching %s", url)
            return FetchResult(url, url, None, {}, None, "failed", f"internal error: {_describe(exc)}")

    async def _fetch(
        self, url: str, validators: Validators | None, mode: _Mode, retries: int | None = None
    ) -> FetchResult:
        self._require_open()
        if retries is None:
            retries = self.config.retries
        elif retries < 0:
            raise ValueError("retries must not be negative")
        started = _monotonic()
        attempts = 0
        while True:
            attempts += 1
            attempt = await self._attempt(url, validators, mode)
            if attempt.outcome != "failed" or not attempt.transient or attempts > retries:
                break
            delay = retry_delay(attempts, attempt.retry_after, self.config)
            logger.debug("retrying %s in %.2fs after %s", url, delay, attempt.reason)
            await _sleep(delay)
        reason = attempt.reason
        if attempt.outcome == "failed":
            if attempt.transient and attempts > 1:
                reason = f"{reason} after {attempts} attempts"
            if attempt.detail:
                reason = f"{reason}: {attempt.detail}"
        return FetchResult(
            url=url,
            final_url=attempt.final_url,
            status=attempt.status,
            headers=attempt.headers,
            body=attempt.body if attempt.outcome == "ok" else None,
            outcome=attempt.outcome,
            reason=reason,
            attempts=attempts,
            elapsed=_monotonic() - started,
            transient=attempt.outcome == "failed" and attempt.transient,
        )

    async def _attempt(self, url: str, validators: Validators | None, mode: _Mode) -> _Attempt:
        """One try: request, following redirects; every hop is checked and throttled like a new request."""
        headers = {"Accept": mode.accept}
        if validators:
            headers.update(validators.headers())
        current = url
        last_status: int | None = None
        for _hop in range(mode.max_redirects + 1):
            refusal = await self._refusal(current, mode)
            if refusal is not None:
                return refusal
            origin = origin_of(current)
            async with self._host_slot(origin):
                async with self._global:
                    result = await self._exchange(current, headers, mode)
                if result.retry_after is not None:
                    self._host(origin).next_at = max(
                        self._host(origin).next_at,
                        _monotonic() + min(result.retry_after, self.config.retry_after_cap),
                    )
            if result.redirect is None:
                return result
            last_status = result.status
            current = result.redirect
        return _Attempt("failed", current, status=last_status, reason="too many redirects")

    # -- checks before a request -------------------------------------------------------------

    async def _refusal(self, url: str, mode: _Mode) -> _Attempt | None:
        """Why ``url`` must not be requested (scheme, address, robots.txt), or None."""
        try:
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            host = parts.hostname
            port = parts.port
        except ValueError as exc:
            return _Attempt("failed", url, reason=f"invalid url: {exc}")
        if not scheme:
            return _Attempt("failed", url, reason="invalid url: no scheme")
        if scheme not in ("http", "https"):
            return _Attempt("failed", url, reason=f"address not allowed: {scheme} URLs are never fetched")
        if not host:
            return _Attempt("failed", url, reason="invalid url: no host")
        if not self.config.allow_private_addresses:
            blocked = await self._blocked_address(url, host, port or (443 if scheme == "https" else 80))
            if blocked is not None:
                return blocked
        if mode.robots and self.config.obey_robots:
            rules = await self.robots.rules_for(url, self._fetch_robots)
            if rules.crawl_delay(self.config.robots_agent) is not None:
                host_state = self._host(rules.origin)
                host_state.next_at = max(host_state.next_at, host_state.last_start + self._delay_for(rules.origin))
            if not rules.allowed(url, self.config.robots_agent):
                if rules.kind == "disallow_all":
                    return _Attempt("failed", url, reason=f"robots.txt unavailable ({rules.reason}): host disallowed")
                return _Attempt("failed", url, reason="robots.txt disallows")
        return None

    async def _blocked_address(self, url: str, host: str, port: int) -> _Attempt | None:
        """A failure when ``host`` is, or resolves to, an address we must not reach (or cannot be resolved)."""
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            pass
        else:
            return _Attempt("failed", url, reason=f"address not allowed: {host}") if _address_blocked(host) else None
        key = (host, port)
        cached = self._resolved.get(key)
        now = _monotonic()
        if cached is not None and cached[0] > now:
            addresses = cached[1]
        else:
            try:
                addresses = await self._resolver(host, port)
            except (OSError, UnicodeError) as exc:
                detail = f"cannot resolve {host}: {_describe(exc)}"
                return _Attempt("failed", url, reason="connection error", detail=detail, transient=True)
            self._resolved[key] = (now + _RESOLVE_TTL, addresses)
        for address in addresses:
            if _address_blocked(address):
                return _Attempt("failed", url, reason=f"address not allowed: {host} resolves to {address}")
        return None

    async def _fetch_robots(self, url: str) -> RobotsResponse:
        result = await self._fetch(url, None, self._robots_mode)
        if result.outcome == "ok":
            return RobotsResponse(result.status, result.body or b"")
        return RobotsResponse(result.status, b"", result.reason)

    # -- politeness ------------------------------------------------------------------------

    def _origin(self, url: str) -> str:
        try:
            return origin_of(url)
        except ValueError:
            return ""

    def _host(self, origin: str) -> _Host:
        host = self._hosts.get(origin)
        if host is None:
            host = self._hosts[origin] = _Host(self.config.per_host_concurrency)
        return host

    def _delay_for(self, origin: str) -> float:
        delay = self.config.per_host_delay
        if self.config.obey_robots:
            rules = self.robots.get(origin + "/")
            crawl_delay = rules.crawl_delay(self.config.robots_agent) if rules is not None else None
            if crawl_delay is not None:
                delay = max(delay, min(crawl_delay, self.config.max_crawl_delay))
        return delay

    @asynccontextmanager
    async def _host_slot(self, origin: str) -> AsyncIterator[None]:
        """One of the host's slots, entered no sooner than its delay after the previous request start."""
        host = self._host(origin)
        async with host.sem:
            now = _monotonic()
            start = max(now, host.next_at)
            host.next_at = start + self._delay_for(origin)
            host.last_start = start
            if start > now:
                await _sleep(start - now)
            yield

    # -- one request -----------------------------------------------------------------------

    async def _exchange(self, url: str, headers: dict[str, str], mode: _Mode) -> _Attempt:
        assert self._client is not None
        try:
            async with asyncio.timeout(self.config.total_timeout):
                async with self._client.stream("GET", url, headers=headers) as response:
                    return await self._handle(url, response, mode)
        except httpx.TimeoutException:
            return _Attempt("failed", url, reason="timeout", transient=True)
        except TimeoutError:
            return _Attempt("failed", url, reason="timeout", detail="total time limit", transient=True)
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            if str(exc).startswith("Invalid URL in location header"):
                # httpx parses Location even when not following: a broken one is the server's, for good.
                return _Attempt("failed", url, reason="redirect to an invalid location", detail=str(exc))
            return _Attempt("failed", url, reason="connection error", detail=_describe(exc), transient=True)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return _Attempt("failed", url, reason=f"request error: {_describe(exc)}")

    async def _handle(self, url: str, response: httpx.Response, mode: _Mode) -> _Attempt:
        status = response.status_code
        headers = _subset(response.headers)
        if status in _REDIRECT_STATUSES and response.headers.get("location"):
            await self._drain(response)
            try:
                target = urljoin(url, response.headers["location"].strip())
            except ValueError as exc:
                return _Attempt("failed", url, status=status, headers=headers, reason="redirect to an invalid location", detail=str(exc))
            return _Attempt("failed", url, status=status, headers=headers, redirect=target)
        if status == 304:
            return _Attempt("not_modified", url, status=status, headers=headers)
        if not 200 <= status < 300:
            await self._drain(response)
            retry_after = None
            if status in _RETRY_AFTER_STATUSES:
                retry_after = parse_retry_after(response.headers.get("retry-after"))
            return _Attempt(
                "failed", url, status=status, headers=headers, reason=f"http {status}",
                transient=status in TRANSIENT_STATUSES, retry_after=retry_after,
            )
        media_type = _media_type(headers.get("content-type"))
        if mode.content_types is not None and media_type and media_type not in mode.content_types:
            return _Attempt("failed", url, status=status, headers=headers, reason=f"content type {media_type} refused")
        length = response.headers.get("content-length", "")
        if not mode.truncate and length.isdigit() and int(length) > mode.max_bytes:
            return _Attempt("failed", url, status=status, headers=headers, reason=f"too large: over {mode.max_bytes} bytes")
        try:
            body = await self._read_body(response, mode)
        except _BodyError as exc:
            return _Attempt("failed", url, status=status, headers=headers, reason=exc.reason)
        if mode.sniff and not media_type:
            kind = sniff_binary(body)
            if kind is not None:
                return _Attempt("failed", url, status=status, headers=headers, reason=f"no content type and body is {kind}")
        return _Attempt("ok", url, status=status, headers=headers, body=body)

    async def _read_body(self, response: httpx.Response, mode: _Mode) -> bytes:
        """The body, inflated here with the size cap and the bomb check applied as it streams."""
        inflater = _Inflater(response.headers.get("content-encoding", "").strip().lower())
        limit = mode.max_bytes
        ratio = self.config.max_compression_ratio
        out = bytearray()
        raw = 0

        def check(decoded: int) -> None:
            if inflater.active and decoded > _BOMB_FLOOR and decoded > ratio * max(raw, 1):
                raise _BodyError("decompression bomb")
            if decoded > limit:
                raise _BodyError(f"too large: over {limit} bytes")

        async for chunk in response.aiter_raw():
            raw += len(chunk)
            if raw > limit and not mode.truncate:
                raise _BodyError(f"too large: over {limit} bytes")
            out += inflater.feed(chunk, limit - len(out))
            if len(out) > limit and mode.truncate:
                return bytes(out[:limit])
            check(len(out))
        out += inflater.flush()
        if mode.truncate:
            return bytes(out[:limit])
        check(len(out))
        return bytes(out)

    async def _drain(self, response: httpx.Response) -> None:
        """Read a small unwanted body so the connection can be reused; a big one just closes it."""
        read = 0
        try:
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read > _DRAIN_BYTES:
                    break
        except httpx.HTTPError:
            pass
