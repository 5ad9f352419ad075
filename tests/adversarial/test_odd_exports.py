"""Exports that training or scoring read wrong, or crashed on: column names LightGBM merges,
infinite numbers, created-at placeholders in the future and unreadable dates, a field named like
a column scoring writes, outcome labels in another case, too few leads left to evaluate on, an
empty score log. Each now trains, reads the value as missing, or is refused in one line saying
what to do (exit 2), through the `leadscore` command as a user runs it."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from features.demo import generate_leads, write_demo
from serve.model.tracking import tracking_uri
from tests.adversarial.test_misleading_cli import assert_one_line_refusal, leadscore


@pytest.fixture
def demo(tmp_path) -> tuple[pd.DataFrame, Path, Path]:
    """1,000 demo leads as a frame to change, the file they go to and its contract."""
    data = tmp_path / "leads.csv"
    contract = write_demo(data, 1000, seed=5)
    return pd.read_csv(data, dtype={"lead_id": str}), data, contract


def train(data: Path, contract: Path, cwd: Path, *args: object):
    report = cwd / "report.json"
    result = leadscore("train", data, "--config", contract, "--report-json", report, *args, cwd=cwd)
    return result, (json.loads(report.read_text()) if result.returncode == 0 else None)


def registered_versions() -> int:
    client = MlflowClient(tracking_uri(), tracking_uri())
    return sum(
        len(client.search_model_versions(f"name='{m.name}'"))
        for m in client.search_registered_models()
    )


def test_names_lightgbm_would_merge_train_as_separate_fields(demo, tmp_path):
    """LightGBM turns spaces into '_': 'Web Visits' and 'Web_Visits' became one name and
    training stopped with LightGBM's error. A name in a script the plotting font lacks printed
    a font warning with a file path."""
    leads, data, contract = demo
    leads["Web Visits"] = leads["web_visits"]
    leads["Web_Visits"] = leads["email_opens"]
    leads["地区"] = leads["country"]
    leads.to_csv(data, index=False)
    result, report = train(data, contract, tmp_path)
    assert result.returncode == 0, result.stderr
    assert {"Web Visits", "Web_Visits", "地区"} <= set(report["features"])
    assert "Glyph" not in result.stderr


def test_infinite_numbers_are_missing_in_training_and_in_scoring(demo, tmp_path):
    """Training stopped in the regression's fit; scoring read infinity as the top of the range."""
    leads, data, contract = demo
    leads["web_visits"] = leads["web_visits"].astype(float)
    leads.loc[leads.index[::50], "web_visits"] = np.inf
    leads.to_csv(data, index=False)
    result, _ = train(data, contract, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "infinite number" in result.stderr and "'web_visits'" in result.stderr
    lead = generate_leads(1, seed=9)
    same = pd.concat([lead, lead], ignore_index=True)
    same.assign(lead_id=["INF", "EMPTY"], web_visits=[np.inf, np.nan]).to_csv(
        tmp_path / "new.csv", index=False
    )
    scored = leadscore("score", tmp_path / "new.csv", "-o", tmp_path / "out.csv", cwd=tmp_path)
    assert scored.returncode == 0, scored.stderr
    probability = pd.read_csv(tmp_path / "out.csv").set_index("lead_id")["probability"]
    assert probability["INF"] == probability["EMPTY"]
    assert "1 values could not be read and were scored as missing (fields: web_visits)" in (
        scored.stderr
    )


def test_placeholder_and_unreadable_created_at_never_become_the_newest_leads(demo, tmp_path):
    """Three leads created '2099-12-31' made the champion's data reach into 2099, so every
    retrain after it compared on no lead at all; unreadable dates sorted last and became the
    evaluation leads."""
    leads, data, contract = demo
    leads.loc[leads.index[[5, 100, 600]], "created_at"] = "2099-12-31"
    unreadable = leads.index[leads["outcome"].eq("won")][:30]
    leads.loc[unreadable, "created_at"] = "unknown"
    leads.to_csv(data, index=False)
    result, report = train(data, contract, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "33 leads have no created-at time" in result.stderr, result.stderr
    assert (
        "3 more than five years ahead" in result.stderr and "row 6: '2099-12-31'" in result.stderr
    )
    closed = leads[leads["outcome"].isin(["won", "lost"])]
    known = pd.to_datetime(closed["created_at"], errors="coerce").mask(lambda t: t.dt.year == 2099)
    by_time = known.fillna(known.min()).sort_values(kind="stable").index
    newest = closed.loc[by_time[round(len(closed) * 0.8) :], "outcome"]
    assert report["rows"]["evaluate"]["won"] == int(newest.eq("won").sum())
    newer = generate_leads(1500, seed=6)
    newer["created_at"] = pd.Timestamp.now().normalize().strftime("%Y-%m-%d")
    newer["lead_id"] = "N" + newer["lead_id"].astype(str)
    newer.to_csv(tmp_path / "newer.csv", index=False)
    retrained = leadscore("retrain", tmp_path / "newer.csv", "--config", contract, cwd=tmp_path)
    assert retrained.returncode in (0, 3), retrained.stderr
    assert "only 0 evaluation leads are newer" not in retrained.stdout + retrained.stderr
    assert "2099" not in retrained.stdout


def test_a_field_named_like_a_score_column_is_refused_before_anything_is_registered(demo, tmp_path):
    """A marketing tool's `score` column was a feature: every scored file replaced it with
    leadscore's score, and a scored file scored again read that as the field."""
    leads, data, contract = demo
    leads["score"] = leads["web_visits"] * 3
    leads.to_csv(data, index=False)
    result, _ = train(data, contract, tmp_path)
    assert_one_line_refusal(result, "column 'score'", "--drop score")
    assert registered_versions() == 0
    dropped, report = train(data, contract, tmp_path, "--drop", "score")
    assert dropped.returncode == 0, dropped.stderr
    assert "score" not in report["features"]


def test_outcome_labels_match_whatever_their_case(demo, tmp_path):
    """A column of True/False (pandas writes booleans so) did not match `--positive True`: the
    file's labels were read in lower case and the contract's were not."""
    leads, data, contract = demo
    leads = leads[leads["outcome"] != "open"]
    leads.assign(outcome=leads["outcome"].eq("won")).to_csv(data, index=False)
    text = contract.read_text().replace('positive = ["won"]', 'positive = ["True"]')
    contract.write_text(text.replace('negative = ["lost"]', 'negative = ["FALSE"]'))
    result, report = train(data, contract, tmp_path)
    assert result.returncode == 0, result.stderr
    rows = report["rows"]
    assert rows["train"]["won"] + rows["evaluate"]["won"] == int(leads["outcome"].eq("won").sum())


def test_too_few_evaluation_leads_are_named_as_the_cause(tmp_path):
    """150 leads, 30 of them evaluated, were said to hold nothing that decides a conversion."""
    data = tmp_path / "leads.csv"
    contract = write_demo(data, 150, seed=3)
    leads = pd.read_csv(data)
    closed = leads["outcome"].isin(["won", "lost"])
    shuffled = np.random.default_rng(0).permutation(leads.loc[closed, "outcome"].to_numpy())
    leads.loc[closed, "outcome"] = shuffled  # outcomes unrelated to the leads' fields
    leads.to_csv(data, index=False)
    result, _ = train(data, contract, tmp_path)
    assert result.returncode == 3, result.stderr
    assert "too few to show signal" in result.stderr
    assert "too few of its closed leads were left to evaluate" in result.stderr
    assert "does not hold what decides" not in result.stderr
    # Scoring with it: no champion to name, and the version itself scores with a warning.
    out = tmp_path / "scored.csv"
    refused = leadscore("score", data, "-o", out, cwd=tmp_path)
    assert_one_line_refusal(refused, "has versions but none is 'champion'", "models:/leadscore/N")
    pinned = leadscore("score", data, "-o", out, "--model", "models:/leadscore/1", cwd=tmp_path)
    assert pinned.returncode == 0, pinned.stderr
    assert "showed no usable signal when it was trained" in pinned.stderr


def test_retraining_from_an_empty_score_log_says_so(demo, tmp_path):
    _, _, contract = demo
    created = leadscore("db", "upgrade", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    result = leadscore("retrain", "--from-store", "--config", contract, cwd=tmp_path)
    assert_one_line_refusal(result, "no lead was scored and then given an outcome yet")
    assert registered_versions() == 0


def test_a_store_path_that_does_not_exist_is_refused_not_created(
    demo, tmp_path, monkeypatch, use_trained_store
):
    """A mistyped SQLite path made an empty store, and `performance --fail-on-drift` passed on
    it for ever."""
    _, _, contract = demo
    typo = tmp_path / "typo.db"
    monkeypatch.setenv("LEADSCORE_DATABASE_URL", f"sqlite:///{typo}")
    commands = (
        ("performance", "--fail-on-drift"),
        ("stalled",),
        ("retrain", "--from-store", "--config", contract),
    )
    for command in commands:
        refused = leadscore(*command, cwd=tmp_path)
        assert_one_line_refusal(refused, "there is no store at sqlite:///", "typo.db")
    assert not typo.exists()
