"""The article record: the contract with downstream users.

Its JSON Schema (``record.schema.json`` beside this file) is published with the
package; every record is validated against it before it is written.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator

from pagescrub import __version__

from .load import PageInput
from .urls import normalize_url

if TYPE_CHECKING:  # only a type here: the flow's process, which writes records, never imports the cleaning code
    from .extract import Article

__all__ = [
    "SCHEMA_VERSION",
    "RecordInvalid",
    "apply_link",
    "build_record",
    "content_hash",
    "record_id",
    "record_schema",
    "validate_record",
]

SCHEMA_VERSION = "1.0"
_VOLATILE = ("retrieved_at", "content_hash")


class RecordInvalid(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@lru_cache(maxsize=1)
def record_schema() -> dict[str, Any]:
    text = resources.files("pagescrub.tasks").joinpath("record.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = record_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def record_id(page: PageInput) -> str:
    """Stable across runs: from the page's URL when known, else its path under the input folder."""
    url = normalize_url(page.url) if page.url else None
    basis = f"url:{url}" if url else f"{page.kind}:{page.key or page.location}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


def content_hash(record: dict[str, Any]) -> str:
    """Hash of the record's content, so re-runs compare content, not timestamps."""
    stable = {k: v for k, v in record.items() if k not in _VOLATILE}
    blob = json.dumps(stable, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def build_record(article: Article, page: PageInput, retrieved_at: datetime | None = None) -> dict[str, Any]:
    """Assemble and validate the record for ``article`` read from ``page``."""
    when = (retrieved_at or datetime.now(UTC)).astimezone(UTC)
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "id": record_id(page),
        "url": article.url or normalize_url(page.url),
        "canonical_url": article.canonical_url,
        "source": {"kind": page.kind, "location": page.location, "encoding": article.encoding or None},
        "title": article.title or None,
        "authors": list(article.authors),
        "published_at": article.published_at,
        "modified_at": article.modified_at,
        "site_name": article.site_name or None,
        "language": article.language,
        "description": article.description or None,
        "image": article.image,
        "tags": list(article.tags),
        "text": article.text,
        "html": article.html,
        "word_count": article.word_count,
        "extractor": {"name": "pagescrub", "version": __version__, "method": article.method},
        "duplicate_of": None,
        "cluster_id": None,
    }
    record["content_hash"] = content_hash(record)
    record["retrieved_at"] = when.isoformat(timespec="seconds")
    validate_record(record)
    return record


def apply_link(record: dict[str, Any], duplicate_of: str | None, cluster_id: str | None) -> dict[str, Any]:
    """Set the near-duplicate fields and re-hash, so a linked record compares by its content.

    The record was validated whole when built; only the two ids are new, so only
    they are checked against the schema's id pattern (a second full validation
    cost as much as the linking itself). A record whose ids do not change keeps
    its hash: re-hashing text and HTML was an eighth of the linking's cost, and
    most records link to nothing.
    """
    if (
        "content_hash" in record
        and record.get("duplicate_of", _UNSET) == duplicate_of
        and record.get("cluster_id", _UNSET) == cluster_id
    ):
        return record
    for name, value in (("duplicate_of", duplicate_of), ("cluster_id", cluster_id)):
        if value is not None and not (isinstance(value, str) and _ID.fullmatch(value)):
            raise RecordInvalid(f"record invalid at {name}: {value!r} is not a record id")
    record["duplicate_of"] = duplicate_of
    record["cluster_id"] = cluster_id
    record["content_hash"] = content_hash(record)
    return record


_ID = re.compile(r"[0-9a-f]{32}")
_UNSET = object()


def validate_record(record: dict[str, Any]) -> None:
    """Raise RecordInvalid naming the first field that breaks the contract."""
    error = next(iter(_validator().iter_errors(record)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(record)"
        raise RecordInvalid(f"record invalid at {where}: {error.message[:200]}")
