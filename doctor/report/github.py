"""GitHub Actions: ``::error``/``::warning`` workflow commands, and a markdown table for the job summary.

GitHub shows at most 10 error and 10 warning annotations per step, so the report emits the first 10 of each
(failed checks' findings in run order; a check that errored counts as an error) and a ``::notice`` saying how
many more the job summary lists. Values are escaped as the runner expects: ``%``, CR and LF in messages;
also ``:`` and ``,`` in properties.
"""

from __future__ import annotations

from triton_doctor.report.sarif import relative_path
from triton_doctor.results import Finding, Report, Severity, Status

__all__ = ["LIMIT", "append_step_summary", "escape_data", "escape_property", "render_github", "render_summary_table"]

#: Annotations of one kind GitHub shows per step.
LIMIT = 10


def escape_data(text: str) -> str:
    """Escape a workflow command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(kind: str, message: str, **props: object) -> str:
    parts = [f"{key}={escape_property(str(value))}" for key, value in props.items() if value not in (None, "")]
    head = f"::{kind}" + (" " + ",".join(parts) if parts else "")
    return f"{head}::{escape_data(message)}"


def _finding_command(kind: str, finding: Finding) -> str:
    props: dict[str, object] = {}
    if finding.location is not None:
        props["file"] = relative_path(finding.location.path)
        props["line"] = finding.location.line
        props["col"] = finding.location.column
    props["title"] = f"triton-doctor {finding.id}" + (f" ({finding.model})" if finding.model else "")
    message = finding.message + (f"\nFix: {finding.remedy}" if finding.remedy else "")
    return _command(kind, message, **props)


def render_github(report: Report, exit_code: int) -> str:
    """Workflow commands for the top findings, within GitHub's per-step limits."""
    errors: list[str] = []
    warnings: list[str] = []
    for result in report.results:
        if result.status is Status.ERROR:
            errors.append(
                _command(
                    "error",
                    f"the check itself failed: {result.error or result.summary}",
                    title=f"triton-doctor {result.check} errored",
                )
            )
        for finding in result.findings:
            if finding.severity is Severity.ERROR:
                errors.append(_finding_command("error", finding))
            elif finding.severity is Severity.WARNING:
                warnings.append(_finding_command("warning", finding))
    lines = errors[:LIMIT] + warnings[:LIMIT]
    hidden_errors, hidden_warnings = max(0, len(errors) - LIMIT), max(0, len(warnings) - LIMIT)
    if hidden_errors or hidden_warnings:
        lines.append(
            _command(
                "notice",
                f"{hidden_errors} more errors and {hidden_warnings} more warnings than GitHub shows per step; "
                "the job summary (or --output json:FILE) lists them all",
                title="triton-doctor",
            )
        )
    counts = ", ".join(f"{report.count(s)} {s.value}" for s in Status)
    lines.append(f"triton-doctor: {counts} (exit {exit_code})")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")


def render_summary_table(report: Report, exit_code: int) -> str:
    """Markdown: a line of counts, then every finding, hidden finding and skipped or errored check."""
    counts = ", ".join(f"{report.count(s)} {s.value}" for s in Status)
    verdict = "passed" if exit_code == 0 else "found issues" if exit_code == 1 else "could not decide"
    rows = ["| status | finding | model | where | message |", "|---|---|---|---|---|"]
    for result in report.results:
        for f in result.findings:
            where = str(f.location) if f.location else ""
            text = f.message + (f" Fix: {f.remedy}" if f.remedy else "")
            rows.append(f"| {f.severity.value} | `{f.id}` | {_cell(f.model or '')} | {_cell(where)} | {_cell(text)} |")
        for s in result.suppressed:
            label = "ignored" if s.kind == "ignore" else "baseline"
            rows.append(
                f"| {label} | `{s.finding.id}` | {_cell(s.finding.model or '')} | "
                f"{_cell(str(s.finding.location or ''))} | {_cell(s.finding.message)} (reason: {_cell(s.reason)}) |"
            )
        if result.status is Status.SKIP:
            rows.append(f"| skipped | `{result.check}` |  |  | {_cell(result.skip_reason or '')} |")
        elif result.status is Status.ERROR:
            rows.append(f"| errored | `{result.check}` |  |  | {_cell(result.error or result.summary)} |")
    body = "\n".join(rows) if len(rows) > 2 else "_No findings._"
    return f"### triton-doctor: {verdict} (exit {exit_code})\n\n{counts}\n\n{body}\n\n"


def append_step_summary(path: str, report: Report, exit_code: int) -> None:
    """Append the table to the job summary file (GitHub concatenates what each step appends)."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(render_summary_table(report, exit_code))
