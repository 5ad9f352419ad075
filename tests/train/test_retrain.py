"""`leadscore retrain` against real MLflow stores: promotion of a clearly better challenger,
refusal of a worse one, the same data twice, the lock, `kill -9` during training, abandoned
runs, and the whole job against a real `mlflow server` process. (Learning from the outcomes
posted to a server: tests/integration/test_outcome_loop.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from features.demo import CONTRACT_TOML, generate_leads
from features.reading import write_table
from leadscore_cli import app
from serve.model.loading import CHAMPION, PREVIOUS, alias_version
from serve.model.run_decision import JOB_TAG, RETRAIN_JOB, last_decision
from serve.model.tracking import configure_tracking, tracking_uri
from tests.conftest import free_port, wait_for_url
from train.registry.experiment import use_experiment
from train.registry.lock import lock_name, registry_lock
from train.retrain import fail_abandoned_runs

ROWS = 2500
STRONG_COLUMNS = ["budget_status", "purchase_timeline", "demo_requested", "lead_source"]
MLFLOW = Path(sys.executable).with_name("mlflow")


def write_leads(
    folder: Path,
    name: str,
    seed: int,
    weak: bool = False,
    shift: bool = False,
    weak_share: float = 1.0,
    years_later: int = 0,
):
    """Demo leads; `weak` shuffles the strongest columns across the oldest `weak_share` of the
    leads (their signal is gone there), `shift` moves every lead's web visits up (a drifted
    column), `years_later` moves their created-at times on (leads newer than a champion trained
    on an export without it: the champion learnt from every lead of its export). Each seed's
    leads are other leads, with ids of their own."""
    frame = generate_leads(ROWS, seed)
    frame["lead_id"] = f"S{seed}-" + frame["lead_id"]
    frame["created_at"] = (
        pd.to_datetime(frame["created_at"]) + pd.DateOffset(years=years_later)
    ).dt.strftime("%Y-%m-%d %H:%M")
    rng = np.random.default_rng(seed)
    if weak:
        oldest = frame.index[: int(ROWS * weak_share)]
        for column in STRONG_COLUMNS:
            frame.loc[oldest, column] = rng.permutation(frame.loc[oldest, column].to_numpy())
    if shift:
        frame["web_visits"] = frame["web_visits"] + 25
    path = folder / f"{name}.csv"
    write_table(frame, path)
    contract = folder / "leads.toml"
    contract.write_text(CONTRACT_TOML, encoding="utf-8")
    return path, contract


def run_cli(*args) -> subprocess.CompletedProcess:
    """A real `leadscore` process with the test's environment."""
    command = [sys.executable, "-m", "leadscore_cli", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=os.environ)


def client() -> MlflowClient:
    return configure_tracking()


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args):
    return CliRunner().invoke(app, list(map(str, args)))


@pytest.mark.slow
def test_a_worse_challenger_is_kept_and_the_champion_stays(workdir):
    strong, contract = write_leads(workdir, "strong", seed=11)
    # the challenger learns from leads whose strongest columns say nothing, and is judged on
    # newer leads where they matter again, as they do for the champion
    weak, _ = write_leads(workdir, "weak", seed=12, weak=True, weak_share=0.7, years_later=2)
    assert invoke("train", strong, "--config", contract).exit_code == 0
    report = workdir / "retrain.json"

    result = invoke("retrain", weak, "--config", contract, "--report-json", report)

    assert result.exit_code == 0, result.output
    written = json.loads(report.read_text())
    assert written["decision"] == "kept"
    assert "worse" in written["reason"] or "may be lower" in written["reason"]
    assert written["comparison"]["challenger_minus_champion"]["roc_auc"]["estimate"] < 0
    assert alias_version(client(), "leadscore", CHAMPION) == "1"
    assert alias_version(client(), "leadscore", PREVIOUS) is None
    run = client().get_run(written["run_id"])
    assert run.data.tags["leadscore.retrain_decision"] == "kept"
    last = last_decision("leadscore", "1").decision  # what the board shows
    assert last is not None and (last.job, last.promoted) == ("retrain", False)
    assert last.reason == written["reason"]


def test_the_champion_is_judged_only_on_leads_newer_than_its_own(workdir):
    first, contract = write_leads(workdir, "first", seed=19)
    # other leads of the same period: the champion, refitted on every labeled lead of its export,
    # learnt from leads as new as the challenger's evaluation leads
    second, _ = write_leads(workdir, "second", seed=20)
    assert invoke("train", first, "--config", contract).exit_code == 0
    report = workdir / "retrain.json"

    result = invoke("retrain", second, "--config", contract, "--report-json", report)

    assert result.exit_code == 0, result.output
    written = json.loads(report.read_text())
    assert written["decision"] == "kept" and written["comparison"] is None
    assert "newer than the champion's training data" in written["reason"]
    assert alias_version(client(), "leadscore", CHAMPION) == "1"


def with_new_leads(workdir: Path, leads: pd.DataFrame, seed: int) -> Path:
    """`leads` and as many new ones of the same period (ids of their own), in one export."""
    new = generate_leads(ROWS, seed)
    new["lead_id"] = "N" + new["lead_id"]
    both = workdir / "both.csv"
    write_table(pd.concat([leads, new], ignore_index=True), both)
    return both


def assert_only_new_leads_compared(workdir: Path, export: Path, contract: Path) -> None:
    """Retrain on `export` (half of it the champion's own leads): only the new ones among the
    evaluation leads, about half of them, are compared."""
    report = workdir / "retrain.json"
    result = invoke("retrain", export, "--config", contract, "--report-json", report)
    assert result.exit_code == 0, result.output
    written = json.loads(report.read_text())
    evaluated = sum(written["rows"]["evaluate"].values())
    assert 0.35 * evaluated < written["comparison"]["leads"] < 0.65 * evaluated, written


def test_without_times_the_champion_is_never_judged_on_leads_it_learnt_from(workdir):
    """Without created-at times the champion's training leads are known by their ids."""
    first, contract = write_leads(workdir, "first", seed=19)
    contract.write_text(CONTRACT_TOML.replace('time = "created_at"\n', ""), encoding="utf-8")
    both = with_new_leads(workdir, pd.read_csv(first), seed=20)
    assert invoke("train", first, "--config", contract).exit_code == 0
    assert_only_new_leads_compared(workdir, both, contract)


def test_leads_the_champion_learnt_from_are_never_compared_even_when_dated_anew(workdir):
    """The champion's export gave every lead one created-at time; the challenger's holds the
    same leads with their real times: they were compared all the same (newer than its one
    time), flattering it."""
    first, contract = write_leads(workdir, "first", seed=21)
    leads = pd.read_csv(first)
    undated = workdir / "undated.csv"
    write_table(leads.assign(created_at="2024-01-01 00:00"), undated)
    both = with_new_leads(workdir, leads, seed=22)
    assert invoke("train", undated, "--config", contract).exit_code == 0
    assert_only_new_leads_compared(workdir, both, contract)


def test_the_same_data_twice_registers_nothing(workdir):
    strong, contract = write_leads(workdir, "strong", seed=13)
    assert invoke("train", strong, "--config", contract).exit_code == 0
    report = workdir / "retrain.json"

    result = invoke("retrain", strong, "--config", contract, "--report-json", report)

    assert result.exit_code == 0, result.output
    written = json.loads(report.read_text())
    assert written["decision"] == "kept"
    assert "same data fingerprint" in written["reason"]
    assert [str(v.version) for v in client().search_model_versions("name = 'leadscore'")] == ["1"]


def test_a_second_retrain_exits_while_the_first_holds_the_lock(workdir):
    strong, contract = write_leads(workdir, "strong", seed=14)
    with registry_lock(client(), "leadscore"):
        second = run_cli("retrain", strong, "--config", contract)
    assert second.returncode == 2
    assert "another retraining of this model is running" in second.stderr
    assert "--lock-wait" in second.stderr


def test_runs_left_running_by_a_dead_retrain_are_marked_failed(workdir):
    experiment = use_experiment(client(), "leadscore")
    abandoned = client().create_run(experiment, tags={JOB_TAG: RETRAIN_JOB}).info.run_id
    other = client().create_run(experiment).info.run_id

    assert fail_abandoned_runs(client(), experiment) == [abandoned]
    assert client().get_run(abandoned).info.status == "FAILED"
    assert client().get_run(other).info.status == "RUNNING"


@pytest.mark.slow
def test_kill_9_during_training_leaves_the_champion_alias(workdir):
    weak, contract = write_leads(workdir, "weak", seed=15, weak=True)
    strong, _ = write_leads(workdir, "strong", seed=16)
    assert invoke("train", weak, "--config", contract).exit_code == 0
    command = [sys.executable, "-m", "leadscore_cli", "retrain", str(strong), "--config"]
    job = subprocess.Popen(
        [*command, str(contract)], env=os.environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for_lock(job)
        time.sleep(1.0)  # inside the lock: reading is done, training has started
        assert job.poll() is None, "the retrain finished before it could be killed"
    finally:
        job.send_signal(signal.SIGKILL)
        job.wait(timeout=30)

    assert job.returncode == -signal.SIGKILL
    assert client().get_registered_model("leadscore").aliases == {CHAMPION: 1}


def wait_for_lock(job: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if job.poll() is not None:
            raise AssertionError(f"retrain exited early: {job.stderr.read().decode()}")
        names = {m.name for m in client().search_registered_models()}
        if lock_name("leadscore") in names:
            return
        time.sleep(0.1)
    raise AssertionError("the retrain never took the lock")


@pytest.fixture
def mlflow_server(tmp_path, monkeypatch):
    """A real `mlflow server` backed by SQLite, on a free port; the test's tracking URI."""
    port = free_port()
    log = tmp_path / "mlflow-server.log"
    command = [
        str(MLFLOW), "server",
        "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
        "--default-artifact-root", str(tmp_path / "server-artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    with open(log, "wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=out, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_url(f"{base}/health", server, log, timeout=120)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", base)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


@pytest.mark.slow
def test_against_an_mlflow_server_a_better_challenger_is_promoted_then_rolled_back(
    mlflow_server, workdir
):
    weak, contract = write_leads(workdir, "weak", seed=17, weak=True)
    strong, _ = write_leads(workdir, "strong", seed=18, shift=True, years_later=2)
    first = run_cli("train", weak, "--config", contract)
    assert first.returncode == 0, first.stderr
    report = workdir / "retrain.json"

    job = run_cli("retrain", strong, "--config", contract, "--report-json", report)

    assert job.returncode == 0, job.stderr
    assert tracking_uri() == mlflow_server
    written = json.loads(report.read_text())
    assert written["decision"] == "promoted", written["reason"]
    assert written["comparison"]["challenger_minus_champion"]["roc_auc"]["low"] > 0
    assert "web_visits" in written["drift"]["drifted"]
    assert "warning: drift" in job.stdout and "web_visits" in job.stdout
    assert "rows from the export" in job.stdout
    assert alias_version(client(), "leadscore", CHAMPION) == written["model_version"] == "2"
    assert alias_version(client(), "leadscore", PREVIOUS) == "1"
    run = client().get_run(written["run_id"])
    assert run.data.tags["leadscore.retrain_decision"] == "promoted"
    decision = json.loads(
        Path(
            client().download_artifacts(run.info.run_id, "decision.json", str(workdir))
        ).read_text()
    )
    assert decision["reason"] == written["reason"]
    assert (
        decision["comparison"]["champion"]["roc_auc"]["estimate"]
        < decision["comparison"]["challenger"]["roc_auc"]["estimate"]
    )

    rolled = run_cli("rollback")
    assert rolled.returncode == 0, rolled.stderr
    assert alias_version(client(), "leadscore", CHAMPION) == "1"
