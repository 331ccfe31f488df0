"""The one redaction stage every report passes through before any renderer.

First secrets out: :func:`redact_result` and :func:`redact_data` replace every known secret value and anything
credential-shaped (core/secrets.py) in every text field. Then text that is safe to show: no terminal control
sequences, no characters XML forbids.

Model names, config contents, logs and server answers are someone else's bytes. On a terminal an ESC
starts a control sequence (colours, cursor moves, window titles), BEL rings, CR overwrites the line, and
bidirectional overrides reorder what is shown. :func:`printable` writes each such character as a visible
escape (``\\x1b``, ``\\u202e``), keeping tabs and newlines where they are structure.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from triton_doctor.core.secrets import redact
from triton_doctor.results import CheckResult, Finding

__all__ = ["one_line", "printable", "printable_result", "redact_data", "redact_result", "xml_safe"]

#: C0 controls but tab and newline, DEL, C1 controls, bidirectional overrides and isolates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: What XML 1.0 cannot hold at all (even escaped).
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character shown as an escape; tabs and newlines kept."""
    return _UNSAFE.sub(_visible, text)


def one_line(text: str) -> str:
    """``text`` as one line (progress lines, a log line): newlines escaped too; a tab, only white space
    that a log uses between columns, shown as one space rather than ``\x09``."""
    return _UNSAFE_LINE.sub(_visible, text.replace("\t", " "))


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (shown as escapes)."""
    return _XML_BAD.sub(_visible, text)


def printable_result(result: CheckResult) -> CheckResult:
    """A check result with every text field made :func:`printable` (for the terminal)."""

    def clean(text: str | None) -> str | None:
        return None if text is None else printable(text)

    findings = tuple(
        replace(
            f,
            message=printable(f.message),
            evidence=printable(f.evidence),
            remedy=printable(f.remedy),
            location=None if f.location is None else replace(f.location, path=one_line(f.location.path)),
        )
        for f in result.findings
    )
    return replace(
        result,
        title=printable(result.title),
        summary=printable(result.summary),
        findings=findings,
        skip_reason=clean(result.skip_reason),
        error=clean(result.error),
        traceback=clean(result.traceback),
    )


def redact_data(data: Any, secrets: set[str]) -> Any:
    if isinstance(data, str):
        return redact(data, secrets)
    if isinstance(data, dict):
        return {k: redact_data(v, secrets) for k, v in data.items()}
    if isinstance(data, list):
        return [redact_data(v, secrets) for v in data]
    return data


def redact_result(result: CheckResult, secrets: set[str]) -> CheckResult:
    """The result with every secret value (and anything token-shaped) replaced, in every text field."""

    def clean(text: str | None) -> str | None:
        return None if text is None else redact(text, secrets)

    from triton_doctor.fixdata import Fix, map_text

    # Findings of one check often share one fix (config-io: one rewrite of a config.pbtxt for every
    # finding): redact each fix once, not once per finding (its texts can be megabytes).
    fixes: dict[int, tuple[Fix, Fix]] = {}

    def clean_fix(fix: Fix) -> Fix:
        if id(fix) not in fixes:
            fixes[id(fix)] = (fix, map_text(fix, lambda text: redact(text, secrets)))
        return fixes[id(fix)][1]

    def clean_finding(f: Finding) -> Finding:
        return replace(
            f,
            message=redact(f.message, secrets),
            evidence=redact(f.evidence, secrets),
            remedy=redact(f.remedy, secrets),
            fix=None if f.fix is None else clean_fix(f.fix),
        )

    findings = tuple(clean_finding(f) for f in result.findings)
    suppressed = tuple(
        replace(s, finding=clean_finding(s.finding), reason=redact(s.reason, secrets)) for s in result.suppressed
    )
    return replace(
        result,
        summary=redact(result.summary, secrets),
        findings=findings,
        suppressed=suppressed,
        skip_reason=clean(result.skip_reason),
        brief=clean(result.brief),
        error=clean(result.error),
        traceback=clean(result.traceback),
    )
