"""The last training decision, read back from the registry's runs by the serving side."""

from serve.model.run_decision import last_decision


def test_the_training_run_that_made_the_champion_is_the_last_decision(use_trained_store):
    found = last_decision("leadscore", "1")
    assert found.problem is None and found.decision is not None
    assert found.decision.job == "train"
    assert found.decision.promoted
    assert found.decision.reason == use_trained_store.report["decision"]["reason"]


def test_an_unreachable_registry_is_said_not_raised(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://user:secret@127.0.0.1:9")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    found = last_decision("leadscore", "1")
    assert found.decision is None
    assert found.problem.startswith("the registry did not answer")
    assert "secret" not in found.problem
