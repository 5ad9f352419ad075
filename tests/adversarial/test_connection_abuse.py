"""Connections that try to exhaust the server: a header of megabytes, requests begun and never
finished, connections that send nothing. Each is refused or closed within bounds, and the
server answers everyone else meanwhile."""

import socket
import time

import httpx
import pytest

from tests.conftest import start_server

READ_TIMEOUT = 1
MAX_HEADER_BYTES = 16 * 1024


@pytest.fixture
def server(trained_model, tmp_path):
    env = {
        "MLFLOW_TRACKING_URI": trained_model.tracking_uri,
        "LEADSCORE_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT),
        "LEADSCORE_MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
    }
    process = start_server(tmp_path, env)
    yield process
    process.stop()


def connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def answer_and_close(sock: socket.socket) -> bytes:
    """What the server sends before it closes the connection (socket.timeout if it never does)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def one_answer(sock: socket.socket) -> bytes:
    """One whole answer on a kept-alive connection: its head, then as many bytes of body as its
    content-length says (the body may come in a later read than the head)."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, body = received.split(b"\r\n\r\n", 1)
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_a_huge_header_is_refused_once_past_the_limit(server):
    sock = connect(server.base)
    sent = 0
    try:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Filler: ")
        while sent < 64 * 1024 * 1024:
            sock.sendall(b"a" * 65536)
            sent += 65536
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        answer = answer_and_close(sock)
    except ConnectionResetError:
        answer = b""
    finally:
        sock.close()
    assert sent < 8 * 1024 * 1024, f"the server took {sent} bytes of one header"
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431"), answer[:100]
    assert httpx.get(f"{server.base}/health").status_code == 200


@pytest.mark.parametrize("requests", [1, 2])
def test_a_whole_head_over_the_limit_in_one_read_is_refused(server, requests):
    """A head that arrived complete in one read was answered before its size was checked:
    a header of two and a half times the limit got 200. The second case sends it as the next
    request on a kept-alive connection."""
    small = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    large = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEADER_BYTES * 5 // 2)
    sock = connect(server.base)
    try:
        if requests == 2:
            sock.sendall(small)
            assert one_answer(sock).startswith(b"HTTP/1.1 200")
        sock.sendall(large + b"\r\n\r\n")
        answer = answer_and_close(sock)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 431"), answer[:100]


def test_large_bodies_on_a_kept_alive_connection_are_not_taken_for_heads(server):
    """Each body over the head limit, read whole with its head, was counted towards the next
    request's head: that request got 431."""
    leads = [{"lead_id": f"B{i}", "notes": "x" * 600} for i in range(40)]
    with httpx.Client(base_url=server.base) as client:
        for _ in range(3):
            answer = client.post("/v1/score", json={"leads": leads})
            assert answer.status_code == 200, answer.text


def test_unfinished_requests_are_closed_and_others_are_answered(server):
    unfinished = [
        b"",  # connects and sends nothing
        b"GET /health HTTP/1.1\r\nHost: x\r\n",  # headers never end
        b"POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 1000\r\n\r\n{"leads": [',  # body never ends
    ]
    sockets = []
    for start in unfinished * 5:
        sock = connect(server.base)
        sock.sendall(start)
        sockets.append(sock)
    answered = [httpx.get(f"{server.base}/health").status_code for _ in range(5)]
    time.sleep(READ_TIMEOUT)
    closed = []
    for sock in sockets:
        try:
            closed.append(answer_and_close(sock))
        except TimeoutError:
            closed.append(None)
        finally:
            sock.close()
    assert answered == [200] * 5
    assert None not in closed, "a connection was still open 10 s after its read timeout"
    heads = {answer.split(b"\r\n")[0] for answer in closed}
    assert heads <= {b"HTTP/1.1 408 Request Timeout", b""}, heads
    assert httpx.get(f"{server.base}/health").status_code == 200
