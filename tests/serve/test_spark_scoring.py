"""`leadscore score --engine spark`: Spark runs the registered model as an MLflow pyfunc UDF and
gives the same scores as the in-process path."""

import pandas as pd
import pytest
from typer.testing import CliRunner

from features.demo import generate_leads
from features.errors import DataError
from leadscore_cli import app
from serve.batch.file_scoring import score_file

CHAMPION = "models:/leadscore@champion"


@pytest.mark.slow
def test_spark_and_in_process_scores_agree(use_trained_store, tmp_path):
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install '.[spark]')")
    from serve.batch.spark_scoring import SparkUnavailableError, score_with_spark

    leads = generate_leads(600, seed=31)
    source = tmp_path / "leads.parquet"
    leads.to_parquet(source, index=False)
    in_process, on_spark = tmp_path / "in_process.parquet", tmp_path / "spark.parquet"
    score_file(source, in_process, CHAMPION)
    try:
        rows = score_with_spark(source, on_spark, CHAMPION, master="local[2]")
    except SparkUnavailableError as exc:
        pytest.skip(f"Spark cannot start here: {exc}")
    assert rows == len(leads)
    expected = pd.read_parquet(in_process)
    scored = pd.read_parquet(on_spark)
    assert list(scored.columns) == list(expected.columns)
    both = expected.merge(scored, on="lead_id", suffixes=("", "_spark"), validate="1:1")
    assert len(both) == len(leads)
    assert (both["probability"] - both["probability_spark"]).abs().max() <= 1e-9
    # Each lead's own deal value reaches the UDF, as it reaches the in-process path.
    assert (both["expected_value"] - both["expected_value_spark"]).abs().max() <= 1e-6
    assert both["tier"].equals(both["tier_spark"]) and both["score"].equals(both["score_spark"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "in_process.parquet",
        "leads.parquet",
        "spark.parquet",
    ]


@pytest.mark.slow
def test_spark_reads_an_odd_export_as_the_in_process_path_does(use_trained_store, tmp_path, caplog):
    """A name with stray spaces, numbers held as text, infinities and a negative deal value:
    Spark dropped the field silently and failed on the rest (MLflow refuses text for a double
    field, the model an infinity or a negative deal value)."""
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install '.[spark]')")
    from serve.batch.spark_scoring import SparkUnavailableError, score_with_spark

    leads = generate_leads(200, seed=32).rename(columns={"web_visits": " web_visits "})
    leads[" web_visits "] = leads[" web_visits "].astype(float)
    leads.loc[9, " web_visits "] = float("inf")
    leads["email_opens"] = leads["email_opens"].astype(str)
    leads.loc[7, "email_opens"] = "many"
    leads.loc[8, "email_opens"] = " "  # blank: missing, not unreadable
    leads.loc[[3, 4], "deal_value"] = [float("inf"), -5.0]
    source = tmp_path / "leads.parquet"
    leads.to_parquet(source, index=False)
    in_process, on_spark = tmp_path / "in_process.parquet", tmp_path / "spark.parquet"
    score_file(source, in_process, CHAMPION)
    caplog.clear()
    try:
        score_with_spark(source, on_spark, CHAMPION, master="local[2]")
    except SparkUnavailableError as exc:
        pytest.skip(f"Spark cannot start here: {exc}")
    expected, scored = pd.read_parquet(in_process), pd.read_parquet(on_spark)
    assert list(scored.columns) == list(expected.columns)
    assert "web_visits" in scored.columns
    both = expected.merge(scored, on="lead_id", suffixes=("", "_spark"), validate="1:1")
    assert (both["probability"] - both["probability_spark"]).abs().max() <= 1e-9
    assert (both["expected_value"] - both["expected_value_spark"]).abs().max() <= 1e-6
    assert "2 values could not be read and were scored as missing (fields: email_opens, " in (
        caplog.text
    )
    assert "2 values of deal_value are not numbers from 0 to a trillion" in caplog.text


@pytest.mark.slow
def test_spark_refuses_and_warns_as_the_in_process_path_does(use_trained_store, tmp_path, caplog):
    """A header-only file was scored as 0 leads and a missing field went unmentioned."""
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install '.[spark]')")
    from serve.batch.spark_scoring import SparkUnavailableError, score_with_spark

    leads = generate_leads(50, seed=33).rename(columns={"web_visits": "WEB_VISITS"})
    header_only, renamed = tmp_path / "header_only.parquet", tmp_path / "renamed.parquet"
    leads.head(0).to_parquet(header_only, index=False)
    leads.to_parquet(renamed, index=False)
    try:
        with pytest.raises(DataError, match="has a header but no rows"):
            score_with_spark(header_only, tmp_path / "none.parquet", CHAMPION, master="local[2]")
        score_with_spark(renamed, tmp_path / "scored.parquet", CHAMPION, master="local[2]")
    except SparkUnavailableError as exc:
        pytest.skip(f"Spark cannot start here: {exc}")
    assert "are not in the file and are scored as missing for every lead: web_visits" in (
        caplog.text
    )
    assert not (tmp_path / "none.parquet").exists()


def test_spark_engine_refuses_csv(use_trained_store, tmp_path):
    source = tmp_path / "leads.csv"
    generate_leads(50, seed=1).to_csv(source, index=False)
    args = ["score", str(source), "-o", str(tmp_path / "out.parquet"), "--engine", "spark"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "the spark engine reads and writes Parquet" in result.stderr
