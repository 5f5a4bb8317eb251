"""A tiny threaded HTTP server on 127.0.0.1 (a free port) that hands each request to a fake API."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

import httpx


class Request:
    """One request as a fake API sees it."""

    def __init__(self, method: str, target: str, headers: dict[str, str], body: bytes) -> None:
        parts = urlsplit(target)
        self.method = method
        self.path = parts.path
        self.query = dict(parse_qsl(parts.query))
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class FakeApi(Protocol):
    def handle(self, request: Request) -> tuple[int, Any]: ...


@contextmanager
def serving(api: FakeApi, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve `api` on a free port of 127.0.0.1 while in the block; give back its root URL.

    With `tls` (a server context holding a certificate) it serves HTTPS: for clients, such as
    msal, that refuse anything else."""

    class Handler(BaseHTTPRequestHandler):
        # Keep connections open between requests, as a real API does: a client's connection
        # pool is then measured, not a TCP handshake per request.
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else each answer's body waits on a delayed ACK

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                self.command, self.path, dict(self.headers.items()), self.rfile.read(length)
            )
            status, payload = api.handle(request)
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_PUT = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def page(records: list[Any], number: int, size: int) -> list[Any]:
    """Give back page `number` (0-based) of `records`, `size` to a page."""
    return records[number * size : (number + 1) * size]


def transport(api: FakeApi) -> httpx.MockTransport:
    """Give back an httpx transport that hands each request to `api` in-process, no socket."""

    def handler(request: httpx.Request) -> httpx.Response:
        target = request.url.raw_path.decode("ascii")
        asked = Request(request.method, target, dict(request.headers.items()), request.read())
        status, payload = api.handle(asked)
        return httpx.Response(status, json=payload)

    return httpx.MockTransport(handler)
