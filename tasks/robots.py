"""robots.txt per RFC 9309: one fetch per origin, cached, with the RFC's failure rules.

The cache holds no client: it is handed a fetch function, so the rules can be
tested without a network and persisted by the flow (``to_dict``/``from_dict``)
between runs in the store's state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from protego import Protego

__all__ = [
    "ROBOTS_MAX_BYTES",
    "ROBOTS_MAX_REDIRECTS",
    "RobotsCache",
    "RobotsResponse",
    "RobotsRules",
    "origin_of",
    "product_token",
    "robots_url",
]

#: RFC 9309 §2.5: crawlers must parse at least 500 KiB; content beyond is ignored.
ROBOTS_MAX_BYTES = 500 * 1024
#: RFC 9309 §2.3.1.2: follow at least five consecutive redirects.
ROBOTS_MAX_REDIRECTS = 5
#: A good robots.txt is trusted for a day (RFC 9309 §2.4: "SHOULD NOT use a cached version for more than 24 hours").
DEFAULT_TTL = 24 * 3600.0
#: An unreachable robots.txt blocks the whole host, so that verdict is re-checked sooner.
DEFAULT_ERROR_TTL = 600.0

_DEFAULT_PORTS = {"http": 80, "https": 443}

Kind = Literal["rules", "allow_all", "disallow_all"]


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` with the default port dropped: the scope of one robots.txt."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def robots_url(url: str) -> str:
    return origin_of(url) + "/robots.txt"


def product_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched against (RFC 9309 §2.2.1): ``pagescrub/0.1 (+...)`` -> ``pagescrub``."""
    token = user_agent.strip().split("/", 1)[0].split(None, 1)
    return token[0] if token else user_agent


@dataclass(frozen=True, slots=True)
class RobotsResponse:
    """What fetching ``/robots.txt`` gave: a final status and body, or no response at all."""

    status: int | None
    body: bytes = b""
    error: str | None = None
    """Why there is no status (connection error, timeout, ...)."""


@dataclass(slots=True)
class RobotsRules:
    """The verdict for one origin: parsed rules, or allow/disallow everything."""

    origin: str
    kind: Kind
    text: str = ""
    fetched_at: float = 0.0
    """Wall-clock time (``time.time()``) of the fetch, so a persisted cache ages correctly."""
    reason: str | None = None
    """Why the origin is allowed or disallowed wholesale ("http 404", "http 503", "connection error: ...")."""
    _parser: Protego | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_response(cls, origin: str, response: RobotsResponse, *, now: float | None = None) -> RobotsRules:
        """Apply RFC 9309 §2.3.1: 2xx parse, 4xx allow all, 5xx (and 429) or unreachable disallow all."""
        fetched_at = time.time() if now is None else now
        status = response.status
        if status is None:
            return cls(origin, "disallow_all", fetched_at=fetched_at, reason=response.error or "unreachable")
        if 200 <= status < 300:
            text = response.body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
            return cls(origin, "rules", text=text, fetched_at=fetched_at)
        # 429 says "slow down", not "no file here": treated as a server error, as Google does.
        if status == 429 or status >= 500:
            return cls(origin, "disallow_all", fetched_at=fetched_at, reason=f"http {status}")
        # 4xx, and 3xx left over after too many redirects: the file is unavailable.
        return cls(origin, "allow_all", fetched_at=fetched_at, reason=f"http {status}")

    @property
    def parser(self) -> Protego:
        if self._parser is None:
            self._parser = Protego.parse(self.text if self.kind == "rules" else "")
        return self._parser

    def allowed(self, url: str, user_agent: str) -> bool:
        if self.kind == "allow_all":
            return True
        if self.kind == "disallow_all":
            return urlsplit(url).path == "/robots.txt"
        return self.parser.can_fetch(url, product_token(user_agent))

    def crawl_delay(self, user_agent: str) -> float | None:
        """``Crawl-delay`` of the group matching us, in seconds (not in RFC 9309, widely used)."""
        if self.kind != "rules":
            return None
        delay = self.parser.crawl_delay(product_token(user_agent))
        return float(delay) if delay is not None and delay >= 0 else None

    @property
    def sitemaps(self) -> list[str]:
        return list(self.parser.sitemaps) if self.kind == "rules" else []

    def expired(self, now: float, ttl: float, error_ttl: float) -> bool:
        limit = error_ttl if self.kind == "disallow_all" else ttl
        return now - self.fetched_at >= limit or now < self.fetched_at - 60

    def to_dict(self) -> dict[str, Any]:
        return {"origin": self.origin, "kind": self.kind, "text": self.text, "fetched_at": self.fetched_at, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RobotsRules:
        kind = data["kind"]
        if kind not in ("rules", "allow_all", "disallow_all"):
            raise ValueError(f"unknown robots kind {kind!r}")
        return cls(
            origin=str(data["origin"]),
            kind=kind,
            text=str(data.get("text") or ""),
            fetched_at=float(data.get("fetched_at") or 0.0),
            reason=data.get("reason"),
        )


RobotsFetch = Callable[[str], Awaitable[RobotsResponse]]


class RobotsCache:
    """Rules per origin, fetched once (concurrent callers wait for the same fetch) and kept up to ``ttl``."""

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL,
        error_ttl: float = DEFAULT_ERROR_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ttl = ttl
        self.error_ttl = error_ttl
        self._clock = clock
        self._rules: dict[str, RobotsRules] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def __len__(self) -> int:
        return len(self._rules)

    def get(self, url: str) -> RobotsRules | None:
        """Fresh rules for the origin of ``url``, or None (never fetches)."""
        rules = self._rules.get(origin_of(url))
        if rules is None or rules.expired(self._clock(), self.ttl, self.error_ttl):
            return None
        return rules

    def put(self, rules: RobotsRules) -> None:
        self._rules[rules.origin] = rules

    async def rules_for(self, url: str, fetch: RobotsFetch) -> RobotsRules:
        """Rules for the origin of ``url``, calling ``fetch(robots_url)`` only when none are fresh."""
        rules = self.get(url)
        if rules is not None:
            return rules
        origin = origin_of(url)
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            rules = self.get(url)
            if rules is None:
                response = await fetch(origin + "/robots.txt")
                rules = RobotsRules.from_response(origin, response, now=self._clock())
                self.put(rules)
        return rules

    def to_dict(self) -> dict[str, Any]:
        """Fresh entries only, as plain JSON-able data."""
        now = self._clock()
        return {
            "version": 1,
            "origins": [r.to_dict() for r in self._rules.values() if not r.expired(now, self.ttl, self.error_ttl)],
        }

    @classmethod
    def from_dict(
        cls,
        data: dict[str, Any] | None,
        *,
        ttl: float = DEFAULT_TTL,
        error_ttl: float = DEFAULT_ERROR_TTL,
        clock: Callable[[], float] = time.time,
    ) -> RobotsCache:
        """Rebuild a cache from ``to_dict`` output; unreadable entries are dropped (they will be refetched)."""
        cache = cls(ttl=ttl, error_ttl=error_ttl, clock=clock)
        entries: Iterable[Any] = (data or {}).get("origins") or []
        for entry in entries:
            try:
                cache.put(RobotsRules.from_dict(entry))
            except (KeyError, TypeError, ValueError):
                continue
        return cache
