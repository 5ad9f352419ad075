"""Server settings, read from `LEADSCORE_*` environment variables (no side effects on import)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from features.errors import SettingError
from serve.api.auth import ApiKeys
from serve.api.board_access import MIN_SECRET_LENGTH, check_board_keys
from serve.api.exposure import exposure_problem
from serve.api.server_logs import LogFormat


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEADSCORE_", extra="ignore")

    model_uri: str = Field("models:/leadscore@champion", description="model to serve")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_header_bytes: int = Field(
        64 * 1024, ge=1024, description="a request line and headers larger than this: 431"
    )
    read_timeout_seconds: float = Field(
        30.0, gt=0, description="a request not received in full this long after it began: 408"
    )
    keep_alive_seconds: int = Field(
        5, ge=1, description="an idle keep-alive connection is closed after this long"
    )
    api_keys: str = Field(
        "",
        description="comma-separated API keys, or their sha256 as 'sha256:HEX'; "
        "empty means no authentication (allowed on a loopback host only)",
    )
    max_leads_per_request: int = Field(1000, ge=1, description="more leads in one request: 413")
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024, description="larger bodies: 413")
    reasons_max_leads: int = Field(
        100, ge=0, description="reasons are on by default for requests of up to this many leads"
    )
    database_url: str = Field("sqlite:///leadscore.db", description="outcome and score-log store")
    store_busy_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="how long a write waits for another writer holding SQLite; then 503",
    )
    score_log_wait_for_commit: bool = Field(
        True,
        description="each answer waits until its leads are in the score log (group commit): an "
        "acknowledged score survives a crash; false: written every "
        "LEADSCORE_SCORE_LOG_FLUSH_SECONDS, and a crash loses at most that interval",
    )
    score_log_flush_seconds: float = Field(
        1.0, gt=0, description="score-log write interval (without waiting for commit)"
    )
    score_log_max_lead_bytes: int = Field(
        16 * 1024,
        ge=1024,
        description="a lead whose fields are larger (as JSON) keeps only the fields the model "
        "reads in the score log",
    )
    score_log_retention_days: float = Field(
        0, ge=0, description="score-log rows older than this are deleted; 0: kept for good"
    )
    model_poll_seconds: float = Field(
        30.0, ge=0, description="how often the registry is asked whether the alias moved; 0: never"
    )
    model_cache_dir: Path = Field(
        Path("leadscore-model-cache"),
        description="the last model loaded, served when the registry is unreachable at start",
    )
    registry_timeout_seconds: int = Field(
        10,
        ge=1,
        description="a request to the tracking server that takes longer fails (MLflow's own "
        "retries off): the registry counts as unreachable, the cache serves, the poll retries",
    )
    access_log: bool = Field(
        True,
        description="one log line per request: method, path, status, duration, request id, "
        "model version and number of leads (never lead content)",
    )
    log_format: LogFormat = Field("text", description="log lines as 'text' or 'json'")
    metrics_require_key: bool = Field(
        True,
        description="/metrics needs a key (an API key or a metrics key) when any is configured",
    )
    metrics_live_seconds: float = Field(
        300.0,
        ge=0,
        description="a scrape recomputes the live-performance gauges from the store at most "
        "this often; 0: never",
    )
    metrics_keys: str = Field(
        "",
        description="comma-separated keys (or sha256:HEX) that open /metrics and nothing else, "
        "for the scraper",
    )
    read_only_keys: str = Field(
        "",
        description="comma-separated keys (or sha256:HEX) that may read and not write: the "
        "board and the GET routes; anything else answers 403",
    )
    session_secret: SecretStr = Field(
        SecretStr(""),
        description="signs the board's session cookies; with API keys set, signing in to the "
        f"board needs it: a random value of {MIN_SECRET_LENGTH} characters or more",
    )
    session_hours: float = Field(12.0, gt=0, le=720, description="a board session lasts this long")
    board_cache_seconds: float = Field(
        60.0,
        ge=0,
        description="the board shows figures up to this old (and says how old), refreshing them "
        "in the background; 0: computed on every view",
    )

    @property
    def api_key_list(self) -> list[str]:
        return [key.strip() for key in self.api_keys.split(",") if key.strip()]

    @property
    def metrics_key_list(self) -> list[str]:
        """The keys `/metrics` accepts: the API keys and the metrics keys."""
        extra = [key.strip() for key in self.metrics_keys.split(",") if key.strip()]
        return [*self.api_key_list, *extra]

    @property
    def read_only_key_list(self) -> list[str]:
        return [key.strip() for key in self.read_only_keys.split(",") if key.strip()]

    @model_validator(mode="after")
    def _keys_unless_loopback(self) -> Settings:
        ApiKeys(self.metrics_key_list)  # a malformed sha256 entry is refused here, at start
        check_board_keys(self.api_key_list, self.read_only_key_list, self.session_secret)
        problem = exposure_problem([self.host], bool(self.api_key_list))
        if problem is not None:
            raise ValueError(problem)
        return self


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment with the given overrides; a bad setting is one line."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if first["loc"]:
            message = f"LEADSCORE_{str(first['loc'][0]).upper()}: {message}"
        raise SettingError(message) from exc
