"""Several reports from one run: ``--output FORMAT:PATH`` (repeatable, ``-`` is stdout) and rendering them.

A plain ``--output PATH`` keeps meaning the ``--format`` report. At most one report goes to stdout. The
text report is always shown on stderr as the run goes; ``text:PATH`` also writes it, plain, to a file.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from triton_doctor.report import FORMATS
from triton_doctor.results import Report

__all__ = ["FORMATS", "OutputError", "OutputSpec", "emit", "parse_outputs", "render"]
STDOUT = "-"


class OutputError(ValueError):
    """A bad ``--output``/``--format`` combination. Exit code 2."""


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """One report to write: its format and where (``-``: stdout)."""

    fmt: str
    path: str


def _split_spec(value: str) -> tuple[str | None, str]:
    head, sep, tail = value.partition(":")
    if sep and head in FORMATS:
        if not tail:
            raise OutputError(
                f"--output {value!r}: give a path after the format, e.g. {head}:report.{head} or {head}:-"
            )
        return head, tail
    return None, value


def parse_outputs(
    fmt: str | None, outputs: tuple[str, ...] | list[str], *, default_fmt: str = "text"
) -> list[OutputSpec]:
    """The reports asked for by ``--format`` (``fmt``; None: not given) and every ``--output``."""
    main = fmt or default_fmt
    if main not in FORMATS:
        raise OutputError(f"unknown format {main!r}; use one of {', '.join(FORMATS)}")
    typed: list[OutputSpec] = []
    plain: list[str] = []
    for value in outputs:
        kind, path = _split_spec(value)
        if kind is None:
            plain.append(path)
        else:
            typed.append(OutputSpec(kind, path))
    if len(plain) > 1:
        raise OutputError(
            f"--output given {len(plain)} plain paths ({', '.join(plain)}); write FORMAT:PATH for each extra "
            "report, e.g. --output json:doctor.json --output sarif:doctor.sarif"
        )
    specs = list(typed)
    if plain:
        specs.insert(0, OutputSpec(main, plain[0]))
    elif main != "text" and not any(s.path == STDOUT for s in typed):
        # The --format report goes to stdout unless a typed output already takes it.
        specs.insert(0, OutputSpec(main, STDOUT))
    elif main != "text" and fmt is not None and not any(s.path == STDOUT and s.fmt == main for s in typed):
        raise OutputError(f"--format {main} and another --output both write to stdout; give one a path")
    on_stdout = [s for s in specs if s.path == STDOUT]
    if len(on_stdout) > 1:
        raise OutputError(
            "only one report can go to stdout (-); got "
            + ", ".join(f"{s.fmt}:-" for s in on_stdout)
            + "; give the others a path"
        )
    seen: set[tuple[str, str]] = set()
    unique: list[OutputSpec] = []
    for spec in specs:
        if (spec.fmt, spec.path) not in seen:
            seen.add((spec.fmt, spec.path))
            unique.append(spec)
    return unique


def render(spec_fmt: str, report: Report, code: int, *, rules: Mapping[str, Any] | None = None) -> str:
    """The report in ``spec_fmt`` as text (text: plain, as on a file; github: the workflow commands)."""
    if spec_fmt == "text":
        from io import StringIO

        from triton_doctor.report.console import make_console
        from triton_doctor.report.text import render_result, render_summary

        buffer = StringIO()
        plain = make_console(buffer)
        for result in report.results:
            render_result(plain, result, verbose=True)
        render_summary(plain, report, code)
        return buffer.getvalue()
    if spec_fmt == "json":
        from triton_doctor.report.json_report import render_json

        return render_json(report, code)
    if spec_fmt == "junit":
        from triton_doctor.report.junit import render_junit

        return render_junit(report)
    if spec_fmt == "sarif":
        from triton_doctor.report.sarif import render_sarif

        return render_sarif(report, code, rules=rules)
    from triton_doctor.report.github import render_github

    return render_github(report, code)


def emit(
    specs: list[OutputSpec],
    report: Report,
    code: int,
    *,
    write: Callable[[str, str], None],
    rules: Mapping[str, Any] | None = None,
) -> None:
    """Write every report; ``github`` also appends its table to ``$GITHUB_STEP_SUMMARY`` when that is set."""
    summary_done = False
    for spec in specs:
        text = render(spec.fmt, report, code, rules=rules)
        if spec.path == STDOUT:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            write(spec.path, text)
        if spec.fmt == "github" and not summary_done and os.environ.get("GITHUB_STEP_SUMMARY"):
            from triton_doctor.report.github import append_step_summary

            append_step_summary(os.environ["GITHUB_STEP_SUMMARY"], report, code)
            summary_done = True
