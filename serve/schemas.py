"""Request and response bodies of the API, as the OpenAPI docs show them."""

from __future__ import annotations

from pydantic import BaseModel, Field

FieldValue = str | int | float | bool | None


class ScoreRequest(BaseModel):
    leads: list[dict[str, FieldValue]] = Field(
        min_length=1,
        description="One object per lead: field name to value. Missing fields are missing "
        "values; fields the model does not use are ignored.",
        examples=[[{"lead_id": "L1", "lead_source": "Referral", "web_visits": 7}]],
    )


class LeadScoreOut(BaseModel):
    lead_id: str | None
    probability: float = Field(ge=0, le=1, description="calibrated probability of winning")
    score: int = Field(ge=0, le=100)
    tier: str = Field(description="A (call first) to D")


class ScoreResponse(BaseModel):
    model_version: str | None
    scores: list[LeadScoreOut]


class ModelInfo(BaseModel):
    name: str | None
    version: str | None
    uri: str
    trained_at: str | None
    metrics: dict[str, float]
    expected_fields: dict[str, str] = Field(description="field name to kind")
    id_field: str | None
