"""Tiny hostile HTTP servers on 127.0.0.1 (port 0) for the bounded-HTTP tests; every thread is reaped."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Route = Callable[["Handler"], None]


@dataclass
class Fake:
    """A running server: its URL, the requests it saw (method, path, headers) and a stop flag."""

    url: str = ""
    port: int = 0
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)


class Handler(BaseHTTPRequestHandler):
    routes: dict[tuple[str, str], Route] = {}
    fake: Fake
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.fake.requests.append((method, self.path, dict(self.headers.items())))
        route = self.routes.get((method, self.path)) or self.routes.get((method, "*")) or self.routes.get(("*", "*"))
        if route is None:
            self.send_json(404, {"error": "not found"})
            return
        with suppress(BrokenPipeError, ConnectionResetError):
            route(self)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def stream_forever(self, chunk: bytes, pause: float) -> None:
        """A chunked body that never ends (until the client goes away or the server stops)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while not self.fake.stop.is_set():
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
            if pause:
                time.sleep(pause)
        self.close_connection = True


@contextmanager
def serve(routes: dict[tuple[str, str], Route]) -> Iterator[Fake]:
    """Serve ``routes`` ((method, path) -> handler; ``*`` matches any) on 127.0.0.1 for the block."""
    fake = Fake()
    handler = type("RouteHandler", (Handler,), {"routes": routes, "fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    fake.port = server.server_address[1]
    fake.url = f"http://127.0.0.1:{fake.port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def endless_chunks(sent: list[int]) -> Route:
    """A route answering 200 with a chunked body that never ends (until the server stops); counts the bytes
    sent in ``sent[0]``."""

    def endless(h: Handler) -> None:
        chunk = b" " * 65536
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        while not h.fake.stop.is_set():
            h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent[0] += len(chunk)

    return endless


@contextmanager
def trickle(payload: bytes, per_byte_s: float = 1.0) -> Iterator[Fake]:
    """A raw TCP server that answers every connection with ``payload`` one byte at a time."""
    fake = Fake()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    fake.port = listener.getsockname()[1]
    fake.url = f"http://127.0.0.1:{fake.port}"
    workers: list[threading.Thread] = []

    def talk(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                for byte in payload:
                    if fake.stop.wait(per_byte_s):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return

    def accept() -> None:
        while not fake.stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            fake.requests.append(("?", "?", {}))
            worker = threading.Thread(target=talk, args=(conn,), daemon=True)
            workers.append(worker)
            worker.start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield fake
    finally:
        fake.stop.set()
        acceptor.join(5)
        listener.close()
        for worker in workers:
            worker.join(5)


def triton_routes(models: list[dict[str, str]], **extra: Route) -> dict[tuple[str, str], Route]:
    """A Triton that is live and lists ``models`` in its repository index."""
    routes: dict[tuple[str, str], Route] = {
        ("GET", "/v2/health/live"): lambda h: h.send_json(200, {}),
        ("GET", "/v2/health/ready"): lambda h: h.send_json(200, {}),
        ("GET", "/v2"): lambda h: h.send_json(200, {"name": "triton", "version": "2.59.0"}),
        ("POST", "/v2/repository/index"): lambda h: h.send_json(200, models),
    }
    for key, route in extra.items():
        method, _, path = key.partition(" ")
        routes[(method, path)] = route
    return routes
