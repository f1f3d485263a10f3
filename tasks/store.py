"""Where records go: one store interface, a local folder or an S3 bucket behind it.

Layout under the output folder or ``s3://bucket/prefix/``, the same on both::

    articles/<id[:2]>/<id>.json      one clean record per article
    raw/<id[:2]>/<id>.<ext>.gz       the page's bytes as read (gzip), for ``reclean``
    raw/<id[:2]>/<id>.json           what the snapshot is: location, url, kind, content type, hash
    failed/<id[:2]>/<id>.json        one entry per input that gave no record, with the reason
    runs/<run id>.json               the run manifest: one entry per input, counts, timings
    state/<name>                     small state objects (validators, seen ids), names sanitized

Keys come from the stable record id (validated hex) or from names passed
through ``safe_name``: nothing a URL or a file name contains can make a key
leave the output prefix. Every object appears whole: local files are written
to a temporary file and renamed, an S3 PUT is atomic.

A local folder keeps its temporary files (and the manifest's spool of page
entries) in ``.writing/``, each named ``<pid>@<host>-<random>``: a run killed
with SIGKILL cannot remove its own, so the next run's ``ensure`` removes those
whose process is gone (same host, pid not alive), and never a live one's.
"""

from __future__ import annotations

import errno
import fcntl
import gzip
import hashlib
import json
import os
import re
import secrets
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple

__all__ = [
    "DEFAULT_WRITE_CONCURRENCY",
    "LocalStore",
    "ManifestWriter",
    "RawMeta",
    "RawSnapshot",
    "StateConflict",
    "Store",
    "StoreConfigError",
    "StoreError",
    "StoreOptions",
    "StoreUnavailable",
    "Written",
    "WriteStatus",
    "article_key",
    "failed_key",
    "open_store",
    "raw_key",
    "raw_meta_key",
    "safe_name",
    "snapshot",
    "state_key",
]

WriteStatus = Literal["written", "unchanged"]
RAW_GZIP_LEVEL = 3
"""Measured on WCXB pages (285 KB of HTML each): level 3 costs 2.6 ms a page and 60.7 KB,
level 6 5.4 ms and 53.8 KB, level 1 2.2 ms and 64.7 KB. Level 3 is the knee: half the CPU
of 6 for 13% more bytes; below it, 20% more bytes for 0.4 ms."""
DEFAULT_WRITE_CONCURRENCY = 8
_SAFE_ID = re.compile(r"^[0-9a-f]{8,64}$")
_SAFE_EXT = re.compile(r"^[a-z0-9]{1,8}$")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 100
_WRITING = ".writing"
"""Folder, under a local store, of the temporary files of atomic writes and manifest spools."""
_HOST = re.sub(r"[^A-Za-z0-9.-]+", "_", socket.gethostname()) or "localhost"
_IMPORTED = time.time()
"""Files with this process's pid but older than this belong to a dead process that had the same pid."""
_OWNED = re.compile(r"^(?P<pid>[0-9]{1,10})@(?P<host>.+)-[0-9a-f]{16}\.(?:tmp|pages\.jsonl)$")


# -- errors -------------------------------------------------------------------------------


class StoreError(Exception):
    """The store could not do what was asked; ``reason`` is what the manifest or CLI says."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StoreConfigError(StoreError):
    """Wrong credentials, missing bucket, no permission: retrying cannot help, stop before any page."""


class StoreUnavailable(StoreError):
    """The store did not answer (or kept failing) after the retries: the record was not written."""


class StateConflict(StoreError):
    """A state object changed between reading it and writing it back: read it again, merge, retry."""


# -- options --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreOptions:
    """How to reach the store. Frozen and plain, so it can be a flow parameter and a cache key.

    S3 credentials are never here: they come from the standard AWS chain
    (environment, ``profile``, config files, instance or task role).
    """

    endpoint_url: str | None = None
    """An S3-compatible endpoint (MinIO, Ceph, R2, moto); None for AWS itself."""
    addressing_style: Literal["auto", "path", "virtual"] | None = None
    profile: str | None = None
    region: str | None = None
    max_concurrency: int = DEFAULT_WRITE_CONCURRENCY
    """Concurrent writes (S3 uploads) per run."""
    max_attempts: int = 4
    """botocore's own attempts per request (standard retry mode: throttling, 5xx, connection errors)."""
    retries: int = 3
    """Our retries of a whole request on top of botocore's, for an endpoint that is briefly down."""
    backoff_base: float = 0.5
    backoff_max: float = 10.0
    connect_timeout: float = 5.0
    read_timeout: float = 30.0


# -- keys -----------------------------------------------------------------------------------


def _shard(ident: str) -> str:
    if not isinstance(ident, str) or not _SAFE_ID.match(ident):
        raise ValueError(f"unsafe record id {ident!r}")
    return f"{ident[:2]}/{ident}"


def article_key(record_id: str) -> str:
    return f"articles/{_shard(record_id)}.json"


def failed_key(entry_id: str) -> str:
    return f"failed/{_shard(entry_id)}.json"


def raw_key(record_id: str, ext: str) -> str:
    if not _SAFE_EXT.match(ext):
        raise ValueError(f"unsafe extension {ext!r}")
    return f"raw/{_shard(record_id)}.{ext}.gz"


def raw_meta_key(record_id: str) -> str:
    return f"raw/{_shard(record_id)}.json"


def state_key(name: str) -> str:
    return f"state/{safe_name(name)}"


def run_key(run_id: str) -> str:
    return f"runs/{safe_name(run_id)}.json"


def safe_name(name: str) -> str:
    """One flat, harmless key segment from any string (a URL, a file name, user input).

    Keeps ``[A-Za-z0-9._-]``, never starts with a dot, at most ~120 characters.
    A name that had to be changed gets a hash of the original appended, so two
    different names never share a key.
    """
    cleaned = _UNSAFE_CHARS.sub("_", name).strip("._-")
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    if not cleaned:
        return digest
    if cleaned != name or len(cleaned) > _MAX_NAME:
        return f"{cleaned[:_MAX_NAME]}-{digest}"
    return cleaned


def _check_key(key: str) -> str:
    """Defence in depth: a key built above can only be relative, without '..' or control characters."""
    parts = key.split("/")
    if (
        not key
        or len(key.encode("utf-8")) > 900
        or key.startswith("/")
        or any(p in ("", ".", "..") for p in parts)
        or any(ord(c) < 32 or c == "\\" for c in key)
    ):
        raise ValueError(f"unsafe store key {key!r}")
    return key


# -- raw snapshots ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawMeta:
    """What a raw snapshot is: enough to rebuild the page's record without the original file."""

    id: str
    location: str
    kind: str
    url: str | None
    key: str
    content_type: str | None
    ext: str
    sha256: str
    """Of the uncompressed bytes."""
    size: int

    @classmethod
    def from_json(cls, data: bytes) -> RawMeta:
        obj = json.loads(data)
        return cls(**{f: obj.get(f) for f in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class RawSnapshot:
    meta: RawMeta
    gz: bytes
    """The page's bytes, gzipped."""

    def data(self) -> bytes:
        """The page's bytes; refuses a snapshot whose content does not match its hash."""
        raw = gzip.decompress(self.gz)
        if hashlib.sha256(raw).hexdigest() != self.meta.sha256:
            raise StoreError(f"raw snapshot of {self.meta.id} does not match its hash")
        return raw


def snapshot(
    record_id: str,
    data: bytes,
    *,
    location: str,
    kind: str,
    url: str | None,
    key: str,
    content_type: str | None = None,
    gz: bytes | None = None,
) -> RawSnapshot:
    """Compress a page's bytes into a snapshot (CPU work: done in the cleaning task, not the writer).

    ``gz``: the page's bytes already gzipped (a ``.gz`` input file, read whole), kept as
    they are: compressing the page again would cost more CPU than anything else a
    page needs outside extraction. The caller vouches that ``gz`` decompresses to
    ``data`` (``load.read_page`` decompresses exactly those bytes); ``RawSnapshot.data``
    checks it against the hash anyway.

    Otherwise the bytes are gzipped at level ``RAW_GZIP_LEVEL``.
    """
    meta = RawMeta(
        id=record_id,
        location=location,
        kind=kind,
        url=url,
        key=key,
        content_type=content_type,
        ext=_raw_ext(key or location, content_type),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )
    return RawSnapshot(meta, gz if gz is not None else gzip.compress(data, compresslevel=RAW_GZIP_LEVEL, mtime=0))


def _raw_ext(name: str, content_type: str | None) -> str:
    """The snapshot's extension: the page's own suffix if it is a plain short word, else from its type."""
    base = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].lower()
    base = base.removesuffix(".gz")
    _, dot, ext = base.rpartition(".")
    if dot and _SAFE_EXT.match(ext):
        return ext
    ctype = (content_type or "").split(";")[0].strip().lower()
    return {"text/html": "html", "application/xhtml+xml": "xhtml", "text/plain": "txt"}.get(ctype, "bin")


# -- the interface ----------------------------------------------------------------------------


class Written(NamedTuple):
    """What a put did: ``objects`` and ``nbytes`` count what was actually sent to the store."""

    status: WriteStatus
    replaced: bool = False
    objects: int = 0
    nbytes: int = 0


class Store(ABC):
    """The layout and its rules, once; subclasses only move bytes under keys.

    Thread-safe: the writer calls it from a pool of threads.
    """

    url: str
    """Where the store is, as a user would write it (a folder, or ``s3://bucket/prefix/``)."""
    options: StoreOptions

    # primitives --------------------------------------------------------------------------

    @abstractmethod
    def ensure(self, *, writable: bool = True) -> None:
        """Fail early, before any page, with StoreConfigError/StoreUnavailable if the store is unusable."""

    @abstractmethod
    def _get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is none."""

    @abstractmethod
    def _put(self, key: str, data: bytes, *, content_type: str, metadata: dict[str, str] | None = None) -> None:
        """Write the whole object atomically."""

    @abstractmethod
    def _delete(self, key: str) -> None:
        """Remove the object; no error when it is not there."""

    @abstractmethod
    def _keys(self, folder: str) -> Iterator[str]:
        """Keys under ``folder/``, relative to the store, in sorted order, streamed."""

    @abstractmethod
    def location(self, key: str) -> str:
        """A key as a path or URL a user can open."""

    @abstractmethod
    def manifest(self, run_id: str) -> ManifestWriter:
        """A writer for this run's manifest."""

    def _stored_hash(self, key: str) -> str | None:
        """The stored record's content hash: None if absent, "invalid" if unreadable."""
        return _hash_of(self._get(key))

    # articles ----------------------------------------------------------------------------

    def put_article(self, record: dict[str, Any]) -> Written:
        """Write ``record`` unless the stored one has the same ``content_hash``."""
        key = article_key(record["id"])
        previous = self._stored_hash(key)
        if previous == record["content_hash"]:
            return Written("unchanged")
        data = _dump(record)
        self._put(key, data, content_type="application/json", metadata={"content-hash": record["content_hash"]})
        return Written("written", previous is not None, 1, len(data))

    def get_article(self, record_id: str) -> dict[str, Any] | None:
        data = self._get(article_key(record_id))
        return None if data is None else json.loads(data)

    def article_ids(self) -> Iterator[str]:
        for key in self._keys("articles"):
            name = key.rsplit("/", 1)[-1]
            if name.endswith(".json") and _SAFE_ID.match(name[:-5]):
                yield name[:-5]

    # failures ----------------------------------------------------------------------------

    def put_failed(self, entry: dict[str, Any]) -> Written:
        data = _dump(entry)
        self._put(failed_key(entry["id"]), data, content_type="application/json")
        return Written("written", False, 1, len(data))

    def get_failed(self, entry_id: str) -> dict[str, Any] | None:
        data = self._get(failed_key(entry_id))
        return None if data is None else json.loads(data)

    def clear_failed(self, entry_id: str) -> None:
        """A page that now succeeds is no longer a failure."""
        self._delete(failed_key(entry_id))

    # raw snapshots -----------------------------------------------------------------------

    def put_raw(self, snap: RawSnapshot) -> Written:
        """Keep the page's bytes for ``reclean``; nothing is sent when the stored snapshot is the same.

        The bytes go first and the description second: a description always
        points at complete bytes.
        """
        meta = snap.meta
        stored = self._get(raw_meta_key(meta.id))
        if stored is not None:
            try:
                if RawMeta.from_json(stored) == meta:
                    return Written("unchanged")
            except (ValueError, TypeError):
                pass  # corrupt description: rewrite both
        described = _dump({**asdict(meta), "saved_at": _now()})
        self._put(raw_key(meta.id, meta.ext), snap.gz, content_type="application/gzip", metadata={"sha256": meta.sha256})
        self._put(raw_meta_key(meta.id), described, content_type="application/json")
        return Written("written", stored is not None, 2, len(snap.gz) + len(described))

    def raw_ids(self) -> Iterator[str]:
        """The ids of every raw snapshot, streamed in key order (a listing, no object is read)."""
        for key in self._keys("raw"):
            name = key.rsplit("/", 1)[-1]
            if name.endswith(".json") and _SAFE_ID.match(name[:-5]):
                yield name[:-5]

    def get_raw(self, record_id: str) -> RawSnapshot | None:
        described = self._get(raw_meta_key(record_id))
        if described is None:
            return None
        meta = RawMeta.from_json(described)
        if meta.id != record_id:
            raise StoreError(f"raw snapshot description {raw_meta_key(record_id)} names another id")
        gz = self._get(raw_key(meta.id, meta.ext))
        return None if gz is None else RawSnapshot(meta, gz)

    # state -------------------------------------------------------------------------------

    def put_state(self, name: str, data: bytes) -> str:
        """Store a small state object under a sanitized ``name``; returns its key."""
        key = state_key(name)
        self._put(key, data, content_type="application/octet-stream")
        return key

    def get_state(self, name: str) -> bytes | None:
        return self._get(state_key(name))

    def read_state(self, name: str) -> tuple[bytes | None, str | None]:
        """A state object and its version for ``put_state_if`` (both None when there is none)."""
        data = self.get_state(name)
        return data, _version_of(data)

    @abstractmethod
    def put_state_if(self, name: str, data: bytes, version: str | None) -> str:
        """Store ``data`` only if the object is still at ``version`` (None: still absent); returns its key.

        Raises StateConflict otherwise. The compare and the write are one step, so of
        two runs that read the same version and save at once, one wins and the other
        learns it must merge: a shared state is never silently overwritten.
        """


def _version_of(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _dump(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _hash_of(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        stored = json.loads(data)
    except ValueError:
        return "invalid"  # corrupt: rewrite it
    value = stored.get("content_hash") if isinstance(stored, dict) else None
    return value if isinstance(value, str) else "invalid"


def open_store(out: str | os.PathLike[str], options: StoreOptions | None = None) -> Store:
    """The store for ``out``: ``s3://bucket/prefix/`` is S3, anything else a local folder."""
    text = os.fspath(out)
    if text[:5].lower() == "s3://":
        from .s3store import S3Store  # boto3 is imported only by runs that use it

        return S3Store.from_url(text, options)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+://", text):
        raise ValueError(f"unsupported store {text!r}: give a folder or s3://bucket/prefix/")
    return LocalStore(text, options)


# -- local folder ------------------------------------------------------------------------------


class LocalStore(Store):
    """A local output folder."""

    def __init__(self, root: str | os.PathLike[str], options: StoreOptions | None = None) -> None:
        self.root = Path(root)
        self.options = options or StoreOptions()
        self.url = str(self.root)
        self._writing = self.root / _WRITING

    def __repr__(self) -> str:
        return f"LocalStore({self.url!r})"

    def ensure(self, *, writable: bool = True) -> None:
        """Create the layout, failing early (before any page) if the folder is not writable.

        Also removes what killed runs left in ``.writing/`` (see ``sweep_orphans``).
        """
        if not writable:
            if not self.root.is_dir():
                raise StoreConfigError(f"no such store folder: {self.root}")
            return
        try:
            for sub in ("articles", "raw", "failed", "runs", "state", _WRITING):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
            fd, probe = _create_owned(self._writing, ".tmp")  # swept like any other if killed right here
            os.close(fd)
            probe.unlink()
        except OSError as exc:
            raise StoreConfigError(f"cannot write to {self.root}: {exc.strerror or exc}") from None
        self.sweep_orphans()

    def sweep_orphans(self) -> list[str]:
        """Remove the temporary files of dead processes of this host from ``.writing/`` (see ``sweep_orphans``)."""
        return sweep_orphans(self._writing)

    def article_path(self, record_id: str) -> Path:
        return self._path(article_key(record_id))

    def failed_path(self, entry_id: str) -> Path:
        return self._path(failed_key(entry_id))

    def location(self, key: str) -> str:
        return str(self._path(key))

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*_check_key(key).split("/"))

    def _get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def _put(self, key: str, data: bytes, *, content_type: str, metadata: dict[str, str] | None = None) -> None:
        _atomic_write(self._path(key), data, tmp_dir=self._writing)

    def put_state_if(self, name: str, data: bytes, version: str | None) -> str:
        """Compare and write under an exclusive ``flock`` on a hidden lock file beside the object.

        The kernel drops the lock of a killed process, so no stale lock outlives a run.
        """
        key = state_key(name)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with _file_lock(path.with_name(f".{path.name}.lock"), _STATE_LOCK_TIMEOUT):
            if _version_of(self._get(key)) != version:
                raise StateConflict(f"{key} changed since it was read")
            self._put(key, data, content_type="application/octet-stream")
        return key

    def _delete(self, key: str) -> None:
        with suppress(FileNotFoundError):
            self._path(key).unlink()

    def _keys(self, folder: str) -> Iterator[str]:
        for path in _walk_files(self._path(folder)):
            yield path.relative_to(self.root).as_posix()

    def manifest(self, run_id: str) -> ManifestWriter:
        return ManifestWriter(self.root / "runs", safe_name(run_id), spool=self._writing)


def _walk_files(folder: Path) -> Iterator[Path]:
    """Sorted, one directory at a time, skipping hidden and temporary files."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk_files(Path(entry.path))
        elif entry.is_file(follow_symlinks=False):
            yield Path(entry.path)


def _atomic_write(path: Path, data: bytes, *, tmp_dir: Path | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with _atomic_file(path, tmp_dir=tmp_dir) as fh:
        fh.write(data)


def _owned_name(suffix: str) -> str:
    """``<pid>@<host>-<random><suffix>``: who wrote a temporary file, so a later run can tell if it is abandoned."""
    return f"{os.getpid()}@{_HOST}-{secrets.token_hex(8)}{suffix}"


def _create_owned(folder: Path, suffix: str) -> tuple[int, Path]:
    """A new file in ``folder`` (created if missing), named after this process, opened for writing (mode 0600)."""
    for attempt in range(3):
        path = folder / _owned_name(suffix)
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600), path
        except FileNotFoundError:
            if attempt:
                raise
            folder.mkdir(parents=True, exist_ok=True)  # first write to a store that did not run ensure()
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


def sweep_orphans(folder: Path) -> list[str]:
    """Remove the temporary files of dead processes of this host from ``folder``; returns the names removed.

    A file of another host (a shared network folder) or of a live process
    (a concurrent run on the same store) is never touched: only the owner
    can know it is abandoned.
    """
    removed: list[str] = []
    try:
        with os.scandir(folder) as it:
            names = [e.name for e in it if e.is_file(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for name in names:
        if _orphaned(folder / name):
            try:
                (folder / name).unlink()
            except FileNotFoundError:
                continue  # renamed into place or swept meanwhile
            removed.append(name)
    return removed


def _orphaned(path: Path) -> bool:
    """A temporary file written by a process of this host that no longer runs."""
    found = _OWNED.match(path.name)
    if found is None or found["host"] != _HOST:
        return False
    pid = int(found["pid"])
    if pid == os.getpid():  # ours, unless an earlier process had our pid (a container's restarted job)
        try:
            return path.stat().st_mtime < _IMPORTED - 1.0
        except FileNotFoundError:
            return False
    return not _alive(pid)


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (or cannot be known: then it is treated as alive)."""
    if pid <= 0 or os.name != "posix":  # on Windows os.kill(pid, 0) would terminate the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, as another user
        return True
    try:  # a killed process its parent has not reaped yet still answers kill(0): a zombie writes nothing
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rpartition(b")")[2].split()[:1] != [b"Z"]
    except OSError:  # not Linux, or gone meanwhile
        return True


_STATE_LOCK_TIMEOUT = 120.0


@contextmanager
def _file_lock(path: Path, timeout: float) -> Iterator[None]:
    """Exclusive flock on ``path``; the file is never removed (removing lock files races)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise StoreUnavailable(f"{path}: locked by another run for {timeout:.0f} s") from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # closing drops the lock


@contextmanager
def _atomic_file(path: Path, *, tmp_dir: Path | None = None) -> Iterator[IO[bytes]]:
    """Write ``path`` whole or not at all: into a temporary file in ``tmp_dir`` (same file system), then renamed."""
    fd, tmp = _create_owned(tmp_dir or path.parent, ".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# -- run manifests -----------------------------------------------------------------------------


class ManifestWriter:
    """Streams per-page entries to a local spool file, then writes the run manifest whole.

    Entries never accumulate in memory: a run over a million pages costs the
    same memory as one over a thousand. A store that is not a local folder
    passes ``publish``, which sends the finished file and returns its location.
    """

    def __init__(
        self, folder: Path, run_id: str, publish: Callable[[Path], str] | None = None, *, spool: Path | None = None
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{run_id}.json"
        self._publish = publish
        self._spool = spool or folder
        """Where the page entries and the manifest's temporary file go (a local store's ``.writing/``)."""
        fd, self._pages_path = _create_owned(self._spool, ".pages.jsonl")
        self._pages = open(fd, "w", encoding="utf-8")  # noqa: SIM115 - open for the writer's life, closed by close()
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            self._pages.write(line)

    def close(self, summary: dict[str, Any]) -> Path | str:
        """Write ``summary`` plus the ``pages`` list as one JSON object; returns where it is."""
        self._pages.close()
        head = json.dumps(summary, ensure_ascii=False, indent=1)
        with _atomic_file(self.path, tmp_dir=self._spool) as out, open(self._pages_path, encoding="utf-8") as pages:
            out.write(head[:-1].rstrip().encode("utf-8"))
            out.write(b',\n "pages": [' if summary else b'\n "pages": [')
            first = True
            for line in pages:
                if not line.strip():
                    continue
                out.write((b"\n  " if first else b",\n  ") + line.rstrip("\n").encode("utf-8"))
                first = False
            out.write(b"\n ]\n}\n")
        self._pages_path.unlink()
        if self._publish is None:
            return self.path
        return self._publish(self.path)

    def discard(self) -> None:
        """Drop the spooled entries of a run that ended in an error: it writes no manifest, its rerun does."""
        self._pages.close()
        self._pages_path.unlink(missing_ok=True)
