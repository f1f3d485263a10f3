#!/usr/bin/env python3
"""Article-extraction quality benchmark: pagescrub vs bare readability-lxml vs trafilatura.

All systems run in the same process run, on the same pages, and are scored with
the corpora's own published scorings (see ``benchmarks/scoring.py``):

* AEB  -- article-extraction-benchmark by Zyte (Scrapinghub), MIT licence.
          https://github.com/scrapinghub/article-extraction-benchmark
          Body: 4-token shingles, per-page TP/FP/FN normalised, P and R averaged
          over pages, F1 of the averages.
* WCXB -- Web Content Extraction Benchmark, Murrough Foley 2026, CC-BY-4.0.
          https://github.com/Murrough-Foley/web-content-extraction-benchmark
          Body: lower-cased word multiset P/R/F1 per page, mean of per-page F1.
          Metadata (pagescrub's own checks): title exact after folding, author
          token F1 >= 0.8, publication day exact.

Usage (from the repository root, with the ``bench`` extra installed)::

    python benchmarks/quality.py --aeb /work/shared/data/aeb \\
        --wcxb /work/shared/data/wcxb-dev [--systems pagescrub,readability,trafilatura] \\
        [--limit N] [--json out.json] [--dump DIR] [--jobs N]

The corpora are read in place and never copied.

Choices worth knowing when reading the figures:

* AEB, as its evaluate.py: an empty prediction is left out of the precision
  average and scores recall 0; a text of 1-3 tokens is one short shingle.
* WCXB body, as its evaluate.py: all pages count, including the two whose gold
  main_content is empty/missing (1.0 only for an empty prediction).
* Title: over pages with a gold title. Author: over pages with a gold author
  (gold "None"/"" count as none). Date: over pages with a gold date; a month-only
  gold date ("2015-11") can never match the exact day.
* readability-lxml: text = summary() HTML -> lxml text_content() with block
  elements on their own lines; title = short_title(); author = its own author()
  (<meta name="author">); no date (shown as "—").
* trafilatura: bare_extraction(with_metadata=True).text, i.e. the body without
  the comments that extract()'s plain-text output appends; author split on ";".
* Both competitors get the bytes decoded by the same ``decode_html``; pagescrub
  gets the raw bytes and decodes them itself. The gunzip is never timed; each
  system's call is (decoding included), after one untimed warm-up call.
* A page whose extraction raises counts as an empty prediction and as an error.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import gzip
import importlib
import importlib.metadata
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as a script (python benchmarks/quality.py): make the repo root importable
    # so that ``benchmarks.scoring`` resolves the same way as under pytest.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import scoring

CREDITS = (
    "Corpora: WCXB (Web Content Extraction Benchmark), Murrough Foley 2026, CC-BY-4.0; "
    "AEB (article-extraction-benchmark) by Zyte (Scrapinghub), MIT."
)

SYSTEM_NAMES = ("pagescrub", "readability", "trafilatura")

# Which metadata fields a system predicts at all. A field it never predicts is shown
# as "—" rather than as a meaningless 0.000.
SYSTEM_FIELDS: dict[str, frozenset[str]] = {
    "pagescrub": frozenset({"title", "authors", "published", "modified"}),
    "readability": frozenset({"title", "authors"}),
    "trafilatura": frozenset({"title", "authors", "published"}),
}

PROGRESS_EVERY = 50


# ------------------------------------------------------------------------ systems


@dataclasses.dataclass
class Prediction:
    """What one system extracted from one page."""

    text: str = ""
    title: str | None = None
    authors: list[str] = dataclasses.field(default_factory=list)
    published: str | None = None
    # Only for the date diagnostic note: the column scores ``published`` alone.
    modified: str | None = None


class SystemUnavailable(RuntimeError):
    """A system cannot run in this environment (missing module or function)."""


def decode_html(data: bytes) -> str:
    """Bytes -> str, one way for both competitors (pagescrub decodes its own bytes).

    A BOM wins; otherwise strict UTF-8 (every page of both corpora is stored as
    UTF-8, even where a <meta> still declares another charset); otherwise the
    charset-normalizer guess; otherwise cp1252 with replacement.
    """
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        import charset_normalizer

        best = charset_normalizer.from_bytes(data).best()
        if best is not None:
            return str(best)
    except Exception:  # noqa: BLE001 - defensive: any failure falls back to cp1252  # pragma: no cover
        pass
    return data.decode("cp1252", errors="replace")


_BLOCK_TAGS = frozenset(
    """address article aside blockquote body caption center dd details dialog div dl dt
    fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html li
    main nav ol p pre section summary table tbody td tfoot th thead tr ul""".split()
)


def html_to_text(markup: str) -> str:
    """lxml ``text_content()`` of an HTML fragment, block elements on their own lines.

    Bare ``text_content()`` glues adjacent paragraphs ("end.</p><p>Next" ->
    "end.Next"), which would merge tokens; a newline is put around every block
    element and at every <br>, then each line's whitespace is folded.
    """
    import lxml.html

    if not markup or not markup.strip():
        return ""
    root = lxml.html.fromstring(markup)
    for el in root.iter():
        if not isinstance(el.tag, str):  # comments, processing instructions
            continue
        tag = el.tag.lower()
        if tag == "br":
            el.tail = "\n" + (el.tail or "")
        elif tag in _BLOCK_TAGS:
            el.text = "\n" + (el.text or "")
            el.tail = "\n" + (el.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().splitlines())
    return "\n".join(line for line in lines if line)


def _make_pagescrub() -> Callable[[bytes, str | None], Prediction]:
    try:
        module = importlib.import_module("pagescrub.tasks.extract")
    except ImportError as exc:
        raise SystemUnavailable(
            f"pagescrub.tasks.extract is not importable ({type(exc).__name__}: {exc})"
        ) from exc
    extract_article = getattr(module, "extract_article", None)
    if extract_article is None:
        raise SystemUnavailable("pagescrub.tasks.extract has no extract_article()")

    def run(data: bytes, url: str | None) -> Prediction:
        article = extract_article(data, url=url)
        if article is None:
            return Prediction()
        authors = getattr(article, "authors", None) or []
        if isinstance(authors, str):
            authors = [authors]
        return Prediction(
            text=getattr(article, "text", None) or "",
            title=getattr(article, "title", None),
            authors=[str(a) for a in authors if a],
            published=_iso(getattr(article, "published_at", None)),
            modified=_iso(getattr(article, "modified_at", None)),
        )

    return run


def _iso(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _make_readability() -> Callable[[bytes, str | None], Prediction]:
    try:
        from readability import Document
    except ImportError as exc:
        raise SystemUnavailable(f"readability-lxml is not installed ({exc})") from exc

    def run(data: bytes, url: str | None) -> Prediction:
        doc = Document(decode_html(data), url=url)
        # Metadata before summary(), which mutates the DOM. author() is readability's
        # own <meta name="author"> lookup ("[no-author]" when absent); it has no date.
        title = doc.short_title() or None
        author = doc.author() if hasattr(doc, "author") else None
        authors = [author.strip()] if author and author != "[no-author]" and author.strip() else []
        text = html_to_text(doc.summary())
        return Prediction(text=text, title=title, authors=authors)

    return run


def _make_trafilatura() -> Callable[[bytes, str | None], Prediction]:
    try:
        import trafilatura
    except ImportError as exc:
        raise SystemUnavailable(
            f"trafilatura is not installed ({exc}); install the extra: pip install -e '.[bench]'"
        ) from exc

    def run(data: bytes, url: str | None) -> Prediction:
        doc = trafilatura.bare_extraction(decode_html(data), url=url, with_metadata=True)
        if doc is None:
            return Prediction()
        if isinstance(doc, dict):  # older trafilatura returned a dict
            get = doc.get
        else:

            def get(key: str, default: Any = None) -> Any:
                return getattr(doc, key, default)

        authors = [a.strip() for a in (get("author") or "").split(";") if a.strip()]
        return Prediction(
            text=get("text") or "",
            title=get("title") or None,
            authors=authors,
            published=get("date") or None,
        )

    return run


SYSTEM_FACTORIES: dict[str, Callable[[], Callable[[bytes, str | None], Prediction]]] = {
    "pagescrub": _make_pagescrub,
    "readability": _make_readability,
    "trafilatura": _make_trafilatura,
}


# ------------------------------------------------------------------------ corpora


@dataclasses.dataclass(frozen=True)
class Page:
    id: str
    path: str
    url: str | None


@dataclasses.dataclass
class Corpus:
    name: str
    root: Path
    pages: list[Page]
    truth: dict[str, dict[str, Any]]  # id -> {"body", and for WCXB "title", "author", "date"}


def _pages_with_html(root: Path, ids: list[str], urls: dict[str, str | None]) -> list[Page]:
    pages = []
    missing = []
    for page_id in sorted(ids):
        path = root / "html" / f"{page_id}.html.gz"
        if path.is_file():
            pages.append(Page(page_id, str(path), urls.get(page_id)))
        else:
            missing.append(page_id)
    if missing:
        print(
            f"warning: {root}: {len(missing)} ground-truth pages have no html file "
            f"(e.g. {missing[0]}); left out",
            file=sys.stderr,
        )
    return pages


def load_aeb(root: Path, limit: int | None) -> Corpus:
    gt = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    urls = {k: v.get("url") for k, v in gt.items()}
    pages = _pages_with_html(root, list(gt), urls)
    if limit is not None:
        pages = pages[:limit]
    truth = {p.id: {"body": gt[p.id].get("articleBody") or ""} for p in pages}
    return Corpus("aeb", root, pages, truth)


def load_wcxb(root: Path, limit: int | None) -> Corpus:
    records: dict[str, dict[str, Any]] = {}
    urls: dict[str, str | None] = {}
    for path in sorted((root / "ground-truth").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        gt = data.get("ground_truth")
        if not isinstance(gt, dict):
            continue
        records[path.stem] = gt
        urls[path.stem] = data.get("url")
    pages = _pages_with_html(root, list(records), urls)
    if limit is not None:
        pages = pages[:limit]
    truth = {
        p.id: {
            # As WCXB's evaluate.py: a missing/empty main_content is an empty reference.
            "body": records[p.id].get("main_content") or "",
            "title": records[p.id].get("title"),
            "author": records[p.id].get("author"),
            "date": records[p.id].get("publish_date"),
        }
        for p in pages
    }
    return Corpus("wcxb", root, pages, truth)


# ------------------------------------------------------------------------- running


@dataclasses.dataclass
class PageRun:
    prediction: Prediction
    seconds: float
    cpu_seconds: float
    error: str | None = None


def _read_page(page: Page) -> bytes:
    with gzip.open(page.path, "rb") as fh:
        return fh.read()


def run_systems(
    system_names: Sequence[str], corpus_name: str, pages: Sequence[Page], quiet: bool = False
) -> dict[str, list[PageRun]]:
    """Run ``system_names`` over ``pages``, interleaved page by page.

    Only the system call is timed (reading and gunzipping the file is not). Each
    system first extracts the first page once, untimed, so that lazy imports and
    caches are not charged to whichever page comes first. An exception counts as an
    empty prediction with ``error`` set.
    """
    systems = {name: SYSTEM_FACTORIES[name]() for name in system_names}
    results: dict[str, list[PageRun]] = {name: [] for name in system_names}
    if not pages:
        return results
    first = _read_page(pages[0])
    for fn in systems.values():
        with contextlib.suppress(Exception):  # a warm-up: a failing system shows on the measured pages
            fn(first, pages[0].url)
    started = time.perf_counter()
    label = f"{corpus_name}/{','.join(system_names)}"
    for index, page in enumerate(pages, 1):
        data = _read_page(page)
        for name, fn in systems.items():
            error = None
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            try:
                prediction = fn(data, page.url)
            except Exception as exc:  # noqa: BLE001 - a per-page failure is an empty prediction
                prediction = Prediction()
                error = f"{type(exc).__name__}: {exc}"[:500]
            seconds = time.perf_counter() - t0
            cpu_seconds = time.process_time() - cpu0
            results[name].append(PageRun(prediction, seconds, cpu_seconds, error))
        if not quiet and (index % PROGRESS_EVERY == 0 or index == len(pages)):
            elapsed = time.perf_counter() - started
            print(f"  [{label}] {index}/{len(pages)} pages, {elapsed:.0f}s", file=sys.stderr)
    return results


def _run_unit(args: tuple[tuple[str, ...], str, list[Page], bool]) -> dict[str, list[PageRun]]:
    return run_systems(*args)


def run_all(
    system_names: Sequence[str], corpora: Sequence[Corpus], jobs: int, quiet: bool
) -> dict[str, dict[str, list[PageRun]]]:
    """{corpus: {system: [PageRun per page, in page order]}}."""
    out: dict[str, dict[str, list[PageRun]]] = {c.name: {} for c in corpora}
    if jobs <= 1:
        for corpus in corpora:
            out[corpus.name].update(run_systems(system_names, corpus.name, corpus.pages, quiet))
        return out
    units = [((name,), corpus.name, corpus.pages, quiet) for corpus in corpora for name in system_names]
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
        for (_names, corpus_name, _, _), result in zip(units, pool.map(_run_unit, units)):
            out[corpus_name].update(result)
    return out


# ------------------------------------------------------------------------- scoring


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def score_aeb(
    corpus: Corpus, system: str, runs: list[PageRun]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    page_scores = []
    rows = []
    for page, run in zip(corpus.pages, runs):
        truth = corpus.truth[page.id]["body"]
        tp, fp, fn = scoring.aeb_page_scores(run.prediction.text, truth)
        page_scores.append((tp, fp, fn))
        p = tp / (tp + fp) if tp + fp > 0 else None
        r = tp / (tp + fn) if tp + fn > 0 else None
        f1 = 2 * p * r / (p + r) if p is not None and r is not None and p + r > 0 else 0.0
        rows.append(
            {
                "corpus": corpus.name,
                "id": page.id,
                "system": system,
                "p": p,
                "r": r,
                "f1": f1,
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "pred_tokens": len(scoring.aeb_tokens(run.prediction.text)),
                "truth_tokens": len(scoring.aeb_tokens(truth)),
                "seconds": round(run.seconds, 6),
                "error": run.error,
                "url": page.url,
            }
        )
    precision, recall, f1 = scoring.aeb_aggregate(page_scores)
    summary = {
        "pages": len(runs),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "pages_with_prediction": sum(1 for tp, fp, _ in page_scores if tp + fp > 0),
        "errors": sum(1 for r in runs if r.error),
        **_timing(runs),
    }
    return summary, rows


def score_wcxb(
    corpus: Corpus, system: str, runs: list[PageRun]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    fields = SYSTEM_FIELDS[system]
    ps, rs, f1s = [], [], []
    title_oks, author_oks, date_oks = [], [], []
    shown_oks = []  # published day, or else the modified day: the diagnostic note only
    rows = []
    for page, run in zip(corpus.pages, runs):
        gold = corpus.truth[page.id]
        pred = run.prediction
        p, r, f1 = scoring.word_prf(pred.text, gold["body"])
        ps.append(p)
        rs.append(r)
        f1s.append(f1)
        title_ok = author_ok = date_ok = None
        if scoring.normalize_title(gold["title"]):
            title_ok = scoring.title_match(pred.title, gold["title"])
            title_oks.append(title_ok)
        if not scoring.is_missing(gold["author"]):
            author_ok = scoring.author_match(pred.authors, gold["author"])
            author_oks.append(author_ok)
        if not scoring.is_missing(gold["date"]):
            # A gold date without a day ("2015-11") stays in the denominator and
            # cannot match: the metric is the exact YYYY-MM-DD.
            date_ok = scoring.day_match(pred.published, gold["date"])
            date_oks.append(date_ok)
            shown_oks.append(date_ok or scoring.day_match(pred.modified, gold["date"]))
        rows.append(
            {
                "corpus": corpus.name,
                "id": page.id,
                "system": system,
                "p": p,
                "r": r,
                "f1": f1,
                "title_ok": title_ok,
                "author_ok": author_ok,
                "author_f1": (
                    None
                    if author_ok is None
                    else scoring.author_f1(pred.authors, gold["author"])
                ),
                "date_ok": date_ok,
                "pred_title": pred.title,
                "gold_title": gold["title"],
                "pred_authors": pred.authors,
                "gold_author": gold["author"],
                "pred_published": pred.published,
                "pred_modified": pred.modified,
                "gold_date": gold["date"],
                "pred_tokens": len(scoring.word_tokens(pred.text)),
                "truth_tokens": len(scoring.word_tokens(gold["body"])),
                "seconds": round(run.seconds, 6),
                "error": run.error,
                "url": page.url,
            }
        )

    def share(oks: list[bool], field: str) -> float | None:
        if field not in fields or not oks:
            return None
        return sum(oks) / len(oks)

    summary = {
        "pages": len(runs),
        "precision": _mean(ps),
        "recall": _mean(rs),
        "f1": _mean(f1s),
        "title_exact": share(title_oks, "title"),
        "title_pages": len(title_oks),
        "author": share(author_oks, "authors"),
        "author_pages": len(author_oks),
        "date_day": share(date_oks, "published"),
        "date_pages": len(date_oks),
        # WCXB's gold date is the one the page shows, often its "Updated" date: how many golds
        # equal the published day or, failing that, the modified day. Not the target metric.
        "date_day_published_or_modified": share(shown_oks, "modified"),
        "errors": sum(1 for r in runs if r.error),
        **_timing(runs),
    }
    return summary, rows


def _timing(runs: list[PageRun]) -> dict[str, Any]:
    seconds = sum(r.seconds for r in runs)
    cpu = sum(r.cpu_seconds for r in runs)
    return {
        "extract_seconds": seconds,
        "extract_cpu_seconds": cpu,
        "pages_per_second": len(runs) / seconds if seconds > 0 else None,
        "pages_per_cpu_second": len(runs) / cpu if cpu > 0 else None,
    }


SCORERS = {"aeb": score_aeb, "wcxb": score_wcxb}


# -------------------------------------------------------------------------- output


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def build_table(
    systems: Sequence[str],
    results: dict[str, dict[str, Any]],
    corpora: dict[str, Corpus],
) -> tuple[list[str], list[list[str]]]:
    header = [
        "system",
        "AEB P",
        "AEB R",
        "AEB F1",
        "WCXB body F1",
        "title exact",
        "author",
        "date day",
        "AEB pages/s",
        "WCXB pages/s",
        "errors",
    ]
    rows = []
    for name in systems:
        res = results[name]
        if res.get("status") != "ok":
            rows.append([name] + ["—"] * (len(header) - 2) + ["skipped"])
            continue
        aeb = res.get("aeb") or {}
        wcxb = res.get("wcxb") or {}
        errors = sum(x.get("errors", 0) for x in (aeb, wcxb))
        rows.append(
            [
                name,
                _fmt(aeb.get("precision")),
                _fmt(aeb.get("recall")),
                _fmt(aeb.get("f1")),
                _fmt(wcxb.get("f1")),
                _fmt(wcxb.get("title_exact")),
                _fmt(wcxb.get("author")),
                _fmt(wcxb.get("date_day")),
                _fmt(aeb.get("pages_per_second"), 1),
                _fmt(wcxb.get("pages_per_second"), 1),
                str(errors),
            ]
        )
    return header, rows


def table_notes(
    systems: Sequence[str], results: dict[str, dict[str, Any]], corpora: dict[str, Corpus]
) -> list[str]:
    notes = []
    if "aeb" in corpora:
        notes.append(
            f"AEB: {len(corpora['aeb'].pages)} pages; 4-token shingles, P/R averaged over pages, F1 of the averages."
        )
    if "wcxb" in corpora:
        any_ok = next(
            (results[s]["wcxb"] for s in systems if results[s].get("status") == "ok" and "wcxb" in results[s]),
            None,
        )
        counts = (
            f" (title over {any_ok['title_pages']}, author over {any_ok['author_pages']}, "
            f"date over {any_ok['date_pages']} pages with a gold value)"
            if any_ok
            else ""
        )
        notes.append(
            f"WCXB: {len(corpora['wcxb'].pages)} pages; body = mean per-page word F1{counts}."
        )
        for name in systems:
            either = (results[name].get("wcxb") or {}).get("date_day_published_or_modified")
            if results[name].get("status") == "ok" and either is not None:
                notes.append(
                    f"{name} date day counting its modified_at as well (WCXB's gold is the date the page"
                    f" shows, often 'Updated'): {either:.3f}. Diagnostic only; the column scores published_at."
                )
    notes.append("pages/s = pages / summed wall time of the extraction calls; '—' = not measured or not predicted.")
    for name in systems:
        if results[name].get("status") != "ok":
            notes.append(f"{name} skipped: {results[name].get('reason')}")  # noqa: PERF401 - a report, not a hot loop
    notes.append(CREDITS)
    return notes


def print_table(header: list[str], rows: list[list[str]], notes: list[str]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
        line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))
        print(line)
        print("-" * len(line))
        for r in rows:
            print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        for n in notes:
            print(n)
        return
    table = Table(title="Article extraction quality", title_justify="left")
    for i, h in enumerate(header):
        table.add_column(h, justify="left" if i == 0 else "right", no_wrap=i == 0)
    for r in rows:
        table.add_row(*r)
    console = Console(width=max(160, Console().width))
    console.print(table)
    for n in notes:
        console.print(n, highlight=False, soft_wrap=True)


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def environment() -> dict[str, Any]:
    return {
        "versions": {
            "python": platform.python_version(),
            "pagescrub": _version("pagescrub"),
            "readability-lxml": _version("readability-lxml"),
            "trafilatura": _version("trafilatura"),
            "lxml": _version("lxml"),
            "htmldate": _version("htmldate"),
            "charset-normalizer": _version("charset-normalizer"),
        },
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "processor": platform.processor() or None,
            "cpu_count": os.cpu_count(),
            "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "python_implementation": platform.python_implementation(),
        },
    }


# ----------------------------------------------------------------------------- CLI


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/quality.py",
        description=(
            "Measure article extraction quality of pagescrub, bare readability-lxml and "
            "trafilatura in one run, on the AEB and/or WCXB corpora, and print one table."
        ),
        epilog=(
            CREDITS
            + " AEB: https://github.com/scrapinghub/article-extraction-benchmark ; "
            "WCXB: https://github.com/Murrough-Foley/web-content-extraction-benchmark . "
            "Scoring definitions: benchmarks/scoring.py."
        ),
    )
    parser.add_argument("--aeb", type=Path, metavar="DIR", help="AEB corpus: DIR/html/<id>.html.gz and DIR/ground-truth.json")
    parser.add_argument(
        "--wcxb", type=Path, metavar="DIR", help="WCXB corpus: DIR/html/<id>.html.gz and DIR/ground-truth/<id>.json"
    )
    parser.add_argument(
        "--systems",
        default=",".join(SYSTEM_NAMES),
        help=f"comma-separated systems to run, from {','.join(SYSTEM_NAMES)} (default: all)",
    )
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N pages (sorted by id) of each corpus")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write all figures, versions and machine info as JSON")
    parser.add_argument("--dump", type=Path, metavar="DIR", help="write per-page scores to DIR/<corpus>.jsonl")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="run (system, corpus) units on N processes (default 1: one process, systems interleaved page by page; "
        "with N > 1 pages/s is measured under contention)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)

    if args.aeb is None and args.wcxb is None:
        parser.error("give at least one corpus: --aeb DIR and/or --wcxb DIR")
    if args.aeb is not None and not ((args.aeb / "ground-truth.json").is_file() and (args.aeb / "html").is_dir()):
        parser.error(f"--aeb {args.aeb}: expected ground-truth.json and html/ in it")
    if args.wcxb is not None and not ((args.wcxb / "ground-truth").is_dir() and (args.wcxb / "html").is_dir()):
        parser.error(f"--wcxb {args.wcxb}: expected ground-truth/ and html/ in it")
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in SYSTEM_NAMES]
    if not systems or unknown:
        parser.error(f"--systems: unknown {unknown or 'empty list'}; choose from {','.join(SYSTEM_NAMES)}")
    args.systems = list(dict.fromkeys(systems))
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be >= 1")
    if args.jobs < 1:
        parser.error("--jobs must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    corpora: dict[str, Corpus] = {}
    if args.aeb is not None:
        corpora["aeb"] = load_aeb(args.aeb, args.limit)
    if args.wcxb is not None:
        corpora["wcxb"] = load_wcxb(args.wcxb, args.limit)

    results: dict[str, dict[str, Any]] = {}
    runnable = []
    for name in args.systems:
        try:
            SYSTEM_FACTORIES[name]()
        except SystemUnavailable as exc:
            results[name] = {"status": "skipped", "reason": str(exc)}
            print(f"warning: system {name} skipped: {exc}", file=sys.stderr)
            continue
        results[name] = {"status": "ok"}
        runnable.append(name)
    if not runnable:
        print("error: none of the requested systems can run", file=sys.stderr)
        return 1

    started = time.perf_counter()
    runs = run_all(runnable, list(corpora.values()), args.jobs, args.quiet)
    wall = time.perf_counter() - started

    dump_rows: dict[str, list[dict[str, Any]]] = {c: [] for c in corpora}
    for corpus_name, corpus in corpora.items():
        for name in runnable:
            summary, rows = SCORERS[corpus_name](corpus, name, runs[corpus_name][name])
            results[name][corpus_name] = summary
            dump_rows[corpus_name].extend(rows)

    header, rows = build_table(args.systems, results, corpora)
    print_table(header, rows, table_notes(args.systems, results, corpora))

    if args.dump is not None:
        args.dump.mkdir(parents=True, exist_ok=True)
        for corpus_name, rows_ in dump_rows.items():
            with (args.dump / f"{corpus_name}.jsonl").open("w", encoding="utf-8") as fh:
                for row in rows_:
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"per-page scores written to {args.dump}/", file=sys.stderr)

    if args.json is not None:
        payload = {
            "benchmark": "pagescrub article extraction quality",
            "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": [Path(sys.argv[0]).name, *sys.argv[1:]] if argv is None else list(argv),
            "settings": {"systems": args.systems, "limit": args.limit, "jobs": args.jobs},
            **environment(),
            "run_wall_seconds": wall,
            "corpora": {
                name: {"path": str(c.root), "pages": len(c.pages)} for name, c in corpora.items()
            },
            "results": results,
            "table": {"header": header, "rows": rows},
            "credits": CREDITS,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
