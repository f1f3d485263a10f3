"""Finding saved pages on disk and reading their bytes safely.

Inputs are streamed: a folder of a million pages is walked one directory at a
time, never listed whole, so memory stays flat however large the run.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import os
import re
import stat
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "DEFAULT_MAX_BYTES",
    "LoadError",
    "PageInput",
    "PAGE_SUFFIXES",
    "install_log_redaction",
    "iter_inputs",
    "load_url_manifest",
    "read_page",
    "read_page_bytes",
    "redact_secrets",
    "redact_url",
]

#: Suffixes picked up when walking a folder; a file given by name is always taken.
PAGE_SUFFIXES = (".html", ".htm", ".xhtml", ".html.gz", ".htm.gz", ".txt", ".txt.gz")
#: Largest page accepted, after decompression.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


class LoadError(OSError):
    """A page that cannot be read; ``reason`` goes to the manifest."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PageInput:
    """One page to process, as the user named it."""

    location: str
    """The path or URL as given (recorded in ``source.location``)."""
    kind: str = "file"
    """``file`` or ``http``."""
    url: str | None = None
    """The page's original URL, when known (from a URL manifest or the fetch)."""
    key: str = ""
    """Stable identity for ids: the path relative to the input root, or the URL."""

    def __post_init__(self) -> None:
        # Everything here ends up stored (manifest, failure entries, records, raw snapshot
        # metadata): never with the credentials of a URL. A file path is left as given.
        if self.url and "@" in self.url:
            object.__setattr__(self, "url", redact_url(self.url))
        if self.kind != "file":
            for name in ("location", "key"):
                value = getattr(self, name)
                if "@" in value:
                    object.__setattr__(self, name, redact_url(value))


def iter_inputs(
    paths: Iterable[str | os.PathLike[str]],
    urls: dict[str, str] | None = None,
) -> Iterator[PageInput]:
    """Yield every page under ``paths`` (files or folders, recursively), in a stable order.

    Files named directly are taken whatever their suffix (the content decides what
    they are); inside folders only page suffixes are taken and hidden entries skipped.
    A path that does not exist is yielded too, so it ends as a failed entry.
    """
    urls = urls or {}
    for given in paths:
        root = Path(given)
        if root.is_dir():
            for path in _walk(root):
                yield _page(path, path.relative_to(root).as_posix(), urls)
        else:
            yield _page(root, root.name, urls)


def _walk(root: Path) -> Iterator[Path]:
    """Depth-first, sorted per directory: deterministic without listing the tree."""
    try:
        with os.scandir(root) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path))
        elif entry.is_file() and entry.name.lower().endswith(PAGE_SUFFIXES):
            yield Path(entry.path)


def _page(path: Path, rel: str, urls: dict[str, str]) -> PageInput:
    url = urls.get(str(path.resolve())) or urls.get(rel) or urls.get(path.name)
    return PageInput(location=str(path), kind="file", url=url, key=rel)


# -- secrets in URLs ------------------------------------------------------------------------

# scheme://userinfo@ : greedy up to the authority's last "@" (a password may hold an unescaped "@").
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]{0,30}://)[^/\s?#<>\"']*@")


def redact_url(url: str) -> str:
    """``url`` as given, without the ``user:password@`` of its authority (nothing else changes).

    Stored URLs (records, manifests, failure entries, raw snapshot metadata) and log
    lines go through this: credentials for a site belong to the fetch, not to its output.
    A string that is not a URL with credentials is returned unchanged.
    """
    if not isinstance(url, str) or "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_secrets(url)
    if not parts.scheme or "@" not in parts.netloc:
        return redact_secrets(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def redact_secrets(text: str) -> str:
    """Every ``scheme://user:password@`` in free text (a log line, an error message) without its credentials."""
    if not isinstance(text, str) or "@" not in text or "://" not in text:
        return text
    return _USERINFO.sub(r"\1", text)


def install_log_redaction() -> None:
    """From now on, every log record made in this process carries no URL credentials.

    Wraps the logging record factory, so it covers every logger (httpx logs each request's
    full URL at INFO, Prefect's and ours) whatever handlers are configured. A message with a
    ``scheme://user:password@`` is replaced by its redacted text, and so is the traceback of
    a record logged with ``exc_info``. Calling it again does nothing.
    """
    current = logging.getLogRecordFactory()
    if getattr(current, "redacts_secrets", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = current(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is the handler's to report
            return record
        if "@" in message and "://" in message:
            clean = redact_secrets(message)
            if clean != message:
                record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[0] is not None:
            trace = logging.Formatter().formatException(record.exc_info)
            if "@" in trace and "://" in trace:
                record.exc_text = redact_secrets(trace)
        return record

    factory.redacts_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def read_page_bytes(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a saved page, gunzipping by content (not by suffix), never past ``max_bytes``.

    The limit applies to the decompressed size, so a small ``.html.gz`` bomb fails
    with a reason instead of filling memory.
    """
    return read_page(path, max_bytes)[0]


def read_page(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[bytes, bytes | None]:
    """``read_page_bytes``, plus the file's own gzip bytes when it is gzipped (None otherwise).

    The gzip bytes are exactly those the page was decompressed from, so they can
    be kept as its raw snapshot instead of compressing the page again (the most
    CPU a page costs outside extraction).
    """
    try:
        # A FIFO, a device (/dev/zero, /dev/urandom) or a socket named like a page would block
        # the run or never end: only regular files are read (the check follows symlinks).
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise LoadError("is a directory")
        if not stat.S_ISREG(mode):
            raise LoadError("not a regular file")
        with open(path, "rb") as fh:
            head = fh.read(2)
            fh.seek(0)
            if head == b"\x1f\x8b":
                packed = fh.read(max_bytes + 1)
                if len(packed) > max_bytes:  # larger than any page allowed: stream it, keep nothing
                    fh.seek(0)
                    return _gunzip_capped(fh, max_bytes), None
                return _gunzip_capped(io.BytesIO(packed), max_bytes), packed
            data = fh.read(max_bytes + 1)
    except LoadError:
        raise  # a LoadError is an OSError: it must not become "unreadable: ..." below
    except FileNotFoundError:
        raise LoadError("file not found") from None
    except IsADirectoryError:
        raise LoadError("is a directory") from None
    except PermissionError:
        raise LoadError("permission denied") from None
    except OSError as exc:
        raise LoadError(f"unreadable: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise LoadError(f"too large: over {max_bytes} bytes")
    return data, None


def _gunzip_capped(fh: io.BufferedIOBase, max_bytes: int) -> bytes:
    out = bytearray()
    try:
        with gzip.GzipFile(fileobj=fh) as gz:
            while chunk := gz.read(1 << 20):
                out += chunk
                if len(out) > max_bytes:
                    raise LoadError(f"too large: over {max_bytes} bytes after decompression")
    except (OSError, EOFError, zlib.error) as exc:
        if isinstance(exc, LoadError):
            raise
        raise LoadError(f"corrupt gzip: {exc}") from None
    return bytes(out)


def load_url_manifest(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read ``path,url`` pairs (CSV with or without header, or JSONL objects).

    Keys are stored three ways (resolved absolute path, path as written, file
    name) so a manifest written from any working folder still matches.
    """
    manifest = Path(path)
    base = manifest.parent
    text = manifest.read_text(encoding="utf-8-sig")
    pairs: list[tuple[str, str]] = []
    if manifest.suffix.lower() in (".jsonl", ".ndjson", ".json") or text.lstrip().startswith("{"):
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                pairs.append((str(obj["path"]), str(obj["url"])))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{manifest}:{n}: expected an object with 'path' and 'url' ({exc})") from None
    else:
        for n, row in enumerate(csv.reader(io.StringIO(text)), 1):
            if not row or not "".join(row).strip():
                continue
            if n == 1 and [c.strip().lower() for c in row[:2]] == ["path", "url"]:
                continue
            if len(row) < 2:
                raise ValueError(f"{manifest}:{n}: expected 'path,url'")
            pairs.append((row[0].strip(), row[1].strip()))
    urls: dict[str, str] = {}
    for p, url in pairs:
        target = Path(p) if Path(p).is_absolute() else base / p
        urls[str(target.resolve())] = url
        urls.setdefault(p, url)
        urls.setdefault(Path(p).name, url)
    return urls
