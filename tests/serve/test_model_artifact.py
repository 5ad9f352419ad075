"""The registered model as MLflow stores it: it carries the code it runs, requires only published
packages, types its fields, and its input example is JSON that any parser reads."""

import ast
import json
import math
import sys
from importlib import metadata
from pathlib import Path

import mlflow
import pytest
import yaml
from mlflow.models import Model

from features.demo import generate_leads
from serve.model.loading import load_lead_model
from serve.model.tracking import configure_tracking
from train.registry.experiment import use_experiment
from train.registry.versions import log_and_register

# What the model may import besides the standard library and these published packages.
RUNTIME_MODULES = {"features", "serve", "lightgbm", "mlflow", "numpy", "pandas", "pyarrow"}


def download(uri: str, folder: Path) -> Path:
    """The model's artifact folder, fetched through the registry as any MLflow client does."""
    configure_tracking()
    return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(folder)))


def strict_json(path: Path) -> object:
    """Parse as JSON proper: NaN and Infinity, which Python's parser accepts, are refused."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{path.name} holds {constant}, which is not JSON")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


@pytest.fixture
def artifact(use_trained_store, tmp_path) -> Path:
    return download("models:/leadscore/1", tmp_path)


def test_the_model_carries_the_runtime_code_and_nothing_else(artifact):
    flavor = Model.load(artifact).flavors["python_function"]
    code = artifact / flavor["code"]
    assert sorted(p.name for p in code.iterdir()) == ["features", "serve"]
    assert sorted(p.name for p in (code / "serve").iterdir()) == ["__init__.py", "model"]
    assert (code / "serve" / "model" / "scorer.py").is_file()
    assert (code / "features" / "encoder.py").is_file()
    files = list(code.rglob("*"))
    assert not [p for p in files if p.name == "__pycache__" or p.suffix == ".pyc"]
    for source in (p for p in files if p.suffix == ".py"):
        for module in imported_modules(source):
            top = module.split(".")[0]
            left_out = top in {"train", "insights", "leadscore_cli"} or (
                top == "serve" and not module.startswith("serve.model")
            )
            assert not left_out, f"{source.relative_to(code)} imports {module}, not carried"


def imported_modules(source: Path) -> set[str]:
    """The modules a source file imports by absolute name."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
    return modules


def test_the_code_the_model_runs_imports_only_what_it_requires(artifact):
    """The scoring path (everything the pyfunc reaches) imports the model's own packages, the
    published requirements and the standard library: no other leadscore package, no sklearn."""
    code = artifact / "code"
    pending, seen, outside = ["serve.model.pyfunc"], set(), set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        path = code.joinpath(*module.split("."))
        source = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        for name in imported_modules(source):
            if name.split(".")[0] in {"features", "serve"}:
                pending.append(name)
            elif name.split(".")[0] not in sys.stdlib_module_names:
                outside.add(name.split(".")[0])
    assert "features.encoder" in seen and "serve.model.scorer" in seen
    assert outside <= RUNTIME_MODULES


def test_requirements_are_published_packages_pinned_as_installed(artifact):
    lines = (artifact / "requirements.txt").read_text().split()
    names = [line.partition("==")[0] for line in lines]
    assert names == ["lightgbm", "mlflow-skinny", "numpy", "pandas", "pyarrow"]
    assert lines == [f"{name}=={metadata.version(name)}" for name in names]
    assert "leadscore" not in (artifact / "conda.yaml").read_text()


def test_the_signature_types_every_field_it_reads(artifact):
    inputs = Model.load(artifact).signature.inputs
    assert {spec.name: spec.type.name for spec in inputs.inputs} == {
        "lead_id": "string",
        "industry": "string",
        "company_size": "string",
        "job_title_level": "string",
        "lead_source": "string",
        "country": "string",
        "purchase_timeline": "string",
        "budget_status": "string",
        "web_visits": "double",
        "email_opens": "double",
        "demo_requested": "string",
        "deal_value": "double",
    }
    assert inputs.required_input_names() == []


def test_the_input_example_is_json_with_null_for_a_missing_value(
    trained_model, monkeypatch, tmp_path
):
    """The example is the first lead of the training rows; one with missing values is stored
    with null, not NaN (which `mlflow models serve` and every strict parser refuse)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained_model.tracking_uri)
    model = load_lead_model("models:/leadscore/1").model
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    rows = generate_leads(3, seed=5).astype(object)
    rows.loc[0, ["industry", "web_visits", "deal_value"]] = [None, math.nan, math.nan]
    with mlflow.start_run(experiment_id=use_experiment(configure_tracking())):
        version = log_and_register(model, rows, "leadscore")
    artifact = download(version.uri, tmp_path / "artifact")
    served = strict_json(artifact / "serving_input_example.json")["dataframe_split"]
    example = dict(zip(served["columns"], served["data"][0], strict=True))
    assert example["industry"] is None and example["web_visits"] is None
    assert example["deal_value"] is None
    assert example["lead_id"] == rows.loc[0, "lead_id"]
    assert example["email_opens"] == float(rows.loc[0, "email_opens"])
    assert strict_json(artifact / "input_example.json")
    assert yaml.safe_load((artifact / "MLmodel").read_text())["saved_input_example_info"]
