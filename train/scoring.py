"""Batch scoring of a file with a registered model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.reading import read_table, write_table
from train.registry import load_lead_model


def score_file(data: Path, out: Path, model_uri: str) -> int:
    """Write every input column plus probability, score and tier; return the number of leads."""
    loaded = load_lead_model(model_uri)
    frame = read_table(data, loaded.model.contract.na_values)
    scored = pd.concat([frame, loaded.model.predict_frame(frame)], axis=1)
    write_table(scored, out)
    return len(scored)
