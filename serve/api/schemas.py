"""Request and response bodies of the API, as the OpenAPI docs show them.

Request bodies are validated with these models; answers of `/v1/score` are written directly
(see `serve.api.answers`) and documented by these models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    field_validator,
    model_validator,
)

from serve.model.deal_value import MAX_DEAL_VALUE
from serve.store.tables import LEAD_ID_MAX_LENGTH
from serve.store.times import as_naive_utc

INT64 = 2**63


def _digits_beyond_64_bits(value: Any) -> Any:
    """An integer beyond 64 bits (an id, typically) is kept as its digits: a float would round
    it, and the score log's JSON holds no larger integer."""
    if type(value) is int and not -INT64 <= value < INT64:
        return str(value)
    return value


def _no_boolean(value: Any) -> Any:
    """JSON's true is no deal value (Python would take it for 1)."""
    if type(value) is bool:
        raise ValueError("true or false is not a deal value: send a number, or leave it out")
    return value


def _no_number(value: Any) -> Any:
    """A number is no closing time (it would be read as seconds since 1970), as a number is no
    created-at in /v1/score."""
    if type(value) in (int, float):
        raise ValueError(
            "a number is not a date: send ISO 8601 text, e.g. 2026-03-02T10:00:00Z, or leave it out"
        )
    return value


FieldValue = Annotated[
    str | Annotated[int, Field(ge=-INT64, lt=INT64)] | float | bool | None,
    BeforeValidator(_digits_beyond_64_bits),
]

# Examples the OpenAPI schema shows (and CRM integration tools import with it).
LEAD_EXAMPLE: dict[str, JsonValue] = {
    "lead_id": "NEW-1",
    "industry": "Software",
    "company_size": "201-1000",
    "lead_source": "Referral",
    "budget_status": "Approved",
    "web_visits": 9,
    "demo_requested": "yes",
}
SCORE_EXAMPLE: dict[str, JsonValue] = {
    "lead_id": "NEW-1",
    "probability": 0.9424,
    "score": 94,
    "tier": "A",
    "expected_value": 16964.08,
    "reasons": [
        {
            "field": "lead_source",
            "value": "Referral",
            "effect": 0.565,
            "text": "lead_source = Referral raises the score",
        }
    ],
}


class ScoreRequest(BaseModel):
    model_config = ConfigDict(
        allow_inf_nan=False, json_schema_extra={"examples": [{"leads": [LEAD_EXAMPLE]}]}
    )

    leads: list[dict[str, FieldValue]] = Field(
        min_length=1,
        description="One object per lead: field name to value. Missing fields are missing "
        "values; fields the model does not use are ignored.",
        examples=[[{"lead_id": "L1", "lead_source": "Referral", "web_visits": 7}]],
    )


class ReasonOut(BaseModel):
    field: str = Field(description="the input field, as the CRM sent it")
    value: FieldValue = Field(description="its value in this lead (null: missing)")
    effect: float = Field(description="its share of the raw score in log-odds; > 0 raises it")
    text: str = Field(examples=["lead_source = Referral raises the score"])


class LeadScoreOut(BaseModel):
    lead_id: str | None
    probability: float = Field(ge=0, le=1, description="calibrated probability of winning")
    score: int = Field(ge=0, le=100)
    tier: str = Field(description="A (call first) to D")
    expected_value: float | None = Field(
        None, description="probability times deal value; only for models that know deal values"
    )
    rank: int | None = Field(None, ge=1, description="position in the batch, with ?sort=")
    reasons: list[ReasonOut] | None = Field(
        None, description="up to 3 fields raising the score, then up to 3 lowering it"
    )


class ScoreResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"model_version": "3", "scores": [SCORE_EXAMPLE]}]}
    )

    model_version: str | None
    scores: list[LeadScoreOut]


class OutcomeIn(BaseModel):
    # A numeric lead id (a CRM's row number) is taken as its text, as /v1/score logs it.
    model_config = ConfigDict(allow_inf_nan=False, extra="forbid", coerce_numbers_to_str=True)

    lead_id: str = Field(min_length=1, max_length=LEAD_ID_MAX_LENGTH)
    outcome: Literal["won", "lost"]
    loss_reason: str | None = Field(None, max_length=2000)
    value: Annotated[
        float | None,
        Field(ge=0, le=MAX_DEAL_VALUE, description="deal value (0 to a trillion)"),
        BeforeValidator(_no_boolean),
    ] = None
    closed_at: Annotated[
        datetime | None,
        Field(description="ISO 8601; without a zone, UTC"),
        BeforeValidator(_no_number),
    ] = None

    @field_validator("lead_id", "loss_reason")
    @classmethod
    def _no_nul(cls, text: str | None) -> str | None:
        """PostgreSQL stores no NUL character in text: refused here rather than by the store."""
        if text is not None and "\x00" in text:
            raise ValueError("contains the NUL character (\\u0000); remove it")
        return text

    @field_validator("closed_at")
    @classmethod
    def _as_naive_utc(cls, moment: datetime | None) -> datetime | None:
        """Converted to UTC here, so that a time with no UTC equivalent (the first or last
        moment of the calendar with an offset) is a 422 naming the field, not a failure later."""
        if moment is None:
            return None
        try:
            return as_naive_utc(moment)
        except OverflowError:
            raise ValueError("the time is outside the calendar once converted to UTC") from None

    @model_validator(mode="after")
    def _loss_reason_only_when_lost(self) -> OutcomeIn:
        """A won deal with a loss reason is a mix-up in the CRM's mapping; stored, the lead
        would carry a reason for a loss that never happened. A blank one is no reason."""
        if self.outcome == "won" and self.loss_reason and self.loss_reason.strip():
            raise ValueError(
                'a won outcome has no loss_reason: leave it out, or send outcome "lost"'
            )
        if self.outcome == "won":
            self.loss_reason = None
        return self


class OutcomesRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "outcomes": [
                        {
                            "lead_id": "NEW-1",
                            "outcome": "won",
                            "value": 18000,
                            "closed_at": "2026-03-02T10:00:00Z",
                        },
                        {"lead_id": "NEW-2", "outcome": "lost", "loss_reason": "Price"},
                    ]
                }
            ]
        },
    )

    outcomes: list[OutcomeIn] = Field(min_length=1)


class OutcomesResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"stored": 2, "unchanged": 0, "unmatched": 0}]}
    )

    stored: int = Field(description="outcomes new or changed, now stored")
    unchanged: int = Field(description="outcomes identical to the lead's current one")
    unmatched: int = Field(
        description="outcomes (stored all the same) whose lead was never scored: check the ids"
    )


class ErrorOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"detail": "42 leads in one request; the limit is 10"}]}
    )

    detail: str | list[dict] = Field(description="what is wrong and how to fix it")


class HealthOut(BaseModel):
    status: Literal["ok"] = Field(description="the process answers")


class ReadyOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"ready": True, "model_version": "3"},
                {"ready": False, "reason": "RESOURCE_DOES_NOT_EXIST: alias champion not found"},
            ]
        }
    )

    ready: bool = Field(description="a model is loaded and the store answers")
    model_version: str | None = Field(None, description="the version serving")
    source: str | None = Field(None, description="'cache' when the registry was unreachable")
    reason: str | None = Field(None, description="why not ready, or why the cache serves")


class ModelInfo(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "leadscore",
                    "version": "3",
                    "uri": "models:/leadscore@champion",
                    "trained_at": "2026-03-01T02:30:00+00:00",
                    "metrics": {"roc_auc": 0.81, "log_loss": 0.46},
                    "expected_fields": {"industry": "categorical", "web_visits": "numeric"},
                    "id_field": "lead_id",
                    "value_field": "deal_value",
                    "default_deal_value": 18000.0,
                    "learner": "blend: 0.80 x LightGBM (274 trees) + 0.20 x logistic regression",
                    "metrics_for": "the same recipe fitted on 7,392 labeled leads without the "
                    "1,848 newest ones it was evaluated on; the registered model is that recipe "
                    "refitted on all 9,240 labeled leads",
                    "trees": 274,
                    "source": "registry",
                    "refused": {},
                }
            ]
        }
    )

    name: str | None
    version: str | None
    uri: str
    trained_at: str | None
    metrics: dict[str, float]
    expected_fields: dict[str, str] = Field(description="field name to kind")
    id_field: str | None
    value_field: str | None = Field(None, description="per-lead deal value field")
    default_deal_value: float | None = None
    learner: str | None = Field(
        None, description="what scores: LightGBM, the logistic regression, or a blend of both"
    )
    metrics_for: str | None = Field(None, description="which model `metrics` were measured for")
    trees: int | None = None
    source: str = Field(description="'registry', or 'cache' when the registry was unreachable")
    notice: str | None = Field(None, description="why the cached model serves")
    refused: dict[str, str] = Field(
        default_factory=dict, description="versions the alias pointed at that failed, and why"
    )
