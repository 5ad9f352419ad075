"""The MLflow pyfunc flavour of the lead model, so standard MLflow tools can load and serve it
(`mlflow models serve`, `mlflow.pyfunc.spark_udf`).

It is logged as a model from code (`pyfunc_entry.py`), not as a pickle: the artifact holds that
small file, the booster in LightGBM's text format and the rest as JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.models.signature import ModelSignature
from mlflow.pyfunc.model import PythonModel, PythonModelContext
from mlflow.types.schema import AnyType, ColSpec, Schema, TensorSpec

from serve.model.lead_model import LeadModel
from serve.model.scorer import score_leads

ARTIFACT_KEY = "leadmodel"
ENTRY_FILE = Path(__file__).with_name("pyfunc_entry.py")


class LeadModelPyfunc(PythonModel):
    """Loads the saved LeadModel folder and scores DataFrames with it."""

    def load_context(self, context: PythonModelContext) -> None:
        self.model = LeadModel.load(context.artifacts[ARTIFACT_KEY])

    def predict(
        self,
        context: PythonModelContext | None,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        return score_leads(self.model, model_input).to_frame(model_input.index)


def signature_of(model: LeadModel) -> ModelSignature:
    """Every field optional (a missing field is a missing value) and of any type: the encoder,
    not MLflow, decides how to read `3`, `3.0` or `"3"`, exactly as the API does."""
    inputs: list[ColSpec | TensorSpec] = [
        ColSpec(AnyType(), f.name, required=False) for f in model.encoder.features
    ]
    if model.contract.id:
        inputs.insert(0, ColSpec("string", model.contract.id, required=False))
    outputs: list[ColSpec | TensorSpec] = [
        ColSpec("double", "probability"),
        ColSpec("long", "score"),
        ColSpec("string", "tier"),
    ]
    if model.contract.value:
        outputs.append(ColSpec("double", "expected_value"))
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


def input_example(model: LeadModel, frame: pd.DataFrame) -> pd.DataFrame:
    """One real lead: its id and the fields the model reads."""
    columns = ([model.contract.id] if model.contract.id else []) + model.encoder.feature_names
    example = frame[columns].head(1).copy()
    if model.contract.id:
        example[model.contract.id] = example[model.contract.id].astype(str)
    return example
