"""The command line: exit codes, formats, config files, errors without tracebacks, lazy imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli, validate_report
from triton_doctor import __version__

HEALTHY = FIXTURES / "repos" / "healthy-remote" / "model_repository"
BROKEN = FIXTURES / "repos" / "batch-size-guide-256" / "model_repository"
WARNING_ONLY = FIXTURES / "repos" / "io-unknown-input" / "model_repository"


def test_version() -> None:
    result = run_cli("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"triton-doctor {__version__}"


def test_sample_passes() -> None:
    result = run_cli("check", "--sample", "--only", "repo")
    assert result.exit_code == 0, result.stderr
    assert "No issues found" in result.stderr
    assert "[✓] Model repository" in result.stderr


def test_exit_codes_and_fail_on() -> None:
    assert run_cli("check", "--only", "repo", "--repo", str(HEALTHY)).exit_code == 0
    assert run_cli("check", "--only", "repo", "--repo", str(BROKEN)).exit_code == 1
    assert run_cli("check", "--only", "repo", "--repo", str(WARNING_ONLY)).exit_code == 0
    assert run_cli("check", "--only", "repo", "--repo", str(WARNING_ONLY), "--fail-on", "warn").exit_code == 1


def test_usage_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    cases = [
        ("check", "--only", "no-such-check"),
        ("check", "--only", "model-confg"),
        ("check", "--format", "xml"),
        ("check", "--mount", "nocolon"),
        ("check", "--docker-command", "docker ps"),
        ("check", "--docker-command-file", str(tmp_path / "missing.txt")),
        ("check", "--config", str(tmp_path / "missing.toml")),
        ("explain", "no-such-check"),
    ]
    for args in cases:
        result = run_cli(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert "did you mean 'model-config'" in run_cli("check", "--only", "model-confg").stderr


def test_config_file_errors_name_the_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "triton-doctor.toml"
    bad.write_text('repo = "x"\nmodel = ["a"]\n')
    result = run_cli("check", cwd=tmp_path)
    assert result.exit_code == 2
    assert (
        "triton-doctor.toml" in result.stderr
        and "'model'" in result.stderr
        and "did you mean 'models'" in result.stderr
    )
    bad.write_text('repo = "x\n')
    result = run_cli("check", cwd=tmp_path)
    assert result.exit_code == 2 and "not valid TOML" in result.stderr and "line 1" in result.stderr


def test_config_file_and_pyproject_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.triton-doctor]\nrepo = "{BROKEN.as_posix()}"\nonly = ["repo"]\nformat = "json"\n'
    )
    result = run_cli("check", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.json()["target"]["repo"] == BROKEN.as_posix()


def test_only_and_skip_by_id_sub_id_and_category() -> None:
    result = run_cli("check", "--repo", str(BROKEN), "--format", "json", "--only", "config-batching")
    checks = [c["check"] for c in result.json()["checks"]]
    assert "config-batching" in checks and "engine-args" not in checks
    result = run_cli("check", "--repo", str(BROKEN), "--only", "repo", "--skip", "config-batching[max-batch-size]")
    assert result.exit_code == 0, result.stderr
    result = run_cli("check", "--repo", str(BROKEN), "--only", "repo", "--skip", "config-batching")
    assert result.exit_code == 0


def test_json_report_matches_schema_and_output_file(tmp_path: Path, report_schema: dict[str, object]) -> None:
    out = tmp_path / "reports" / "doctor.json"
    result = run_cli("check", "--only", "repo", "--repo", str(BROKEN), "--format", "json", "--output", str(out))
    assert result.exit_code == 1 and result.stdout == ""
    data = json.loads(out.read_text())
    validate_report(data, report_schema)
    assert data["schema_version"] == 3 and data["tool"]["version"] == __version__
    assert data["summary"]["fail"] == 1 and data["summary"]["exit_code"] == 1


def test_junit_one_testcase_per_check() -> None:
    result = run_cli("check", "--only", "repo", "--repo", str(BROKEN), "--format", "junit")
    root = ET.fromstring(result.stdout)
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == int(suite.get("tests", "0")) == 14
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failed == ["config-batching"]
    assert suite.get("failures") == "1"


def test_text_output_to_file_is_plain(tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    run_cli("check", "--only", "repo", "--repo", str(BROKEN), "--output", str(out))
    text = out.read_text()
    assert "[✗] Batching and decoupled policy" in text and "\x1b[" not in text


def test_list_checks_and_explain() -> None:
    result = run_cli("list-checks", "--format", "json")
    data = result.json()
    ids = [c["id"] for c in data["checks"]]
    assert ids[0] == "docker-daemon" and ids.index("model-repository") < ids.index("engine-args")
    assert data["load_errors"] == []
    assert all(c["origin"] == "triton-doctor" for c in data["checks"])
    result = run_cli("explain", "engine-args")
    assert result.exit_code == 0 and "AsyncEngineArgs" in result.stdout and "engine-args[removed]" in result.stdout


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=60)


def test_console_script_and_module_entry_points() -> None:
    assert _run("triton-doctor", "--version").stdout.strip() == f"triton-doctor {__version__}"
    assert _run(sys.executable, "-m", "triton_doctor", "--version").stdout.strip() == f"triton-doctor {__version__}"


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\nfrom triton_doctor.cli import cli\n"
        "try:\n    cli(['--help'], prog_name='triton-doctor')\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('docker', 'huggingface_hub', 'pynvml', 'tritonclient', 'rich', 'grpc', 'numpy') "
        "if m in sys.modules]\nprint('HEAVY', heavy)\n"
    )
    out = _run(sys.executable, "-c", code).stdout
    assert "HEAVY []" in out


def test_check_help_lists_exit_codes() -> None:
    result = run_cli("check", "--help")
    assert "Exit codes:" in result.stdout and "could not decide" in result.stdout


@pytest.mark.parametrize("fmt", ["json", "junit", "text"])
def test_no_traceback_on_unreadable_output_location(tmp_path: Path, fmt: str) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_cli("check", "--sample", "--only", "repo", "--format", fmt, "--output", str(blocker / "x.json"))
    assert result.exit_code == 2 and "cannot write the report" in result.stderr
