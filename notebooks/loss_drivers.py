# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: leadscore (.venv)
#     language: python
#     name: leadscore
# ---

# %% [markdown]
# # Why leads are lost, and what the model relies on
#
# Marketing and sales argue about lead quality; this notebook answers with the company's own
# leads and the model that scores them. It reads the export through its lead contract, loads the
# champion model from the MLflow registry, and writes every conclusion from the numbers it
# computes. Change the parameters below to run it on any export; the analysis itself lives in
# `insights.funnel`, `insights.model_view`, `insights.reliance`, `insights.findings` and
# `insights.figures`.

# %% tags=["parameters"]
data_path = "../data/demo.csv"  # the export: CSV or Parquet
contract_path = "../data/demo.toml"  # its lead contract; None: the one frozen into the model
model_uri = "models:/leadscore@champion"
mlflow_tracking_uri = "sqlite:///../mlflow.db"  # where `make demo` registers its model
source_field = "lead_source"  # where leads come from; loss reasons are broken down by it
leaky_columns = None  # fields known only after sales contact; None: those the audit excluded
min_segment_leads = 30  # values with fewer closed leads are pooled
stalled_factor = 3.0  # an open lead older than this many times the typical one has stalled
recycle_csv = "../reports/recycle_candidates.csv"  # where the recycle table goes; None: nowhere
leakage_folds = 5

# %%
# %matplotlib inline
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # MLflow's progress bars

import os
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

from features.contract import load_contract
from features.labels import outcome_names, parse_times
from features.reading import read_table, write_table
from insights import figures, findings, funnel, model_view, reliance
from serve.model.loading import load_lead_model
from train.evaluate.held_out import held_out_mask
from train.evaluate.leakage import leakage_comparison
from serve.model.scorer import score_leads

pd.set_option("display.precision", 3)
pd.set_option("display.max_colwidth", 120)
os.environ["MLFLOW_TRACKING_URI"] = mlflow_tracking_uri

# %%
loaded = load_lead_model(model_uri)
model = loaded.model
contract = load_contract(Path(contract_path)) if contract_path else model.contract
leads = read_table(Path(data_path), contract.na_values)
outcome = outcome_names(leads, contract, data_path)
created_at = parse_times(leads, contract.time, data_path) if contract.time else None
scores = score_leads(model, leads, unreadable="missing").to_frame(leads.index)
fields = model_view.segment_fields(model)
display(
    Markdown(
        f"Model **{loaded.name} version {loaded.version}** ({loaded.uri}), trained "
        f"{model.metadata.get('trained_at', 'at an unknown time')}; export `{data_path}`: "
        f"{len(leads):,} leads, {len(leads.columns)} columns."
    )
)

# %% [markdown]
# ## 1. The funnel
# How many leads were won, lost or are still open, and how conversion moved by month of
# creation.

# %%
stages = funnel.funnel(outcome)
overall = funnel.overall_conversion(outcome)
monthly = funnel.conversion_by_month(outcome, created_at) if created_at is not None else None
display(Markdown(findings.funnel_finding(overall, monthly)))
display(stages)
figures.funnel_figure(stages, monthly)

# %% [markdown]
# ## 2. Where the losses are
# Conversion of every value of the categorical fields, with 95 % Wilson intervals and counts,
# the values holding the most lost leads first. Fields where one value holds nearly every lead
# are left out: they say nothing about where the losses are.

# %%
all_segments = funnel.conversion_by_segment(leads, outcome, fields, min_segment_leads)
segments = funnel.informative_segments(all_segments)
spread = funnel.segment_spread(segments)
display(Markdown(findings.segments_finding(segments, spread, overall)))
display(segments.head(20))
figures.segments_figure(segments, spread["field"].head(4).tolist(), overall["conversion"])

# %% [markdown]
# ## 3. Loss reasons
# Why lost leads were lost, overall, by source and by score tier: are the leads the model scores
# high lost for other reasons than the ones it scores low? The tiers are the model's scores of
# every lead, including the ones it trained on.

# %%
if contract.loss_reason:
    reasons = funnel.lost_reasons(leads, outcome, contract.loss_reason)
    high_score = scores["tier"].isin(model_view.HIGH_TIERS)
    comparison = funnel.compare_loss_reasons(reasons, high_score)
    p_value = funnel.reasons_differ_p_value(comparison)
    reason_shares = funnel.loss_reason_shares(reasons)
    by_tier = funnel.loss_reason_shares(reasons, scores["tier"])
    finding = findings.loss_reasons_finding(
        contract.loss_reason, reason_shares, comparison, p_value, by_tier
    )
    display(Markdown(finding), reason_shares, comparison)
    sources = funnel.segments_of(leads[source_field], outcome, min_segment_leads)
    by_source = funnel.loss_reason_shares(reasons, sources)
    display(figures.loss_reasons_figure(by_tier, "loss reasons by score tier"))
    display(figures.loss_reasons_figure(by_source, f"loss reasons by {source_field}"))
else:
    display(Markdown(findings.loss_reasons_finding(None, None, None, float("nan"))))

# %% [markdown]
# ## 4. What the model relies on
# Contributions split each lead's score into one share per input field. Their mean size says
# what the model leans on overall; dependence plots show how the top drivers move the score; and
# three leads (a won one, a lost one scored high, a lost one scored low) are explained field by
# field.

# %%
contributions = reliance.contribution_frame(model, leads)
importance = reliance.global_importance(contributions)
display(Markdown(findings.reliance_finding(importance)))
display(importance.head(15))
figures.importance_figure(importance)

# %%
drivers = importance.index[:3].tolist()
figures.dependence_figure({f: reliance.dependence(model, leads, contributions, f) for f in drivers})

# %%
held_out = held_out_mask(leads, outcome, model, Path(data_path))
examples = model_view.example_leads(outcome, scores, held_out, funnel.lead_ids(leads, contract))
explanations = {
    name: reliance.explain_lead(model, leads, row["lead"])
    for name, row in examples.iterrows()
}
for name, row in examples.iterrows():
    display(Markdown(findings.explanation_finding(name, row, explanations[name])))
display(examples)
figures.explanations_figure(explanations)

# %% [markdown]
# ## 5. Handoff quality
# Do the tiers sort leads the way sales experiences them, are the probabilities right in every
# segment, and which stalled leads deserve another round of nurturing?

# %%
tiers = model_view.conversion_by_tier(outcome[held_out], scores[held_out])
calibration = model_view.calibration_by_segment(
    leads[held_out], outcome[held_out], scores["probability"][held_out], fields, min_segment_leads
)
note = findings.held_out_note(
    model_view.is_training_export(model, Path(data_path)), int(held_out.sum())
)
display(Markdown(findings.handoff_finding(tiers, calibration, note)))
display(tiers, calibration.head(10))
display(figures.tiers_figure(tiers), figures.calibration_figure(calibration))

# %%
ages = funnel.open_lead_ages(outcome, created_at, stalled_factor)
candidates = model_view.recycle_candidates(model, leads, contract, scores, ages)
if recycle_csv:
    write_table(candidates, Path(recycle_csv))
finding = findings.stalled_finding(
    contract.time, outcome, ages, stalled_factor, candidates, recycle_csv
)
display(Markdown(finding))
candidates.head(20)

# %% [markdown]
# ## 6. Leakage
# Fields filled in after sales contact already know the outcome, and a new lead does not have
# them yet: the model must not read them. This lists the fields named leaky (the parameter
# `leaky_columns`, or else those the training audit excluded as filled in after the outcome),
# checks that the model reads none of them, and shows what the model would have looked like with
# them.

# %%
if leaky_columns is None:
    leaky_columns = model.metadata.get("leaky_columns", [])
status = model_view.leaky_field_status(model, leads, leaky_columns)
leakage = (
    leakage_comparison(leads, contract, leaky_columns, leakage_folds, source=data_path)
    if leaky_columns
    else None
)
display(Markdown(findings.leakage_finding(status, leakage)))
if leaky_columns:
    display(status, leakage)
