"""An API without keys never listens where other machines can reach it, however it is started.

`LEADSCORE_HOST` is checked with the settings. The sockets the process actually listens on are
checked at start-up too: a process manager (uvicorn's `--workers`, gunicorn) opens them before
the app starts, and the start-up fails with one line; a single uvicorn process opens them just
after, so a watcher looks for them then, and stops the server (exit code 2) if one is reachable
from other machines. That covers `uvicorn serve.api.app:create_app --factory --host 0.0.0.0`
started by hand, which `LEADSCORE_HOST` knows nothing of.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import signal
import socket
import stat
import sys
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

LOOPBACK_NAMES = {"localhost"}
BAD_SETTING_EXIT_CODE = 2
WATCH_SECONDS = 30.0  # how long a single process is watched for the sockets it opens
WATCH_INTERVAL = 0.01


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def exposure_problem(hosts: Iterable[str], keys_required: bool) -> str | None:
    """Why serving on these hosts would be open to other machines; None when it is not."""
    if keys_required:
        return None
    for host in hosts:
        if not is_loopback(host):
            return (
                f"host {host} is reachable from other machines and LEADSCORE_API_KEYS is "
                "empty; set LEADSCORE_API_KEYS (comma-separated keys or sha256:HEX) or listen "
                "on 127.0.0.1"
            )
    return None


def listening_hosts(about_to_listen: bool = False) -> list[str]:
    """The addresses of the TCP sockets this process listens on (none where the system does
    not list a process's open files in /dev/fd). `about_to_listen` counts bound sockets that
    are not connected too: uvicorn's parent binds the socket its workers share, and it listens
    only once the first worker has started."""
    try:
        descriptors = [int(name) for name in os.listdir("/dev/fd")]
    except OSError:
        return []
    hosts = []
    for fd in descriptors:
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            with socket.socket(fileno=os.dup(fd)) as sock:
                host = _server_host(sock, about_to_listen)
        except OSError:  # closed meanwhile, or not a socket this system describes
            continue
        if host is not None:
            hosts.append(host)
    return hosts


def _server_host(sock: socket.socket, about_to_listen: bool) -> str | None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
        return None
    host, port = sock.getsockname()[:2]
    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        return str(host)
    if not about_to_listen or port == 0:
        return None
    try:
        sock.getpeername()
    except OSError:  # bound and connected to nothing: a server's socket
        return str(host)
    return None  # a client's connection


class ExposureGuard:
    """Checks the listening sockets at start-up (the lifespan); requests pass straight on."""

    def __init__(self, app: ASGIApp, keys_required: bool) -> None:
        self.app = app
        self.keys_required = keys_required
        self.tripped = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan" or self.keys_required:
            await self.app(scope, receive, send)
            return
        problem = exposure_problem(listening_hosts(about_to_listen=True), keys_required=False)
        if problem is not None:  # the sockets were opened before start-up: refuse to start
            await receive()  # the server's lifespan.startup
            await send({"type": "lifespan.startup.failed", "message": problem})
            return
        watcher = asyncio.create_task(self._watch(), name="exposure-guard")
        try:
            await self.app(scope, receive, send)
        finally:
            watcher.cancel()
        if self.tripped:  # after a clean shutdown; uvicorn itself would exit with 0
            logging.shutdown()
            sys.stderr.flush()
            os._exit(BAD_SETTING_EXIT_CODE)

    async def _watch(self) -> None:
        """Wait for the server's sockets; stop it if one is reachable from other machines."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WATCH_SECONDS
        while loop.time() < deadline:
            hosts = listening_hosts()
            if hosts:
                problem = exposure_problem(hosts, keys_required=False)
                if problem is not None:
                    log.error(problem)
                    self.tripped = True
                    signal.raise_signal(signal.SIGTERM)
                return
            await asyncio.sleep(WATCH_INTERVAL)
