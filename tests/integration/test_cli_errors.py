"""Bad input: one line on stderr naming what is wrong, exit code 2, and nothing registered."""

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from features.demo import generate_leads
from leadscore_cli import app
from serve.model.tracking import tracking_uri
from tests.conftest import free_port


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_refused(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert message.startswith("error: ") and "\n" not in message, message
    for fragment in fragments:
        assert fragment in message
    assert "Traceback" not in result.output


def assert_nothing_registered() -> None:
    assert MlflowClient(tracking_uri(), tracking_uri()).search_registered_models() == []


@pytest.fixture
def export(tmp_path):
    def make(frame: pd.DataFrame, name: str = "leads.csv"):
        path = tmp_path / name
        frame.to_csv(path, index=False)
        return path

    return make


FLAGS = ("--target", "outcome", "--positive", "won", "--negative", "lost", "--open", "open")


def test_missing_file(tmp_path):
    assert_refused(run("train", tmp_path / "none.csv", *FLAGS), "none.csv does not exist")


def test_empty_file(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    assert_refused(run("train", tmp_path / "empty.csv", *FLAGS), "empty.csv is empty")
    assert_nothing_registered()


def test_target_absent_lists_columns(export):
    path = export(generate_leads(300, 1))
    result = run("train", path, "--target", "stage", "--positive", "won")
    assert_refused(result, "target column 'stage' is not in the file", "lead_id, created_at")
    assert_nothing_registered()


def test_unknown_labels_listed_with_counts(export):
    frame = generate_leads(400, 1)
    path = export(frame)
    result = run("train", path, "--target", "outcome", "--positive", "won", "--negative", "lost")
    open_count = int((frame["outcome"] == "open").sum())
    assert_refused(result, f"'open' ({open_count})", "--open")
    assert_nothing_registered()


def test_only_one_class(export):
    frame = generate_leads(300, 1)
    frame["outcome"] = "lost"
    assert_refused(run("train", export(frame), *FLAGS), "only one class present")
    assert_nothing_registered()


def test_too_few_rows(export):
    assert_refused(run("train", export(generate_leads(60, 1)), *FLAGS), "too few leads")
    assert_nothing_registered()


def test_kind_override_that_does_not_parse(export):
    frame = generate_leads(300, 1)
    labeled = frame[frame["outcome"] != "open"]
    first_bad = labeled["industry"].first_valid_index()
    result = run("train", export(frame), *FLAGS, "--kind", "industry=numeric")
    expected_row = f"(row {first_bad + 1}: '{labeled['industry'][first_bad]}'"
    assert_refused(result, "column 'industry' is declared numeric", expected_row)
    assert_nothing_registered()


def test_missing_training_role():
    assert_refused(run("train", "x.csv", "--positive", "won"), "--target")


def test_a_refused_option_prints_its_error_alone(tmp_path, monkeypatch):
    """Options and the store are checked before the progress bar shows."""
    result = run("train", tmp_path / "leads.csv", *FLAGS, "--tier-cutoffs", "70,40")
    assert_refused(result, "--tier-cutoffs '70,40' must be three scores")
    assert result.stdout == ""
    monkeypatch.setenv("LEADSCORE_DATABASE_URL", "nosuch://store")
    result = run("retrain", "--from-store", *FLAGS)
    assert_refused(result, "LEADSCORE_DATABASE_URL 'nosuch://store' cannot be used")
    assert result.stdout == ""
    assert_nothing_registered()


def test_score_with_no_model_in_the_registry(export, tmp_path):
    result = run("score", export(generate_leads(50, 1)), "-o", tmp_path / "out.csv")
    assert_refused(result, "models:/leadscore@champion is not in the registry")
    assert not (tmp_path / "out.csv").exists()


def test_serve_refuses_an_open_network_host_and_a_bad_store(monkeypatch):
    monkeypatch.delenv("LEADSCORE_API_KEYS", raising=False)
    assert_refused(run("serve", "--host", "0.0.0.0"), "LEADSCORE_API_KEYS is empty")
    monkeypatch.setenv("LEADSCORE_DATABASE_URL", "nonsense://")
    # on a free port: the port is checked before the store (8000 may be serving a demo)
    assert_refused(run("serve", "--port", str(free_port())), "LEADSCORE_DATABASE_URL")
    assert_refused(run("db", "upgrade"), "LEADSCORE_DATABASE_URL")


def test_db_upgrade_creates_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("LEADSCORE_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    result = run("db", "upgrade")
    assert result.exit_code == 0 and "created the store's tables" in result.output
    assert (tmp_path / "store.db").exists()
