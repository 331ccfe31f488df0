"""Every repository fixture through the CLI: the expected finding, catalog id, location and exit code."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, all_findings, run_cli, validate_report
from triton_doctor.knowledge import CATALOG

CASES: list[dict[str, Any]] = json.loads((FIXTURES / "cases.json").read_text())


def _args(case: dict[str, Any]) -> list[str]:
    root = FIXTURES / "repos" / case["name"]
    args = [a.replace("{root}", str(root)) for a in case["args"] if a != "--no-local-mount"]
    if "--repo" not in args:
        args += ["--repo", str(root / "model_repository")]
    if case["shape"] == "local" and "--no-local-mount" not in case["args"]:
        args += ["--mount", f"{root / 'local_models'}:/local_models"]
    return args


def test_committed_fixtures_are_current(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(FIXTURES / "generate.py"), str(tmp_path)], check=True, capture_output=True)
    assert json.loads((tmp_path / "cases.json").read_text()) == CASES

    def compare(dc: filecmp.dircmp[str]) -> list[str]:
        problems = [f"{dc.left}: {n}" for n in dc.left_only + dc.right_only + dc.diff_files]
        for sub in dc.subdirs.values():
            problems += compare(sub)
        return problems

    assert compare(filecmp.dircmp(str(tmp_path / "repos"), str(FIXTURES / "repos"))) == []


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_fixture(case: dict[str, Any], report_schema: dict[str, Any]) -> None:
    result = run_cli("check", "--only", "repo", "--format", "json", *_args(case))
    report = result.json()
    validate_report(report, report_schema)
    assert "Traceback" not in result.stderr
    findings = all_findings(report)
    assert not [c for c in report["checks"] if c["status"] == "error"], report
    if case["finding"] is None:
        assert [f for f in findings if f["severity"] != "info"] == []
        assert result.exit_code == 0
        return
    matching = [f for f in findings if f["id"] == case["finding"]]
    assert matching, f"expected {case['finding']}, got {[f['id'] for f in findings]}"
    finding = matching[0]
    assert finding["severity"] == case["severity"]
    assert finding["catalog_id"] == case["catalog_id"]
    if finding["catalog_id"] is not None:
        assert finding["catalog_id"] in CATALOG
    if case["path"] is not None:
        assert finding["location"]["path"].endswith(case["path"]), finding["location"]
    if case["line"] is not None:
        assert finding["location"]["line"] == case["line"], finding
    assert finding["message"] and (finding["remedy"] or finding["severity"] == "info")
    assert result.exit_code == case["exit_code"], result.stderr


def test_every_repo_sub_id_has_a_fixture() -> None:
    from triton_doctor.registry import load_registry
    from triton_doctor.results import Category

    registry = load_registry()
    covered = {c["finding"] for c in CASES}
    # Informational findings, and unreadable (root ignores permissions: see test_runner.py).
    # windows-elsewhere needs a command naming a Windows path: tests/test_trials.py covers it.
    # model-checkpoint[no-tokenizer] is a Hub id's file list: tests/test_modelfacts.py covers it through the
    # local Hub server (a fixture repository is checked offline).
    informational = {
        "model-checkpoint[no-tokenizer]",
        "model-source[hf-id]",
        "model-source[weights]",
        "model-repository[unreadable]",
        "model-repository[windows-elsewhere]",
    }
    wanted = {
        f"{check.id}[{sub}]"
        for check in registry.checks.values()
        if check.category is Category.REPO
        for sub in check.sub_ids
    }
    assert sorted(wanted - covered - informational) == []


def test_guide_remote_shape_as_written_fails_on_max_batch_size() -> None:
    """The guide's first config.pbtxt says max_batch_size: 256; the vLLM backend refuses it."""
    case = next(c for c in CASES if c["name"] == "batch-size-guide-256")
    result = run_cli("check", "--only", "repo", *_args(case))
    assert result.exit_code == 1
    assert "max_batch_size: 256" in result.stderr
    assert "write max_batch_size: 0" in result.stderr
