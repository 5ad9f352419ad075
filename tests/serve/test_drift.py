import numpy as np

from features.demo import generate_leads
from features.encoder import LeadEncoder
from features.reading import mask_sentinels
from serve.model.drift import PSI_WARNING, drift_report, profile, psi

KINDS = {
    "industry": "categorical",
    "lead_source": "categorical",
    "web_visits": "numeric",
    "email_opens": "numeric",
    "demo_requested": "boolean",
}
NA = ("Select", "-1")


def reference(rows: int = 4000):
    leads = mask_sentinels(generate_leads(rows, 1), NA)
    encoder = LeadEncoder.fit(leads, KINDS, NA)
    scores = np.random.default_rng(0).integers(0, 100, rows)
    return encoder, profile(encoder, encoder.transform(leads), scores, base_rate=0.3)


def test_psi_of_a_distribution_with_itself_is_zero_and_grows_with_shift():
    same = {"a": 0.5, "b": 0.5}
    assert psi(same, same) == 0
    assert psi(same, {"a": 0.6, "b": 0.4}) < psi(same, {"a": 0.9, "b": 0.1})


def test_same_population_shows_no_drift():
    encoder, ref = reference()
    new = generate_leads(3000, 2)
    scores = np.random.default_rng(1).integers(0, 100, len(new))
    report = drift_report(ref, encoder, new, scores, base_rate=0.31, ignored={"lead_id"})
    assert report.drifted == []
    assert max(report.psi.values()) < 0.05


def test_a_shifted_column_and_schema_changes_are_flagged():
    encoder, ref = reference()
    new = generate_leads(3000, 2)
    new["web_visits"] = new["web_visits"] * 4 + 10
    new["lead_source"] = "Paid Search"
    new = new.drop(columns=["industry"]).assign(utm_campaign="spring")
    new["email_opens"] = "n/a"
    scores = np.random.default_rng(1).integers(0, 100, len(new))
    report = drift_report(ref, encoder, new, scores, base_rate=0.1)
    assert {"web_visits", "lead_source", "industry"} <= set(report.drifted)
    assert report.psi["web_visits"] > PSI_WARNING
    assert "utm_campaign" in report.appeared and report.disappeared == ["industry"]
    assert report.kind_changed == {"email_opens": {"was": "numeric", "now": "categorical"}}
    assert report.base_rate == {"training": 0.3, "new": 0.1}
    assert "score" in report.psi
