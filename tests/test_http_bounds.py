"""Every HTTP call the doctor makes is bounded: deadline, body cap, event cap, no cross-host redirects.

Each test is a reproduction from the hardening issue, against a real tiny server on 127.0.0.1.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.conftest import all_findings, run_cli
from tests.httpfakes import Handler, serve, trickle, triton_routes
from triton_doctor.probes.http import HttpClient, HttpError

READY = [{"name": "m", "state": "READY", "reason": ""}]


def _check(*args: str) -> tuple[int, dict[str, Any], float]:
    start = time.monotonic()
    result = run_cli("check", "--only", "live", "--format", "json", *args, env={"DOCKER_HOST": "unix:///nonexistent"})
    return result.exit_code, json.loads(result.stdout), time.monotonic() - start


def _finding(report: dict[str, Any], prefix: str) -> dict[str, Any]:
    return next(f for f in all_findings(report) if f["id"].startswith(prefix))


def _events(h: Handler) -> None:
    h.stream_forever(b'data: {"text_output": "x"}\n\n', 0.01)


def _generated(h: Handler) -> None:
    h.send_json(200, {"text_output": " Paris"})


def test_endless_generate_stream_stops_at_timeout() -> None:
    routes = triton_routes(
        READY, **{"POST /v2/models/m/generate_stream": _events, "POST /v2/models/m/generate": _generated}
    )
    with serve(routes) as fake:
        code, report, elapsed = _check("--server", fake.url, "--model", "m", "--timeout", "3")
    failed = _finding(report, "live-generate[failed]")
    assert "generate_stream" in failed["message"] and "within 3 s" in failed["message"]
    assert code == 1 and elapsed < 20


def test_fast_endless_stream_stops_at_event_cap() -> None:
    routes = {("POST", "*"): lambda h: h.stream_forever(b"data: {}\n" * 100, 0)}
    with serve(routes) as fake:
        client = HttpClient(fake.url)
        with client.sse("/s", {}, total_s=30, max_events=500) as stream:
            count = sum(1 for _ in stream.events())
    assert count == 500 and "500 events" in stream.stopped


def test_model_missing_from_index_reported_at_once() -> None:
    with serve(triton_routes([{"name": "other", "state": "READY"}])) as fake:
        code, report, elapsed = _check("--server", fake.url, "--model", "m", "--timeout", "120")
    missing = _finding(report, "live-server[missing]")
    assert "m: not in the server's model repository" in missing["message"] and "other" in missing["message"]
    assert code == 1 and elapsed < 10


def test_one_byte_per_second_is_a_timeout_finding_not_a_bug() -> None:
    with trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 100) as fake:
        code, report, elapsed = _check("--server", fake.url, "--model", "m", "--timeout", "120")
    live = next(c for c in report["checks"] if c["check"] == "live-server")
    assert live["status"] == "fail", live
    finding = _finding(report, "live-server[unreachable]")
    assert "does not answer properly" in finding["message"] and "within" in finding["message"]
    assert code == 1 and elapsed < 20


def test_deadline_holds_against_a_trickle_in_the_headers_and_in_the_body() -> None:
    for payload in (
        b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100,
        b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n" + b"b" * 99,
    ):
        with trickle(payload, per_byte_s=0.05) as fake:
            start = time.monotonic()
            with pytest.raises(HttpError) as err:
                HttpClient(fake.url, read_s=1.0, total_s=1.5).request("GET", "/")
            elapsed = time.monotonic() - start
        assert err.value.kind == "timeout" and "within 1.5 s" in err.value.message
        assert elapsed < 3


def test_endless_body_is_capped() -> None:
    with serve({("GET", "*"): lambda h: h.stream_forever(b"z" * 65536, 0)}) as fake, pytest.raises(HttpError) as err:
        HttpClient(fake.url, max_body=1_000_000).request("GET", "/x")
    assert err.value.kind == "too-large" and "1000000 bytes" in err.value.message


def test_redirect_to_another_host_is_reported_never_followed() -> None:
    def to_other(h: Handler) -> None:
        h.send_response(307)
        h.send_header("Location", other.url + h.path)
        h.send_header("Content-Length", "0")
        h.end_headers()

    with serve(triton_routes(READY)) as other, serve({("*", "*"): to_other}) as fake:
        code, report, elapsed = _check("--server", fake.url, "--model", "m", "--timeout", "60")
        seen = list(other.requests)
    finding = _finding(report, "live-server[redirect]")
    assert fake.url in finding["message"] and other.url in finding["message"]
    assert seen == [] and code == 1 and elapsed < 10
    assert not any(f["id"].startswith("live-generate[ok]") for f in all_findings(report))


def test_same_host_redirect_followed_for_get_but_post_never_becomes_get() -> None:
    def moved(h: Handler) -> None:
        h.send_response(302)
        h.send_header("Location", "/there")
        h.send_header("Content-Length", "0")
        h.end_headers()

    routes = {
        ("GET", "/here"): moved,
        ("POST", "/here"): moved,
        ("GET", "/there"): lambda h: h.send_json(200, {"a": 1}),
    }
    with serve(routes) as fake:
        client = HttpClient(fake.url)
        assert client.request("GET", "/here").json() == {"a": 1}
        with pytest.raises(HttpError) as err:
            client.request("POST", "/here", {})
    assert err.value.kind == "redirect" and "would become a GET" in err.value.message
    assert ("GET", "/there") not in [(m, p) for m, p, _ in fake.requests[2:]]


def test_userinfo_is_sent_as_basic_auth_and_never_printed(tmp_path: Any) -> None:
    password = "Pa55wordXYZ"
    with serve(triton_routes([{"name": "other", "state": "READY"}])) as fake:
        url = fake.url.replace("http://", f"http://alice:{password}@")
        outputs = []
        for fmt in ("text", "json", "junit"):
            args = ("--server", url, "--model", "m", "--format", fmt, "--timeout", "20", "-v")
            result = run_cli("check", "--only", "live", *args)
            outputs += [result.stdout, result.stderr]
    assert all(password not in text for text in outputs)
    assert any("***@127.0.0.1" in text for text in outputs)
    assert fake.requests and all(h.get("Authorization", "").startswith("Basic ") for _m, _p, h in fake.requests)


@pytest.mark.parametrize("bad", ["not a url", "ftp://host:8000", "file:///etc/passwd", "http://", "127.0.0.1:8000"])
def test_bad_server_url_is_a_usage_error_at_once(bad: str) -> None:
    start = time.monotonic()
    result = run_cli("check", "--only", "live", "--server", bad)
    assert result.exit_code == 2 and time.monotonic() - start < 5
    assert "http://HOST:PORT" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("bad", ["ftp://bob:Hunter2Secret@host", "http://host:8000/?token=Hunter2Secret"])
def test_bad_server_url_message_hides_the_password(bad: str) -> None:
    result = run_cli("check", "--only", "live", "--server", bad)
    assert result.exit_code == 2 and "Hunter2Secret" not in result.stderr and "***" in result.stderr


def test_body_after_a_connection_close_header_is_read_whole() -> None:
    """http.client closes the connection right after the headers of a `Connection: close` answer while the
    response still reads the body: the socket must stay open until the body is read (it gave EBADF)."""
    import socket
    import threading

    from triton_doctor.probes.http import HttpClient

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def serve() -> None:
        for _ in range(3):
            conn, _addr = listener.accept()
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _sep, body = data.partition(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                while len(body) < length:
                    body += conn.recv(65536)
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
                time.sleep(0.2)  # the body comes after http.client has closed its connection
                conn.sendall(b'{"text_output": "Paris"}')

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        client = HttpClient(f"http://127.0.0.1:{port}")
        for _ in range(3):
            assert client.request("POST", "/v2/models/tiny/generate", {"text_input": "x"}).json() == {
                "text_output": "Paris"
            }
    finally:
        thread.join(timeout=10)
        listener.close()
