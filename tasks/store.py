"""Writing records, failures and run manifests to the output folder.

Layout under the output folder::

    articles/<id[:2]>/<id>.json    one clean record per article
    failed/<id[:2]>/<id>.json      one entry per input that gave no record, with the reason
    runs/<run id>.json             the run manifest: one entry per input, counts, timings

Every file appears atomically (temporary file in the same folder, fsync,
rename), so a killed run never leaves a half-written record behind.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

__all__ = ["LocalStore", "ManifestWriter", "WriteStatus"]

WriteStatus = Literal["written", "unchanged"]
_SAFE_ID = re.compile(r"^[0-9a-f]{8,64}$")


@dataclass
class LocalStore:
    """A local output folder."""

    root: Path

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def ensure(self) -> None:
        """Create the layout, failing early (before any page) if the folder is not writable."""
        for sub in ("articles", "failed", "runs"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        probe = self.root / "runs" / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()

    def article_path(self, record_id: str) -> Path:
        return self._keyed("articles", record_id)

    def failed_path(self, entry_id: str) -> Path:
        return self._keyed("failed", entry_id)

    def _keyed(self, folder: str, ident: str) -> Path:
        if not _SAFE_ID.match(ident):
            raise ValueError(f"unsafe record id {ident!r}")
        return self.root / folder / ident[:2] / f"{ident}.json"

    def put_article(self, record: dict[str, Any]) -> tuple[WriteStatus, bool]:
        """Write ``record`` unless the stored one has the same ``content_hash``.

        Returns the status and whether an older, different record was replaced.
        """
        path = self.article_path(record["id"])
        previous = _stored_hash(path)
        if previous == record["content_hash"]:
            return "unchanged", False
        _atomic_write(path, _dump(record))
        self.clear_failed(record["id"])
        return "written", previous is not None

    def put_failed(self, entry: dict[str, Any]) -> None:
        _atomic_write(self.failed_path(entry["id"]), _dump(entry))

    def clear_failed(self, entry_id: str) -> None:
        """A page that now succeeds is no longer a failure."""
        try:
            self.failed_path(entry_id).unlink()
        except FileNotFoundError:
            pass

    def manifest(self, run_id: str) -> "ManifestWriter":
        return ManifestWriter(self.root / "runs", run_id)


def _dump(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _stored_hash(path: Path) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            stored = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return "invalid"  # unreadable or corrupt: rewrite it
    value = stored.get("content_hash") if isinstance(stored, dict) else None
    return value if isinstance(value, str) else "invalid"


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with _atomic_file(path) as fh:
        fh.write(data)


@contextmanager
def _atomic_file(path: Path) -> Iterator[IO[bytes]]:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class ManifestWriter:
    """Streams per-page entries to disk, then writes the run manifest atomically.

    Entries never accumulate in memory: a run over a million pages costs the
    same memory as one over a thousand.
    """

    def __init__(self, folder: Path, run_id: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{run_id}.json"
        self._pages_path = folder / f".{run_id}.pages.jsonl"
        self._pages = open(self._pages_path, "w", encoding="utf-8")

    def add(self, entry: dict[str, Any]) -> None:
        self._pages.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def close(self, summary: dict[str, Any]) -> Path:
        """Write ``summary`` plus the ``pages`` list as one JSON object."""
        self._pages.close()
        head = json.dumps(summary, ensure_ascii=False, indent=1)
        with _atomic_file(self.path) as out, open(self._pages_path, encoding="utf-8") as pages:
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
        return self.path
