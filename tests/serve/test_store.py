"""The outcome and score-log store, on SQLite and on PostgreSQL.

PostgreSQL runs when LEADSCORE_TEST_POSTGRES_URL names a database the tests may empty
(`.ci/run` sets one up); otherwise those cases are skipped.
"""

import math
import os
import threading
from datetime import UTC, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from serve.store.database import VERSION_TABLE, StoreError, create_store_engine, upgrade
from serve.store.outcomes import Outcome, record_outcomes
from serve.store.score_log import ScoreLog
from serve.store.snapshots import training_snapshots
from serve.store.tables import metadata, outcomes, score_log

POSTGRES_URL = os.environ.get("LEADSCORE_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    elif POSTGRES_URL:
        url = POSTGRES_URL
    else:
        pytest.skip("LEADSCORE_TEST_POSTGRES_URL is not set (.ci/run sets up PostgreSQL)")
    engine = create_store_engine(url)
    if request.param == "postgresql":
        with engine.begin() as connection:
            metadata.drop_all(connection)
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))
    upgrade(engine)
    yield engine
    engine.dispose()


def rows_of(engine, table):
    with engine.connect() as connection:
        return connection.execute(sa.select(table).order_by(table.c.id)).all()


def test_migrations_apply_once_and_leave_a_version(engine):
    upgrade(engine)
    with engine.connect() as connection:
        version = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))
        assert version.scalar_one() == "0003"
    assert {"score_log", "outcomes"} <= set(sa.inspect(engine).get_table_names())


def test_sqlite_runs_in_wal_mode(tmp_path):
    engine = create_store_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_reposting_is_idempotent_and_changes_are_history(engine):
    closed = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
    lost = Outcome("A", "lost", "Price", 1000.0, closed)
    assert record_outcomes(engine, [lost, Outcome("B", "won")]).stored == 2
    again = record_outcomes(engine, [lost, Outcome("B", "won")])
    assert (again.stored, again.unchanged) == (0, 2)
    assert record_outcomes(engine, [Outcome("A", "won", None, 1200.0, closed)]).stored == 1
    assert record_outcomes(engine, [lost]).stored == 1  # back to lost: a third revision
    history = [(r.lead_id, r.revision, r.outcome) for r in rows_of(engine, outcomes)]
    assert history == [("A", 1, "lost"), ("B", 1, "won"), ("A", 2, "won"), ("A", 3, "lost")]


def test_concurrent_writers_of_the_same_outcome_store_it_once(engine):
    barrier = threading.Barrier(4)
    errors = []

    def post():
        try:
            barrier.wait()
            record_outcomes(engine, [Outcome("C", "won", None, 50.0)])
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert [(r.lead_id, r.revision) for r in rows_of(engine, outcomes)] == [("C", 1)]


def test_score_log_writes_everything_on_close_without_pii(engine):
    log = ScoreLog(engine, flush_seconds=60)
    log.start()
    before = datetime.now(UTC).replace(tzinfo=None)
    log.record(
        [{"lead_id": "A", "industry": "Retail", "email": "a@x.example"}, {"web_visits": 3}],
        ["A", None],
        [0.25, 0.5],
        "7",
        {"email"},
    )
    assert rows_of(engine, score_log) == []
    log.close()
    rows = rows_of(engine, score_log)
    assert [(r.lead_id, r.probability, r.model_version) for r in rows] == [
        ("A", 0.25, "7"),
        (None, 0.5, "7"),
    ]
    assert rows[0].fields == {"lead_id": "A", "industry": "Retail"}
    assert rows[1].fields == {"web_visits": 3}
    assert before <= rows[0].scored_at <= datetime.now(UTC).replace(tzinfo=None)


def test_score_log_keeps_every_value_as_sent_across_statements(engine, monkeypatch):
    """Leads are written as received, in order, however many statements a flush takes."""
    monkeypatch.setattr("serve.store.score_log.STATEMENT_BYTES", 200)
    leads = [
        {
            "lead_id": f"L{i}",
            "note": "Zürich \"big\" 'deal'",
            "visits": i,
            "share": i / 3,
            "demo": i % 2 == 0,
            "budget": None,
        }
        for i in range(40)
    ]
    log = ScoreLog(engine)
    for lead in leads:
        log.record([lead], [lead["lead_id"]], [1 / 7], None, ())
    assert log.flush() == 40
    rows = rows_of(engine, score_log)
    assert [r.fields for r in rows] == leads
    assert [list(r.fields) for r in rows] == [list(lead) for lead in leads]  # field order kept
    assert all(r.probability == 1 / 7 and r.model_version is None for r in rows)


def test_a_row_the_database_refuses_costs_only_its_own_requests_rows(engine):
    log = ScoreLog(engine)
    log.record([{"lead_id": "A"}], ["A"], [0.2], "1", ())
    log.record([{"lead_id": "B"}], ["B"], [math.nan], "1", ())  # no probability: refused
    log.record([{"lead_id": "C"}, {"lead_id": "D"}], ["C", "D"], [0.3, 0.4], "1", ())
    assert log.flush() == 3
    assert [r.lead_id for r in rows_of(engine, score_log)] == ["A", "C", "D"]


def test_snapshots_join_the_first_score_with_the_newest_outcome(engine):
    log = ScoreLog(engine)
    log.record([{"lead_id": "A", "web_visits": 2, "outcome": "open"}], ["A"], [0.2], "1", ())
    log.record([{"lead_id": "B", "web_visits": 5}], ["B"], [0.6], "1", ())
    log.flush()
    log.record([{"lead_id": "A", "web_visits": 9}], ["A"], [0.4], "2", ())
    log.record([{"lead_id": "D", "web_visits": 1}], ["D"], [0.1], "2", ())
    log.flush()
    record_outcomes(engine, [Outcome("A", "lost", "Timing"), Outcome("B", "won", value=10.0)])
    record_outcomes(engine, [Outcome("A", "won", value=700.0)])
    record_outcomes(engine, [Outcome("Z", "won")])  # never scored: nothing to learn from

    snapshots = training_snapshots(engine)
    frame = pd.concat([snapshots.fields, snapshots.scores, snapshots.outcomes], axis=1)
    frame = frame.loc[:, ~frame.columns.duplicated()].set_index("lead_id")
    assert sorted(frame.index) == ["A", "B"]
    assert frame.loc["A", "web_visits"] == 2 and frame.loc["A", "model_version"] == "1"
    assert snapshots.fields.loc[0, "outcome"] == "open"  # the field as the CRM sent it
    assert snapshots.outcomes.loc[0, "outcome"] == "won"  # the outcome posted back
    assert frame.loc["B", "value"] == 10.0
    assert snapshots.outcomes["value"].tolist() == [700.0, 10.0]
    assert snapshots.unscored_outcomes == 1


def test_a_bad_url_is_a_clear_error():
    with pytest.raises(StoreError, match="LEADSCORE_DATABASE_URL"):
        create_store_engine("nonsense://")
    with pytest.raises(StoreError, match="sqlite or postgresql, not mysql"):
        create_store_engine("mysql://user:password@host/leads")
    with pytest.raises(StoreError, match="cannot be migrated"):
        upgrade(create_store_engine("postgresql://nobody:x@127.0.0.1:1/none"))
