#!/usr/bin/env python3
"""S3 write throughput of pagescrub's store, through the same bounded pool the flows use.

Starts moto's S3 server on loopback in a child process (so server and client
do not share one interpreter lock), builds N cleaned pages (a record plus its
gzipped raw snapshot, as ``clean-batch`` hands them to the flow), then for each
pool size writes them all under a fresh prefix with ``write_page`` in a
``ThreadPoolExecutor`` and prints objects/s, MB/s and pages/s.

Usage (from the repository root)::

    python benchmarks/s3_write.py [--records 2000] [--pools 1,4,8,16] [--words 600]

Figures are for moto on this machine, an in-memory fake: they measure the
client path (signing, HTTP, our HEAD-before-PUT) more than a real S3, whose
per-request latency makes concurrency matter even more.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pagescrub.tasks.batch import PageResult, write_page
from pagescrub.tasks.extract import Article
from pagescrub.tasks.load import PageInput
from pagescrub.tasks.record import build_record, record_id
from pagescrub.tasks.store import StoreOptions, open_store, snapshot

_ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3 server in a child process on 127.0.0.1; stopped on exit."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **_ENV},
    )
    try:
        for _ in range(200):  # up to ~20 s for the server to listen
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit("moto server exited; is moto[server] installed (pip install -e '.[test]')?") from None
                time.sleep(0.1)
        else:
            raise SystemExit("moto server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def make_pages(n: int, words: int) -> list[PageResult]:
    """N cleaned pages with realistic sizes: a record of ``words`` words and its raw HTML snapshot."""
    pages = []
    vocabulary = "harbour storm wall granite repairs ferry islands council engineers waves boats timetable".split()
    for i in range(n):
        text = " ".join(vocabulary[(i + j) % len(vocabulary)] for j in range(words))
        paragraphs = [text[k:k + 400] for k in range(0, len(text), 400)]
        html = "".join(f"<p>{p}</p>" for p in paragraphs)
        page = PageInput(location=f"/bench/{i}.html", kind="file", url=f"https://example.org/news/{i}", key=f"{i}.html")
        article = Article(text="\n\n".join(paragraphs), html=html, method="html", encoding="utf-8", title=f"Story {i}")
        record = build_record(article, page)
        raw = f"<html><head><title>Story {i}</title></head><body><nav>menu</nav><article>{html}</article></body></html>"
        rid = record_id(page)
        snap = snapshot(rid, raw.encode(), location=page.location, kind=page.kind, url=page.url, key=page.key)
        pages.append(PageResult(entry={"input": page.location, "id": rid}, record=record, raw=snap))
    return pages


def run(endpoint: str, pages: list[PageResult], pool_size: int) -> dict[str, float]:
    options = StoreOptions(endpoint_url=endpoint, addressing_style="path", max_concurrency=pool_size)
    store = open_store(f"s3://bench/pool-{pool_size}/", options)
    started = time.perf_counter()
    objects = nbytes = 0
    with ThreadPoolExecutor(max_workers=pool_size) as pool:
        for entry, n, b in pool.map(lambda r: write_page(store, r), pages):
            if entry.get("status") != "written":
                raise SystemExit(f"unexpected write result: {entry}")
            objects += n
            nbytes += b
    seconds = time.perf_counter() - started
    return {"pool": pool_size, "objects": objects, "mb": nbytes / 1e6, "seconds": seconds,
            "objects_s": objects / seconds, "mb_s": nbytes / 1e6 / seconds, "pages_s": len(pages) / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--records", type=int, default=2000, help="pages to write per pool size (default 2000)")
    parser.add_argument("--pools", default="1,4,8,16", help="comma-separated pool sizes (default 1,4,8,16)")
    parser.add_argument("--words", type=int, default=600, help="words per article (default 600, about 4 KB of text)")
    args = parser.parse_args()
    os.environ.update(_ENV)
    pools = [int(p) for p in args.pools.split(",") if p.strip()]
    pages = make_pages(args.records, args.words)
    with moto_server() as endpoint:
        import boto3

        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="bench")
        print(f"{args.records} pages per pool size; each page = record + raw snapshot + its description "
              f"(3 PUTs, plus a HEAD, a GET and a DELETE)\n")
        print(f"{'pool':>4}  {'objects':>7}  {'MB':>6}  {'seconds':>7}  {'objects/s':>9}  {'MB/s':>6}  {'pages/s':>7}")
        for size in pools:
            r = run(endpoint, pages, size)
            print(f"{r['pool']:>4}  {r['objects']:>7}  {r['mb']:>6.1f}  {r['seconds']:>7.1f}  "
                  f"{r['objects_s']:>9.0f}  {r['mb_s']:>6.2f}  {r['pages_s']:>7.0f}")


if __name__ == "__main__":
    main()
