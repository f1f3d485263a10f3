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


# -- S3: moto's server mode on loopback (a real HTTP S3 endpoint), dummy credentials --------------

_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    # Never read the developer's own AWS config, never ask an instance-metadata service.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_AWS_UNSET = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


class MotoServer:
    """moto's threaded S3 server on 127.0.0.1; can be stopped and started again on the same port.

    moto keeps its buckets in process memory, so a restarted server serves the same objects.
    """

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self._server = None

    def start(self) -> MotoServer:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket, so clients get 'connection refused'."""
        if self._server is not None:
            self._server.stop()
            self._server._server.server_close()  # stop() alone leaves the socket accepting into a dead backlog
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1")


@pytest.fixture(scope="session")
def aws_env() -> Iterator[dict[str, str]]:
    """Dummy AWS credentials for the whole session (moto accepts any unless IAM checks are turned on)."""
    saved = {k: os.environ.get(k) for k in (*_AWS_ENV, *_AWS_UNSET)}
    os.environ.update(_AWS_ENV)
    for key in _AWS_UNSET:
        os.environ.pop(key, None)
    yield dict(_AWS_ENV)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def moto_server(aws_env: dict[str, str]) -> Iterator[MotoServer]:
    """One S3 endpoint for the session, on a free loopback port."""
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(moto_server: MotoServer) -> str:
    """A new, empty bucket for one test."""
    import uuid

    name = f"pagescrub-{uuid.uuid4().hex[:12]}"
    moto_server.client().create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_options(moto_server: MotoServer):
    """Store options for the session's endpoint, with quick retries so fault tests stay short."""
    from pagescrub.tasks.store import StoreOptions

    return StoreOptions(endpoint_url=moto_server.url, addressing_style="path", max_attempts=2, retries=1, backoff_base=0.01)


@pytest.fixture
def s3_cli_env(cli_env: dict[str, str], aws_env: dict[str, str]) -> dict[str, str]:
    """cli_env plus the dummy AWS credentials, for the console script talking to moto."""
    env = {k: v for k, v in cli_env.items() if k not in _AWS_UNSET}
    env.update(aws_env)
    return env
