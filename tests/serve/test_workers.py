"""Several worker processes: `leadscore serve --workers 2` serves with one model holder per
worker and loses no acknowledged lead of the score log; an API without keys refuses to listen on
the network however it is started (the command, or uvicorn by hand, one process or several)."""

import multiprocessing
import os
import subprocess
import sys
import threading
import time

import httpx
import pytest
import sqlalchemy as sa

from serve.store.database import VERSION_TABLE, StoreError, open_store
from tests.conftest import STRONG_LEAD, free_port, start_server
from tests.serve.postgres_schemas import fresh_schema
from tests.serve.scrape import scrape, total

KEY = "workers-test-key"
AUTH = {"X-API-Key": KEY}
CLIENTS, REQUESTS, LEADS = 6, 15, 3
GUARD_LINE = "host 0.0.0.0 is reachable from other machines and LEADSCORE_API_KEYS is empty"


def without_keys() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "LEADSCORE_API_KEYS"}


def test_two_workers_serve_and_every_acknowledged_lead_is_in_the_score_log(trained_model, tmp_path):
    database = tmp_path / "store.db"
    env = {
        "MLFLOW_TRACKING_URI": trained_model.tracking_uri,
        "LEADSCORE_API_KEYS": KEY,
        "LEADSCORE_DATABASE_URL": f"sqlite:///{database}",
        "LEADSCORE_SCORE_LOG_FLUSH_SECONDS": "0.3",
    }
    server = start_server(tmp_path, env, args=["--workers", "2"])
    acknowledged: list[str] = []
    failures: list[str] = []

    def post_leads(client_number: int) -> None:
        with httpx.Client(base_url=server.base, headers=AUTH, timeout=60) as client:
            for request in range(REQUESTS):
                ids = [f"W{client_number}-{request}-{i}" for i in range(LEADS)]
                body = {"leads": [{**STRONG_LEAD, "lead_id": i} for i in ids]}
                answer = client.post("/v1/score", json=body)
                if answer.status_code == 200:
                    acknowledged.extend(ids)
                else:
                    failures.append(answer.text)

    try:
        wait_for_workers(server.base, 2)
        threads = [threading.Thread(target=post_leads, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with httpx.Client(base_url=server.base, headers=AUTH, timeout=30) as client:
            samples = scrape(client)
    finally:
        server.stop()
    assert not failures and len(acknowledged) == CLIENTS * REQUESTS * LEADS
    assert len(serving_workers(samples)) == 2
    assert total(samples, "leadscore_leads_scored_total") == len(acknowledged)  # added up
    assert server.process.returncode == 0
    with sa.create_engine(f"sqlite:///{database}").connect() as connection:
        logged = connection.execute(sa.text("SELECT lead_id FROM score_log")).scalars().all()
    assert sorted(logged) == sorted(acknowledged)


def serving_workers(samples) -> set[str]:
    """The pids of the workers serving a model, from `leadscore_model_info`."""
    return {s.labels["pid"] for s in samples if s.name == "leadscore_model_info" and s.value}


def wait_for_workers(base: str, count: int, timeout: float = 120) -> None:
    """/ready answers once one worker has started; wait until `count` serve a model."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base, headers=AUTH, timeout=30) as client:
        while len(serving_workers(scrape(client))) < count:
            assert time.monotonic() < deadline, f"{count} workers never served"
            time.sleep(0.3)


def test_the_command_refuses_the_network_without_keys_before_starting(tmp_path):
    command = [sys.executable, "-m", "leadscore_cli", "serve", "--workers", "2"]
    command += ["--host", "0.0.0.0", "--port", str(free_port())]
    result = subprocess.run(
        command, env=without_keys(), cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {GUARD_LINE}; " + REMEDY]


REMEDY = "set LEADSCORE_API_KEYS (comma-separated keys or sha256:HEX) or listen on 127.0.0.1"


@pytest.mark.parametrize("workers", [1, 2])
def test_uvicorn_by_hand_refuses_the_network_without_keys(tmp_path, workers):
    """LEADSCORE_HOST says loopback; uvicorn is told 0.0.0.0: the app's start-up sees the
    sockets and refuses (one process: stops with exit code 2 once it has bound; several: every
    worker fails its start-up and uvicorn stops)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "serve.api.app:create_app", "--factory"]
    command += ["--host", "0.0.0.0", "--port", str(port), "--workers", str(workers)]
    result = subprocess.run(
        command, env=without_keys(), cwd=tmp_path, capture_output=True, text=True, timeout=180
    )
    output = result.stdout + result.stderr
    assert GUARD_LINE in output
    if workers == 1:
        assert result.returncode == 2
    else:
        assert "Application startup failed" in output
        assert "Application startup complete" not in output


def _open_store_after(url: str, barrier, answers) -> None:
    barrier.wait()
    try:
        open_store(url).dispose()
        answers.put("ok")
    except StoreError as exc:
        answers.put(str(exc))


def test_workers_starting_together_migrate_a_fresh_postgresql_store_once():
    """Each worker migrates the store at start; on an empty PostgreSQL database four at once
    must all start (without the migration lock, all but one failed on duplicate tables)."""
    with fresh_schema("workers") as url:
        context = multiprocessing.get_context("spawn")
        barrier, answers = context.Barrier(4), context.Queue()
        starts = [
            context.Process(target=_open_store_after, args=(url, barrier, answers))
            for _ in range(4)
        ]
        for process in starts:
            process.start()
        for process in starts:
            process.join(timeout=120)
        assert [answers.get(timeout=10) for _ in starts] == ["ok"] * 4
        with sa.create_engine(url).connect() as connection:
            versions = connection.execute(sa.text(f"SELECT * FROM {VERSION_TABLE}")).all()
        assert len(versions) == 1
