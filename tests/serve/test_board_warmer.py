"""The board's default view is computed in the background for the model that serves, once."""

import time

from fastapi.testclient import TestClient

from serve.api.app import create_app
from serve.api.board_warmer import BoardWarmer
from serve.api.settings import Settings


def never(*_):
    raise AssertionError("computed again although it was computed in the background")


def test_the_serving_versions_default_view_is_ready_before_anyone_asks(use_trained_store, tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 's.db'}", board_cache_seconds=600)
    with TestClient(create_app(settings)) as client:
        state = client.app.state
        state.holder.wait_settled(60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the app's own warmer checks every 5 s
            if ("performance", "1", 90) in state.board_cache._entries:
                break
            time.sleep(0.2)
        assert state.board_cache.get(("performance", "1", 90), never).value.model_version == "1"
        assert client.get("/board").status_code == 200


def test_without_a_cache_nothing_is_computed_in_the_background(use_trained_store, tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 's.db'}", board_cache_seconds=0)
    with TestClient(create_app(settings)) as client:
        state = client.app.state
        warmer = BoardWarmer(state.holder, state.store, state.board_cache)
        warmer.start()
        assert warmer._thread is None
