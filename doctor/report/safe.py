"""Text that is safe to show: no terminal control sequences, no characters XML forbids.

Model names, config contents, logs and server answers are someone else's bytes. On a terminal an ESC
starts a control sequence (colours, cursor moves, window titles), BEL rings, CR overwrites the line, and
bidirectional overrides reorder what is shown. :func:`printable` writes each such character as a visible
escape (``\\x1b``, ``\\u202e``), keeping tabs and newlines where they are structure.
"""

from __future__ import annotations

import re
from dataclasses import replace

from triton_doctor.results import CheckResult

__all__ = ["one_line", "printable", "printable_result", "xml_safe"]

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
