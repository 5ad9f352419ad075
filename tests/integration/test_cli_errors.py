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


def leads_won_only_in(period: str) -> pd.DataFrame:
    """150 closed leads over 150 days whose 12 won leads are all among the oldest or newest."""
    frame = generate_leads(3000, 4)
    won, lost = frame[frame["outcome"] == "won"].head(12), frame[frame["outcome"] == "lost"]
    leads = pd.concat([won, lost.head(138)] if period == "oldest" else [lost.head(138), won])
    leads["created_at"] = pd.date_range("2024-01-01", periods=150, freq="D").strftime("%Y-%m-%d")
    return leads


@pytest.mark.parametrize(
    ("period", "part"),
    [("oldest", "newest 20 % (evaluation)"), ("newest", "oldest 80 % (training)")],
)
def test_a_time_split_with_one_outcome_on_a_side_is_refused(export, period, part):
    """It stopped with a traceback from the regression or the bootstrap."""
    frame = leads_won_only_in(period)
    result = run("train", export(frame), *FLAGS, "--time", "created_at", "--id", "lead_id")
    assert_refused(result, f"the {part} of the 150 closed leads holds no won leads")
    assert_nothing_registered()


def test_won_leads_bunched_in_the_oldest_stretch_still_train(export, caplog):
    """Three of the won leads are the newest: the split is fine, but the oldest stretch of the
    training leads holds the other twelve, so a stretch-of-time fold would have none to learn
    from. The folds fall back to random ones and training goes on."""
    frame = leads_won_only_in("oldest")
    newest_won = generate_leads(3000, 5).query("outcome == 'won'").head(3)
    newest_won["created_at"] = ["2024-06-01", "2024-06-02", "2024-06-03"]
    frame = pd.concat([frame, newest_won], ignore_index=True)
    frame["lead_id"] = [f"B{i}" for i in range(len(frame))]
    result = run("train", export(frame), *FLAGS, "--time", "created_at", "--id", "lead_id")
    assert result.exit_code in (0, 3), result.output
    assert "bunched in one stretch of time" in caplog.text


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


def test_rollback_of_a_model_that_does_not_exist_names_it(use_trained_store):
    """It said the model had no previous version, as if it existed."""
    assert_refused(run("rollback", "--model-name", "nosuch"), "no model named 'nosuch'")


def test_stalled_leads_go_to_a_csv_file_only(tmp_path):
    """`-o stalled.parquet` wrote CSV text into the .parquet file."""
    result = run("stalled", "-o", tmp_path / "stalled.parquet")
    assert_refused(result, "stalled leads are written as CSV")
    assert not (tmp_path / "stalled.parquet").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["performance", "--since", "inf"],
        ["performance", "--since", "1e308"],
        ["stalled", "--limit", "100000000000000000000"],
        ["stalled", "--after-days", "1e308"],
        ["score", "leads.parquet", "-o", "out.parquet", "--chunk-rows", "100000000000000000000"],
    ],
)
def test_numbers_beyond_the_apis_bounds_are_refused_as_options(args):
    """They overflowed deep inside (exit 1, a traceback); the API holds them to bounds."""
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "less than or equal to" in result.output
    assert "Traceback" not in result.output
