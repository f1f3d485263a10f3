#!/usr/bin/env python3
"""End-to-end throughput of ``pagescrub run --urls`` against local simulated sites, host delays set to 0.

Unlike ``benchmarks/fetch.py`` (the Fetcher alone), this runs the real console
script: discovery, fetching, cleaning in batch task runs, raw snapshots, records,
the manifest and the state objects, on a real Prefect server. The sites
(tests/sitesim.py) run in a child process on 127.0.0.1; nothing leaves the machine.

Each setting is run twice into a fresh output folder: the first run fetches and
cleans every page, the second sends conditional requests and gets 304s (no
extraction). Printed per run: the fetch rate the flow measured (pages fetched
per second while fetching, cleaning overlapping), the flow's end-to-end rate
(pages per second of flow wall time) and the command's wall time (which adds
Python and Prefect start-up).

Usage (from the repository root)::

    python benchmarks/fetch_e2e.py [--pages 400] [--hosts 4] [--page-kb 20] [--latency 0.0] \\
        [--settings 2x16,8x32] [--workers 2] [--json out.json]

A setting ``PxG`` means ``--per-host-concurrency P --global-concurrency G``.
Uses ``PREFECT_API_URL`` when set; otherwise starts one temporary Prefect server
for all the runs.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.sitesim and benchmarks.fetch

from benchmarks.fetch import _serve  # noqa: E402

EXE = str(Path(sys.executable).with_name("pagescrub"))


def _run(urls_file: Path, out: Path, per_host: int, global_: int, workers: int, env: dict[str, str]) -> dict:
    args = [
        EXE, "run", "--urls", str(urls_file), "--out", str(out), "--no-progress", "--batch-tasks",
        "--per-host-delay", "0", "--per-host-concurrency", str(per_host), "--global-concurrency", str(global_),
        "--workers", str(workers), "--allow-private-addresses",
    ]
    before = set((out / "runs").glob("*.json")) if (out / "runs").exists() else set()
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, check=False, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-3000:])
        raise SystemExit(f"pagescrub run failed with exit code {done.returncode}")
    (manifest,) = set((out / "runs").glob("*.json")) - before
    summary = json.loads(manifest.read_text(encoding="utf-8"))
    summary.pop("pages", None)
    summary["command_seconds"] = wall
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--pages", type=int, default=400, help="pages per run (default 400)")
    parser.add_argument("--hosts", type=int, default=4, help="simulated sites, each its own port (default 4)")
    parser.add_argument("--page-kb", type=int, default=20, help="approximate page size in KiB (default 20)")
    parser.add_argument("--latency", type=float, default=0.0, help="server think time per request in seconds (default 0)")
    parser.add_argument("--settings", default="2x16,8x32", help="per-host x global concurrency list (default 2x16,8x32)")
    parser.add_argument("--workers", type=int, default=2, help="task runner workers (cleaning) (default 2)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    settings = [tuple(int(n) for n in item.strip().split("x")) for item in args.settings.split(",")]

    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(child, args.hosts, args.pages, args.page_kb, args.latency), daemon=True)
    server.start()
    rows = []
    try:
        with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="pagescrub-bench-") as tmp:
            if "PREFECT_API_URL" not in env:
                os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
                from prefect.settings import PREFECT_API_URL
                from prefect.testing.utilities import prefect_test_harness

                stack.enter_context(prefect_test_harness(server_startup_timeout=60))
                env["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
            env["PREFECT_HOME"] = str(Path(tmp) / "prefect-home")
            urls = parent.recv()
            urls_file = Path(tmp) / "urls.txt"
            urls_file.write_text("\n".join(urls) + "\n", encoding="utf-8")
            print(
                f"pagescrub run --urls: {len(urls)} pages (~{args.page_kb} KiB) over {args.hosts} hosts, server latency "
                f"{args.latency * 1000:.0f} ms, host delay 0, {args.workers} workers, Python {platform.python_version()}, "
                f"{os.cpu_count()} CPUs"
            )
            print(f"{'per-host x global':>18} {'run':>7} {'fetch pages/s':>14} {'flow pages/s':>13} {'flow s':>7} {'command s':>10} {'ok':>5} {'304':>5}")
            for per_host, global_ in settings:
                out = Path(tmp) / f"out-{per_host}x{global_}"
                for run in ("first", "second"):
                    s = _run(urls_file, out, per_host, global_, args.workers, env)
                    f = s["fetch"]
                    row = {
                        "per_host": per_host, "global": global_, "run": run,
                        "fetch_pages_per_second": f["pages_per_second"], "fetch_seconds": f["seconds"],
                        "flow_pages_per_second": s["timings"]["pages_per_second"], "flow_seconds": s["timings"]["wall_seconds"],
                        "command_seconds": round(s["command_seconds"], 2), "ok": f["ok"], "not_modified": f["not_modified"],
                        "failed": f["failed"],
                    }
                    rows.append(row)
                    print(
                        f"{f'{per_host} x {global_}':>18} {run:>7} {f['pages_per_second']:14.1f} "
                        f"{s['timings']['pages_per_second']:13.1f} {s['timings']['wall_seconds']:7.2f} "
                        f"{s['command_seconds']:10.2f} {f['ok']:5d} {f['not_modified']:5d}"
                    )
        parent.send("stop")
        print(f"server saw {parent.recv()} requests")
    finally:
        server.join(timeout=5)
        if server.is_alive():
            server.terminate()
    if args.json:
        args.json.write_text(json.dumps({"pages": args.pages, "hosts": args.hosts, "page_kb": args.page_kb, "rows": rows}, indent=2))
    expected = {"first": ("ok", args.pages), "second": ("not_modified", args.pages)}
    return 0 if all(r[expected[r["run"]][0]] == expected[r["run"]][1] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
