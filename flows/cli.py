"""The ``pagescrub`` command line: starts the flows, shows progress, prints the summary."""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pagescrub import __version__
from pagescrub.tasks.load import DEFAULT_MAX_BYTES

if TYPE_CHECKING:  # imported where used, so `pagescrub --help` does not load Prefect or boto3
    from pagescrub.flows.local_api import LocalServer
    from pagescrub.tasks.store import Store, StoreOptions

app = typer.Typer(
    name="pagescrub",
    help="Scrape and clean news and article pages into one clean JSON record per article.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Scrape and clean news and article pages into one clean JSON record per article."""


@app.command()
def version() -> None:
    """Print the pagescrub version."""
    typer.echo(__version__)


class AddressingStyle(str, Enum):  # noqa: UP042 - a StrEnum would change str() of the members
    auto = "auto"
    path = "path"
    virtual = "virtual"


class TaskRunnerKind(str, Enum):  # noqa: UP042 - a StrEnum would change str() of the members
    thread = "thread"
    dask = "dask"


_STORE = "Store (a folder, or s3://bucket/prefix/)"
S3EndpointOpt = Annotated[
    str | None,
    typer.Option("--s3-endpoint-url", help="S3-compatible endpoint (MinIO, Ceph, R2), e.g. http://127.0.0.1:9000.", rich_help_panel=_STORE),
]
S3StyleOpt = Annotated[
    AddressingStyle | None,
    typer.Option("--s3-addressing-style", help="S3 addressing style (path for most S3-compatible servers).", rich_help_panel=_STORE),
]
S3ProfileOpt = Annotated[
    str | None, typer.Option("--s3-profile", help="AWS profile (credentials come from the standard AWS chain).", rich_help_panel=_STORE)
]
S3RegionOpt = Annotated[str | None, typer.Option("--s3-region", help="AWS region (default: from the AWS chain).", rich_help_panel=_STORE)]
StoreBlockOpt = Annotated[
    str | None,
    typer.Option("--store-block", help="Name of a saved PagescrubStore Prefect block giving the store and its settings.", rich_help_panel=_STORE),
]
ConcurrencyOpt = Annotated[
    int | None, typer.Option("--write-concurrency", min=1, max=256, help="Concurrent writes to the store (default 8, or the block's).", rich_help_panel=_STORE)
]


_DUPS = "Near duplicates"
LinkOpt = Annotated[
    bool,
    typer.Option(
        "--link-duplicates/--no-link-duplicates",
        help="Link each record to the first-seen copy of its story (duplicate_of, cluster_id), across runs into the same store.",
        rich_help_panel=_DUPS,
    ),
]
ThresholdOpt = Annotated[
    float,
    typer.Option(
        "--duplicate-threshold", min=0.05, max=1.0,
        help="Similarity (max of Jaccard and containment of word shingles) a near copy needs.", rich_help_panel=_DUPS,
    ),
]

_FETCH = "Fetching (URLs, sitemaps, feeds)"
_POLITE = "Politeness and the HTTP client"


@app.command()
def run(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="INPUTS",
            help="Saved pages (files or folders, searched recursively for .html, .htm, .html.gz, .txt) "
            "and/or page URLs (anything starting with http:// or https:// is fetched).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option("--out", "-o", help="Output store: a folder or s3://bucket/prefix/ (articles/, raw/, failed/, runs/, state/ go in it)."),
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option("--manifest", help="CSV (path,url) or JSONL ({\"path\", \"url\"}) giving pages their original URL."),
    ] = None,
    allow_failures: Annotated[bool, typer.Option("--allow-failures", help="Exit 0 even when some inputs failed (not when the store was unavailable).")] = False,
    batch_size: Annotated[
        int | None, typer.Option(min=1, max=10_000, help="Pages per Prefect task run (default: 100 saved pages, 25 fetched pages).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, max=256, show_default=False,
            help="Processes cleaning pages (default: one per CPU). With --task-runner dask and no --dask-address: "
            "the local Dask cluster's worker processes.",
        ),
    ] = None,
    task_runner: Annotated[
        TaskRunnerKind,
        typer.Option(
            "--task-runner",
            help="thread: batch task runs on this machine, their pages cleaned by --workers processes. "
            "dask: batch task runs on a Dask cluster (prefect-dask, from the dask extra).",
        ),
    ] = TaskRunnerKind.thread,
    dask_address: Annotated[
        str | None,
        typer.Option("--dask-address", help="Scheduler of an existing Dask cluster, e.g. tcp://10.0.0.5:8786 (implies --task-runner dask).", show_default=False),
    ] = None,
    max_bytes: Annotated[int, typer.Option(min=1024, help="Largest page accepted (after decompression).")] = DEFAULT_MAX_BYTES,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
    s3_endpoint_url: S3EndpointOpt = None,
    s3_addressing_style: S3StyleOpt = None,
    s3_profile: S3ProfileOpt = None,
    s3_region: S3RegionOpt = None,
    store_block: StoreBlockOpt = None,
    write_concurrency: ConcurrencyOpt = None,
    url_files: Annotated[
        list[Path] | None,
        typer.Option("--urls", help="A file of page URLs, one a line (# comments allowed). Repeatable.", rich_help_panel=_FETCH),
    ] = None,
    sitemaps: Annotated[
        list[str] | None,
        typer.Option("--sitemap", help="A sitemap or sitemap index URL (gzipped ones too). Repeatable.", rich_help_panel=_FETCH),
    ] = None,
    feeds: Annotated[
        list[str] | None, typer.Option("--feed", help="An RSS or Atom feed URL. Repeatable.", rich_help_panel=_FETCH)
    ] = None,
    sites: Annotated[
        list[str] | None,
        typer.Option("--site", help="A site whose robots.txt Sitemap: lines are followed, e.g. https://example.org. Repeatable.", rich_help_panel=_FETCH),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="DATE", help="Only sitemap/feed entries dated on or after DATE (YYYY-MM-DD or ISO date-time, UTC).", rich_help_panel=_FETCH),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="DATE", help="Only sitemap/feed entries dated on or before DATE (a day counts whole).", rich_help_panel=_FETCH),
    ] = None,
    per_page_tasks: Annotated[
        bool | None,
        typer.Option(
            "--per-page-tasks/--batch-tasks",
            help="One Prefect task run per URL, retried by Prefect (visible in the UI), or pages fetched by the run's "
            "client with its own retries and cleaned in batch task runs. Default: per page for at most 20 pages.",
            show_default=False, rich_help_panel=_FETCH,
        ),
    ] = None,
    refresh: Annotated[
        bool,
        typer.Option("--refresh", help="Send no stored ETag/Last-Modified: fetch every page in full.", rich_help_panel=_FETCH),
    ] = False,
    user_agent: Annotated[
        str | None,
        typer.Option("--user-agent", help="User-Agent header (default: pagescrub/<version> (+<project url>)); its product token is matched against robots.txt.", show_default=False, rich_help_panel=_POLITE),
    ] = None,
    per_host_concurrency: Annotated[
        int, typer.Option("--per-host-concurrency", min=1, max=64, help="Requests in flight to one host (scheme://host:port) at most.", rich_help_panel=_POLITE)
    ] = 2,
    per_host_delay: Annotated[
        float,
        typer.Option("--per-host-delay", min=0.0, help="Seconds between request starts on one host at least (robots.txt Crawl-delay wins when larger, up to 60).", rich_help_panel=_POLITE),
    ] = 1.0,
    global_concurrency: Annotated[
        int, typer.Option("--global-concurrency", min=1, max=1024, help="Requests in flight in the whole run at most.", rich_help_panel=_POLITE)
    ] = 16,
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=0.01, help="Seconds to wait for a read (connecting: at most 10); a whole request gets 4x this.", rich_help_panel=_POLITE),
    ] = 30.0,
    retries: Annotated[
        int,
        typer.Option("--retries", min=0, max=20, help="Retries of a transient failure (connection error, timeout, 408, 429, 5xx) after the first attempt.", rich_help_panel=_POLITE),
    ] = 3,
    retry_backoff: Annotated[
        float,
        typer.Option("--retry-backoff", min=0.0, help="First retry delay in seconds, doubled each retry (max 60), plus jitter; a Retry-After (429/503) wins, up to 120 s.", rich_help_panel=_POLITE),
    ] = 1.0,
    ignore_robots: Annotated[
        bool, typer.Option("--ignore-robots", help="Do not read or obey robots.txt (default: obey, per RFC 9309).", rich_help_panel=_POLITE)
    ] = False,
    allow_private_addresses: Annotated[
        bool,
        typer.Option(
            "--allow-private-addresses",
            help="Allow hosts that are or resolve to loopback, private, link-local or reserved addresses. "
            "Off by default: a URL from a sitemap or a redirect cannot reach your intranet or cloud metadata.",
            rich_help_panel=_POLITE,
        ),
    ] = False,
    http2: Annotated[
        bool, typer.Option("--http2/--no-http2", help="Use HTTP/2 where the server offers it (when the optional h2 package, extra http2, is installed).", rich_help_panel=_POLITE)
    ] = True,
    link_duplicates: LinkOpt = True,
    duplicate_threshold: ThresholdOpt = 0.5,
) -> None:
    """Clean saved pages, and pages fetched from the web, into records in the store OUT, as a Prefect flow run.

    Pages come from INPUTS (files, folders, URLs), --urls files, --sitemap, --feed and --site. Fetching is polite (robots.txt obeyed, per-host concurrency and delay, retries of transient failures); a page unchanged since the last run into OUT (ETag/Last-Modified) is not extracted again.

    Exits 1 when any input failed (see the run manifest), unless --allow-failures, and
    whenever records could not be written (store unavailable: the next run writes them).
    Exits 2, before any page is read, when the store is unusable (no bucket, access denied).
    """
    given = inputs or []
    urls = [i for i in given if i[:8].lower().startswith(("http://", "https://"))]
    paths = [Path(i) for i in given if i not in urls]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise typer.BadParameter(f"no such file or folder: {', '.join(missing)}", param_hint="INPUTS")
    missing = [str(p) for p in url_files or [] if not p.is_file()]
    if missing:
        raise typer.BadParameter(f"no such file: {', '.join(missing)}", param_hint="--urls")
    if not (given or url_files or sitemaps or feeds or sites):
        raise typer.BadParameter("give saved pages, URLs, --urls, --sitemap, --feed or --site", param_hint="INPUTS")
    if manifest is not None and not manifest.is_file():
        raise typer.BadParameter(f"no such file: {manifest}", param_hint="--manifest")
    server = _temporary_server()  # boots while the rest loads
    if not (task_runner is TaskRunnerKind.dask or dask_address is not None):
        from pagescrub.tasks.batch import prestart_workers

        prestart_workers()  # the cleaning workers' warm-up, at the same time
    _check_dates(since, until)
    out, options = _store_settings(
        out, store_block, s3_endpoint_url, s3_addressing_style, s3_profile, s3_region, write_concurrency
    )
    fetch_config = None
    if urls or url_files or sitemaps or feeds or sites:
        fetch_config = _fetch_config(
            user_agent=user_agent, per_host_concurrency=per_host_concurrency, per_host_delay=per_host_delay,
            global_concurrency=global_concurrency, timeout=timeout, retries=retries, retry_backoff=retry_backoff,
            max_bytes=max_bytes, obey_robots=not ignore_robots, allow_private_addresses=allow_private_addresses,
            http2=http2,
        )
    store = _checked_store(out, options)
    # Imported here so `pagescrub --help` stays fast and does not start Prefect.
    from pagescrub.flows.local_api import reporting_to
    from pagescrub.flows.observe import count_inputs
    from pagescrub.flows.scrape import DEFAULT_PROCESSES, scrape, task_runner as make_task_runner

    workers = workers or DEFAULT_PROCESSES
    on_dask = task_runner is TaskRunnerKind.dask or dask_address is not None
    try:
        runner = make_task_runner("dask" if on_dask else "thread", workers, dask_address)
    except RuntimeError as exc:
        _fail(str(exc))
    flow = scrape.with_options(task_runner=runner)
    params: dict[str, Any] = dict(
        paths=[str(p) for p in paths],
        out=store.url,
        url_manifest=str(manifest) if manifest else None,
        batch_size=batch_size,
        max_bytes=max_bytes,
        max_in_flight=2 * workers,
        store_options=options,
        processes=0 if on_dask else workers,
        link_duplicates=link_duplicates,
        duplicate_threshold=duplicate_threshold,
    )
    if fetch_config is not None:
        params.update(
            urls=urls, url_lists=[str(p) for p in url_files or []], sitemaps=sitemaps or [], feeds=feeds or [],
            sites=sites or [], since=since, until=until, fetch=fetch_config, per_page_tasks=per_page_tasks,
            refresh=refresh,
        )
    fetching = fetch_config is not None
    total = count_inputs(paths) if progress and _console.is_terminal and not fetching else None
    with reporting_to(server):
        summary, failures = _run_with_progress(
            flow, params, "fetching and cleaning" if fetching else "cleaning", total, progress
        )
    _print_summary(summary, failures)
    _exit(summary, allow_failures)


@app.command()
def reclean(
    src: Annotated[str, typer.Argument(help="Store holding raw snapshots: a folder or s3://bucket/prefix/.")],
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="Store to write the records to (default: SRC itself).")
    ] = None,
    allow_failures: Annotated[bool, typer.Option("--allow-failures", help="Exit 0 even when some snapshots failed.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Snapshots per Prefect task run.")] = 25,
    workers: Annotated[int, typer.Option(min=1, max=256, help="Task runner workers.")] = 2,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show progress.")] = True,
    s3_endpoint_url: S3EndpointOpt = None,
    s3_addressing_style: S3StyleOpt = None,
    s3_profile: S3ProfileOpt = None,
    s3_region: S3RegionOpt = None,
    store_block: StoreBlockOpt = None,
    write_concurrency: ConcurrencyOpt = None,
    link_duplicates: LinkOpt = True,
    duplicate_threshold: ThresholdOpt = 0.5,
) -> None:
    """Re-clean the raw snapshots stored in SRC into records in --out, without the original files or network.

    The S3 options apply to both stores. Exit codes as for `run`.
    """
    out, options = _store_settings(
        out or (None if store_block else src), store_block, s3_endpoint_url, s3_addressing_style, s3_profile,
        s3_region, write_concurrency,
    )
    server = _temporary_server()
    source = _checked_store(src, options, writable=False)
    store = _checked_store(out, options)
    from prefect.task_runners import ThreadPoolTaskRunner

    from pagescrub.flows.local_api import reporting_to
    from pagescrub.flows.reclean import reclean as reclean_flow

    flow = reclean_flow.with_options(task_runner=ThreadPoolTaskRunner(max_workers=workers))
    params: dict[str, Any] = dict(
        src=source.url, out=store.url, batch_size=batch_size, max_in_flight=2 * workers,
        src_options=options, store_options=options,
        link_duplicates=link_duplicates, duplicate_threshold=duplicate_threshold,
    )
    with reporting_to(server):
        summary, failures = _run_with_progress(flow, params, "re-cleaning", None, progress)
    _print_summary(summary, failures)
    _exit(summary, allow_failures)


def _temporary_server() -> LocalServer | None:
    """Prefect's temporary server, started now when no API is configured (see flows/local_api.py)."""
    from pagescrub.flows.local_api import start_if_unconfigured

    return start_if_unconfigured()


def _check_dates(since: str | None, until: str | None) -> None:
    from pagescrub.tasks.discover import filter_entries

    for name, value in (("--since", since), ("--until", until)):
        try:
            filter_entries([], since=value)
        except ValueError:
            raise typer.BadParameter(f"not a date: {value!r} (use YYYY-MM-DD or an ISO date-time)", param_hint=name) from None


def _fetch_config(
    *,
    user_agent: str | None,
    timeout: float,
    retry_backoff: float,
    obey_robots: bool,
    **settings: Any,
) -> Any:
    """The command line's fetch options as the library's ``FetchConfig``."""
    from pagescrub.tasks.fetch import FetchConfig

    if user_agent is not None and not user_agent.strip():
        raise typer.BadParameter("must not be empty", param_hint="--user-agent")
    extra: dict[str, Any] = {"user_agent": user_agent.strip()} if user_agent else {}
    return FetchConfig(
        connect_timeout=min(10.0, timeout),
        read_timeout=timeout,
        total_timeout=4 * timeout,
        backoff_base=retry_backoff,
        obey_robots=obey_robots,
        **extra,
        **settings,
    )


def _store_settings(
    out: str | None,
    block: str | None,
    endpoint_url: str | None,
    addressing_style: AddressingStyle | None,
    profile: str | None,
    region: str | None,
    concurrency: int | None,
) -> tuple[str, StoreOptions]:
    """The store and its options: a saved block first, then the command-line flags over it."""
    from pagescrub.tasks.store import StoreOptions
    from pagescrub.tasks.store_block import PagescrubStore

    options = StoreOptions()
    if block:

        try:
            settings = PagescrubStore.load(block)
        except (ValueError, KeyError) as exc:
            _fail(f"cannot load store block {block!r}: {exc}")
        out = out or settings.url
        options = settings.options()
    flags = dict(
        endpoint_url=endpoint_url,
        addressing_style=addressing_style.value if addressing_style else None,
        profile=profile,
        region=region,
        max_concurrency=concurrency,
    )
    options = replace(options, **{k: v for k, v in flags.items() if v is not None})
    if not out:
        raise typer.BadParameter("give the output store (a folder or s3://bucket/prefix/) or --store-block", param_hint="--out")
    return out, options


def _checked_store(out: str, options: StoreOptions, *, writable: bool = True) -> Store:
    """Open and check the store before any page is read; an unusable store ends the command with exit 2."""
    from pagescrub.tasks.store import StoreError, open_store

    try:
        store = open_store(out, options)
        store.ensure(writable=writable)
    except StoreError as exc:
        _fail(exc.reason)
    except ValueError as exc:
        _fail(str(exc))
    return store


def _fail(message: str) -> NoReturn:
    _console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code=2)


def _run_with_progress(
    flow: Any, params: dict[str, Any], label: str, total: int | None, progress: bool
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run ``flow``; returns its summary and the first failed entries (for the report on stdout)."""
    from pagescrub.flows.scrape import reporting

    failures: list[dict[str, Any]] = []

    def keep_failures(entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            if entry["status"] == "failed" and len(failures) < _FAILURES_SHOWN:
                failures.append(entry)

    with ExitStack() as stack:
        stack.enter_context(reporting(keep_failures))
        if progress and _console.is_terminal:
            bar = stack.enter_context(Progress(
                TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[failed]} failed"),
                TimeElapsedColumn(), console=_console, transient=False,
            ))
            task_id = bar.add_task("pages", total=total, failed=0)
            failed = 0

            def advance(entries: list[dict[str, Any]]) -> None:
                nonlocal failed
                failed += sum(1 for e in entries if e["status"] == "failed")
                bar.update(task_id, advance=len(entries), failed=failed)

            stack.enter_context(reporting(advance))
        return flow(**params), failures


_FAILURES_SHOWN = 20


def _exit(summary: dict[str, Any], allow_failures: bool) -> None:
    unsent = summary["store"]["unsent"]
    if unsent:
        _console.print(
            f"[bold red]{unsent} records were not written: the store was unavailable.[/] "
            "Run again to write them; the manifest lists them as failed."
        )
        raise typer.Exit(code=1)
    if summary["counts"]["failed"] and not allow_failures:
        raise typer.Exit(code=1)


def _print_summary(summary: dict[str, Any], failures: list[dict[str, Any]] | None = None) -> None:
    """The run's counts, failure reasons, per-host table and first failures: what the UI's artifacts show."""
    from pagescrub.flows.observe import print_report

    console = Console()
    c = summary["counts"]
    t = summary["timings"]
    s = summary["store"]
    table = Table(title=f"pagescrub run {summary['run_id']}", show_header=True)
    for name in ("pages", "written", "unchanged", "failed", "objects", "MB written", "pages/s", "seconds"):
        table.add_column(name, justify="right")
    table.add_row(
        str(c["pages"]), str(c["written"]), str(c["unchanged"]), str(c["failed"]), str(s["objects_written"]),
        f"{s['bytes_written'] / 1e6:.2f}", f"{t['pages_per_second'] or 0:.1f}", f"{t['wall_seconds']:.1f}",
    )
    console.print(table)
    fetched = summary.get("fetch")
    if fetched:
        console.print(
            f"fetched {fetched['fetched']} of {fetched['discovered']} pages found in {fetched['seconds']:.1f}s "
            f"({fetched['pages_per_second'] or 0:.1f} pages/s, {fetched['mode']}): {fetched['ok']} ok, "
            f"{fetched['not_modified']} not modified, {fetched['failed']} failed"
            + (f"; {fetched['sources_failed']} sources failed" if fetched["sources_failed"] else ""),
            highlight=False,
        )
    if summary["failure_reasons"]:
        reasons = Table(title="failures by reason", show_header=True)
        reasons.add_column("reason")
        reasons.add_column("pages", justify="right")
        for reason, n in summary["failure_reasons"].items():
            reasons.add_row(reason, str(n))
        console.print(reasons)
    out = summary["out"]
    articles = f"{out}articles/" if out.startswith("s3://") else str(Path(out) / "articles")
    print_report(summary, console, failures=failures, limit=_FAILURES_SHOWN)
    dups = summary.get("duplicates") or {}
    if dups.get("enabled"):
        saved = "" if dups.get("index_saved", True) else f" (the duplicate index was not saved: {dups.get('error', '')})"
        console.print(f"near duplicates: {dups['linked']} records linked to an earlier copy{saved}", highlight=False)
    console.print(f"records: {articles}   manifest: {summary['manifest']}", highlight=False)


from pagescrub.flows.ops import commands as _ops_commands  # noqa: E402 - deploy, serve, backfill, runs

app.add_typer(_ops_commands)


def main() -> None:
    """Console-script entry point."""
    # A temporary server needs no UI nor telemetry; both are the user's to turn on.
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from pagescrub.tasks.load import install_log_redaction

    install_log_redaction()  # before any request is logged: URL credentials never reach a log line
    app(prog_name="pagescrub")


if __name__ == "__main__":
    sys.exit(main())
