"""Which leads of an export a model was judged on: on its own training export, the evaluation
leads of the same split training made (the evaluated model never trained on them; the registered
model, refitted on every labeled lead, has); on any other export, every closed lead."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.labels import LOST, WON, split_labeled
from insights.model_view import is_training_export
from serve.model.lead_model import LeadModel
from train.split import lead_order, split_rows


def held_out_mask(
    frame: pd.DataFrame, outcome: pd.Series, model: LeadModel, data_path: Path
) -> pd.Series:
    """The closed leads to judge the model on. On the training export these are its evaluation
    leads (the same split training made); on any other export every closed lead is counted."""
    closed = outcome.isin([WON, LOST])
    if not is_training_export(model, data_path):
        return closed
    leads = split_labeled(frame, model.contract, str(data_path))
    outer = split_rows(leads.y, lead_order(leads, model.contract))
    return pd.Series(frame.index.isin(leads.frame.index[outer.evaluate]), index=frame.index)
