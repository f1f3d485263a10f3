"""Issue 9: hostile pages and servers. Nothing crashes the run, nothing is lost, nothing escapes.

* File cases (``tests/hostile/make_corpus.py``, generated into a temporary folder):
  every page is cleaned in a child process limited to 1 GB of address space and
  10 s of CPU (``tests/hostile/bounded.py``), and must end as the case says: a valid
  record, or a failed entry with a specific reason. Then one real ``pagescrub run``
  over the whole folder must account for every input in its manifest.
* Server cases: a local HTTP server misbehaving in every way listed in the issue,
  read through the fetch library (and the extraction, when a body arrives).
* The SSRF guard, on by default, against a real server: private, loopback,
  link-local and unique-local addresses, after name resolution and on redirects;
  non-HTTP schemes; the allow option.
* No secrets: credentials in URLs never reach records, manifests, snapshots or logs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
import logging
import os
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from pagescrub.tasks.discover import discover
from pagescrub.tasks.extract import ExtractionError, extract_article
from pagescrub.tasks.fetch import FetchConfig, Fetcher, FetchResult
from pagescrub.tasks.load import (
    LoadError,
    install_log_redaction,
    read_page_bytes,
    redact_secrets,
    redact_url,
)
from pagescrub.tasks.record import validate_record

from .hostile import make_corpus as corpus
from .hostile.make_corpus import CASES, Case
from .hostile.workload import spin_or_pid

REPO = Path(__file__).resolve().parent.parent
EXE = str(Path(sys.executable).with_name("pagescrub"))
GB = 1024**3
CPU_LIMIT = 10  # seconds of CPU one page may take, at most
MEMORY_LIMIT = GB  # address space of the process cleaning one page, at most
BY_NAME = {c.name: c for c in CASES}


# -- the file corpus ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus, generated for this run (120 MB, a few seconds): never kept in the repository."""
    root = tmp_path_factory.mktemp("hostile") / "pages"
    corpus.make_corpus(root)
    return root


class ForkServer:
    """``tests/hostile/bounded.py`` in a child process: one forked grandchild per page, under rlimits."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env["PYTHONPATH"] = str(REPO)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.hostile.bounded"], cwd=REPO, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        ready = json.loads(self.proc.stdout.readline() or "{}")
        assert ready.get("ready"), "the fork server did not start"
        self.baseline_vm = ready["vm_bytes"]
        self.lock = threading.Lock()

    def run(self, path: Path) -> dict[str, Any]:
        request = {"path": str(path), "as_bytes": MEMORY_LIMIT, "cpu_seconds": CPU_LIMIT, "wall_seconds": 120}
        with self.lock:
            assert self.proc.stdin is not None and self.proc.stdout is not None
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        assert line, "the fork server died"
        return json.loads(line)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def bounded() -> Iterator[ForkServer]:
    server = ForkServer()
    yield server
    server.close()


def outcome_problems(case: Case, status: str, reason: str, record: dict[str, Any] | None) -> list[str]:
    """How an outcome differs from what the case expects (empty when it is right)."""
    if status == "failed":
        if not reason or reason.startswith("internal error"):
            return [f"failed without a specific reason: {reason!r}"]
        if case.expect == "failed" and reason.startswith(case.reason):
            return []
        if case.or_reason and reason.startswith(case.or_reason):
            return []
        return [f"failed ({reason!r}), expected {case.expect} {case.reason!r}"]
    if status not in ("record", "written", "unchanged"):
        return [f"status {status!r}"]
    if case.expect != "record":
        return [f"gave a record, expected failed {case.reason!r}"]
    assert record is not None
    problems: list[str] = []
    checks = case.checks
    text = record["text"]
    problems += [f"text lacks {s!r}" for s in checks.get("contains", []) if s not in text]  # type: ignore[union-attr]
    problems += [f"text has {s!r}" for s in checks.get("absent", []) if s in text]  # type: ignore[union-attr]
    if "language" in checks and record["language"] != checks["language"]:
        problems.append(f"language {record['language']!r}, expected {checks['language']!r}")
    if "title" in checks and record["title"] != checks["title"]:
        problems.append(f"title {record['title']!r}")
    if "title_max" in checks and len(record["title"] or "") > checks["title_max"]:  # type: ignore[operator]
        problems.append(f"title of {len(record['title'])} characters")
    for key in ("authors", "published_at"):
        if key in checks and record[key] != checks[key]:
            problems.append(f"{key} {record[key]!r}, expected {checks[key]!r}")
    if "encoding" in checks and record["source"]["encoding"] != checks["encoding"]:
        problems.append(f"encoding {record['source']['encoding']!r}")
    if "encoding_not" in checks and record["source"]["encoding"] == checks["encoding_not"]:
        problems.append(f"encoding {record['source']['encoding']!r}")
    return problems


def _case_param(case: Case) -> Any:
    marks = [pytest.mark.xfail(reason=case.known_issue, strict=True)] if case.known_issue else []
    return pytest.param(case, id=case.name, marks=marks)


def test_the_corpus_has_at_least_40_cases() -> None:
    assert len(CASES) + len(SERVER_CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


@dataclass
class HostileRun:
    """The one ``pagescrub run`` over the hostile folder, started in the background."""

    proc: subprocess.Popen[str]
    out: Path
    fifo: Path
    started: float


CLI_TEST = "test_one_cli_run_over_the_hostile_folder_accounts_for_every_input"


@pytest.fixture(scope="module")
def hostile_run(request: pytest.FixtureRequest, hostile_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileRun]:
    """Started as soon as the corpus exists, so it runs while the bounded cases are measured (2 cores)."""
    api = request.getfixturevalue("prefect_api_url")
    work = tmp_path_factory.mktemp("hostile-run")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_PROFILE"}
    env.update(PREFECT_API_URL=api, PREFECT_HOME=str(work / "prefect-home"))
    fifo = _fifo(work / "pipe.html")
    out = work / "out"
    proc = subprocess.Popen(
        [EXE, "run", str(hostile_dir), str(fifo), "--out", str(out), "--allow-failures", "--no-progress"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    run = HostileRun(proc, out, fifo, time.monotonic())
    yield run
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture
def cli_run_in_background(request: pytest.FixtureRequest) -> None:
    """When the CLI test is selected too, start its run now, beside these measurements."""
    if any(item.name == CLI_TEST for item in request.session.items):
        request.getfixturevalue("hostile_run")


@pytest.mark.parametrize("case", [_case_param(c) for c in CASES])
def test_file_case_is_bounded_and_ends_as_expected(
    case: Case, hostile_dir: Path, bounded: ForkServer, cli_run_in_background: None
) -> None:
    """One page through the cleaning path in a child limited to 1 GB and 10 s of CPU."""
    report = bounded.run(hostile_dir / case.name)
    assert report["exit_signal"] is None, f"killed by signal {report['exit_signal']} (a limit was hit): {report}"
    assert report["status"] != "crash", report.get("traceback") or report
    assert report["cpu_seconds"] < CPU_LIMIT
    assert report["max_rss_bytes"] < MEMORY_LIMIT
    record = report.get("record")
    if record is not None:
        validate_record(record)
    assert outcome_problems(case, report["status"], report.get("reason", ""), record) == []


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def test_special_files_are_refused_without_blocking(tmp_path: Path) -> None:
    """A FIFO would block the read forever, /dev/zero never ends: only regular files are read."""
    fifo = _fifo(tmp_path / "pipe.html")
    for target in (fifo, Path("/dev/zero"), Path("/dev/urandom")):
        with pytest.raises(LoadError, match=r"^not a regular file$"):
            read_page_bytes(target)
    link = tmp_path / "zero.html"
    link.symlink_to("/dev/zero")
    with pytest.raises(LoadError, match=r"^not a regular file$"):
        read_page_bytes(link)


def test_load_errors_keep_their_own_reason(tmp_path: Path) -> None:
    """A bomb or a truncated .gz says so, not 'unreadable: ...' (LoadError is an OSError)."""
    (tmp_path / "bomb.html.gz").write_bytes(corpus.gzip_bomb(64 * corpus.MB))
    (tmp_path / "cut.html.gz").write_bytes(gzip.compress(b"<p>x</p>" * 1000)[:50])
    with pytest.raises(LoadError) as bomb:
        read_page_bytes(tmp_path / "bomb.html.gz", max_bytes=1024 * 1024)
    assert bomb.value.reason == "too large: over 1048576 bytes after decompression"
    with pytest.raises(LoadError) as cut:
        read_page_bytes(tmp_path / "cut.html.gz")
    assert cut.value.reason.startswith("corrupt gzip: ")


@pytest.mark.prefect
def test_one_cli_run_over_the_hostile_folder_accounts_for_every_input(hostile_run: HostileRun) -> None:
    """The real command over the whole corpus (plus a FIFO named on the command line): it completes,
    and its manifest has one entry per input, each written with a valid record or failed with a reason."""
    _stdout, stderr = hostile_run.proc.communicate(timeout=600)
    assert hostile_run.proc.returncode == 0, stderr[-3000:]
    out, started = hostile_run.out, hostile_run.started
    (manifest_path,) = (out / "runs").glob("*.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    entries = {Path(e["input"]).name: e for e in manifest["pages"]}
    inputs = sorted([c.name for c in CASES] + ["pipe.html"])
    assert sorted(entries) == inputs and len(manifest["pages"]) == len(inputs), "lost or extra inputs"
    assert manifest["counts"]["pages"] == len(inputs)

    records = {}
    for path in (out / "articles").rglob("*.json"):
        rec = json.loads(path.read_text(encoding="utf-8"))
        validate_record(rec)
        records[rec["id"]] = rec
    failed = {json.loads(p.read_text(encoding="utf-8"))["id"] for p in (out / "failed").rglob("*.json")}
    assert not list(out.rglob("*.tmp")), "a temporary file was left behind"

    wrong = {}
    for name, entry in entries.items():
        assert entry["status"] in ("written", "failed"), entry
        if entry["status"] == "written":
            assert entry["id"] in records and entry["id"] not in failed
        else:
            assert entry["reason"] and entry["stage"] and entry["id"] in failed and entry["id"] not in records
        if name == "pipe.html":
            assert (entry["status"], entry["reason"]) == ("failed", "not a regular file")
            continue
        case = BY_NAME[name]
        problems = outcome_problems(case, entry["status"], entry.get("reason", ""), records.get(entry["id"]))
        if problems and not case.known_issue:
            wrong[name] = problems
    assert wrong == {}
    assert len(records) + len(failed) == len(inputs)
    print(f"\nhostile run: {len(inputs)} inputs, {len(records)} records, {len(failed)} failed, "
          f"{time.monotonic() - started:.1f}s; reasons: {manifest['failure_reasons']}")


@pytest.mark.prefect
def test_a_page_over_the_cpu_limit_is_stopped_and_the_worker_goes_on(tmp_path: Path, cli_env: dict[str, str]) -> None:
    """The hard per-page limit of the cleaning worker processes (set low here): the slow page fails
    "too slow", the pages after it in the same worker are cleaned, the run completes."""
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "1-long.html").write_bytes(corpus.many_paragraphs_article(14_000))
    (pages / "2-arabic.html").write_text(corpus.article_html("افتتاح مستشفى جديد", [corpus.ARABIC] * 2, lang="ar"))
    (pages / "3-story.html").write_text(ARTICLE)
    out = tmp_path / "out"
    # The long page (14,000 paragraphs, 1.7M characters) takes about 1.6 s of CPU here (the others ~0.05 s):
    # a limit well under it, whatever the machine. (A page of 1.9M characters in few paragraphs took 1.2 s
    # before this round's speed work and ~0.5 s after, too close to the limit.)
    env = dict(cli_env, PAGESCRUB_PAGE_CPU_SECONDS="0.4")
    run = subprocess.run([EXE, "run", str(pages), "--out", str(out), "--workers", "1", "--allow-failures", "--no-progress"],
                         env=env, capture_output=True, check=False, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    manifest = json.loads(next((out / "runs").glob("*.json")).read_text(encoding="utf-8"))
    by_name = {Path(e["input"]).name: e for e in manifest["pages"]}
    assert by_name["1-long.html"]["status"] == "failed"
    assert by_name["1-long.html"]["reason"] == "too slow: stopped after 0.4 s of CPU"
    assert by_name["2-arabic.html"]["status"] == by_name["3-story.html"]["status"] == "written"


def test_a_worker_stops_a_slow_page_goes_on_and_is_killed_when_stuck_in_c() -> None:
    """A worker's limits, forked after its initializer (a spawned pool costs an interpreter and
    Prefect's import; the CLI test above covers the pool): a page in Python code is stopped by the
    timer and the next page is cleaned, under RLIMIT_AS; a C call that never looks at signals is out
    of the timer's reach, so RLIMIT_CPU (twice the limit plus a second) kills the worker, which the
    pool reports as a page that killed its worker."""
    import signal

    from pagescrub.tasks import batch

    started = time.monotonic()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            batch._worker_started(0.3, batch.WORKER_MEMORY_BYTES)
            seen = [batch._limited(spin_or_pid, item) for item in ("spin", "next")]  # type: ignore[arg-type]
            os.write(wfd, repr(seen).encode())
            os.close(wfd)
            batch._limited(spin_or_pid, "in C")  # type: ignore[arg-type]
        finally:
            os._exit(0)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as fh:
        reported = fh.read().decode()
    _, status = os.waitpid(pid, 0)
    assert reported == repr([batch._Stopped("too slow: stopped after 0.3 s of CPU"),
                             ("next", pid, batch.WORKER_MEMORY_BYTES)])
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU, status
    assert time.monotonic() - started < 30


def test_page_cpu_seconds_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """0 or inf turns the limit off; a value that is not a number keeps the default."""
    from pagescrub.tasks import batch

    monkeypatch.delenv("PAGESCRUB_PAGE_CPU_SECONDS", raising=False)
    seen = {None: batch._env_seconds("PAGESCRUB_PAGE_CPU_SECONDS", 10.0)}
    for value in ("2.5", "junk", "nan", "0", "inf"):
        monkeypatch.setenv("PAGESCRUB_PAGE_CPU_SECONDS", value)
        seen[value] = batch._env_seconds("PAGESCRUB_PAGE_CPU_SECONDS", 10.0)
    assert seen == {None: 10.0, "2.5": 2.5, "junk": 10.0, "nan": 10.0, "0": 0.0, "inf": 0.0}
    # The module reads it at import: the CLI test above runs with 1.5 and finds it in the reason.


def test_failure_reasons_carry_no_credentials() -> None:
    """Reasons quote exception texts and fetch errors, which may hold a URL with its credentials."""
    from pagescrub.tasks import batch
    from pagescrub.tasks.load import PageInput

    page = PageInput(location="https://news.example/a", kind="http", url="https://news.example/a", key="https://news.example/a")
    failed = batch.failed_page(page, "fetch", "redirected to https://editor:s3cret@other.example/b: refused")
    assert failed.entry["reason"] == failed.failure["reason"] == "redirected to https://other.example/b: refused"
    fetched = FetchResult(url="https://editor:s3cret@news.example/a", final_url="https://editor:s3cret@news.example/a", status=None, headers={}, body=None,
                          outcome="failed", reason="connect error to http://u:s3cret@proxy.example:8080")
    result = batch.clean_fetched(fetched)
    blob = json.dumps([result.entry, result.failure])
    assert "s3cret" not in blob and "proxy.example:8080" in blob


# -- a misbehaving web server ------------------------------------------------------------------


Behaviour = Callable[[BaseHTTPRequestHandler], None]


class HostileServer:
    """One HTTP server on 127.0.0.1 whose paths each misbehave in their own way; requests are logged."""

    def __init__(self) -> None:
        self.routes: dict[str, Behaviour] = {}
        self.log: list[tuple[str, str]] = []  # (Host header, path)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:
                server.log.append((self.headers.get("Host", ""), self.path))
                route = server.routes.get(self.path.split("?")[0])
                try:
                    if route is None:
                        send(self, 404, b"not found", "text/plain")
                    else:
                        route(self)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request: object, client_address: object) -> None:
                if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
                    super().handle_error(request, client_address)

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def requests(self, path: str) -> list[tuple[str, str]]:
        return [r for r in self.log if r[1] == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def send(h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str | None = "text/html; charset=utf-8",
         headers: dict[str, str] | None = None, length: int | None = None) -> None:
    h.send_response(status)
    if ctype:
        h.send_header("Content-Type", ctype)
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(body) if length is None else length))
    h.end_headers()
    h.wfile.write(body)


def page(
    body: bytes | str | Callable[[], bytes], ctype: str | None = "text/html; charset=utf-8", status: int = 200, **headers: str
) -> Behaviour:
    """Serve ``body`` (a callable is called on the first request, so big bodies cost nothing at collection)."""
    made: list[bytes] = []

    def prepare() -> bytes:
        if not made:
            data = body() if callable(body) else body
            made.append(data.encode() if isinstance(data, str) else data)
        return made[0]

    def serve(h: BaseHTTPRequestHandler) -> None:
        send(h, status, prepare(), ctype, {k.replace("_", "-"): v for k, v in headers.items()})

    serve.prepare = prepare  # type: ignore[attr-defined]
    return serve


def redirect(location: str, status: int = 302) -> Behaviour:
    return lambda h: send(h, status, b"", None, {"Location": location})


def endless(h: BaseHTTPRequestHandler) -> None:
    """A page that never ends: chunked, no Content-Length."""
    h.send_response(200)
    h.send_header("Content-Type", "text/html")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    chunk = b"<p>" + b"more words " * 6000 + b"</p>"
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    for _ in range(100_000):
        h.wfile.write(frame)


def lying_length(h: BaseHTTPRequestHandler) -> None:
    """Announces 50 MB, sends a little, hangs up."""
    send(h, 200, b"<html><body>" + b"x" * 1000, length=50 * corpus.MB)
    h.close_connection = True


def trickle(h: BaseHTTPRequestHandler) -> None:
    """A slowloris body: one byte every 50 ms, each well within the read timeout, for ever."""
    h.send_response(200)
    h.send_header("Content-Type", "text/html")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    for _ in range(100_000):
        h.wfile.write(b"x")
        h.wfile.flush()
        time.sleep(0.05)


def huge_header(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/html")
    h.send_header("Set-Cookie", "a=" + "b" * (1024 * 1024))
    h.send_header("Content-Length", "2")
    h.end_headers()
    h.wfile.write(b"ok")


def deflate_bomb(decompressed: int) -> bytes:
    """A zlib stream of zeros, made in 1 MiB steps (never the whole input in memory)."""
    packer = zlib.compressobj(9)
    zeros = bytes(corpus.MB)
    return b"".join([packer.compress(zeros) for _ in range(decompressed // corpus.MB)] + [packer.flush()])


def billion_laughs() -> bytes:
    ents = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    return (f'<?xml version="1.0"?><!DOCTYPE urlset [{ents}]><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<url><loc>https://news.example/&l9;</loc></url></urlset>").encode()


def xxe_sitemap() -> bytes:
    return (b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://news.example/&x;</loc></url></urlset>')


@dataclass(frozen=True)
class ServerCase:
    name: str
    path: str
    behaviour: Behaviour
    expect: str  # "record", "failed" (after the fetch or the extraction) or "discovery failed"
    reason: str = ""
    checks: dict[str, Any] | None = None


ARTICLE = corpus.article_html()
SERVER_CASES: list[ServerCase] = [
    ServerCase("ok article", "/ok", page(ARTICLE), "record", checks={"contains": "sea wall"}),
    ServerCase("empty body", "/empty", page(b""), "failed", "empty input"),
    ServerCase("whitespace body", "/blank", page(b"\r\n \t " * 500), "failed", "empty input"),
    ServerCase("PNG served as text/html", "/png", page(corpus.png_bytes()), "failed", "binary content (png)"),
    ServerCase("PDF served as text/html", "/pdf", page(corpus.pdf_bytes()), "failed", "binary content (pdf)"),
    ServerCase("ZIP served as text/html", "/zip", page(corpus.zip_bytes()), "failed", "binary content (zip)"),
    ServerCase("PNG without a Content-Type", "/png-untyped", page(corpus.png_bytes(), None), "failed",
               "no content type and body is png"),
    ServerCase("image/png", "/png-typed", page(corpus.png_bytes(), "image/png"), "failed", "content type image/png refused"),
    ServerCase("gzip bomb in Content-Encoding", "/gzip-bomb",
               page(lambda: corpus.gzip_bomb(1024 * corpus.MB), Content_Encoding="gzip"), "failed", "decompression bomb"),
    ServerCase("deflate bomb in Content-Encoding", "/deflate-bomb",
               page(lambda: deflate_bomb(32 * corpus.MB), Content_Encoding="deflate"), "failed", "decompression bomb"),
    ServerCase("corrupt gzip Content-Encoding", "/gzip-corrupt",
               page(b"\x1f\x8b\x08\x00garbage-not-deflate" * 10, Content_Encoding="gzip"), "failed", "corrupt gzip content encoding"),
    ServerCase("unsupported Content-Encoding", "/br", page(b"\x0b\x02\x80", Content_Encoding="br"), "failed",
               "unsupported content encoding br"),
    ServerCase("50 MB page", "/50mb", page(lambda: b"<p>" + b"a " * (25 * corpus.MB)), "failed", "too large: over 10485760 bytes"),
    ServerCase("Content-Length lies (50 MB)", "/lying", lying_length, "failed", "too large: over 10485760 bytes"),
    ServerCase("endless chunked body", "/endless", endless, "failed", "too large: over 10485760 bytes"),
    ServerCase("slowloris body", "/trickle", trickle, "failed", "timeout"),
    ServerCase("1 MB response header", "/huge-header", huge_header, "failed", "connection error"),
    ServerCase("real 404", "/gone", page(corpus.soft_404(), status=404), "failed", "http 404"),
    ServerCase("404 page served with 200", "/soft-404", page(corpus.soft_404()), "failed", "no article found (an error page"),
    ServerCase("home page", "/home", page(corpus.home_page()), "failed", "no article found"),
    ServerCase("login page", "/login", page(corpus.login_page()), "failed", "no article found"),
    ServerCase("deep nesting", "/deep", page(lambda: corpus.deep_nesting(10_000)), "failed", "too deeply nested"),
    ServerCase("UTF-8 body, transport says ISO-8859-1", "/wrong-charset",
               page(corpus.article_html(paragraphs=[corpus.FRENCH_CAFE] * 2, charset=None), "text/html; charset=iso-8859-1"),
               "record", checks={"contains": "Le café de la gare", "language": "fr"}),
    ServerCase("Arabic in windows-1256, declared by the transport only", "/arabic-1256",
               page(corpus.article_html("افتتاح مستشفى جديد", [corpus.ARABIC], charset=None, lang="ar").encode("cp1256"),
                    "text/html; charset=windows-1256"),
               "record", checks={"contains": "أعلنت وزارة الصحة", "language": "ar"}),
    ServerCase("UTF-16 without BOM", "/utf16", page(corpus.article_html(charset=None).encode("utf-16-le"), "text/html"),
               "record", checks={"contains": "sea wall"}),
    ServerCase("redirect loop", "/loop-a", redirect("/loop-b"), "failed", "too many redirects"),
    ServerCase("redirect to file://", "/to-file", redirect("file:///etc/passwd"), "failed",
               "address not allowed: file URLs are never fetched"),
    ServerCase("redirect to gopher://", "/to-gopher", redirect("gopher://127.0.0.1:70/_x"), "failed",
               "address not allowed: gopher URLs are never fetched"),
    ServerCase("redirect to an invalid location", "/to-nowhere", redirect("http://[::1"), "failed",
               "redirect to an invalid location"),
    ServerCase("sitemap with entity expansion", "/sitemap-laughs.xml", page(billion_laughs(), "application/xml"),
               "discovery failed", "XML entity declarations refused"),
    ServerCase("sitemap with an external entity", "/sitemap-xxe.xml", page(xxe_sitemap(), "application/xml"),
               "discovery failed", "XML entity declarations refused"),
    ServerCase("gzipped sitemap bomb", "/sitemap-bomb.xml.gz", page(lambda: corpus.gzip_bomb_single(80 * corpus.MB), "application/x-gzip"),
               "discovery failed", "too large: over 67108864 bytes uncompressed"),
]
SERVER_ROUTES = {c.path: c.behaviour for c in SERVER_CASES} | {"/loop-b": redirect("/loop-a")}


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    srv = HostileServer()
    srv.routes.update(SERVER_ROUTES)
    for behaviour in SERVER_ROUTES.values():  # make the big bodies now, not while a client waits
        getattr(behaviour, "prepare", lambda: None)()
    yield srv
    srv.close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


LOCAL = FetchConfig(
    per_host_delay=0.0, retries=0, obey_robots=False, read_timeout=2.0, connect_timeout=2.0, total_timeout=1.5,
    allow_private_addresses=True,  # the hostile server is on 127.0.0.1; the guard has its own tests below
)


def fetch(url: str, config: FetchConfig = LOCAL, **kwargs: Any) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(config, **kwargs) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(go())


@pytest.mark.parametrize("case", SERVER_CASES, ids=[c.name for c in SERVER_CASES])
def test_server_case_ends_as_expected(case: ServerCase, server: HostileServer) -> None:
    url = server.url(case.path)
    if case.expect == "discovery failed":
        failures: list[tuple[str, str]] = []

        async def go() -> list[str]:
            async with Fetcher(LOCAL) as fetcher:
                return await discover(fetcher, sitemap=url, failures=failures)

        assert asyncio.run(go()) == []
        assert len(failures) == 1 and failures[0][1].startswith(case.reason), failures
        return
    result = fetch(url)
    if not result.ok:
        status, reason, record_text = "failed", result.reason or "", None
    else:
        try:
            article = extract_article(result.body or b"", url=result.final_url, content_type=result.content_type)
        except ExtractionError as exc:
            status, reason, record_text = "failed", exc.reason, None
        else:
            status, reason, record_text = "record", "", article
    assert status == case.expect, (status, reason)
    if status == "failed":
        assert reason.startswith(case.reason), reason
    else:
        checks = case.checks or {}
        assert checks.get("contains", "") in record_text.text
        if "language" in checks:
            assert record_text.language == checks["language"]


# -- SSRF guard --------------------------------------------------------------------------------


class LocalDNS(httpx.AsyncBaseTransport):
    """Connects every host name to 127.0.0.1 (same port), keeping the Host header: a DNS we control.

    With it a "public" name can reach the local server, so a guard that let a request
    through would show it in the server's log.
    """

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(host="127.0.0.1")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


PRIVATE = {
    "loopback": "127.0.0.1",
    "loopback-other": "127.10.20.30",
    "ten": "10.1.2.3",
    "one-seven-two": "172.16.0.1",
    "one-seven-two-top": "172.31.255.254",
    "one-nine-two": "192.168.1.1",
    "metadata": "169.254.169.254",
    "link-local": "169.254.10.20",
    "ipv6-loopback": "::1",
    "unique-local-fc": "fc00::1",
    "unique-local-fd": "fd12:3456::1",
    "ipv4-mapped": "::ffff:10.0.0.1",
    "unspecified": "0.0.0.0",
    "shared-cgnat": "100.64.0.1",
}
PUBLIC = "93.184.216.34"


def dns(table: dict[str, list[str]]) -> Callable[[str, int], Any]:
    async def resolve(host: str, port: int) -> list[str]:
        return table.get(host, [PUBLIC])

    return resolve


def guarded(**overrides: Any) -> FetchConfig:
    """The default config (guard on) with test-friendly timings."""
    return FetchConfig(per_host_delay=0.0, retries=0, obey_robots=False, connect_timeout=2.0, read_timeout=2.0, **overrides)


def test_the_guard_is_on_by_default() -> None:
    assert FetchConfig().allow_private_addresses is False


@pytest.mark.parametrize("address", list(PRIVATE.values()), ids=list(PRIVATE))
def test_private_address_after_resolution_is_refused_without_a_request(server: HostileServer, address: str) -> None:
    server.routes["/secret"] = page(ARTICLE)
    name = f"{PRIVATE_NAME}.example"
    before = len(server.log)
    result = fetch(server.url("/secret", host=name), guarded(), transport=LocalDNS(), resolver=dns({name: [PUBLIC, address]}))
    assert result.outcome == "failed" and result.reason == f"address not allowed: {name} resolves to {address}"
    assert len(server.log) == before, "the request reached the server"


PRIVATE_NAME = "intranet"


@pytest.mark.parametrize("address", list(PRIVATE.values()), ids=list(PRIVATE))
def test_private_address_literal_is_refused(server: HostileServer, address: str) -> None:
    host = f"[{address}]" if ":" in address else address
    result = fetch(f"http://{host}:{server.port}/secret", guarded(), transport=LocalDNS(), resolver=dns({}))
    assert result.outcome == "failed" and result.reason.startswith("address not allowed: ")
    assert not server.requests("/secret")


@pytest.mark.parametrize("address", list(PRIVATE.values()), ids=list(PRIVATE))
def test_redirect_to_a_private_address_is_refused(server: HostileServer, address: str) -> None:
    """The first hop is public; the redirect target resolves to a private address: only the first hop is sent."""
    path = f"/hop-{address}"
    server.routes[path] = redirect(f"http://sneaky.example:{server.port}/metadata")
    before = len(server.log)
    result = fetch(
        server.url(path, host="news.example"), guarded(), transport=LocalDNS(),
        resolver=dns({"news.example": [PUBLIC], "sneaky.example": [address]}),
    )
    assert result.reason == f"address not allowed: sneaky.example resolves to {address}"
    assert result.final_url == f"http://sneaky.example:{server.port}/metadata"
    assert server.log[before:] == [(f"news.example:{server.port}", path)]


def test_redirect_to_a_literal_metadata_address_is_refused(server: HostileServer) -> None:
    server.routes["/to-metadata"] = redirect("http://169.254.169.254/latest/meta-data/iam/")
    before = len(server.log)
    result = fetch(server.url("/to-metadata", host="news.example"), guarded(), transport=LocalDNS(), resolver=dns({}))
    assert result.reason == "address not allowed: 169.254.169.254"
    assert len(server.log) == before + 1


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://news.example/a", "gopher://news.example:70/_x", "dict://news.example:11211/stat",
    "ldap://news.example/", "data:text/html,<p>hi</p>", "javascript:alert(1)", "jar:http://news.example/a!/b",
])
def test_non_http_schemes_are_refused(url: str) -> None:
    result = fetch(url, guarded(), transport=LocalDNS(), resolver=dns({}))
    assert result.outcome == "failed"
    assert result.reason.startswith(("address not allowed: ", "invalid url")), result.reason


@pytest.mark.parametrize("scheme", ["file", "ftp", "gopher", "dict"])
def test_redirects_to_non_http_schemes_are_refused(server: HostileServer, scheme: str) -> None:
    server.routes[f"/to-{scheme}-x"] = redirect(f"{scheme}://localhost/etc/passwd")
    result = fetch(server.url(f"/to-{scheme}-x", host="news.example"), guarded(), transport=LocalDNS(), resolver=dns({}))
    assert result.reason == f"address not allowed: {scheme} URLs are never fetched"


def test_the_allow_option_turns_the_guard_off(server: HostileServer) -> None:
    server.routes["/allowed"] = page(ARTICLE)
    assert fetch(server.url("/allowed"), guarded(allow_private_addresses=True)).ok
    named = fetch(
        server.url("/allowed", host="intranet.example"), guarded(allow_private_addresses=True),
        transport=LocalDNS(), resolver=dns({"intranet.example": ["10.0.0.7"]}),
    )
    assert named.ok and named.body == ARTICLE.encode()
    assert not fetch(server.url("/allowed"), guarded()).ok  # and without it, the same URL is refused


# -- no secrets --------------------------------------------------------------------------------


def test_redact_url_and_text() -> None:
    assert redact_url("https://user:s3cret@news.example/a?b=1#c") == "https://news.example/a?b=1#c"
    assert redact_url("http://u:p@ss@news.example:8080/x") == "http://news.example:8080/x"
    assert redact_url("https://token@news.example/") == "https://news.example/"
    for same in ("https://news.example/a@b", "/tmp/pages/x@y.html", "mailto:a@b.example", "not a url"):
        assert redact_url(same) == same
    assert redact_secrets("GET https://a:s3cret@x.example/p and ftp://b:s3cret@y.example done, me@z.example") == (
        "GET https://x.example/p and ftp://y.example done, me@z.example"
    )


def test_log_lines_carry_no_credentials(server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    """httpx logs every request's full URL (credentials included) at INFO; ours redacts it."""
    server.routes["/private-page"] = page(ARTICLE)
    factory = logging.getLogRecordFactory()
    try:
        install_log_redaction()
        with caplog.at_level(logging.DEBUG):
            result = fetch(f"http://editor:s3cret@127.0.0.1:{server.port}/private-page")
            logging.getLogger("pagescrub.test").error("could not fetch %s", "https://editor:s3cret@news.example/a")
    finally:
        logging.setLogRecordFactory(factory)
    assert result.ok  # the credentials were still used for the request
    assert "HTTP Request: GET http://127.0.0.1:" in caplog.text
    assert "could not fetch https://news.example/a" in caplog.text
    assert "s3cret" not in caplog.text and "editor" not in caplog.text


@pytest.mark.prefect
def test_credentials_in_a_url_manifest_are_stored_nowhere(tmp_path: Path, cli_env: dict[str, str]) -> None:
    """Saved pages given URLs with credentials: records, manifest, failure entries, raw snapshots and the
    command's output name the URL without them (and the record id is the same as without them)."""
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "story.html").write_text(ARTICLE, encoding="utf-8")
    (pages / "login.html").write_text(corpus.login_page(), encoding="utf-8")
    urls = tmp_path / "urls.csv"
    urls.write_text(
        "path,url\n"
        f"{pages / 'story.html'},https://editor:s3cret@news.example/2023/harbour?utm_source=x\n"
        f"{pages / 'login.html'},https://editor:s3cret@news.example/login\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    run = subprocess.run(
        [EXE, "run", str(pages), "--manifest", str(urls), "--out", str(out), "--allow-failures", "--no-progress"],
        env=cli_env, capture_output=True, check=False, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    stored = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.parent.parent.name == "articles" for p in stored) and any(p.parent.parent.name == "failed" for p in stored)
    for path in stored:
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        assert b"s3cret" not in data and b"editor" not in data, path
    assert "s3cret" not in run.stdout + run.stderr
    (record,) = [json.loads(p.read_text()) for p in (out / "articles").rglob("*.json")]
    assert record["url"] == "https://news.example/2023/harbour"
    manifest = json.loads(next((out / "runs").glob("*.json")).read_text())
    assert {e["url"] for e in manifest["pages"]} == {
        "https://news.example/2023/harbour?utm_source=x", "https://news.example/login",
    }


def test_a_fetched_page_is_recorded_without_credentials() -> None:
    """What a fetch becomes in the pipeline (location, url, key: the manifest's input and url, the
    record's source.location, the raw snapshot's metadata) must not carry the URL's credentials."""
    from pagescrub.tasks import batch

    fetched = FetchResult(
        url="https://editor:s3cret@news.example/a", final_url="https://editor:s3cret@news.example/b",
        status=200, headers={"content-type": "text/html"}, body=ARTICLE.encode(), outcome="ok",
    )
    if not hasattr(batch, "clean_fetched"):
        pytest.skip("fetching is not wired into the batch yet")
    result = batch.clean_fetched(fetched)
    assert result.record is not None and result.raw is not None
    assert result.entry["input"] == result.record["source"]["location"] == "https://news.example/a"
    assert result.record["url"] == "https://news.example/b"
    blob = json.dumps([result.entry, result.record, result.failure, dataclasses.asdict(result.raw.meta)])
    assert "s3cret" not in blob and "editor" not in blob


@pytest.mark.prefect
def test_server_cases_through_the_cli(server: HostileServer, tmp_path: Path, cli_env: dict[str, str]) -> None:
    """The same misbehaving server through ``pagescrub run URL...`` (the guard's own cases need the
    test resolver, so they stay in the library tests above). One URL carries credentials."""
    server.routes["/members-only"] = page(ARTICLE)
    pages = [c for c in SERVER_CASES if c.expect != "discovery failed"]
    sitemaps = [c for c in SERVER_CASES if c.expect == "discovery failed"]
    secret_url = f"http://editor:s3cret@127.0.0.1:{server.port}/members-only"
    out = tmp_path / "out"
    args = [EXE, "run", *[server.url(c.path) for c in pages], secret_url, "--out", str(out), "--allow-failures",
            "--no-progress", "--allow-private-addresses", "--ignore-robots", "--retries", "0", "--timeout", "2",
            "--per-host-delay", "0", "--batch-tasks"]
    for case in sitemaps:
        args += ["--sitemap", server.url(case.path)]
    run = subprocess.run(args, env=cli_env, capture_output=True, check=False, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    manifest = json.loads(next((out / "runs").glob("*.json")).read_text(encoding="utf-8"))
    entries = {e["input"]: e for e in manifest["pages"]}
    assert len(entries) == len(manifest["pages"]) == len(pages) + 1 + len(sitemaps), sorted(entries)
    for case in pages:
        entry = entries[server.url(case.path)]
        if case.expect == "record":
            assert entry["status"] == "written", entry
        else:
            assert entry["status"] == "failed" and entry["reason"].startswith(case.reason), entry
    for case in sitemaps:
        entry = entries[server.url(case.path)]
        assert entry["status"] == "failed" and entry["reason"].startswith(case.reason), entry
    member = entries[f"http://127.0.0.1:{server.port}/members-only"]
    assert member["status"] == "written" and "s3cret" not in json.dumps(member)
    assert "s3cret" not in run.stdout + run.stderr
    leaks = []
    for path in (p for p in out.rglob("*") if p.is_file()):
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        if b"s3cret" in data:
            leaks.append(str(path.relative_to(out)))
    assert "s3cret" not in json.dumps(manifest.get("inputs"))  # the inputs as given, credentials stripped
    assert leaks == []
