"""Training through the CLI: the no-signal gate, the audit's exclusions and overrides, tiers from
capacity, joined tables and the report, against a real temporary MLflow store."""

import json

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from features.demo import generate_leads, write_demo
from leadscore_cli import NO_SIGNAL_EXIT_CODE, app
from serve.model.loading import CHAMPION, alias_version, load_lead_model
from serve.model.tracking import tracking_uri
from train.report.html_report import CHARTS

ROWS = 2500


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def train(*args) -> tuple:
    result = CliRunner().invoke(app, ["train", *map(str, args)])
    return result


def client() -> MlflowClient:
    return MlflowClient(tracking_uri(), tracking_uri())


def demo_export(folder, seed: int = 4, shuffle: bool = False):
    data = folder / f"leads-{seed}-{shuffle}.csv"
    contract = write_demo(data, ROWS, seed)
    if shuffle:
        frame = pd.read_csv(data)
        closed = frame["outcome"] != "open"
        labels = frame.loc[closed, "outcome"].to_numpy()
        frame.loc[closed, "outcome"] = np.random.default_rng(seed).permutation(labels)
        frame.to_csv(data, index=False)
    return data, contract


@pytest.mark.slow
def test_no_signal_gate_exits_3_and_never_moves_the_alias(workdir):
    shuffled, contract = demo_export(workdir, shuffle=True)
    honest, _ = demo_export(workdir)
    report = workdir / "shuffled.json"

    first = train(shuffled, "--config", contract, "--report-json", report)
    assert first.exit_code == NO_SIGNAL_EXIT_CODE, first.output
    assert "no usable signal" in first.stderr and "will not serve" in first.stderr
    assert alias_version(client(), "leadscore", CHAMPION) is None
    written = json.loads(report.read_text())
    assert written["signal"]["usable"] is False and written["champion"] is False
    run = client().get_run(written["run_id"])
    assert run.data.tags["leadscore.signal"] == "no usable signal"

    assert train(honest, "--config", contract).exit_code == 0
    assert alias_version(client(), "leadscore", CHAMPION) == "2"

    again = train(shuffled, "--config", contract)
    assert again.exit_code == NO_SIGNAL_EXIT_CODE
    assert alias_version(client(), "leadscore", CHAMPION) == "2"
    version = client().get_model_version("leadscore", "3")
    assert version.tags["leadscore.usable_signal"] == "false"


def test_report_names_every_chart_and_the_json_has_the_new_sections(trained_model):
    report = trained_model.report
    html_path = trained_model.folder / "report.html"
    assert report["report_html"] == str(html_path)
    page = html_path.read_text()
    for chart in CHARTS:
        assert f"<h2>{chart.title}</h2>" in page
        assert (trained_model.folder / "report-plots" / chart.file).stat().st_size > 1000
    assert page.count("data:image/png;base64,") == len(CHARTS)
    assert "Decision" in page and "Audit" in page and "Tiers" in page
    assert report["decision"]["champion"] is True
    intervals = report["intervals"]["roc_auc"]["model"]
    assert intervals["low"] < report["metrics"]["roc_auc"] < intervals["high"]
    assert sum(row["leads"] for row in report["tiers"]["table"]) == sum(
        report["rows"]["evaluate"].values()
    )
    assert report["value"]["won_value"] > 0
    assert report["top_features"][0]["mean_abs_contribution"] > 0


@pytest.mark.slow
def test_leak_is_excluded_unless_kept_and_the_choice_is_recorded(workdir):
    frame = generate_leads(ROWS, seed=6)
    frame["rep_rating"] = np.where(frame["outcome"] == "won", "hot", "cold")
    data = workdir / "leaky.csv"
    frame.to_csv(data, index=False)
    contract = workdir / "leaky.toml"
    write_demo(workdir / "unused.csv", 10, 0)
    contract.write_text((workdir / "unused.toml").read_text())

    excluded = train(data, "--config", contract, "--report-json", workdir / "a.json")
    assert excluded.exit_code == 0, excluded.output
    report = json.loads((workdir / "a.json").read_text())
    [finding] = [f for f in report["audit"] if f["column"] == "rep_rating"]
    assert finding["excluded"] and "rep_rating" not in report["features"]
    assert report["metrics"]["roc_auc"] < 0.9
    model = load_lead_model(report["model_uri"]).model
    assert model.metadata["leaky_columns"] == ["rep_rating"]

    kept = train(
        data,
        "--config",
        contract,
        "--keep-column",
        "rep_rating",
        "--report-json",
        workdir / "b.json",
    )
    assert kept.exit_code == 0, kept.output
    report = json.loads((workdir / "b.json").read_text())
    assert "rep_rating" in report["features"] and report["kept_columns"] == ["rep_rating"]
    run = client().get_run(report["run_id"])
    assert json.loads(run.data.params["keep_columns"]) == ["rep_rating"]


@pytest.mark.slow
def test_capacity_tiers_joined_table_and_tuning(workdir):
    data, contract = demo_export(workdir)
    sizes = pd.DataFrame(
        {
            "company_size": ["1-10", "11-50", "51-200", "201-1000", "1000+", "1000+"],
            "segment": ["micro", "small", "mid", "large", "enterprise", "enterprise-2"],
        }
    )
    sizes.to_csv(workdir / "sizes.csv", index=False)
    with open(contract, "a") as handle:
        handle.write('\n[tables.sizes]\npath = "sizes.csv"\non = "company_size"\n')
    result = train(
        data,
        "--config",
        contract,
        "--capacity",
        "5",
        "--tune-seconds",
        "2",
        "--report-json",
        workdir / "r.json",
    )
    assert result.exit_code == 0, result.output
    report = json.loads((workdir / "r.json").read_text())
    [join] = report["joins"]
    leads_1000 = int((pd.read_csv(data)["company_size"] == "1000+").sum())
    assert join["duplicate_keys"] == 1 and join["multiplied_rows"] == leads_1000
    assert "segment" in report["features"]
    assert "capacity of 5 leads a week" in report["tiers"]["rule"]
    times = pd.to_datetime(pd.read_csv(data)["created_at"])
    weekly = len(times) / ((times.max() - times.min()).days / 7)
    share_a = report["tiers"]["table"][0]["share_of_leads"]
    assert share_a == pytest.approx(5 / weekly, abs=0.06)
    assert set(report["tuned_params"]) >= {"learning_rate", "num_leaves"}


def test_capacity_without_a_time_column_is_refused(workdir):
    data, _ = demo_export(workdir)
    result = train(data, "--target", "outcome", "--positive", "won", "--capacity", "10")
    assert result.exit_code == 2
    assert "--capacity needs the created-at column" in result.stderr


@pytest.mark.parametrize(
    "cutoffs, message", [("70,40", "must be three scores"), ("20,40,70", "must fall from A to C")]
)
def test_bad_tier_cutoffs_are_refused(workdir, cutoffs, message):
    data, contract = demo_export(workdir)
    result = train(data, "--config", contract, "--tier-cutoffs", cutoffs)
    assert result.exit_code == 2 and message in result.stderr
    assert client().search_registered_models() == []
