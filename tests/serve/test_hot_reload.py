"""The server follows the champion alias: a new version is swapped in under load without one
failed request, and a broken version is refused while the old one keeps serving."""

import threading
import time
from collections import Counter

import httpx
import mlflow
import pytest

from features.demo import generate_leads
from features.encoder import LeadEncoder
from serve.model.lead_model import LeadModel
from serve.model.loading import CHAMPION, load_lead_model
from serve.model.tracking import configure_tracking, tracking_uri
from tests.conftest import start_server
from train.registry.experiment import use_experiment
from train.registry.versions import log_and_register

KEY = "reload-key"
LEAD = {"lead_id": "H1", "lead_source": "Referral", "web_visits": 6}


@pytest.fixture
def champion_model(use_trained_store) -> LeadModel:
    return load_lead_model("models:/leadscore@champion").model


def register_as_champion(model: LeadModel) -> str:
    client = configure_tracking()
    with mlflow.start_run(experiment_id=use_experiment(client)):
        version = log_and_register(model, generate_leads(20, seed=5), "leadscore").version
    client.set_registered_model_alias("leadscore", CHAMPION, version)
    return version


def broken(model: LeadModel) -> LeadModel:
    """Loads fine, but its encoder gives the booster one column too few."""
    encoder = LeadEncoder(model.encoder.features[:-1], model.encoder.na_values)
    return LeadModel(
        model.contract, encoder, model.learner, model.calibrator, model.tiers, model.metadata
    )


class Load:
    """Clients scoring without pause; every answer's status and model version is counted."""

    def __init__(self, base: str, clients: int = 4) -> None:
        self.base = base
        self.answers: Counter = Counter()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run) for _ in range(clients)]

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {KEY}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=30) as client:
            while not self.stop.is_set():
                try:
                    response = client.post("/v1/score", json={"leads": [LEAD]})
                    version = response.json().get("model_version")
                    self.answers[(response.status_code, version)] += 1
                except httpx.HTTPError as exc:
                    self.answers[(type(exc).__name__, None)] += 1

    def versions_seen(self) -> set:
        return {version for (_, version) in self.answers}

    def __enter__(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


def wait_for(condition, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_swap_under_load_and_refusal_of_a_broken_version(champion_model, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'registry.db'}")
    assert register_as_champion(champion_model) == "1"
    env = {
        "MLFLOW_TRACKING_URI": tracking_uri(),
        "LEADSCORE_API_KEYS": KEY,
        "LEADSCORE_MODEL_POLL_SECONDS": "0.3",
        "LEADSCORE_ACCESS_LOG": "false",
    }
    server = start_server(tmp_path, env)
    try:
        with Load(server.base) as load:
            assert wait_for(lambda: sum(load.answers.values()) > 20)
            assert register_as_champion(champion_model) == "2"
            assert wait_for(lambda: "2" in load.versions_seen())
            assert register_as_champion(broken(champion_model)) == "3"
            assert wait_for(lambda: "refused version 3" in server.output())
            served_after_refusal = sum(load.answers.values())
            assert wait_for(lambda: sum(load.answers.values()) > served_after_refusal + 20)
        info = httpx.get(f"{server.base}/v1/model", headers={"X-API-Key": KEY}).json()
    finally:
        server.stop()
    assert info["version"] == "2" and "number of features" in info["refused"]["3"]
    statuses = {status for (status, _) in load.answers}
    assert statuses == {200}, load.answers
    assert load.versions_seen() == {"1", "2"}
    assert "number of features" in server.output()
