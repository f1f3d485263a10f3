#!/usr/bin/env python3
"""Fetch throughput against local simulated sites (tests/sitesim.py), host delays set to 0.

The sites run in a child process (so the server's threads do not share the
fetcher's GIL) on 127.0.0.1; nothing leaves the machine. For each concurrency
setting a fresh ``Fetcher`` fetches every page once (robots.txt obeyed: one
extra request per host) and the pages per second are printed.

Usage (from the repository root)::

    python benchmarks/fetch.py [--pages 500] [--hosts 4] [--page-kb 40] [--latency 0.0] \\
        [--settings 1x4,2x8,4x16,8x32] [--repeat 1] [--json out.json]

A setting ``PxG`` means ``per_host_concurrency=P``, ``global_concurrency=G``.
``--latency`` makes every response wait that long on the server, like a real site.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.sitesim

from pagescrub.tasks.fetch import FetchConfig, Fetcher

_PARAGRAPH_BYTES = 190  # about one article_html paragraph


def _serve(conn, hosts: int, pages: int, page_kb: int, latency: float) -> None:
    """Child process: start the sites, report their URLs, serve until told to stop."""
    from tests.sitesim import Page, SiteSim, article_html

    paragraphs = max(1, page_kb * 1024 // _PARAGRAPH_BYTES)
    with SiteSim(latency=latency) as sim:
        urls = []
        for h in range(hosts):
            site = sim.site(f"site{h}")
            site.add("/robots.txt", Page(b"User-agent: *\nDisallow: /private/\n", "text/plain", validators=False))
        for i in range(pages):
            site = sim.sites[f"site{i % hosts}"]
            urls.append(site.add(f"/article/{i}", article_html(f"Article {i}", paragraphs)))
        conn.send(urls)
        conn.recv()  # stop
        conn.send(len(sim.log))


async def _run(urls: list[str], per_host: int, global_: int) -> tuple[float, int, list[float]]:
    cfg = FetchConfig(
        per_host_delay=0.0,
        per_host_concurrency=per_host,
        global_concurrency=global_,
        allow_private_addresses=True,  # the sites are on 127.0.0.1
    )
    ok = 0
    latencies = []
    started = time.perf_counter()
    async with Fetcher(cfg) as fetcher:
        async for result in fetcher.fetch_many(urls):
            ok += result.ok
            latencies.append(result.elapsed)
    return time.perf_counter() - started, ok, latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--pages", type=int, default=500, help="pages fetched per setting (default 500)")
    parser.add_argument("--hosts", type=int, default=4, help="simulated sites, each its own port (default 4)")
    parser.add_argument("--page-kb", type=int, default=40, help="approximate page size in KiB (default 40)")
    parser.add_argument("--latency", type=float, default=0.0, help="server think time per request in seconds (default 0)")
    parser.add_argument("--settings", default="1x4,2x8,4x16,8x32", help="per-host x global concurrency list (default 1x4,2x8,4x16,8x32)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per setting; the best is reported (default 1)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    settings = []
    for item in args.settings.split(","):
        per_host, _, global_ = item.strip().partition("x")
        settings.append((int(per_host), int(global_)))

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(child, args.hosts, args.pages, args.page_kb, args.latency), daemon=True)
    server.start()
    try:
        urls = parent.recv()
        print(
            f"{args.pages} pages (~{args.page_kb} KiB) over {args.hosts} hosts, server latency {args.latency * 1000:.0f} ms, "
            f"host delay 0, Python {platform.python_version()}, {os.cpu_count()} CPUs"
        )
        print(f"{'per-host x global':>18} {'seconds':>8} {'pages/s':>8} {'ok':>5} {'p50 ms':>7} {'p95 ms':>7}")
        rows = []
        for per_host, global_ in settings:
            best = None
            for _ in range(args.repeat):
                seconds, ok, latencies = asyncio.run(_run(urls, per_host, global_))
                if best is None or seconds < best[0]:
                    best = (seconds, ok, latencies)
            seconds, ok, latencies = best
            latencies.sort()
            p50 = statistics.median(latencies) * 1000
            p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000
            rows.append({"per_host": per_host, "global": global_, "seconds": seconds, "pages_per_second": len(urls) / seconds, "ok": ok, "p50_ms": p50, "p95_ms": p95})
            print(f"{f'{per_host} x {global_}':>18} {seconds:8.2f} {len(urls) / seconds:8.1f} {ok:5d} {p50:7.1f} {p95:7.1f}")
        parent.send("stop")
        served = parent.recv()
        print(f"server saw {served} requests")
        if args.json:
            args.json.write_text(json.dumps({"pages": args.pages, "hosts": args.hosts, "page_kb": args.page_kb, "latency": args.latency, "rows": rows}, indent=2))
        return 0 if all(r["ok"] == len(urls) for r in rows) else 1
    finally:
        server.join(timeout=5)
        if server.is_alive():
            server.terminate()


if __name__ == "__main__":
    sys.exit(main())
