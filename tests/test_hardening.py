"""Issue 13, the file and input half: each reproduction of the issue as a test (output writer, bounded
reader, config.pbtxt limits, config and environment validation, closed standard streams, timed-out checks)."""

from __future__ import annotations

import gzip
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fixtures.generate import LOCAL_CONFIG, LOCAL_JSON
from tests.conftest import FIXTURES, all_findings, run_cli
from triton_doctor.probes import fs
from triton_doctor.probes.pbtxt import MAX_NESTING, field_positions, parse_config

LOGS = FIXTURES / "logs"
CLI = [sys.executable, "-m", "triton_doctor"]


def _repo(root: Path, config: str = LOCAL_CONFIG, model_json: str = LOCAL_JSON) -> Path:
    model = root / "model_repository" / "gemma_local"
    (model / "1").mkdir(parents=True)
    (model / "config.pbtxt").write_text(config, encoding="utf-8")
    (model / "1" / "model.json").write_text(model_json, encoding="utf-8")
    return root / "model_repository"


def _check(repo: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, object], str]:
    result = run_cli("check", "--repo", str(repo), "--only", "repo", "--offline", "--format", "json", *args, env=env)
    return result.exit_code, (json.loads(result.stdout) if result.stdout.strip() else {}), result.stderr


def _sh(script: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHON": sys.executable}
    return subprocess.run(
        ["sh", "-c", script], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


# -- 1. --output: one writer -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "minor"), [("null", 3), ("full", 7)])
def test_output_to_a_device_writes_in_place_and_never_replaces_it(tmp_path: Path, name: str, minor: int) -> None:
    # A private node of the same device (major 1), so that a regression run as root (the case) cannot
    # replace this machine's own /dev/null or /dev/full.
    device = str(tmp_path / name)
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
        with open(device, "wb"):
            pass
    except OSError as exc:
        pytest.skip(f"cannot make a {name} device node here (needs root and a dev-enabled /tmp): {exc}")
    before = os.stat(device)
    result = run_cli("check", "--sample", "--only", "repo", "--format", "json", "--output", device)
    after = os.stat(device)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino
    assert stat.S_IMODE(after.st_mode) == stat.S_IMODE(before.st_mode)
    if name == "full":
        assert result.exit_code == 2 and "no space left" in result.stderr
        assert "Traceback" not in result.stderr
    else:
        assert result.exit_code == 0


def test_output_keeps_mode_and_follows_symlinks(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text("old", encoding="utf-8")
    report.chmod(0o640)
    link = tmp_path / "latest.json"
    link.symlink_to(report)
    assert run_cli("check", "--sample", "--only", "repo", "--format", "json", "--output", str(link)).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(report)
    assert stat.S_IMODE(report.stat().st_mode) == 0o640
    assert json.loads(report.read_text(encoding="utf-8"))["checks"]
    fresh = tmp_path / "new" / "r.json"
    old_umask = os.umask(0o022)
    try:
        assert run_cli("check", "--sample", "--only", "repo", "--format", "json", "--output", str(fresh)).exit_code == 0
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644  # as '>' creates it, not mkstemp's 0600
    assert [p.name for p in fresh.parent.iterdir()] == ["r.json"]  # no temporary file left


def test_output_to_a_fifo_reaches_its_reader_and_without_one_fails_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    start = time.monotonic()
    result = run_cli("check", "--sample", "--only", "repo", "--format", "json", "--output", str(fifo))
    assert result.exit_code == 2 and "nothing is reading" in result.stderr
    assert time.monotonic() - start < 30
    received: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as handle:
            received.append(handle.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    time.sleep(0.2)
    result = run_cli("check", "--sample", "--only", "repo", "--format", "json", "--output", str(fifo))
    thread.join(10)
    assert result.exit_code == 0
    assert json.loads(received[0])["checks"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_output_to_a_directory_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("check", "--sample", "--only", "repo", "--format", "json", "--output", str(tmp_path))
    assert result.exit_code == 2 and "is a directory" in result.stderr


# -- 2, 3. the bounded reader ------------------------------------------------------------------------------------


def test_reader_refuses_devices_fifos_and_oversize_files_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    big = tmp_path / "big"
    big.write_bytes(b"x" * (fs.MAX_TEXT_BYTES + 1))
    start = time.monotonic()
    for path, reason in [
        (Path("/dev/zero"), "is a device"),
        (fifo, "FIFO"),
        (tmp_path, "directory"),
        (big, "larger than 4 MiB"),
    ]:
        with pytest.raises(fs.FileReadError, match=reason):
            fs.read_file_bytes(path)
    assert time.monotonic() - start < 5
    assert fs.read_text(tmp_path / "nope").missing


def test_reader_decodes_by_bom_and_reads_gzip_within_the_cap(tmp_path: Path) -> None:
    text = "docker run --rm -v C:\\m:/models img\r\n"
    for codec in ("utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        path = tmp_path / codec
        path.write_bytes(text.encode(codec))
        assert fs.read_file_text(path).startswith("docker run"), codec
    packed = tmp_path / "run.sh.gz"
    packed.write_bytes(gzip.compress(text.encode("utf-16")))
    assert fs.read_file_text(packed, gzip=True).startswith("docker run")
    bomb = tmp_path / "bomb.gz"
    bomb.write_bytes(gzip.compress(b"\0" * (2 * 1024 * 1024)))
    with pytest.raises(fs.FileReadError, match="decompresses to more than"):
        fs.read_file_bytes(bomb, 1024 * 1024, gzip=True)


def test_repository_files_that_are_devices_or_fifos_are_findings(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    model = repo / "gemma_local"
    (model / "config.pbtxt").unlink()
    (model / "config.pbtxt").symlink_to("/dev/zero")
    (model / "1" / "model.json").unlink()
    os.mkfifo(model / "1" / "model.json")
    start = time.monotonic()
    code, report, stderr = _check(repo)
    assert time.monotonic() - start < 30
    assert code == 1 and "Traceback" not in stderr
    messages = {f["id"]: f["message"] for f in all_findings(report)}  # type: ignore[arg-type]
    assert "is a device" in messages["model-config[unreadable]"]
    assert "FIFO" in messages["model-json[invalid-json]"]


def test_fifo_and_device_token_files_do_not_hang(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    fifo = tmp_path / "token"
    os.mkfifo(fifo)
    hf_home = tmp_path / "hf"
    hf_home.mkdir()
    os.mkfifo(hf_home / "token")
    for env in ({"HF_TOKEN_PATH": str(fifo)}, {"HF_TOKEN_PATH": "/dev/zero"}, {"HF_HOME": str(hf_home)}):
        start = time.monotonic()
        code, _report, stderr = _check(repo, env=env)
        assert code in {0, 1} and "Traceback" not in stderr
        assert time.monotonic() - start < 30


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "directory"])
def test_command_env_and_config_files_that_are_not_files_exit_2(tmp_path: Path, kind: str) -> None:
    repo = _repo(tmp_path)
    if kind == "fifo":
        bad = tmp_path / "fifo"
        os.mkfifo(bad)
    elif kind == "directory":
        bad = tmp_path
    else:
        bad = Path(kind)
    for args in (["--docker-command-file", str(bad)], ["--config", str(bad)]):
        result = run_cli("check", "--repo", str(repo), "--offline", *args)
        assert result.exit_code == 2, args
        assert str(bad) in result.stderr and "Traceback" not in result.stderr
    command = f"docker run --env-file {bad} -v {repo}:/models img"
    result = run_cli("check", "--repo", str(repo), "--only", "hf", "--offline", "--docker-command", command)
    assert result.exit_code in {0, 1} and "Traceback" not in result.stderr


def test_utf16_and_gzipped_command_files(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    command = f"docker run --rm -v {repo}:/models nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3\r\n"
    ps1 = tmp_path / "run.ps1"
    ps1.write_bytes(command.encode("utf-16"))  # what Windows PowerShell 5 writes
    packed = tmp_path / "run.sh.gz"
    packed.write_bytes(gzip.compress(command.encode()))
    for path in (ps1, packed):
        result = run_cli("check", "--only", "model-config", "--format", "json", "--docker-command-file", str(path))
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["target"]["image"].startswith("nvcr.io/nvidia/tritonserver")


def test_utf16_repository_files_are_findings_not_decoded(tmp_path: Path) -> None:
    # Triton reads config.pbtxt and the vLLM backend model.json as UTF-8: decoding UTF-16 here would hide it.
    repo = _repo(tmp_path)
    model = repo / "gemma_local"
    (model / "config.pbtxt").write_bytes(LOCAL_CONFIG.encode("utf-16"))
    (model / "1" / "model.json").write_bytes(LOCAL_JSON.encode("utf-16"))
    code, report, _stderr = _check(repo)
    assert code == 1
    messages = {f["id"]: f["message"] for f in all_findings(report)}  # type: ignore[arg-type]
    assert "UTF-16" in messages["model-config[unreadable]"] and "UTF-16" in messages["model-json[invalid-json]"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig", "gzip", "gzip-utf-16"])
def test_logs_in_utf16_and_gzip_are_diagnosed(tmp_path: Path, encoding: str) -> None:
    text = (LOGS / "port-in-use.log").read_text(encoding="utf-8")
    path = tmp_path / "server.log"
    if encoding.startswith("gzip"):
        path = tmp_path / "server.log.gz"
        path.write_bytes(gzip.compress(text.encode("utf-16" if encoding.endswith("16") else "utf-8")))
    else:
        path.write_bytes(text.encode(encoding))
    result = run_cli("logs", str(path), "--format", "json")
    assert result.exit_code == 1, result.stderr
    assert json.loads(result.stdout)["checks"][0]["findings"][0]["catalog_id"] == "port-in-use"


def test_logs_from_a_device_or_fifo_exit_2_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for source in ("/dev/zero", str(fifo)):
        result = run_cli("logs", source)
        assert result.exit_code == 2 and "not a regular file" in result.stderr and "logs -" in result.stderr


# -- config.pbtxt -------------------------------------------------------------------------------------------------


def test_deep_nesting_is_a_finding_and_the_scan_stays_linear() -> None:
    for levels in (MAX_NESTING + 1, 10_000, 100_000):
        text = "input { " * levels
        parsed = parse_config(text)
        assert parsed.error is not None and f"more than {MAX_NESTING} levels" in parsed.error
        positions = field_positions(text)
        assert len(positions) <= 2 * MAX_NESTING + 2
        assert max(len(p) for p in positions) <= 2 * MAX_NESTING + 2


def test_long_syntax_error_line_is_quoted_once_and_cut(tmp_path: Path) -> None:
    line = 'backend: "vllm" ' + "bogus_field: 1 " * 270_000  # about 4 MB on one line
    repo = _repo(tmp_path, config=line)
    code, report, stderr = _check(repo)
    assert code == 1
    finding = next(f for f in all_findings(report) if f["id"] == "model-config[syntax]")  # type: ignore[index]
    assert len(json.dumps(finding)) < 2_000
    assert len(stderr) < 10_000


def test_secret_in_a_long_line_is_redacted_before_the_cut(tmp_path: Path) -> None:
    token = "hf_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7"
    line = "x" * 150 + f' parameters: {{ key: "t" value: {{ string_value: "{token}" }} }}' + " oops" * 200
    repo = _repo(tmp_path, config=f'backend: "vllm"\n{line}\n')
    _code, report, _stderr = _check(repo)
    assert token not in json.dumps(report)
    assert token[:12] not in json.dumps(report)


def test_unknown_field_names_get_did_you_mean_and_several_errors_are_reported(tmp_path: Path) -> None:
    config = 'name: "gemma_local"\nbackend: "vllm"\ninstance_grup [ { count: 1 } ]\nmax_bach_size: 0\n'
    repo = _repo(tmp_path, config=config)
    _code, report, _stderr = _check(repo)
    syntax = [f for f in all_findings(report) if f["id"] == "model-config[syntax]"]  # type: ignore[index]
    assert [f["location"]["line"] for f in syntax] == [3, 4]
    assert "instance_group" in syntax[0]["remedy"] and "max_batch_size" in syntax[1]["remedy"]


def test_a_flood_of_findings_is_capped_per_check(tmp_path: Path) -> None:
    config = 'backend: "vllm"\n' + 'input { name: "a" data_type: TYPE_STRING dims: [1] }\n' * 500
    repo = _repo(tmp_path, config=config)
    _code, report, _stderr = _check(repo)
    io = next(c for c in report["checks"] if c["check"] == "config-io")  # type: ignore[attr-defined]
    assert len(io["findings"]) == 100 and "more findings not shown" in io["summary"]
    assert io["status"] == "fail"


# -- config and environment ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("models = [1, 2]", "models[0] must be a string"),
        ('fail_on = "never"', "is not one of warn, fail"),
        ('format = "xml"', "is not one of text, json, junit"),
        ("a = " + "[" * 20_000 + "]" * 20_000, "nested too deeply"),
        ("offline = 1", "must be a boolean"),
    ],
)
def test_config_values_are_validated(tmp_path: Path, toml: str, expected: str) -> None:
    (tmp_path / "triton-doctor.toml").write_text(toml, encoding="utf-8")
    result = run_cli("check", "--offline", cwd=tmp_path)
    assert result.exit_code == 2 and expected in result.stderr and "Traceback" not in result.stderr


def test_pyproject_tool_table_of_the_wrong_type(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool]\ntriton-doctor = "str"\n', encoding="utf-8")
    result = run_cli("check", "--offline", cwd=tmp_path)
    assert result.exit_code == 2 and "must be a table" in result.stderr


@pytest.mark.parametrize("name", ["TRITON_DOCTOR_DOCKER_TIMEOUT", "TRITON_DOCTOR_HUB_TIMEOUT"])
@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf", "0"])
def test_timeout_variables_are_validated(name: str, value: str) -> None:
    result = run_cli("check", "--sample", "--only", "repo", env={name: value})
    assert result.exit_code == 2 and name in result.stderr


@pytest.mark.parametrize("value", ["-5", "nan", "0", "inf"])
def test_timeout_option_must_be_positive(value: str) -> None:
    assert run_cli("check", "--sample", "--only", "repo", "--timeout", value).exit_code == 2


def test_only_and_skip_of_the_same_check_is_a_usage_error() -> None:
    result = run_cli("check", "--sample", "--only", "model-config", "--skip", "model-config")
    assert result.exit_code == 2 and "leaves no check to run" in result.stderr


def test_deleted_working_directory(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    proc = _sh(f'cd "{gone}" && rmdir "{gone}" && "$PYTHON" -m triton_doctor check --offline', tmp_path)
    assert proc.returncode == 2 and "current directory" in proc.stderr and "Traceback" not in proc.stderr


def test_overlong_integer_in_model_json_is_a_finding_not_a_check_error(tmp_path: Path) -> None:
    repo = _repo(tmp_path, model_json='{"model": "/m", "max_model_len": ' + "9" * 5000 + "}")
    code, report, _stderr = _check(repo)
    assert code == 1
    statuses = {c["check"]: c["status"] for c in report["checks"]}  # type: ignore[attr-defined]
    assert "error" not in statuses.values()
    assert any(f["id"] == "model-json[invalid-json]" for f in all_findings(report))  # type: ignore[index]


# -- closed standard streams, broken pipes --------------------------------------------------------------------


def test_closed_stdout_with_a_machine_report_exits_2(tmp_path: Path) -> None:
    proc = _sh('"$PYTHON" -m triton_doctor check --sample --only repo --format json >&-', tmp_path)
    assert proc.returncode == 2 and "standard output is closed" in proc.stderr and "Traceback" not in proc.stderr
    proc = _sh('"$PYTHON" -m triton_doctor check --sample --only repo >&-', tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    for command in ("list-checks", "--version", "explain model-config"):
        proc = _sh(f'"$PYTHON" -m triton_doctor {command} >&-', tmp_path)
        assert proc.returncode == 2 and "standard output is closed" in proc.stderr, command
        assert "Traceback" not in proc.stderr


def test_closed_stdin_and_stderr(tmp_path: Path) -> None:
    proc = _sh('"$PYTHON" -m triton_doctor logs - <&-', tmp_path)
    assert proc.returncode == 2 and "standard input is closed" in proc.stderr
    proc = _sh('"$PYTHON" -m triton_doctor check --sample --only repo --format json <&- 2>&-', tmp_path)
    assert proc.returncode == 0 and json.loads(proc.stdout)["checks"]


def test_broken_stdout_pipe(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [*CLI, "check", "--sample", "--only", "repo", "--format", "json"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 2 and "went away" in proc.stderr and "Traceback" not in proc.stderr


# -- a timed-out check cannot hold the process -------------------------------------------------------------------

_HANGING = """
import threading, time
from triton_doctor.check import Check
from triton_doctor.facts.context import Context
from triton_doctor.results import Category, Outcome
from triton_doctor.runner import RunOptions, finish, run_checks
from triton_doctor.deploy.target import Target

class Hangs(Check):
    id = "hangs"
    title = "hangs"
    category = Category.REPO
    timeout_s = 0.5

    def run(self, ctx):
        worker = threading.Thread(target=time.sleep, args=(3600,))  # not a daemon: would block the exit
        worker.start()
        worker.join()
        return Outcome()

results = run_checks([Hangs], Context(Target(repo=".")), RunOptions())
print(results[0].status.value, flush=True)
finish(3)
print("not reached")
"""


def test_a_timed_out_check_does_not_hold_the_process(tmp_path: Path) -> None:
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", _HANGING], capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path
    )
    assert proc.returncode == 3 and proc.stdout.split() == ["error"]
    assert time.monotonic() - start < 30
