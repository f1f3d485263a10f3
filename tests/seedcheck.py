"""The seeds' expected.json rules, as the user's check_seeds.py applies them."""

from __future__ import annotations

import re
import unicodedata
from typing import Any


def fold(s: str | None) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", (s or "").replace("\u00a0", " "))).strip()


def problems(expected: dict[str, Any], record: dict[str, Any]) -> list[str]:
    """Every way ``record`` breaks one page's expectations (empty when it meets them)."""
    bad: list[str] = []
    text = fold(record.get("text"))
    bad += [f"missing {s[:60]!r}" for s in expected["include"] if fold(s) not in text]
    bad += [f"leaks {s[:60]!r}" for s in expected["exclude"] if fold(s) in text]
    if fold(record.get("title")) != fold(expected["title"]):
        bad.append(f"title {record.get('title')!r}")
    if expected.get("published") and (record.get("published_at") or "")[:10] != expected["published"]:
        bad.append(f"published {record.get('published_at')!r}")
    return bad
