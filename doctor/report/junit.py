"""JUnit XML: one testcase per check (fail -> failure, error -> error, skip -> skipped)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from triton_doctor.results import Report, Status

__all__ = ["render_junit"]


def _text(findings_text: list[str]) -> str:
    return "\n".join(findings_text)


def render_junit(report: Report) -> str:
    """The report as a JUnit XML document."""
    suite = ET.Element(
        "testsuite",
        name="triton-doctor",
        tests=str(len(report.results)),
        failures=str(report.count(Status.FAIL)),
        errors=str(report.count(Status.ERROR)),
        skipped=str(report.count(Status.SKIP)),
        time=f"{report.duration_ms / 1000:.3f}",
    )
    for r in report.results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"triton_doctor.{r.category.value}",
            name=r.check,
            time=f"{r.duration_ms / 1000:.3f}",
        )
        lines = [
            f"{f.severity.value}: {f.id}: {f.message}"
            + (f" ({f.location})" if f.location else "")
            + (f" [catalog: {f.catalog_id}]" if f.catalog_id else "")
            + (f"\n  fix: {f.remedy}" if f.remedy else "")
            for f in r.findings
        ]
        lines += [f"{s.kind}d: {s.finding.id}: {s.finding.message} (reason: {s.reason})" for s in r.suppressed]
        if r.status is Status.FAIL:
            node = ET.SubElement(case, "failure", message=r.summary, type="fail")
            node.text = _text(lines)
        elif r.status is Status.ERROR:
            node = ET.SubElement(case, "error", message=r.error or r.summary, type="error")
            node.text = r.error or ""
        elif r.status is Status.SKIP:
            ET.SubElement(case, "skipped", message=r.skip_reason or "")
        if r.status is Status.WARN or (lines and r.status in {Status.PASS, Status.SKIP}):
            out = ET.SubElement(case, "system-out")
            out.text = _text(lines)
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    from triton_doctor.report.redact import xml_safe

    # Control characters from logs or configs are escaped: XML 1.0 cannot hold them at all.
    return xml_safe('<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n")
