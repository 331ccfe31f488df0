"""Control characters from model names, configs and server answers never reach the terminal raw."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.httpfakes import Handler, serve, triton_routes
from triton_doctor.report.redact import one_line, printable, xml_safe

RAW = ("\x1b", "\x07", "\x00", "\r", "\x9b", "\u202e")


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "model_repository"
    model = repo / "evil\x1b[31mname"
    (model / "1").mkdir(parents=True)
    (model / "config.pbtxt").write_text('name: "other\x1b]0;pwned\x07\r"\nbackend: "vllm"\nmax_batch_size: 0\n')
    (model / "1" / "model.json").write_text('{"model": "\x1b[2J/\u202eevil"}')
    return repo


def test_text_output_escapes_control_characters(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    result = run_cli("check", "--repo", str(repo), "--offline", "-v", env={"DOCKER_HOST": "unix:///nonexistent"})
    text = result.stdout + result.stderr
    assert "\\x1b" in text
    for char in RAW:
        assert char not in text, repr(char)


def test_junit_output_is_valid_xml_with_control_characters(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    args = ("check", "--repo", str(repo), "--offline", "--format", "junit")
    result = run_cli(*args, env={"DOCKER_HOST": "unix:///nonexistent"})
    ET.fromstring(result.stdout.encode())  # raises on characters XML forbids
    assert "\x1b" not in result.stdout and "\x00" not in result.stdout


def test_sse_error_event_is_escaped_in_text_output() -> None:
    def evil(h: Handler) -> None:
        body = b'data: {"error": "boom \\u001b[2J\\u0007 \\u0000 bell"}\n\n'
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    models = [{"name": "m", "state": "READY"}]
    routes = triton_routes(models, **{"POST /v2/models/m/generate_stream": evil, "POST /v2/models/m/generate": evil})
    with serve(routes) as fake:
        result = run_cli("check", "--only", "live", "--server", fake.url, "--model", "m", "--timeout", "20")
    text = result.stdout + result.stderr
    assert "boom \\x1b[2J\\x07 \\x00 bell" in text
    for char in RAW:
        assert char not in text


def test_helpers() -> None:
    assert printable("a\tb\nc\x1b[0m\x07\u202e") == "a\tb\nc\\x1b[0m\\x07\\u202e"
    assert one_line("a\nb\rc") == "a\\x0ab\\x0dc"
    assert xml_safe("ok\x1b\x00\n\t\u00e9") == "ok\\x1b\\x00\n\t\u00e9"


def test_progress_lines_are_redacted_before_shortening_and_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from triton_doctor.app import CheckRequest, run_check_command
    from triton_doctor.check import Check
    from triton_doctor.deploy.inputs import TargetInput
    from triton_doctor.facts.context import Context
    from triton_doctor.registry import Registry
    from triton_doctor.results import Category, Outcome

    secret = "hf_" + "Q" * 34
    monkeypatch.setenv("HF_TOKEN", secret)
    line = "\x1b]0;title\x07" + "x" * 82 + secret  # the token starts where a 100-character cut falls

    class Talker(Check):
        id = "talker"
        title = "Talker"
        category = Category.LOGS

        def run(self, ctx: Context) -> Outcome:
            ctx.progress("waiting", 1.0, line)
            ctx.progress("waiting\x1b[2J", 20.0, "url http://u:Pw0rdSecret9@h/ " + line)
            return Outcome(summary="done")

    registry = Registry(checks={"talker": Talker})
    run_check_command(CheckRequest(target=TargetInput(repo=str(tmp_path)), fmt="json"), registry=registry)
    err = capsys.readouterr().err
    assert "... waiting" in err and "\\x1b" in err
    assert "\x1b" not in err and "\x07" not in err
    assert "hf_QQQ" not in err and "Pw0rdSecret9" not in err
