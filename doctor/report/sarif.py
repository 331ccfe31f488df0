"""SARIF 2.1.0: one rule per check sub-id (with help text), one result per finding.

Results point at the file and line the finding names (``config.pbtxt``, ``model.json``), or at the model's
``config.pbtxt`` when a finding is about a model but has no file, else at the config or docker command file,
else at the repository (GitHub's upload rejects a result without a location). Paths inside the working
directory are written relative to it. Every result carries ``partialFingerprints`` (check id, sub-id, path,
model, normalised message; see :mod:`triton_doctor.report.fingerprint`), the same identity ``--baseline`` matches
on. Findings hidden by the policy are results with a ``suppressions`` entry whose justification is the
reason; checks skipped by the policy and checks that errored are notifications of the invocation.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from triton_doctor.report.fingerprint import fingerprint
from triton_doctor.results import Finding, Report, Severity, Status

__all__ = ["FINGERPRINT_KEY", "RuleInfo", "relative_path", "render_sarif", "rules_from_checks"]

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "tritonDoctorFinding/v1"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}  # note: suppressed info


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What SARIF says about one rule (a check sub-id)."""

    short: str
    full: str
    help: str
    category: str


def rules_from_checks(checks: Mapping[str, Any]) -> dict[str, RuleInfo]:
    """A rule for every declared sub-id of ``checks`` (check classes), with catalog text where it applies."""
    from triton_doctor.logs import load_catalog

    catalog = {e.id: e for e in load_catalog()}
    rules: dict[str, RuleInfo] = {}
    for cls in checks.values():
        explanation = (cls.explanation or (cls.__doc__ or "")).strip() or cls.title
        for sub, meaning in cls.sub_ids.items():
            entry = catalog.get(sub)
            help_text = f"{meaning}\n\n{explanation}"
            if entry is not None:
                help_text += f"\n\nCause: {entry.cause}\nFix: {entry.remedy}"
            help_text += f"\n\nMore: triton-doctor explain {cls.id}"
            rules[f"{cls.id}[{sub}]"] = RuleInfo(
                short=meaning, full=f"{cls.title}: {meaning}", help=help_text, category=cls.category.value
            )
    return rules


def relative_path(path: str, cwd: Path | None = None) -> str:
    """``path`` with ``/`` separators, relative to ``cwd`` when it lies inside it."""
    cwd = cwd or Path.cwd()
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            return candidate.resolve().relative_to(cwd.resolve()).as_posix()
        except (ValueError, OSError):
            return candidate.as_posix()
    return PurePosixPath(path.replace("\\", "/")).as_posix()


def _uri(path: str) -> dict[str, str]:
    rel = relative_path(path)
    if Path(rel).is_absolute():
        return {"uri": Path(rel).as_uri()}
    return {"uri": quote(rel, safe="/")}


def _fallback_path(finding: Finding, report: Report) -> str | None:
    repo = report.target.get("repo")
    if finding.model and isinstance(repo, str):
        candidate = os.path.join(repo, finding.model, "config.pbtxt")
        if os.path.isfile(candidate):
            return candidate
    for source in report.target.get("sources", []) or []:  # type: ignore[attr-defined]
        if isinstance(source, str) and os.path.isfile(source):
            return source
    # Code scanning rejects a result without a location: the repository itself is the last resort.
    return repo if isinstance(repo, str) and repo else None


def _location(finding: Finding, report: Report) -> list[dict[str, Any]]:
    path = finding.location.path if finding.location is not None else _fallback_path(finding, report)
    if not path:
        return []
    physical: dict[str, Any] = {"artifactLocation": _uri(path)}
    if finding.location is not None and finding.location.line:
        region: dict[str, int] = {"startLine": finding.location.line}
        if finding.location.column:
            region["startColumn"] = finding.location.column
        physical["region"] = region
    location: dict[str, Any] = {"physicalLocation": physical}
    if finding.model:
        location["logicalLocations"] = [{"name": finding.model, "kind": "module"}]
    return [location]


def _message(finding: Finding) -> str:
    text = finding.message
    if finding.remedy:
        text += f"\nFix: {finding.remedy}"
    return text


def _catalog_rule(rule_id: str) -> RuleInfo | None:
    """A rule for ``check[catalog-id]`` (the log diagnosis names findings after the catalog)."""
    from triton_doctor.logs import load_catalog

    sub = rule_id[rule_id.find("[") + 1 : -1] if rule_id.endswith("]") else ""
    entry = next((e for e in load_catalog() if e.id == sub), None)
    if entry is None:
        return None
    return RuleInfo(
        short=entry.cause,
        full=f"{sub}: {entry.cause}",
        help=f"{entry.cause}\n\nFix: {entry.remedy}\n\nMore: triton-doctor explain {sub}",
        category="logs",
    )


def _rule(rule_id: str, info: RuleInfo | None) -> dict[str, Any]:
    if info is None:
        info = _catalog_rule(rule_id) or RuleInfo(
            short=rule_id, full=rule_id, help=f"See: triton-doctor explain {rule_id}", category=""
        )
    rule: dict[str, Any] = {
        "id": rule_id,
        "name": "".join(part.capitalize() for part in rule_id.replace("[", "-").rstrip("]").split("-")),
        "shortDescription": {"text": info.short},
        "fullDescription": {"text": info.full},
        "help": {"text": info.help},
    }
    if info.category:
        rule["properties"] = {"category": info.category, "tags": ["triton", "vllm", info.category]}
    return rule


def render_sarif(report: Report, exit_code: int, *, rules: Mapping[str, Any] | None = None) -> str:
    """The report as a SARIF 2.1.0 log (one run)."""
    known: dict[str, RuleInfo] = {k: v for k, v in (rules or {}).items() if isinstance(v, RuleInfo)}
    ran = {r.check for r in report.results}
    rule_ids = [rid for rid in known if rid.split("[", 1)[0] in ran]
    # Informational findings (text shows them with -v) are left out: code scanning would list them as alerts.
    entries = [(r, f, None, None) for r in report.results for f in r.findings if f.severity is not Severity.INFO] + [
        (r, s.finding, s.reason, s.kind) for r in report.results for s in r.suppressed
    ]
    for _r, finding, _reason, _kind in entries:
        if finding.id not in rule_ids:
            rule_ids.append(finding.id)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    results: list[dict[str, Any]] = []
    for result, finding, reason, kind in entries:
        item: dict[str, Any] = {
            "ruleId": finding.id,
            "ruleIndex": index[finding.id],
            "level": _LEVEL[finding.severity],
            "message": {"text": _message(finding)},
            "locations": _location(finding, report),
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding)},
            "properties": {"check": result.check, "category": result.category.value},
        }
        if finding.catalog_id:
            item["properties"]["catalogId"] = finding.catalog_id
        if finding.model:
            item["properties"]["model"] = finding.model
        if finding.evidence:
            item["properties"]["evidence"] = finding.evidence
        if kind is not None:
            item["suppressions"] = [{"kind": "external", "justification": reason or kind}]
            if kind == "baseline":
                item["baselineState"] = "unchanged"
        results.append(item)
    notifications: list[dict[str, Any]] = []
    configuration: list[dict[str, Any]] = []
    for r in report.results:
        if r.status is Status.ERROR:
            notifications.append(
                {"level": "error", "message": {"text": f"{r.check}: the check itself failed: {r.error or r.summary}"}}
            )
        elif r.status is Status.SKIP:
            configuration.append(
                {
                    "level": "note",
                    "descriptor": {"id": r.check},
                    "message": {"text": f"{r.check} skipped: {r.skip_reason or ''}"},
                }
            )
    invocation: dict[str, Any] = {"executionSuccessful": exit_code in (0, 1), "exitCode": exit_code}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    if configuration:
        invocation["toolConfigurationNotifications"] = configuration
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "triton-doctor",
                        "version": report.tool_version,
                        "semanticVersion": report.tool_version,
                        "rules": [_rule(rid, known.get(rid)) for rid in rule_ids],
                    }
                },
                "invocations": [invocation],
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
