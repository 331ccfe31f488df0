"""A small Triton-shaped HTTP server on 127.0.0.1 (an OS-assigned port) for ``check --server`` tests.

It answers what the doctor reads from a running server: health, the repository index, a model's config,
``generate_stream`` (SSE) and ``generate``, and the metrics text. Real sockets, real HTTP; no Docker.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, code: int, data: Any) -> None:
        self._send(code, json.dumps(data).encode())

    def do_GET(self) -> None:
        srv = self.server
        if self.path in {"/v2/health/live", "/v2/health/ready"}:
            self._send(200, b"")
        elif self.path == "/v2":
            self._json(200, {"name": "triton", "version": "2.59.0", "extensions": []})
        elif self.path.startswith("/v2/models/") and self.path.endswith("/config"):
            name = self.path.split("/")[3]
            if name in srv.configs:
                self._json(200, srv.configs[name])
            else:
                self._json(400, {"error": f"Request for unknown model: '{name}' is not found"})
        elif self.path == "/metrics":
            self._send(200, b'nv_inference_request_success{model="tiny",version="1"} 2\n', "text/plain")
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        srv = self.server
        if self.path == "/v2/repository/index":
            rows = [{"name": n, "version": "1", "state": "READY"} for n in srv.configs]
            rows += [{"name": n, "version": "1", "state": "UNAVAILABLE", "reason": r} for n, r in srv.broken.items()]
            self._json(200, rows)
        elif self.path.endswith("/generate_stream"):
            time.sleep(srv.delay_s)
            body = b"".join(b"data: " + json.dumps({"text_output": p}).encode() + b"\n\n" for p in srv.pieces)
            self._send(200, body, "text/event-stream")
        elif self.path.endswith("/generate"):
            self._json(200, {"text_output": "".join(srv.pieces)})
        else:
            self._json(404, {"error": "not found"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up early (the doctor's timeouts) is not a server error worth a traceback."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    configs: dict[str, Any]
    pieces: list[str]
    delay_s: float
    broken: dict[str, str]


@contextmanager
def fake_triton(
    configs: dict[str, Any],
    pieces: list[str] | None = None,
    delay_s: float = 0.0,
    broken: dict[str, str] | None = None,
) -> Iterator[str]:
    """Serve ``configs`` (READY model name -> the JSON of ``/v2/models/NAME/config``) and ``broken``
    (UNAVAILABLE model name -> reason); yield the base URL."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.configs = configs
    server.pieces = pieces if pieces is not None else [" Paris", ".", "\n"]
    server.delay_s = delay_s
    server.broken = broken or {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
