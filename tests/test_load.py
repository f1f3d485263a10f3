"""Finding and reading saved pages."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from pagescrub.tasks.load import LoadError, iter_inputs, load_url_manifest, read_page_bytes


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "pages"
    (root / "b" / "deep").mkdir(parents=True)
    (root / "a.html").write_text("<html></html>")
    (root / "b" / "c.txt").write_text("text")
    (root / "b" / "deep" / "d.html.gz").write_bytes(gzip.compress(b"<html>gz</html>"))
    (root / "b" / "image.png").write_bytes(b"\x89PNG")
    (root / ".hidden.html").write_text("<html></html>")
    return root


def test_iter_inputs_is_recursive_sorted_and_filters_suffixes(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    pages = list(iter_inputs([root]))
    assert [p.key for p in pages] == ["a.html", "b/c.txt", "b/deep/d.html.gz"]
    assert all(p.kind == "file" and p.url is None for p in pages)


def test_a_file_named_directly_is_taken_whatever_its_suffix(tmp_path: Path) -> None:
    odd = tmp_path / "page.dat"
    odd.write_text("<html></html>")
    (page,) = iter_inputs([odd])
    assert page.location == str(odd) and page.key == "page.dat"


def test_read_page_bytes_gunzips_by_content(tmp_path: Path) -> None:
    path = tmp_path / "no-suffix"
    path.write_bytes(gzip.compress(b"<html>hello</html>"))
    assert read_page_bytes(path) == b"<html>hello</html>"


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.html.gz"
    path.write_bytes(gzip.compress(b"\0" * (5 * 1024 * 1024)))
    assert path.stat().st_size < 20_000
    with pytest.raises(LoadError, match="too large"):
        read_page_bytes(path, max_bytes=1024 * 1024)


def test_corrupt_gzip_and_missing_file_fail_with_reasons(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(LoadError, match="corrupt gzip"):
        read_page_bytes(bad)
    with pytest.raises(LoadError, match="file not found"):
        read_page_bytes(tmp_path / "nope.html")


def test_too_large_plain_file(tmp_path: Path) -> None:
    path = tmp_path / "big.html"
    path.write_bytes(b"a" * 2048)
    with pytest.raises(LoadError, match="too large"):
        read_page_bytes(path, max_bytes=1024)


def test_url_manifest_csv_and_jsonl(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    csv_manifest = tmp_path / "urls.csv"
    csv_manifest.write_text("path,url\npages/a.html,https://example.org/a\nb/c.txt,https://example.org/c\n")
    urls = load_url_manifest(csv_manifest)
    got = {p.key: p.url for p in iter_inputs([root], urls)}
    assert got["a.html"] == "https://example.org/a"
    assert got["b/c.txt"] == "https://example.org/c"
    assert got["b/deep/d.html.gz"] is None

    jsonl = tmp_path / "urls.jsonl"
    jsonl.write_text(json.dumps({"path": "pages/b/deep/d.html.gz", "url": "https://example.org/d"}) + "\n")
    got = {p.key: p.url for p in iter_inputs([root], load_url_manifest(jsonl))}
    assert got["b/deep/d.html.gz"] == "https://example.org/d"


def test_bad_manifest_line_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "urls.jsonl"
    bad.write_text('{"path": "a", "url": "u"}\n{"path": "b"}\n')
    with pytest.raises(ValueError, match=r"urls.jsonl:2"):
        load_url_manifest(bad)
