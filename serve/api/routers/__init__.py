"""One router per concern: scoring, outcomes, and the model and health endpoints."""

from typing import Any

from fastapi import status

from serve.api.schemas import ErrorOut

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    status.HTTP_401_UNAUTHORIZED: {"model": ErrorOut, "description": "no valid key"}
}
