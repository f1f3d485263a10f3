"""Run one page through the cleaning path in a child process with hard limits on memory and CPU.

A fork server: ``python -m tests.hostile.bounded`` imports the extraction code
once (no Prefect), warms it up (language detector, date parsers), then for every
request forks a child that sets ``RLIMIT_AS`` and ``RLIMIT_CPU`` and cleans one
page exactly as a batch does (``read_page_bytes`` with the size cap, then
``extract_article``, then ``build_record`` with schema validation). The parent
collects the child's own resource usage with ``wait4``. Forking keeps each case
cheap (no interpreter start, no re-import) and isolated (a case that blew a
limit dies alone, with its signal reported).

Protocol: one JSON object per line on stdin (``{"path": ..., "as_bytes": ...,
"cpu_seconds": ...}``), one JSON object per line on stdout.
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GB = 1024**3


def clean_one(path: str) -> dict[str, Any]:
    """The batch's cleaning path for one saved page, without Prefect and without a store."""
    from pagescrub.tasks.extract import ExtractionError, extract_article
    from pagescrub.tasks.load import LoadError, PageInput, read_page_bytes
    from pagescrub.tasks.record import RecordInvalid, build_record

    page = PageInput(location=path, kind="file", key=Path(path).name)
    try:
        data = read_page_bytes(path)
    except LoadError as exc:
        return {"status": "failed", "stage": "load", "reason": exc.reason}
    try:
        article = extract_article(data, name=page.key)
    except ExtractionError as exc:
        return {"status": "failed", "stage": "extract", "reason": exc.reason}
    try:
        record = build_record(article, page, datetime.now(UTC))
    except RecordInvalid as exc:
        return {"status": "failed", "stage": "record", "reason": exc.reason}
    return {"status": "record", "record": record}


def _child(path: str, as_bytes: int, cpu_seconds: int, wfd: int) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (as_bytes, as_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        try:
            out = clean_one(path)
        except BaseException as exc:  # noqa: BLE001 - reported, not raised: this is what the test looks for
            out = {"status": "crash", "reason": f"{type(exc).__name__}: {exc}"[:300], "traceback": traceback.format_exc()[-3000:]}
        blob = json.dumps(out, ensure_ascii=False).encode("utf-8")
        with os.fdopen(wfd, "wb") as fh:
            fh.write(blob)
    finally:
        os._exit(0)


def run_case(path: str, as_bytes: int = GB, cpu_seconds: int = 10, wall_seconds: float = 60.0) -> dict[str, Any]:
    """Fork, clean ``path`` under the limits, and report the outcome with the child's CPU time and peak RSS."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        _child(path, as_bytes, cpu_seconds, wfd)
    os.close(wfd)
    started = time.monotonic()
    chunks: list[bytes] = []
    killed = False
    try:
        while True:  # the child writes once, at the end; EOF when it exits or dies
            ready, _, _ = select.select([rfd], [], [], 0.05)
            if ready:
                chunk = os.read(rfd, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
            elif not killed and time.monotonic() - started > wall_seconds:
                os.kill(pid, signal.SIGKILL)
                killed = True
    finally:
        os.close(rfd)
    _, status, usage = os.wait4(pid, 0)
    wall = time.monotonic() - started
    report: dict[str, Any] = {
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "max_rss_bytes": usage.ru_maxrss * 1024,
        "wall_seconds": round(wall, 3),
        "exit_signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
    }
    try:
        report.update(json.loads(b"".join(chunks)) if chunks else {"status": "crash", "reason": "no result (killed)"})
    except ValueError as exc:
        report.update(status="crash", reason=f"unreadable result: {exc}")
    return report


def warm_up() -> None:
    """Load what every page needs once, in the parent, so children share it copy-on-write."""
    from pagescrub.tasks.extract import extract_article

    from .make_corpus import EN_PARAGRAPHS, article_html

    extract_article(article_html(head="<meta property='article:published_time' content='2023-03-14'>").encode())
    extract_article(("Warm up\nBy Ana Ruiz\nMarch 14, 2023\n\n" + "\n\n".join(EN_PARAGRAPHS)).encode())


def serve() -> None:
    warm_up()
    baseline = _vm_size()
    sys.stdout.write(json.dumps({"ready": True, "vm_bytes": baseline}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        report = run_case(req["path"], req.get("as_bytes", GB), req.get("cpu_seconds", 10), req.get("wall_seconds", 60.0))
        sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
        sys.stdout.flush()


def _vm_size() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


if __name__ == "__main__":
    serve()
