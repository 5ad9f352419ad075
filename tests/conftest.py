"""Shared fixtures: small generated exports and one model trained into a temporary MLflow store."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from features.demo import write_demo
from leadscore_cli import app

DEMO_ROWS = 4000
# A lead every demo model should rank high: the fields a CRM sends, before handoff.
STRONG_LEAD = {
    "lead_id": "N1",
    "industry": "Software",
    "company_size": "201-1000",
    "job_title_level": "VP",
    "lead_source": "Referral",
    "purchase_timeline": "0-3 months",
    "budget_status": "Approved",
    "web_visits": 9,
    "email_opens": 12,
    "demo_requested": "yes",
}


@pytest.fixture(autouse=True)
def _environment_as_it_was() -> Iterator[None]:
    """A command run in this process (typer's CliRunner) sets defaults in the environment for
    its process, such as MLflow's retries; they must not reach later tests or the servers those
    start."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _mlflow_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test talks to its own temporary MLflow store unless a fixture gives it another,
    and its own outcome store and model cache."""
    folder = tmp_path_factory.mktemp("mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")
    monkeypatch.setenv("LEADSCORE_DATABASE_URL", f"sqlite:///{folder / 'leadscore.db'}")
    monkeypatch.setenv("LEADSCORE_MODEL_CACHE_DIR", str(folder / "model-cache"))


@dataclass(frozen=True)
class TrainedModel:
    folder: Path
    data: Path
    contract: Path
    tracking_uri: str
    report: dict


@pytest.fixture(scope="session")
def demo_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("demo")
    data = folder / "leads.csv"
    contract = write_demo(data, DEMO_ROWS, seed=3)
    return data, contract


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory, demo_export) -> TrainedModel:
    """One model trained through the CLI, registered as champion of a store of its own."""
    data, contract = demo_export
    folder = tmp_path_factory.mktemp("trained")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    report = folder / "report.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        result = CliRunner().invoke(
            app, ["train", str(data), "--config", str(contract), "--report-json", str(report)]
        )
    assert result.exit_code == 0, result.output
    return TrainedModel(folder, data, contract, uri, json.loads(report.read_text()))


@pytest.fixture
def use_trained_store(trained_model: TrainedModel, monkeypatch: pytest.MonkeyPatch) -> TrainedModel:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained_model.tracking_uri)
    return trained_model


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    """A real `leadscore serve` process; its output goes to a file so it never blocks."""

    base: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """A clean shutdown, as a service manager does it (SIGTERM)."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def start_server(
    folder: Path, env: dict[str, str] | None = None, ready: bool = True, args: Sequence[str] = ()
):
    """Start `leadscore serve` in `folder` on a free port, with more options in `args`; wait
    for /ready unless told not to."""
    port = free_port()
    log = folder / f"server-{port}.log"
    command = [sys.executable, "-m", "leadscore_cli", "serve", "--port", str(port), *args]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, env={**os.environ, **(env or {})}, cwd=folder, stdout=out, stderr=out
        )
    server = ServerProcess(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until_up(server, "/ready" if ready else "/health")
    except AssertionError:
        server.stop()
        raise
    return server


@pytest.fixture
def running_server(trained_model: TrainedModel) -> Iterator[str]:
    """A real `leadscore serve` process on a free port; yields its base URL."""
    server = start_server(trained_model.folder, {"MLFLOW_TRACKING_URI": trained_model.tracking_uri})
    try:
        yield server.base
    finally:
        server.stop()


def wait_until_up(server: ServerProcess, path: str = "/ready", timeout: float = 90) -> None:
    wait_for_url(f"{server.base}{path}", server.process, server.log, timeout)


def wait_for_url(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Poll `url` until it answers 200; fail with the process's output if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url}: server exited: {log.read_text(errors='replace')}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not up after {timeout} s: {log.read_text(errors='replace')}")
