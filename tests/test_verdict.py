"""One verdict per model: runs / runs after fix / needs a change the doctor cannot make / cannot be judged here,
at the end of the text report and as ``verdicts`` in the JSON report (schema_version 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import run_cli, validate_report
from triton_doctor.fixdata import Applicability, Fix
from triton_doctor.report.verdict import matrix_lines, model_verdicts
from triton_doctor.results import Category, CheckResult, Finding, Severity, Status, Verdict


def test_sample_guide_verdicts_in_text_and_json(report_schema: dict[str, Any]) -> None:
    text = run_cli("check", "--sample", "guide", "--only", "repo").stderr
    tail = text.splitlines()[-3:]
    assert tail[0].startswith("Verdict per model (this host, no image given; checked: repository; not checked:")
    assert tail[1].split() == ["gemma", "runs", "after", "triton-doctor", "fix", "(config-batching[max-batch-size])"]
    assert tail[2].split() == ["gemma_local", "runs"]
    result = run_cli("check", "--sample", "guide", "--only", "repo", "--format", "json")
    data = result.json()
    validate_report(data, report_schema)
    assert data["verdicts"] == [
        {"model": "gemma", "verdict": "runs-after-fix", "reasons": ["config-batching[max-batch-size]"]},
        {"model": "gemma_local", "verdict": "runs", "reasons": []},
    ]


def test_quick_profile_says_which_fact_is_missing(tmp_path: Path) -> None:
    assert run_cli("init", "google/gemma-3-1b-it", "--name", "gemma", cwd=tmp_path).exit_code == 0
    data = run_cli("check", "--profile", "quick", "--format", "json", cwd=tmp_path).json()
    (row,) = data["verdicts"]
    assert row["verdict"] == "not-judged"
    assert row["reasons"] == [
        "max-model-len, model-checkpoint: --profile quick reads no Hub files (the standard profile fetches config.json)"
    ]


def test_logs_report_has_no_verdicts(tmp_path: Path, report_schema: dict[str, Any]) -> None:
    log = tmp_path / "server.log"
    log.write_text("I1124 10:00:01.000 1 model_lifecycle.cc:473] loading: tiny:1\n")
    data = run_cli("logs", str(log), "--format", "json").json()
    validate_report(data, report_schema)
    assert data["verdicts"] == []


def _finding(fid: str, model: str | None, fix: Applicability | None = None) -> Finding:
    return Finding(
        id=fid,
        severity=Severity.ERROR,
        message=fid,
        remedy="do it",
        model=model,
        fix=Fix(description="d", applicability=fix, edits=(object(),)) if fix else None,  # type: ignore[arg-type]
    )


def _result(check: str, category: Category, *findings: Finding, **kw: Any) -> CheckResult:
    status = Status.FAIL if findings else kw.pop("status", Status.PASS)
    return CheckResult(check=check, title=check, category=category, status=status, findings=findings, **kw)


def test_every_kind_of_verdict() -> None:
    results = [
        _result("config-batching", Category.REPO, _finding("config-batching[max-batch-size]", "a", Applicability.SAFE)),
        _result("max-model-len", Category.REPO, _finding("max-model-len[too-long]", "b", Applicability.UNSAFE)),
        _result("config-backend", Category.REPO, _finding("config-backend[other]", "c")),
        _result("model-checkpoint", Category.REPO, not_judged=(("d", "--offline and config.json is not cached"),)),
        _result("hf-model-access", Category.HF, status=Status.SKIP, skip_reason="needs the network; --offline given"),
    ]
    rows = {v.model: v for v in model_verdicts(results, ["a", "b", "c", "d"])}
    assert rows["a"].verdict is Verdict.RUNS_AFTER_FIX
    assert rows["b"].verdict is Verdict.RUNS_AFTER_FIX
    assert rows["c"].verdict is Verdict.NEEDS_CHANGE and rows["c"].reasons == ("config-backend[other]",)
    assert rows["d"].verdict is Verdict.NOT_JUDGED
    assert rows["d"].reasons == (
        "model-checkpoint: --offline and config.json is not cached",
        "hf-model-access: needs the network; --offline given",
    )
    lines = matrix_lines(list(rows.values()), results, "nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3")
    assert lines[0].startswith("Verdict per model (this host, image nvcr.io/nvidia/tritonserver:25.06-vllm-python-py3;")
    assert lines[1] == "  a  runs after triton-doctor fix (config-batching[max-batch-size])"
    assert lines[2] == "  b  runs after triton-doctor fix --unsafe (max-model-len[too-long])"
    assert lines[3] == "  c  needs a change the doctor cannot make: config-backend[other]"
    assert lines[4].startswith("  d  cannot be judged here: model-checkpoint: --offline")
    # A host-wide error (no model) counts for every model.
    host = [_result("docker-gpu-runtime", Category.DOCKER, _finding("docker-gpu-runtime[missing]", None))]
    assert {v.verdict for v in model_verdicts(host, ["a", "b"])} == {Verdict.NEEDS_CHANGE}


def test_many_models_are_counted_after_the_limit() -> None:
    rows = model_verdicts([_result("x", Category.REPO)], [f"m{i:03d}" for i in range(30)])
    lines = matrix_lines(rows, [_result("x", Category.REPO)], None)
    assert lines[1:] == ["  30 model(s) (m000, m001, m002 +27 more): runs"]
