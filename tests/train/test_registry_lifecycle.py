"""Aliases, rollback and the retraining lock against a real MLflow store."""

import threading

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from leadscore_cli import app
from serve.model.loading import CHAMPION, PREVIOUS, alias_version
from serve.model.tracking import configure_tracking
from train.registry.lock import LockBusyError, lock_name, registry_lock
from train.registry.versions import promote


@pytest.fixture
def client() -> MlflowClient:
    client = configure_tracking()
    client.create_registered_model("leads")
    for _ in range(3):
        client.create_model_version("leads", source="file:///nowhere")
    return client


def test_promote_moves_champion_and_keeps_previous(client):
    assert promote(client, "leads", "1") is None
    assert promote(client, "leads", "2") == "1"
    assert alias_version(client, "leads", CHAMPION) == "2"
    assert alias_version(client, "leads", PREVIOUS) == "1"


def test_rollback_command_and_its_undo(client):
    promote(client, "leads", "1")
    promote(client, "leads", "3")
    result = CliRunner().invoke(app, ["rollback", "--model-name", "leads"])
    assert result.exit_code == 0, result.output
    assert alias_version(client, "leads", CHAMPION) == "1"
    assert alias_version(client, "leads", PREVIOUS) == "3"
    CliRunner().invoke(app, ["rollback", "--model-name", "leads"])
    assert alias_version(client, "leads", CHAMPION) == "3"


def test_rollback_without_previous_is_refused(client):
    promote(client, "leads", "1")
    result = CliRunner().invoke(app, ["rollback", "--model-name", "leads"])
    assert result.exit_code == 2
    assert "no 'previous' version" in result.stderr


def test_second_holder_is_refused_while_the_first_holds(client):
    with (
        registry_lock(client, "leads"),
        pytest.raises(LockBusyError, match="another retraining of this model is running"),
        registry_lock(client, "leads"),
    ):
        pass
    with registry_lock(client, "leads"):
        pass
    assert lock_name("leads") not in {m.name for m in client.search_registered_models()}


def test_a_waiting_holder_gets_the_lock_when_it_is_released(client):
    order = []

    def second():
        with registry_lock(client, "leads", wait_seconds=30):
            order.append("second")

    with registry_lock(client, "leads"):
        thread = threading.Thread(target=second)
        thread.start()
        order.append("first")
    thread.join(timeout=30)
    assert order == ["first", "second"]


def test_a_stale_lock_left_by_a_dead_job_is_taken_over(client):
    client.create_registered_model(lock_name("leads"), tags={"leadscore.heartbeat": "0"})
    with registry_lock(client, "leads", stale_after=60):
        holder = client.get_registered_model(lock_name("leads")).tags["leadscore.owner"]
    assert holder.startswith("pid ")
