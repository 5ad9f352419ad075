"""What the CRM gets beyond scores: keys, reasons, expected values, ranks, CSV, outcomes, limits."""

import codecs
import csv
import io
import json
import logging

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from serve.api.app import create_app
from serve.api.settings import Settings
from serve.model.loading import load_lead_model
from serve.model.reasons import explain
from serve.store.tables import outcomes, score_log
from tests.conftest import STRONG_LEAD

KEY = "test-key-1"
AUTH = {"Authorization": f"Bearer {KEY}"}
LEAD = {
    **STRONG_LEAD,
    "contact_email": "jane.doe@private.example",
}
WEAK = {**LEAD, "lead_id": "N2", "lead_source": "Cold Outbound", "budget_status": "No budget"}


@pytest.fixture
def settings(use_trained_store):
    return Settings(
        api_keys=KEY, reasons_max_leads=2, max_leads_per_request=50, max_body_bytes=20_000
    )


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as client:
        client.app.state.holder.wait_settled(60)  # the model loads in the background
        yield client


def score(client, leads, query="", **kwargs):
    response = client.post(f"/v1/score{query}", json={"leads": leads}, headers=AUTH, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_v1_needs_a_key_and_health_does_not(client):
    body = {"leads": [LEAD]}
    assert client.post("/v1/score", json=body).status_code == 401
    wrong = client.post("/v1/score", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "API key" in wrong.json()["detail"]
    assert client.post("/v1/score", json=body, headers={"X-API-Key": "nope"}).status_code == 401
    assert client.get("/v1/model").status_code == 401
    assert client.post("/v1/outcomes", json={"outcomes": []}).status_code == 401
    assert client.post("/v1/score", json=body, headers=AUTH).status_code == 200
    assert client.post("/v1/score", json=body, headers={"X-API-Key": KEY}).status_code == 200
    assert client.get("/health").status_code == 200 and client.get("/ready").status_code == 200


def test_reasons_are_the_model_s_own_explanation(client, use_trained_store):
    answer = score(client, [LEAD])
    reasons = answer["scores"][0]["reasons"]
    model = load_lead_model("models:/leadscore@champion").model
    expected = explain(model, [LEAD], model.encoder.encode_records([LEAD]))[0]
    assert reasons == [r.to_dict() for r in expected.reasons]
    assert 1 <= len(reasons) <= 6
    assert "budget_status = Approved raises the score" in [r["text"] for r in reasons]
    assert all(r["field"] != "contact_email" for r in reasons)


def test_reasons_default_by_batch_size_and_the_query_overrides(client):
    assert "reasons" in score(client, [LEAD, WEAK])["scores"][0]
    assert "reasons" not in score(client, [LEAD, WEAK, LEAD])["scores"][0]
    assert "reasons" in score(client, [LEAD, WEAK, LEAD], "?reasons=true")["scores"][2]
    assert "reasons" not in score(client, [LEAD], "?reasons=false")["scores"][0]
    assert (
        client.post("/v1/score?reasons=maybe", json={"leads": [LEAD]}, headers=AUTH).status_code
        == 422
    )


def test_expected_value_rank_and_sort(client, use_trained_store):
    model = load_lead_model("models:/leadscore@champion").model
    default = model.metadata["default_deal_value"]
    cheap = {**LEAD, "lead_id": "N3", "deal_value": 10}
    plain = score(client, [WEAK, LEAD, cheap])["scores"]
    assert [s["lead_id"] for s in plain] == ["N2", "N1", "N3"] and "rank" not in plain[0]
    assert plain[1]["expected_value"] == pytest.approx(plain[1]["probability"] * default)
    assert plain[2]["expected_value"] == pytest.approx(plain[2]["probability"] * 10)

    by_probability = score(client, [WEAK, LEAD, cheap], "?sort=probability")["scores"]
    assert [s["rank"] for s in by_probability] == [1, 2, 3]
    probabilities = [s["probability"] for s in by_probability]
    assert probabilities == sorted(probabilities, reverse=True)
    by_value = score(client, [WEAK, LEAD, cheap], "?sort=expected_value")["scores"]
    assert by_value[-1]["lead_id"] == "N3"
    values = [s["expected_value"] for s in by_value]
    assert values == sorted(values, reverse=True)

    for absurd in ("lots", 1e300):  # 1e300 made every revenue figure of the board infinite
        bad = client.post(
            "/v1/score", json={"leads": [{**LEAD, "deal_value": absurd}]}, headers=AUTH
        )
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["body", "leads", 0, "deal_value"]


def test_field_names_are_trimmed_in_json_as_in_a_csv_header(client):
    """' web_visits ' was a field the model never saw in JSON, while a CSV header is trimmed."""
    spaced = {(f" {name} " if name == "web_visits" else name): v for name, v in LEAD.items()}
    [as_sent] = score(client, [spaced])["scores"]
    [plain] = score(client, [LEAD])["scores"]
    assert as_sent["probability"] == plain["probability"]
    twice = client.post("/v1/score", json={"leads": [{**LEAD, " web_visits": 1}]}, headers=AUTH)
    assert twice.status_code == 422 and "'web_visits' twice" in twice.text


def test_a_json_body_with_a_byte_order_mark_scores_and_utf16_is_named(client):
    """Both answered 'Invalid JSON at line 1 column 1', with no word of the encoding."""
    headers = {**AUTH, "Content-Type": "application/json"}
    body = json.dumps({"leads": [LEAD]})
    marked = client.post("/v1/score", content=codecs.BOM_UTF8 + body.encode(), headers=headers)
    assert marked.status_code == 200, marked.text
    assert marked.json()["scores"] == score(client, [LEAD])["scores"]
    for encoding in ("utf-16", "utf-16-le"):
        wide = client.post("/v1/score", content=body.encode(encoding), headers=headers)
        assert wide.status_code == 422 and "UTF-16: send it as UTF-8" in wide.text


def test_csv_in_csv_out_matches_json(client):
    text = "lead_id,lead_source,budget_status,web_visits,demo_requested,contact_email\n"
    text += "C1,Referral,Approved,9,yes,a@b.example\nC2,Cold Outbound,,1,no,c@d.example\n"
    response = client.post(
        "/v1/score?sort=probability",
        content=text.encode(),
        headers={**AUTH, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["lead_id"] for r in rows] == ["C1", "C2"] and rows[0]["rank"] == "1"
    assert rows[0]["model_version"] == "1" and "raises the score" in rows[0]["reasons"]
    as_json = score(
        client,
        [
            {
                "lead_id": "C1",
                "lead_source": "Referral",
                "budget_status": "Approved",
                "web_visits": 9,
                "demo_requested": "yes",
            },
            {
                "lead_id": "C2",
                "lead_source": "Cold Outbound",
                "web_visits": 1,
                "demo_requested": "no",
            },
        ],
    )["scores"]
    assert [float(r["probability"]) for r in rows] == [s["probability"] for s in as_json]
    assert [int(r["score"]) for r in rows] == [s["score"] for s in as_json]


def test_json_in_csv_out_when_asked(client):
    response = client.post(
        "/v1/score", json={"leads": [LEAD]}, headers={**AUTH, "Accept": "text/csv"}
    )
    assert response.status_code == 200
    assert response.text.splitlines()[0].startswith("lead_id,probability,score,tier")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "first line naming the fields"),
        (b"lead_id,industry\n", "no leads"),
        (b"lead_id,lead_id\nA,B\n", "repeated"),
        (b"lead_id\nA,extra\n", "line 2 has 2 values"),
        (b"lead_id\n\xff\xfe\n", "not UTF-8"),
        (b"lead_id,web_visits\nA,lots\n", "must be a number"),
        (b"lead_id,web_visits\nA,inf\n", "must be a finite number"),
    ],
)
def test_bad_csv_is_422_with_a_message(client, body, message):
    response = client.post("/v1/score", content=body, headers={**AUTH, "Content-Type": "text/csv"})
    assert response.status_code == 422
    assert message in response.json()["detail"][0]["msg"]


def test_limits_and_unknown_media_types(client):
    too_many = client.post("/v1/score", json={"leads": [LEAD] * 51}, headers=AUTH)
    assert too_many.status_code == 413 and "limit is 50" in too_many.json()["detail"]
    huge = client.post("/v1/score", json={"leads": [{"notes": "x" * 30_000}]}, headers=AUTH)
    assert huge.status_code == 413 and "20000 bytes" in huge.json()["detail"]
    xml = client.post(
        "/v1/score", content=b"<leads/>", headers={**AUTH, "Content-Type": "application/xml"}
    )
    assert xml.status_code == 415


def test_a_streamed_body_over_the_limit_is_413(client):
    def chunks():
        for _ in range(30):
            yield b"x" * 1000

    response = client.post(
        "/v1/score", content=chunks(), headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_outcomes_are_stored_once_and_changes_kept(client, settings):
    post = {"lead_id": "N1", "outcome": "lost", "loss_reason": "Price", "value": 12000.5}
    first = client.post("/v1/outcomes", json={"outcomes": [post]}, headers=AUTH)
    assert first.status_code == 200
    assert first.json() == {"stored": 1, "unchanged": 0, "unmatched": 1}  # N1 was never scored
    again = client.post("/v1/outcomes", json={"outcomes": [post]}, headers=AUTH)
    assert again.json() == {"stored": 0, "unchanged": 1, "unmatched": 1}
    won = {"lead_id": "N1", "outcome": "won", "closed_at": "2025-03-01T10:00:00+02:00"}
    assert client.post("/v1/outcomes", json={"outcomes": [won]}, headers=AUTH).json()["stored"] == 1
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(outcomes).order_by(outcomes.c.revision)).all()
    assert [(r.revision, r.outcome) for r in rows] == [(1, "lost"), (2, "won")]
    assert rows[1].closed_at.isoformat() == "2025-03-01T08:00:00"
    assert rows[1].value is None and rows[1].loss_reason is None  # not the lost one's


def test_re_sending_the_status_alone_keeps_the_deal_s_value(client, settings):
    """A CRM that re-sent only `won` wiped the value and closing time sales had reported."""
    full = {"lead_id": "N2", "outcome": "won", "value": 18000, "closed_at": "2025-03-01T10:00:00"}
    for body in (full, {"lead_id": "N2", "outcome": "won"}):
        client.post("/v1/outcomes", json={"outcomes": [body]}, headers=AUTH)
    cleared = {"lead_id": "N2", "outcome": "won", "value": None}
    assert client.post("/v1/outcomes", json={"outcomes": [cleared]}, headers=AUTH).json() == {
        "stored": 1,
        "unchanged": 0,
        "unmatched": 1,
    }
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(outcomes).where(outcomes.c.lead_id == "N2").order_by(outcomes.c.revision)
        ).all()
    assert [(r.revision, r.value) for r in rows] == [(1, 18000), (2, None)]  # sent empty: cleared
    assert rows[1].closed_at.isoformat() == "2025-03-01T10:00:00"


@pytest.mark.parametrize(
    "body",
    [
        {"outcomes": []},
        {"outcomes": [{"lead_id": "N1", "outcome": "maybe"}]},
        {"outcomes": [{"lead_id": "", "outcome": "won"}]},
        {"outcomes": [{"lead_id": "N1", "outcome": "won", "value": -1}]},
        {"outcomes": [{"lead_id": "N1", "outcome": "won", "closed_at": "yesterday"}]},
        {"outcomes": [{"lead_id": "N\u0000", "outcome": "won"}]},
        {"outcomes": [{"lead_id": "N1", "outcome": "lost", "closed_at": "0001-01-01T00:01+02:00"}]},
        {"outcomes": [{"lead_id": "N1", "outcome": "won", "closed_at": "9999-12-31T23:59-01:00"}]},
        {"outcomes": [{"lead_id": "N1", "outcome": "won", "loss_reason": "Price"}]},
        {"outcomes": [{"lead_id": "N1", "outcome": "won", "closed_at": 20260201}]},  # not 1970
        {"outcomes": [{"lead_id": "N1", "outcome": "won", "value": True}]},  # not a value of 1
    ],
)
def test_bad_outcomes_are_422(client, body):
    answer = client.post("/v1/outcomes", json=body, headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][:2] == ["body", "outcomes"]


def test_a_won_outcome_with_a_blank_loss_reason_is_stored_without_one(client, settings):
    """Only a loss reason with text is refused on a won deal (CRMs send the field empty); the
    blank one is not stored."""
    body = {"outcomes": [{"lead_id": "W1", "outcome": "won", "loss_reason": " "}]}
    answer = client.post("/v1/outcomes", json=body, headers=AUTH)
    assert answer.status_code == 200, answer.text
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as connection:
        stored = connection.execute(sa.select(outcomes.c.loss_reason)).scalars().all()
    assert stored == [None]


def test_outcomes_with_an_unknown_top_level_key_are_422(client):
    body = {"outcomes": [{"lead_id": "N1", "outcome": "won"}], "outcome": [{"lead_id": "N2"}]}
    answer = client.post("/v1/outcomes", json=body, headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "outcome"]


def test_outcomes_sent_as_csv_are_415_saying_json(client):
    """/v1/score takes CSV; /v1/outcomes answered a CSV body with a 422 about a dictionary."""
    headers = {**AUTH, "Content-Type": "text/csv"}
    answer = client.post("/v1/outcomes", content=b"lead_id,outcome\nN1,won\n", headers=headers)
    assert answer.status_code == 415, answer.text
    assert "send the outcomes as application/json" in answer.json()["detail"]


def test_every_scored_lead_is_logged_without_pii_and_pii_never_reaches_the_logs(settings, caplog):
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(settings)) as client:
        client.app.state.holder.wait_settled(60)  # the model loads in the background
        score(client, [LEAD, WEAK])
        client.post("/v1/score", json={"leads": [{**LEAD, "web_visits": "x"}]}, headers=AUTH)
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(score_log).order_by(score_log.c.id)).all()
    assert [r.lead_id for r in rows] == ["N1", "N2"]
    assert rows[0].model_version == "1" and 0 < rows[0].probability < 1
    assert rows[0].fields == {k: v for k, v in LEAD.items() if k != "contact_email"}
    assert "jane.doe" not in caplog.text


def test_model_info_reports_deal_values_trees_and_source(client):
    info = client.get("/v1/model", headers=AUTH).json()
    assert info["value_field"] == "deal_value" and info["default_deal_value"] > 0
    assert info["trees"] > 0 and info["source"] == "registry" and info["notice"] is None


def test_a_body_that_is_not_json_is_a_client_error(client):
    for body in (b"\xff\xfe{", b'{"leads": [', b"null"):
        response = client.post(
            "/v1/score", content=body, headers={**AUTH, "Content-Type": "application/json"}
        )
        assert response.status_code == 422, body
        outcome = client.post(
            "/v1/outcomes", content=body, headers={**AUTH, "Content-Type": "application/json"}
        )
        assert outcome.status_code in (400, 422), body
