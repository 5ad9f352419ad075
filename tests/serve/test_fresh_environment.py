"""The registered model runs where leadscore is not installed: a fresh virtual environment with
nothing but the model's own requirements.txt loads it, scores leads exactly as the real API
does, and refuses what the API refuses in the API's words.

The requirements are installed from the wheelhouse `make test` fills (.venv/wheelhouse), so the
test downloads nothing."""

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import mlflow
import numpy as np
import pytest

from features.demo import LEAD_FIELDS, generate_leads
from serve.model.tracking import configure_tracking

WHEELHOUSE = Path(sys.prefix) / "wheelhouse"
SCRIPT = Path(__file__).with_name("score_without_leadscore.py")
REFUSED = {
    "text in a number": {"lead_id": "R1", "web_visits": "nine"},
    "not a yes or no": {"lead_id": "R2", "web_visits": 3.0, "demo_requested": "maybe"},
}


@pytest.fixture(scope="session")
def model_folder(trained_model, tmp_path_factory) -> Path:
    """A copy of the registered model's artifact folder, fetched through the registry."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", trained_model.tracking_uri)
        configure_tracking()
        folder = tmp_path_factory.mktemp("model-artifact")
        return Path(mlflow.artifacts.download_artifacts("models:/leadscore/1", dst_path=folder))


@pytest.fixture(scope="session")
def fresh_python(model_folder, tmp_path_factory) -> Path:
    """The Python of a new virtual environment holding only the model's requirements."""
    if not WHEELHOUSE.is_dir():
        pytest.skip(
            f"no wheelhouse at {WHEELHOUSE}: `make test` fills it (or `make .venv/wheelhouse`)"
        )
    venv = tmp_path_factory.mktemp("fresh-venv")
    run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    requirements = model_folder / "requirements.txt"
    run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-index"]
        + ["--find-links", str(WHEELHOUSE), "-r", str(requirements)],
        # the machine's pip configuration could name other sources; this install uses none
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
    )
    return python


def run(command: list, **options) -> str:
    done = subprocess.run(command, capture_output=True, text=True, **options)
    assert done.returncode == 0, f"{command[:4]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def api_refusal(base: str, lead: dict) -> str:
    """What the API answers for one refused lead, spelled as InvalidLeadsError spells it."""
    answer = httpx.post(f"{base}/v1/score", json={"leads": [lead]}, timeout=30)
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["detail"]
    return f"lead {problem['loc'][2]}: {problem['msg']}"


@pytest.mark.slow
def test_the_model_scores_without_leadscore_as_the_api_does(
    fresh_python, model_folder, running_server, tmp_path
):
    leads = json.loads(
        generate_leads(12, seed=23)[[*LEAD_FIELDS, "deal_value"]].to_json(orient="records")
    )
    assert any(value is None for lead in leads for value in lead.values())
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"leads": leads, "refused": REFUSED}))
    isolated = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL"))}
    output = run(
        [fresh_python, "-I", str(SCRIPT), str(model_folder), str(request)],
        cwd=tmp_path,
        env=isolated,
    )
    result = json.loads(output.strip().splitlines()[-1])

    assert result["importable"] == []
    for name, file in result["runtime_files"].items():
        assert Path(file).is_relative_to(model_folder / "code" / name), file

    api = httpx.post(f"{running_server}/v1/score", json={"leads": leads}, timeout=30).json()
    scores = result["scores"]
    np.testing.assert_allclose(
        scores["probability"], [s["probability"] for s in api["scores"]], rtol=0, atol=1e-12
    )
    assert scores["tier"] == [s["tier"] for s in api["scores"]]
    np.testing.assert_allclose(
        scores["expected_value"], [s["expected_value"] for s in api["scores"]], rtol=1e-12
    )

    refusals = result["refusals"]
    for name, lead in REFUSED.items():
        assert refusals[name]["model"] == api_refusal(running_server, lead), name
    # MLflow's own type check refuses text in a double field before the model sees it, naming
    # the field in its words; a value of the right type reaches the model, which answers as
    # the API does.
    assert "web_visits" in refusals["text in a number"]["pyfunc"]
    maybe = REFUSED["not a yes or no"]
    assert refusals["not a yes or no"]["pyfunc"] == api_refusal(running_server, maybe)
