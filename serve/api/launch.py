"""Starting the API as `leadscore serve` does: settings and store checked first, then uvicorn with
one or several worker processes.

Every worker builds its own app from the `LEADSCORE_*` variables (the command's options are
written there first), with its own model holder polling the same alias and its own score-log
writer. With several workers, their metrics go to a fresh folder (`PROMETHEUS_MULTIPROC_DIR`)
that a scrape of any worker adds up, removed when the server stops.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from serve.api.prometheus import MULTIPROCESS_DIR
from serve.api.server_logs import logging_config
from serve.api.settings import load_settings
from serve.model.tracking import bound_registry_requests
from serve.store.database import open_store

APP_FACTORY = "serve.api.app:create_app"


def serve_api(workers: int = 1, **overrides: Any) -> None:
    """Run the API until it is stopped. A bad setting or store raises (SettingError,
    StoreError) before anything starts."""
    settings = load_settings(**overrides)
    open_store(settings.database_url).dispose()  # a bad store URL: one line, before the workers
    bound_registry_requests(settings.registry_timeout_seconds)  # the workers inherit it
    for name, value in overrides.items():
        if value is not None:
            os.environ[f"LEADSCORE_{name.upper()}"] = str(value)
    with _metrics_folder(workers):
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_config=logging_config(settings.log_format, logging.getLogger().level),
            access_log=False,  # the app writes its own line per request
        )


@contextmanager
def _metrics_folder(workers: int) -> Iterator[None]:
    if workers == 1:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="leadscore-metrics-") as folder:
        os.environ[MULTIPROCESS_DIR] = folder
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS_DIR]
