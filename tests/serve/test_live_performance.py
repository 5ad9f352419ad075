"""Live performance and stalled leads, through the API, against pandas over the same leads: what
the API answered when they were scored and the outcomes posted back."""

import io
import json
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.metrics import log_loss, roc_auc_score

from features.demo import LEAD_FIELDS, generate_leads
from insights.stalled import MIN_STALLED_DAYS
from serve.api.app import create_app
from serve.api.settings import Settings
from serve.model.loading import load_lead_model
from serve.model.metrics import wilson_interval
from serve.model.scorer import score_leads

KEY = "perf-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
LEADS = 900


@pytest.fixture(scope="module")
def demo_leads() -> pd.DataFrame:
    leads = generate_leads(LEADS, seed=31)
    leads["lead_id"] = [f"P{i}" for i in range(len(leads))]
    return leads


@pytest.fixture
def client(use_trained_store, tmp_path):
    settings = Settings(
        api_keys=KEY,
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        score_log_flush_seconds=0.05,
        max_leads_per_request=1000,
    )
    with TestClient(create_app(settings)) as client:
        client.app.state.holder.wait_settled(60)  # the model loads in the background
        yield client


def json_leads(frame: pd.DataFrame) -> list[dict]:
    """Every field the CRM sends for a demo lead (PII and deal value included), as JSON."""
    sent = [*LEAD_FIELDS, "created_at", "deal_value", "contact_name", "contact_email"]
    return json.loads(frame[sent].to_json(orient="records"))


def score_and_report(client, leads: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score every lead over HTTP, wait until the score log holds them, post the outcomes of
    the closed ones (closed 1 to 30 days after scoring); return what the API answered and the
    outcomes posted."""
    answer = client.post("/v1/score?reasons=false", json={"leads": json_leads(leads)}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    scored = pd.DataFrame(answer.json()["scores"]).set_index("lead_id")
    closed = leads[leads["outcome"] != "open"]
    now = datetime.now(UTC)
    posted = pd.DataFrame(
        {
            "lead_id": closed["lead_id"],
            "outcome": closed["outcome"],
            "value": np.where(closed["outcome"] == "won", closed["deal_value"], None),
            "days": (np.arange(len(closed)) % 30) + 1,
        }
    )
    outcomes = [
        {
            "lead_id": row.lead_id,
            "outcome": row.outcome,
            "value": None if row.value is None or pd.isna(row.value) else float(row.value),
            "closed_at": (now + timedelta(days=int(row.days))).isoformat(),
        }
        for row in posted.itertuples()
    ]
    stored = client.post("/v1/outcomes", json={"outcomes": outcomes}, headers=AUTH)
    assert stored.status_code == 200, stored.text
    return scored, posted.set_index("lead_id")


def wait_for_score_log(client) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        answer = client.get("/v1/performance", headers=AUTH).json()
        if answer["overall"]["scored"] == LEADS:
            return
        time.sleep(0.05)
    raise AssertionError("the score log never held every scored lead")


def test_performance_matches_pandas_over_the_same_leads(client, demo_leads):
    scored, posted = score_and_report(client, demo_leads)
    wait_for_score_log(client)
    answer = client.get("/v1/performance", headers=AUTH).json()

    leads = scored.join(posted[["outcome", "value"]])
    leads["outcome"] = leads["outcome"].fillna("open")
    closed = leads[leads["outcome"] != "open"]
    won = closed["outcome"] == "won"
    assert answer["model_version"] == "1"
    assert answer["overall"]["scored"] == len(leads)
    assert (answer["overall"]["won"], answer["overall"]["lost"]) == (won.sum(), (~won).sum())
    assert answer["overall"]["open"] == (leads["outcome"] == "open").sum()
    assert answer["overall"]["won_revenue"] == pytest.approx(closed.loc[won, "value"].sum())
    open_value = leads.loc[leads["outcome"] == "open", "expected_value"].sum()
    assert answer["overall"]["expected_open_revenue"] == pytest.approx(open_value)

    for tier in answer["tiers"]:
        members = leads[leads["tier"] == tier["tier"]]
        part = tier["conversion"]
        closed_members = members[members["outcome"] != "open"]
        assert part["scored"] == len(members)
        assert part["won"] == (closed_members["outcome"] == "won").sum()
        if len(closed_members):
            won_n = int((closed_members["outcome"] == "won").sum())
            low, high = wilson_interval(np.array([won_n]), np.array([len(closed_members)]))
            assert part["realised"]["estimate"] == pytest.approx(won_n / len(closed_members))
            assert (part["realised"]["low"], part["realised"]["high"]) == pytest.approx(
                (low[0], high[0])
            )
            assert part["predicted"] == pytest.approx(closed_members["probability"].mean())

    sources = {s["value"]: s["conversion"] for s in answer["segments"]}
    assert {s["field"] for s in answer["segments"]} == {"lead_source"}
    by_source = demo_leads.set_index("lead_id")["lead_source"].reindex(leads.index)
    for value, part in leads.groupby(by_source):
        closed_part = part[part["outcome"] != "open"]
        won_part = closed_part["outcome"] == "won"
        assert sources[value]["scored"] == len(part)
        assert sources[value]["won"] == won_part.sum()
        assert sources[value]["lost"] == (~won_part).sum()
        assert sources[value]["won_revenue"] == pytest.approx(
            closed_part.loc[won_part, "value"].sum()
        )
        open_part = part.loc[part["outcome"] == "open", "expected_value"]
        assert sources[value]["expected_open_revenue"] == pytest.approx(open_part.sum())
        if len(closed_part):
            assert sources[value]["predicted"] == pytest.approx(closed_part["probability"].mean())
    assert answer["versions"] == [
        {"model_version": "1", "scored": len(leads), "closed": len(closed)}
    ]

    y, probability = won.astype(int).to_numpy(), closed["probability"].to_numpy()
    discrimination = answer["discrimination"]
    assert discrimination["roc_auc"]["estimate"] == pytest.approx(roc_auc_score(y, probability))
    assert discrimination["roc_auc"]["low"] < discrimination["roc_auc"]["estimate"]
    assert discrimination["log_loss"] == pytest.approx(log_loss(y, probability))
    bins = np.minimum((probability * 10).astype(int), 9)
    for number, calibration in zip(np.unique(bins), answer["calibration"], strict=True):
        members = bins == number
        assert calibration["leads"] == members.sum()
        assert calibration["predicted"] == pytest.approx(probability[members].mean())
        assert calibration["realised"] == pytest.approx(y[members].mean())
    assert answer["drift"]["leads"] == LEADS
    assert set(answer["drift"]["psi"]) >= {"score", "lead_source"}


def test_few_closed_leads_say_so_instead_of_a_roc_auc(client, demo_leads):
    few = demo_leads.head(20)
    answer = client.post("/v1/score", json={"leads": json_leads(few)}, headers=AUTH)
    assert answer.status_code == 200
    time.sleep(0.3)
    discrimination = client.get("/v1/performance", headers=AUTH).json()["discrimination"]
    assert discrimination["roc_auc"] is None
    assert "not enough closed leads" in discrimination["note"]


def test_performance_and_stalled_need_a_key(client):
    assert client.get("/v1/performance").status_code == 401
    assert client.get("/v1/leads/stalled").status_code == 401


def test_closings_before_the_first_score_never_make_every_lead_stalled(client, demo_leads):
    """Outcomes closed before their leads were scored made the typical time to close 0 days,
    and every open lead "stalled" at once."""
    answer = client.post(
        "/v1/score?reasons=false", json={"leads": json_leads(demo_leads)}, headers=AUTH
    )
    assert answer.status_code == 200, answer.text
    closed = demo_leads[demo_leads["outcome"] != "open"]
    before = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    outcomes = [
        {"lead_id": lead_id, "outcome": outcome, "closed_at": before}
        for lead_id, outcome in zip(closed["lead_id"], closed["outcome"], strict=True)
    ]
    assert client.post("/v1/outcomes", json={"outcomes": outcomes}, headers=AUTH).is_success
    wait_for_score_log(client)
    found = client.get("/v1/leads/stalled", headers=AUTH).json()
    assert found["typical_days_to_close"] == pytest.approx(0, abs=0.01)
    assert found["threshold_days"] >= MIN_STALLED_DAYS and found["total"] == 0


def test_without_closed_leads_stalled_says_how_to_give_the_age(client):
    """The note named `after_days`, which is neither the command's option nor the query's."""
    note = client.get("/v1/leads/stalled", headers=AUTH).json()["note"]
    assert "--after-days N" in note and "?after_days=N" in note


def test_stalled_leads_are_the_open_ones_best_first_rescored(client, demo_leads):
    scored, posted = score_and_report(client, demo_leads)
    wait_for_score_log(client)
    typical = client.get("/v1/leads/stalled", headers=AUTH).json()
    assert typical["typical_days_to_close"] == pytest.approx(posted["days"].median(), abs=0.01)
    assert typical["total"] == 0  # nothing is older than twice that yet

    time.sleep(0.2)
    found = client.get("/v1/leads/stalled?after_days=0.000001&limit=50", headers=AUTH).json()
    open_ids = set(scored.index) - set(posted.index)
    assert found["total"] == len(open_ids)
    assert len(found["leads"]) == 50
    assert {lead["lead_id"] for lead in found["leads"]} <= open_ids
    probabilities = [lead["probability"] for lead in found["leads"]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert probabilities[0] == pytest.approx(scored.loc[list(open_ids), "probability"].max())
    model = load_lead_model("models:/leadscore@champion").model
    best = found["leads"][0]
    lead = json_leads(demo_leads[demo_leads["lead_id"] == best["lead_id"]])
    rescored = score_leads(model, lead, reasons=True)
    assert best["probability"] == pytest.approx(float(rescored.probability[0]))
    assert rescored.explanations is not None
    assert best["reasons"] == [r.text for r in rescored.explanations[0].reasons]

    as_csv = client.get(
        "/v1/leads/stalled?after_days=0.000001&limit=50",
        headers={**AUTH, "Accept": "text/csv"},
    )
    table = pd.read_csv(io.StringIO(as_csv.text))
    assert table["lead_id"].tolist() == [lead["lead_id"] for lead in found["leads"]]
    assert "contact_email" not in as_csv.text and "@" not in as_csv.text


def test_a_threshold_older_than_the_calendar_finds_no_stalled_lead(client, demo_leads):
    _, posted = score_and_report(client, demo_leads)
    wait_for_score_log(client)
    far = [
        {"lead_id": lead_id, "outcome": row.outcome, "closed_at": "9999-12-30T00:00:00"}
        for lead_id, row in posted.head(900).iterrows()
    ]
    assert client.post("/v1/outcomes", json={"outcomes": far}, headers=AUTH).status_code == 200
    found = client.get("/v1/leads/stalled?factor=1000", headers=AUTH)
    assert found.status_code == 200, found.text
    assert found.json()["total"] == 0 and found.json()["leads"] == []
