"""`leadscore score` in chunks: the same output as scoring the file in one piece, memory bounded
by the chunk size, nothing under the output's name unless the run completed, and the related
tables of a model trained on joined tables joined onto every chunk."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from features.contract import load_contract
from features.demo import generate_leads, write_demo
from features.reading import write_table
from leadscore_cli import app
from serve.batch.file_scoring import score_file
from serve.model.lead_model import LeadModel
from serve.model.loading import load_lead_model
from serve.model.scorer import score_leads
from train.pipeline import train_from_file

CHAMPION = "models:/leadscore@champion"


@pytest.fixture
def new_leads_file(tmp_path):
    def make(suffix: str, rows: int = 2500):
        path = tmp_path / f"new{suffix}"
        leads = generate_leads(rows, seed=21)
        write_table(leads, path)
        return path, leads

    return make


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_chunked_scoring_equals_one_shot_scoring(use_trained_store, new_leads_file, suffix):
    source, leads = new_leads_file(suffix)
    chunked, whole = source.with_name(f"chunked{suffix}"), source.with_name(f"whole{suffix}")
    assert score_file(source, chunked, CHAMPION, chunk_rows=600) == len(leads)
    assert score_file(source, whole, CHAMPION, chunk_rows=100_000) == len(leads)
    if suffix == ".csv":
        assert chunked.read_bytes() == whole.read_bytes()
    scored = pd.read_csv(chunked) if suffix == ".csv" else pd.read_parquet(chunked)
    score_columns = ["probability", "score", "tier", "expected_value"]
    assert list(scored.columns) == list(leads.columns) + score_columns
    model = load_lead_model(CHAMPION).model
    expected = score_leads(model, leads, unreadable="missing").to_frame(leads.index)
    for column in ("probability", "expected_value"):
        np.testing.assert_allclose(scored[column], expected[column], rtol=0, atol=0)
    assert scored["tier"].tolist() == expected["tier"].tolist()


def test_fields_empty_in_the_first_chunk_score_as_in_one_piece(use_trained_store, tmp_path):
    """A model field empty for the whole first chunk and filled later scores as it does when
    the file is scored in one piece (the first chunk's empty column used to fix its type)."""
    leads = generate_leads(1200, seed=22)
    leads.loc[:599, ["industry", "web_visits", "loss_reason"]] = None
    source = tmp_path / "new.csv"
    write_table(leads, source)
    chunked, whole = tmp_path / "chunked.csv", tmp_path / "whole.csv"
    assert score_file(source, chunked, CHAMPION, chunk_rows=600) == len(leads)
    score_file(source, whole, CHAMPION, chunk_rows=100_000)
    scored, expected = pd.read_csv(chunked), pd.read_csv(whole)
    np.testing.assert_allclose(scored["probability"], expected["probability"], rtol=0, atol=0)


def test_the_model_never_sees_more_than_one_chunk(use_trained_store, new_leads_file, monkeypatch):
    source, leads = new_leads_file(".parquet", rows=5000)
    seen_rows = []
    probabilities = LeadModel.probabilities

    def counting(self, matrix):
        seen_rows.append(len(matrix))
        return probabilities(self, matrix)

    monkeypatch.setattr(LeadModel, "probabilities", counting)
    progress = []
    out = source.with_name("scored.parquet")
    score_file(source, out, CHAMPION, chunk_rows=1000, progress=lambda *r: progress.append(r))
    assert seen_rows == [1000] * 5
    assert [rows for rows, _ in progress] == [1000, 2000, 3000, 4000, 5000]
    assert progress[-1][1] == 1.0
    assert pq.ParquetFile(out).metadata.num_row_groups == 5


def test_an_interrupted_scoring_leaves_no_output(use_trained_store, new_leads_file):
    source, _ = new_leads_file(".csv")
    out = source.with_name("scored.csv")

    def interrupt(rows: int, share: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        score_file(source, out, CHAMPION, chunk_rows=500, progress=interrupt)
    assert sorted(p.name for p in source.parent.iterdir()) == [source.name]


def test_a_scored_file_can_be_scored_again(use_trained_store, new_leads_file):
    source, leads = new_leads_file(".parquet", rows=300)
    once, twice = source.with_name("once.parquet"), source.with_name("twice.parquet")
    score_file(source, once, CHAMPION)
    score_file(once, twice, CHAMPION)
    pd.testing.assert_frame_equal(pd.read_parquet(once), pd.read_parquet(twice))


def test_cli_scores_in_chunks(use_trained_store, new_leads_file):
    source, leads = new_leads_file(".csv", rows=700)
    out = source.with_name("scored.parquet")
    result = CliRunner().invoke(app, ["score", str(source), "-o", str(out), "--chunk-rows", "300"])
    assert result.exit_code == 0, result.output
    assert "scored 700 leads" in result.output
    assert pq.ParquetFile(out).metadata.num_row_groups == 3


def test_a_file_without_the_models_fields_is_refused_and_absent_fields_are_named(
    use_trained_store, new_leads_file, caplog
):
    """A file of other columns was scored with one probability for every lead, silently."""
    source, leads = new_leads_file(".csv", rows=300)
    other = source.with_name("other.csv")
    pd.DataFrame({"id": [1, 2], "foo": [2, 3]}).to_csv(other, index=False)
    refused = CliRunner().invoke(app, ["score", str(other), "-o", str(other.with_name("o.csv"))])
    assert refused.exit_code == 2, refused.output
    assert "none of the" in refused.output and "fields the model reads" in refused.output
    assert not other.with_name("o.csv").exists()
    partial = source.with_name("partial.csv")
    leads.drop(columns=["web_visits", "industry"]).to_csv(partial, index=False)
    result = CliRunner().invoke(app, ["score", str(partial), "-o", str(source.with_name("p.csv"))])
    assert result.exit_code == 0, result.output
    assert "2 of the" in caplog.text and "industry, web_visits" in caplog.text


def test_columns_named_otherwise_only_in_case_or_accents_are_pointed_at(
    use_trained_store, new_leads_file, caplog
):
    """An export tool that wrote 'Web Visits' for the model's web_visits (or an accent as a
    combining mark) had its column scored as missing, and the warning named a field that
    looked present."""
    source, leads = new_leads_file(".csv", rows=300)
    renamed = source.with_name("renamed.csv")
    leads.rename(columns={"web_visits": "Web Visits", "industry": "INDUSTRY"}).to_csv(
        renamed, index=False
    )
    out = source.with_name("r.csv")
    result = CliRunner().invoke(app, ["score", str(renamed), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "'INDUSTRY' is not 'industry', 'Web Visits' is not 'web_visits'" in caplog.text
    assert "rename the columns" in caplog.text


@pytest.fixture
def joined_model(tmp_path, monkeypatch):
    """A model trained on the demo export joined with a table of company sizes. The lead's own
    company_size is not a feature, so what the model knows of size comes through the join; the
    table's `industry` clashes with the leads' and is learnt as `sizes_industry`."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    data = tmp_path / "leads.csv"
    contract = write_demo(data, 1500, seed=5)
    sizes = pd.DataFrame(
        {
            "company_size": ["1-10", "11-50", "51-200", "201-1000", "1000+"],
            "segment": ["micro", "small", "mid", "large", "enterprise"],
            "industry": ["tiny", "tiny", "sized", "sized", "sized"],
        }
    )
    sizes.to_csv(tmp_path / "sizes.csv", index=False)
    contract.write_text(
        contract.read_text()
        + 'drop = ["company_size"]\n[tables.sizes]\npath = "sizes.csv"\non = "company_size"\n'
    )
    result = train_from_file(data, load_contract(contract))
    model = load_lead_model(result.model_uri).model
    assert {"segment", "sizes_industry"} <= set(model.encoder.feature_names)
    assert "company_size" not in model.encoder.feature_names
    return result.model_uri, model, sizes


def test_a_model_trained_on_joined_tables_joins_them_when_scoring(joined_model, tmp_path):
    uri, model, sizes = joined_model
    # the CRM's new leads: no outcome yet, and here no industry either, so the table's
    # `industry` must still be named as in training, not take the place of the leads' own
    new = generate_leads(400, seed=8).drop(columns=["outcome", "industry"])
    source, out = tmp_path / "new.csv", tmp_path / "scored.csv"
    write_table(new, source)
    result = CliRunner().invoke(app, ["score", str(source), "-o", str(out), "--model", uri])
    assert result.exit_code == 0, result.output

    scored = pd.read_csv(out)
    assert model.contract.value == "deal_value"
    score_columns = ["probability", "score", "tier", "expected_value"]
    assert list(scored.columns) == list(new.columns) + score_columns
    joined = new.merge(
        sizes.rename(columns={"industry": "sizes_industry"}), on="company_size", how="left"
    )
    expected = score_leads(model, joined, unreadable="missing").probability
    np.testing.assert_allclose(scored["probability"], expected, rtol=0, atol=1e-12)
    unjoined = score_leads(model, new, unreadable="missing").probability
    assert not np.allclose(unjoined, expected)  # the join counts


def test_scoring_joins_the_tables_of_another_contract_and_refuses_spark(joined_model, tmp_path):
    uri, model, sizes = joined_model
    new = generate_leads(300, seed=9).drop(columns=["outcome"])
    source = tmp_path / "new.parquet"
    write_table(new, source)
    (tmp_path / "other").mkdir()
    other_sizes = sizes.assign(segment="micro")
    other_sizes.to_csv(tmp_path / "other" / "sizes.csv", index=False)
    other = tmp_path / "other" / "contract.toml"
    other.write_text('[tables.sizes]\npath = "sizes.csv"\non = "company_size"\n')

    scores = {}
    for name, args in [("trained", []), ("other", ["--config", str(other)])]:
        out = tmp_path / f"{name}.parquet"
        command = ["score", str(source), "-o", str(out), "--model", uri, *args]
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 0, result.output
        scores[name] = pd.read_parquet(out)["probability"].to_numpy()
    joined = new.merge(
        other_sizes.rename(columns={"industry": "sizes_industry"}), on="company_size", how="left"
    )
    expected = score_leads(model, joined, unreadable="missing").probability
    np.testing.assert_allclose(scores["other"], expected, rtol=0, atol=1e-12)
    assert not np.allclose(scores["trained"], scores["other"])

    command = ["score", str(source), "-o", str(tmp_path / "s.parquet"), "--model", uri]
    spark = CliRunner().invoke(app, [*command, "--engine", "spark"])
    assert spark.exit_code == 2
    assert "joined tables (sizes)" in spark.stderr and "--engine pandas" in spark.stderr
