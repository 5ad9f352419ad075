"""The board's aggregates against pandas over the same rows: leads scored through the score log's
writer at times spread over two months (one version, another version, and rows logged before
tiers were kept), outcomes recorded with and without loss reasons. SQLite, and PostgreSQL when
LEADSCORE_TEST_POSTGRES_URL is set."""

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from features.demo import LEAD_FIELDS, generate_leads
from serve.model.loading import load_lead_model
from serve.model.scorer import score_leads
from serve.store import board_figures as figures
from serve.store.outcomes import Outcome, record_outcomes
from serve.store.performance import MISSING_SEGMENT
from serve.store.score_log import ScoreLog
from serve.store.times import utc_now
from tests.serve import test_store

engine = test_store.engine  # the same store fixture: SQLite, and PostgreSQL when configured
LEADS = 700
SOURCE = "lead_source"


@pytest.fixture(scope="module")
def model(trained_model):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", trained_model.tracking_uri)
        return load_lead_model("models:/leadscore/1").model


@pytest.fixture
def filled(engine, model):
    """The store, and what was written to it as one row per lead and version."""
    now = utc_now()
    leads = generate_leads(LEADS, seed=41)
    leads["lead_id"] = [f"B{i}" for i in range(LEADS)]
    leads.loc[leads.index % 9 == 0, SOURCE] = None  # some leads come without a source
    records = [
        {k: (None if pd.isna(v) else v) for k, v in row.items()}
        for row in leads[[*LEAD_FIELDS, "deal_value"]].to_dict("records")
    ]
    scored = score_leads(model, records)
    days_ago = (np.arange(LEADS) * 7) % 60 + 0.5
    version = np.where(np.arange(LEADS) % 10 == 3, "2", "1")
    untiered = np.arange(LEADS) % 11 == 5  # logged before tiers were kept
    log = ScoreLog(engine)
    for i, record in enumerate(records):
        log.record(
            [record],
            [record["lead_id"]],
            scored.probability[i : i + 1],
            str(version[i]),
            (),
            None if untiered[i] else [scored.tier[i]],
            scored.expected_value[i : i + 1],
            [SOURCE],
            scored_at=now - timedelta(days=float(days_ago[i])),
        )
    log.flush()
    reason = leads["loss_reason"].astype(object)
    reason = reason.where(reason.notna() & (leads.index % 5 != 0), None)  # some without one
    reason = reason.where(leads.index % 13 != 0, "  ")  # and some blank
    closed = leads["outcome"] != "open"
    record_outcomes(
        engine,
        [
            Outcome(lead, outcome, why if outcome == "lost" else None, value)
            for lead, outcome, why, value in zip(
                leads.loc[closed, "lead_id"],
                leads.loc[closed, "outcome"],
                reason[closed],
                leads.loc[closed, "deal_value"].where(leads.loc[closed, "outcome"] == "won"),
                strict=True,
            )
        ],
    )
    rows = pd.DataFrame(
        {
            "lead_id": leads["lead_id"],
            "days_ago": days_ago,
            "version": version,
            "probability": scored.probability,
            "tier": np.where(
                untiered,
                [model.tiers.assign_one(int(round(p * 100))) for p in scored.probability],
                scored.tier,
            ),
            "expected_value": scored.expected_value,
            "source": leads[SOURCE].fillna(MISSING_SEGMENT),
            "outcome": leads["outcome"].where(closed),
            "reason": reason.where(leads["outcome"] == "lost").str.strip().replace("", None),
        }
    )
    return engine, rows, now


def scope(model, now, days, **chosen):
    return figures.LeadScope("1", now - timedelta(days=days), now, model.tiers, SOURCE, **chosen)


def in_scope(rows, days, source=None, tier=None):
    keep = (rows["version"] == "1") & (rows["days_ago"] <= days)
    if source is not None:
        keep &= rows["source"] == source
    if tier is not None:
        keep &= rows["tier"] == tier
    return rows[keep]


@pytest.mark.parametrize(
    ("days", "chosen"),
    [
        (7, {}),
        (30, {}),
        (60, {"source": "Referral"}),
        (60, {"tier": "B"}),
        (30, {"source": MISSING_SEGMENT}),
    ],
)
def test_leads_per_tier_and_source_match_pandas(filled, model, days, chosen):
    engine, rows, now = filled
    counts = figures.lead_counts(engine, scope(model, now, days, **chosen))
    expected = in_scope(rows, days, **chosen)
    assert counts.leads == len(expected) > 0
    assert counts.expected_revenue == pytest.approx(expected["expected_value"].sum())
    by_tier = {g.name: g for g in counts.by_tier()}
    for tier, part in expected.groupby("tier"):
        assert by_tier[tier].leads == len(part)
        assert by_tier[tier].open == part["outcome"].isna().sum()
        assert by_tier[tier].expected_revenue == pytest.approx(part["expected_value"].sum())
    by_source = {g.name: g.leads for g in counts.by_source()}
    assert by_source == expected["source"].value_counts().to_dict()


def test_unworked_leads_are_the_tiers_leads_without_outcome(filled, model):
    engine, rows, now = filled
    found = figures.unworked_leads(engine, scope(model, now, 30), "A", limit=5)
    expected = in_scope(rows, 30, tier="A")
    expected = expected[expected["outcome"].isna()].sort_values(
        ["probability", "lead_id"], ascending=[False, True]
    )
    assert found.total == len(expected) > 0
    assert found.expected_revenue == pytest.approx(expected["expected_value"].sum())
    assert [lead.lead_id for lead in found.leads] == expected["lead_id"].head(5).tolist()
    assert [lead.source for lead in found.leads] == expected["source"].head(5).tolist()


@pytest.mark.parametrize(
    ("days", "chosen"), [(60, {}), (30, {"tier": "D"}), (60, {"source": "Paid Search"})]
)
def test_loss_reasons_match_pandas(filled, model, days, chosen):
    engine, rows, now = filled
    losses = figures.loss_reasons(engine, scope(model, now, days, **chosen))
    lost = in_scope(rows, days, **chosen)
    lost = lost[lost["outcome"] == "lost"]
    assert losses.lost == len(lost) > 0
    assert losses.no_reason == lost["reason"].isna().sum() > 0
    assert losses.no_reason_share == pytest.approx(lost["reason"].isna().mean())
    shares = lost["reason"].value_counts()
    assert {r.reason: r.lost for r in losses.reasons()} == shares.to_dict()
    for group in losses.by_source():
        part = lost[lost["source"] == group.name]
        assert (group.lost, group.no_reason) == (len(part), part["reason"].isna().sum())
    assert [g.name for g in losses.by_tier()] == sorted(lost["tier"].unique())


def test_newest_fields_are_the_versions_newest_rows(filled):
    engine, rows, _ = filled
    sample = figures.newest_fields(engine, "1", 50)
    assert len(sample) == 50
    assert set(sample["lead_id"]) == set(rows.loc[rows["version"] == "1", "lead_id"].tail(50))
