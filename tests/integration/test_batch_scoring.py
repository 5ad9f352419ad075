"""`leadscore score` in chunks: the same output as scoring the file in one piece, memory bounded
by the chunk size, and nothing under the output's name unless the run completed."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from features.demo import generate_leads
from features.reading import write_table
from leadscore_cli import app
from train.model import LeadModel
from train.registry import load_lead_model
from train.scoring import score_file

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
    assert list(scored.columns) == list(leads.columns) + ["probability", "score", "tier"]
    expected = load_lead_model(CHAMPION).model.predict_frame(leads)
    np.testing.assert_allclose(scored["probability"], expected["probability"], rtol=0, atol=0)
    assert scored["tier"].tolist() == expected["tier"].tolist()


def test_the_model_never_sees_more_than_one_chunk(use_trained_store, new_leads_file, monkeypatch):
    source, leads = new_leads_file(".parquet", rows=5000)
    seen_rows = []
    predict_frame = LeadModel.predict_frame

    def counting(self, frame):
        seen_rows.append(len(frame))
        return predict_frame(self, frame)

    monkeypatch.setattr(LeadModel, "predict_frame", counting)
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
