"""Which checks run, which findings count, and the exit code: decisions kept apart from the checks.

Selectors (``--only``/``--skip``, repeatable or comma-separated) name a check id (``engine-args``), a
finding sub-id (``engine-args[unknown]``) or a category (``repo``). ``--only`` picks checks (and, for a
sub-id, keeps only those findings); ``--skip`` removes checks or findings. A selector that names nothing
known is a usage error, with a "did you mean".
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace

from triton_doctor.check import Check
from triton_doctor.results import Category, CheckResult, ExitCode, Finding, Outcome, Status

__all__ = ["Policy", "PolicyError", "exit_code"]


class PolicyError(ValueError):
    """A selector names no check, sub-id or category."""


def _split(values: tuple[str, ...] | list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@dataclass(frozen=True, slots=True)
class Policy:
    """Selection of checks and findings."""

    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()

    @classmethod
    def from_options(cls, only: tuple[str, ...] | list[str], skip: tuple[str, ...] | list[str]) -> Policy:
        """Build from repeatable / comma-separated CLI or config values."""
        return cls(tuple(_split(only)), tuple(_split(skip)))

    def validate(self, checks: dict[str, type[Check]]) -> None:
        """Raise :class:`PolicyError` for a selector that matches nothing."""
        names = set(checks) | {c.value for c in Category}
        for selector in (*self.only, *self.skip):
            base = selector.split("[", 1)[0]
            if base not in names:
                close = difflib.get_close_matches(base, sorted(names), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else "; see 'triton-doctor list-checks'"
                raise PolicyError(f"unknown check, sub-id or category {selector!r}{hint}")

    @staticmethod
    def _matches(selector: str, check: type[Check]) -> bool:
        base = selector.split("[", 1)[0]
        return base in {check.id, check.category.value}

    def select(self, checks: dict[str, type[Check]], *, live: bool = False) -> list[type[Check]]:
        """The checks to run, with the prerequisites of selected checks added."""
        chosen: dict[str, type[Check]] = {}
        for check in checks.values():
            named = any(self._matches(s, check) for s in self.only)
            if self.only and not named:
                continue
            if check.opt_in and not (live or any(s.split("[", 1)[0] == check.id for s in self.only)):
                continue
            if any(self._matches(s, check) and "[" not in s for s in self.skip):
                continue
            chosen[check.id] = check
        # Prerequisites run too, so a dependent check can tell "skipped because X failed".
        pending = list(chosen.values())
        while pending:
            for req in pending.pop().requires:
                if req not in chosen and req in checks:
                    chosen[req] = checks[req]
                    pending.append(checks[req])
        return list(chosen.values())

    def filter_findings(self, result: CheckResult) -> CheckResult:
        """Drop findings deselected by sub-id selectors and recompute the status."""
        only_subs = {s for s in self.only if "[" in s and s.split("[", 1)[0] == result.check}
        skip_subs = {s for s in self.skip if "[" in s and s.split("[", 1)[0] == result.check}
        if (not only_subs and not skip_subs) or result.status in {Status.SKIP, Status.ERROR}:
            return result
        kept: tuple[Finding, ...] = tuple(
            f for f in result.findings if (not only_subs or f.id in only_subs) and f.id not in skip_subs
        )
        status = Outcome(findings=kept).status
        return replace(result, findings=kept, status=status)


def exit_code(results: list[CheckResult], fail_on: str) -> ExitCode:
    """0: nothing at or above ``fail_on``; 1: findings at or above it; 3: a check errored (and nothing failed).

    Findings win over errors: a failed check is a definite answer, an errored one is a missing answer.
    """
    threshold = {Status.FAIL} if fail_on == "fail" else {Status.FAIL, Status.WARN}
    if any(r.status in threshold for r in results):
        return ExitCode.FINDINGS
    if any(r.status is Status.ERROR for r in results):
        return ExitCode.UNDECIDED
    return ExitCode.OK
