"""Figures for the bounded HTTP layer against hostile servers on 127.0.0.1 (no Docker, no network).

    python benchmarks/hostile_http.py

For each case: wall time of `triton-doctor check --only live --server URL` (or of one Hub call), the
finding it ends with, and for the endless bodies the bytes the server managed to send and the peak RSS.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_ENDPOINT", "http://127.0.0.1:9")

from click.testing import CliRunner

from tests.httpfakes import Handler, endless_chunks, serve, trickle, triton_routes
from triton_doctor.cli import cli
from triton_doctor.probes.hub_probe import HubProbe

READY = [{"name": "m", "state": "READY"}]


def check(*args: str) -> str:
    start = time.monotonic()
    env = {"NO_COLOR": "1", "DOCKER_HOST": "unix:///nonexistent"}
    result = CliRunner().invoke(cli, ["check", "--only", "live", "--format", "json", *args], env=env)
    elapsed = time.monotonic() - start
    try:
        findings = [f["id"] for c in json.loads(result.stdout)["checks"] for f in c["findings"]]
    except (json.JSONDecodeError, KeyError):
        findings = [result.stderr.strip()[:120]]
    return f"{elapsed:6.1f} s  exit {result.exit_code}  {', '.join(findings)}"


def events(h: Handler) -> None:
    h.stream_forever(b'data: {"text_output": "x"}\n\n', 0.01)


def generated(h: Handler) -> None:
    h.send_json(200, {"text_output": " Paris"})


def main() -> None:
    gen = {"POST /v2/models/m/generate_stream": events, "POST /v2/models/m/generate": generated}
    with serve(triton_routes(READY, **gen)) as fake:
        print("endless generate_stream, --timeout 5:   ", check("--server", fake.url, "--model", "m", "--timeout", "5"))
    with serve(triton_routes([{"name": "other", "state": "READY"}])) as fake:
        print("model missing from the index, --timeout 900:", check("--server", fake.url, "--model", "m"))
    with trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 100) as fake:
        print("1 byte/s server:                        ", check("--server", fake.url, "--model", "m"))
    with serve(triton_routes(READY, **gen)) as other:

        def away(h: Handler) -> None:
            h.send_response(307)
            h.send_header("Location", other.url + h.path)
            h.send_header("Content-Length", "0")
            h.end_headers()

        with serve({("*", "*"): away}) as fake:
            line = check("--server", fake.url, "--model", "m", "--timeout", "60")
        print("redirect to another host:               ", line, f"(requests there: {len(other.requests)})")
    for bad in ("not a url", "ftp://host:8000"):
        print(f"--server {bad!r}:".ljust(40), check("--server", bad))
    sent = [0]
    with serve({("GET", "*"): endless_chunks(sent)}) as fake:
        start = time.monotonic()
        answer: Any = HubProbe(endpoint=fake.url, timeout=10).whoami("hf_" + "a" * 34)
        elapsed = time.monotonic() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"HF_ENDPOINT with an endless body:        {elapsed:6.1f} s  {answer.kind}; server sent "
        f"{sent[0] / 1e6:.1f} MB; peak RSS {rss:.0f} MB"
    )


if __name__ == "__main__":
    main()
