"""Starting the API as `leadscore serve` does: settings and store checked first, then uvicorn with
one or several worker processes.

Every worker builds its own app from the `LEADSCORE_*` variables (the command's options are
written there first), with its own model holder polling the same alias and its own score-log
writer. With several workers, their metrics go to a fresh folder (`PROMETHEUS_MULTIPROC_DIR`)
that a scrape of any worker adds up, removed when the server stops.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import uvicorn

from features.errors import SettingError
from serve.api.connections import guarded_http_protocol
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
    _check_port_free(settings.host, settings.port)
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
            # a partial of the protocol class: uvicorn calls it as it calls the class
            http=cast(
                "type[asyncio.Protocol]",
                guarded_http_protocol(settings.read_timeout_seconds, settings.max_header_bytes),
            ),
            timeout_keep_alive=settings.keep_alive_seconds,
        )


def _check_port_free(host: str, port: int) -> None:
    """Refuse a port another process listens on, before anything starts (uvicorn would exit
    with its own code 3 after start-up)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        socket.create_server((host, port), family=family).close()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise SettingError(f"port {port} is in use: choose another with --port") from exc
        raise SettingError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


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
