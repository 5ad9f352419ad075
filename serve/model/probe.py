"""The check a model passes before it serves: it scores and explains probe leads sensibly."""

from __future__ import annotations

from typing import Any

import numpy as np

from features.errors import LeadscoreError
from serve.model.lead_model import LeadModel
from serve.model.scorer import score_leads

_TYPICAL = {"numeric": 1, "boolean": "yes", "datetime": "2024-01-01"}


class ModelCheckError(LeadscoreError):
    """A model loaded but does not score."""


def probe_leads(model: LeadModel) -> list[dict[str, Any]]:
    """An empty lead (every field missing) and one with an ordinary value in every field."""
    typical = {
        f.name: (f.categories[0] if f.categories else "other")
        if f.kind == "categorical"
        else _TYPICAL[f.kind]
        for f in model.encoder.features
    }
    return [{}, typical]


def check_model(model: LeadModel) -> None:
    """Raise ModelCheckError unless the probe leads get probabilities and reasons."""
    leads = probe_leads(model)
    try:
        probability = score_leads(model, leads, reasons=True).probability
    except Exception as exc:  # a broken artifact can fail in any library it calls
        raise ModelCheckError(f"the model fails to score a probe lead: {exc}") from exc
    if not np.all((probability >= 0) & (probability <= 1)):
        raise ModelCheckError(f"the model gives probabilities outside [0, 1]: {probability}")
