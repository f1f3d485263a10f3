"""Shared fixtures: one local Prefect server for the whole session, the seed pages."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Tests never reach the internet: no telemetry from the servers they start.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = FIXTURES / "seeds"


@pytest.fixture(scope="session")
def prefect_api_url() -> Iterator[str]:
    """A temporary Prefect server shared by every test that runs a flow (starting one costs ~7 s)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield str(PREFECT_API_URL.value())


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS


@pytest.fixture(scope="session")
def seeds_expected() -> dict:
    return json.loads((SEEDS / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture
def cli_env(prefect_api_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for running the real `pagescrub` console script against the session's server."""
    env = dict(os.environ)
    env["PREFECT_API_URL"] = prefect_api_url
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    env.pop("PREFECT_PROFILE", None)
    return env
