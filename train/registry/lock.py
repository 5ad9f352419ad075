"""A lock in the model registry, so two retraining jobs never promote at once.

The lock is a registered model named `<model>.retrain-lock`: creating a registered model is atomic
in every MLflow store (a unique name), so only one job can hold it, whichever machine it runs on.
Its tags say who holds it (pid and host) and carry a token unique to this holding. The holder
refreshes a heartbeat tag. A lock is stale when its holder is a process of this host that is no
longer running (a job killed with `kill -9`: taken over at once) or when its heartbeat is older
than `stale_after` seconds (a job on another host that died).

Taking over is a compare-and-set: the job that first creates `<lock>.takeover-<token>` (atomic
again) replaces the lock, and only if the lock still carries that token; every other job finds
the lock held.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from features.errors import LeadscoreError

log = logging.getLogger(__name__)

HEARTBEAT_TAG = "leadscore.heartbeat"
OWNER_TAG = "leadscore.owner"
PID_TAG = "leadscore.pid"
HOST_TAG = "leadscore.host"
TOKEN_TAG = "leadscore.token"


class LockBusyError(LeadscoreError):
    """Another retraining job holds the lock."""


def lock_name(model_name: str) -> str:
    return f"{model_name}.retrain-lock"


@dataclass(frozen=True)
class LockHolder:
    """Who holds a lock, as its tags say."""

    owner: str
    heartbeat: float
    pid: int | None
    host: str | None
    token: str

    def stale_reason(self, stale_after: float) -> str | None:
        """Why the lock was left by a job that died, or None while it may be alive."""
        if self.host == socket.gethostname() and self.pid is not None and not _running(self.pid):
            return f"pid {self.pid} is no longer running on this host"
        age = time.time() - self.heartbeat
        if age > stale_after:
            return f"its heartbeat is {age:.0f} s old"
        return None


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
    token = uuid.uuid4().hex
    _acquire(client, name, token, wait_seconds, stale_after)
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
        _release(client, name, token)


def _acquire(
    client: MlflowClient, name: str, token: str, wait_seconds: float, stale_after: float
) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        if _create(client, name, token):
            return
        holder = _holder(client, name)
        reason = holder.stale_reason(stale_after) if holder else None
        if holder is not None and reason is not None and _take_over(client, name, holder, token):
            log.warning("took over the retraining lock left by %s: %s", holder.owner, reason)
            return
        if time.monotonic() >= deadline:
            owner = holder.owner if holder else "another job"
            raise LockBusyError(
                f"another retraining of this model is running ({owner}); wait for it to finish "
                "or pass --lock-wait SECONDS to wait"
            )
        time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))


def _create(client: MlflowClient, name: str, token: str) -> bool:
    """Create the lock (or a takeover marker); False if it exists already."""
    tags = {
        OWNER_TAG: f"pid {os.getpid()} on {socket.gethostname()}",
        PID_TAG: str(os.getpid()),
        HOST_TAG: socket.gethostname(),
        TOKEN_TAG: token,
        HEARTBEAT_TAG: str(time.time()),
    }
    try:
        client.create_registered_model(
            name, tags=tags, description="held while a leadscore retraining job runs; do not use"
        )
    except MlflowException as exc:
        # Taken; or taken and freed again while MLflow looked the name up to say it is taken.
        taken = ("RESOURCE_ALREADY_EXISTS", "RESOURCE_DOES_NOT_EXIST")
        if "already exists" in str(exc).lower() or str(exc.error_code) in taken:
            return False
        raise
    return True


def _take_over(client: MlflowClient, name: str, stale: LockHolder, token: str) -> bool:
    """Replace the stale lock with ours, unless another job is doing so or has done so."""
    marker = f"{name}.takeover-{stale.token}"
    if not _create(client, marker, token):
        return False
    try:
        current = _holder(client, name)
        if current is None or current.token != stale.token:
            return False
        client.delete_registered_model(name)
        return _create(client, name, token)
    finally:
        _delete(client, marker)


def _holder(client: MlflowClient, name: str) -> LockHolder | None:
    try:
        tags = client.get_registered_model(name).tags
    except MlflowException:
        return None
    pid = tags.get(PID_TAG, "")
    heartbeat = tags.get(HEARTBEAT_TAG, "0")
    return LockHolder(
        owner=tags.get(OWNER_TAG, "unknown"),
        heartbeat=float(heartbeat),
        pid=int(pid) if pid.isdigit() else None,
        host=tags.get(HOST_TAG),
        token=tags.get(TOKEN_TAG) or f"untokened-{heartbeat}",
    )


def _heartbeat(client: MlflowClient, name: str, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        try:
            client.set_registered_model_tag(name, HEARTBEAT_TAG, str(time.time()))
        except MlflowException as exc:
            log.warning("could not refresh the retraining lock: %s", exc)


def _release(client: MlflowClient, name: str, token: str) -> None:
    """Delete the lock if it is still ours (a job thought dead may have been taken over)."""
    holder = _holder(client, name)
    if holder is not None and holder.token == token:
        _delete(client, name)


def _delete(client: MlflowClient, name: str) -> None:
    try:
        client.delete_registered_model(name)
    except MlflowException as exc:
        log.warning("could not remove the registered model %s: %s", name, exc)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True
