"""The Prefect API a CLI run reports to, when none is configured.

With no ``PREFECT_API_URL``, Prefect starts a temporary server on a flow's first
call, but only after importing its whole server application (FastAPI, SQLAlchemy,
every model) into the calling process: about 2 s of CPU before the server's own
start, and about 75 MB that stay in the run's process to its end. The CLI starts
the same server, the same way (``uvicorn --factory prefect.server.api.server:create_app``
with Prefect's ephemeral settings, on a free loopback port), as its first step:
it boots while the CLI loads its own modules, and the server's code never enters
the run's process. Everything Prefect would do is kept: same database
(``PREFECT_HOME``), same settings, stopped when the process exits.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

_HEALTH_PATH = "/api/health"
_STOP_WAIT_SECONDS = 5.0  # as Prefect's own temporary server: terminate, then kill


class LocalServer:
    """A temporary Prefect server in a subprocess of this one (Prefect's ephemeral server, started early)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> None:
        from prefect.settings import get_current_settings

        env = {
            # glibc gives each of the server's threads (its database connections each have one) a
            # malloc arena that keeps freed memory: two arenas took its peak RSS from 252 to 220 MB
            # over a 1500-page run, its CPU the same. A value in the environment wins.
            "MALLOC_ARENA_MAX": "2",
            **os.environ,
            # What Prefect's SubprocessASGIServer sets: no UI, ephemeral services only.
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
            **get_current_settings().to_environment_variables(exclude_unset=True),
        }
        env.pop("PREFECT_API_URL", None)
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
                "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509 - no threads yet
        )
        atexit.register(self.stop)  # registered before Prefect's log and event workers: stopped after they flush

    def wait_ready(self, timeout: float) -> None:
        """Block until the API answers; RuntimeError if the process ends or the time runs out."""
        import httpx

        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    code = None if self.process is None else self.process.returncode
                    raise RuntimeError(f"the temporary Prefect server exited with code {code}")
                try:
                    if client.get(f"http://127.0.0.1:{self.port}{_HEALTH_PATH}").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(f"the temporary Prefect server did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=_STOP_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_if_unconfigured() -> LocalServer | None:
    """Start a temporary server when Prefect would start one (no API URL, ephemeral mode allowed).

    Returns None when an API is configured, or when ``PAGESCRUB_TEMPORARY_SERVER=prefect``
    leaves the start to Prefect itself.
    """
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if settings.api.url or not settings.server.ephemeral.enabled:
        return None
    if os.environ.get("PAGESCRUB_TEMPORARY_SERVER", "").lower() == "prefect":
        return None
    server = LocalServer()
    server.start()
    return server


@contextlib.contextmanager
def reporting_to(server: LocalServer | None) -> Iterator[None]:
    """Flow runs inside report to ``server`` (once it answers); with None, to what Prefect is configured with.

    A server that does not come up is stopped and left to Prefect, which then
    starts its own: a slow start costs time, never the run.
    """
    if server is None:
        yield
        return
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    try:
        server.wait_ready(float(get_current_settings().server.ephemeral.startup_timeout_seconds))
    except RuntimeError as exc:
        server.stop()
        print(f"pagescrub: {exc}; Prefect starts its own", file=sys.stderr)
        yield
        return
    updates: dict[Any, Any] = {PREFECT_API_URL: server.api_url}
    with temporary_settings(updates=updates):
        yield


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: SIGTERM when the CLI dies, even by SIGKILL, so no server outlives its run."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort: without it the server is stopped at exit as before
        pass
