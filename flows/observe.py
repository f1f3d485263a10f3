"""What a pagescrub run shows in the Prefect UI: names, tags, progress, per-host counts, failures, final state.

Plain functions and one small class, so the ``scrape`` flow (or any flow that
writes through ``RunWriter``) wires them in a few lines::

    observer = RunObserver(total=count_inputs(paths, url_map))   # creates the progress artifact
    with reporting(observer.update):                            # called as each batch is written
        ...
    summary = writer.close(...)
    return observer.finish(summary, failure_threshold)          # tables, failures, 100 %, final state

Names and tags:

* flow runs of a source are named ``<source>/<window>`` (``flow_run_name``;
  the window is the run's ``since..until``, or its scheduled time), backfill
  runs keep the name ``pagescrub backfill`` gave them; runs without a
  ``source:`` tag (the CLI's) keep ``scrape-<out>``;
* per-page task runs are named after the page's host and path, shortened
  (``page_task_run_name``);
* deployments and backfill runs carry the tags ``source:<name>`` and
  ``kind:<kind>`` (``source_tags``), backfill runs also ``backfill`` and
  ``window:<since>..<until>``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from pagescrub.tasks.urls import page_task_run_name, short_page_name

__all__ = [
    "DEFAULT_FAILURE_THRESHOLD",
    "RunObserver",
    "count_inputs",
    "failed_record_location",
    "failures_markdown",
    "final_state",
    "flow_run_name",
    "host_of",
    "host_rows",
    "page_task_run_name",
    "print_report",
    "short_page_name",
    "source_tags",
    "tag_value",
    "window_label",
]

DEFAULT_FAILURE_THRESHOLD = 0.5
LOCAL = "(saved files)"
"""The host row of pages read from disk or a store, not fetched."""
MAX_FAILURES_LISTED = 200
MAX_HOST_ROWS = 100


# -- names and tags -----------------------------------------------------------------------------


def tag_value(tags: Iterable[str], prefix: str) -> str | None:
    """The value of the first ``prefix:value`` tag."""
    for tag in tags:
        if tag.startswith(prefix + ":"):
            return tag[len(prefix) + 1 :]
    return None


def source_tags(source: str, kind: str) -> list[str]:
    return [f"source:{source}", f"kind:{kind}"]


def _day_or_time(value: Any) -> str:
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%d") if (value.hour, value.minute, value.second) == (0, 0, 0) else value.strftime("%Y-%m-%dT%H:%MZ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    try:
        return _day_or_time(date.fromisoformat(text))
    except ValueError:
        try:
            return _day_or_time(datetime.fromisoformat(text))
        except ValueError:
            return text


def window_label(since: Any = None, until: Any = None) -> str | None:
    """``2022-02-01..2022-02-07``, ``2022-02-01..`` or ``..2022-02-07``; None without bounds."""
    if since in (None, "") and until in (None, ""):
        return None
    a = _day_or_time(since) if since not in (None, "") else ""
    b = _day_or_time(until) if until not in (None, "") else ""
    return f"{a}..{b}"


def flow_run_name() -> str:
    """``flow_run_name`` for the scrape flow: ``<source>/<window>`` for a source's runs.

    Reads the run's tags and parameters from ``prefect.runtime``. A backfill run
    keeps the name it was created with; a run with no ``source:`` tag (the CLI's)
    is ``scrape-<out>`` as before.
    """
    from prefect.runtime import flow_run

    tags = list(flow_run.tags or [])
    params = flow_run.parameters or {}
    source = tag_value(tags, "source")
    if source is None:
        return f"scrape-{params.get('out')}"
    if "backfill" in tags and flow_run.name:
        return str(flow_run.name)
    window = tag_value(tags, "window") or window_label(params.get("since"), params.get("until"))
    if window is None:
        when = flow_run.scheduled_start_time
        window = _day_or_time(when) if when else datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ")
        if len(window) == 10:  # midnight: still say it is a time
            window += "T00:00Z"
    return f"{source}/{window}"


# -- per-host counts, failures ------------------------------------------------------------------


def host_of(entry: dict[str, Any]) -> str:
    url = entry.get("url") or entry.get("input") or ""
    if isinstance(url, str) and url[:8].lower().startswith(("http://", "https://")):
        return (urlsplit(url).hostname or LOCAL).removeprefix("www.")
    return LOCAL


def host_rows(counts: dict[str, Counter[str]], limit: int = MAX_HOST_ROWS) -> list[dict[str, Any]]:
    """Rows for the per-host table, busiest hosts first; the rest summed in one row."""
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1]["pages"], kv[0]))
    rows = [_row(host, c) for host, c in ordered[:limit]]
    rest = ordered[limit:]
    if rest:
        total: Counter[str] = Counter()
        for _host, c in rest:
            total.update(c)
        rows.append(_row(f"({len(rest)} more hosts)", total))
    return rows


def _row(host: str, c: Counter[str]) -> dict[str, Any]:
    return {
        "host": host,
        "pages": c["pages"],
        "fetched": c["fetched"],
        "written": c["written"],
        "unchanged": c["unchanged"],
        "failed": c["failed"],
    }


def failed_record_location(out: str, entry: dict[str, Any]) -> str | None:
    """Where the page's ``failed/`` record is (a path or s3:// URI), or None when none was stored."""
    from pagescrub.tasks.store import failed_key

    if entry.get("status") != "failed" or entry.get("stage") == "store":
        return None  # a record the store would not take: nothing under failed/ either
    if "failure record could not be written" in entry.get("reason", ""):
        return None
    try:
        key = failed_key(entry["id"])
    except (KeyError, ValueError):
        return None
    if out.lower().startswith("s3://"):
        return out.rstrip("/") + "/" + key
    from pathlib import Path

    return str(Path(out) / key)


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").replace("`", "'")


def failures_markdown(
    failures: list[dict[str, Any]], out: str, *, total_failed: int | None = None, manifest: str | None = None
) -> str:
    """A markdown table of failed pages: the page (linked when it is a URL), stage, reason, its failed/ record."""
    total_failed = len(failures) if total_failed is None else total_failed
    lines = [
        f"### {total_failed} page{'s' if total_failed != 1 else ''} gave no record",
        "",
        f"Failed records are stored under `{_md(out)}`; each row names its own.",
        "",
        "| page | stage | reason | failed record |",
        "|---|---|---|---|",
    ]
    for entry in failures:
        page = entry.get("url") or entry.get("input", "")
        shown = _md(short_page_name(page, 70) if str(page).startswith(("http://", "https://")) else page)
        cell = f"[{shown}]({page})" if str(page).startswith(("http://", "https://")) else f"`{shown}`"
        where = failed_record_location(out, entry)
        key = where[len(out.rstrip("/")) + 1 :] if where and where.startswith(out.rstrip("/")) else where
        lines.append(
            f"| {cell} | {_md(entry.get('stage', ''))} | {_md(entry.get('reason', ''))} | "
            + (f"`{_md(key)}`" if key else "not stored")
            + " |"
        )
    if total_failed > len(failures):
        lines.append("")
        lines.append(f"... and {total_failed - len(failures)} more" + (f": see the run manifest `{manifest}`" if manifest else ""))
    elif manifest:
        lines.append("")
        lines.append(f"Run manifest: `{manifest}`")
    return "\n".join(lines)


def final_state(summary: dict[str, Any], threshold: float | None = DEFAULT_FAILURE_THRESHOLD) -> Any:
    """``Failed`` when failed/pages is over ``threshold`` or records went unwritten, ``Completed`` otherwise.

    The state carries the summary as its data, so ``state.result(raise_on_failure=False)`` gives it back.
    """
    from prefect.states import Completed, Failed

    c = summary["counts"]
    pages, failed = c["pages"], c["failed"]
    unsent = summary.get("store", {}).get("unsent", 0)
    ratio = failed / pages if pages else 0.0
    counts = f"{pages} pages: {c['written']} written, {c['unchanged']} unchanged, {failed} failed"
    if unsent:
        return Failed(message=f"{counts}; {unsent} records not written (store unavailable): run again", data=summary)
    if threshold is not None and ratio > threshold:
        return Failed(message=f"{counts}: {ratio:.0%} failed, over the {threshold:.0%} threshold", data=summary)
    return Completed(message=counts, data=summary)


def count_inputs(paths: Iterable[str] | None, url_map: dict[str, str] | None = None) -> int | None:
    """How many saved pages ``paths`` hold (a directory walk, no page is read); None when there are none."""
    paths = list(paths or [])
    if not paths:
        return None
    from pagescrub.tasks.load import iter_inputs

    return sum(1 for _ in iter_inputs(paths, url_map))


# -- the observer -------------------------------------------------------------------------------


def _in_flow_run() -> bool:
    from prefect.context import FlowRunContext

    return FlowRunContext.get() is not None


class RunObserver:
    """Follows a run's manifest entries as batches are written; publishes progress, tables, failures.

    ``update`` has the signature of a ``reporting`` hook. Outside a flow run
    nothing is published (the counts are still kept, for ``print_report``).
    Progress updates are throttled (``min_interval`` seconds, or a 10-point
    jump), so a run of 100,000 pages does not send 4,000 updates.
    """

    def __init__(
        self,
        total: int | None = None,
        *,
        name: str = "scrape",
        min_interval: float = 1.0,
        publish: bool | None = None,
    ) -> None:
        self.name = name
        self.total = total
        self.done = 0
        self.hosts: dict[str, Counter[str]] = defaultdict(Counter)
        self.failures: list[dict[str, Any]] = []
        self.failed = 0
        self.min_interval = min_interval
        self.publish = _in_flow_run() if publish is None else publish
        self.progress_id: Any = None
        self._last_sent = 0.0
        self._last_pct = 0.0
        self._lock = threading.Lock()
        if self.publish:
            from prefect.artifacts import create_progress_artifact

            self.progress_id = create_progress_artifact(
                progress=0.0, key=f"{name}-progress", description=self._describe()
            )

    def expect(self, more: int) -> None:
        """More pages are coming (a sitemap was read): the total grows."""
        with self._lock:
            self.total = (self.total or 0) + max(0, more)

    def update(self, entries: list[dict[str, Any]]) -> None:
        """A batch was written: count its entries by host and status, move the progress bar."""
        with self._lock:
            for entry in entries:
                c = self.hosts[host_of(entry)]
                c["pages"] += 1
                c[entry.get("status", "failed")] += 1
                if "http_status" in entry:
                    c["fetched"] += 1
                if entry.get("status") == "failed":
                    self.failed += 1
                    if len(self.failures) < MAX_FAILURES_LISTED:
                        self.failures.append(dict(entry))
            self.done += len(entries)
            pct = self.percent()
            now = time.monotonic()
            due = now - self._last_sent >= self.min_interval or pct - self._last_pct >= 10
            if not (self.publish and self.progress_id is not None and due):
                return
            self._last_sent, self._last_pct = now, pct
        self._send(pct)

    def watch(self, write: Callable[[Any], list[dict[str, Any]]]) -> Callable[[Any], list[dict[str, Any]]]:
        """``write`` (a ``RunWriter.write``) that also reports each written batch here::

            writer.write = observer.watch(writer.write)
        """

        def written(results: Any) -> list[dict[str, Any]]:
            entries = write(results)
            self.update(entries)
            return entries

        return written

    def percent(self) -> float:
        if not self.total:
            return 0.0
        return min(99.0, 100.0 * self.done / self.total)  # 100 only when the run is finished

    def _describe(self, finished: bool = False) -> str:
        if finished:
            return f"{self.done} pages done, {self.failed} failed"
        of = f" of {self.total}" if self.total else ""
        return f"{self.done}{of} pages done, {self.failed} failed"

    def _send(self, pct: float, finished: bool = False) -> None:
        from prefect.artifacts import update_progress_artifact

        try:
            update_progress_artifact(self.progress_id, progress=pct, description=self._describe(finished))
        except Exception as exc:  # noqa: BLE001 - a progress bar must never fail a run
            logging.getLogger(__name__).debug("progress artifact not updated: %s", exc)

    def host_rows(self) -> list[dict[str, Any]]:
        with self._lock:
            return host_rows(self.hosts)

    def finish(self, summary: dict[str, Any], threshold: float | None = DEFAULT_FAILURE_THRESHOLD) -> Any:
        """Publish the per-host table, the failures and 100 %; return the run's final state (see ``final_state``).

        ``summary`` is ``RunWriter.close``'s; its ``hosts`` key gets the per-host rows (for the CLI).
        """
        rows = self.host_rows()
        summary["hosts"] = rows
        if self.publish:
            from prefect.artifacts import create_markdown_artifact, create_table_artifact

            if self.progress_id is not None:
                self._send(100.0, finished=True)
            create_table_artifact(
                key=f"{self.name}-hosts",
                table=rows,
                description=f"pages per host in run {summary.get('run_id', '')}: fetched, written, unchanged, failed",
            )
            if self.failures or summary["counts"]["failed"]:
                create_markdown_artifact(
                    key=f"{self.name}-failures",
                    markdown=failures_markdown(
                        self.failures, summary["out"], total_failed=summary["counts"]["failed"], manifest=summary.get("manifest")
                    ),
                    description="pages that gave no record, why, and where their failed/ record is",
                )
        return final_state(summary, threshold)


# -- stdout -------------------------------------------------------------------------------------


def print_report(summary: dict[str, Any], console: Any = None, *, failures: list[dict[str, Any]] | None = None, limit: int = 20) -> None:
    """The per-host table (and the first failures) on the terminal, as in the UI."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    rows = summary.get("hosts") or []
    if rows and not (len(rows) == 1 and rows[0]["host"] == LOCAL):
        table = Table(title="pages per host", show_header=True)
        for column in ("host", "pages", "fetched", "written", "unchanged", "failed"):
            table.add_column(column, justify="left" if column == "host" else "right")
        for row in rows:
            table.add_row(*(str(row[c]) for c in ("host", "pages", "fetched", "written", "unchanged", "failed")))
        console.print(table)
    for entry in (failures or [])[:limit]:
        where = failed_record_location(summary["out"], entry)
        console.print(
            f"failed: {entry.get('url') or entry.get('input')} [{entry.get('stage', '')}] {entry.get('reason', '')}"
            + (f" -> {where}" if where else ""),
            highlight=False, markup=False,
        )
