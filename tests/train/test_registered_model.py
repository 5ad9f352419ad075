"""What `leadscore train` registers: the evaluated recipe refitted on every labeled lead, newest
ones included, saying which model its figures are for; and exports whose rows follow creation
(`order = "file"`), split by row order."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from benchmarks.shapes import campaign_file
from features.audit import ORDER_DRIFT_REASON
from features.demo import CONTRACT_TOML, generate_leads
from features.labels import outcome_names, split_labeled
from features.reading import read_table, write_table
from leadscore_cli import app
from serve.model.loading import load_lead_model
from train.evaluate.held_out import held_out_mask

CAMPAIGN_TOML = """\
id = "lead_id"
target = "converted"
positive = ["yes"]
negative = ["no"]
"""


def train(folder: Path, data: Path, contract: Path) -> dict:
    report = folder / f"{data.stem}.json"
    args = ["train", str(data), "--config", str(contract), "--report-json", str(report)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(report.read_text())


def test_the_registered_model_has_learnt_from_the_newest_leads(tmp_path):
    frame = generate_leads(3000, seed=51)
    newest = frame.index[-400:]
    frame.loc[newest[::2], "lead_source"] = "Podcast"  # a source only the newest leads come from
    data, contract = tmp_path / "leads.csv", tmp_path / "leads.toml"
    write_table(frame, data)
    contract.write_text(CONTRACT_TOML, encoding="utf-8")

    report = train(tmp_path, data, contract)

    model = load_lead_model("models:/leadscore@champion").model
    leads = split_labeled(read_table(data, model.contract.na_values), model.contract, "leads")
    evaluated = report["rows"]["train"]["won"] + report["rows"]["train"]["lost"]
    assert model.metadata["trained_on"] == len(leads.y) > evaluated
    assert model.metadata["trained_through"] == leads.created_at.max().isoformat()
    lead_source = next(f for f in model.encoder.features if f.name == "lead_source")
    assert "Podcast" in lead_source.categories
    assert report["metrics_for"] == model.metadata["metrics_for"]
    assert f"without the {len(leads.y) - evaluated:,} newest" in report["metrics_for"]
    assert report["learner"] == model.learner.describe()
    assert report["candidates"]["chosen"] and report["trees"] == model.learner.trees


def test_order_file_splits_by_row_order(tmp_path):
    frame = campaign_file(seed=3, rows=3000).frame  # its conversion rate jumps down the file
    data = tmp_path / "campaign.csv"
    write_table(frame, data)
    unordered, ordered = tmp_path / "unordered.toml", tmp_path / "ordered.toml"
    unordered.write_text(CAMPAIGN_TOML, encoding="utf-8")
    ordered.write_text(CAMPAIGN_TOML + 'order = "file"\n', encoding="utf-8")

    by_rows = train(tmp_path, data, ordered)

    last = frame.iloc[-600:]
    assert by_rows["split"] == "file order"
    assert by_rows["rows"]["evaluate"] == {
        "won": int((last["converted"] == "yes").sum()),
        "lost": int((last["converted"] == "no").sum()),
    }
    assert ORDER_DRIFT_REASON not in [finding["reason"] for finding in by_rows["audit"]]
    model = load_lead_model("models:/leadscore@champion").model
    judged = held_out_mask(frame, outcome_names(frame, model.contract, "campaign"), model, data)
    assert list(np.flatnonzero(judged)) == list(range(2400, 3000))

    at_random = train(tmp_path, data, unordered)

    assert at_random["split"] == "stratified"
    assert ORDER_DRIFT_REASON in [finding["reason"] for finding in at_random["audit"]]
