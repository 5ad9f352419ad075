"""Who may see the board and what a read-only key may do, through the app: sign in once for a
signed, expiring session cookie; read-only keys read and never post."""

import json

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer

from features.errors import SettingError
from serve.api.app import create_app
from serve.api.board_access import SALT, SESSION_COOKIE
from serve.api.settings import Settings, load_settings

KEY, READER = "board-full-key", "board-reader-key"
SECRET = "s3cr3t-4-sessions-0f-the-b0ard-Qz7Kp2"
FORM = {"content-type": "application/x-www-form-urlencoded"}
LEAD = {"lead_id": "R1", "web_visits": 3}


@pytest.fixture
def client(use_trained_store, tmp_path):
    settings = Settings(
        api_keys=KEY,
        read_only_keys=READER,
        session_secret=SECRET,
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        board_cache_seconds=0,
    )
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        client.app.state.holder.wait_settled(60)
        yield client


def sign_in(client, key):
    return client.post("/board/sign-in", content=f"key={key}", headers=FORM, follow_redirects=False)


def test_nothing_of_the_board_without_a_key(client):
    for path in ("/board", "/board?window=30", "/board/stalled.csv"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/board/sign-in"
    assert client.get("/board/sign-in").status_code == 200
    assert sign_in(client, "wrong").status_code == 401
    assert SESSION_COOKIE not in client.cookies


def test_sign_in_sets_a_safe_session_and_sign_out_ends_it(client):
    answer = sign_in(client, READER)
    assert answer.status_code == 303 and answer.headers["location"] == "/board"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/board" in cookie
    assert "Max-Age=43200" in cookie and "Secure" not in cookie  # plain http here
    assert READER not in cookie
    page = client.get("/board")
    assert page.status_code == 200 and "Sign out" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    out = client.post("/board/sign-out", follow_redirects=False)
    assert out.status_code == 303 and 'leadscore_board=""' in out.headers["set-cookie"]
    assert client.get("/board", follow_redirects=False).status_code == 303


def test_a_session_behind_https_is_secure(use_trained_store, tmp_path):
    settings = Settings(
        api_keys=KEY, session_secret=SECRET, database_url=f"sqlite:///{tmp_path / 's.db'}"
    )
    with TestClient(create_app(settings), base_url="https://board.example") as client:
        assert "Secure" in sign_in(client, KEY).headers["set-cookie"]


def test_a_forged_or_expired_session_is_refused(client):
    forged = URLSafeTimedSerializer("another-secret-of-some-length-000000", salt=SALT)
    digest = __import__("hashlib").sha256(KEY.encode()).hexdigest()
    client.cookies.set(SESSION_COOKIE, forged.dumps(digest), path="/board")
    assert client.get("/board", follow_redirects=False).status_code == 303
    client.app.state.board_access.max_age = -1  # every session has expired
    client.cookies.clear()
    sign_in(client, KEY)
    assert client.get("/board", follow_redirects=False).status_code == 303


def test_a_read_only_key_reads_and_never_posts(client):
    reader = {"X-API-Key": READER}
    assert client.get("/v1/performance", headers=reader).status_code == 200
    assert client.get("/v1/model", headers=reader).status_code == 200
    outcome = {"outcomes": [{"lead_id": "R1", "outcome": "won"}]}
    refused = client.post("/v1/outcomes", json=outcome, headers=reader)
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
    assert client.post("/v1/score", json={"leads": [LEAD]}, headers=reader).status_code == 403
    assert client.post("/v1/outcomes", json=outcome, headers={"X-API-Key": KEY}).status_code == 200
    assert client.get("/board", headers=reader).status_code == 200  # the key in a header works too


def test_a_session_does_not_open_the_api(client):
    sign_in(client, KEY)
    assert client.get("/v1/performance").status_code == 401


def test_without_a_secret_nobody_signs_in_and_a_placeholder_is_refused(use_trained_store, tmp_path):
    settings = Settings(api_keys=KEY, database_url=f"sqlite:///{tmp_path / 's.db'}")
    with TestClient(create_app(settings)) as client:
        answer = sign_in(client, KEY)
        assert answer.status_code == 503 and "LEADSCORE_SESSION_SECRET" in answer.text
    for secret in ("changethis", "my-secret-is-long-enough-but-a-placeholder", "short"):
        with pytest.raises(SettingError, match="LEADSCORE_SESSION_SECRET looks like a placeholder"):
            load_settings(api_keys=KEY, session_secret=secret)
    with pytest.raises(SettingError, match="LEADSCORE_API_KEYS is empty"):
        load_settings(read_only_keys=READER)


def test_without_keys_the_board_is_open_as_the_api_is(use_trained_store, tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 's.db'}")
    with TestClient(create_app(settings)) as client:
        client.app.state.holder.wait_settled(60)
        assert client.get("/board").status_code == 200
        assert client.get("/board/sign-in", follow_redirects=False).status_code == 303


def test_filters_outside_the_choices_are_refused(client):
    sign_in(client, KEY)
    answer = client.get("/board?window=45")
    assert answer.status_code == 422
    assert json.loads(answer.text)["detail"][0]["loc"] == ["query", "window"]
    unknown = client.get("/board?source=Nope")
    assert unknown.status_code == 422, unknown.text
    assert json.loads(unknown.text)["detail"][0]["loc"] == ["query", "source"]
    assert client.get("/board?source=Referral").status_code == 200  # a source the model learnt
