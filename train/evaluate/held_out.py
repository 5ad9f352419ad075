"""Which leads of an export a model never trained on: on its own training export, the evaluation
leads of the same split training made; on any other export, every closed lead."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.labels import LOST, WON, split_labeled
from insights.model_view import is_training_export
from serve.model.lead_model import LeadModel
from train.split import split_rows, stratified_split


def held_out_mask(
    frame: pd.DataFrame, outcome: pd.Series, model: LeadModel, data_path: Path
) -> pd.Series:
    """Closed leads the model never trained on. On the training export these are its evaluation
    leads (the same split training made); on any other export every closed lead is counted."""
    closed = outcome.isin([WON, LOST])
    if not is_training_export(model, data_path):
        return closed
    leads = split_labeled(frame, model.contract, str(data_path))
    if leads.created_at is not None:
        outer = split_rows(leads.y, leads.created_at)
    else:
        outer = stratified_split(leads.y)
    return pd.Series(frame.index.isin(leads.frame.index[outer.evaluate]), index=frame.index)
