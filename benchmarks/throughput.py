#!/usr/bin/env python3
"""Throughput benchmark: pagescrub against trafilatura per core, end to end, orchestration cost, memory.

Prints one table, every figure measured in this run:

* per core -- pagescrub's whole extraction path (``extract_article``: decoding,
  chrome stripping, metadata, language) and trafilatura's
  ``extract(html, with_metadata=True)`` in one process, on the same WCXB pages,
  interleaved page by page (the order alternates), so that load from other
  processes falls on both alike. Pages/s is pages over the summed wall time of
  the calls; the CPU-time figure (``thread_time``) is steadier on a shared
  machine and is shown beside it. Each system first extracts ``--warmup``
  pages untimed (imports, caches), and dateparser (which both reach through
  htmldate) compiles its patterns for every language once, untimed.
* end to end -- the real command, ``pagescrub run IN --out OUT`` (a fresh
  output folder; Prefect, the writes, the manifest and, unless
  ``PREFECT_API_URL`` is set, the temporary Prefect server's start included),
  in a subprocess, over ``--e2e-pages`` pages made by repeating the WCXB pages
  under new names (symlinks in a temporary folder). Its pages/s is compared
  with trafilatura's single-process pages/s from the per-core measurement.
* Prefect's share -- the same pages through the same functions, pool and
  writer without Prefect (``scrape_without_prefect``, no flow or task runs),
  also a subprocess: share = 1 - without / with. With ``--share-pairs K``, K
  pairs in ABBA order (with-without, without-with, ...) and their median: on a
  machine whose speed drifts between runs, one pair is not enough.
* memory -- peak of the summed RSS of the command's whole process tree
  (workers and the temporary Prefect server included), sampled every
  ``--sample`` seconds, for each ``--rss-pages`` count; also without the
  server, and the summed PSS (shared pages divided among the processes that
  map them). The first count's run is the end-to-end run when the counts match.

Usage (from the repository root, with the ``bench`` extra installed)::

    python benchmarks/throughput.py --wcxb /work/shared/data/wcxb-dev
    python benchmarks/throughput.py --wcxb DIR --pages 100 --e2e-pages 500 --rss-pages 500,2000   # quick

The corpus is read in place and never copied. WCXB: Web Content Extraction
Benchmark, Murrough Foley 2026, CC-BY-4.0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gzip
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CREDITS = "Corpus: WCXB (Web Content Extraction Benchmark), Murrough Foley 2026, CC-BY-4.0."
TARGETS = {"per_core": 2.0, "e2e": 3.0, "prefect_share": 0.10, "rss_ratio": 1.2, "rss_mb": 600}


# ----------------------------------------------------------------------------- pages


def wcxb_pages(root: Path, limit: int | None = None) -> list[Path]:
    pages = sorted((root / "html").glob("*.html.gz"))
    if not pages:
        raise SystemExit(f"--wcxb {root}: no html/*.html.gz")
    return pages[:limit] if limit else pages


def make_inputs(pages: Sequence[Path], n: int, dest: Path) -> Path:
    """``n`` inputs under ``dest``: the corpus pages again and again, each copy under a new name (symlinks)."""
    dest.mkdir(parents=True, exist_ok=True)
    per = len(pages)
    for i in range(n):
        folder = dest / f"copy{i // per:04d}"
        if i % per == 0:
            folder.mkdir(exist_ok=True)
        src = pages[i % per]
        os.symlink(src.resolve(), folder / f"c{i // per:04d}-{src.name}")
    return dest


# -------------------------------------------------------------------------- per core


@dataclass
class Timing:
    wall: float = 0.0
    cpu: float = 0.0
    pages: int = 0
    errors: int = 0

    def rate(self, cpu: bool = False) -> float:
        seconds = self.cpu if cpu else self.wall
        return self.pages / seconds if seconds > 0 else 0.0


def _systems() -> dict[str, Callable[[bytes], Any]]:
    from benchmarks.quality import decode_html
    from pagescrub.tasks.extract import ExtractionError, extract_article

    try:
        import trafilatura
    except ImportError:
        raise SystemExit("trafilatura is not installed: pip install -e '.[bench]'") from None

    def pagescrub(data: bytes) -> Any:
        try:
            return extract_article(data)
        except ExtractionError:
            return None  # a page judged not an article still cost its full extraction

    def trafilatura_(data: bytes) -> Any:
        # As benchmarks/quality.py: trafilatura gets the bytes decoded by the same function, timed.
        return trafilatura.extract(decode_html(data), with_metadata=True)

    return {"pagescrub": pagescrub, "trafilatura": trafilatura_}


def per_core(paths: Sequence[Path], rounds: int, warmup: int, quiet: bool) -> list[dict[str, Timing]]:
    systems = _systems()
    datas = [gzip.decompress(p.read_bytes()) for p in paths]
    # The cleaning workers' warm-up, and dateparser's patterns for every language, which trafilatura
    # reaches through htmldate on its first date in no known language (2-3 s, once per process;
    # pagescrub asks for the page's language only): charged to neither.
    from htmldate.extractors import get_external_parser

    from pagescrub.tasks.batch import warm_up

    warm_up()
    get_external_parser().get_date_data("qzxv 12 brrk")
    for data in datas[-warmup:] if warmup else []:
        for fn in systems.values():
            fn(data)
    out = []
    names = list(systems)
    for r in range(rounds):
        timings = {name: Timing() for name in names}
        for i, data in enumerate(datas):
            for name in names if (i + r) % 2 == 0 else reversed(names):
                cpu0, wall0 = time.thread_time(), time.perf_counter()
                try:
                    systems[name](data)
                except Exception:  # noqa: BLE001 - counted, and timed like any page
                    timings[name].errors += 1
                t = timings[name]
                t.wall += time.perf_counter() - wall0
                t.cpu += time.thread_time() - cpu0
                t.pages += 1
            if not quiet and (i + 1) % 100 == 0:
                print(f"  per core, round {r + 1}: {i + 1}/{len(datas)} pages", file=sys.stderr)
        out.append(timings)
    return out


# --------------------------------------------------------------------- process trees


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        kids.setdefault(ppid, []).append(int(name))
    return kids


def _tree(root: int) -> list[int]:
    kids = _children()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, ()))
    return out


def _kb(path: str, key: str) -> int:
    try:
        with open(path, encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _is_server(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmd = fh.read()
    except OSError:
        return False
    return b"uvicorn" in cmd and b"prefect" in cmd


@dataclass
class Peak:
    rss: int = 0  # bytes, summed over the tree
    rss_no_server: int = 0
    pss: int = 0
    pss_no_server: int = 0
    processes: int = 0
    samples: int = 0
    detail: dict[int, int] = field(default_factory=dict)
    servers: set[int] = field(default_factory=set)  # seen while alive: /proc says nothing after the run


class TreeSampler(threading.Thread):
    """Peak summed RSS (and PSS) of a process and all its descendants, sampled."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = Peak()
        self.cpu_ticks: dict[int, int] = {}
        """Last seen user + system clock ticks of each process of the tree (its own, not its children's)."""
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def sample(self) -> None:
        pids = _tree(self.pid)
        for pid in pids:
            ticks = _cpu_ticks(pid)
            if ticks is not None:
                self.cpu_ticks[pid] = ticks
        rss = {pid: _kb(f"/proc/{pid}/status", "VmRSS:") * 1024 for pid in pids}
        pss = {pid: _kb(f"/proc/{pid}/smaps_rollup", "Pss:") * 1024 for pid in pids}
        total = sum(rss.values())
        p = self.peak
        p.samples += 1
        p.servers.update(pid for pid in pids if pid not in p.servers and _is_server(pid))
        if total > p.rss:
            p.rss, p.processes, p.detail = total, len(pids), rss
        p.rss_no_server = max(p.rss_no_server, sum(v for pid, v in rss.items() if pid not in p.servers))
        p.pss = max(p.pss, sum(pss.values()))
        p.pss_no_server = max(p.pss_no_server, sum(v for pid, v in pss.items() if pid not in p.servers))

    def stop(self) -> Peak:
        self._halt.set()
        self.join()
        return self.peak

    def cpu_seconds(self) -> float:
        return sum(self.cpu_ticks.values()) / os.sysconf("SC_CLK_TCK")

    def server_cpu_seconds(self) -> float:
        """CPU of the temporary Prefect server's processes: Prefect's cost measured in one run, not as the
        difference of two runs (which this machine's drifting speed can swing by 10 % either way)."""
        return sum(t for pid, t in self.cpu_ticks.items() if pid in self.peak.servers) / os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime, stime


@dataclass
class Run:
    pages: int
    wall: float
    cpu: float  # user + system seconds of the whole process tree
    server_cpu: float  # of which the temporary Prefect server's processes
    flow_wall: float | None
    peak: Peak
    returncode: int
    log: Path


def run_measured(cmd: list[str], out: Path, log: Path, interval: float, env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` (which writes a run manifest under ``out/runs/``), sampling its process tree."""
    with open(log, "wb") as fh:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
        sampler = TreeSampler(proc.pid, interval)
        sampler.start()
        code = proc.wait()
        wall = time.perf_counter() - started
        peak = sampler.stop()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The children's usage counts the processes their parents waited for (the CLI, the temporary
    # server), not the cleaning workers, whose forkserver is never waited for; the sampled usage counts
    # every process seen, but not its last sampling interval. Both fall short: the larger is the closer.
    waited = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cpu = max(waited, sampler.cpu_seconds())
    manifests = sorted((out / "runs").glob("*.json"))
    pages, flow_wall = 0, None
    if manifests:
        summary = _head(manifests[-1])
        pages = summary["counts"]["pages"]
        flow_wall = summary["timings"]["wall_seconds"]
    return Run(pages, wall, cpu, sampler.server_cpu_seconds(), flow_wall, peak, code, log)


def _head(manifest: Path) -> dict[str, Any]:
    """The run summary of a manifest, without reading its per-page list into memory twice."""
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data.pop("pages", None)
    return data


def _batch_option(batch_size: int | None) -> list[str]:
    return [] if batch_size is None else ["--batch-size", str(batch_size)]


def cli_run(inputs: Path, out: Path, workers: int, batch_size: int | None, log: Path, interval: float) -> Run:
    exe = Path(sys.executable).with_name("pagescrub")
    cmd = [str(exe) if exe.exists() else "pagescrub", "run", str(inputs), "--out", str(out), "--no-progress",
           "--allow-failures", "--workers", str(workers), *_batch_option(batch_size)]
    return run_measured(cmd, out, log, interval)


def plain_run(inputs: Path, out: Path, workers: int, batch_size: int | None, log: Path, interval: float) -> Run:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--plain-run", str(inputs), "--out", str(out),
           "--workers", str(workers), *_batch_option(batch_size)]
    return run_measured(cmd, out, log, interval)


def _plain_main(inputs: str, out: str, workers: int, batch_size: int | None) -> int:
    try:
        from pagescrub.flows.scrape import scrape_without_prefect
    except ImportError:  # a version before it (for "before" figures): its flow's loop, in threads
        scrape_without_prefect = _threads_without_prefect
    if batch_size is None:  # what `pagescrub run` uses for saved pages
        from pagescrub.flows.scrape import DEFAULT_BATCH_SIZE

        batch_size = DEFAULT_BATCH_SIZE
    summary = scrape_without_prefect([inputs], out, processes=workers, batch_size=batch_size)
    print(json.dumps({"pages": summary["counts"]["pages"], "wall": summary["timings"]["wall_seconds"]}))
    return 0


def _threads_without_prefect(paths: list[str], out: str, *, processes: int, batch_size: int) -> dict[str, Any]:
    import concurrent.futures

    from pagescrub.flows.scrape import RunWriter, batched, resolve_store, run_id
    from pagescrub.tasks.batch_tasks import clean_batch
    from pagescrub.tasks.load import iter_inputs

    store = resolve_store(out)
    store.ensure()
    writer = RunWriter(store, run_id())
    with concurrent.futures.ThreadPoolExecutor(processes) as runner:
        in_flight: set[Any] = set()
        for index, batch in enumerate(batched(iter_inputs(paths), batch_size)):
            in_flight.add(runner.submit(clean_batch.fn, index, batch))
            while len(in_flight) >= 2 * processes:
                done = next(concurrent.futures.as_completed(in_flight))
                in_flight.discard(done)
                writer.write(done.result())
        for done in concurrent.futures.as_completed(in_flight):
            writer.write(done.result())
    return writer.close(batch_size=batch_size, inputs=paths)


# ---------------------------------------------------------------------------- output


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f}"


def _ok(passed: bool | None) -> str:
    return "—" if passed is None else ("yes" if passed else "NO")


def environment() -> dict[str, Any]:
    import importlib.metadata as md

    versions = {}
    for dist in ("pagescrub", "trafilatura", "prefect", "readability-lxml", "lxml", "htmldate"):
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            versions[dist] = None
    return {
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "versions": versions,
    }


def print_table(rows: list[list[str]], notes: list[str]) -> None:
    header = ["measure", "pagescrub", "trafilatura", "ratio / share", "target", "met"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |"  # noqa: E731
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
    for note in notes:
        print(note)


# ------------------------------------------------------------------------------ main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python benchmarks/throughput.py",
        description="Pages per second of pagescrub against trafilatura (per core and end to end), Prefect's share "
        "of a run, and peak memory of runs of two sizes; prints one table.",
        epilog=CREDITS,
    )
    p.add_argument("--wcxb", type=Path, metavar="DIR", help="WCXB corpus folder (DIR/html/*.html.gz)")
    p.add_argument("--pages", type=int, metavar="N", help="per core: the first N WCXB pages (default: all)")
    p.add_argument("--rounds", type=int, default=1, metavar="R", help="per core: passes over the pages (default 1)")
    p.add_argument("--warmup", type=int, default=20, metavar="N", help="per core: untimed pages first (default 20)")
    p.add_argument("--e2e-pages", type=int, default=5000, metavar="N", help="end to end and Prefect share: pages (default 5000)")
    p.add_argument("--share-pairs", type=int, default=1, metavar="K",
                   help="Prefect's share: pairs of runs with and without it, in ABBA order; the median is reported (default 1)")
    p.add_argument("--rss-pages", default="5000,50000", metavar="A,B", help="memory: the two run sizes (default 5000,50000)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N", help="--workers of the runs (default: CPUs)")
    p.add_argument("--batch-size", type=int, default=None, metavar="N", help="--batch-size of the runs (default: the CLI's)")
    p.add_argument("--skip", default="", metavar="PARTS", help="comma-separated parts to skip: percore,e2e,share,rss")
    p.add_argument("--sample", type=float, default=0.5, metavar="S", help="memory sampling interval in seconds (default 0.5)")
    p.add_argument("--work", type=Path, metavar="DIR", help="folder for inputs and outputs (default: a temporary one)")
    p.add_argument("--keep", action="store_true", help="keep the inputs and outputs")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write every figure as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--plain-run", metavar="IN", help=argparse.SUPPRESS)
    p.add_argument("--out", metavar="OUT", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.plain_run:
        return args
    if args.wcxb is None or not (args.wcxb / "html").is_dir():
        p.error("--wcxb DIR (with DIR/html/*.html.gz) is required")
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = args.skip - {"percore", "e2e", "share", "rss"}
    if unknown:
        p.error(f"--skip: unknown parts {sorted(unknown)}")
    try:
        args.rss_pages = [int(x) for x in args.rss_pages.split(",")]
        assert len(args.rss_pages) == 2 and min(args.rss_pages) > 0
    except (ValueError, AssertionError):
        p.error("--rss-pages: two positive counts, e.g. 5000,50000")
    if args.share_pairs < 1:
        p.error("--share-pairs: at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.plain_run:
        return _plain_main(args.plain_run, args.out, args.workers, args.batch_size)
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    corpus = wcxb_pages(args.wcxb)
    work = args.work or Path(tempfile.mkdtemp(prefix="pagescrub-throughput-"))
    work.mkdir(parents=True, exist_ok=True)
    rows: list[list[str]] = []
    notes: list[str] = []
    figures: dict[str, Any] = {"started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **environment()}
    load: dict[str, Any] = {"start": os.getloadavg()}
    traf_rate = traf_cpu_rate = None

    if "percore" not in args.skip:
        pages = wcxb_pages(args.wcxb, args.pages)
        say(f"per core: {len(pages)} pages x {args.rounds} round(s), both systems interleaved ...")
        rounds = per_core(pages, args.rounds, args.warmup, args.quiet)
        ps = Timing(*(sum(getattr(r["pagescrub"], f) for r in rounds) for f in ("wall", "cpu", "pages", "errors")))
        tr = Timing(*(sum(getattr(r["trafilatura"], f) for r in rounds) for f in ("wall", "cpu", "pages", "errors")))
        traf_rate, traf_cpu_rate = tr.rate(), tr.rate(True)
        ratio, ratio_cpu = ps.rate() / tr.rate(), ps.rate(True) / tr.rate(True)
        per_round = ", ".join(f"{r['pagescrub'].rate() / r['trafilatura'].rate():.2f}" for r in rounds)
        rows.append([f"per core, pages/s (wall; {len(pages)} pages x {args.rounds})", f"{ps.rate():.1f}", f"{tr.rate():.1f}",
                     f"{ratio:.2f}x", f">= {TARGETS['per_core']:.0f}x", _ok(ratio >= TARGETS["per_core"])])
        rows.append(["per core, pages per CPU-second", f"{ps.rate(True):.1f}", f"{tr.rate(True):.1f}",
                     f"{ratio_cpu:.2f}x", "", ""])
        if args.rounds > 1:
            notes.append(f"per-core ratio by round (wall): {per_round}")
        figures["per_core"] = {"pages": len(pages), "rounds": args.rounds, "pagescrub": vars(ps), "trafilatura": vars(tr),
                               "ratio_wall": ratio, "ratio_cpu": ratio_cpu}
        load["after_percore"] = os.getloadavg()

    inputs: dict[int, Path] = {}

    def inputs_for(n: int) -> Path:
        if n not in inputs:
            say(f"making {n} inputs (symlinks) ...")
            inputs[n] = make_inputs(corpus, n, work / f"in-{n}")
        return inputs[n]

    def fresh(name: str) -> Path:
        out = work / name
        shutil.rmtree(out, ignore_errors=True)
        return out

    def done(out: Path) -> None:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)

    def measured(runner: Callable[..., Run], kind: str, n: int, log: str) -> Run:
        out = fresh(f"out-{kind}-{n}")
        run = runner(inputs_for(n), out, args.workers, args.batch_size, work / log, args.sample)
        done(out)
        return run

    with_prefect = functools.partial(measured, cli_run, "cli")
    without_prefect = functools.partial(measured, plain_run, "plain")

    e2e: Run | None = None
    if "e2e" not in args.skip or "share" not in args.skip:
        n = args.e2e_pages
        say(f"end to end: pagescrub run, {n} pages, --workers {args.workers} ...")
        e2e = with_prefect(n, f"cli-{n}.log")
        rate = e2e.pages / e2e.wall
        figures["e2e"] = {"pages": e2e.pages, "wall": e2e.wall, "cpu": e2e.cpu, "flow_wall": e2e.flow_wall, "returncode": e2e.returncode,
                          "peak_rss": e2e.peak.rss, "peak_rss_no_server": e2e.peak.rss_no_server, "peak_pss": e2e.peak.pss,
                          "peak_pss_no_server": e2e.peak.pss_no_server, "server_cpu": e2e.server_cpu}
        if e2e.returncode != 0 or e2e.pages != n:
            notes.append(f"end-to-end run: exit code {e2e.returncode}, {e2e.pages} of {n} pages in the manifest; log {e2e.log}")
        if "e2e" not in args.skip:
            ratio = rate / traf_rate if traf_rate else None
            rows.append([f"end to end `pagescrub run`, pages/s ({n} pages, {args.workers} workers)", f"{rate:.1f}",
                         f"{traf_rate:.1f}" if traf_rate else "—", f"{ratio:.2f}x" if ratio else "—",
                         f">= {TARGETS['e2e']:.0f}x", _ok(ratio >= TARGETS["e2e"] if ratio else None)])
            if e2e.flow_wall:
                rows.append(["  of which inside the flow run (pages/s)", f"{e2e.pages / e2e.flow_wall:.1f}", "", "", "", ""])
            cpu_rate = e2e.pages / e2e.cpu if e2e.cpu else 0.0
            rows.append(["  pages per CPU-second, whole process tree", f"{cpu_rate:.1f}",
                         f"{traf_cpu_rate:.1f}" if traf_cpu_rate else "—",
                         f"{cpu_rate / traf_cpu_rate:.2f}x" if traf_cpu_rate else "—", "", ""])
            if e2e.server_cpu:
                rows.append(["  CPU of the temporary Prefect server / of the whole tree", f"{e2e.server_cpu:.1f} s",
                             f"{e2e.cpu:.1f} s", f"{e2e.server_cpu / e2e.cpu:.1%}", "", ""])
            if traf_cpu_rate:
                cpus = min(args.workers, os.cpu_count() or 1)
                notes.append(
                    f"end to end on {cpus} idle CPUs would be about {cpus * cpu_rate / traf_cpu_rate:.1f}x trafilatura "
                    f"(pages per CPU-second of the whole run x {cpus}, over trafilatura's pages per CPU-second): "
                    "the wall-time ratio above is only as good as the machine was idle (see the load averages)."
                )
        load["after_e2e"] = os.getloadavg()

    if "share" not in args.skip and e2e is not None:
        n = args.e2e_pages
        # Pairs of runs with and without Prefect, in the order ABBA...: the first pair reuses the
        # end-to-end run as its "with" and runs "without" after it, the next runs "without" first, and
        # so on, so that the machine's drift during a pair counts against each side alike. The share is
        # the median over the pairs: this machine's speed drifts as much as the target between two runs.
        pairs: list[tuple[Run, Run]] = []
        for i in range(args.share_pairs):
            say(f"Prefect's share, pair {i + 1} of {args.share_pairs}: {n} pages with and without Prefect ...")
            if i % 2:
                plain = without_prefect(n, f"plain-{n}-{i}.log")
                run = with_prefect(n, f"cli-{n}-{i}.log")
            else:
                run = e2e if i == 0 else with_prefect(n, f"cli-{n}-{i}.log")
                plain = without_prefect(n, f"plain-{n}-{i}.log")
            pairs.append((run, plain))
        shares = [1 - plain.wall / run.wall for run, plain in pairs]
        cpu_shares = [1 - plain.cpu / run.cpu if run.cpu else 0.0 for run, plain in pairs]
        share, cpu_share = statistics.median(shares), statistics.median(cpu_shares)
        wall_with = statistics.median(run.wall for run, _ in pairs)
        wall_without = statistics.median(plain.wall for _, plain in pairs)
        label = f"{n} pages" + (f", median of {len(pairs)} pairs" if len(pairs) > 1 else "")
        rows.append([f"Prefect's share of the run's wall time ({label})", f"{wall_with:.1f} s with",
                     f"{wall_without:.1f} s without", f"{share:.1%}", f"<= {TARGETS['prefect_share']:.0%}",
                     _ok(share <= TARGETS["prefect_share"])])
        rows.append(["  and of its CPU time (whole process tree)", f"{statistics.median(r.cpu for r, _ in pairs):.1f} s with",
                     f"{statistics.median(p.cpu for _, p in pairs):.1f} s without", f"{cpu_share:.1%}", "", ""])
        if len(pairs) > 1:
            notes.append("Prefect's share by pair (wall; CPU): " + ", ".join(f"{a:.1%}; {b:.1%}" for a, b in zip(shares, cpu_shares)))
        bad = [(i, r) for i, pair in enumerate(pairs) for r in pair if r.returncode != 0 or r.pages != n]
        for i, r in bad:
            notes.append(f"share pair {i + 1}: a run exited {r.returncode} with {r.pages} of {n} pages; log {r.log}")
        figures["share"] = {"share": share, "cpu_share": cpu_share, "pairs": [
            {"with_prefect": r.wall, "without_prefect": p.wall, "share": s_, "cpu_with_prefect": r.cpu,
             "cpu_without_prefect": p.cpu, "cpu_share": c_, "server_cpu": r.server_cpu,
             "plain_pages": p.pages, "plain_returncode": p.returncode}
            for (r, p), s_, c_ in zip(pairs, shares, cpu_shares)]}
        load["after_share"] = os.getloadavg()

    if "rss" not in args.skip:
        peaks: list[tuple[int, Peak]] = []
        for n in args.rss_pages:
            if e2e is not None and n == args.e2e_pages:
                peaks.append((n, e2e.peak))
                continue
            say(f"memory: pagescrub run, {n} pages ...")
            run = with_prefect(n, f"cli-{n}.log")
            if run.returncode != 0 or run.pages != n:
                notes.append(f"{n}-page run: exit code {run.returncode}, {run.pages} pages in the manifest; log {run.log}")
            peaks.append((n, run.peak))
            figures[f"rss_{n}"] = {"pages": run.pages, "wall": run.wall, "peak_rss": run.peak.rss,
                                   "peak_rss_no_server": run.peak.rss_no_server, "peak_pss": run.peak.pss,
                                   "peak_pss_no_server": run.peak.pss_no_server,
                                   "processes": run.peak.processes}
            load[f"after_rss_{n}"] = os.getloadavg()
        (small, a), (large, b) = peaks
        ratio = b.rss / a.rss
        server = os.environ.get("PREFECT_API_URL") is None
        for n, peak in peaks:
            rows.append([f"peak RSS, process tree, {n} pages (MB)", _mb(peak.rss), "", "",
                         f"< {TARGETS['rss_mb']}", _ok(peak.rss < TARGETS["rss_mb"] * 2**20)])
            rows.append(["  without the temporary Prefect server (MB)", _mb(peak.rss_no_server), "", "", "", ""])
            rows.append(["  summed PSS, with / without the server (MB)", f"{_mb(peak.pss)} / {_mb(peak.pss_no_server)}",
                         "", "", "", ""])
        rows.append([f"peak RSS {large} / {small} pages", "", "", f"{ratio:.2f}", f"<= {TARGETS['rss_ratio']}",
                     _ok(ratio <= TARGETS["rss_ratio"])])
        biggest = max(peaks, key=lambda np_: np_[1].rss)[1]
        notes.append("processes at the highest peak (MB): " + ", ".join(
            f"{pid}{' (server)' if pid in biggest.servers else ''} {_mb(v)}" for pid, v in sorted(biggest.detail.items())))
        if server:
            notes.append("PREFECT_API_URL unset: each run started its own temporary Prefect server (counted).")

    figures["load_average"] = load
    notes.append(
        f"{figures['machine']}, Python {figures['python']}; "
        + ", ".join(f"{k} {v}" for k, v in figures["versions"].items() if v)
        + f"; load average {load['start'][0]:.1f} at start"
        + "".join(f", {v[0]:.1f} {k.replace('_', ' ')}" for k, v in load.items() if k != "start")
        + f"; {dt.date.today().isoformat()}."
    )
    notes.append(CREDITS)
    print_table(rows, notes)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n", encoding="utf-8")
    if not args.keep and args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
