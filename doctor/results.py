"""Frozen result records: what a check observed, and what the runner made of it.

Checks build :class:`Finding` objects and return an :class:`Outcome`; the runner wraps it into a
:class:`CheckResult` (status, timing) and the whole run into a :class:`Report`. All are frozen, so a
reporter or a policy can never change what a check said.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from triton_doctor.fixdata import Fix

__all__ = [
    "Category",
    "CheckResult",
    "ExitCode",
    "Finding",
    "Location",
    "Outcome",
    "Report",
    "Severity",
    "Status",
    "Suppression",
    "worst_status",
]


class Status(StrEnum):
    """The verdict of one check."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"


class Severity(StrEnum):
    """How bad one finding is; ``error`` makes its check fail, ``warning`` makes it warn."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Category(StrEnum):
    """The stage of a deployment a check looks at."""

    DOCKER = "docker"
    GPU = "gpu"
    MOUNTS = "mounts"
    HF = "hf"
    REPO = "repo"
    LOGS = "logs"
    LIVE = "live"
    #: Kubernetes manifests and pod state (check --manifest / --pod-state).
    KUBE = "kube"


class ExitCode(IntEnum):
    """The documented process exit codes (see README)."""

    OK = 0
    FINDINGS = 1
    USAGE = 2
    UNDECIDED = 3


_STATUS_RANK = {Status.PASS: 0, Status.SKIP: 0, Status.WARN: 1, Status.FAIL: 2, Status.ERROR: 3}


def worst_status(statuses: list[Status]) -> Status:
    """Return the most serious of ``statuses`` (``pass`` for an empty list)."""
    worst = Status.PASS
    for status in statuses:
        if _STATUS_RANK[status] > _STATUS_RANK[worst]:
            worst = status
    return worst


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    """Where a finding points: a file and, where known, its line and column (1-based)."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = self.path
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One observation of a check.

    ``id`` is the check id with a bracketed sub-id (``model-config[syntax]``) so that users can select or
    skip one flavour of a check. ``catalog_id`` names the failure mode of the knowledge catalog this finding
    is, when it is one.
    """

    #: ``<check-id>[<sub-id>]``
    id: str
    severity: Severity
    #: One line: the observed fact, quoting the value that was found.
    message: str
    #: What was seen, verbatim where possible (a config line, a log line, a value).
    evidence: str = ""
    #: The exact thing to do or paste.
    remedy: str = ""
    location: Location | None = None
    catalog_id: str | None = None
    #: The Triton model this finding is about, when it is about one.
    model: str | None = None
    #: A repair ``triton-doctor fix`` can apply or show (None: no automatic fix).
    fix: Fix | None = None

    @property
    def sub_id(self) -> str:
        """The part in brackets, or the empty string."""
        if "[" in self.id and self.id.endswith("]"):
            return self.id[self.id.index("[") + 1 : -1]
        return ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What a check returns: its findings and a one-line summary, or a reason it could not apply."""

    summary: str = ""
    findings: tuple[Finding, ...] = ()
    #: Set when the check does not apply (nothing to look at, offline, ...): the status becomes ``skip``.
    skip_reason: str | None = None
    #: A shorter summary for the text report without -v (e.g. counts instead of 200 model names); the
    #: machine formats and -v keep ``summary``.
    brief: str | None = None
    #: Models this check could not judge, with the missing fact: ``(model, why)``.
    not_judged: tuple[tuple[str, str], ...] = ()

    @property
    def status(self) -> Status:
        """The status these findings add up to."""
        if self.skip_reason is not None:
            return Status.SKIP
        severities = {f.severity for f in self.findings}
        if Severity.ERROR in severities:
            return Status.FAIL
        if Severity.WARNING in severities:
            return Status.WARN
        return Status.PASS


@dataclass(frozen=True, slots=True, kw_only=True)
class Suppression:
    """A finding the policy hid: an ``ignore``/``--skip`` entry (with its reason) or the baseline."""

    finding: Finding
    reason: str
    #: ``ignore`` (config ``ignore``, ``--skip``) or ``baseline`` (``--baseline``).
    kind: str = "ignore"


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """The runner's record of one check."""

    check: str
    title: str
    category: Category
    status: Status
    summary: str = ""
    findings: tuple[Finding, ...] = ()
    duration_ms: int = 0
    skip_reason: str | None = None
    #: For ``error``: what went wrong inside the doctor (exception text or timeout).
    error: str | None = None
    #: For ``error`` with ``-v``: the traceback.
    traceback: str | None = None
    #: Findings hidden by the policy, with the reason; they do not count towards the status.
    suppressed: tuple[Suppression, ...] = ()
    #: The text report's summary without -v, when shorter than ``summary`` (see :attr:`Outcome.brief`).
    brief: str | None = None
    #: Models this check could not judge, with the missing fact (see :attr:`Outcome.not_judged`).
    not_judged: tuple[tuple[str, str], ...] = ()


class Verdict(StrEnum):
    """Whether a model runs on this host with this image, as far as the checks that ran can tell."""

    RUNS = "runs"
    RUNS_AFTER_FIX = "runs-after-fix"
    NEEDS_CHANGE = "needs-change"
    NOT_JUDGED = "not-judged"


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelVerdict:
    """One row of the verdict matrix."""

    model: str
    verdict: Verdict
    #: The finding ids behind the verdict (to fix, or the change the doctor cannot make), or the missing facts.
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """A finished run: every check's result plus what could not be loaded."""

    tool_version: str
    target: dict[str, object]
    results: tuple[CheckResult, ...]
    #: Plugins that failed to import: ``(entry point, error)``.
    load_errors: tuple[tuple[str, str], ...] = ()
    duration_ms: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    #: One verdict per model (``check`` only; see :mod:`triton_doctor.report.verdict`).
    verdicts: tuple[ModelVerdict, ...] = ()

    def count(self, status: Status) -> int:
        """How many checks ended with ``status``."""
        return sum(1 for r in self.results if r.status is status)
