"""What the model relies on and how it holds up, on a small model fitted to generated leads."""

import tomllib

import numpy as np
import pandas as pd
import pytest

from features.contract import LeadContract
from features.demo import CONTRACT_TOML, generate_leads
from features.errors import DataError
from features.labels import outcome_names, split_labeled
from features.reading import mask_sentinels, read_table
from insights import funnel, model_view, reliance
from serve.model.lead_model import LeadModel
from serve.model.loading import load_lead_model
from serve.model.scorer import score_leads
from train.evaluate.held_out import held_out_mask
from train.evaluate.leakage import leakage_comparison
from train.learn import learn_lead_model

DEMO = LeadContract.from_dict(tomllib.loads(CONTRACT_TOML))


@pytest.fixture(scope="module")
def fitted() -> tuple[pd.DataFrame, pd.Series, LeadModel]:
    """Demo leads and a lead model fitted on their won and lost leads, without MLflow."""
    frame = mask_sentinels(generate_leads(2500, seed=11), DEMO.na_values)
    leads = split_labeled(frame, DEMO, "demo")
    model = learn_lead_model(leads.frame, leads.y, None, DEMO).model
    return frame, outcome_names(frame, DEMO, "demo"), model


def test_contributions_add_up_to_the_raw_score(fitted):
    frame, _, model = fitted
    contributions = reliance.contribution_frame(model, frame)
    assert list(contributions.columns) == [*model.encoder.feature_names, reliance.BASE_VALUE]
    raw = model.raw_scores(model.encoder.transform(frame))
    np.testing.assert_allclose(contributions.sum(axis=1), raw, atol=1e-9)


def test_importance_ranks_real_drivers_above_a_field_without_effect(fitted):
    frame, _, model = fitted
    importance = reliance.global_importance(reliance.contribution_frame(model, frame))
    assert importance["share"].sum() == pytest.approx(1.0)
    assert importance["mean_abs_contribution"].is_monotonic_decreasing
    rank = {field: i for i, field in enumerate(importance.index)}
    assert rank["budget_status"] < rank["country"] and rank["demo_requested"] < rank["country"]


def test_model_view_names_rare_and_missing_categories_and_yes_no(fitted):
    frame, _, model = fitted
    probe = pd.DataFrame(
        {"industry": ["Software", "Space mining", None], "demo_requested": ["yes", "no", None]}
    )
    assert reliance.model_view(model, probe, "industry").tolist() == [
        "Software",
        "other",
        "(missing)",
    ]
    assert reliance.model_view(model, probe, "demo_requested").tolist() == [
        "yes",
        "no",
        "(missing)",
    ]


def test_dependence_follows_the_generated_effect(fitted):
    frame, _, model = fitted
    contributions = reliance.contribution_frame(model, frame)
    pairs = reliance.dependence(model, frame, contributions, "demo_requested")
    effects = reliance.category_effects(pairs)
    assert effects.index[0] == "yes" and effects.loc["yes", "mean_contribution"] > 0
    assert effects["leads"].sum() == len(frame)
    visits = reliance.dependence(model, frame, contributions, "web_visits")
    assert pd.api.types.is_numeric_dtype(visits["value"])


def test_one_lead_explained_field_by_field(fitted):
    frame, _, model = fitted
    contributions = reliance.contribution_frame(model, frame)
    lead = frame.index[7]
    table = reliance.explain_lead(model, frame, lead)
    assert table["field"].iloc[-1] == reliance.BASE_VALUE
    assert table["contribution"].sum() == pytest.approx(contributions.loc[lead].sum())
    fields = table.iloc[:-1]
    assert fields["contribution"].abs().is_monotonic_decreasing
    budget = fields.set_index("field").loc["budget_status", "value"]
    expected = frame.loc[lead, "budget_status"]
    assert budget == (expected if isinstance(expected, str) else "(missing)")
    reasons = reliance.top_reasons(model, frame.iloc[:20])
    for text in reasons:
        terms = [t for t in text.split("; ") if t]
        assert len(terms) <= 3 and all("(+" in t for t in terms)


def test_the_notebook_s_reasons_are_the_api_s(fitted):
    frame, _, model = fitted
    leads = frame.iloc[:30]
    records = leads[model.encoder.feature_names].astype(object)
    records = records.where(leads[model.encoder.feature_names].notna(), None).to_dict("records")
    api = score_leads(model, records, reasons=True).explanations
    assert api is not None
    for text, explanation in zip(reliance.top_reasons(model, leads), api, strict=True):
        raising = [r.field for r in explanation.reasons if r.effect > 0]
        assert [term.split(" = ")[0] for term in text.split("; ") if term] == raising


def test_example_leads_are_a_won_and_the_extremes_of_the_lost(fitted):
    frame, outcome, model = fitted
    scores = score_leads(model, frame, unreadable="missing").to_frame(frame.index)
    closed = outcome.isin(["won", "lost"])
    examples = model_view.example_leads(outcome, scores, closed, funnel.lead_ids(frame, DEMO))
    assert examples["outcome"].tolist() == ["won", "lost", "lost"]
    lost = scores.loc[outcome == "lost", "probability"]
    assert examples.loc["lost, high score", "probability"] == lost.max()
    assert examples.loc["lost, low score", "probability"] == lost.min()
    assert examples.loc["won", "id"] == frame.loc[examples.loc["won", "lead"], "lead_id"]
    none = model_view.example_leads(outcome, scores, outcome == "won", outcome)
    assert none.empty


def test_tiers_and_calibration_per_segment(fitted):
    frame, outcome, model = fitted
    scores = score_leads(model, frame, unreadable="missing").to_frame(frame.index)
    tiers = model_view.conversion_by_tier(outcome, scores)
    assert list(tiers.index) == ["A", "B", "C", "D"]
    assert tiers.loc["A", "conversion"] > tiers.loc["D", "conversion"]
    assert tiers["leads"].sum() == len(frame)
    calibration = model_view.calibration_by_segment(
        frame, outcome, scores["probability"], ["lead_source", "budget_status"], min_leads=30
    )
    assert (calibration["closed"] >= 30).all()
    assert calibration["gap_points"].abs().is_monotonic_decreasing
    assert calibration["predicted"].between(0, 1).all()
    row = calibration.iloc[0]
    assert row["within_interval"] == (row["ci_low"] <= row["predicted"] <= row["ci_high"])


def test_recycle_candidates_are_stalled_high_tier_leads_best_first(fitted):
    frame, outcome, model = fitted
    scores = score_leads(model, frame, unreadable="missing").to_frame(frame.index)
    created_at = pd.to_datetime(frame["created_at"])
    ages = funnel.open_lead_ages(outcome, created_at, factor=3.0)
    table = model_view.recycle_candidates(model, frame, DEMO, scores, ages)
    expected = ages["stalled"] & scores["tier"].isin(["A", "B"])
    assert len(table) == expected.sum() > 0
    assert set(table.index) == set(frame.index[expected])
    assert table["probability"].is_monotonic_decreasing
    assert table.columns[:3].tolist() == ["lead", "created_at", "age_days"]
    assert table["why it scores high"].str.len().gt(0).all()


def test_with_no_stalled_lead_there_is_no_candidate_and_no_error(fitted):
    """An export without created-at times has no stalled leads: explaining none of them made
    LightGBM divide by zero, and `make notebook-xeducation` stopped there."""
    frame, outcome, model = fitted
    scores = score_leads(model, frame, unreadable="missing").to_frame(frame.index)
    ages = funnel.open_lead_ages(outcome, pd.Series(pd.NaT, index=frame.index), factor=3.0)
    assert not ages["stalled"].any()
    table = model_view.recycle_candidates(model, frame, DEMO, scores, ages)
    assert table.empty and "why it scores high" in table.columns


def test_leaky_field_status_reads_the_model_contract(fitted):
    frame, _, model = fitted
    status = model_view.leaky_field_status(
        model, frame, ["loss_reason", "web_visits", "not_a_column"]
    ).set_index("field")
    assert status.loc["loss_reason", "contract_role"] == "loss reason"
    assert not status.loc["loss_reason", "model_reads_it"]
    assert status.loc["web_visits", "model_reads_it"]
    assert not status.loc["not_a_column", "in_export"]


def test_a_leaky_field_lifts_cross_validated_auc():
    frame = mask_sentinels(generate_leads(1500, seed=4), DEMO.na_values)
    table = leakage_comparison(frame, DEMO, ["loss_reason"], folds=2)
    without = table.loc[model_view.WITHOUT_LEAKY]
    with_ = table.loc[model_view.WITH_LEAKY]
    assert with_["fields"] == without["fields"] + 1
    assert with_["roc_auc"] > without["roc_auc"] + 0.1
    assert with_["leaky_share"] > 0.2 and without["leaky_share"] == 0


def test_leaky_columns_must_be_in_the_export():
    frame = generate_leads(200, seed=1)
    with pytest.raises(DataError, match=r"leaky column\(s\) \['Tags'\] are not in the file"):
        leakage_comparison(frame, DEMO, ["Tags"], source="leads.csv")


def test_held_out_leads_are_the_evaluation_leads_of_the_training_export(use_trained_store):
    model = load_lead_model("models:/leadscore@champion").model
    frame = read_table(use_trained_store.data, model.contract.na_values)
    outcome = outcome_names(frame, model.contract, "demo")
    assert model_view.is_training_export(model, use_trained_store.data)
    held_out = held_out_mask(frame, outcome, model, use_trained_store.data)
    evaluated = use_trained_store.report["rows"]["evaluate"]
    assert held_out.sum() == evaluated["won"] + evaluated["lost"]
    assert (outcome[held_out] == "won").sum() == evaluated["won"]


def test_on_another_export_every_closed_lead_counts(use_trained_store, tmp_path):
    model = load_lead_model("models:/leadscore@champion").model
    other = tmp_path / "other.csv"
    generate_leads(300, seed=8).to_csv(other, index=False)
    frame = read_table(other, model.contract.na_values)
    outcome = outcome_names(frame, model.contract, "other")
    assert not model_view.is_training_export(model, other)
    held_out = held_out_mask(frame, outcome, model, other)
    assert held_out.equals(outcome.isin(["won", "lost"]))
