"""A lock in the model registry, so two retraining jobs never promote at once.

The lock is a registered model named `<model>.retrain-lock`: creating a registered model is atomic
in every MLflow store (a unique name), so only one job can hold it, whichever machine it runs on.
The holder refreshes a heartbeat tag; a lock whose heartbeat is older than `stale_after` seconds
was left by a job that died (e.g. `kill -9`) and is taken over.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from features.errors import LeadscoreError

log = logging.getLogger(__name__)

HEARTBEAT_TAG = "leadscore.heartbeat"
OWNER_TAG = "leadscore.owner"


class LockBusyError(LeadscoreError):
    """Another retraining job holds the lock."""


def lock_name(model_name: str) -> str:
    return f"{model_name}.retrain-lock"


@contextmanager
def registry_lock(
    client: MlflowClient,
    model_name: str,
    wait_seconds: float = 0.0,
    stale_after: float = 600.0,
    heartbeat_every: float = 30.0,
) -> Iterator[None]:
    """Hold the retraining lock of `model_name` for the duration of the block."""
    name = lock_name(model_name)
    _acquire(client, name, wait_seconds, stale_after)
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat, args=(client, name, stop, heartbeat_every), daemon=True
    )
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join()
        _release(client, name)


def _acquire(client: MlflowClient, name: str, wait_seconds: float, stale_after: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            client.create_registered_model(
                name,
                tags={OWNER_TAG: _owner(), HEARTBEAT_TAG: str(time.time())},
                description="held while a leadscore retraining job runs; do not use",
            )
            return
        except MlflowException as exc:
            if "already exists" not in str(exc).lower() and "RESOURCE_ALREADY_EXISTS" not in str(
                exc.error_code
            ):
                raise
        holder = _holder(client, name)
        if holder is not None and time.time() - holder[1] > stale_after:
            log.warning("taking over the retraining lock left by %s", holder[0])
            _release(client, name)
            continue
        if time.monotonic() >= deadline:
            owner = holder[0] if holder else "another job"
            raise LockBusyError(
                f"another retraining of this model is running ({owner}); wait for it to finish "
                "or pass --lock-wait SECONDS to wait"
            )
        time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))


def _holder(client: MlflowClient, name: str) -> tuple[str, float] | None:
    try:
        tags = client.get_registered_model(name).tags
    except MlflowException:
        return None
    return tags.get(OWNER_TAG, "unknown"), float(tags.get(HEARTBEAT_TAG, 0))


def _heartbeat(client: MlflowClient, name: str, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        try:
            client.set_registered_model_tag(name, HEARTBEAT_TAG, str(time.time()))
        except MlflowException as exc:
            log.warning("could not refresh the retraining lock: %s", exc)


def _release(client: MlflowClient, name: str) -> None:
    try:
        client.delete_registered_model(name)
    except MlflowException as exc:
        log.warning("could not release the retraining lock %s: %s", name, exc)


def _owner() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"
