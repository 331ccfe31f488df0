"""A stable identity for a finding, shared by SARIF ``partialFingerprints`` and the baseline file.

Built from the check id and sub-id, the file (as the report shows it, ``\\`` as ``/``), the model and the
message with its numbers, quotes and spacing normalised, never from line numbers alone: editing a line
above a finding, or a size that changed from 7.9 to 8.1 GiB, keeps it the same finding.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from triton_doctor.results import Finding, Report

__all__ = ["BaselineError", "fingerprint", "load_baseline", "normalize_message", "render_baseline"]

BASELINE_VERSION = 1
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SPACE = re.compile(r"\s+")


class BaselineError(ValueError):
    """The baseline file cannot be read. Exit code 2."""


def normalize_message(message: str) -> str:
    """Lower case, numbers as ``#``, quotes unified, runs of white space as one space."""
    text = _NUMBER.sub("#", message.lower())
    text = text.replace("\u2018", "'").replace("\u2019", "'").replace('"', "'")
    return _SPACE.sub(" ", text).strip()


def fingerprint(finding: Finding) -> str:
    """Hex SHA-256 (first 32 digits) of check id + sub-id + path + model + normalised message."""
    path = finding.location.path.replace("\\", "/") if finding.location is not None else ""
    parts = [finding.id, path, finding.model or "", normalize_message(finding.message)]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def render_baseline(report: Report) -> str:
    """Every finding of ``report`` (shown and hidden) as a baseline file."""
    rows: dict[str, dict[str, Any]] = {}
    for result in report.results:
        for finding in (*result.findings, *(s.finding for s in result.suppressed)):
            rows.setdefault(
                fingerprint(finding),
                {
                    "fingerprint": fingerprint(finding),
                    "id": finding.id,
                    "model": finding.model,
                    "message": finding.message,
                },
            )
    data = {
        "baseline_version": BASELINE_VERSION,
        "tool": {"name": "triton-doctor", "version": report.tool_version},
        "findings": sorted(rows.values(), key=lambda r: (r["id"], r["fingerprint"])),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def load_baseline(path: str) -> frozenset[str]:
    """The fingerprints in a baseline file written by ``--write-baseline``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: not a baseline file (not JSON: {exc}); write one with --write-baseline") from exc
    rows = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not all(
        isinstance(r, dict) and isinstance(r.get("fingerprint"), str) for r in rows
    ):
        raise BaselineError(f"{path}: not a baseline file (no 'findings' list); write one with --write-baseline")
    return frozenset(str(r["fingerprint"]) for r in rows)
