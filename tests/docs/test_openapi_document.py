"""docs/openapi.json is what the app serves at `/openapi.json`, with the operation ids, examples
and schemas CRM integration tools rely on."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from serve.api.app import create_app
from serve.api.settings import Settings
from tests.docs.openapi_document import OPENAPI_DOC, REFRESH, document, served_schema

OPERATIONS = {
    ("post", "/v1/score"): "scoreLeads",
    ("post", "/v1/outcomes"): "postOutcomes",
    ("get", "/v1/model"): "getModel",
    ("get", "/v1/performance"): "getPerformance",
    ("get", "/v1/leads/stalled"): "getStalledLeads",
    ("get", "/health"): "health",
    ("get", "/ready"): "ready",
    ("get", "/metrics"): "metrics",
}


def test_the_checked_in_description_is_the_served_one():
    checked_in = OPENAPI_DOC.read_text(encoding="utf-8")
    assert checked_in == document(served_schema()), f"docs/openapi.json is stale: run {REFRESH}"


def test_the_served_description_is_the_app_s_own_over_http(tmp_path):
    with TestClient(create_app(Settings(model_cache_dir=tmp_path))) as client:
        served = client.get("/openapi.json").json()
    assert served == json.loads(OPENAPI_DOC.read_text(encoding="utf-8"))


def test_operations_have_chosen_ids_examples_and_probe_schemas():
    schema = served_schema()
    found = {
        (method, path): operation["operationId"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    assert OPERATIONS.items() <= found.items()
    automatic = [name for name in found.values() if "_" in name]  # FastAPI's: score_v1_score_post
    assert not automatic, f"choose these operation ids with operation_id=: {automatic}"
    components = schema["components"]["schemas"]
    for name in ("ScoreResponse", "OutcomesRequest", "OutcomesResponse", "ModelInfo", "ReadyOut"):
        assert components[name]["examples"], name
    score_body = schema["paths"]["/v1/score"]["post"]["requestBody"]["content"]
    assert score_body["application/json"]["example"]["leads"][0]["lead_id"] == "NEW-1"
    assert score_body["application/json"]["schema"]["examples"]
    assert score_body["text/csv"]["example"].startswith("lead_id,")
    ready = schema["paths"]["/ready"]["get"]["responses"]
    assert ready["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ReadyOut"
    }
    assert ready["503"]["content"]["application/json"]["schema"]["$ref"].endswith("/ReadyOut")
    health = schema["paths"]["/health"]["get"]["responses"]["200"]
    assert health["content"]["application/json"]["schema"]["$ref"].endswith("/HealthOut")
    assert schema["paths"]["/metrics"]["get"]["security"]  # needs a key by default
    assert "security" not in schema["paths"]["/health"]["get"]
