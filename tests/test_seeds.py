"""The user's five sample pages must clean to what expected.json says (include, exclude, title, published)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pagescrub.tasks.extract import extract_article
from pagescrub.tasks.load import PageInput, read_page_bytes
from pagescrub.tasks.record import build_record

from .conftest import SEEDS
from .seedcheck import problems

NAMES = sorted(p.name for p in SEEDS.glob("*.txt"))


@pytest.mark.parametrize("name", NAMES)
def test_seed_page_meets_expected(name: str, seeds_expected: dict) -> None:
    path = SEEDS / name
    article = extract_article(read_page_bytes(path), name=name)
    record = build_record(article, PageInput(location=str(path), key=name))
    assert record["extractor"]["method"] == "text"
    assert problems(seeds_expected["pages"][name], record) == []


def test_all_five_seeds_are_covered(seeds_expected: dict) -> None:
    assert sorted(seeds_expected["pages"]) == NAMES


def test_seed_language_and_site(seeds_expected: dict) -> None:
    path = SEEDS / "000_7004b33b0c6d42ec.txt"
    article = extract_article(read_page_bytes(Path(path)))
    assert article.language == "en"
    assert article.site_name == seeds_expected["pages"][path.name]["site_name"]
