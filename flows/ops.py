"""Operating pagescrub: deployments from the sources file, serving them, backfills, recent runs.

Plain functions, called by ``pagescrub deploy|serve|backfill|runs`` and by tests:

* ``build_deployments``: one ``RunnerDeployment`` per source (the ``scrape``
  flow by its module path, the source's parameters, schedule and tags);
* ``deploy``: registers them on the configured server for a work pool (a
  ``process`` pool is created when missing); ``serve``: runs them in this
  process with ``prefect.serve`` (no worker, no pool);
* ``backfill``: one flow run per window of a date range, created on the server
  (named ``<source>-<start>..<end>``, tagged ``backfill``, ``source:<name>``,
  ``window:<start>..<end>``), or run here one after the other (``local``). A
  window that already has a run that did not fail is not created again;
* ``recent_runs``: recent flow runs with their counts from their
  ``scrape-summary`` artifact.

Prefect has no backfill command of its own; this is ours.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pagescrub.flows.observe import source_tags, tag_value
from pagescrub.tasks.sources import (
    DATED_KINDS,
    SourcesFile,
    day_start,
    load_sources,
    parse_duration,
    scrape_parameters,
)

__all__ = [
    "DEFAULT_POOL",
    "MAX_WINDOWS",
    "BackfillResult",
    "OpsError",
    "Window",
    "backfill",
    "build_deployments",
    "deploy",
    "ensure_pool",
    "flow_parameters",
    "recent_runs",
    "require_server",
    "serve",
    "sources_path",
    "windows",
]

DEFAULT_POOL = "pagescrub-process"
DEFAULT_SOURCES = "sources.yaml"
MAX_WINDOWS = 1000
FAILED_TYPES = ("FAILED", "CRASHED", "CANCELLED", "CANCELLING")
"""Run states after which a window may be created again."""
_ANCHOR = datetime(2020, 1, 1, tzinfo=UTC)


class OpsError(Exception):
    """Something the user must fix (no server configured, no such source or deployment)."""


def sources_path(given: str | os.PathLike[str] | None = None) -> Path:
    """The sources file: the one given, else ``$PAGESCRUB_SOURCES``, else ``./sources.yaml``."""
    path = Path(given or os.environ.get("PAGESCRUB_SOURCES") or DEFAULT_SOURCES)
    if not path.is_file():
        raise OpsError(
            f"no sources file {str(path)!r}: give --sources FILE or set PAGESCRUB_SOURCES "
            "(examples/sources.yaml is a documented example)"
        )
    return path


def require_server() -> str:
    """The configured Prefect API URL; deployments, schedules and backfills need a server that stays up."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise OpsError(
            "no Prefect server configured: start one (`prefect server start`) and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api, or use Prefect Cloud (`prefect cloud login`). "
            "The temporary server a single run starts is gone when it ends, with its schedules."
        )
    return str(url)


def _flow(flow: Any) -> Any:
    if flow is not None:
        return flow
    from pagescrub.flows.scrape import scrape

    return scrape


def flow_parameters(flow: Any, source: Any) -> dict[str, Any]:
    """``source``'s parameters for ``flow``; a parameter the flow lacks is an error (``failure_threshold`` excepted)."""
    params = scrape_parameters(source)
    params["failure_threshold"] = source.failure_threshold
    accepted = set(flow.parameters.properties)
    missing = sorted(k for k in params if k not in accepted and k != "failure_threshold")
    if missing:
        raise OpsError(f"source {source.name!r}: the {flow.name!r} flow has no parameter {', '.join(missing)}")
    return {k: v for k, v in params.items() if k in accepted}


def _schedules(source: Any) -> list[Any]:
    from prefect.schedules import Cron, Interval

    s = source.schedule
    if s is None:
        return []
    if s.cron is not None:
        return [Cron(s.cron, timezone=s.timezone, active=s.active)]
    return [Interval(s.interval, anchor_date=_ANCHOR, timezone=s.timezone, active=s.active)]


def build_deployments(
    sources: SourcesFile | str | os.PathLike[str],
    *,
    flow: Any = None,
    names: Iterable[str] | None = None,
    pool: str | None = None,
) -> list[Any]:
    """One ``RunnerDeployment`` per source (or per source in ``names``), loaded by module path."""
    from prefect.deployments.runner import EntrypointType

    parsed = sources if isinstance(sources, SourcesFile) else load_sources(sources)
    flow = _flow(flow)
    chosen = [parsed.get(n) for n in names] if names else list(parsed.sources)
    built = []
    for source in chosen:
        deployment = flow.to_deployment(
            name=source.name,
            schedules=_schedules(source),
            parameters=flow_parameters(flow, source),
            description=source.description or f"pagescrub {source.kind} source {source.name!r}",
            tags=[*source_tags(source.name, source.kind), *source.tags],
            entrypoint_type=EntrypointType.MODULE_PATH,
            work_pool_name=pool,
            work_queue_name="default" if pool else None,
        )
        built.append(deployment)
    return built


def ensure_pool(name: str = DEFAULT_POOL) -> bool:
    """Create a ``process`` work pool named ``name`` unless there is one; True when it was created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
            return False
        except ObjectNotFound:
            pass
        try:
            client.create_work_pool(
                WorkPoolCreate(
                    name=name,
                    type="process",
                    base_job_template=ProcessWorker.get_default_base_job_template(),
                    description="pagescrub flows in local processes: `prefect worker start --pool " + name + "`",
                )
            )
        except ObjectAlreadyExists:
            return False
        return True


def deploy(sources: SourcesFile | str | os.PathLike[str], *, pool: str = DEFAULT_POOL, flow: Any = None) -> list[tuple[str, Any]]:
    """Register one deployment per source on the server, for work pool ``pool``; returns (full name, id)."""
    require_server()
    ensure_pool(pool)
    done = []
    for deployment in build_deployments(sources, flow=flow, pool=pool):
        deployment_id = deployment.apply(work_pool_name=pool)
        done.append((f"{deployment.flow_name}/{deployment.name}", deployment_id))
    return done


def serve(
    sources: SourcesFile | str | os.PathLike[str],
    *,
    flow: Any = None,
    limit: int | None = None,
    stop: threading.Event | None = None,
    poll_seconds: float | None = None,
) -> None:
    """Serve every source's deployment from this process (blocks until interrupted, or until ``stop`` is set).

    Without ``stop`` this is ``prefect.serve``; with it, the same ``Runner``
    that can be stopped from another thread (tests, embedding). ``poll_seconds``:
    how often the server is asked for runs to start (Prefect's default: 10 s).
    """
    from prefect import serve as prefect_serve

    require_server()
    deployments = build_deployments(sources, flow=flow)
    if stop is None:
        prefect_serve(*deployments, limit=limit, **({"query_seconds": poll_seconds} if poll_seconds else {}))
        return
    asyncio.run(_serve_until(deployments, stop, limit, poll_seconds))


def _in_flight(runner: Any) -> bool:
    """Whether the Runner still has flow-run processes (Prefect 3.8's private process manager; False if it moved)."""
    try:
        return bool(runner._process_manager.flow_run_ids())
    except Exception:  # noqa: BLE001 - an internal API: without it, stop at once as prefect.serve would
        return False


async def _serve_until(
    deployments: list[Any], stop: threading.Event, limit: int | None, poll_seconds: float | None, grace: float = 60.0
) -> None:
    from prefect.runner import Runner

    runner = Runner(pause_on_shutdown=True, limit=limit, query_seconds=poll_seconds)
    for deployment in deployments:
        await runner.add_deployment(deployment)
    started = asyncio.create_task(runner.start())
    try:
        while not stop.is_set() and not started.done():
            await asyncio.sleep(0.2)
    finally:
        # Let runs in progress finish first: stopping the Runner cancels them, even one that has just
        # completed while its process exits.
        deadline = asyncio.get_running_loop().time() + grace
        while _in_flight(runner) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.2)
        if runner.started:
            await runner.astop()
        try:
            await asyncio.wait_for(started, timeout=30)
        except (TimeoutError, asyncio.CancelledError):
            pass  # wait_for cancelled it
        except Exception as exc:  # noqa: BLE001 - stopping: report, do not raise over the original error
            logging.getLogger(__name__).warning("runner stopped with %s: %s", type(exc).__name__, exc)


# -- windows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """One window of a backfill: ``since``/``until`` as the flow takes them, and its label."""

    start: datetime
    end: datetime
    """Exclusive."""
    whole_days: bool

    @property
    def since(self) -> str:
        return self.start.date().isoformat() if self.whole_days else self.start.isoformat()

    @property
    def until(self) -> str:
        """Inclusive for days (the flow counts a bare ``until`` day whole), exclusive for date-times."""
        return (self.end - timedelta(days=1)).date().isoformat() if self.whole_days else self.end.isoformat()

    @property
    def label(self) -> str:
        if self.whole_days:
            return f"{self.since}..{self.until}"
        fmt = "%Y-%m-%dT%H:%MZ"
        return f"{self.start.strftime(fmt)}..{self.end.strftime(fmt)}"

    def run_name(self, source: str) -> str:
        return f"{source}-{self.label}"


def _instant(value: str | date | datetime, *, end: bool) -> tuple[datetime, bool]:
    """A --since/--until value as an instant, and whether it was a bare day (an ``until`` day counts whole)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text)
        except ValueError:
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                raise OpsError(f"not a date: {text!r} (use YYYY-MM-DD or an ISO date-time)") from None
    if isinstance(value, datetime):
        return day_start(value).astimezone(UTC), False
    start = day_start(value)
    return (start + timedelta(days=1) if end else start), True


def windows(since: str | date | datetime, until: str | date | datetime, every: str | timedelta = "1d") -> list[Window]:
    """``[since, until]`` cut into windows of ``every`` (the last one shorter when it does not divide).

    Bare days: ``until`` is inclusive and windows of whole days pass bare days to the flow.
    """
    start, _ = _instant(since, end=False)
    stop, _ = _instant(until, end=True)
    try:
        step = every if isinstance(every, timedelta) else parse_duration(every)
    except ValueError as exc:
        raise OpsError(str(exc)) from None
    if stop <= start:
        raise OpsError(f"--until ({until}) is before --since ({since})")
    days = step % timedelta(days=1) == timedelta(0) and start.time() == stop.time() == datetime.min.time()
    found: list[Window] = []
    cursor = start
    while cursor < stop:
        end = min(cursor + step, stop)
        found.append(Window(cursor, end, days and (end - cursor) % timedelta(days=1) == timedelta(0)))
        cursor = end
        if len(found) > MAX_WINDOWS:
            raise OpsError(f"more than {MAX_WINDOWS} windows: use a larger --every or a shorter range")
    return found


# -- backfill -----------------------------------------------------------------------------------


@dataclass
class BackfillResult:
    source: str
    windows: list[Window]
    created: list[str] = field(default_factory=list)
    """Names of the flow runs created (or run, with ``local``)."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Name -> why it was not created (an existing run and its state)."""
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``local`` only: each window's run summary."""
    states: dict[str, str] = field(default_factory=dict)


def _window_params(kind: str, window: Window) -> dict[str, Any]:
    return {"since": window.since, "until": window.until} if kind in DATED_KINDS else {}


def backfill(
    sources: SourcesFile | str | os.PathLike[str],
    source_name: str,
    since: str | date | datetime,
    until: str | date | datetime,
    every: str | timedelta = "1d",
    *,
    dry_run: bool = False,
    local: bool = False,
    flow: Any = None,
    on_window: Callable[[Window, str], None] | None = None,
) -> BackfillResult:
    """One flow run per window of ``source_name``, on the server (its deployment must exist) or here (``local``).

    On the server, a window whose name already has a run that did not fail
    (scheduled, pending, running, completed, ...) is skipped, so running the
    same backfill twice creates nothing new; a failed, crashed or cancelled
    window is created again. ``on_window(window, what)`` reports each one.
    """
    parsed = sources if isinstance(sources, SourcesFile) else load_sources(sources)
    try:
        source = parsed.get(source_name)
    except KeyError as exc:
        raise OpsError(str(exc.args[0])) from None
    found = windows(since, until, every)
    result = BackfillResult(source.name, found)
    if dry_run:
        return result
    flow = _flow(flow)
    tags = ["backfill", *source_tags(source.name, source.kind)]
    if local:
        _backfill_local(flow, source, found, tags, result, on_window)
    else:
        require_server()
        asyncio.run(_backfill_server(flow, source, found, tags, result, on_window))
    return result


def _backfill_local(flow: Any, source: Any, found: list[Window], tags: list[str], result: BackfillResult, on_window: Any) -> None:
    from prefect import tags as prefect_tags

    params = flow_parameters(flow, source)
    for window in found:
        name = window.run_name(source.name)
        with prefect_tags(*tags, *source.tags, f"window:{window.label}"):
            state = flow.with_options(flow_run_name=name)(
                **{**params, **_window_params(source.kind, window)}, return_state=True
            )
        result.created.append(name)
        result.states[name] = state.type.value
        summary = state.result(raise_on_failure=False)
        if isinstance(summary, dict):
            result.summaries[name] = summary
        if on_window:
            on_window(window, f"ran: {state.type.value.lower()}" + (f" ({state.message})" if state.message else ""))


async def _backfill_server(
    flow: Any, source: Any, found: list[Window], tags: list[str], result: BackfillResult, on_window: Any
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId, FlowRunFilter, FlowRunFilterTags
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Scheduled

    full_name = f"{flow.name}/{source.name}"
    async with get_client() as client:
        try:
            deployment = await client.read_deployment_by_name(full_name)
        except ObjectNotFound:
            raise OpsError(f"no deployment {full_name!r} on the server: run `pagescrub deploy` first") from None
        existing: dict[str, list[Any]] = {}
        offset = 0
        while True:  # every earlier backfill run of this source, by window
            page = await client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])),
                flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["backfill", f"source:{source.name}"])),
                sort=FlowRunSort.ID_DESC,
                limit=200,
                offset=offset,
            )
            for run in page:
                key = tag_value(run.tags, "window") or run.name
                existing.setdefault(key, []).append(run)
                existing.setdefault(run.name, []).append(run)
            if len(page) < 200:
                break
            offset += 200
        now = datetime.now(UTC)
        for window in found:
            name = window.run_name(source.name)
            earlier = {r.id: r for r in [*existing.get(window.label, []), *existing.get(name, [])]}.values()
            alive = [r for r in earlier if r.state_type is None or r.state_type.value not in FAILED_TYPES]
            if alive:
                result.skipped[name] = f"exists ({alive[0].state_name or alive[0].state_type.value.lower()})"
                if on_window:
                    on_window(window, f"skipped: a run exists ({alive[0].state_name})")
                continue
            run = await client.create_flow_run_from_deployment(
                deployment.id,
                parameters=_window_params(source.kind, window),
                name=name,
                tags=[*tags, f"window:{window.label}"],
                state=Scheduled(scheduled_time=now),
                # The server answers a repeated key with the run it made: two backfills racing make one run.
                idempotency_key=f"pagescrub-backfill/{name}/{len(list(earlier))}",
            )
            result.created.append(name)
            result.states[name] = run.state_type.value if run.state_type else "SCHEDULED"
            if on_window:
                on_window(window, "created")


# -- runs ---------------------------------------------------------------------------------------


def _table_counts(data: Any) -> dict[str, Any]:
    import json

    rows = json.loads(data) if isinstance(data, str) else data
    counts: dict[str, Any] = {}
    for row in rows or []:
        if isinstance(row, dict) and "measure" in row:
            counts[str(row["measure"])] = row.get("value")
    return counts


async def read_run_artifacts(client: Any, run_ids: list[Any], *, key_like: str | None = None, limit: int = 200) -> list[Any]:
    """The artifacts of these flow runs, newest first.

    Posted by hand: ``PrefectClient.read_artifacts`` sends ``null`` for the
    filters left out, which this server (fastapi 0.154) refuses, and an empty
    task-run filter would keep only artifacts made inside task runs.
    """
    from prefect.client.schemas.objects import Artifact

    artifacts: dict[str, Any] = {"flow_run_id": {"any_": [str(i) for i in run_ids]}}
    if key_like:
        artifacts["key"] = {"like_": key_like}
    response = await client.request(
        "POST", "/artifacts/filter", json={"artifacts": artifacts, "sort": "CREATED_DESC", "limit": limit, "offset": 0}
    )
    return Artifact.model_validate_list(response.json())


async def _recent_runs(limit: int, source: str | None) -> list[dict[str, Any]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
    from prefect.client.schemas.sorting import FlowRunSort

    async with get_client() as client:
        run_filter = FlowRunFilter(tags=FlowRunFilterTags(all_=[f"source:{source}"])) if source else None
        runs = await client.read_flow_runs(flow_run_filter=run_filter, sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=limit)
        summaries: dict[Any, dict[str, Any]] = {}
        if runs:
            artifacts = await read_run_artifacts(client, [r.id for r in runs], key_like="-summary", limit=4 * len(runs))
            for artifact in artifacts:  # newest first: a run's latest summary wins
                if artifact.key and artifact.key.endswith("-summary") and artifact.flow_run_id:
                    summaries.setdefault(artifact.flow_run_id, _table_counts(artifact.data))
        out = []
        for run in runs:
            counts = summaries.get(run.id, {})
            out.append(
                {
                    "id": str(run.id),
                    "name": run.name,
                    "state": run.state_name or (run.state_type.value if run.state_type else ""),
                    "start": (run.start_time or run.expected_start_time),
                    "source": tag_value(run.tags, "source"),
                    "tags": list(run.tags),
                    "pages": counts.get("pages"),
                    "written": counts.get("written"),
                    "unchanged": counts.get("unchanged"),
                    "failed": counts.get("failed"),
                    "message": run.state.message if run.state else None,
                }
            )
        return out


def recent_runs(limit: int = 20, source: str | None = None) -> list[dict[str, Any]]:
    """The ``limit`` most recent flow runs (of ``source``), newest first, with counts from their summary artifact."""
    require_server()
    return asyncio.run(_recent_runs(limit, source))


# -- the command line: `pagescrub deploy | serve | backfill | runs` ------------------------------
# A Typer app merged into `pagescrub`'s (flows/cli.py: `app.add_typer(ops.commands)`).

commands = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
_err = Console(stderr=True)

SourcesOpt = Annotated[
    Path | None,
    typer.Option(
        "--sources", "-s", metavar="FILE",
        help="The sources file (default: $PAGESCRUB_SOURCES, else ./sources.yaml). See examples/sources.yaml.",
        show_default=False,
    ),
]


def _fail(message: str, code: int = 2) -> NoReturn:
    _err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code=code)


def _load(sources: Path | None) -> tuple[Path, SourcesFile]:
    from pagescrub.tasks.sources import SourcesError

    try:
        path = sources_path(sources)
        return path, load_sources(path)
    except (OpsError, SourcesError) as exc:
        _fail(str(exc))


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _duration_text(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _schedule_text(source: Any) -> str:
    s = source.schedule
    if s is None:
        return "no schedule"
    when = f"cron {s.cron!r} {s.timezone}" if s.cron else f"every {_duration_text(s.interval)}"
    return when + ("" if s.active else " (paused)")


@commands.command("deploy")
def deploy_command(
    sources: SourcesOpt = None,
    pool: Annotated[str, typer.Option("--pool", help="Work pool the deployments run on (a process pool is created if missing).")] = DEFAULT_POOL,
) -> None:
    """Register one deployment per source on the Prefect server (PREFECT_API_URL), with its schedule.

    Runs are then started by a worker of the pool (`prefect worker start --pool POOL`) on schedule, from the UI, or by `pagescrub backfill`. Deploying again updates the deployments."""
    path, parsed = _load(sources)
    try:
        created = deploy(parsed, pool=pool)
    except OpsError as exc:
        _fail(str(exc))
    out = Console()
    table = Table(title=f"deployments from {path}", show_header=True)
    for column in ("deployment", "kind", "schedule", "tags"):
        table.add_column(column, overflow="fold")
    for (name, _id), source in zip(created, parsed.sources):
        table.add_row(name, source.kind, _schedule_text(source), ", ".join([*source_tags(source.name, source.kind), *source.tags]))
    out.print(table)
    out.print(f"work pool {pool!r}: start a worker with `prefect worker start --pool {pool}`", highlight=False)


@commands.command("serve")
def serve_command(
    sources: SourcesOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Runs at once at most (default: no limit).")] = None,
) -> None:
    """Serve every source's deployment from this process: scheduled runs, UI and API runs execute here.

    No work pool or worker needed; stop with Ctrl-C (the schedules are paused until served again). Needs a Prefect server that stays up (PREFECT_API_URL)."""
    _path, parsed = _load(sources)
    try:
        serve(parsed, limit=limit)
    except OpsError as exc:
        _fail(str(exc))


@commands.command("backfill")
def backfill_command(
    source: Annotated[str, typer.Option("--source", help="The source's name in the sources file.")],
    since: Annotated[str, typer.Option("--since", metavar="DATE", help="First day (YYYY-MM-DD) or instant (ISO date-time, UTC).")],
    until: Annotated[str, typer.Option("--until", metavar="DATE", help="Last day, inclusive (or an instant, exclusive).")],
    every: Annotated[str, typer.Option("--every", metavar="DURATION", help="Window length: 1d, 7d, 6h, 1w, ...")] = "1d",
    sources: SourcesOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the windows and their run names; create nothing.")] = False,
    local: Annotated[bool, typer.Option("--local", help="Run the windows one after the other in this process (no server or worker needed).")] = False,
) -> None:
    """Split SINCE..UNTIL into windows and create one flow run per window on the Prefect server.

    Each run is named <source>-<start>..<end>, tagged backfill, source:<name> and window:<start>..<end>, and gets the window as since/until (sitemap and feed sources); workers run them, and the UI can cancel or retry them. A window that already has a run that did not fail is skipped, so the same backfill twice creates nothing new (and a re-run window writes nothing new: unchanged records are not rewritten)."""
    _path, parsed = _load(sources)
    out = Console()
    if not dry_run:
        try:
            kind = parsed.get(source).kind
        except KeyError as exc:
            _fail(str(exc.args[0]))
        if kind not in DATED_KINDS:
            _err.print(
                f"note: {source!r} is a {kind} source: its pages carry no dates, so every window reads the same pages "
                "(re-runs are unchanged, not rewritten)", highlight=False,
            )

    def report(window: Window, what: str) -> None:
        out.print(f"{window.run_name(source)}: {what}", highlight=False, markup=False)

    try:
        result = backfill(parsed, source, since, until, every, dry_run=dry_run, local=local, on_window=report)
    except OpsError as exc:
        _fail(str(exc))
    if dry_run:
        table = Table(title=f"{len(result.windows)} windows of {source}", show_header=True)
        for column in ("run name", "since", "until"):
            table.add_column(column)
        for window in result.windows:
            table.add_row(window.run_name(source), window.since, window.until)
        out.print(table)
        return
    what = "ran" if local else "created"
    out.print(
        f"{_n(len(result.created), 'run')} {what}, {_n(len(result.skipped), 'window')} skipped (a run exists)", highlight=False
    )
    if local:
        from pagescrub.flows.observe import print_report

        totals: dict[str, int] = {"pages": 0, "written": 0, "unchanged": 0, "failed": 0}
        for summary in result.summaries.values():
            for key in totals:
                totals[key] += summary["counts"][key]
            print_report(summary, out)
        out.print(
            f"all windows: {totals['pages']} pages, {totals['written']} written, {totals['unchanged']} unchanged, "
            f"{totals['failed']} failed", highlight=False,
        )
        if any(state != "COMPLETED" for state in result.states.values()):
            raise typer.Exit(code=1)


@commands.command("runs")
def runs_command(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help="How many runs, newest first.")] = 20,
    source: Annotated[str | None, typer.Option("--source", help="Only the runs of this source.")] = None,
) -> None:
    """Recent flow runs on the Prefect server: state, name and counts (from their scrape-summary artifact)."""
    try:
        found = recent_runs(limit, source)
    except OpsError as exc:
        _fail(str(exc))
    table = Table(title="recent runs", show_header=True, box=None, pad_edge=False, padding=(0, 1), header_style="bold underline")
    for column in ("start (UTC)", "name", "state", "pages", "written", "unchanged", "failed"):
        numeric = column in ("pages", "written", "unchanged", "failed")
        table.add_column(
            column, justify="right" if numeric else "left", overflow="fold", no_wrap=column in ("start (UTC)", "state"),
            min_width=20 if column == "name" else None,
        )
    for run in found:
        start = run["start"]
        table.add_row(
            start.strftime("%m-%d %H:%M") if start else "",
            run["name"],
            run["state"],
            *("" if run[k] is None else str(run[k]) for k in ("pages", "written", "unchanged", "failed")),
        )
    Console().print(table)
