"""The JSON report (schema in ``report/schema.json``; ``schema_version`` 2: findings carry their ``fix``; 3: the
verdict per model, ``verdicts``)."""

from __future__ import annotations

import json
from typing import Any

from triton_doctor.fixdata import Fix, edit_to_dict
from triton_doctor.results import CheckResult, Finding, Report, Status

__all__ = ["SCHEMA_VERSION", "render_json", "report_dict"]

SCHEMA_VERSION = 3


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "id": f.id,
        "severity": f.severity.value,
        "message": f.message,
        "evidence": f.evidence,
        "remedy": f.remedy,
        "location": None
        if f.location is None
        else {
            "path": f.location.path,
            "line": f.location.line,
            "column": f.location.column,
        },
        "catalog_id": f.catalog_id,
        "model": f.model,
        "fix": _fix(f.fix),
    }


def _fix(fix: Fix | None) -> dict[str, Any] | None:
    if fix is None:
        return None
    return {
        "description": fix.description,
        "applicability": fix.applicability.value,
        "edits": [edit_to_dict(e) for e in fix.edits],
        "command": fix.command,
    }


def _result(r: CheckResult) -> dict[str, Any]:
    return {
        "check": r.check,
        "title": r.title,
        "category": r.category.value,
        "status": r.status.value,
        "summary": r.summary,
        "duration_ms": r.duration_ms,
        "skip_reason": r.skip_reason,
        "error": r.error,
        "findings": [_finding(f) for f in r.findings],
        "suppressed": [{"kind": s.kind, "reason": s.reason, "finding": _finding(s.finding)} for s in r.suppressed],
    }


def report_dict(report: Report, exit_code: int) -> dict[str, Any]:
    """The report as plain data."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "triton-doctor", "version": report.tool_version},
        "target": report.target,
        "summary": {
            "checks": len(report.results),
            **{s.value: report.count(s) for s in Status},
            "exit_code": exit_code,
            "duration_ms": report.duration_ms,
        },
        "load_errors": [{"entry_point": ep, "error": err} for ep, err in report.load_errors],
        "checks": [_result(r) for r in report.results],
        "verdicts": [
            {"model": v.model, "verdict": v.verdict.value, "reasons": list(v.reasons)} for v in report.verdicts
        ],
    }


def render_json(report: Report, exit_code: int) -> str:
    """The report as indented JSON text."""
    return json.dumps(report_dict(report, exit_code), indent=2, ensure_ascii=False) + "\n"
