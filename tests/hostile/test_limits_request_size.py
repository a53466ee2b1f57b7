"""Bodies past BEDSIDE_MAX_REQUEST_BYTES get a JSON 413 before they are read, chunked or not.

Against a real HTTP server on loopback (werkzeug), over raw sockets: the client sends more than the
limit and never finishes its body, so only a server that stops reading at the limit can answer.
"""

from __future__ import annotations

import json
import socket
import threading

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.db import close_stores

LIMIT = 64 * 1024
HOOK_PATH = "/cds-services/bedside-patient-view"
FEEDBACK_PATH = HOOK_PATH + "/feedback"


@pytest.fixture
def server_address(instance_path):
    """Serve a Bedside app with a 64 KiB request limit (CDS auth off) on a loopback port."""
    app = create_app(
        {
            "DATABASE": str(instance_path / "bedside.db"),
            "CDS_AUTH": "off",
            "MAX_REQUEST_BYTES": LIMIT,
        },
        instance_path=instance_path,
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", server.port
    server.shutdown()
    thread.join(timeout=10)
    close_stores(app)


def answer_to(address, path: str, headers: str, body_parts: list[bytes]) -> tuple[int, dict]:
    """Send a request head and body parts but never end the body; read the answer."""
    with socket.create_connection(address, timeout=10) as connection:
        connection.sendall(f"POST {path} HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n".encode())
        for part in body_parts:
            connection.sendall(part)
        received = b""
        while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
    head, _, payload = received.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload)


def chunk(data: bytes) -> bytes:
    """Frame data as one HTTP/1.1 chunk."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


@pytest.mark.parametrize("path", [HOOK_PATH, FEEDBACK_PATH])
def test_a_declared_length_past_the_limit_is_refused_before_any_byte_is_read(server_address, path):
    headers = f"Content-Type: application/json\r\nContent-Length: {10 * LIMIT}\r\n"
    status, body = answer_to(server_address, path, headers, [])  # not one body byte sent
    assert status == 413
    assert body["error"]["code"] == "request_too_large"
    assert str(LIMIT) in body["error"]["message"]


@pytest.mark.parametrize("path", [HOOK_PATH, FEEDBACK_PATH])
def test_a_chunked_body_is_cut_off_at_the_limit(server_address, path):
    headers = "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    parts = [chunk(b'{"padding": "' + b"x" * 16 * 1024)] * 6  # 96 KiB, never terminated
    status, body = answer_to(server_address, path, headers, parts)
    assert status == 413
    assert body["error"]["code"] == "request_too_large"


def test_a_chunked_body_within_the_limit_is_read(server_address):
    headers = "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    parts = [chunk(b'{"hook": "patient-view"}'), b"0\r\n\r\n"]
    status, body = answer_to(server_address, HOOK_PATH, headers, parts)
    assert status == 400  # read and validated: the fields a hook call needs are missing
    assert body["error"]["code"] == "invalid_request"
