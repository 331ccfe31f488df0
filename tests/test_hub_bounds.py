"""The Hub calls are bounded (size, time, redirects) and write nothing under $HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.httpfakes import Handler, endless_chunks, serve, trickle
from triton_doctor.probes.hub_probe import MAX_BODY, HubProbe

WHOAMI = {"name": "alice", "auth": {"accessToken": {"role": "read", "displayName": "t"}}}


def test_endless_hub_body_is_capped() -> None:
    sent = [0]
    with serve({("GET", "*"): endless_chunks(sent)}) as fake:
        start = time.monotonic()
        answer = HubProbe(endpoint=fake.url, timeout=5).whoami("hf_" + "a" * 34)
        elapsed = time.monotonic() - start
    assert answer.kind == "too-large" and str(MAX_BODY) in (answer.message or "")
    assert elapsed < 20 and sent[0] < MAX_BODY * 4


@pytest.mark.parametrize("where", ["body", "headers"])
def test_slow_hub_answer_stops_at_the_deadline(monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    import triton_doctor.probes.hub_probe as hub

    monkeypatch.setattr(hub, "TOTAL_S", 1.5)  # read at each request
    head = b"HTTP/1.1 200 OK\r\n"
    payload = head + b"Content-Length: 100\r\n\r\n" + b" " * 100 if where == "body" else head + b"X-Slow: " + b"a" * 100
    with trickle(payload, per_byte_s=0.05) as fake:
        start = time.monotonic()
        answer = HubProbe(endpoint=fake.url, timeout=5).whoami("hf_" + "a" * 34)
        elapsed = time.monotonic() - start
    assert answer.kind == "timeout" and "within 1.5 s" in (answer.message or "") and elapsed < 5


def test_hub_redirect_to_another_host_is_not_followed() -> None:
    with serve({("GET", "*"): lambda h: h.send_json(200, WHOAMI)}) as other:

        def away(h: Handler) -> None:
            h.send_response(302)
            h.send_header("Location", other.url + h.path)
            h.send_header("Content-Length", "0")
            h.end_headers()

        with serve({("GET", "*"): away}) as fake:
            answer = HubProbe(endpoint=fake.url, timeout=5).whoami("hf_" + "a" * 34)
        seen = list(other.requests)
    assert answer.kind == "redirect" and other.url in (answer.message or "") and seen == []


def test_token_with_a_newline_is_never_sent_nor_quoted() -> None:
    with serve({("GET", "*"): lambda h: h.send_json(200, WHOAMI)}) as fake:
        answer = HubProbe(endpoint=fake.url, timeout=5).whoami("hf_abcdefgh\nTAILSECRET")
    assert answer.kind == "invalid-token" and fake.requests == []
    assert "TAILSECRET" not in repr(answer)


def test_hub_checks_write_nothing_under_home(tmp_path: Path) -> None:
    routes = {
        ("GET", "/api/agent-harnesses"): lambda h: h.send_json(200, {"standardEnvVars": ["AGENT"], "harnesses": {}}),
        ("GET", "/api/whoami-v2"): lambda h: h.send_json(200, WHOAMI),
    }
    home = tmp_path / "home"
    home.mkdir()
    version = tmp_path / "model_repository" / "m" / "1"
    version.mkdir(parents=True)
    (version / "model.json").write_text(json.dumps({"model": "org/name"}))
    (version.parent / "config.pbtxt").write_text('backend: "vllm"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING", "XDG_"))}
    env.update({"HOME": str(home), "HF_TOKEN": "hf_" + "b" * 34, "DOCKER_HOST": "unix:///nonexistent"})
    with serve(routes) as fake:
        env["HF_ENDPOINT"] = fake.url
        done = subprocess.run(
            [sys.executable, "-m", "triton_doctor", "check", "--only", "hf-token", "--format", "json"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        paths = [p for _m, p, _h in fake.requests]
    report = json.loads(done.stdout)
    assert {c["check"]: c["status"] for c in report["checks"]}["hf-token"] == "pass", done.stderr
    assert "/api/whoami-v2" in paths and "/api/agent-harnesses" not in paths
    assert list(home.rglob("*")) == []
