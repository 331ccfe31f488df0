"""Log diagnosis: every catalog entry's example log, healthy logs, wrappers, streaming, sources."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from fixtures.logs.generate import FAILURES, NO_LOG
from tests.conftest import FIXTURES, all_findings, run_cli
from triton_doctor.knowledge import CATALOG
from triton_doctor.logs import load_catalog
from triton_doctor.logs.scan import scan, scan_lines

LOGS = FIXTURES / "logs"
CASES: dict[str, list[str]] = json.loads((LOGS / "cases.json").read_text())
NOTES = {e.id for e in load_catalog() if e.role == "note"}


def _logs(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    result = run_cli("logs", *args, "--format", "json", env=env)
    assert "Traceback" not in result.stderr
    return result.exit_code, result.json(), result.stderr


def test_catalog_matches_the_knowledge_base() -> None:
    ids = [e.id for e in load_catalog()]
    assert ids == list(CATALOG)
    assert {e.id for e in load_catalog() if not e.patterns} == NO_LOG
    assert set(FAILURES) | NO_LOG == set(CATALOG)


def test_committed_logs_are_current(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(LOGS / "generate.py"), str(tmp_path)], check=True, capture_output=True)
    for path in tmp_path.iterdir():
        assert path.read_text() == (LOGS / path.name).read_text(), path.name


@pytest.mark.parametrize("name", sorted(CASES), ids=sorted(CASES))
def test_example_log(name: str) -> None:
    code, report, _ = _logs(str(LOGS / name))
    findings = all_findings(report)
    errors = [f for f in findings if f["severity"] != "info"]
    if not CASES[name]:
        assert errors == [] and code == 0
        assert any(f["id"] == "container-logs[model-ready]" for f in findings) or "default" in name
        return
    (expected,) = CASES[name]
    hit = next((f for f in errors if f["catalog_id"] == expected), None)
    assert hit is not None, [f["id"] for f in errors]
    assert hit["id"] == f"container-logs[{expected}]"
    assert hit["location"]["line"] >= 1 and hit["evidence"].startswith(f"L{hit['location']['line']}: ")
    assert hit["remedy"]
    line = (LOGS / name).read_text().splitlines()[hit["location"]["line"] - 1]
    assert line.strip()[:40] in hit["evidence"]
    assert code == (0 if expected in NOTES else 1)


def test_wrappers_only_without_a_root_cause() -> None:
    _, report, _ = _logs(str(LOGS / "no-kv-cache-memory.log"))
    ids = {f["catalog_id"] for f in all_findings(report) if f["severity"] == "error"}
    assert ids == {"no-kv-cache-memory"}
    _, report, _ = _logs(str(LOGS / "server-exits-on-any-load-failure.log"))
    ids = {f["catalog_id"] for f in all_findings(report) if f["severity"] == "error"}
    assert "server-exits-on-any-load-failure" in ids


def test_python_backend_triple_is_one_finding() -> None:
    _, report, _ = _logs(str(LOGS / "unknown-engine-arg.log"))
    (finding,) = [f for f in all_findings(report) if f["catalog_id"] == "unknown-engine-arg"]
    assert "'disable_log_requests'" in finding["message"]
    assert finding["evidence"].count("\n") >= 1  # pb_stub and failed-to-load lines both quoted


def test_tables_and_banner() -> None:
    with (LOGS / "healthy-explicit.log").open("rb") as handle:
        diag = scan(handle)
    assert diag.release == "25.06" and diag.server_version == "2.59.0" and diag.vllm_version == "0.9.0rc1"
    assert diag.models == {"gemma": ("1", "READY", diag.models["gemma"][2])}
    assert diag.options["model_control_mode"] == "MODE_EXPLICIT"


def test_unquoted_old_glog_ansi_and_crlf() -> None:
    lines = [
        "\x1b[31mE0120 08:28:09.425599 2049 model_lifecycle.cc:654] failed to load 'gemma' version 1: Internal: "
        "ValueError: No available memory for the cache blocks.\x1b[0m\r",
        "error: creating server: Internal - failed to load all models\r",
    ]
    diag = scan_lines(lines)
    assert diag.root_causes() == ["no-kv-cache-memory"]
    assert diag.hits["no-kv-cache-memory"][0].line_no == 1
    assert "\x1b" not in diag.hits["no-kv-cache-memory"][0].text


def test_uncatalogued_stub_error_and_unavailable_model() -> None:
    lines = [
        'I0120 08:28:20.425599 1 pb_stub.cc:366] "Failed to initialize Python stub: '
        'ZeroDivisionError: division by zero"',
        "| Model | Version | Status |",
        "| gemma | 1 | UNAVAILABLE: Internal: ZeroDivisionError: division by zero |",
    ]
    from triton_doctor.logs.findings import diagnosis_outcome

    outcome = diagnosis_outcome(scan_lines(lines), "test")
    assert [f.id for f in outcome.findings] == ["container-logs[uncatalogued-load-failure]"]
    assert "ZeroDivisionError: division by zero" in outcome.findings[0].message
    outcome = diagnosis_outcome(scan_lines(lines[1:]), "test")
    assert [f.id for f in outcome.findings] == ["container-logs[model-unavailable]"]


def test_streaming_across_chunks_keeps_line_numbers() -> None:
    healthy = (LOGS / "healthy-explicit.log").read_bytes()
    repeats = (3 << 20) // len(healthy) + 1  # about 3 MiB: several 1 MiB chunks
    failure = b"(EngineCore_DP0 pid=1) ERROR ValueError: No available memory for the cache blocks.\n"
    data = healthy * repeats + failure + b"error: creating server: Internal - failed to load all models\n"
    diag = scan(io.BytesIO(data))
    expected_line = healthy.count(b"\n") * repeats + 1
    assert diag.lines == expected_line + 1
    assert diag.hits["no-kv-cache-memory"][0].line_no == expected_line
    assert diag.root_causes() == ["no-kv-cache-memory"]


def test_stdin_and_bad_sources(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "triton_doctor", "logs", "-", "--format", "json"],
        input=(LOGS / "port-in-use.log").read_bytes(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["checks"][0]["findings"][0]["catalog_id"] == "port-in-use"
    result = run_cli("logs", str(tmp_path / "nope"), env={"DOCKER_HOST": "unix:///nonexistent"})
    assert result.exit_code == 2
    assert "neither a file nor a container" in result.stderr or "not a file" in result.stderr


def test_fail_on_warn_for_notes() -> None:
    code, _, _ = _logs(str(LOGS / "hf-rate-limited.log"))
    assert code == 0
    result = run_cli("logs", str(LOGS / "hf-rate-limited.log"), "--fail-on", "warn")
    assert result.exit_code == 1


def test_container_source_and_container_logs_check(tmp_path: Path) -> None:
    from tests.dockerutil import docker_client, running_container

    client = docker_client()
    log = LOGS / "kv-cache-too-small-for-max-len.log"
    try:
        with running_container(
            client,
            command=["/bin/cat", "/log"],
            name="triton_doctor_test_logs",
            volumes={str(log): {"bind": "/log", "mode": "ro"}},
        ) as container:
            for _ in range(50):
                container.reload()
                if container.status == "exited":
                    break
                time.sleep(0.1)
            code, report, _ = _logs("triton_doctor_test_logs")
            assert code == 1
            assert all_findings(report)[0]["catalog_id"] == "kv-cache-too-small-for-max-len"
            assert report["target"]["logs"] == "container triton_doctor_test_logs"
            command = "docker run --gpus all --name triton_doctor_test_logs img tritonserver --model-repository=/models"
            result = run_cli("check", "--only", "container-logs", "--docker-command", command, "--format", "json")
            found = [f for f in all_findings(result.json()) if f["catalog_id"]]
            assert result.exit_code == 1 and found[0]["catalog_id"] == "kv-cache-too-small-for-max-len"
    finally:
        client.close()


VARIANTS = Path(__file__).parent / "data" / "logs"
INDEX: list[dict[str, str]] = tomllib.loads((VARIANTS / "index.toml").read_text())["log"]


def _first_three(path: Path) -> tuple[list[str | None], list[str]]:
    """The catalog ids of the first three error/warning findings, and every error finding's id."""
    from triton_doctor.logs.findings import diagnosis_outcome

    with path.open("rb") as handle:
        outcome = diagnosis_outcome(scan(handle, secrets=()), path.name)
    shown = [f for f in outcome.findings if f.severity.value != "info"]
    return [f.catalog_id for f in shown][:3], [f.id for f in outcome.findings if f.severity.value == "error"]


@pytest.mark.parametrize("item", INDEX, ids=[i["file"] for i in INDEX])
def test_variant_found_among_first_three(item: dict[str, str]) -> None:
    """Each variant (another release's wording, another log shape) names its failure mode in the top three."""
    first, errors = _first_three(VARIANTS / item["file"])
    if item["expect"]:
        assert item["expect"] in first, (item["source"], first)
    else:
        assert errors == [], errors


def test_every_entry_has_three_variants_and_sources() -> None:
    indexed = {i["file"] for i in INDEX}
    assert indexed == {p.name for p in VARIANTS.glob("*.log")}
    assert all(i["source"] for i in INDEX)
    shapes = {i["shape"] for i in INDEX}
    assert {"docker-t", "compose", "enginecore", "worker", "kubectl", "desktop", "ansi-crlf"} <= shapes
    for entry in load_catalog():
        assert len(entry.sources) == len(entry.patterns), entry.id
        if entry.patterns and not entry.id.startswith("server-arg-"):  # those: tests/test_server_args.py
            assert sum(i["expect"] == entry.id for i in INDEX) >= 3, entry.id
    # The prefilter can only find what an anchor names: every variant line a pattern matches holds one.
    from triton_doctor.logs.shapes import normalise

    for item in INDEX:
        lines = (VARIANTS / item["file"]).read_text().splitlines()
        for number, line in enumerate(lines):
            message = normalise(line)
            for entry in load_catalog():
                if any(p.search(message) for p in entry.patterns):
                    assert any(a in line.lower() for a in entry.anchors), (item["file"], number + 1, entry.id)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("2025-03-12T10:00:00.123456789Z Killed", "Killed"),
        ('2025-03-12T10:00:00+01:00 E0312 10:00:00.1 1 m.cc:1] "a \\"b\\" c"', 'a "b" c'),
        ("triton-1  | (EngineCore_DP0 pid=312) ERROR 03-12 10:00:00 [core.py:700] ValueError: x", "ValueError: x"),
        ("[pod/t-1/triton] 2025-03-12T10:00:00Z INFO 03-12 10:00:00 llm_engine.py:174] hello", "hello"),
        ("(VllmWorker rank=1 pid=9) (RayWorkerWrapper pid=7, ip=10.0.0.2) WARNING 03-12 10:00:00 [w.py:1] w", "w"),
        ("\x1b[1;31mE0312 10:00:00.123456 1 model.cc:123] failed\x1b[0m\r", "failed"),
        ("2025-03-12 11:00:00 (APIServer pid=1) INFO 03-12 10:00:00 [api_server.py:1] up", "up"),
        ("| gemma | 1 | READY |", "| gemma | 1 | READY |"),
        ("2025-03-12T10:00:00.1Z stderr F Killed", "Killed"),
        ('{"log":"E0312 10:00:00.1 1 m.cc:1] \\"boom\\"\\n","stream":"stderr","time":"2025-03-12T10:00:00Z"}', "boom"),
        ('2025-03-12T10:00:00Z E 1 model_lifecycle.cc:654] "failed to load"', "failed to load"),
    ],
)
def test_normalise_strips_every_capture_layer(line: str, message: str) -> None:
    from triton_doctor.logs.shapes import normalise

    assert normalise(line) == message


def test_shaped_lines_keep_their_line_numbers_and_tables() -> None:
    lines = (LOGS / "no-kv-cache-memory.log").read_text().splitlines()
    shaped = [f"2025-03-12T10:00:00.000Z triton-1  | {line}" for line in lines]
    diag = scan_lines(shaped)
    plain = scan_lines(lines)
    assert diag.root_causes() == plain.root_causes() == ["no-kv-cache-memory"]
    assert [h.line_no for h in diag.hits["no-kv-cache-memory"]] == [h.line_no for h in plain.hits["no-kv-cache-memory"]]
    assert diag.models == plain.models and diag.release == plain.release == "25.06"


def test_uncatalogued_load_failure_quotes_the_cause() -> None:
    """The new-user trial: an OSError no catalog entry knows still fails the log, quoting the OSError."""
    code, report, _ = _logs(str(VARIANTS / "uncatalogued-load-failure.1.log"))
    (finding,) = [f for f in all_findings(report) if f["severity"] == "error"]
    assert code == 1 and finding["catalog_id"] == "uncatalogued-load-failure"
    assert "OSError: /models/llama/weights does not appear to have a file named config.json" in finding["message"]
    code, report, _ = _logs(str(VARIANTS / "uncatalogued-load-failure.2.log"))
    messages = " ".join(f["message"] for f in all_findings(report) if f["severity"] == "error")
    assert code == 1 and "KeyError: 'rope_scaling'" in messages  # the deepest cause, not the wrapper


def test_load_model_missing_names_the_directory() -> None:
    code, report, _ = _logs(str(VARIANTS / "load-model-not-in-repository.1.log"))
    (finding,) = [f for f in all_findings(report) if f["catalog_id"] == "load-model-not-in-repository"]
    assert code == 1 and "llama/" in finding["remedy"] and "llama" in finding["message"]


def test_exception_message_joined_over_continuation_lines() -> None:
    lines = [
        "(EngineCore_DP0 pid=1) ERROR 03-12 10:00:00 [core.py:700] Traceback (most recent call last):",
        "(EngineCore_DP0 pid=1) ERROR 03-12 10:00:00 [core.py:700] ValueError: Invalid repository ID or local",
        "(EngineCore_DP0 pid=1) ERROR 03-12 10:00:00 [core.py:700] directory specified: 'x'.",
        "(EngineCore_DP0 pid=1) ERROR 03-12 10:00:00 [core.py:700] Please verify the following requirements:",
        "INFO 03-12 10:00:01 [launcher.py:1] shutting down",
        "RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}",
    ]
    diag = scan_lines(lines, secrets=())
    context = diag.wrapper_context["engine-dead"]
    assert context.line_no == 2
    assert context.text.startswith("ValueError: Invalid repository ID or local directory specified: 'x'.")
    assert "shutting down" not in context.text


@pytest.mark.parametrize(
    "secret",
    [
        "hf_" + "a1B2c3D4e5F6g7H8i9J0kLmNoPqRsT",  # token-shaped
        "s3cr3t-value-not-token-shaped",  # 29 chars, no hf_ prefix (the leak of issue 11)
        "Zq9/x+Y8==",  # base64-ish, short
    ],
)
def test_redacted_before_cut_in_long_lines(secret: str, tmp_path: Path) -> None:
    """A secret straddling every cut (600, 300, 200 chars) is redacted whole: no piece of it is printed."""
    log = tmp_path / "long.log"
    lines = []
    for cut in (190, 290, 590, 2390):
        pad = "x" * (cut - len("ValueError: No available memory for the cache blocks. "))
        lines.append(f"ValueError: No available memory for the cache blocks. {pad}{secret} tail")
    lines.append(
        f"E0312 10:00:00.1 1 model_lifecycle.cc:1] failed to load 'm' version 1: Internal: {'y' * 580}{secret}"
    )
    log.write_text("\n".join(lines) + "\n")
    env = {"HF_TOKEN": secret}
    result = run_cli("logs", str(log), "--format", "json", env=env)
    assert result.exit_code == 1
    for size in range(6, len(secret) + 1):
        assert not any(secret[i : i + size] in result.stdout for i in range(len(secret) - size + 1)), size
    diag = scan_lines(lines, secrets={secret})
    texts = [h.text + h.fragment for hits in diag.hits.values() for h in hits]
    assert texts and not any(secret[:6] in t or secret[-6:] in t for t in texts)
