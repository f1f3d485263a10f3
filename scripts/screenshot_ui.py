#!/usr/bin/env python3
"""Screenshot a pagescrub flow run in the Prefect UI, for the README.

    .venv/bin/python scripts/screenshot_ui.py [--out docs/prefect-ui-run.png] [--keep]

What it does, all on this machine:

1. starts ``prefect server start`` on a free 127.0.0.1 port with a temporary
   ``PREFECT_HOME`` (the UI on, telemetry off);
2. runs a small backfill window of a ``saved`` source in this process against it
   (the bundled sample pages plus two broken files, so the failures artifact
   has something to show): a run named ``sample-pages-<window>``, tagged
   ``backfill``, ``source:sample-pages``, ``kind:saved``, with its progress,
   per-host, summary and failures artifacts;
3. takes screenshots of the flow run page (``docs/prefect-ui-run.png``) and of
   its failures artifact (``docs/prefect-ui-failures.png``) with headless
   Chromium from Debian's packages (``apt-get install -y chromium``);
4. stops the server and removes the temporary files (``--keep`` leaves the
   server running and prints its URL, to look around by hand).

Check the pictures: a blank page or an error page means the UI had not
rendered; raise ``--budget`` (Chromium's virtual-time budget, ms).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "tests" / "fixtures" / "seeds"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1400,900",
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(api: str, server: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"prefect server exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{api}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"prefect server not healthy after {timeout:.0f}s")


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("no chromium: apt-get install -y chromium")


def screenshot(url: str, out: Path, profile: Path, budget_ms: int) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [
        chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}",
        f"--screenshot={out}", url,
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    if not out.is_file() or out.stat().st_size < 10_000:
        raise SystemExit(f"no usable screenshot at {out}")
    print(f"screenshot: {out} ({url})")


def artifact_id(run_id: str, key: str) -> str:
    import asyncio

    from prefect.client.orchestration import get_client

    from pagescrub.flows import ops

    async def find() -> str:
        async with get_client() as client:
            found = await ops.read_run_artifacts(client, [run_id], key_like=key)
        return str(next(a.id for a in found if a.key == key))

    return asyncio.run(find())


def sample_run(work: Path) -> str:
    """A backfill window of a saved source, run here against the server; returns the flow run id."""
    from pagescrub.flows import ops
    from pagescrub.flows.scrape import scrape

    pages = work / "pages"
    shutil.copytree(SEEDS, pages, ignore=shutil.ignore_patterns("*.json"))
    (pages / "empty.html").write_bytes(b"")
    (pages / "photo.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(256))
    sources = work / "sources.yaml"
    sources.write_text(
        "sources:\n"
        "  - name: sample-pages\n"
        "    kind: saved\n"
        "    description: The bundled sample captures of one news story, and two broken files.\n"
        f"    paths: [{pages}]\n"
        f"    out: {work / 'out'}\n"
        "    tags: [sample]\n",
        encoding="utf-8",
    )
    result = ops.backfill(sources, "sample-pages", "2022-02-09", "2022-02-09", "1d", local=True, flow=scrape)
    (name,) = result.created
    print(f"flow run {name}: {result.states[name]}")
    runs = [r for r in ops.recent_runs(5, source="sample-pages") if r["name"] == name]
    return runs[0]["id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "prefect-ui-run.png")
    parser.add_argument("--failures-out", type=Path, default=ROOT / "docs" / "prefect-ui-failures.png")
    parser.add_argument("--budget", type=int, default=15000, help="Chromium's --virtual-time-budget, ms")
    parser.add_argument("--keep", action="store_true", help="leave the server running (and its files)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pagescrub-ui-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(work / "prefect-home"),
        PREFECT_UI_ENABLED="true",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_API_URL=f"{base}/api",
    )
    prefect = str(Path(sys.executable).with_name("prefect"))
    log = open(work / "server.log", "wb")  # noqa: SIM115 - open for the server's lifetime
    server = subprocess.Popen(
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        wait_healthy(f"{base}/api", server)
        # This process talks to that server from here on.
        os.environ.update({k: v for k, v in env.items() if k.startswith("PREFECT_")}, PREFECT_API_URL=f"{base}/api")
        run_id = sample_run(work)
        profile = work / "chromium"
        screenshot(f"{base}/runs/flow-run/{run_id}", args.out, profile, args.budget)
        # The run page's tabs do not follow ?tab= when loaded cold: the artifact has a page of its own.
        screenshot(f"{base}/artifacts/artifact/{artifact_id(run_id, 'scrape-failures')}", args.failures_out, profile, args.budget)
        if args.keep:
            print(f"server still running at {base} (pid {server.pid}); stop it with: kill -- -{server.pid}")
            return
    finally:
        if not args.keep:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(server.pid, signal.SIGKILL)
            log.close()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
