"""A few simulated web sites on 127.0.0.1, with a request log and injected faults.

Each site is its own ``ThreadingHTTPServer`` on its own port, so each is a
distinct origin (host:port) to the fetcher, as separate sites would be. The
server records every request and the most requests it ever served at once per
site; the count covers a fixed ``latency`` window at the start of each request,
before any fault behaviour, so an abandoned slow request is not counted against
the client after it gave up.

Used by ``tests/test_fetch_integration.py`` and ``benchmarks/fetch.py``.
"""

from __future__ import annotations

import hashlib
import socket
import struct
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

__all__ = ["Fault", "Page", "Request", "Site", "SiteSim", "article_html"]

Fault = Literal["retry_after_once", "unavailable_twice", "unavailable", "error_once", "slow", "reset", "reset_once"]


def article_html(title: str, paragraphs: int = 4) -> bytes:
    """A page with an article long enough to be extracted, plus some chrome."""
    body = "".join(
        f"<p>{title}: paragraph {i} of a story that goes on long enough to be an article, with several "
        f"sentences of ordinary prose. The council met on Tuesday and discussed the budget at length.</p>"
        for i in range(paragraphs)
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title} | Sim News</title></head>"
        f"<body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<article><h1>{title}</h1>{body}</article><footer>© Sim News</footer></body></html>"
    ).encode()


@dataclass
class Page:
    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    fault: Fault | None = None
    validators: bool = True
    """Send ETag and Last-Modified, and answer a matching conditional GET with 304."""
    slow_seconds: float = 1.0


@dataclass(frozen=True)
class Request:
    site: str
    path: str
    headers: dict[str, str]
    at: float


class Site:
    def __init__(self, sim: SiteSim, name: str) -> None:
        self.sim = sim
        self.name = name
        self.pages: dict[str, Page] = {}
        self.hits: Counter[str] = Counter()
        self.current = 0
        self.peak = 0
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.site = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def add(self, path: str, page: Page | bytes | str) -> str:
        if isinstance(page, str):
            page = page.encode()
        if isinstance(page, bytes):
            page = Page(page)
        self.pages[path] = page
        return self.url(path)

    def requests(self, path: str | None = None) -> list[Request]:
        return [r for r in self.sim.log if r.site == self.name and (path is None or r.path == path)]


class SiteSim:
    """Start with ``with SiteSim() as sim``; add sites and pages before or after starting."""

    def __init__(self, latency: float = 0.03) -> None:
        self.latency = latency
        self.sites: dict[str, Site] = {}
        self.log: list[Request] = []
        self.lock = threading.Lock()
        self._started = False

    def site(self, name: str) -> Site:
        if name not in self.sites:
            site = self.sites[name] = Site(self, name)
            if self._started:
                site.thread.start()
        return self.sites[name]

    def start(self) -> None:
        for site in self.sites.values():
            site.thread.start()
        self._started = True

    def stop(self) -> None:
        for site in self.sites.values():
            site.server.shutdown()
            site.server.server_close()

    def __enter__(self) -> SiteSim:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def peak_concurrency(self) -> dict[str, int]:
        return {name: site.peak for name, site in self.sites.items()}

    def clear_log(self) -> None:
        with self.lock:
            self.log.clear()

    def _arrive(self, site: Site, path: str, headers: dict[str, str]) -> int:
        """Log the request and hold it for ``latency`` while counting it as concurrent; returns its hit number."""
        with self.lock:
            self.log.append(Request(site.name, path, headers, time.monotonic()))
            site.hits[path] += 1
            hits = site.hits[path]
            site.current += 1
            site.peak = max(site.peak, site.current)
        try:
            if self.latency:
                time.sleep(self.latency)
        finally:
            with self.lock:
                site.current -= 1
        return hits


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256
    site: Site

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up (timeouts, resets we caused) is normal here, not worth a traceback."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do: the client's pool gets exercised
    disable_nagle_algorithm = True  # headers and body are separate writes: Nagle + delayed ACK would add 40 ms
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        pass

    def do_GET(self) -> None:  # http.server's naming
        site = self.server.site
        headers = {k.lower(): v for k, v in self.headers.items()}
        hits = site.sim._arrive(site, self.path, headers)
        page = site.pages.get(self.path)
        if page is None:
            self._send(404, b"not found", "text/plain")
            return
        try:
            self._serve(page, hits, headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (read timeout): nothing to do

    def _serve(self, page: Page, hits: int, headers: dict[str, str]) -> None:
        fault = page.fault
        if fault == "retry_after_once" and hits == 1:
            self._send(503, b"busy", "text/plain", {"Retry-After": "1"})
            return
        if (fault == "unavailable_twice" and hits <= 2) or fault == "unavailable":
            self._send(503, b"unavailable", "text/plain")
            return
        if fault == "error_once" and hits == 1:
            self._send(500, b"oops", "text/plain")
            return
        if fault == "slow":
            time.sleep(page.slow_seconds)
        if fault == "reset" or (fault == "reset_once" and hits == 1):
            self._reset(page)
            return
        extra = dict(page.headers)
        if page.validators and page.status == 200:
            etag = '"' + hashlib.sha1(page.body).hexdigest()[:16] + '"'
            last_modified = formatdate(1644400800, usegmt=True)  # Wed, 09 Feb 2022 10:00:00 GMT
            extra.update({"ETag": etag, "Last-Modified": last_modified})
            if headers.get("if-none-match") == etag or (
                "if-none-match" not in headers and headers.get("if-modified-since") == last_modified
            ):
                self._send(304, b"", None, extra)
                return
        self._send(page.status, page.body, page.content_type, extra)

    def _send(self, status: int, body: bytes, content_type: str | None, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304 and body:
            self.wfile.write(body)

    def _reset(self, page: Page) -> None:
        """Promise the whole body, send a third, then abort the connection with a TCP RST."""
        body = page.body or b"x" * 3000
        self.send_response(200)
        self.send_header("Content-Type", page.content_type or "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 3])
        self.close_connection = True
        sock = self.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # the buffered reader holds a reference; the socket closes only without it
        sock.close()
