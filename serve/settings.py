"""Server settings, read from `LEADSCORE_*` environment variables (no side effects on import)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEADSCORE_", extra="ignore")

    model_uri: str = Field("models:/leadscore@champion", description="model to serve")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_leads_per_request: int = Field(1000, ge=1, description="more leads in one request: 413")
