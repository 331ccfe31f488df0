"""One root cause, one report: a later finding with the same catalog id about the same path refers to the first.

A host-wide cause (no GPU runtime, no NVIDIA driver: ``HOST_WIDE``) needs no shared path.

A mistyped bind source is seen by three checks (the source is missing, the daemon rejects the mount, the
repository does not exist). Each check stays honest about its own status, but the text says the cause once:
the later findings keep their severity (exit codes and machine reports do not change) and become one line,
``same cause as mount-sources[missing] above``, without repeating the evidence and the fix.
"""

from __future__ import annotations

import re
from dataclasses import replace

from triton_doctor.results import CheckResult, Finding, Severity

__all__ = ["RootCauses"]

#: Findings of the live stage (they may repeat, from the server's log, what a static check found).
_LIVE = ("live-server[", "live-generate[", "container-logs[")

# A POSIX or Windows path in a message: /a/b, C:\a\b, C:/a/b (stops at quotes, spaces, commas, parentheses).
_PATH = re.compile(r"(?:[A-Za-z]:[\\/]|/)[^\s'\"(),;]+")


def _paths(finding: Finding) -> set[str]:
    found = {m.group().rstrip(".:/\\") for m in _PATH.finditer(finding.message)}
    if finding.location is not None and finding.location.line is None:
        found.add(finding.location.path.rstrip("/\\"))
    return {p for p in found if len(p) > 1}


#: Causes that belong to the host, not to a path: every later finding with the same catalog id is the same
#: cause (no GPU runtime is seen by the static check, the --gpus all probe and the container start).
HOST_WIDE = frozenset(
    {
        "docker-gpu-runtime-missing",
        "nvml-library-missing",
        "wsl-no-gpu-adapter",
        "nvml-unknown-error-after-reload",
    }
)


class RootCauses:
    """Links each run's findings to the first finding of the same cause (catalog id + a shared path)."""

    def __init__(self) -> None:
        #: (catalog id, path) -> the id of the first finding that reported it
        self._first: dict[tuple[str, str], str] = {}

    def link(self, result: CheckResult) -> CheckResult:
        """The result with findings already reported by an earlier check turned into references."""
        findings: list[Finding] = []
        changed = False
        for finding in result.findings:
            if finding.catalog_id is None or finding.severity is Severity.INFO:
                findings.append(finding)
                continue
            keys = [(finding.catalog_id, path) for path in _paths(finding)]
            if finding.catalog_id in HOST_WIDE:
                keys.append((finding.catalog_id, "(host)"))
            # The live stage meets, in the running server, a cause a static check named from the files and the
            # command: the catalog id alone ties them (one cause, one finding; the static one has the fix).
            live = finding.id.startswith(_LIVE)
            lookup = [(finding.catalog_id, ""), *keys] if live else keys
            first = next((self._first[k] for k in lookup if k in self._first and self._first[k] != finding.id), None)
            if first is None:
                for key in keys if live else [*keys, (finding.catalog_id, "")]:
                    self._first.setdefault(key, finding.id)
                findings.append(finding)
                continue
            changed = True
            findings.append(
                replace(
                    finding,
                    message=f"{finding.message} (same cause as {first} above)",
                    # A host-wide cause seen another way (the daemon refusing --gpus all) keeps that proof.
                    evidence=finding.evidence if finding.catalog_id in HOST_WIDE else "",
                    remedy=f"see {first} above",
                )
            )
        return replace(result, findings=tuple(findings)) if changed else result
