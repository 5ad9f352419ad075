"""Commands and settings that misled: a port in use, a capacity of 0 or above the lead volume, a
retraining lock left by a job killed with `kill -9`, two jobs taking over one stale lock, demo
data a common CSV reader reads differently, LightGBM's threads spinning on a busy machine, column
names read as terminal markup, a model name the registry cannot hold. Each now says what is wrong
in one line (exit 2), warns, or does the right thing at once."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from features.demo import write_demo
from features.reading import read_table
from serve.model.tracking import configure_tracking, tracking_uri
from train.registry.lock import LockBusyError, lock_name, registry_lock

ROOT = Path(__file__).parents[2]


def leadscore(*args, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "leadscore_cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        env={**os.environ, "MLFLOW_TRACKING_URI": tracking_uri()},
    )


def assert_one_line_refusal(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    message = result.stderr.strip()
    assert message.startswith("error: ") and "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, message


@pytest.fixture
def busy_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_serve_on_a_port_in_use_exits_2_and_names_the_port(busy_port, tmp_path):
    result = leadscore("serve", "--port", busy_port, cwd=tmp_path, timeout=120)
    assert_one_line_refusal(result, f"port {busy_port} is in use: choose another with --port")


def test_make_demo_checks_the_port_before_installing(busy_port):
    result = subprocess.run(
        ["make", "--no-print-directory", "check-port", f"PORT={busy_port}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"port {busy_port} is in use" in result.stdout + result.stderr
    planned = subprocess.run(
        ["make", "-n", "demo", f"PORT={busy_port}"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    assert planned.index("is in use") < planned.index("leadscore demo-data")


@pytest.fixture
def small_demo(tmp_path) -> tuple[Path, Path]:
    data = tmp_path / "leads.csv"
    return data, write_demo(data, 800, seed=5)


def test_column_names_with_brackets_are_printed_as_they_are(small_demo, tmp_path):
    """The summary printed names the columns the audit excluded; the terminal library read
    `[/]` in a name as a closing tag and crashed after the model was registered, and dropped
    `[internal]` from another name."""
    data, contract = small_demo
    leads = pd.read_csv(data)
    leads["flag [/]"], leads["Score [internal]"] = "same", "same"
    leads.to_csv(data, index=False)
    result = leadscore("train", data, "--config", contract, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = " ".join(result.stdout.split())  # however the terminal wrapped it
    assert "flag [/]" in printed and "Score [internal]" in printed, result.stdout


def test_column_names_with_json_or_math_characters_train_and_keep_their_names(small_demo, tmp_path):
    """LightGBM refuses JSON's special characters in feature names, and the report's figures
    read text between two '$' as mathematical notation: training failed with their errors."""
    data, contract = small_demo
    renamed = {
        "industry": 'Industry: "vertical"',
        "company_size": "Size, bucket",
        "web_visits": "Visits [web] {30 days}",
        "lead_source": "Source $\\frac$",
    }
    pd.read_csv(data).rename(columns=renamed).to_csv(data, index=False)
    report = tmp_path / "report.json"
    result = leadscore("train", data, "--config", contract, "--report-json", report, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    features = json.loads(report.read_text())["features"]
    assert set(renamed.values()) <= set(features), features
    scored = leadscore("score", data, "-o", tmp_path / "scored.csv", cwd=tmp_path)
    assert scored.returncode == 0, scored.stderr
    assert pd.read_csv(tmp_path / "scored.csv")["probability"].between(0, 1).all()


@pytest.mark.parametrize("name", ["team/emea", "emea@v2", ".."])
def test_a_model_name_the_registry_cannot_hold_is_refused_before_training(
    small_demo, tmp_path, name
):
    """It failed inside MLflow with a traceback, after the whole training."""
    data, contract = small_demo
    result = leadscore("train", data, "--config", contract, "--model-name", name, cwd=tmp_path)
    assert_one_line_refusal(result, f"--model-name {name!r}")
    assert MlflowClient(tracking_uri(), tracking_uri()).search_registered_models() == []


def test_a_report_path_that_cannot_be_written_is_refused_before_training(small_demo, tmp_path):
    """The report is written after the version is registered: a folder given as --report-json
    stopped the command there with a traceback, the version already registered."""
    data, contract = small_demo
    folder = tmp_path / "reports"
    folder.mkdir()
    for path, fragment in ((folder, "is a folder"), (data / "report.json", "is a file")):
        for command in ("train", "retrain"):
            refused = leadscore(
                command, data, "--config", contract, "--report-json", path, cwd=tmp_path
            )
            assert_one_line_refusal(refused, f"--report-json {path}", fragment)
    assert MlflowClient(tracking_uri(), tracking_uri()).search_registered_models() == []


def test_capacity_zero_is_refused_and_above_the_volume_warns(small_demo, tmp_path):
    data, contract = small_demo
    refused = leadscore("train", data, "--config", contract, "--capacity", 0, cwd=tmp_path)
    assert_one_line_refusal(refused, "--capacity 0")
    assert MlflowClient(tracking_uri(), tracking_uri()).search_registered_models() == []
    everyone = leadscore("train", data, "--config", contract, "--capacity", 10**6, cwd=tmp_path)
    assert everyone.returncode == 0, everyone.stderr
    assert everyone.stderr.count("every lead is tier A") == 1  # not once per fit


def wait_for_lock(model_name: str, timeout: float = 300) -> None:
    client = MlflowClient(tracking_uri(), tracking_uri())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lock_name(model_name) in {m.name for m in client.search_registered_models()}:
            return
        time.sleep(0.2)
    raise AssertionError("the job never took the lock")


def test_a_lock_left_by_a_retrain_killed_with_kill_9_is_taken_over_at_once(small_demo, tmp_path):
    data, contract = small_demo
    command = [sys.executable, "-m", "leadscore_cli", "retrain", str(data), "--config"]
    command.append(str(contract))
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri()}
    killed = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.DEVNULL)
    try:
        wait_for_lock("leadscore")
    finally:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
    again = leadscore("retrain", data, "--config", contract, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"took over the retraining lock left by pid {killed.pid}" in again.stderr
    assert "is no longer running" in again.stderr


HOLD_THEN_DIE = textwrap.dedent(
    """
    import sys, time
    from serve.model.tracking import configure_tracking
    from train.registry.lock import registry_lock
    with registry_lock(configure_tracking(), "leads"):
        print("held", flush=True)
        time.sleep(600)
    """
)


def test_two_jobs_taking_over_one_stale_lock_never_both_hold_it(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THEN_DIE],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "MLFLOW_TRACKING_URI": tracking_uri()},
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)

    holding, most, outcomes = [0], [0], []
    count = threading.Lock()
    start = threading.Barrier(4)

    def job() -> None:
        start.wait()
        try:
            with registry_lock(configure_tracking(), "leads"):
                with count:
                    holding[0] += 1
                    most[0] = max(most[0], holding[0])
                time.sleep(1)
                with count:
                    holding[0] -= 1
            outcomes.append("held")
        except LockBusyError:
            outcomes.append("busy")

    jobs = [threading.Thread(target=job) for _ in range(4)]
    for thread in jobs:
        thread.start()
    for thread in jobs:
        thread.join()
    assert len(outcomes) == 4 and "held" in outcomes, outcomes
    assert most[0] == 1


def test_the_demo_data_reads_alike_whatever_reads_it(tmp_path):
    data = tmp_path / "demo.csv"
    write_demo(data, 2000, seed=7)
    ours = read_table(data)["budget_status"]
    pandas_default = pd.read_csv(data)["budget_status"]
    assert pandas_default.isna().sum() == ours.isna().sum()
    assert (pandas_default == "No budget").sum() > 100


def test_db_upgrade_says_what_it_did(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("LEADSCORE_DATABASE_URL", url)
    created = leadscore("db", "upgrade", cwd=tmp_path, timeout=120)
    again = leadscore("db", "upgrade", cwd=tmp_path, timeout=120)
    assert created.returncode == 0 and again.returncode == 0, created.stderr + again.stderr
    assert created.stdout.startswith(f"created the store's tables at {url} (schema version ")
    assert again.stdout.startswith(f"the store at {url} was already up to date")


def test_lightgbm_threads_wait_passively_so_a_busy_machine_does_not_stall_training(
    tmp_path, monkeypatch
):
    """OpenMP's threads spin while waiting for each other by default (libgomp: 300,000 spins);
    with another job on one of two cores a million-lead fit ran 12x slower than on one thread.
    OMP_DISPLAY_ENV makes OpenMP print the settings it started with, when LightGBM loads."""
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.setenv("OMP_DISPLAY_ENV", "VERBOSE")
    result = leadscore("score", tmp_path / "leads.csv", "-o", tmp_path / "out.csv", cwd=tmp_path)
    assert "OPENMP DISPLAY ENVIRONMENT" in result.stderr, result.stderr
    assert "GOMP_SPINCOUNT = '0'" in result.stderr, result.stderr
