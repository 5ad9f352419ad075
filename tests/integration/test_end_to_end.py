"""Train through the CLI, then score the same leads through the CLI, the API in process and a
real server process: all three must give the same probabilities."""

import json

import httpx
import mlflow
import numpy as np
import pandas as pd
from fastapi.testclient import TestClient
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from features.demo import LEAD_FIELDS, generate_leads
from leadscore_cli import app
from serve.api.app import create_app
from serve.api.settings import Settings
from serve.model.loading import CHAMPION
from serve.model.tracking import tracking_uri

FIELDS = [*LEAD_FIELDS, "deal_value"]  # what the CRM sends, deal value included


def new_leads(n: int = 40) -> pd.DataFrame:
    return generate_leads(n, seed=99)


def as_json_leads(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame[FIELDS].to_json(orient="records"))


def test_training_report_and_registry(trained_model, use_trained_store):
    report = trained_model.report
    assert report["model_version"] == "1" and report["champion"] is True
    assert report["model_uri"] == "models:/leadscore/1"
    for key in ("metrics", "baseline_metrics"):
        assert set(report[key]) == {"roc_auc", "pr_auc", "log_loss", "brier", "lift_at_10", "ece"}
    assert report["rows"]["train"]["won"] > 0 and report["rows"]["open"]["open"] > 0
    client = MlflowClient(use_trained_store.tracking_uri, use_trained_store.tracking_uri)
    assert str(client.get_model_version_by_alias("leadscore", CHAMPION).version) == "1"
    run = client.get_run(report["run_id"])
    assert len(run.data.tags["leadscore.data_sha256"]) == 64
    assert run.data.metrics["roc_auc"] == report["metrics"]["roc_auc"]
    artifacts = {a.path for a in client.list_artifacts(report["run_id"], "plots")}
    assert {"plots/roc.png", "plots/calibration.png", "plots/gains.png"} <= artifacts
    assert [a.path for a in client.list_artifacts(report["run_id"], "report")] == [
        "report/report.html"
    ]
    assert run.data.tags["leadscore.signal"] == "usable"


def test_second_training_registers_a_version_but_keeps_the_champion(
    trained_model, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'm.db'}")
    args = ["train", str(trained_model.data), "--config", str(trained_model.contract)]
    for _ in range(2):
        assert CliRunner().invoke(app, args).exit_code == 0
    client = MlflowClient(tracking_uri(), tracking_uri())
    assert str(client.get_model_version_by_alias("leadscore", CHAMPION).version) == "1"
    assert len(client.search_model_versions("name='leadscore'")) == 2


def test_cli_api_and_server_agree(trained_model, use_trained_store, running_server, tmp_path):
    leads = new_leads()
    leads_file, scored_file = tmp_path / "new.csv", tmp_path / "scored.parquet"
    leads.to_csv(leads_file, index=False)
    result = CliRunner().invoke(app, ["score", str(leads_file), "-o", str(scored_file)])
    assert result.exit_code == 0, result.output
    scored = pd.read_parquet(scored_file)
    score_columns = ["probability", "score", "tier", "expected_value"]
    assert list(scored.columns) == list(leads.columns) + score_columns

    body = {"leads": as_json_leads(leads)}
    with TestClient(create_app(Settings())) as client:
        client.app.state.holder.wait_settled(60)  # the model loads in the background
        in_process = client.post("/v1/score", json=body).json()
    over_http = httpx.post(f"{running_server}/v1/score", json=body, timeout=30).json()

    for answer in (in_process, over_http):
        assert answer["model_version"] == "1"
        assert [s["lead_id"] for s in answer["scores"]] == leads["lead_id"].tolist()
        np.testing.assert_allclose(
            [s["probability"] for s in answer["scores"]], scored["probability"], rtol=0, atol=1e-12
        )
        assert [s["tier"] for s in answer["scores"]] == scored["tier"].tolist()
        assert [s["score"] for s in answer["scores"]] == scored["score"].tolist()
        np.testing.assert_allclose(
            [s["expected_value"] for s in answer["scores"]], scored["expected_value"], atol=1e-9
        )

    # The signature types counts as double, and MLflow refuses an int64 column for a double.
    pyfunc = mlflow.pyfunc.load_model("models:/leadscore@champion")
    as_floats = leads.astype({"web_visits": float, "email_opens": float})
    np.testing.assert_allclose(
        pyfunc.predict(as_floats)["probability"], scored["probability"], atol=1e-12
    )
