"""The audit must catch what leaks the outcome and leave honest features alone."""

from dataclasses import replace

import numpy as np
import pytest

from features.audit import (
    LEAK_REASON,
    MISSING_IDS_REASON,
    ORDER_DRIFT_REASON,
    REPEATED_IDS_REASON,
    audit_export,
)
from features.contract import LeadContract
from features.demo import LEAD_FIELDS, generate_leads
from features.errors import ContractError

CONTRACT = LeadContract(
    target="outcome",
    positive=("won",),
    negative=("lost",),
    open=("open",),
    id="lead_id",
    time="created_at",
    value="deal_value",
    loss_reason="loss_reason",
    pii=("contact_name", "contact_email"),
    na_values=("Select", "-1"),
)
HONEST = list(LEAD_FIELDS[1:])


def closed_leads(rows: int = 3000, seed: int = 5):
    frame = generate_leads(rows, seed)
    frame = frame[frame["outcome"] != "open"].reset_index(drop=True)
    return frame, (frame["outcome"] == "won").to_numpy(int)


def findings_by_column(result):
    return {f.column: f for f in result.findings}


def test_planted_leak_is_excluded_and_honest_columns_are_kept():
    frame, y = closed_leads()
    rng = np.random.default_rng(0)
    honest_label = np.where(y == 1, "hot", "cold")
    frame["rep_rating"] = np.where(rng.random(len(y)) < 0.85, honest_label, "warm")
    result = audit_export(frame, y, CONTRACT)
    leak = findings_by_column(result)["rep_rating"]
    assert leak.excluded and leak.reason == LEAK_REASON
    assert "ROC AUC" in leak.evidence
    assert result.excluded == ["rep_rating"]
    assert not set(HONEST) & set(result.excluded)


def test_post_handoff_name_is_excluded_but_a_look_alike_honest_name_is_not():
    frame, y = closed_leads()
    frame["lead_status"] = np.random.default_rng(1).choice(["working", "nurture"], len(y))
    result = audit_export(frame, y, CONTRACT)
    assert "lead_status" in result.excluded
    assert "budget_status" not in result.excluded


def test_outcome_dependent_missingness_is_a_leak():
    frame, y = closed_leads()
    rng = np.random.default_rng(2)
    filled = np.where(y == 1, rng.random(len(y)) < 0.95, rng.random(len(y)) < 0.1)
    frame["contract_type"] = np.where(filled, rng.choice(["annual", "monthly"], len(y)), None)
    found = findings_by_column(audit_export(frame, y, CONTRACT))["contract_type"]
    assert found.excluded and "filled in for" in found.evidence


def test_keep_column_keeps_a_flagged_column_and_says_so():
    frame, y = closed_leads()
    frame["rep_rating"] = np.where(y == 1, "hot", "cold")
    result = audit_export(frame, y, CONTRACT, keep=["rep_rating"])
    kept = findings_by_column(result)["rep_rating"]
    assert not kept.excluded and "--keep-column" in kept.evidence
    assert result.excluded == []


def test_keep_column_that_does_not_exist_is_refused():
    frame, y = closed_leads(600)
    with pytest.raises(ContractError, match="--keep-column 'nope'"):
        audit_export(frame, y, CONTRACT, keep=["nope"])


def test_quality_findings():
    frame, y = closed_leads(1500)
    frame["source_system"] = "crm"
    frame["row_key"] = [f"K{i}" for i in range(len(y))]
    frame["newsletter"] = np.where(np.arange(len(y)) < 3, "yes", "no")
    frame["region"] = np.where(np.arange(len(y)) % 4 == 0, "Select", "North")
    frame.loc[len(frame)] = frame.loc[0]
    y = np.append(y, y[0])
    result = audit_export(frame, y, CONTRACT)
    by = {(f.column, f.reason): f for f in result.findings}
    assert by["source_system", "constant"].excluded
    assert by["row_key", "identifier-like"].excluded
    assert not by["newsletter", "near-constant"].excluded
    assert "--na-values 'Select'" in by["region", "sentinel value"].evidence
    duplicated = by[None, "duplicated rows"]
    assert not duplicated.excluded and duplicated.evidence.startswith("1 lead repeats")
    assert result.missing_share["budget_status"] == pytest.approx(
        frame["budget_status"].isna().mean(), abs=1e-4
    )
    assert all(set(f) == {"column", "reason", "evidence", "excluded"} for f in result.to_list())


def test_an_outcome_rate_drifting_along_the_rows_is_reported_unless_the_order_is_declared():
    frame, y = closed_leads(4000, seed=9)
    frame = frame.drop(columns=["created_at"])
    untimed = replace(CONTRACT, time=None)
    jumped = np.where(np.arange(len(y)) < len(y) // 2, 0, y)  # nobody won in the first half
    drift = [
        f for f in audit_export(frame, jumped, untimed).findings if f.reason == ORDER_DRIFT_REASON
    ]
    assert len(drift) == 1 and drift[0].column is None and not drift[0].excluded
    assert 'order = "file"' in drift[0].evidence
    declared = audit_export(frame, jumped, replace(untimed, order="file")).findings
    assert ORDER_DRIFT_REASON not in [f.reason for f in declared]
    steady = audit_export(frame, y, untimed).findings
    assert ORDER_DRIFT_REASON not in [f.reason for f in steady]


def test_lead_ids_on_more_than_one_row_are_reported(caplog):
    """Two exports' leads with the same ids trained without a word, though outcomes and the
    retraining job's comparison go by id."""
    frame, y = closed_leads(1500)
    assert REPEATED_IDS_REASON not in [f.reason for f in audit_export(frame, y, CONTRACT).findings]
    frame.loc[:99, "lead_id"] = frame.loc[100:199, "lead_id"].to_numpy()
    [repeated] = [
        f for f in audit_export(frame, y, CONTRACT).findings if f.reason == REPEATED_IDS_REASON
    ]
    assert repeated.column == "lead_id" and not repeated.excluded
    assert repeated.evidence.startswith("100 lead ids are on more than one row (200 rows")
    assert "repeated lead ids" in caplog.text


def test_leads_without_an_id_are_reported(caplog):
    frame, y = closed_leads(1500)
    assert MISSING_IDS_REASON not in [f.reason for f in audit_export(frame, y, CONTRACT).findings]
    frame.loc[frame.index[::10], "lead_id"] = None
    [missing] = [
        f for f in audit_export(frame, y, CONTRACT).findings if f.reason == MISSING_IDS_REASON
    ]
    assert missing.evidence.startswith(f"{len(frame.index[::10]):,} leads have no id (10.0%)")
    assert "leads without an id" in caplog.text


def test_minus_one_is_a_stand_in_only_where_it_stands_apart():
    """In a budget that goes below zero, -1 is a budget like any other; in visits it is not."""
    frame, y = closed_leads(1500)
    rng = np.random.default_rng(1)
    frame["budget"] = np.round(rng.normal(50, 20, len(y)))
    frame.loc[frame.index[::100], "budget"] = [-1.0, -3.0] * (len(frame.index[::100]) // 2)
    frame["visits"] = rng.integers(0, 30, len(y)).astype(float)
    frame.loc[frame.index[::10], "visits"] = -1.0
    frame["pages"] = np.where(np.arange(len(y)) % 9 == 0, 9999.0, rng.integers(0, 30, len(y)))
    by = {(f.column, f.reason): f for f in audit_export(frame, y, CONTRACT).findings}
    assert ("budget", "sentinel value") not in by
    assert "--na-values '-1'" in by["visits", "sentinel value"].evidence
    assert "--na-values '9999'" in by["pages", "sentinel value"].evidence


def test_infinite_numbers_are_counted_in_a_warning(caplog):
    frame, y = closed_leads(600)
    infinite = np.arange(len(y)) % 20 == 0
    frame["ratio"] = np.where(infinite, np.inf, np.arange(len(y)) % 7)
    finding = next(f for f in audit_export(frame, y, CONTRACT).findings if f.column == "ratio")
    counted = f"{infinite.sum()} leads have an infinite number ('inf') in 'ratio'"
    assert finding.reason == "infinite values" and finding.evidence.startswith(counted)
    assert any(counted in r.getMessage() for r in caplog.records)
