"""Training data from an export and the store: fingerprints, store rows in export terms,
duplicates resolved by lead id with the store's newest outcome winning."""

import tomllib

import pandas as pd

from features.contract import LeadContract
from features.demo import CONTRACT_TOML, generate_leads
from features.reading import write_table
from serve.store.snapshots import Snapshots
from train.sources import read_training_data, store_as_export

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


def snapshots_of(rows: list[dict], unscored: int = 0) -> Snapshots:
    """Store snapshots as `training_snapshots` returns them: fields as sent, first score,
    newest outcome."""
    scores = ["lead_id", "scored_at", "model_version"]
    outcomes = ["outcome", "loss_reason", "value", "closed_at"]
    return Snapshots(
        fields=pd.DataFrame([row["fields"] for row in rows]),
        scores=pd.DataFrame([{c: row[c] for c in scores} for row in rows]),
        outcomes=pd.DataFrame([{c: row.get(c) for c in outcomes} for row in rows]),
        unscored_outcomes=unscored,
    )


def test_store_rows_join_the_export_and_their_outcome_wins(tmp_path):
    frame = generate_leads(400, seed=2)
    path = tmp_path / "leads.csv"
    write_table(frame, path)
    lead = frame.loc[frame["outcome"] == "open"].iloc[0]
    fields = lead.drop(["outcome", "created_at"]).to_dict()
    store = snapshots_of(
        [
            {
                "fields": fields,
                "lead_id": lead["lead_id"],
                "scored_at": pd.Timestamp("2026-01-01"),
                "model_version": "1",
                "outcome": "won",
                "value": 5000.0,
            }
        ],
        unscored=2,
    )

    data = read_training_data(CONTRACT, path, store)

    assert data.sources == {"export": 400, "store": 1}
    assert data.duplicates == 1
    assert data.describe(CONTRACT).unused_outcomes == {"no scored lead": 2}
    row = data.frame.loc[data.frame["lead_id"] == lead["lead_id"]]
    assert row["outcome"].tolist() == ["won"]
    assert row["created_at"].astype(str).tolist() == ["2026-01-01 00:00:00"]
    described = data.describe(CONTRACT)
    assert described.classes.open == int((frame["outcome"] == "open").sum()) - 1


def test_a_lead_field_named_like_an_outcome_column_yields_to_what_sales_reported():
    demo = LeadContract.from_dict(tomllib.loads(CONTRACT_TOML))
    sent = {"industry": "Software", "deal_value": 100.0, "loss_reason": "sent", "outcome": "open"}
    rows = [
        # sales reported a value and a reason: they win over what the CRM sent when scoring
        {"lead_id": "A", "outcome": "lost", "value": 900.0, "loss_reason": "Price"},
        # nothing reported: what was sent at score time stands, but a won deal has no loss reason
        {"lead_id": "B", "outcome": "won"},
        {"lead_id": "C", "outcome": "lost"},
    ]
    times = [{"created_at": "2025-03-01 09:00:00"}, {}, {}]  # only A sent its created-at time
    store = snapshots_of(
        [
            {
                **row,
                "fields": {**sent, **time_sent, "lead_id": row["lead_id"]},
                "scored_at": pd.Timestamp("2026-05-01 10:00:00"),
                "model_version": "1",
            }
            for row, time_sent in zip(rows, times, strict=True)
        ]
    )

    frame = store_as_export(store, demo).set_index("lead_id")

    assert frame.columns.is_unique
    assert frame.loc["A", "deal_value"] == 900.0 and frame.loc["B", "deal_value"] == 100.0
    assert frame.loc["A", "loss_reason"] == "Price" and frame.loc["C", "loss_reason"] == "sent"
    assert pd.isna(frame.loc["B", "loss_reason"])
    assert frame["outcome"].tolist() == ["lost", "won", "lost"]
    assert frame.loc["A", "created_at"] == "2025-03-01 09:00:00"
    assert frame.loc["B", "created_at"] == "2026-05-01 10:00:00"
    assert frame["contact_name"].isna().all()  # PII the server stripped: simply missing
