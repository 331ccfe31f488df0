"""Human output in the style of Flutter's doctor: ``[✓] [~] [!] [✗] [-] [☠]`` per check, findings indented.

Rendered with rich on stderr; plain (no colour, no spinner) when stderr is not a terminal or ``NO_COLOR``
is set. Informational findings and tracebacks appear only with ``-v``. ``[~]``: passed for the models the check
could judge, while others lacked a fact (named in the line).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from triton_doctor.results import CheckResult, Report, Severity, Status

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["render_result", "render_summary"]

MARK = {
    Status.PASS: ("[✓]", "green"),
    Status.WARN: ("[!]", "yellow"),
    Status.FAIL: ("[✗]", "red"),
    Status.SKIP: ("[-]", "dim"),
    Status.ERROR: ("[☠]", "magenta"),
}
#: A pass for some models while others could not be judged (a fact was missing): not a plain [✓].
PARTIAL = ("[~]", "yellow")
SEV = {Severity.ERROR: ("✗", "red"), Severity.WARNING: ("!", "yellow"), Severity.INFO: ("•", "dim")}


def render_result(console: Console, result: CheckResult, *, verbose: bool) -> None:
    """Print one check's block."""
    from rich.markup import escape

    from triton_doctor.report.redact import printable_result

    result = printable_result(result)  # no raw control characters from logs, configs or servers
    mark, style = MARK[result.status]
    if result.status is Status.PASS and result.not_judged:
        mark, style = PARTIAL  # passed for the models it could judge; the others are named in the line
    detail = (
        result.skip_reason
        if result.status is Status.SKIP
        else result.error
        if result.status is Status.ERROR
        else result.summary
    )
    if result.brief and not verbose and result.status is not Status.ERROR:
        detail = result.brief  # counts instead of every model's name; -v shows the whole line
    line = f"[{style}]{escape(mark)}[/] [bold]{escape(result.title)}[/]"
    if detail:
        line += f" [dim]({escape(detail)})[/]"
    if verbose:
        line += f" [dim]{result.check} {result.duration_ms} ms[/]"
    console.print(line, highlight=False, soft_wrap=True)
    if result.status is Status.ERROR:
        console.print(
            "    [magenta]☠[/] the check itself failed: this is a triton-doctor bug, please report it "
            "with the output of -v",
            highlight=False,
        )
        if verbose and result.traceback:
            console.print(escape(result.traceback), highlight=False, markup=True)
    for f in result.findings:
        if f.severity is Severity.INFO and not verbose:
            continue
        sym, fstyle = SEV[f.severity]
        loc = f" [dim]{escape(str(f.location))}[/]" if f.location else ""
        catalog = f" [dim]\\[{f.catalog_id}][/]" if f.catalog_id else ""
        console.print(f"    [{fstyle}]{sym}[/] {escape(f.message)}{catalog}", highlight=False, soft_wrap=True)
        if f.location and str(f.location) not in f.message:
            console.print(f"      at{loc}", highlight=False, soft_wrap=True)
        if f.evidence and f.severity is not Severity.INFO:
            for ev in f.evidence.splitlines()[:6]:
                console.print(f"      [dim]> {escape(ev)}[/]", highlight=False, soft_wrap=True)
        if f.remedy:
            remedy = f.remedy.splitlines()
            console.print(f"      [cyan]→ {escape(remedy[0])}[/]", highlight=False, soft_wrap=True)
            for extra in remedy[1:]:
                console.print(f"        [cyan]{escape(extra)}[/]", highlight=False, soft_wrap=True)
        if f.fix is not None and f.fix.edits:
            flag = "" if f.fix.applicability.value == "safe" else " --unsafe"
            console.print(f"      [dim]fixable: triton-doctor fix{flag}[/]", highlight=False, soft_wrap=True)
        if verbose:
            console.print(f"      [dim]{f.id}[/]", highlight=False)
    for s in result.suppressed:
        what = "ignored" if s.kind == "ignore" else "in baseline"
        reason = f": {s.reason}" if s.reason and s.kind == "ignore" else ""
        console.print(
            f"    [dim]- {what} {escape(s.finding.id)}{escape(reason)} ({escape(s.finding.message)})[/]",
            highlight=False,
            soft_wrap=True,
        )


def render_summary(console: Console, report: Report, exit_code: int) -> None:
    """Print load errors and the closing line."""
    from rich.markup import escape

    from triton_doctor.report.redact import printable

    for ep, err in report.load_errors:
        text = f"plugin not loaded: {printable(ep)}: {printable(err)}"
        console.print(f"[yellow]![/] {escape(text)}", highlight=False)
    failed = report.count(Status.FAIL)
    warned = report.count(Status.WARN)
    errored = report.count(Status.ERROR)
    skipped = report.count(Status.SKIP)
    passed = report.count(Status.PASS)
    parts = [f"{passed} passed", f"{warned} warned", f"{failed} failed"]
    if skipped:
        parts.append(f"{skipped} skipped")
    if errored:
        parts.append(f"{errored} errored")
    console.print()
    if failed or errored or warned:
        console.print(f"Doctor found issues: {', '.join(parts)} (exit {exit_code}).", highlight=False)
    else:
        console.print(f"No issues found: {', '.join(parts)}.", highlight=False)
    if report.verdicts:
        from triton_doctor.report.verdict import matrix_lines

        image = report.target.get("image")
        for line in matrix_lines(report.verdicts, report.results, str(image) if image else None):
            console.print(escape(printable(line)), highlight=False, soft_wrap=True)
