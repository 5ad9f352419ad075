"""One router per concern: scoring, outcomes, and the model and health endpoints."""

from fastapi import status

from serve.api.schemas import ErrorOut

UNAUTHORIZED = {status.HTTP_401_UNAUTHORIZED: {"model": ErrorOut, "description": "no valid key"}}
