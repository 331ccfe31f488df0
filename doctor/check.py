"""The contract of a check, and helpers to build its findings.

A check is a class with class-level metadata and one method, ``run(ctx) -> Outcome``. It reads the
:class:`~triton_doctor.facts.context.Context` (facts computed through probes) and never prints, prompts, exits
or writes. Metadata is validated when the check is registered (:mod:`triton_doctor.registry`), so a bad id
fails at load time, never in the middle of a run.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar

from triton_doctor.fixdata import Fix
from triton_doctor.results import Category, Finding, Location, Outcome, Severity

if TYPE_CHECKING:
    from triton_doctor.facts.context import Context

__all__ = ["ID_RE", "Check", "FindingFactory"]

#: Check ids are kebab-case and never change once released.
ID_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class Check:
    """Base class of every check (built-in or plugin)."""

    #: Stable kebab-case id, e.g. ``model-config``.
    id: ClassVar[str]
    #: Noun phrase shown in reports, e.g. ``config.pbtxt parses``.
    title: ClassVar[str]
    category: ClassVar[Category]
    #: Ids of checks that must pass (or warn) first; otherwise this one is skipped with the reason.
    requires: ClassVar[frozenset[str]] = frozenset()
    #: Ids of checks to show before this one, without making them prerequisites (display order only).
    after: ClassVar[frozenset[str]] = frozenset()
    #: Seconds before the runner gives up on this check and records ``error``.
    timeout_s: ClassVar[float] = 30.0
    #: Needs the network: skipped under ``--offline``.
    network: ClassVar[bool] = False
    #: Runs only when asked for (``--live``, ``--only``): slow or has side effects such as containers.
    opt_in: ClassVar[bool] = False
    #: Describes the container still to be started (its ports, name, mounts, options, GPU runtime): with
    #: ``--server`` the server already runs, so the runner skips it rather than judge the running one.
    describes_new_container: ClassVar[bool] = False
    #: Judges this machine (its NVML GPUs, Docker engine, RAM): with ``--server`` the deployment runs elsewhere,
    #: and with ``--live --no-gpus`` the GPU ones (``host_only == "gpu"``) judge nothing the bring-up uses.
    host_only: ClassVar[str | None] = None
    #: Longer text for ``triton-doctor explain``: why this matters and how findings are fixed.
    explanation: ClassVar[str] = ""
    #: Sub-ids this check can emit, with a one-line meaning (for ``explain`` and ``--skip id[sub]``).
    sub_ids: ClassVar[dict[str, str]] = {}

    def run(self, ctx: Context) -> Outcome:
        """Look at the context and return what was found."""
        raise NotImplementedError


class FindingFactory:
    """Builds findings for one check with its id prefilled: ``f.error("syntax", "...")``."""

    def __init__(self, check_id: str) -> None:
        self._check_id = check_id
        self.findings: list[Finding] = []

    def add(
        self,
        severity: Severity,
        sub_id: str,
        message: str,
        *,
        evidence: str = "",
        remedy: str = "",
        location: Location | None = None,
        catalog_id: str | None = None,
        model: str | None = None,
        fix: Fix | None = None,
    ) -> Finding:
        """Record one finding and return it."""
        finding = Finding(
            id=f"{self._check_id}[{sub_id}]",
            severity=severity,
            message=message,
            evidence=evidence,
            remedy=remedy,
            location=location,
            catalog_id=catalog_id,
            model=model,
            fix=fix,
        )
        self.findings.append(finding)
        return finding

    def error(self, sub_id: str, message: str, **kw: object) -> Finding:
        """Record a finding that makes the check fail."""
        return self.add(Severity.ERROR, sub_id, message, **kw)  # type: ignore[arg-type]

    def warning(self, sub_id: str, message: str, **kw: object) -> Finding:
        """Record a finding that makes the check warn."""
        return self.add(Severity.WARNING, sub_id, message, **kw)  # type: ignore[arg-type]

    def info(self, sub_id: str, message: str, **kw: object) -> Finding:
        """Record an informational finding (shown with ``-v``)."""
        return self.add(Severity.INFO, sub_id, message, **kw)  # type: ignore[arg-type]

    def outcome(self, summary: str) -> Outcome:
        """The outcome made of every finding recorded so far."""
        return Outcome(summary=summary, findings=tuple(self.findings))
