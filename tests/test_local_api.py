"""The CLI's own start of Prefect's temporary server (flows/local_api.py), with no API configured."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pagescrub.flows.local_api import reporting_to, start_if_unconfigured

from .conftest import SEEDS

EXE = str(Path(sys.executable).with_name("pagescrub"))


def _unconfigured_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "120"  # a new database migrates first: slow on a busy CI box
    return env


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purpose
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _processes_with(variable: str) -> list[int]:
    """Live processes whose environment holds ``variable`` (NAME=value)."""
    found, needle = [], variable.encode() + b"\0"
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/environ", "rb") as fh:
                    if needle in fh.read() + b"\0" and _alive(int(name)):
                        found.append(int(name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_run_with_no_api_reports_to_a_temporary_server_it_stops(tmp_path: Path) -> None:
    env = _unconfigured_env(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.run(
        [EXE, "run", str(SEEDS), "--out", str(out), "--no-progress"], env=env, capture_output=True, check=False, text=True, timeout=240
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(list((out / "articles").rglob("*.json"))) == 5
    # The run went to the temporary server's database in PREFECT_HOME, as Prefect's own temporary server does.
    db = tmp_path / "prefect-home" / "prefect.db"
    assert db.is_file()
    with sqlite3.connect(db) as conn:
        runs = conn.execute("select name, state_type from flow_run").fetchall()
    assert [(name, state) for name, state in runs if name.startswith("scrape-")] == [(f"scrape-{out}", "COMPLETED")]
    assert "Starting temporary server" not in proc.stderr  # not Prefect's: ours, started before the flow
    assert _processes_with(f"PREFECT_HOME={env['PREFECT_HOME']}") == []  # the server ended with the run


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize(("given", "expected"), [(None, "2"), ("8", "8")])
def test_the_server_gets_two_malloc_arenas_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch, given: str | None, expected: str
) -> None:
    from pagescrub.flows.local_api import LocalServer

    if given is None:
        monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    else:
        monkeypatch.setenv("MALLOC_ARENA_MAX", given)
    server = LocalServer()
    server.start()  # the process's environment is set at its start: it need not come up
    assert server.process is not None
    try:
        with open(f"/proc/{server.process.pid}/environ", "rb") as fh:
            variables = dict(item.split(b"=", 1) for item in fh.read().split(b"\0") if b"=" in item)
    finally:
        server.stop()
    assert variables[b"MALLOC_ARENA_MAX"] == expected.encode()


def test_nothing_started_when_an_api_is_configured() -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        assert start_if_unconfigured() is None


def test_nothing_started_when_prefect_is_asked_to(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.setenv("PAGESCRUB_TEMPORARY_SERVER", "prefect")
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert start_if_unconfigured() is None


def test_a_server_that_never_answers_is_stopped_and_left_to_prefect(capsys: pytest.CaptureFixture[str]) -> None:
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, temporary_settings

    from pagescrub.flows.local_api import LocalServer

    server = LocalServer()
    server.process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # listens on nothing
    pid = server.process.pid
    with temporary_settings(updates={PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: 1}):
        before = PREFECT_API_URL.value()
        with reporting_to(server):
            assert PREFECT_API_URL.value() == before  # nothing pointed at the dead server
    assert server.process is None and not _alive(pid)
    assert "did not answer" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_the_server_dies_with_a_killed_cli(tmp_path: Path) -> None:
    env = _unconfigured_env(tmp_path)
    script = (
        "import json, sys, time\n"
        "from pagescrub.flows.local_api import start_if_unconfigured\n"
        "s = start_if_unconfigured()\n"
        "print(json.dumps(s.process.pid), flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        server_pid = json.loads(parent.stdout.readline())
        assert _alive(server_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 20
        while _alive(server_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(server_pid), "the temporary server outlived the killed CLI"
    finally:
        if parent.poll() is None:
            parent.kill()
