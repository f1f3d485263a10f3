"""Operating it against a real Prefect server: deploy, serve, run through the API, backfill, list runs.

The server is the session's (``prefect_test_harness``: a real server process on 127.0.0.1 with a
temporary database). Schedules never fire there (no scheduler service), so runs are started
through the API, as the UI or ``run_deployment`` would.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pagescrub.flows import ops

from .conftest import SEEDS
from .sitesim import Page, SiteSim, article_html

pytestmark = pytest.mark.prefect

EXE = str(Path(sys.executable).with_name("pagescrub"))


def _flow() -> Any:
    from pagescrub.flows.scrape import scrape

    return scrape


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


async def _runs(**filters: Any) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
    from prefect.client.schemas.sorting import FlowRunSort

    async with get_client() as client:
        return await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=filters["tags"])), sort=FlowRunSort.NAME_ASC, limit=100
        )


def _wait_for_deployment(name: str, timeout: float = 60) -> None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            try:
                client.read_deployment_by_name(name)
                return
            except ObjectNotFound:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)


def test_served_deployment_runs_from_the_api_and_publishes_its_artifacts(prefect_api_url: str, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    pages = tmp_path / "pages"
    shutil.copytree(SEEDS, pages, ignore=shutil.ignore_patterns("*.json"))
    (pages / "empty.html").write_bytes(b"")
    (pages / "image.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    out = tmp_path / "out"
    sources = _write(
        tmp_path / "sources.yaml",
        f"sources:\n  - name: served-seeds\n    kind: saved\n    paths: [{pages}]\n    out: {out}\n"
        "    schedule: {interval: 1d, active: false}\n    tags: [test]\n",
    )
    flow = _flow()
    stop = threading.Event()
    server = threading.Thread(target=ops.serve, args=(sources,), kwargs={"flow": flow, "stop": stop, "poll_seconds": 1}, daemon=True)
    server.start()
    try:
        _wait_for_deployment(f"{flow.name}/served-seeds")
        run = run_deployment(f"{flow.name}/served-seeds", timeout=180, poll_interval=1)
    finally:
        stop.set()
        server.join(timeout=60)
    assert run.state is not None and run.state.is_completed(), run.state
    assert run.name.startswith("served-seeds/")  # <source>/<window>: here the time it was scheduled for
    assert {"source:served-seeds", "kind:saved", "test"} <= set(run.tags)

    async def artifacts() -> dict[str, Any]:
        async with get_client() as client:
            found = await ops.read_run_artifacts(client, [run.id])
        latest: dict[str, Any] = {}
        for artifact in found:  # newest first
            latest.setdefault(artifact.key, artifact)
        return latest

    by_key = asyncio.run(artifacts())
    assert {"scrape-progress", "scrape-hosts", "scrape-failures", "scrape-summary"} <= set(by_key)
    assert by_key["scrape-progress"].data == 100
    (hosts,) = json.loads(by_key["scrape-hosts"].data)
    assert hosts == {"host": "(saved files)", "pages": 7, "fetched": 0, "written": 5, "unchanged": 0, "failed": 2}
    failures = by_key["scrape-failures"].data
    assert "### 2 pages gave no record" in failures
    assert "empty input" in failures and "binary content (png)" in failures
    stored = sorted((out / "failed").rglob("*.json"))
    assert f"stored under `{out}`" in failures
    assert len(stored) == 2 and all(f"`{path.relative_to(out)}`" in failures for path in stored)  # each failed/ record
    summary = {row["measure"]: row["value"] for row in json.loads(by_key["scrape-summary"].data)}
    assert (summary["pages"], summary["written"], summary["failed"]) == (7, 5, 2)
    assert len(list((out / "articles").rglob("*.json"))) == 5

    (listed,) = ops.recent_runs(10, source="served-seeds")
    assert (listed["name"], listed["state"], listed["pages"], listed["written"], listed["failed"]) == (run.name, "Completed", 7, 5, 2)
    assert not server.is_alive()


def test_backfill_creates_one_named_tagged_run_per_window_once(prefect_api_url: str, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.states import Failed

    sources = _write(
        tmp_path / "sources.yaml",
        f"sources:\n  - name: bf-news\n    kind: sitemap\n    sitemaps: [https://news.example/sitemap.xml]\n    out: {tmp_path / 'out'}\n",
    )
    deployed = ops.deploy(sources, pool="pagescrub-test", flow=_flow())
    assert [name for name, _ in deployed] == [f"{_flow().name}/bf-news"]

    first = ops.backfill(sources, "bf-news", "2022-02-01", "2022-02-03", "1d", flow=_flow())
    names = [f"bf-news-2022-02-0{d}..2022-02-0{d}" for d in (1, 2, 3)]
    assert first.created == names and not first.skipped
    runs = asyncio.run(_runs(tags=["backfill", "source:bf-news"]))
    assert [r.name for r in runs] == names
    for day, r in enumerate(runs, 1):
        assert {"backfill", "source:bf-news", "kind:sitemap", f"window:2022-02-0{day}..2022-02-0{day}"} <= set(r.tags)
        assert r.parameters["since"] == r.parameters["until"] == f"2022-02-0{day}"
        assert r.parameters["sitemaps"] == ["https://news.example/sitemap.xml"]  # the deployment's, merged
        assert r.state_type.value == "SCHEDULED"

    again = ops.backfill(sources, "bf-news", "2022-02-01", "2022-02-03", "1d", flow=_flow())
    assert again.created == [] and sorted(again.skipped) == names
    assert len(asyncio.run(_runs(tags=["backfill", "source:bf-news"]))) == 3

    async def fail(run_id: Any) -> None:
        async with get_client() as client:
            await client.set_flow_run_state(run_id, Failed(message="worker lost"), force=True)

    asyncio.run(fail(runs[1].id))  # a failed window is made again, the others not
    retry = ops.backfill(sources, "bf-news", "2022-02-01", "2022-02-04", "1d", flow=_flow())
    assert retry.created == [names[1], "bf-news-2022-02-04..2022-02-04"]
    assert len(asyncio.run(_runs(tags=["backfill", "source:bf-news"]))) == 5


def test_local_backfill_twice_writes_nothing_new(prefect_api_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with SiteSim(latency=0.0) as sim:
        site = sim.site("news")
        site.add("/robots.txt", Page(b"User-agent: *\nAllow: /\n", "text/plain", validators=False))
        dated = [(site.add(f"/story/{d}", article_html(f"Story of February {d}")), f"2022-02-0{d}") for d in (1, 2, 3, 4, 5)]
        items = "".join(f"<url><loc>{u}</loc><lastmod>{d}</lastmod></url>" for u, d in dated)
        site.add("/sitemap.xml", Page(
            f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</urlset>'.encode(),
            "application/xml", validators=False,
        ))
        out = tmp_path / "out"
        sources = _write(
            tmp_path / "sources.yaml",
            f"sources:\n  - name: local-news\n    kind: sitemap\n    sitemaps: [{site.url('/sitemap.xml')}]\n    out: {out}\n"
            "    politeness: {per_host_delay: 0, allow_private_addresses: true, retries: 0, timeout: 5}\n",
        )
        first = ops.backfill(sources, "local-news", "2022-02-01", "2022-02-04", "2d", local=True, flow=_flow())
        assert first.created == ["local-news-2022-02-01..2022-02-02", "local-news-2022-02-03..2022-02-04"]
        assert set(first.states.values()) == {"COMPLETED"}
        assert [s["counts"]["written"] for s in first.summaries.values()] == [2, 2]  # its window's stories each
        records = {p: p.stat().st_mtime_ns for p in (out / "articles").rglob("*.json")}
        assert len(records) == 4  # not the 5th day's

        second = ops.backfill(sources, "local-news", "2022-02-01", "2022-02-04", "2d", local=True, flow=_flow())
        assert [s["counts"]["written"] for s in second.summaries.values()] == [0, 0]
        assert sum(s["counts"]["unchanged"] for s in second.summaries.values()) == 4
        assert {p: p.stat().st_mtime_ns for p in (out / "articles").rglob("*.json")} == records
    local_runs = asyncio.run(_runs(tags=["backfill", "source:local-news"]))
    assert sorted(r.name for r in local_runs) == sorted(first.created * 2)


def test_cli_commands_have_help_and_report_mistakes(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pagescrub.flows.cli import app

    cli = CliRunner()
    for command in ("deploy", "serve", "backfill", "runs"):
        shown = cli.invoke(app, [command, "--help"])
        assert shown.exit_code == 0 and "Usage" in shown.output, shown.output
    bad = _write(tmp_path / "sources.yaml", "sources:\n  - name: x\n    kind: feed\n    feeds: [https://a.example/rss]\n    out: /tmp/o\n    schedule: {every: 1d}\n")
    # The console script itself, once: the error names the file, line and field, exit code 2.
    result = subprocess.run(
        [EXE, "backfill", "--source", "x", "--since", "2022-02-01", "--until", "2022-02-02", "--dry-run", "--sources", str(bad)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert f"{bad}:6:" in result.stderr.replace("\n", "") and "schedule.every" in result.stderr.replace("\n", "")
    good = _write(tmp_path / "good.yaml", "sources:\n  - {name: x, kind: feed, feeds: [https://a.example/rss], out: /tmp/o}\n")
    listed = cli.invoke(app, ["backfill", "--source", "x", "--since", "2022-02-01", "--until", "2022-02-03", "--every", "2d", "--dry-run", "-s", str(good)])
    assert listed.exit_code == 0, listed.output
    assert "x-2022-02-01..2022-02-02" in listed.output and "x-2022-02-03..2022-02-03" in listed.output
    unknown = cli.invoke(app, ["backfill", "--source", "y", "--since", "2022-02-01", "--until", "2022-02-03", "-s", str(good)])
    assert unknown.exit_code == 2


def test_commands_that_need_a_server_say_so() -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(restore_defaults={PREFECT_API_URL}), pytest.raises(ops.OpsError, match="no Prefect server configured"):
        ops.recent_runs()


def test_windows() -> None:
    days = ops.windows("2022-02-01", "2022-02-28", "7d")
    assert [(w.since, w.until) for w in days] == [
        ("2022-02-01", "2022-02-07"), ("2022-02-08", "2022-02-14"), ("2022-02-15", "2022-02-21"), ("2022-02-22", "2022-02-28")
    ]
    hours = ops.windows("2022-02-01", "2022-02-01", "6h")
    assert len(hours) == 4 and hours[1].label == "2022-02-01T06:00Z..2022-02-01T12:00Z"
    assert hours[1].since == "2022-02-01T06:00:00+00:00" and hours[1].until == "2022-02-01T12:00:00+00:00"
    with pytest.raises(ops.OpsError, match="before"):
        ops.windows("2022-02-02", "2022-02-01")
    with pytest.raises(ops.OpsError, match="more than"):
        ops.windows("2000-01-01", "2022-01-01", "1d")


def test_infra_files() -> None:
    """The deployment, compose and Docker files parse, and say what the code expects (no Docker engine here)."""
    import ast

    import yaml

    from pagescrub.flows.scrape import scrape
    from pagescrub.tasks.sources import load_sources

    root = Path(__file__).resolve().parent.parent
    infra = root / "infra"
    project = yaml.safe_load((infra / "prefect.yaml").read_text(encoding="utf-8"))
    example = load_sources(root / "examples" / "sources.yaml")
    deployments = project["deployments"]
    assert [d["name"] for d in deployments] == [s.name for s in example.sources]
    for d in deployments:
        path, _, name = d["entrypoint"].partition(":")
        module = ast.parse((root / path).read_text(encoding="utf-8"))
        flows = {
            f.name for f in module.body
            if isinstance(f, ast.FunctionDef) and any("flow" in ast.unparse(dec) for dec in f.decorator_list)
        }
        assert name in flows, d["entrypoint"]
        assert d["work_pool"]["name"] == ops.DEFAULT_POOL
        source = example.get(d["name"])
        assert set(d["parameters"]) == set(ops.flow_parameters(scrape, source)) | {"failure_threshold"}
        assert {f"source:{source.name}", f"kind:{source.kind}"} <= set(d["tags"])
        (schedule,) = d["schedules"]
        assert schedule.get("cron") == source.schedule.cron and schedule["active"] is False
    compose = yaml.safe_load((infra / "compose.yaml").read_text(encoding="utf-8"))
    assert {"postgres", "prefect-server", "minio", "minio-setup", "worker"} <= set(compose["services"])
    worker = compose["services"]["worker"]
    assert (infra / worker["build"]["context"] / worker["build"]["dockerfile"]).resolve() == infra / "Dockerfile"
    assert "infra/sources.yaml" in " ".join(worker["command"])
    assert "postgresql+asyncpg://" in compose["services"]["prefect-server"]["environment"]["PREFECT_API_DATABASE_CONNECTION_URL"]
    assert {s.name for s in load_sources(infra / "sources.yaml").sources} == {"news-sitemaps", "world-feed", "daily-drop"}
    dockerfile = (infra / "Dockerfile").read_text(encoding="utf-8")
    steps = [line for line in dockerfile.splitlines() if line and not line.startswith("#")]
    assert steps[0] == "FROM python:3.11-slim"
    upgrade = next(i for i, line in enumerate(steps) if "pip install --upgrade pip" in line)
    install = next(i for i, line in enumerate(steps) if 'pip install ".' in line)
    assert upgrade < install  # pip 23.x cannot resolve lxml[html-clean]
    for copied in ("pyproject.toml", "pagescrub", "flows", "tasks", "infra/prefect.yaml", "infra/sources.yaml", "examples"):
        assert (root / copied).exists(), copied
