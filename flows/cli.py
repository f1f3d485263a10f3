"""The ``pagescrub`` command line: starts the flows, shows progress, prints the summary."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pagescrub import __version__

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


@app.command()
def run(
    paths: Annotated[list[Path], typer.Argument(help="Saved pages: files or folders (searched recursively for .html, .htm, .html.gz, .txt).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (articles/, failed/, runs/ are created in it).")],
    manifest: Annotated[
        Optional[Path],
        typer.Option("--manifest", help="CSV (path,url) or JSONL ({\"path\", \"url\"}) giving pages their original URL."),
    ] = None,
    allow_failures: Annotated[bool, typer.Option("--allow-failures", help="Exit 0 even when some inputs failed.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Pages per Prefect task run.")] = 25,
    workers: Annotated[int, typer.Option(min=1, max=256, help="Task runner workers.")] = 2,
    max_bytes: Annotated[int, typer.Option(min=1024, help="Largest page accepted (after decompression).")] = 10 * 1024 * 1024,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Clean saved pages into records under OUT, as a Prefect flow run.

    Exits 1 when any input failed (see the run manifest), unless --allow-failures.
    """
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise typer.BadParameter(f"no such file or folder: {', '.join(missing)}", param_hint="PATHS")
    if manifest is not None and not manifest.is_file():
        raise typer.BadParameter(f"no such file: {manifest}", param_hint="--manifest")
    # Imported here so `pagescrub --help` stays fast and does not start Prefect.
    from prefect.task_runners import ThreadPoolTaskRunner

    from pagescrub.flows.scrape import reporting, scrape
    from pagescrub.tasks.load import iter_inputs

    flow = scrape.with_options(task_runner=ThreadPoolTaskRunner(max_workers=workers))
    params: dict[str, Any] = dict(
        paths=[str(p) for p in paths],
        out=str(out),
        url_manifest=str(manifest) if manifest else None,
        batch_size=batch_size,
        max_bytes=max_bytes,
        max_in_flight=2 * workers,
    )
    show = progress and _console.is_terminal
    if show:
        total = sum(1 for _ in iter_inputs(paths))
        with Progress(
            TextColumn("cleaning"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[failed]} failed"),
            TimeElapsedColumn(), console=_console, transient=False,
        ) as bar:
            task_id = bar.add_task("pages", total=total, failed=0)
            failed = 0

            def advance(entries: list[dict[str, Any]]) -> None:
                nonlocal failed
                failed += sum(1 for e in entries if e["status"] == "failed")
                bar.update(task_id, advance=len(entries), failed=failed)

            with reporting(advance):
                summary = flow(**params)
    else:
        summary = flow(**params)
    _print_summary(summary)
    if summary["counts"]["failed"] and not allow_failures:
        raise typer.Exit(code=1)


def _print_summary(summary: dict[str, Any]) -> None:
    console = Console()
    c = summary["counts"]
    t = summary["timings"]
    table = Table(title=f"pagescrub run {summary['run_id']}", show_header=True)
    for name in ("pages", "written", "unchanged", "failed", "pages/s", "seconds"):
        table.add_column(name, justify="right")
    table.add_row(
        str(c["pages"]), str(c["written"]), str(c["unchanged"]), str(c["failed"]),
        f"{t['pages_per_second'] or 0:.1f}", f"{t['wall_seconds']:.1f}",
    )
    console.print(table)
    if summary["failure_reasons"]:
        reasons = Table(title="failures by reason", show_header=True)
        reasons.add_column("reason")
        reasons.add_column("pages", justify="right")
        for reason, n in summary["failure_reasons"].items():
            reasons.add_row(reason, str(n))
        console.print(reasons)
    console.print(f"records: {Path(summary['out']) / 'articles'}   manifest: {summary['manifest']}")


def main() -> None:
    """Console-script entry point."""
    # A temporary server needs no UI nor telemetry; both are the user's to turn on.
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    app(prog_name="pagescrub")


if __name__ == "__main__":
    sys.exit(main())
