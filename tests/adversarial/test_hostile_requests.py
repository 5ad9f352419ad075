"""Requests crafted to break the API: values JSON allows only by extension (NaN, infinities, a
number too large for a double), lone surrogates, personal data in a refused request, a store
held by another writer. Each answers 4xx or 503, never 500, echoes no personal value, and leaves
no personal value in the server log."""

import json
import os
import signal
import sqlite3
from contextlib import ExitStack

import httpx
import pytest
import sqlalchemy as sa

from serve.store.tables import outcomes
from tests.conftest import start_server
from tests.serve.postgres_schemas import fresh_schema

EMAIL = "pat.doe@private.example"
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e309"]


def post(base: str, path: str, body: str) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    return httpx.post(f"{base}{path}", content=body.encode(), headers=headers, timeout=30)


@pytest.mark.parametrize("number", NON_FINITE)
def test_a_non_finite_number_in_a_lead_is_a_422_naming_lead_and_field(running_server, number):
    body = f'{{"leads": [{{"lead_id": "N1"}}, {{"lead_id": "N2", "web_visits": {number}}}]}}'
    answer = post(running_server, "/v1/score", body)
    assert answer.status_code == 422, answer.text
    assert {tuple(e["loc"][:4]) for e in answer.json()["detail"]} == {
        ("body", "leads", 1, "web_visits")
    }
    assert all("input" not in e for e in answer.json()["detail"])


@pytest.mark.parametrize(
    "created_at",
    ["12345", "1.5e9", '"next Tuesday"', "true", '"23:59"', '"01/02/2024"', '"2024-W05"'],
)
def test_a_created_at_that_is_not_a_date_is_a_422_naming_lead_and_field(running_server, created_at):
    """A number stored as a lead's created-at stopped every later `retrain --from-store`, and an
    epoch number was read as a moment in 1970; a time of day was read as today whenever the
    retrain ran, 01/02/2024 day or month first depending on other leads, and an ISO week date
    passed here but was no date to the retrain."""
    body = (
        '{"leads": [{"lead_id": "T1", "created_at": "2024-05-01T09:30:00Z"}, '
        f'{{"lead_id": "T2", "created_at": {created_at}}}]}}'
    )
    answer = post(running_server, "/v1/score", body)
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["detail"]
    assert problem["loc"][:4] == ["body", "leads", 1, "created_at"], problem
    assert "ISO 8601" in problem["msg"], problem


@pytest.mark.parametrize("number", NON_FINITE)
def test_a_non_finite_number_in_an_outcome_is_a_422(running_server, number):
    body = f'{{"outcomes": [{{"lead_id": "N1", "outcome": "won", "value": {number}}}]}}'
    answer = post(running_server, "/v1/outcomes", body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "outcomes", 0, "value"]


def test_a_list_or_object_as_a_field_value_is_one_error_saying_what_a_value_may_be(
    running_server,
):
    """Pydantic reported such a value once per type it tried (string_type, int_type,
    float_type, bool_type): four errors for one field, none saying what would do."""
    body = '{"leads": [{"lead_id": "V1", "web_visits": [1, 2]}, {"lead_id": "V2", "x": {}}]}'
    answer = post(running_server, "/v1/score", body)
    assert answer.status_code == 422, answer.text
    problems = answer.json()["detail"]
    assert [p["loc"] for p in problems] == [
        ["body", "leads", 0, "web_visits"],
        ["body", "leads", 1, "x"],
    ], problems
    assert problems[0]["msg"].endswith("text, a number, true, false or null, not a list")
    assert problems[1]["msg"].endswith("not an object")
    assert all("input" not in p for p in problems)


def test_an_absurd_deal_value_is_a_422(running_server):
    """A deal value of 1e308 was stored, and the revenue it was summed into overflowed (null in
    /v1/performance, a 300-digit number on the board)."""
    body = '{"outcomes": [{"lead_id": "A1", "outcome": "won", "value": 1e308}]}'
    answer = post(running_server, "/v1/outcomes", body)
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["body", "outcomes", 0, "value"], problem
    assert "less than or equal to" in problem["msg"], problem


def test_a_numeric_lead_id_scored_can_be_given_its_outcome(running_server):
    """/v1/score took a numeric lead id and logged it as text; /v1/outcomes refused the same
    number (422, not a string), so a CRM with numeric ids could never close its loop."""
    scored = post(running_server, "/v1/score", '{"leads": [{"lead_id": 987654321}]}')
    assert scored.status_code == 200, scored.text
    body = '{"outcomes": [{"lead_id": 987654321, "outcome": "won"}]}'
    recorded = post(running_server, "/v1/outcomes", body)
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["unmatched"] == 0, recorded.text


@pytest.mark.parametrize("field", ["lead_id", "loss_reason"])
def test_a_lone_surrogate_in_an_outcome_is_a_422(running_server, field):
    outcome = {"lead_id": "S1", "outcome": "lost", field: "\\ud800"}
    body = "{" + ", ".join(f'"{k}": "{v}"' for k, v in outcome.items()) + "}"
    answer = post(running_server, "/v1/outcomes", f'{{"outcomes": [{body}]}}')
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["body", "outcomes", 0, field] and "unicode" in problem["msg"]


def test_a_refused_request_echoes_no_personal_value_and_logs_none(trained_model, tmp_path):
    server = start_server(tmp_path, {"MLFLOW_TRACKING_URI": trained_model.tracking_uri})
    bodies = [
        f'{{"leads": [{{"contact_email": ["{EMAIL}"], "web_visits": NaN}}]}}',
        f'{{"leads": [{{"Contact_Email": {{"work": "{EMAIL}"}}, "web_visits": 3}}]}}',
        f'{{"leads": [{{"CONTACT-EMAIL": "{EMAIL}", "web_visits": 1e309}}]}}',
    ]
    try:
        answers = [post(server.base, "/v1/score", body) for body in bodies]
    finally:
        server.stop()
    assert [answer.status_code for answer in answers] == [422, 422, 422]
    assert not any(EMAIL in answer.text for answer in answers)
    assert EMAIL not in server.output() and "Traceback" not in server.output()


def test_personal_fields_are_kept_out_of_the_score_log_whatever_their_spelling(
    trained_model, tmp_path
):
    database = tmp_path / "store.db"
    env = {
        "MLFLOW_TRACKING_URI": trained_model.tracking_uri,
        "LEADSCORE_DATABASE_URL": f"sqlite:///{database}",
    }
    server = start_server(tmp_path, env)
    spellings = ["contact_email", "Contact_Email", "CONTACT-EMAIL", "contact email", "ContactName"]
    lead = {"lead_id": "P1", "web_visits": 3} | {name: EMAIL for name in spellings}
    try:
        assert httpx.post(f"{server.base}/v1/score", json={"leads": [lead]}).status_code == 200
    finally:
        server.stop()  # a clean shutdown writes the score log
    with sa.create_engine(f"sqlite:///{database}").connect() as connection:
        [fields] = connection.execute(sa.text("SELECT fields FROM score_log")).scalars()
    assert EMAIL not in str(fields) and "web_visits" in str(fields)


def test_a_store_held_by_another_writer_is_a_503_and_nothing_is_half_stored(
    trained_model, tmp_path
):
    database = tmp_path / "store.db"
    env = {
        "MLFLOW_TRACKING_URI": trained_model.tracking_uri,
        "LEADSCORE_DATABASE_URL": f"sqlite:///{database}",
        "LEADSCORE_STORE_BUSY_TIMEOUT_SECONDS": "0.5",
    }
    server = start_server(tmp_path, env)
    batch = {"outcomes": [{"lead_id": f"W{i}", "outcome": "won"} for i in range(3)]}
    try:
        other_writer = sqlite3.connect(database, isolation_level=None)
        other_writer.execute("BEGIN EXCLUSIVE")
        busy = httpx.post(f"{server.base}/v1/outcomes", json=batch, timeout=30)
        other_writer.execute("ROLLBACK")
        other_writer.close()
        with sa.create_engine(f"sqlite:///{database}").connect() as connection:
            stored_while_busy = connection.execute(sa.select(sa.func.count()).select_from(outcomes))
            stored_while_busy = stored_while_busy.scalar_one()
        again = httpx.post(f"{server.base}/v1/outcomes", json=batch, timeout=30)
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
    finally:
        server.stop()
    assert busy.status_code == 503 and busy.headers["Retry-After"].isdigit(), busy.text
    assert stored_while_busy == 0
    assert again.status_code == 200 and again.json()["stored"] == 3
    assert "Traceback" not in server.output()


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_lead_id_longer_than_the_store_keeps_is_a_422_and_nothing_of_its_request_is_logged(
    trained_model, tmp_path, store
):
    """The store keeps lead ids of up to 255 characters (outcomes refuse longer ones): a longer
    id in a batch to score is refused before anything is written, not left to fail the score
    log's insert of every lead in the batch."""
    with ExitStack() as stack:
        url = (
            f"sqlite:///{tmp_path / 'store.db'}"
            if store == "sqlite"
            else stack.enter_context(fresh_schema("long_ids"))
        )
        env = {"MLFLOW_TRACKING_URI": trained_model.tracking_uri, "LEADSCORE_DATABASE_URL": url}
        server = start_server(tmp_path, env)
        stack.callback(server.stop)
        long_id = "L" * 256
        body = json.dumps({"leads": [{"lead_id": "OK-1"}, {"lead_id": long_id}]})
        refused = post(server.base, "/v1/score", body)
        assert refused.status_code == 422, refused.text
        [problem] = refused.json()["detail"]
        assert problem["loc"][:4] == ["body", "leads", 1, "lead_id"], problem
        assert "255" in problem["msg"]
        answer = post(server.base, "/v1/score", json.dumps({"leads": [{"lead_id": "OK-2"}]}))
        assert answer.status_code == 200, answer.text
        outcomes = [{"lead_id": lead, "outcome": "won"} for lead in ("OK-1", "OK-2")]
        recorded = post(server.base, "/v1/outcomes", json.dumps({"outcomes": outcomes}))
        assert recorded.status_code == 200, recorded.text
        assert recorded.json()["unmatched"] == 1, recorded.text  # OK-1 came with the long id
        assert "Traceback" not in server.output()
