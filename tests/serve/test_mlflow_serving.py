"""MLflow's own server (`mlflow models serve`) runs the registered model: it reads CSV and JSON
bodies with the signature's types, scores as `score_leads` does, and refuses a value the API
refuses with the API's words."""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from features.demo import LEAD_FIELDS, generate_leads
from features.errors import InvalidLeadsError
from serve.model.loading import load_lead_model
from serve.model.scorer import score_leads
from tests.conftest import free_port, wait_for_url

MODEL_URI = "models:/leadscore/1"


@pytest.fixture
def mlflow_server(use_trained_store, tmp_path) -> Iterator[str]:
    """`mlflow models serve` as its docs show it, with this environment's `bin` on PATH (it
    starts `uvicorn` by name); yields its base URL."""
    port = free_port()
    bin_folder = Path(sys.executable).parent
    command = [bin_folder / "mlflow", "models", "serve", "-m", MODEL_URI, "--env-manager", "local"]
    command += ["-h", "127.0.0.1", "-p", str(port), "-w", "1"]
    env = {**os.environ, "PATH": f"{bin_folder}{os.pathsep}{os.environ.get('PATH', '')}"}
    log = tmp_path / "mlflow-serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=out, stderr=out, start_new_session=True
        )
    try:
        wait_for_url(f"http://127.0.0.1:{port}/ping", process, log, timeout=90)
        yield f"http://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # the server and the uvicorn it started
        process.wait(timeout=30)


def demo_leads() -> pd.DataFrame:
    """Leads as a CRM sends them, some fields missing, with their deal values."""
    return generate_leads(30, seed=17)[[*LEAD_FIELDS, "deal_value"]]


@pytest.mark.slow
def test_csv_and_json_bodies_score_as_score_leads_does(mlflow_server):
    """MLflow reads a CSV body with pandas' own missing-value spellings, which include "None"
    (an answer, not a gap, to the API's reader): the CSV answer is compared with `score_leads`
    on the leads as pandas reads them."""
    model = load_lead_model(MODEL_URI).model
    leads = demo_leads()
    assert leads.isna().any().any()
    csv = leads.to_csv(index=False)
    answers = {
        "csv": httpx.post(
            f"{mlflow_server}/invocations",
            content=csv,
            headers={"Content-Type": "text/csv"},
            timeout=60,
        ),
        "json": httpx.post(
            f"{mlflow_server}/invocations",
            json={"dataframe_records": json.loads(leads.to_json(orient="records"))},
            timeout=60,
        ),
    }
    expected = {
        "csv": score_leads(model, pd.read_csv(io.StringIO(csv))),
        "json": score_leads(model, leads),
    }
    for body, answer in answers.items():
        assert answer.status_code == 200, f"{body}: {answer.text}"
        predictions = pd.DataFrame(answer.json()["predictions"])
        scored = expected[body]
        np.testing.assert_allclose(predictions["probability"], scored.probability, atol=1e-12)
        assert predictions["tier"].tolist() == scored.tier
        np.testing.assert_allclose(predictions["expected_value"], scored.expected_value)


@pytest.mark.slow
def test_a_value_the_api_refuses_is_refused_in_its_words(mlflow_server):
    lead = {"lead_id": "Q1", "web_visits": 3, "demo_requested": "maybe"}
    with pytest.raises(InvalidLeadsError) as refused:
        score_leads(load_lead_model(MODEL_URI).model, [lead])
    answer = httpx.post(
        f"{mlflow_server}/invocations", json={"dataframe_records": [lead]}, timeout=60
    )
    assert answer.status_code == 400
    assert answer.json()["message"].endswith(f"Error: {refused.value}")
