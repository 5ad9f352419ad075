"""Realistic B2B demo leads, with a known truth, for the demo, the tests and the benchmarks.

How conversion is made (log-odds, added up; base -2.1):
- budget_status: Approved +1.0, Pending +0.2, No budget -1.0, missing 0 ("No budget", not
  "None", which most CSV readers take for a missing value)
- purchase_timeline: 0-3 months +0.9, 3-6 months +0.3, 6-12 months -0.3, 12+ months -0.9
- job_title_level: C-Level +0.6, VP +0.5, Director +0.3, Manager 0, Individual Contributor -0.4,
  Intern -1.0
- lead_source: Referral +1.0, Partner +0.6, Webinar +0.4, Trade Show +0.2, Organic Search 0,
  Social Media -0.4, Cold Outbound -0.8; Paid Search drifts from +0.5 to -0.5 over the two years
- industry: Software +0.3, Finance +0.2, Healthcare 0.1, others 0, Government -0.3
- demo_requested yes: +1.0, and a further +1.2 when company_size is 201-1000 or 1000+
  (an interaction); budget Approved with a 0-3 months timeline: a further +0.8 (another)
- web_visits: nothing below 3 visits, +0.8 from 3 to 12, +0.2 above 12 (automated visits);
  email_opens: +0.04 per open, up to 20
- a slow drift: the base rate falls by 0.3 in log-odds from the first to the last day
- country has no effect at all (a feature the model should learn to ignore)

Lost leads get a loss reason that depends on why they were weak (no budget, timing, price...).
The newest leads are more often still open (no outcome yet). `purchase_timeline` sometimes holds
the web form's default `Select`, and `email_opens` the tracking system's `-1`: both mean missing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

INDUSTRY = {
    "Software": 0.3,
    "Finance": 0.2,
    "Healthcare": 0.1,
    "Manufacturing": 0.0,
    "Retail": 0.0,
    "Education": 0.0,
    "Logistics": 0.0,
    "Government": -0.3,
}
COMPANY_SIZE = {"1-10": 0.18, "11-50": 0.27, "51-200": 0.25, "201-1000": 0.18, "1000+": 0.12}
JOB_LEVEL = {
    "Intern": -1.0,
    "Individual Contributor": -0.4,
    "Manager": 0.0,
    "Director": 0.3,
    "VP": 0.5,
    "C-Level": 0.6,
}
LEAD_SOURCE = {
    "Referral": 1.0,
    "Partner": 0.6,
    "Webinar": 0.4,
    "Trade Show": 0.2,
    "Organic Search": 0.0,
    "Paid Search": 0.0,
    "Social Media": -0.4,
    "Cold Outbound": -0.8,
}
SOURCE_SHARE = [0.08, 0.06, 0.12, 0.07, 0.2, 0.2, 0.12, 0.15]
COUNTRY = ["US", "UK", "Germany", "France", "India", "Brazil", "Canada", "Australia"]
TIMELINE = {"0-3 months": 0.9, "3-6 months": 0.3, "6-12 months": -0.3, "12+ months": -0.9}
BUDGET = {"Approved": 1.0, "Pending": 0.2, "No budget": -1.0}
SIZE_DEAL_MEDIAN = {
    "1-10": 3_000,
    "11-50": 8_000,
    "51-200": 20_000,
    "201-1000": 45_000,
    "1000+": 110_000,
}
LOSS_REASONS = ["No budget", "Timing", "Price", "Chose competitor", "No response", "Not a fit"]
# What a CRM sends for one new demo lead: its id and the fields known before handoff.
LEAD_FIELDS = (
    "lead_id",
    "industry",
    "company_size",
    "job_title_level",
    "lead_source",
    "country",
    "purchase_timeline",
    "budget_status",
    "web_visits",
    "email_opens",
    "demo_requested",
)
START = pd.Timestamp("2024-01-01")
DAYS = 730

CONTRACT_TOML = """\
# Lead contract of the leadscore demo export
id = "lead_id"
target = "outcome"
positive = ["won"]
negative = ["lost"]
open = ["open"]
time = "created_at"
value = "deal_value"
loss_reason = "loss_reason"
pii = ["contact_name", "contact_email"]
na_values = ["Select", "-1"]
"""


def generate_leads(rows: int, seed: int = 0) -> pd.DataFrame:
    """`rows` demo leads; the same seed gives the same leads."""
    rng = np.random.default_rng(seed)
    day = np.sort(rng.uniform(0, DAYS, rows))
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i:07d}" for i in range(1, rows + 1)],
            "created_at": (START + pd.to_timedelta(day, unit="D")).strftime("%Y-%m-%d %H:%M"),
            "industry": _pick(rng, INDUSTRY, rows),
            "company_size": _pick(rng, COMPANY_SIZE, rows, list(COMPANY_SIZE.values())),
            "job_title_level": _pick(rng, JOB_LEVEL, rows, [0.05, 0.35, 0.27, 0.17, 0.1, 0.06]),
            "lead_source": _pick(rng, LEAD_SOURCE, rows, SOURCE_SHARE),
            "country": rng.choice(COUNTRY, rows, p=[0.35, 0.12, 0.1, 0.08, 0.13, 0.07, 0.08, 0.07]),
            "purchase_timeline": _pick(rng, TIMELINE, rows, [0.2, 0.3, 0.3, 0.2]),
            "budget_status": _pick(rng, BUDGET, rows, [0.3, 0.4, 0.3]),
            "web_visits": rng.negative_binomial(2, 0.3, rows),
            "email_opens": rng.poisson(5, rows),
            "demo_requested": np.where(rng.random(rows) < 0.25, "yes", "no"),
        }
    )
    logit = _conversion_logit(frame, day)
    won = rng.random(rows) < 1 / (1 + np.exp(-logit))
    frame["deal_value"] = _deal_values(rng, frame["company_size"])
    frame["outcome"] = np.where(won, "won", "lost")
    frame.loc[_still_open(rng, day), "outcome"] = "open"
    frame["loss_reason"] = _loss_reasons(rng, frame)
    frame["contact_name"] = [f"Contact {i}" for i in range(1, rows + 1)]
    frame["contact_email"] = [f"contact{i}@example.com" for i in range(1, rows + 1)]
    _add_gaps(rng, frame)
    return frame


def write_demo(path: Path, rows: int, seed: int) -> Path:
    """Write the leads to `path` (CSV or Parquet) and their contract beside it; return that path."""
    from features.reading import write_table

    write_table(generate_leads(rows, seed), path)
    contract_path = path.with_suffix(".toml")
    contract_path.write_text(CONTRACT_TOML, encoding="utf-8")
    return contract_path


def _pick(
    rng: np.random.Generator, effects: dict[str, float], rows: int, share: list[float] | None = None
) -> np.ndarray:
    return rng.choice(list(effects), rows, p=share)


def _conversion_logit(frame: pd.DataFrame, day: np.ndarray) -> np.ndarray:
    progress = day / DAYS
    paid_search = 0.5 - progress
    source = frame["lead_source"].map(LEAD_SOURCE).to_numpy(float)
    source = np.where(frame["lead_source"] == "Paid Search", paid_search, source)
    demo = (frame["demo_requested"] == "yes").to_numpy()
    large = frame["company_size"].isin(["201-1000", "1000+"]).to_numpy()
    ready = (frame["budget_status"] == "Approved") & (frame["purchase_timeline"] == "0-3 months")
    visits = frame["web_visits"].to_numpy()
    return (
        -2.1
        - 0.3 * progress
        + frame["budget_status"].map(BUDGET).to_numpy(float)
        + frame["purchase_timeline"].map(TIMELINE).to_numpy(float)
        + frame["job_title_level"].map(JOB_LEVEL).to_numpy(float)
        + frame["industry"].map(INDUSTRY).to_numpy(float)
        + source
        + 1.0 * demo
        + 1.2 * (demo & large)
        + 0.8 * ready.to_numpy()
        + np.select([visits < 3, visits <= 12], [0.0, 0.8], 0.2)
        + 0.04 * np.minimum(frame["email_opens"].to_numpy(), 20)
    )


def _deal_values(rng: np.random.Generator, sizes: pd.Series) -> np.ndarray:
    median = sizes.map(SIZE_DEAL_MEDIAN).to_numpy(float)
    return np.round(median * rng.lognormal(0, 0.5, len(sizes)), -2)


def _still_open(rng: np.random.Generator, day: np.ndarray) -> np.ndarray:
    """Leads of the last 60 days are mostly open; a few older ones stalled."""
    recent = day > DAYS - 60
    return np.where(recent, rng.random(len(day)) < 0.7, rng.random(len(day)) < 0.03)


def _loss_reasons(rng: np.random.Generator, frame: pd.DataFrame) -> np.ndarray:
    rows = len(frame)
    weights = np.ones((rows, len(LOSS_REASONS)))
    weights[:, 0] += 3 * (frame["budget_status"] == "No budget").to_numpy()
    weights[:, 1] += 3 * (frame["purchase_timeline"] == "12+ months").to_numpy()
    weights[:, 2] += 1.5 * frame["company_size"].isin(["1-10", "11-50"]).to_numpy()
    weights[:, 4] += 2 * (frame["lead_source"] == "Cold Outbound").to_numpy()
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    choice = (rng.random((rows, 1)) > cumulative).sum(axis=1)
    reasons = np.array(LOSS_REASONS, dtype=object)[np.minimum(choice, len(LOSS_REASONS) - 1)]
    reasons[(frame["outcome"] != "lost").to_numpy()] = None
    return reasons


def _add_gaps(rng: np.random.Generator, frame: pd.DataFrame) -> None:
    """Missing values and sentinels, as real exports have them."""
    rows = len(frame)
    frame.loc[rng.random(rows) < 0.08, "purchase_timeline"] = "Select"
    frame.loc[rng.random(rows) < 0.05, "email_opens"] = -1
    frame.loc[rng.random(rows) < 0.04, "industry"] = None
    frame.loc[rng.random(rows) < 0.10, "budget_status"] = None
    frame.loc[frame["outcome"] != "won", "deal_value"] *= np.where(
        rng.random(int((frame["outcome"] != "won").sum())) < 0.5, np.nan, 1.0
    )
