"""A real server process: what it promises survives `kill -9` and a clean shutdown, and it
serves its cached model when the registry cannot be reached."""

import os
import signal

import httpx
import sqlalchemy as sa
from fastapi.testclient import TestClient

from serve.api.app import create_app
from serve.api.settings import Settings
from serve.store.tables import outcomes, score_log
from tests.conftest import start_server

KEY = "process-key"
AUTH = {"X-API-Key": KEY}


def server_env(trained_model, database: str, **extra: str) -> dict[str, str]:
    return {
        "MLFLOW_TRACKING_URI": trained_model.tracking_uri,
        "LEADSCORE_DATABASE_URL": f"sqlite:///{database}",
        "LEADSCORE_API_KEYS": KEY,
        **extra,
    }


def test_acknowledged_outcomes_survive_kill_9(trained_model, tmp_path):
    database = tmp_path / "store.db"
    server = start_server(tmp_path, server_env(trained_model, database))
    batch = [
        {"lead_id": f"K{i}", "outcome": "won" if i % 2 else "lost", "value": float(i)}
        for i in range(25)
    ]
    try:
        with httpx.Client(base_url=server.base, headers=AUTH, timeout=30) as client:
            for i in range(0, 25, 5):
                answer = client.post("/v1/outcomes", json={"outcomes": batch[i : i + 5]})
                assert answer.status_code == 200 and answer.json()["stored"] == 5
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
    finally:
        server.stop()
    with sa.create_engine(f"sqlite:///{database}").connect() as connection:
        stored = connection.execute(sa.select(outcomes.c.lead_id, outcomes.c.value)).all()
    assert sorted(stored) == sorted((o["lead_id"], o["value"]) for o in batch)


def test_a_clean_shutdown_writes_every_score_log_row(trained_model, tmp_path):
    database = tmp_path / "store.db"
    env = server_env(trained_model, database, LEADSCORE_SCORE_LOG_FLUSH_SECONDS="600")
    server = start_server(tmp_path, env)
    leads = [
        {"lead_id": f"S{i}", "web_visits": i, "contact_email": f"p{i}@x.example"} for i in range(40)
    ]
    try:
        with httpx.Client(base_url=server.base, headers=AUTH, timeout=30) as client:
            for i in range(0, 40, 4):
                assert client.post("/v1/score", json={"leads": leads[i : i + 4]}).status_code == 200
    finally:
        server.stop()
    assert "Application shutdown complete" in server.output()
    with sa.create_engine(f"sqlite:///{database}").connect() as connection:
        rows = connection.execute(sa.select(score_log).order_by(score_log.c.id)).all()
    assert [r.lead_id for r in rows] == [f"S{i}" for i in range(40)]
    assert all("contact_email" not in r.fields for r in rows)
    assert "p1@x.example" not in server.output()


def test_the_cached_model_serves_when_the_registry_is_unreachable(
    trained_model, use_trained_store, tmp_path, monkeypatch
):
    cache = tmp_path / "cache"
    with TestClient(create_app(Settings(model_cache_dir=cache))) as client:
        client.app.state.holder.wait_settled(60)  # the model loads in the background
        assert client.get("/ready").json() == {"ready": True, "model_version": "1"}
        expected = client.post("/v1/score", json={"leads": [{"web_visits": 4}]}).json()

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "3")
    with TestClient(create_app(Settings(model_cache_dir=cache))) as client:
        client.app.state.holder.wait_settled(60)  # the model loads in the background
        ready = client.get("/ready").json()
        assert ready["ready"] and ready["model_version"] == "1" and ready["source"] == "cache"
        assert ready["reason"].startswith("serving version 1 cached at")
        assert "registry unreachable" in ready["reason"]
        info = client.get("/v1/model").json()
        assert info["source"] == "cache" and "cached at" in info["notice"]
        again = client.post("/v1/score", json={"leads": [{"web_visits": 4}]}).json()
        assert again == expected

    with TestClient(create_app(Settings(model_cache_dir=tmp_path / "empty"))) as client:
        client.app.state.holder.wait_settled(60)  # the model loads in the background
        not_ready = client.get("/ready")
        assert not_ready.status_code == 503 and "127.0.0.1:9" in not_ready.json()["reason"]
