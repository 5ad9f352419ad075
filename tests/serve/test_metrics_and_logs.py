"""What the ops engineer watches: `/metrics` scraped with Prometheus's parser from a real server
process, who may scrape it, and the JSON log line of each request (its id, never a lead's
values)."""

import json
import re
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from serve.api.app import create_app
from serve.api.settings import Settings
from tests.conftest import STRONG_LEAD, start_server
from tests.serve.scrape import scrape, total

KEY = "metrics-test-key"
SCRAPE_KEY = "scraper-only-key"
AUTH = {"X-API-Key": KEY}
DISTINCT = "Zebra-Distinct-7781"  # a field value that must never reach the log output


@pytest.fixture
def server(trained_model, tmp_path):
    env = {
        "MLFLOW_TRACKING_URI": trained_model.tracking_uri,
        "LEADSCORE_API_KEYS": KEY,
        "LEADSCORE_METRICS_KEYS": SCRAPE_KEY,
        "LEADSCORE_SCORE_LOG_FLUSH_SECONDS": "0.2",
        "LEADSCORE_METRICS_LIVE_SECONDS": "0.01",  # live gauges recomputed at each scrape
        "LEADSCORE_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
    }
    process = start_server(tmp_path, env, args=["--log-format", "json"])
    try:
        yield process
    finally:
        process.stop()


def leads(prefix: str, count: int) -> list[dict]:
    return [{**STRONG_LEAD, "lead_id": f"{prefix}{i}", "web_visits": i} for i in range(count)]


def test_counters_move_as_requests_are_made(server):
    with httpx.Client(base_url=server.base, headers=AUTH, timeout=30) as client:
        before = scrape(client)
        for batch in range(3):
            answer = client.post("/v1/score", json={"leads": leads(f"M{batch}-", 2)})
            assert answer.status_code == 200
        tiers = [s["tier"] for s in answer.json()["scores"]]
        assert client.post("/v1/score", json={"leads": "none"}).status_code == 422
        outcomes = [{"lead_id": "M0-0", "outcome": "won"}, {"lead_id": "M0-1", "outcome": "lost"}]
        assert client.post("/v1/outcomes", json={"outcomes": outcomes}).json()["stored"] == 2
        assert client.post("/v1/outcomes", json={"outcomes": outcomes}).json()["unchanged"] == 2
        assert client.get("/nowhere").status_code == 404
        wait_for_log_rows(client, total(before, "leadscore_score_log_rows_total") + 6)
        after = scrape(client)  # its live gauges see the rows written

    def moved(metric: str, **labels: str) -> float:
        return total(after, metric, **labels) - total(before, metric, **labels)

    score_200 = {"route": "/v1/score", "method": "POST"}
    assert moved("leadscore_http_requests_total", **score_200, status="200") == 3
    assert moved("leadscore_http_requests_total", **score_200, status="422") == 1
    assert moved("leadscore_http_requests_total", route="/v1/outcomes", status="200") == 2
    assert moved("leadscore_http_requests_total", route="unmatched", status="404") == 1
    assert moved("leadscore_http_request_duration_seconds_count", **score_200) == 4
    assert moved("leadscore_leads_scored_total") == 6
    assert moved("leadscore_leads_scored_total", tier=tiers[0]) >= 1
    assert moved("leadscore_reasons_total") == 6  # reasons are on for small requests
    assert moved("leadscore_outcomes_total", result="stored") == 2
    assert moved("leadscore_outcomes_total", result="unchanged") == 2
    assert moved("leadscore_score_log_rows_total", result="written") == 6
    assert total(after, "leadscore_score_log_write_seconds_count") >= 1
    assert total(after, "leadscore_model_info", name="leadscore", version="1") == 1
    assert total(after, "leadscore_model_registry_success_timestamp_seconds") > 1.7e9
    assert total(after, "leadscore_live_closed_leads") == 2  # M0-0 won, M0-1 lost
    assert total(after, "leadscore_live_psi", field="score") > 0
    assert total(after, "process_resident_memory_bytes") > 0  # one process: its own metrics


def wait_for_log_rows(client: httpx.Client, rows: float, attempts: int = 50) -> None:
    """The score log is written every 0.2 s here: scrape until its rows are counted."""
    for _ in range(attempts):
        if total(scrape(client), "leadscore_score_log_rows_total") >= rows:
            return
        time.sleep(0.1)
    raise AssertionError(f"the score log never counted {rows} rows")


def test_metrics_need_an_api_key_or_the_scrape_key(server):
    with httpx.Client(base_url=server.base, timeout=30) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 401 and "API key" in refused.json()["detail"]
        assert client.get("/metrics", headers={"X-API-Key": "wrong"}).status_code == 401
        assert client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_KEY}"}).is_success
        assert client.get("/metrics", headers=AUTH).is_success
        # the scrape key opens /metrics and nothing else
        assert client.get("/v1/model", headers={"X-API-Key": SCRAPE_KEY}).status_code == 401


def test_metrics_can_be_open_while_the_api_needs_keys(use_trained_store, tmp_path):
    settings = Settings(api_keys=KEY, metrics_require_key=False, model_cache_dir=tmp_path)
    with TestClient(create_app(settings)) as client:
        assert client.get("/metrics").status_code == 200
        assert client.get("/v1/model").status_code == 401


def test_each_request_has_one_json_line_with_its_id_and_no_lead_values(server):
    lead = {**STRONG_LEAD, "lead_id": "LOGGED-1", "industry": DISTINCT, "city": DISTINCT}
    with httpx.Client(base_url=server.base, headers=AUTH, timeout=30) as client:
        given = client.post(
            "/v1/score", json={"leads": [lead]}, headers={"X-Request-ID": "crm-req-42"}
        )
        fresh = client.post("/v1/score", json={"leads": [lead, lead]})
        unusable = client.post(
            "/v1/score", json={"leads": [lead]}, headers={"X-Request-ID": "x" * 200}
        )
        refused = client.post("/v1/score", json={"leads": [{"web_visits": DISTINCT}]})
    assert given.headers["x-request-id"] == "crm-req-42"
    assert re.fullmatch("[0-9a-f]{32}", fresh.headers["x-request-id"])
    assert re.fullmatch("[0-9a-f]{32}", unusable.headers["x-request-id"])
    assert refused.status_code == 422 and DISTINCT in refused.text  # the client is told ...
    server.stop()
    output = server.output()
    assert DISTINCT not in output  # ... the log output never is
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    by_id = {line.get("request_id"): line for line in lines}
    line = by_id["crm-req-42"]
    assert line["level"] == "INFO" and line["message"] == "POST /v1/score 200"
    assert (line["method"], line["path"], line["status"]) == ("POST", "/v1/score", 200)
    assert (line["model_version"], line["leads"]) == ("1", 1)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert by_id[fresh.headers["x-request-id"]]["leads"] == 2
    assert by_id[refused.headers["x-request-id"]]["status"] == 422
    assert by_id[unusable.headers["x-request-id"]]["status"] == 200
    # the model swap is an INFO line by default, in JSON too
    loaded = [x for x in lines if x["logger"] == "serve.api.model_holder"]
    assert any("serving models:/leadscore/1 (version 1)" in x["message"] for x in loaded)
