"""A model version whose booster was truncated in the artifact store (as an attacker or a failing
disk leaves it) is refused before LightGBM parses it, which would abort the process: a running
server keeps serving the version it has, a server that starts on it serves its cached model or
says why it cannot, and the CLI exits 2 with the reason. Nothing crashes."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import mlflow
import pytest
from mlflow.tracking import MlflowClient

from features.demo import generate_leads
from serve.model.loading import CHAMPION, load_lead_model
from serve.model.tracking import configure_tracking, tracking_uri
from tests.conftest import start_server
from train.registry.experiment import use_experiment
from train.registry.versions import log_and_register

KEY = "broken-version-key"
AUTH = {"X-API-Key": KEY}
LEAD = {"lead_id": "B1", "lead_source": "Referral", "web_visits": 6}


@pytest.fixture
def registry(use_trained_store, tmp_path, monkeypatch) -> MlflowClient:
    """A registry of its own: version 1 (the trained model) is champion; version 2, the same
    model, then had its booster truncated in the artifact store."""
    model = load_lead_model("models:/leadscore@champion").model
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'registry.db'}")
    client = configure_tracking()
    with mlflow.start_run(experiment_id=use_experiment(client)):
        for _ in range(2):
            log_and_register(model, generate_leads(20, seed=5), "leadscore")
    client.set_registered_model_alias("leadscore", CHAMPION, "1")
    folder = client.get_model_version_download_uri("leadscore", "2").removeprefix("file://")
    booster = next(Path(folder).rglob("booster.txt"))
    booster.write_bytes(booster.read_bytes()[: booster.stat().st_size // 2])
    return client


def server_env(**extra: str) -> dict[str, str]:
    return {
        "MLFLOW_TRACKING_URI": tracking_uri(),
        "LEADSCORE_API_KEYS": KEY,
        "LEADSCORE_MODEL_POLL_SECONDS": "0.3",
        **extra,
    }


def wait_for(condition, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def scored_version(base: str) -> str:
    answer = httpx.post(f"{base}/v1/score", json={"leads": [LEAD]}, headers=AUTH, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["model_version"]


def test_a_running_server_refuses_the_broken_version_and_keeps_serving(registry, tmp_path):
    server = start_server(tmp_path, server_env())
    try:
        assert scored_version(server.base) == "1"
        registry.set_registered_model_alias("leadscore", CHAMPION, "2")
        assert wait_for(lambda: "refused version 2" in server.output()), server.output()
        time.sleep(1)  # several more polls: the refused version is not tried again
        assert server.process.poll() is None, server.output()
        assert scored_version(server.base) == "1"
        info = httpx.get(f"{server.base}/v1/model", headers=AUTH).json()
    finally:
        server.stop()
    assert info["version"] == "1"
    assert "booster.txt" in info["refused"]["2"] and "checksum" in info["refused"]["2"]
    assert server.output().count("refused version 2") == 1


def test_a_server_starting_on_the_broken_champion_serves_its_cache_or_says_why(registry, tmp_path):
    first = start_server(tmp_path, server_env())  # loads version 1 and caches it
    first.stop()
    registry.set_registered_model_alias("leadscore", CHAMPION, "2")

    cached = start_server(tmp_path, server_env())
    try:
        ready = httpx.get(f"{cached.base}/ready").json()
        assert scored_version(cached.base) == "1"
    finally:
        cached.stop()
    assert ready["model_version"] == "1" and ready["source"] == "cache"
    assert "version 2" in ready["reason"] and "checksum" in ready["reason"]

    no_cache = start_server(
        tmp_path, server_env(LEADSCORE_MODEL_CACHE_DIR=str(tmp_path / "empty")), ready=False
    )
    try:
        assert wait_for(lambda: "refused version 2" in no_cache.output()), no_cache.output()
        time.sleep(1)
        not_ready = httpx.get(f"{no_cache.base}/ready")
        assert no_cache.process.poll() is None, no_cache.output()
    finally:
        no_cache.stop()
    assert not_ready.status_code == 503
    assert "version 2" in not_ready.json()["reason"] and "checksum" in not_ready.json()["reason"]


def leadscore(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "leadscore_cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=600,
        env={**os.environ, "MLFLOW_TRACKING_URI": tracking_uri()},
    )


def assert_one_line_refusal(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    message = result.stderr.strip()
    assert message.startswith("error: ") and "\n" not in message, message
    assert "booster.txt" in message and "checksum" in message


def test_score_and_retrain_refuse_the_broken_champion_with_exit_2(
    registry, trained_model, tmp_path
):
    registry.set_registered_model_alias("leadscore", CHAMPION, "2")
    leads = tmp_path / "leads.csv"
    generate_leads(50, seed=9).to_csv(leads, index=False)
    assert_one_line_refusal(leadscore("score", str(leads), "-o", "out.csv", cwd=tmp_path))
    assert not (tmp_path / "out.csv").exists()
    retrain = leadscore(
        "retrain", str(trained_model.data), "--config", str(trained_model.contract), cwd=tmp_path
    )
    assert_one_line_refusal(retrain)
