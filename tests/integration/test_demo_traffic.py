"""`leadscore demo-traffic`: weeks of demo leads and outcomes in an empty store, through the
score log's writer and record_outcomes, once."""

import os
import subprocess
import sys

import pandas as pd
import sqlalchemy as sa

from serve.model.loading import load_lead_model
from serve.store.database import store_at
from serve.store.performance import live_performance
from serve.store.tables import score_log


def demo_traffic(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "leadscore_cli", "demo-traffic", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=os.environ)


def test_demo_traffic_fills_an_empty_store_once(use_trained_store):
    first = demo_traffic("--weeks", "3", "--leads-per-day", "40")
    assert first.returncode == 0, first.stderr
    assert "scored 840 demo leads" in first.stdout and "with version 1" in first.stdout
    again = demo_traffic("--weeks", "3", "--leads-per-day", "40")
    assert again.returncode == 0
    assert "no demo traffic added: the store already holds 840 scored leads" in again.stdout

    loaded = load_lead_model("models:/leadscore@champion")
    with store_at(os.environ["LEADSCORE_DATABASE_URL"]) as engine:
        last_week = live_performance(engine, loaded.model, "1", 7)
        weeks = live_performance(engine, loaded.model, "1", 22)
        with engine.connect() as connection:
            fields = connection.execute(sa.select(score_log.c.fields)).scalars().all()
    assert weeks.overall.scored == 840
    assert 0 < last_week.overall.scored < 840 * 0.5  # spread over the weeks, not all now
    assert weeks.overall.closed > 100 and weeks.overall.open > 100
    assert last_week.overall.closed < last_week.overall.open  # the newest leads are open
    assert {s.field for s in weeks.segments} == {"lead_source"}
    assert not any({"contact_name", "contact_email"} & set(f) for f in fields)  # PII removed
    # created when they arrived: newer than the leads the champion learnt from, so a retrain
    # can judge both models on them
    created = pd.to_datetime([f["created_at"] for f in fields])
    assert created.min() >= pd.Timestamp.now() - pd.Timedelta(days=22)


def test_demo_traffic_without_a_model_says_so(tmp_path):
    answer = demo_traffic("--model", "models:/nothing@champion")
    assert answer.returncode == 2
    assert answer.stderr.startswith("error: model models:/nothing@champion is not in the registry")
