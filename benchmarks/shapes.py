"""Generated exports of the shapes leadscore must handle beyond X Education, each with a known
truth (the probability every lead was drawn with), for the quality benchmark.

- `small_funnel`: 8,000 leads, about 4 % converted, weak signal spread over many fields, a
  created-at column. Few conversions: early stopping and calibration have little to go on.
- `campaign_file`: 15,000 leads in the order they were created, with no created-at column; the
  conversion rate jumps when a new campaign starts, 55 % of the way down the file, and new
  campaign names appear with it.
- `drifting_b2b`: 40,000 leads over three years; the base rate falls, one source's effect turns
  from positive to negative, another field's effect grows, and a new source appears in the last
  year. The newest leads are the most like tomorrow's.

Every export is a DataFrame with a `converted` column (`yes`/`no`) and its contract. Seeded: the
same seed gives the same leads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.contract import LeadContract

START = pd.Timestamp("2023-01-01")


@dataclass(frozen=True)
class Shape:
    """One generated export: the leads, their contract, and each lead's true probability."""

    name: str
    frame: pd.DataFrame
    contract: LeadContract
    truth: np.ndarray


def small_funnel(seed: int = 0, rows: int = 8_000) -> Shape:
    rng = np.random.default_rng(seed)
    day = np.sort(rng.uniform(0, 540, rows))
    source = _pick(
        rng,
        {
            "Organic": 0.25,
            "Paid Social": -0.3,
            "Referral": 0.45,
            "Event": 0.15,
            "Partner": 0.3,
            "Cold List": -0.45,
            "Newsletter": 0.0,
        },
        rows,
    )
    industry = _pick(
        rng,
        {
            f"Industry {i}": e
            for i, e in enumerate([0.2, 0.1, 0.0, 0.0, -0.1, -0.2, 0.15, -0.15, 0.05, -0.05])
        },
        rows,
    )
    size = _pick(
        rng, {"1-10": -0.25, "11-50": 0.0, "51-200": 0.15, "201-1000": 0.25, "1000+": 0.1}, rows
    )
    role = _pick(
        rng,
        {"Student": -0.5, "Individual": -0.1, "Manager": 0.15, "Director": 0.25, "Executive": 0.2},
        rows,
    )
    campaign = _pick(rng, {f"utm-{i:02d}": e for i, e in enumerate(rng.normal(0, 0.25, 40))}, rows)
    pages = rng.negative_binomial(2, 0.25, rows).astype(float)
    forms = rng.integers(0, 11, rows).astype(float)
    reply_hours = rng.exponential(30, rows)
    reply_hours[rng.random(rows) < 0.3] = np.nan
    webinar = rng.random(rows) < 0.15
    country = rng.choice(["US", "UK", "DE", "FR", "IN", "BR", "CA", "AU", "NL", "ES"], rows)
    signal = (
        _effects(source)
        + _effects(industry)
        + _effects(size)
        + _effects(role)
        + _effects(campaign)
        + 0.25 * np.log1p(np.minimum(pages, 30))
        + 0.04 * forms
        - 0.3 * np.nan_to_num(reply_hours > 48, nan=0.0)
        + 0.35 * webinar
        - 0.15 * day / 540
    )
    logit = -4.5 + 1.4 * signal
    frame = pd.DataFrame(
        {
            "lead_id": [f"F{i:06d}" for i in range(rows)],
            "created_at": _dates(day),
            "source": source[0],
            "industry": industry[0],
            "company_size": size[0],
            "role": role[0],
            "utm_campaign": campaign[0],
            "country": country,
            "pages_viewed": pages,
            "forms_filled": forms,
            "hours_to_reply": np.round(reply_hours, 1),
            "webinar": np.where(webinar, "yes", "no"),
        }
    )
    return _shape("small funnel, 8,000 leads, 4 % converted", frame, logit, rng, time=True)


def campaign_file(seed: int = 0, rows: int = 15_000) -> Shape:
    rng = np.random.default_rng(seed)
    position = np.arange(rows) / rows
    later = position >= 0.55
    old_campaigns = [f"Spring-{i}" for i in range(6)]
    new_campaigns = [f"Relaunch-{i}" for i in range(6)]
    campaign = np.where(
        later, rng.choice(new_campaigns, rows), rng.choice(old_campaigns, rows)
    ).astype(object)
    campaign_effect = dict(zip(old_campaigns + new_campaigns, rng.normal(0, 0.3, 12), strict=True))
    channel = _pick(
        rng, {"Email": 0.2, "Search": 0.3, "Display": -0.4, "Social": -0.1, "Affiliate": 0.1}, rows
    )
    region = _pick(rng, {"North": 0.1, "South": -0.1, "East": 0.0, "West": 0.05}, rows)
    role = _pick(rng, {"Owner": 0.5, "Manager": 0.2, "Staff": -0.2, "Other": -0.4}, rows)
    clicks = rng.poisson(2, rows).astype(float)
    visits = rng.negative_binomial(2, 0.3, rows).astype(float)
    trial = rng.random(rows) < np.where(later, 0.35, 0.2)
    logit = (
        -2.6
        + 1.0 * later
        + np.array([campaign_effect[c] for c in campaign])
        + _effects(channel)
        + _effects(region)
        + _effects(role)
        + 0.25 * np.minimum(clicks, 8)
        + np.where(later, 0.9, 0.4) * trial
        + 0.4 * (visits >= 3)
    )
    frame = pd.DataFrame(
        {
            "lead_id": [f"C{i:06d}" for i in range(rows)],
            "campaign": campaign,
            "channel": channel[0],
            "region": region[0],
            "role": role[0],
            "email_clicks": clicks,
            "site_visits": visits,
            "free_trial": np.where(trial, "yes", "no"),
        }
    )
    return _shape("campaign file, no created-at, rate jumps", frame, logit, rng, time=False)


def drifting_b2b(seed: int = 0, rows: int = 40_000) -> Shape:
    rng = np.random.default_rng(seed)
    day = np.sort(rng.uniform(0, 1095, rows))
    progress = day / 1095
    sources = ["Referral", "Partner", "Webinar", "Paid Search", "Organic", "Outbound", "Events"]
    shares = np.array([0.08, 0.07, 0.12, 0.22, 0.25, 0.16, 0.10])
    source = rng.choice(sources, rows, p=shares).astype(object)
    newest = (progress > 0.67) & (rng.random(rows) < 0.15)
    source[newest] = "AI Assistant"
    source_effect = {
        "Referral": 1.0,
        "Partner": 0.6,
        "Webinar": 0.4,
        "Organic": 0.0,
        "Outbound": -0.8,
        "Events": 0.2,
        "AI Assistant": 0.9,
    }
    effect = np.array([source_effect.get(s, 0.0) for s in source])
    effect = np.where(source == "Paid Search", 0.6 - 1.2 * progress, effect)
    industry = _pick(
        rng,
        {
            "Software": 0.3,
            "Finance": 0.2,
            "Health": 0.1,
            "Retail": 0.0,
            "Industry": 0.0,
            "Public": -0.3,
            "Education": -0.1,
            "Logistics": 0.05,
        },
        rows,
    )
    size = _pick(
        rng, {"1-10": -0.4, "11-50": -0.1, "51-200": 0.1, "201-1000": 0.3, "1000+": 0.2}, rows
    )
    seniority = _pick(
        rng,
        {"Intern": -1.0, "Staff": -0.4, "Manager": 0.0, "Director": 0.3, "VP": 0.5, "C-Level": 0.6},
        rows,
    )
    budget = _pick(rng, {"Approved": 1.0, "Pending": 0.2, "None": -1.0}, rows)
    timeline = _pick(
        rng, {"0-3 months": 0.9, "3-6 months": 0.3, "6-12 months": -0.3, "12+ months": -0.9}, rows
    )
    visits = rng.negative_binomial(2, 0.3, rows).astype(float)
    opens = rng.poisson(5, rows).astype(float)
    demo = rng.random(rows) < 0.25
    large = np.isin(size[0], ["201-1000", "1000+"])
    country = rng.choice(["US", "UK", "DE", "FR", "IN", "BR", "CA", "AU"], rows)
    logit = (
        -2.0
        - 0.5 * progress
        + effect
        + _effects(industry)
        + _effects(size)
        + _effects(seniority)
        + _effects(budget)
        + _effects(timeline)
        + (0.6 + 0.8 * progress) * demo
        + 0.8 * (demo & large)
        + np.select([visits < 3, visits <= 12], [0.0, 0.8], 0.2)
        + 0.04 * np.minimum(opens, 20)
    )
    budget_text = budget[0].copy()
    budget_text[rng.random(rows) < 0.1] = None
    frame = pd.DataFrame(
        {
            "lead_id": [f"B{i:07d}" for i in range(rows)],
            "created_at": _dates(day),
            "lead_source": source,
            "industry": industry[0],
            "company_size": size[0],
            "seniority": seniority[0],
            "budget": budget_text,
            "timeline": timeline[0],
            "country": country,
            "web_visits": visits,
            "email_opens": opens,
            "demo_requested": np.where(demo, "yes", "no"),
        }
    )
    return _shape("drifting B2B export, 40,000 leads", frame, logit, rng, time=True)


SHAPES: dict[str, Callable[[int], Shape]] = {
    "small_funnel": small_funnel,
    "campaign_file": campaign_file,
    "drifting_b2b": drifting_b2b,
}


def _pick(
    rng: np.random.Generator, effects: dict[str, float], rows: int
) -> tuple[np.ndarray, dict[str, float]]:
    """Values drawn uniformly from the keys, with the effects they add to the log-odds."""
    values = rng.choice(list(effects), rows).astype(object)
    return values, effects


def _effects(picked: tuple[np.ndarray, dict[str, float]]) -> np.ndarray:
    values, effects = picked
    return np.array([effects[v] for v in values])


def _dates(day: np.ndarray) -> pd.Series:
    return (START + pd.to_timedelta(day, unit="D")).strftime("%Y-%m-%d %H:%M")


def _shape(
    name: str, frame: pd.DataFrame, logit: np.ndarray, rng: np.random.Generator, time: bool
) -> Shape:
    truth = 1 / (1 + np.exp(-logit))
    frame["converted"] = np.where(rng.random(len(frame)) < truth, "yes", "no")
    contract = LeadContract(
        target="converted",
        positive=("yes",),
        negative=("no",),
        id="lead_id",
        time="created_at" if time else None,
        order=None if time else "file",
    )
    return Shape(name, frame, contract, truth)
