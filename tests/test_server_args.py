"""server-args: tritonserver's own start-time refusals, from its parser's table, checked against the real server.

The table (doctor/knowledge/server_args.json) is generated from src/command_line_parser.cc of each release;
the real-stack test runs the real tritonserver 2.51 of stack/build.sh on each bad command and asserts that it
exits with exactly the message the static check predicts, and that ``logs`` names it from that real log.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, ROOT, all_findings, run_cli
from tests.dockerutil import TEST_LABEL, docker_client
from triton_doctor.knowledge.server_args import known_releases, refusal_messages, refusals
from triton_doctor.logs import load_catalog, scan_lines

REPO = FIXTURES / "repos" / "healthy-remote" / "model_repository"
IMAGE = "nvcr.io/nvidia/tritonserver:{tag}-vllm-python-py3"

#: Bad server commands and the id of the refusal the server prints for each.
BAD = [
    (
        ["--model-repository=/models", "--load-model=tiny"],
        "use-load-model-requires-setting-model-control-mode-explicit",
    ),
    (["--model-repositry=/models"], "unrecognized-option"),
    (["--model-repository=/models", "--model-control-mode=explict"], "invalid-argument-model-control-mode"),
    (["--model-repository=/models", "--log-verbose=loud"], "invalid-value"),
    (["--model-repository=/models", "--strict-readiness=yes"], "invalid-value-bool"),
    (["--model-repository=/models", "--log-format=iso"], "invalid-argument-log-format"),
    (
        ["--model-repository=/models", "--http-port=8001"],
        "server-cannot-listen-requests-and-requests-at-same-address-a",
    ),
    (["--model-repository", "/models", "gemma"], "unexpected-argument"),
    (["--model-repository"], "option-requires-argument"),
    (["--log-verbose=1"], "model-repository-required"),
    (
        ["--model-repository=/models", "--response-cache-byte-size=1024", "--cache-config=local,size=1024"],
        "incompatible-flags-response-cache-byte-size-and-cache-config",
    ),
]


def _check(command: str) -> tuple[int, dict[str, dict[str, Any]]]:
    result = run_cli(
        "check", "--only", "server-args", "--docker-command", command, "--format", "json",
        env={"DOCKER_HOST": "unix:///nonexistent"},
    )  # fmt: skip
    assert "Traceback" not in result.stderr
    return result.exit_code, {f["id"]: f for f in all_findings(result.json())}


def test_table_covers_every_release_and_names_its_source() -> None:
    assert known_releases()[0] == "24.04" and len(known_releases()) >= 20
    rows = refusal_messages()
    assert len({r["id"] for r in rows}) == len(rows) >= 30
    assert all(r["source"] and r["remedy"] and r["releases"] for r in rows)
    load = next(r for r in rows if r["id"].startswith("use-load-model"))
    assert load["releases"][0] == "24.06"  # before 24.06 the parser ignores --load-model without explicit mode


@pytest.mark.parametrize(("args", "expected"), BAD, ids=[b[1] for b in BAD])
def test_each_refusal_predicted(args: list[str], expected: str) -> None:
    found = refusals(["tritonserver", *args], "24.10")
    assert [r.id for r in found][:1] == [expected], found
    assert found[0].remedy


def test_load_model_without_explicit_is_an_error_with_the_servers_words() -> None:
    command = f"docker run --gpus all -v {REPO}:/models {IMAGE.format(tag='25.06')} tritonserver " + (
        "--model-repository=/models --load-model=gemma"
    )
    code, found = _check(command)
    hit = found["server-args[refused]"]
    assert code == 1 and hit["severity"] == "error"
    assert "Error: Use of '--load-model' requires setting '--model-control-mode=explicit' as well." in hit["message"]
    assert hit["catalog_id"] == "server-arg-use-load-model-requires-setting-model-control-mode-explicit"
    assert "--model-control-mode=explicit" in hit["remedy"]
    # The same command for 24.05 is not refused: the server ignores --load-model and loads every model.
    code, found = _check(command.replace("25.06", "24.05"))
    assert (
        found["server-args[ignored]"]["severity"] == "warning"
        and "ignores --load-model" in found["server-args[ignored]"]["message"]
    )


def test_typo_gets_did_you_mean_and_missing_command_is_an_error() -> None:
    image = IMAGE.format(tag="25.06")
    _, found = _check(f"docker run --gpus all {image} tritonserver --model-repositry=/models")
    assert "--model-repository=/models" in found["server-args[refused]"]["remedy"]
    code, found = _check(f"docker run --gpus all {image}")
    assert code == 1 and "no tritonserver command" in found["server-args[no-command]"]["message"]
    code, found = _check(f"docker run --gpus all {image} --model-repository=/models")
    assert code == 1 and "server-args[no-command]" in found
    code, found = _check(f"docker run --gpus all --entrypoint /bin/sh {image}")
    assert "server-args[no-command]" not in found
    code, found = _check(f"docker run --gpus all {image} tritonserver --model-repository=/models")
    assert code == 0 and not found


@pytest.mark.parametrize("entry", [e for e in load_catalog() if e.id.startswith("server-arg-")], ids=lambda e: e.id)
def test_logs_find_each_refusal_in_three_shapes(entry: Any) -> None:
    row = next(r for r in refusal_messages() if f"server-arg-{r['id']}" == entry.id)
    message = str(row["message"]).replace("{}", "x").splitlines()[0]
    for line in (
        message,
        f"2025-03-12T10:00:00.123456789Z {message}",  # docker logs -t
        f"triton-1  | {message}",  # compose
    ):
        assert entry.id in scan_lines(["Usage: tritonserver [options]", line]).hits, line


@pytest.fixture(scope="module")
def stack() -> str:
    docker_client().close()
    proc = subprocess.run(
        ["bash", str(ROOT / "stack" / "build.sh")], capture_output=True, text=True, check=False, timeout=3000
    )
    if proc.returncode != 0:
        pytest.fail(f"stack/build.sh failed:\n{proc.stderr[-3000:]}")
    return proc.stdout.strip().splitlines()[-1]


def test_real_server_prints_what_the_table_predicts(stack: str, tmp_path: Path) -> None:
    """tritonserver 2.51 (24.10's parser) refuses each bad command with the predicted message, and ``logs``
    names that refusal from the real log."""
    client = docker_client()
    try:
        for args, expected in BAD:
            predicted = refusals(["tritonserver", *args], "24.10")[0]
            container = client.containers.create(stack, ["tritonserver", *args], labels={TEST_LABEL: "server-args"})
            try:
                container.start()
                code = container.wait(timeout=60)["StatusCode"]
                out = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
            finally:
                container.remove(force=True)
            assert code != 0, (args, out[-500:])
            last = "\n".join(line for line in out.splitlines() if line.strip() and not line.startswith(("\t", " ")))
            for piece in predicted.message.splitlines():
                assert piece in last, (expected, piece, last[-600:])
            log = tmp_path / f"{expected}.log"
            log.write_text(out)
            result = run_cli("logs", str(log), "--format", "json")
            ids = {f["catalog_id"] for f in all_findings(result.json()) if f["severity"] != "info"}
            assert f"server-arg-{expected}" in ids, (expected, ids)
    finally:
        client.close()
