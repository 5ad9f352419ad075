"""The MLflow pyfunc flavour of the lead model, so standard MLflow tools can load and serve it
(`mlflow models serve`, `mlflow.pyfunc.spark_udf`, `mlflow models build-docker`) with or without
leadscore installed.

It is logged as a model from code (`pyfunc_entry.py`), not as a pickle: the artifact holds that
small file, the booster in LightGBM's text format, the rest as JSON, and a copy of the code it
runs (`features` and `serve.model`, see `stage_runtime_code`), so its requirements are only
published packages (`RUNTIME_PACKAGES`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models.signature import ModelSignature
from mlflow.pyfunc.model import PythonModel, PythonModelContext
from mlflow.types.schema import ColSpec, Schema, TensorSpec

import features
from features.errors import InvalidLeadsError
from serve.model.lead_model import LeadModel
from serve.model.scorer import score_leads

ARTIFACT_KEY = "leadmodel"
ENTRY_FILE = Path(__file__).with_name("pyfunc_entry.py")
# The published packages the code below needs to load and score: MLflow's skinny package loads
# a pyfunc; scikit-learn is not imported (LightGBM brings SciPy itself). pyarrow is pandas' text
# storage where the model was trained and the API scores, so the pyfunc reads text the same way.
RUNTIME_PACKAGES = ("lightgbm", "mlflow-skinny", "numpy", "pandas", "pyarrow")
# How a field of each kind is typed in the signature. Booleans and dates are text: a CSV body
# is read with these types, and only text reads `yes`, an empty cell or `2024-05-01T10:00+02:00`
# as the API does; the encoder then reads them, as it reads them from JSON.
_SIGNATURE_TYPES = {
    "numeric": "double",
    "categorical": "string",
    "boolean": "string",
    "datetime": "string",
}


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
        """Score the leads; a value the API refuses is refused in the API's words, as an MLflow
        error, so `mlflow models serve` answers 400 with that message rather than a 500."""
        try:
            scored = score_leads(self.model, model_input)
        except InvalidLeadsError as exc:
            raise MlflowException.invalid_parameter_value(str(exc)) from exc
        return scored.to_frame(model_input.index)


def signature_of(model: LeadModel) -> ModelSignature:
    """The fields the model reads, typed so that `mlflow models serve` can read a CSV body, and
    every one optional: a missing field is a missing value, as in the API."""
    inputs: list[ColSpec | TensorSpec] = [
        ColSpec(kind, name, required=False) for name, kind in input_types(model).items()
    ]
    outputs: list[ColSpec | TensorSpec] = [
        ColSpec("double", "probability"),
        ColSpec("long", "score"),
        ColSpec("string", "tier"),
    ]
    if model.contract.value:
        outputs.append(ColSpec("double", "expected_value"))
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


def input_types(model: LeadModel) -> dict[str, str]:
    """Each input field with its MLflow type: the lead's id, the features, the deal value."""
    types = {model.contract.id: "string"} if model.contract.id else {}
    types |= {f.name: _SIGNATURE_TYPES[f.kind] for f in model.encoder.features}
    if model.contract.value:
        types[model.contract.value] = "double"
    return types


def input_example(model: LeadModel, frame: pd.DataFrame) -> pd.DataFrame:
    """One real lead, typed as the signature says. A missing value is None, which MLflow stores
    as JSON null (NaN would be stored as a bare NaN, which no JSON parser accepts)."""
    types = {name: kind for name, kind in input_types(model).items() if name in frame.columns}
    lead = frame[list(types)].iloc[0]
    values = {name: _example_value(lead[name], kind == "double") for name, kind in types.items()}
    return pd.DataFrame([values], dtype=object)


def _example_value(value: Any, number: bool) -> Any:
    if pd.isna(value):
        return None
    if not number:
        return str(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def stage_runtime_code(folder: Path) -> list[Path]:
    """Copy the code the model runs into `folder` (the `features` package, `serve/__init__.py`
    and `serve/model`, without compiled files) and return the paths to log as `code_paths`.
    Laid out as here, so it imports as `serve.model...`; `serve.model` never imports the rest
    of `serve` or `train`, which therefore stay out."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    serve_folder = Path(__file__).parents[1]
    shutil.copytree(Path(features.__file__).parent, folder / "features", ignore=skip)
    (folder / "serve").mkdir(parents=True)
    shutil.copy2(serve_folder / "__init__.py", folder / "serve" / "__init__.py")
    shutil.copytree(serve_folder / "model", folder / "serve" / "model", ignore=skip)
    return [folder / "features", folder / "serve"]
