"""The API's contract with the CRM: what it accepts, what it refuses, and how it says so."""

import pytest
from fastapi.testclient import TestClient

from serve.api.app import create_app
from serve.api.settings import Settings
from tests.conftest import STRONG_LEAD

LEAD = STRONG_LEAD


@pytest.fixture
def client(use_trained_store):
    with TestClient(create_app(Settings(max_leads_per_request=5))) as client:
        client.app.state.holder.wait_settled(60)  # the model loads in the background
        yield client


def probability(client, lead: dict) -> float:
    response = client.post("/v1/score", json={"leads": [lead]})
    assert response.status_code == 200, response.text
    return response.json()["scores"][0]["probability"]


def test_health_ready_and_model_info(client):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"ready": True, "model_version": "1"}
    info = client.get("/v1/model").json()
    assert info["name"] == "leadscore" and info["version"] == "1"
    assert info["expected_fields"]["web_visits"] == "numeric"
    assert "contact_email" not in info["expected_fields"]
    assert set(info["metrics"]) >= {"roc_auc", "log_loss"}
    assert "refitted on all" in info["metrics_for"]
    assert "LightGBM" in info["learner"] or info["learner"] == "logistic regression"


def test_missing_extra_and_unseen_fields_are_scored(client):
    assert 0 < probability(client, {"lead_id": "x"}) < 1
    with_extra = probability(client, {**LEAD, "utm_campaign": "spring", "notes": "called"})
    assert with_extra == probability(client, LEAD)
    assert 0 < probability(client, {**LEAD, "industry": "Asteroid mining"}) < 1


def test_a_strong_lead_scores_above_a_weak_one(client):
    weak = {
        **LEAD,
        "lead_source": "Cold Outbound",
        "budget_status": "No budget",
        "purchase_timeline": "12+ months",
        "demo_requested": "no",
        "job_title_level": "Intern",
    }
    assert probability(client, LEAD) > probability(client, weak) + 0.3


def test_wrong_types_name_the_lead_and_field(client):
    response = client.post("/v1/score", json={"leads": [LEAD, {**LEAD, "web_visits": "lots"}]})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == ["body", "leads", 1, "web_visits"]
    assert "must be a number" in detail[0]["msg"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"leads": []},
        {"leads": [["a"]]},
        {"leads": "x"},
        {"leads": [{"web_visits": {"nested": 1}}]},
    ],
)
def test_malformed_bodies_are_422(client, body):
    assert client.post("/v1/score", json=body).status_code == 422


def test_too_many_leads_is_413(client):
    response = client.post("/v1/score", json={"leads": [LEAD] * 6})
    assert response.status_code == 413
    assert "limit is 5" in response.json()["detail"]


def test_no_model_means_not_ready(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'empty.db'}")
    with TestClient(create_app(Settings())) as client:
        client.app.state.holder.wait_settled(60)  # the model loads in the background
        assert client.get("/health").status_code == 200
        ready = client.get("/ready")
        assert ready.status_code == 503 and "not in the registry" in ready.json()["reason"]
        assert client.post("/v1/score", json={"leads": [LEAD]}).status_code == 503
