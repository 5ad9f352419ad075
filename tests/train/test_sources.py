"""Training data from an export and the store: fingerprints, store rows in export terms,
duplicates resolved by lead id with the store's newest outcome winning."""

import pandas as pd

from features.contract import LeadContract
from features.demo import generate_leads
from features.reading import write_table
from train.sources import read_training_data

CONTRACT = LeadContract(
    id="lead_id", target="outcome", positive=("won",), negative=("lost",), open=("open",),
    time="created_at",
)  # fmt: skip


def test_the_fingerprint_ignores_row_and_column_order_but_not_outcomes(tmp_path):
    frame = generate_leads(400, seed=1)
    first, shuffled, changed = (tmp_path / f"{n}.csv" for n in ("first", "shuffled", "changed"))
    write_table(frame, first)
    write_table(frame.sample(frac=1, random_state=0)[frame.columns[::-1]], shuffled)
    flipped = frame.copy()
    row = flipped.index[flipped["outcome"] == "lost"][0]
    flipped.loc[row, "outcome"] = "won"
    write_table(flipped, changed)

    fingerprint = read_training_data(CONTRACT, first).fingerprint
    assert read_training_data(CONTRACT, shuffled).fingerprint == fingerprint
    assert read_training_data(CONTRACT, changed).fingerprint != fingerprint


def test_store_rows_join_the_export_and_their_outcome_wins(tmp_path):
    frame = generate_leads(400, seed=2)
    path = tmp_path / "leads.csv"
    write_table(frame, path)
    lead = frame.loc[frame["outcome"] == "open"].iloc[0]
    store = pd.DataFrame(
        [
            {
                **lead.drop(["outcome", "lead_id", "created_at"]).to_dict(),
                "lead_id": lead["lead_id"],
                "scored_at": pd.Timestamp("2026-01-01"),
                "model_version": "1",
                "outcome": "won",
                "loss_reason": None,
                "value": 5000.0,
                "closed_at": pd.Timestamp("2026-02-01"),
            }
        ]
    )

    data = read_training_data(CONTRACT, path, store)

    assert data.sources == {"export": 400, "store": 1}
    assert data.duplicates == 1
    row = data.frame.loc[data.frame["lead_id"] == lead["lead_id"]]
    assert row["outcome"].tolist() == ["won"]
    assert row["created_at"].astype(str).tolist() == ["2026-01-01 00:00:00"]
    described = data.describe(CONTRACT)
    assert described.classes.open == int((frame["outcome"] == "open").sum()) - 1
