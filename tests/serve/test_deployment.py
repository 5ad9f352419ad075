"""The production shape of docs/deployment.md, brought up on this machine: PostgreSQL for the
outcome store, a real `mlflow server` process whose backend store is PostgreSQL and which serves
a local artifact root, and `leadscore serve --workers 2`. A model is trained and promoted through
the tracking server (the CLI as a subprocess), leads are scored and outcomes posted over HTTP,
`leadscore retrain --from-store` promotes a better model, both workers swap to it, and
`/metrics` shows all of it.

Each store is a fresh schema of the database LEADSCORE_TEST_POSTGRES_URL names (`.ci/run` sets
it up); without it the test is skipped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from features.demo import CONTRACT_TOML, LEAD_FIELDS, generate_leads
from features.reading import write_table
from tests.conftest import free_port, start_server, wait_for_url
from tests.serve.postgres_schemas import fresh_schema
from tests.serve.scrape import Sample, scrape, total

pytestmark = pytest.mark.slow

KEY = "deployment-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
MLFLOW = Path(sys.executable).with_name("mlflow")
STRONG_COLUMNS = ["budget_status", "purchase_timeline", "demo_requested", "lead_source"]
# What the CRM sends to be scored: every field but the outcome it does not know yet.
SENT = [*LEAD_FIELDS, "created_at", "deal_value"]


@pytest.fixture
def mlflow_server(tmp_path) -> Iterator[str]:
    """`mlflow server` on PostgreSQL, serving the artifacts it keeps in a local folder."""
    with fresh_schema("mlflow") as backend:
        port = free_port()
        log = tmp_path / "mlflow-server.log"
        command = [
            str(MLFLOW), "server",
            "--backend-store-uri", backend,
            "--artifacts-destination", str(tmp_path / "mlflow-artifacts"),
            "--serve-artifacts",
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        ]  # fmt: skip
        with open(log, "wb") as out:
            server = subprocess.Popen(command, stdout=out, stderr=out, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_url(f"{base}/health", server, log, timeout=180)
            yield base
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)


@pytest.fixture
def deployment_env(tmp_path, mlflow_server, monkeypatch) -> Iterator[dict[str, str]]:
    with fresh_schema("store") as store:
        env = {
            "MLFLOW_TRACKING_URI": mlflow_server,
            "LEADSCORE_DATABASE_URL": store,
            "LEADSCORE_API_KEYS": KEY,
            "LEADSCORE_MODEL_POLL_SECONDS": "1",
            "LEADSCORE_SCORE_LOG_FLUSH_SECONDS": "0.2",
            "LEADSCORE_MODEL_CACHE_DIR": str(tmp_path / "model-cache"),
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        (tmp_path / "leads.toml").write_text(CONTRACT_TOML, encoding="utf-8")
        yield env


def run_cli(folder: Path, *args: object) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "leadscore_cli", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=folder)


def weak_export(folder: Path) -> Path:
    """Demo leads with their strongest columns shuffled: the first champion is weak."""
    frame = generate_leads(2500, 41)
    rng = np.random.default_rng(41)
    for column in STRONG_COLUMNS:
        frame[column] = rng.permutation(frame[column].to_numpy())
    path = folder / "export.csv"
    write_table(frame, path)
    return path


def new_leads(rows: int = 2000) -> pd.DataFrame:
    """Leads created after everything the champion learnt from."""
    frame = generate_leads(rows, 42)
    frame["created_at"] = (pd.to_datetime(frame["created_at"]) + pd.DateOffset(years=3)).astype(str)
    frame["lead_id"] = [f"DEP-{i}" for i in range(rows)]
    return frame


def post_leads_and_outcomes(client: httpx.Client, leads: pd.DataFrame) -> int:
    """Score every lead, then post the outcomes of the closed ones; how many were stored."""
    records = json.loads(leads[SENT].to_json(orient="records"))
    for start in range(0, len(records), 300):
        answer = client.post("/v1/score", json={"leads": records[start : start + 300]})
        assert answer.status_code == 200, answer.text
    time.sleep(1)  # both workers' score logs have written what they scored
    closed = leads[leads["outcome"] != "open"]
    outcomes = [{"lead_id": r.lead_id, "outcome": r.outcome} for r in closed.itertuples()]
    stored = 0
    for start in range(0, len(outcomes), 500):
        answer = client.post("/v1/outcomes", json={"outcomes": outcomes[start : start + 500]})
        assert answer.status_code == 200, answer.text
        stored += answer.json()["stored"]
    return stored


def versions_served(samples: list[Sample]) -> dict[str, str]:
    """Worker pid to the model version it serves, from `leadscore_model_info`."""
    return {
        s.labels["pid"]: s.labels["version"]
        for s in samples
        if s.name == "leadscore_model_info" and s.value == 1
    }


def wait_for_workers_on(client: httpx.Client, version: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        served = versions_served(scrape(client))
        if len(served) == 2 and set(served.values()) == {version}:
            return
        time.sleep(0.5)
    raise AssertionError(f"both workers never served version {version}: {served}")


def test_the_documented_deployment_runs_on_this_machine(tmp_path, deployment_env):
    trained = run_cli(tmp_path, "train", weak_export(tmp_path), "--config", "leads.toml")
    assert trained.returncode == 0, trained.stderr
    server = start_server(tmp_path, deployment_env, args=["--workers", "2", "--log-format", "json"])
    try:
        with httpx.Client(base_url=server.base, headers=AUTH, timeout=120) as client:
            wait_for_workers_on(client, "1")
            before = scrape(client)
            leads = new_leads()
            stored = post_leads_and_outcomes(client, leads)
            closed = int((leads["outcome"] != "open").sum())
            assert stored == closed

            report = tmp_path / "retrain.json"
            retrained = run_cli(
                tmp_path, "retrain", "--from-store", "--config", "leads.toml",
                "--report-json", report,
            )  # fmt: skip
            assert retrained.returncode == 0, retrained.stderr
            written = json.loads(report.read_text())
            assert written["data"]["sources"]["store"] == closed
            assert (written["decision"], written["model_version"]) == ("promoted", "2")
            wait_for_workers_on(client, "2")
            after = scrape(client)
    finally:
        server.stop()

    def moved(metric: str, **labels: str) -> float:
        return total(after, metric, **labels) - total(before, metric, **labels)

    batches = -(-len(leads) // 300)
    assert moved("leadscore_http_requests_total", route="/v1/score", status="200") == batches
    assert moved("leadscore_leads_scored_total") == len(leads)
    assert moved("leadscore_outcomes_total", result="stored") == closed
    assert moved("leadscore_score_log_rows_total", result="written") == len(leads)
    assert moved("leadscore_model_registry_success_timestamp_seconds") > 0
    assert total(after, "leadscore_model_info", version="1") == 0  # swapped in both workers

    assert server.process.returncode == 0
    with sa.create_engine(deployment_env["LEADSCORE_DATABASE_URL"]).connect() as connection:
        logged = connection.execute(sa.text("SELECT count(*) FROM score_log")).scalar_one()
    assert logged == len(leads)
    # the model versions' files went to the tracking server's artifact root
    assert list((tmp_path / "mlflow-artifacts").rglob("MLmodel"))
    lines = [json.loads(line) for line in server.output().splitlines() if line.strip()]
    assert any("serving models:/leadscore/2" in line["message"] for line in lines)
    assert not [line for line in lines if line["level"] == "ERROR"]
