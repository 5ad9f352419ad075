"""What the API acknowledges is kept: a score answered 200 is in the score log even when the
server is killed with `kill -9` right after (outcomes: see tests/serve/test_server_process.py),
a store that cannot keep a request's leads answers 503 and keeps none of them, and what the
score log keeps is bounded: a lead's fields by size, all rows by age."""

import os
import signal
import sqlite3
import threading
import time

import httpx
import sqlalchemy as sa

from tests.conftest import start_server


def env_for(trained_model, database, **settings: str) -> dict[str, str]:
    return {
        "MLFLOW_TRACKING_URI": trained_model.tracking_uri,
        "LEADSCORE_DATABASE_URL": f"sqlite:///{database}",
        "LEADSCORE_ACCESS_LOG": "false",
        **{f"LEADSCORE_{name.upper()}": value for name, value in settings.items()},
    }


def stored_rows(database) -> list[tuple]:
    with sa.create_engine(f"sqlite:///{database}").connect() as connection:
        return connection.execute(sa.text("SELECT lead_id, fields FROM score_log")).all()


def test_every_acknowledged_score_survives_kill_9(trained_model, tmp_path):
    database = tmp_path / "store.db"
    # a flush interval far longer than the test: only the commit before the answer keeps them
    server = start_server(tmp_path, env_for(trained_model, database, score_log_flush_seconds="600"))
    acknowledged: list[str] = []
    stop = threading.Event()

    def client(name: str) -> None:
        with httpx.Client(base_url=server.base, timeout=30) as http:
            for i in range(10_000):
                if stop.is_set():
                    return
                leads = [{"lead_id": f"{name}-{i}-{j}", "web_visits": j} for j in range(3)]
                try:
                    answer = http.post("/v1/score", json={"leads": leads})
                except httpx.HTTPError:
                    return
                if answer.status_code == 200:
                    acknowledged.extend(lead["lead_id"] for lead in leads)

    clients = [threading.Thread(target=client, args=(f"C{n}",)) for n in range(4)]
    try:
        for thread in clients:
            thread.start()
        while len(acknowledged) < 300:
            time.sleep(0.05)
        os.kill(server.process.pid, signal.SIGKILL)  # while the clients are still posting
        server.process.wait(timeout=10)
    finally:
        stop.set()
        for thread in clients:
            thread.join()
        server.stop()
    stored = {lead_id for lead_id, _ in stored_rows(database)}
    assert len(acknowledged) >= 300
    assert set(acknowledged) <= stored, f"{len(set(acknowledged) - stored)} acknowledged lost"


def test_a_store_that_cannot_keep_the_leads_answers_503_and_keeps_none(trained_model, tmp_path):
    database = tmp_path / "store.db"
    env = env_for(trained_model, database, store_busy_timeout_seconds="0.5")
    server = start_server(tmp_path, env)
    leads = [{"lead_id": f"B{i}", "web_visits": i} for i in range(5)]
    try:
        other_writer = sqlite3.connect(database, isolation_level=None)
        other_writer.execute("BEGIN EXCLUSIVE")
        busy = httpx.post(f"{server.base}/v1/score", json={"leads": leads}, timeout=30)
        other_writer.execute("ROLLBACK")
        other_writer.close()
        kept_while_busy = len(stored_rows(database))
        again = httpx.post(f"{server.base}/v1/score", json={"leads": leads}, timeout=30)
    finally:
        server.stop()
    assert busy.status_code == 503 and busy.headers["Retry-After"].isdigit(), busy.text
    assert kept_while_busy == 0
    assert again.status_code == 200
    assert sorted(lead_id for lead_id, _ in stored_rows(database)) == [f"B{i}" for i in range(5)]


def test_a_lead_over_the_size_limit_keeps_only_the_fields_the_model_reads(trained_model, tmp_path):
    database = tmp_path / "store.db"
    server = start_server(
        tmp_path, env_for(trained_model, database, score_log_max_lead_bytes="4096")
    )
    small = {"lead_id": "S1", "web_visits": 3, "notes": "called twice"}
    huge = {"lead_id": "H1", "web_visits": 4, "notes": "x" * 2_000_000, "industry": "y" * 5000}
    try:
        answer = httpx.post(f"{server.base}/v1/score", json={"leads": [small, huge]}, timeout=60)
    finally:
        server.stop()
    assert answer.status_code == 200
    fields = {lead_id: str(kept) for lead_id, kept in stored_rows(database)}
    assert "called twice" in fields["S1"]
    assert len(fields["H1"]) < 4096 and "web_visits" in fields["H1"]
    assert "notes" not in fields["H1"] and "y" * 200 in fields["H1"]


def test_rows_past_the_retention_are_deleted(trained_model, tmp_path):
    database = tmp_path / "store.db"
    two_seconds = str(2 / 86400)
    env = env_for(trained_model, database, score_log_retention_days=two_seconds)
    old = start_server(tmp_path, env)
    try:
        assert httpx.post(f"{old.base}/v1/score", json={"leads": [{"lead_id": "OLD"}]}).is_success
    finally:
        old.stop()
    time.sleep(2.5)
    new = start_server(tmp_path, env)  # deletes what is past the retention as it starts
    try:
        assert httpx.post(f"{new.base}/v1/score", json={"leads": [{"lead_id": "NEW"}]}).is_success
    finally:
        new.stop()
    assert [lead_id for lead_id, _ in stored_rows(database)] == ["NEW"]
