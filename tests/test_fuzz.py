"""Fuzzing the whole CLI, each example in a subprocess under an address-space limit and a wall timeout.

Inputs: repository files (config.pbtxt and model.json bytes), logs, docker commands, the config file and the
doctor's environment variables. Every run must end within the timeout, inside the memory limit, with an exit
code of 0-3 and without a traceback. Few examples, derandomized, so the file stays around a minute of CI.
"""

from __future__ import annotations

import gzip
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.generate import LOCAL_CONFIG, LOCAL_JSON

#: Address space of one doctor run (a Python with protobuf, rich and the checks needs far less).
MEMORY_LIMIT = 2 * 1024**3
WALL_TIMEOUT = 60
FUZZ = settings(
    max_examples=10,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def doctor(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: bytes | None = None) -> int:
    """Run the CLI in a subprocess under the limits; assert the invariants; return the exit code."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TRITON_DOCTOR_", "HF_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "triton_doctor", *args],
        cwd=cwd,
        env={**base, "NO_COLOR": "1", "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "1", **(env or {})},
        input=stdin,
        capture_output=True,
        timeout=WALL_TIMEOUT,
        preexec_fn=_limit,
        check=False,
    )
    output = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    assert "Traceback" not in output, output[-3000:]
    assert "MemoryError" not in output, output[-3000:]
    assert proc.returncode in {0, 1, 2, 3}, (proc.returncode, output[-3000:])
    return proc.returncode


def _mutate(base: bytes, data: st.DataObject) -> bytes:
    text = base
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        op = data.draw(st.sampled_from(["insert", "delete", "repeat", "bom", "nest", "long-line", "utf16"]))
        at = data.draw(st.integers(0, len(text)))
        if op == "insert":
            text = text[:at] + data.draw(st.binary(min_size=1, max_size=40)) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + data.draw(st.integers(1, 40)) :]
        elif op == "repeat":
            text = text[:at] * data.draw(st.integers(2, 50)) + text[at:]
        elif op == "bom":
            text = data.draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x1f\x8b"])) + text
        elif op == "nest":
            opener = data.draw(st.sampled_from([b"input { ", b"{", b"[", b"parameters < ", b'{"a": ']))
            text = text[:at] + opener * data.draw(st.integers(50, 20_000)) + text[at:]
        elif op == "long-line":
            text = text[:at] + b"x" * data.draw(st.integers(10_000, 500_000)) + text[at:]
        else:
            text = text.decode("utf-8", "replace").encode("utf-16")
    return text


@FUZZ
@given(data=st.data())
def test_fuzz_repository_files(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = root / "model_repository" / "gemma_local"
        (model / "1").mkdir(parents=True)
        (model / "config.pbtxt").write_bytes(_mutate(LOCAL_CONFIG.encode(), data))
        json_bytes = _mutate(LOCAL_JSON.encode(), data)
        if data.draw(st.booleans(), label="huge int"):
            json_bytes = b'{"model": "x", "max_model_len": ' + b"9" * 5000 + b"}"
        (model / "1" / "model.json").write_bytes(json_bytes)
        doctor(
            "check",
            "--repo",
            str(root / "model_repository"),
            "--only",
            "repo",
            "--offline",
            "--format",
            "json",
            cwd=root,
        )


@FUZZ
@given(data=st.data())
def test_fuzz_logs(data: st.DataObject) -> None:
    base = (
        b"I1124 model_repository_manager.cc:1] loading: m:1\nE1124 server.cc:1] Socket '0.0.0.0:8000' already in use\n"
    )
    log = _mutate(base, data)
    if data.draw(st.booleans(), label="gzip"):
        log = gzip.compress(log)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "server.log"
        path.write_bytes(log)
        doctor("logs", str(path), "--format", "json", cwd=Path(tmp))
        doctor("logs", "-", cwd=Path(tmp), stdin=log)


COMMAND_WORDS = st.sampled_from(
    [
        "docker",
        "run",
        "--gpus",
        "all",
        "-v",
        "-e",
        "--env-file",
        "--mount",
        "type=bind,source=/x,target=/models",
        "-p",
        "8000:8000",
        "--shm-size=1g",
        "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3",
        "tritonserver",
        "--model-repository=/models",
        "--load-model",
        "`",
        "^",
        "\\",
        '"',
        "'",
        "$(touch CANARY)",
        "`touch CANARY`",
        "; touch CANARY",
        "${HF_TOKEN}",
        "$env:HF_TOKEN",
        "%HF_TOKEN%",
        "\n",
        "\r\n",
        "C:\\models:/models",
        "/dev/zero",
    ]
)


@FUZZ
@given(words=st.lists(st.one_of(COMMAND_WORDS, st.text(max_size=20)), max_size=30), as_file=st.booleans())
def test_fuzz_docker_commands(words: list[str], as_file: bool) -> None:
    command = " ".join(words)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "model_repository").mkdir()
        args = ["check", "--only", "docker-args", "--offline", "--format", "json"]
        if as_file:
            (root / "run.ps1").write_bytes(command.encode("utf-16"))
            args += ["--docker-command-file", "run.ps1"]
        else:
            args += ["--docker-command", command.replace("\0", "")]
        doctor(*args, cwd=root)
        assert not (root / "CANARY").exists()


TOML_VALUES = st.recursive(
    st.one_of(
        st.integers(-(10**30), 10**30).map(str),
        st.booleans().map(lambda b: "true" if b else "false"),
        st.text(max_size=30).map(lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'),
        st.sampled_from(['"warn"', '"never"', '"xml"', '"json"', "nan", "inf", "1979-05-27"]),
    ),
    lambda inner: st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
    max_leaves=10,
)


@FUZZ
@given(
    entries=st.lists(
        st.tuples(
            st.sampled_from(["repo", "models", "mounts", "only", "skip", "fail_on", "format", "offline", "x", "tool"]),
            TOML_VALUES,
        ),
        max_size=6,
    ),
    pyproject=st.booleans(),
    junk=st.binary(max_size=20),
)
def test_fuzz_config_file(entries: list[tuple[str, str]], pyproject: bool, junk: bytes) -> None:
    body = "\n".join(f"{key} = {value}" for key, value in dict(entries).items()).encode() + b"\n" + junk
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if pyproject:
            (root / "pyproject.toml").write_bytes(b"[tool.triton-doctor]\n" + body)
        else:
            (root / "triton-doctor.toml").write_bytes(body)
        doctor("check", "--offline", "--only", "repo", cwd=root)


@FUZZ
@given(
    docker_timeout=st.one_of(st.sampled_from(["abc", "-1", "nan", "inf", "1e999", "0", "5"]), st.text(max_size=10)),
    hub_timeout=st.sampled_from(["", "x", "-0", "30"]),
    token_path=st.sampled_from(["fifo", "/dev/zero", "dir", "missing", "big"]),
    cli_timeout=st.sampled_from(["-5", "nan", "1e-9", "abc", "10"]),
)
def test_fuzz_environment(docker_timeout: str, hub_timeout: str, token_path: str, cli_timeout: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.mkfifo(root / "fifo")
        (root / "dir").mkdir()
        (root / "big").write_bytes(b"hf_" + b"a" * (1024 * 1024))
        paths = {
            "fifo": str(root / "fifo"),
            "dir": str(root / "dir"),
            "missing": str(root / "no"),
            "big": str(root / "big"),
        }
        env = {
            "TRITON_DOCTOR_DOCKER_TIMEOUT": docker_timeout.replace("\0", ""),
            "TRITON_DOCTOR_HUB_TIMEOUT": hub_timeout,
            "HF_TOKEN_PATH": paths.get(token_path, token_path),
        }
        doctor("check", "--sample", "--only", "repo", "--timeout", cli_timeout, cwd=root, env=env)
