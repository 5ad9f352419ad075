"""What happened to a company's leads, as tables: the funnel, conversion by month and by segment
(with Wilson confidence intervals), loss reasons, and the open leads that stalled.

Every function takes DataFrames or Series and returns a DataFrame (or a Series), so a notebook
only calls and shows them. `outcome` is always the 'won' / 'lost' / 'open' Series of
`features.labels.outcome_names`, aligned with the leads. Conversion is won / (won + lost): open
leads have no outcome yet and count in no rate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency

from features.contract import LeadContract
from features.labels import LOST, OPEN, WON
from features.values import canonical_text_series
from insights.stalled import is_stalled
from serve.model.metrics import wilson_interval

MISSING = "(missing)"
SMALL_SEGMENTS = "(small segments)"
OTHER_REASONS = "(other reasons)"
COUNT_COLUMNS = ["leads", WON, LOST, OPEN]


def conversion_table(outcome: pd.Series, groups: pd.Series) -> pd.DataFrame:
    """Per group: leads, won, lost, open, conversion and its 95 % Wilson interval."""
    counts = pd.crosstab(groups, outcome).reindex(columns=[WON, LOST, OPEN], fill_value=0)
    table = pd.DataFrame(index=counts.index)
    table["leads"] = counts.sum(axis=1)
    for name in (WON, LOST, OPEN):
        table[name] = counts[name]
    closed = table[WON] + table[LOST]
    table["conversion"] = table[WON] / closed.where(closed > 0)
    table["ci_low"], table["ci_high"] = wilson_interval(
        table[WON].to_numpy(float), closed.where(closed > 0).to_numpy(float)
    )
    return table


def funnel(outcome: pd.Series) -> pd.DataFrame:
    """How many leads there are, and how many were won, lost or are still open."""
    counts = outcome.value_counts().reindex([WON, LOST, OPEN], fill_value=0)
    table = pd.DataFrame({"count": [len(outcome), *counts.tolist()]}, index=COUNT_COLUMNS)
    table["share_of_leads"] = table["count"] / max(len(outcome), 1)
    table.index.name = "stage"
    return table


def overall_conversion(outcome: pd.Series) -> pd.Series:
    """One row of `conversion_table` for all leads together."""
    return conversion_table(outcome, pd.Series("all leads", index=outcome.index)).iloc[0]


def conversion_by_month(outcome: pd.Series, created_at: pd.Series) -> pd.DataFrame:
    """Conversion of the leads created in each month (leads without a date are left out)."""
    month = created_at.dt.to_period("M").astype(str).where(created_at.notna())
    table = conversion_table(outcome[month.notna()], month.dropna()).sort_index()
    table.index.name = "month"
    return table


def segment_values(series: pd.Series) -> pd.Series:
    """A column's values as the text shown in tables; missing values are a segment of their own."""
    return canonical_text_series(series).fillna(MISSING)


def segments_of(series: pd.Series, outcome: pd.Series, min_leads: int = 30) -> pd.Series:
    """Each lead's segment in a column: its value, or one pooled segment for the values with
    fewer than `min_leads` closed leads (pooled only when more than one value is that small)."""
    values = segment_values(series)
    closed = values[outcome.isin([WON, LOST])].value_counts()
    closed = closed.reindex(values.unique(), fill_value=0)
    small = closed.index[closed < min_leads]
    if len(small) > 1:
        values = values.where(~values.isin(small), SMALL_SEGMENTS)
    return values


def conversion_by_segment(
    frame: pd.DataFrame, outcome: pd.Series, columns: list[str], min_leads: int = 30
) -> pd.DataFrame:
    """Conversion of every value of every column, most lost leads first. Values with fewer than
    `min_leads` closed leads are pooled per column so that every lost lead is still counted.
    `excess_lost` is how many more leads a segment lost than the overall rate would have lost
    of its closed leads (negative: fewer)."""
    parts = []
    for column in columns:
        table = conversion_table(outcome, segments_of(frame[column], outcome, min_leads))
        parts.append(table.rename_axis("value").reset_index().assign(field=column))
    table = pd.concat(parts, ignore_index=True)
    table["share_of_lost"] = table[LOST] / max(int((outcome == LOST).sum()), 1)
    lost_rate = 1 - overall_conversion(outcome)["conversion"]
    table["excess_lost"] = table[LOST] - (table[WON] + table[LOST]) * lost_rate
    ordered = ["field", "value", *COUNT_COLUMNS, "conversion", "ci_low", "ci_high"]
    return table[[*ordered, "share_of_lost", "excess_lost"]].sort_values(
        [LOST, "field", "value"], ascending=[False, True, True], ignore_index=True
    )


def informative_segments(table: pd.DataFrame, max_share: float = 0.95) -> pd.DataFrame:
    """A `conversion_by_segment` table without the fields where one value holds more than
    `max_share` of the leads: a nearly constant field holds every lost lead and says nothing
    about where they are."""
    share = table["leads"] / table.groupby("field")["leads"].transform("sum")
    constant = table.loc[share > max_share, "field"].unique()
    return table[~table["field"].isin(constant)].reset_index(drop=True)


def segment_spread(table: pd.DataFrame) -> pd.DataFrame:
    """How much conversion differs between the values of each field of a
    `conversion_by_segment` table: the spread (standard deviation of the segments' conversion,
    weighted by their closed leads). Fields that separate won from lost leads come first."""
    closed = table[WON] + table[LOST]
    rows = []
    for field, part in table.assign(closed=closed).groupby("field", sort=False):
        part = part[part["closed"] > 0]
        weights = part["closed"] / part["closed"].sum()
        mean = float((weights * part["conversion"]).sum())
        spread = float(np.sqrt((weights * (part["conversion"] - mean) ** 2).sum()))
        rows.append(
            {"field": field, "segments": len(part), LOST: int(part[LOST].sum()), "spread": spread}
        )
    return pd.DataFrame(rows).sort_values("spread", ascending=False, ignore_index=True)


def lost_reasons(frame: pd.DataFrame, outcome: pd.Series, reason_column: str) -> pd.Series:
    """The loss reason of every lost lead (missing ones named so), indexed like the leads."""
    return segment_values(frame.loc[outcome == LOST, reason_column])


def loss_reason_shares(
    reasons: pd.Series, groups: pd.Series | None = None, top: int = 8
) -> pd.DataFrame:
    """Share of each loss reason among lost leads, overall (one column 'share') or per group
    (one row per group, one column per reason, plus the group's lost leads). Reasons beyond the
    `top` most common are pooled."""
    reasons = pool_rare(reasons, top)
    if groups is None:
        counts = reasons.value_counts()
        return pd.DataFrame({LOST: counts, "share": counts / counts.sum()}).rename_axis("reason")
    shares = pd.crosstab(groups.loc[reasons.index], reasons, normalize="index")
    shares = shares[reasons.value_counts().index]
    shares.insert(0, LOST, groups.loc[reasons.index].value_counts())
    return shares


def pool_rare(values: pd.Series, top: int) -> pd.Series:
    """Keep the `top` most common values; the rest become one pooled value."""
    common = values.value_counts().index[:top]
    return values.where(values.isin(common), OTHER_REASONS)


def compare_loss_reasons(reasons: pd.Series, high: pd.Series, top: int = 8) -> pd.DataFrame:
    """Loss reasons of lost leads the model scored high against those it scored low (leads
    without a recorded reason left out): the share of each reason in both groups and the
    difference in percentage points, biggest first."""
    reasons = pool_rare(reasons[reasons != MISSING], top)
    is_high = high.loc[reasons.index].astype(bool)
    table = pd.DataFrame(
        {
            "high_lost": reasons[is_high].value_counts(),
            "low_lost": reasons[~is_high].value_counts(),
        }
    ).fillna(0)
    table = table.astype(int)
    table["high_share"] = table["high_lost"] / max(int(table["high_lost"].sum()), 1)
    table["low_share"] = table["low_lost"] / max(int(table["low_lost"].sum()), 1)
    table["difference_points"] = 100 * (table["high_share"] - table["low_share"])
    table.index.name = "reason"
    return table.sort_values("difference_points", key=np.abs, ascending=False)


def reasons_differ_p_value(comparison: pd.DataFrame) -> float:
    """Chi-square test that high- and low-score leads are lost for the same reasons; a small
    p-value says the reasons differ more than chance would make them. NaN when untestable."""
    counts = comparison[["high_lost", "low_lost"]]
    counts = counts[counts.sum(axis=1) > 0]
    if len(counts) < 2 or (counts.sum(axis=0) == 0).any():
        return float("nan")
    return float(chi2_contingency(counts.to_numpy()).pvalue)


def open_lead_ages(
    outcome: pd.Series,
    created_at: pd.Series[pd.Timestamp] | None,
    factor: float = 3.0,
    as_of: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Per lead: days since it was created (counted to `as_of`, default the newest lead) and
    whether it is an open lead that stalled: older than `factor` times the median age of open
    leads. Without created-at times ages are unknown and no lead is marked stalled."""
    if created_at is None:
        return pd.DataFrame({"age_days": np.nan, "stalled": False}, index=outcome.index)
    as_of = created_at.max() if as_of is None else pd.Timestamp(as_of)
    age = (as_of - created_at) / pd.Timedelta(days=1)
    stalled = is_stalled(age, outcome == OPEN, typical_open_age(age, outcome), factor)
    return pd.DataFrame({"age_days": age, "stalled": stalled}, index=outcome.index)


def typical_open_age(age_days: pd.Series, outcome: pd.Series) -> float:
    """The median age in days of the open leads (NaN when no lead is open or ages are unknown)."""
    return float(age_days[outcome == OPEN].median())


def lead_ids(frame: pd.DataFrame, contract: LeadContract) -> pd.Series:
    """Each lead's id as text: the contract's id column, or the row number when it has none."""
    if contract.id:
        return canonical_text_series(frame[contract.id]).fillna(MISSING)
    return pd.Series([f"row {i + 1}" for i in range(len(frame))], index=frame.index)
