"""A registry that does not answer at start: the server listens at once (a liveness probe never
kills it), says in `/ready` that the registry is unreachable, serves its cached model as soon as
that is known, and never shows the tracking URI's password: not in `/ready`, not in `/v1/model`,
not in its log. A command run against it says so after a few retries."""

import os
import socket
import subprocess
import sys
import time

import httpx

from features.demo import write_demo
from leadscore_cli import REGISTRY_RETRIES
from tests.conftest import start_server

SECRET = "s3cr3t-Passw0rd"
KEY = "outage-key"


def unreachable_registry() -> str:
    """A tracking server URI with credentials, on a port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://ops:{SECRET}@127.0.0.1:{port}"


def test_with_no_cache_the_server_listens_at_once_and_says_why(tmp_path):
    env = {
        "MLFLOW_TRACKING_URI": unreachable_registry(),
        "LEADSCORE_MODEL_CACHE_DIR": str(tmp_path / "empty-cache"),
        "LEADSCORE_API_KEYS": KEY,
    }
    # start_server waits for /health only, and fails unless it answers within 90 s (MLflow's
    # own retries alone take about four minutes)
    server = start_server(tmp_path, env, ready=False)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready = httpx.get(f"{server.base}/ready")
            if "registry unreachable" in ready.text:
                break
            time.sleep(0.2)
        scored = httpx.post(
            f"{server.base}/v1/score", json={"leads": [{}]}, headers={"X-API-Key": KEY}
        )
    finally:
        server.stop()
    assert ready.status_code == 503, ready.text
    assert ready.json()["reason"].startswith("registry unreachable: http://***@127.0.0.1:")
    assert scored.status_code == 503 and "registry unreachable" in scored.json()["detail"]
    assert SECRET not in ready.text + scored.text + server.output()


def test_the_cached_model_serves_as_soon_as_the_registry_is_known_unreachable(
    trained_model, tmp_path
):
    cache = str(tmp_path / "cache")
    env = {"LEADSCORE_MODEL_CACHE_DIR": cache, "LEADSCORE_API_KEYS": KEY}
    first = start_server(tmp_path, {**env, "MLFLOW_TRACKING_URI": trained_model.tracking_uri})
    first.stop()
    server = start_server(tmp_path, {**env, "MLFLOW_TRACKING_URI": unreachable_registry()})
    try:
        ready = httpx.get(f"{server.base}/ready")
        info = httpx.get(f"{server.base}/v1/model", headers={"X-API-Key": KEY})
    finally:
        server.stop()
    assert ready.json()["source"] == "cache" and ready.json()["model_version"] == "1"
    assert "registry unreachable: http://***@127.0.0.1:" in ready.json()["reason"]
    assert info.json()["source"] == "cache" and "registry unreachable" in info.json()["notice"]
    assert SECRET not in ready.text + info.text + server.output()


def test_a_command_says_the_registry_is_unreachable_after_a_few_retries(tmp_path):
    """`leadscore rollback` and `performance` waited out MLflow's seven retries (about four
    minutes); rollback then said the model had no previous version, and `train` gave a
    traceback."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": unreachable_registry()}
    contract = write_demo(tmp_path / "leads.csv", 300, seed=1)
    for command in (["rollback"], ["train", "leads.csv", "--config", contract]):
        result = subprocess.run(
            [sys.executable, "-m", "leadscore_cli", *map(str, command)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 2, result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("error: registry unreachable: http://***@127.0.0.1:"), last
        assert result.stderr.count("Retrying") == REGISTRY_RETRIES
        assert SECRET not in result.stderr
