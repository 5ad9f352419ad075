"""The board's figures cache: fresh figures kept, stale ones shown while refreshed, one build
for simultaneous first views."""

import threading
import time

from serve.api.board_cache import FiguresCache


def counter():
    calls = []

    def build():
        calls.append(1)
        time.sleep(0.05)
        return len(calls)

    return calls, build


def test_a_fresh_figure_is_built_once():
    calls, build = counter()
    cache = FiguresCache(60)
    assert cache.get("k", build).value == 1
    assert cache.get("k", build).value == 1
    assert len(calls) == 1


def test_simultaneous_first_views_wait_for_one_build():
    calls, build = counter()
    cache = FiguresCache(60)
    seen = []
    threads = [
        threading.Thread(target=lambda: seen.append(cache.get("k", build).value)) for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [1] * 5 and len(calls) == 1


def test_a_stale_figure_is_shown_and_refreshed_in_the_background():
    calls, build = counter()
    cache = FiguresCache(0.1)
    first = cache.get("k", build)
    time.sleep(0.15)
    stale = cache.get("k", build)
    assert stale.value == 1 and stale.built_at == first.built_at  # shown at once
    deadline = time.monotonic() + 5
    while cache.get("k", build).value == 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    refreshed = cache.get("k", build)
    assert refreshed.value == 2 and refreshed.built_at > first.built_at


def test_zero_seconds_builds_every_time_and_keys_are_apart():
    calls, build = counter()
    cache = FiguresCache(0)
    assert [cache.get("k", build).value for _ in range(3)] == [1, 2, 3]
    kept = FiguresCache(60, max_entries=2)
    for key in ("a", "b", "c"):
        kept.get(key, lambda key=key: key)
    assert kept.get("a", lambda: "again").value == "again"  # the oldest was dropped
