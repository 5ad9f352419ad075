"""Run by test_fresh_environment.py with the Python of a virtual environment that holds only the
model's requirements: loads the model from its artifact folder, scores leads, tries values the
API refuses, and prints what happened as one JSON object.

Usage: python -I score_without_leadscore.py MODEL_FOLDER REQUEST_JSON
"""

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path

import mlflow.pyfunc
import pandas as pd
from mlflow.types import DataType

LEADSCORE_MODULES = ("leadscore_cli", "train", "insights", "serve.api")


def main(model_folder: str, request_file: str) -> None:
    request = json.loads(Path(request_file).read_text(encoding="utf-8"))
    model = mlflow.pyfunc.load_model(model_folder)
    scores = model.predict(typed_frame(model, request["leads"]))
    result = {
        "importable": [name for name in LEADSCORE_MODULES if importable(name)],
        "runtime_files": {name: sys.modules[name].__file__ for name in ("features", "serve")},
        "scores": scores.to_dict("list"),  # Python floats: json.dumps writes them exactly
        "refusals": {
            name: {
                "pyfunc": refusal(model.predict, lead),
                "model": refusal(lambda f: model.unwrap_python_model().predict(None, f), lead),
            }
            for name, lead in request["refused"].items()
        },
    }
    print(json.dumps(result))


def importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # the parent package is missing
        return False


def typed_frame(model: mlflow.pyfunc.PyFuncModel, leads: list[dict]) -> pd.DataFrame:
    """The leads with the signature's double fields as floats: MLflow refuses an int64 column
    for a double field, as a Python caller of the pyfunc learns."""
    frame = pd.DataFrame(leads)
    doubles = [
        s.name for s in model.metadata.get_input_schema().inputs if s.type == DataType.double
    ]
    return frame.astype({name: float for name in doubles if name in frame.columns})


def refusal(predict: Callable[[pd.DataFrame], object], lead: dict) -> str | None:
    """The message a prediction for this one lead fails with (None when it does not fail)."""
    try:
        predict(pd.DataFrame([lead]))
    except Exception as exc:  # whatever refused the lead, MLflow or the model
        return str(exc)
    return None


if __name__ == "__main__":
    main(*sys.argv[1:])
