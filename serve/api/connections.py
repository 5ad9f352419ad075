"""Bounds on what one connection may hold before it has sent a request: the HTTP server
(uvicorn's httptools protocol) has neither a limit on the size of a request's head nor a time
limit for a request to arrive, so one client could grow the server by whatever it sends in a
header, or keep connections open forever with requests it never finishes.

Here a request's head (request line and headers) larger than `max_head_bytes` is answered 431
and the connection closed, and a request not received in full within `read_timeout` seconds of
its first byte (or of the connection, when nothing comes) is answered 408, or the connection
closed if its body was under way. Idle keep-alive connections are uvicorn's own timeout.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

log = logging.getLogger(__name__)


class GuardedHttpProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, read_timeout: float, max_head_bytes: int, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.read_timeout = read_timeout
        self.max_head_bytes = max_head_bytes
        self._head_bytes = 0
        self._reading_head = True
        self._tail = b""  # the last bytes read, where a head's blank line may begin
        self._message_ended = False
        self._read_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """The head's size is checked before the parser reads the bytes: a whole head that
        arrives in one read would otherwise be complete, and answered, before its size is."""
        reading = self._reading_head and not self.transport.is_closing()
        if reading and self._head_bytes + self._head_part(data) > self.max_head_bytes:
            self._refuse(431, f"request headers larger than {self.max_head_bytes} bytes")
            return
        self._tail, self._message_ended = data[-3:], False
        super().data_received(data)
        # A head still incomplete after these bytes: they count towards it, unless a message
        # ended in them (its body is not the next head's).
        if self._reading_head and not self._message_ended and not self.transport.is_closing():
            self._head_bytes += len(data)

    def _head_part(self, data: bytes) -> int:
        """How many of these bytes belong to the head being read: up to its blank line."""
        end = (self._tail + data).find(b"\r\n\r\n")
        return len(data) if end < 0 else max(0, end + 4 - len(self._tail))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes, self._reading_head = 0, True
        self._arm()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._head_bytes, self._reading_head, self._tail = 0, True, b""  # the next request's
        self._message_ended = True
        super().on_message_complete()

    def _arm(self) -> None:
        self._disarm()
        self._read_timer = self.loop.call_later(self.read_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _timed_out(self) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        log.debug("closing %s: no complete request within %s s", self.client, self.read_timeout)
        if self._reading_head:
            self._refuse(408, f"no complete request within {self.read_timeout} s")
        else:
            self.transport.close()

    def _refuse(self, status: int, message: str) -> None:
        self._disarm()
        body = message.encode()
        head = b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
        length = b"content-length: " + str(len(body)).encode() + b"\r\n\r\n"
        self.transport.write(STATUS_LINE[status] + head + length + body)
        self.transport.close()


def guarded_http_protocol(read_timeout: float, max_head_bytes: int) -> functools.partial:
    """The protocol class for `uvicorn.run(http=...)`, with these bounds (a partial of a class
    of this module, so that worker processes receive it too)."""
    return functools.partial(
        GuardedHttpProtocol, read_timeout=read_timeout, max_head_bytes=max_head_bytes
    )
