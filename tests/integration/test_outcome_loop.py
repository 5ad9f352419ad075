"""The loop a user runs: a real `leadscore serve` process with the demo contract's model, leads
posted over HTTP with every demo field (PII and deal value included), outcomes posted over HTTP,
`leadscore retrain --from-store` as a subprocess (alone, and with an export beside the store),
and the running server seen to swap to the promoted version. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from features.demo import CONTRACT_TOML, LEAD_FIELDS, generate_leads
from features.reading import write_table
from serve.store.database import VERSION_TABLE, create_store_engine
from serve.store.tables import metadata
from tests.conftest import start_server

POSTGRES_URL = os.environ.get("LEADSCORE_TEST_POSTGRES_URL")
KEY = "loop-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
STRONG_COLUMNS = ["budget_status", "purchase_timeline", "demo_requested", "lead_source"]
# What a CRM sends when it scores a demo lead: every field but the outcome it does not know yet.
SENT = [*LEAD_FIELDS, "created_at", "deal_value", "contact_name", "contact_email"]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'leadscore.db'}"
    if not POSTGRES_URL:
        pytest.skip("LEADSCORE_TEST_POSTGRES_URL is not set (.ci/run sets up PostgreSQL)")
    engine = create_store_engine(POSTGRES_URL)
    with engine.begin() as connection:  # a database the tests may empty
        metadata.drop_all(connection)
        connection.execute(sa.text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))
    engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def workdir(tmp_path, monkeypatch, database_url):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEADSCORE_DATABASE_URL", database_url)
    monkeypatch.setenv("LEADSCORE_API_KEYS", KEY)
    monkeypatch.setenv("LEADSCORE_MODEL_POLL_SECONDS", "1")
    monkeypatch.setenv("LEADSCORE_SCORE_LOG_FLUSH_SECONDS", "0.1")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "demo.toml").write_text(CONTRACT_TOML, encoding="utf-8")
    return tmp_path


def run_cli(*args) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "leadscore_cli", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=os.environ)


def weak_export(folder: Path, seed: int) -> Path:
    """Demo leads whose strongest columns are shuffled: a champion trained on them is weak."""
    frame = generate_leads(2500, seed)
    rng = np.random.default_rng(seed)
    for column in STRONG_COLUMNS:
        frame[column] = rng.permutation(frame[column].to_numpy())
    path = folder / "data" / "old.csv"
    write_table(frame, path)
    return path


def new_leads(seed: int, rows: int = 2000) -> pd.DataFrame:
    """Leads created after everything the champion learnt from."""
    frame = generate_leads(rows, seed)
    frame["created_at"] = (pd.to_datetime(frame["created_at"]) + pd.DateOffset(years=3)).astype(str)
    frame["lead_id"] = [f"NEW-{seed}-{i}" for i in range(rows)]
    return frame


def post_leads_and_outcomes(base: str, leads: pd.DataFrame) -> dict:
    """Score every lead over HTTP with every demo field, then post the outcomes of the closed
    ones (with the deal value sales reports, and a loss reason), plus one for a lead nobody
    scored; return the outcomes' answer."""
    records = json.loads(leads[SENT].to_json(orient="records"))
    for start in range(0, len(records), 500):
        answer = httpx.post(
            f"{base}/v1/score?reasons=false",
            json={"leads": records[start : start + 500]},
            headers=AUTH,
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
    closed = leads[leads["outcome"] != "open"]
    outcomes = [
        {
            "lead_id": row.lead_id,
            "outcome": row.outcome,
            "value": float(row.deal_value) * 1.1 if row.outcome == "won" else None,
            "loss_reason": None if row.outcome == "won" else "Price",
        }
        for row in closed.itertuples()
    ]
    outcomes.append({"lead_id": "NEVER-SCORED", "outcome": "lost"})
    totals = {"stored": 0, "unchanged": 0, "unmatched": 0}
    for start in range(0, len(outcomes), 500):
        answer = httpx.post(
            f"{base}/v1/outcomes",
            json={"outcomes": outcomes[start : start + 500]},
            headers=AUTH,
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        totals = {key: totals[key] + answer.json()[key] for key in totals}
    return totals


def rounded(value: object) -> object:
    """Every number of a JSON answer to 9 significant digits."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded(item) for item in value]
    return value


def wait_for_version(base: str, version: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        served = httpx.get(f"{base}/v1/model", headers=AUTH, timeout=5).json()
        if served["version"] == version:
            return
        time.sleep(0.5)
    raise AssertionError(f"the server never swapped to version {version}")


@pytest.mark.slow
@pytest.mark.parametrize("with_export", [False, True], ids=["store only", "export beside"])
def test_outcomes_posted_to_the_server_reach_the_served_model(workdir, with_export):
    contract = workdir / "data" / "demo.toml"
    trained = run_cli("train", weak_export(workdir, seed=41), "--config", contract)
    assert trained.returncode == 0, trained.stderr
    server = start_server(workdir)
    try:
        leads = new_leads(seed=42)
        answer = post_leads_and_outcomes(server.base, leads)
        closed = int((leads["outcome"] != "open").sum())
        assert answer["stored"] == closed + 1
        assert answer["unmatched"] == 1

        export = []
        if with_export:
            beside = new_leads(seed=43, rows=1000)
            write_table(beside, workdir / "data" / "new.csv")
            export = [workdir / "data" / "new.csv"]
        report = workdir / "retrain.json"
        retrained = run_cli(
            "retrain", *export, "--from-store", "--config", contract, "--report-json", report
        )
        assert retrained.returncode == 0, retrained.stderr
        written = json.loads(report.read_text())
        assert written["data"]["sources"]["store"] == closed
        assert written["data"]["unused_outcomes"] == {"no scored lead": 1}
        assert written["decision"] == "promoted", written["reason"]
        assert "1 outcome" in retrained.stdout and "no scored lead" in retrained.stdout
        wait_for_version(server.base, written["model_version"])
    finally:
        server.stop()
    assert "Traceback" not in server.output()


@pytest.mark.slow
def test_performance_and_stalled_leads_from_the_cli_match_the_api(workdir):
    contract = workdir / "data" / "demo.toml"
    export = workdir / "data" / "demo.csv"
    write_table(generate_leads(2500, seed=44), export)
    trained = run_cli("train", export, "--config", contract)
    assert trained.returncode == 0, trained.stderr
    server = start_server(workdir)
    try:
        leads = new_leads(seed=45, rows=1200)
        leads["web_visits"] = leads["web_visits"] + 25  # the CRM now counts visits differently
        post_leads_and_outcomes(server.base, leads)
        time.sleep(2)  # older than the stalled-lead threshold below, for the API and the CLI
        api = httpx.get(f"{server.base}/v1/performance?days=30", headers=AUTH).json()
        stalled_api = httpx.get(
            f"{server.base}/v1/leads/stalled?after_days=0.00001&limit=40",
            headers={**AUTH, "Accept": "text/csv"},
        )
    finally:
        server.stop()

    cli = run_cli("performance", "--since", "30", "--json")
    assert cli.returncode == 0, cli.stderr
    from_cli = json.loads(cli.stdout)
    for key in ("overall", "tiers", "segments", "discrimination", "calibration", "versions"):
        # sums the database adds up in another order may differ in the last digit
        assert rounded(from_cli[key]) == rounded(api[key]), key
    assert from_cli["drift"]["psi"] == pytest.approx(api["drift"]["psi"])
    assert "web_visits" in api["drift"]["drifted"]

    alert = run_cli("performance", "--fail-on-drift")
    assert alert.returncode == 4, alert.stderr
    assert "web_visits" in alert.stdout
    assert "\u2026" not in alert.stdout, alert.stdout  # piped, the table was cut at 80 columns

    out = workdir / "stalled.csv"
    listed = run_cli("stalled", "--after-days", "0.00001", "--limit", "40", "-o", out)
    assert listed.returncode == 0, listed.stderr
    assert out.read_text() == stalled_api.text
    assert len(pd.read_csv(out)) == 40
