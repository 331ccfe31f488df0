"""Which checks run, which findings count, and the exit code: decisions kept apart from the checks.

Selectors (``--only``/``--skip``, config ``select``/``ignore``; repeatable or comma-separated) name a check
id (``engine-args``), a finding sub-id (``engine-args[unknown]``), a failure-mode catalog id
(``shm-too-small-python-backend``) or a category (``repo``). ``--only`` picks checks (and, for a sub-id or
catalog id, keeps only those findings); ``--skip`` removes checks or findings and always wins: a check that
requires a skipped check is skipped with that reason, never run to satisfy it. A selector that names nothing
known is a usage error, with a "did you mean".

A profile (``quick``, ``standard``, ``full``) is the set of checks a run starts from; ``--only``/``--skip``
refine it. Severity overrides and a baseline (fingerprints of known findings) change what counts.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache

from triton_doctor.check import Check
from triton_doctor.results import (
    Category,
    CheckResult,
    ExitCode,
    Finding,
    Outcome,
    Severity,
    Status,
    Suppression,
)

__all__ = ["PROFILES", "Ignore", "Policy", "PolicyError", "catalog_ids", "exit_code", "in_profile"]

#: quick: static checks of the repository, mounts and model files (no Docker, no GPU, no network);
#: standard: + Docker, GPU, Hugging Face and container logs (the default); full: + the live stage.
PROFILES = ("quick", "standard", "full")
_QUICK_CATEGORIES = {Category.REPO, Category.MOUNTS, Category.KUBE}


class PolicyError(ValueError):
    """A selector names no check, sub-id, catalog id or category; a bad profile or severity. Exit code 2."""


def _split(values: Iterable[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@cache
def catalog_ids() -> frozenset[str]:
    """Every failure-mode id of the knowledge catalog and of the log catalog."""
    from triton_doctor.knowledge import CATALOG
    from triton_doctor.logs import load_catalog

    return frozenset(CATALOG) | {entry.id for entry in load_catalog()}


def _needs_docker(check: type[Check], checks: Mapping[str, type[Check]]) -> bool:
    seen: set[str] = set()
    pending = [check]
    while pending:
        current = pending.pop()
        if current.category is Category.DOCKER:
            return True
        for req in current.requires:
            if req in checks and req not in seen:
                seen.add(req)
                pending.append(checks[req])
    return False


def in_profile(check: type[Check], profile: str, checks: Mapping[str, type[Check]]) -> bool:
    """Whether ``check`` belongs to ``profile`` (quick excludes anything that needs Docker, even indirectly)."""
    if profile == "full":
        return True
    if check.opt_in:
        return False
    if profile == "quick":
        return check.category in _QUICK_CATEGORIES and not check.network and not _needs_docker(check, checks)
    return True


@dataclass(frozen=True, slots=True)
class Ignore:
    """One ``--skip`` / ``ignore`` entry: a selector and why."""

    selector: str
    reason: str


def _base(selector: str) -> str:
    return selector.split("[", 1)[0]


def _is_sub(selector: str) -> bool:
    return "[" in selector


@dataclass(frozen=True, slots=True)
class Policy:
    """Selection of checks and findings, severity overrides and the baseline."""

    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    #: The reason shown for each skip selector (default: "--skip X").
    reasons: Mapping[str, str] = field(default_factory=dict)
    #: selector (id, id[sub], catalog id) -> severity.
    severity: Mapping[str, Severity] = field(default_factory=dict)
    profile: str = "standard"
    #: Fingerprints of known findings (``--baseline``): hidden as "in the baseline".
    baseline: frozenset[str] = frozenset()
    baseline_label: str = "the baseline"
    #: Where each selector came from, for error messages (``--skip``, ``triton-doctor.toml: ignore[0]``).
    origins: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_options(cls, only: tuple[str, ...] | list[str], skip: tuple[str, ...] | list[str]) -> Policy:
        """Build from repeatable / comma-separated CLI or config values."""
        return cls(tuple(_split(only)), tuple(_split(skip)))

    @classmethod
    def build(
        cls,
        *,
        only: Iterable[str] = (),
        skip: Iterable[str] = (),
        ignores: Iterable[Ignore] = (),
        severity: Mapping[str, str] | None = None,
        profile: str = "standard",
        baseline: Iterable[str] = (),
        baseline_label: str = "the baseline",
        origins: Mapping[str, str] | None = None,
    ) -> Policy:
        """A policy from CLI values (``only``/``skip``) and config entries (``ignores`` carry reasons)."""
        if profile not in PROFILES:
            close = difflib.get_close_matches(profile, PROFILES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise PolicyError(f"unknown profile {profile!r}{hint}; use one of {', '.join(PROFILES)}")
        reasons: dict[str, str] = {}
        for entry in ignores:
            reasons[entry.selector] = entry.reason
        skips = _split(skip)
        for selector in skips:
            reasons.setdefault(selector, f"--skip {selector}")
        levels: dict[str, Severity] = {}
        for selector, level in (severity or {}).items():
            value = {"warn": "warning", "err": "error"}.get(level, level)
            try:
                levels[selector] = Severity(value)
            except ValueError:
                raise PolicyError(
                    f"severity override {selector!r} = {level!r}: use one of error, warning, info"
                ) from None
        return cls(
            only=tuple(_split(only)),
            skip=tuple(dict.fromkeys([*skips, *reasons])),
            reasons=reasons,
            severity=levels,
            profile=profile,
            baseline=frozenset(baseline),
            baseline_label=baseline_label,
            origins=dict(origins or {}),
        )

    def validate(self, checks: Mapping[str, type[Check]]) -> None:
        """Raise :class:`PolicyError` for a selector that matches nothing (unknown id, sub-id or catalog id)."""
        catalog = catalog_ids()
        names = set(checks) | {c.value for c in Category} | catalog
        for selector in (*self.only, *self.skip, *self.severity):
            where = self.origins.get(selector, "")
            prefix = f"{where}: " if where else ""
            base = _base(selector)
            if base not in names:
                close = difflib.get_close_matches(base, sorted(names), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else "; see 'triton-doctor list-checks'"
                raise PolicyError(f"{prefix}unknown check, sub-id, catalog id or category {selector!r}{hint}")
            if not _is_sub(selector):
                continue
            if not selector.endswith("]") or base not in checks:
                raise PolicyError(f"{prefix}{selector!r}: write CHECK-ID[SUB-ID], e.g. 'config-io[unknown-output]'")
            sub = selector[len(base) + 1 : -1]
            declared = checks[base].sub_ids
            if declared and sub not in declared and sub not in catalog:
                close = difflib.get_close_matches(sub, sorted(declared), n=1)
                hint = (
                    f"; did you mean '{base}[{close[0]}]'?"
                    if close
                    else f"; see 'triton-doctor explain {base}' for its sub-ids"
                )
                raise PolicyError(f"{prefix}unknown sub-id {selector!r}{hint}")

    def _names_check(self, selector: str, check: type[Check]) -> bool:
        return _base(selector) in {check.id, check.category.value}

    def _skips_check(self, check: type[Check]) -> str | None:
        for selector in self.skip:
            if not _is_sub(selector) and self._names_check(selector, check):
                return self.reasons.get(selector, f"--skip {selector}")
        return None

    def _chosen(self, checks: Mapping[str, type[Check]], *, live: bool) -> dict[str, type[Check]]:
        profile = "full" if live else self.profile
        catalog = catalog_ids()
        only_checks = [s for s in self.only if _base(s) not in catalog]
        only_catalog = len(only_checks) < len(self.only)
        chosen: dict[str, type[Check]] = {}
        for check in checks.values():
            named_id = any(_base(s) == check.id for s in only_checks)
            named = any(self._names_check(s, check) for s in only_checks)
            if only_checks and not named and not only_catalog:
                continue
            if not named_id and not in_profile(check, profile, checks):
                continue
            chosen[check.id] = check
        return chosen

    def asked(self, checks: Mapping[str, type[Check]], *, live: bool = False) -> list[type[Check]]:
        """The checks the profile and ``only`` ask for that no skip removes (prerequisites not counted)."""
        return [c for c in self._chosen(checks, live=live).values() if self._skips_check(c) is None]

    def select(self, checks: Mapping[str, type[Check]], *, live: bool = False) -> list[type[Check]]:
        """The checks to run or report: the profile refined by ``only``, skipped ones included, prerequisites added.

        Checks in :meth:`skipped` are part of the list; the runner reports them as ``skip`` with the reason.
        """
        chosen = self._chosen(checks, live=live)
        # Prerequisites run too (so a dependent check can tell "skipped because X failed"), unless skipped.
        pending = list(chosen.values())
        while pending:
            for req in pending.pop().requires:
                if req not in chosen and req in checks:
                    chosen[req] = checks[req]
                    pending.append(checks[req])
        return list(chosen.values())

    def skipped(self, checks: Iterable[type[Check]]) -> dict[str, str]:
        """Check id -> reason for each of ``checks`` a skip selector removes."""
        return {c.id: reason for c in checks if (reason := self._skips_check(c)) is not None}

    def _matching(self, finding: Finding, selectors: Iterable[str]) -> str | None:
        for selector in selectors:
            if finding.id == selector or (finding.catalog_id is not None and finding.catalog_id == selector):
                return selector
        return None

    def _severity_for(self, finding: Finding) -> Severity | None:
        check_id = _base(finding.id)
        for key in (finding.id, finding.catalog_id, check_id):
            if key is not None and key in self.severity:
                return self.severity[key]
        return None

    def filter_findings(self, result: CheckResult) -> CheckResult:
        """Apply severity overrides, sub-id/catalog selectors, ignores and the baseline; recompute the status."""
        from triton_doctor.report.fingerprint import fingerprint

        if result.status in {Status.SKIP, Status.ERROR} or not result.findings:
            return result
        catalog = catalog_ids()
        only_subs = [s for s in self.only if (_is_sub(s) and _base(s) == result.check) or s in catalog]
        named_whole = any(
            not _is_sub(s) and s not in catalog and _base(s) in {result.check, result.category.value} for s in self.only
        )
        kept: list[Finding] = []
        hidden: list[Suppression] = list(result.suppressed)
        for original in result.findings:
            level = self._severity_for(original)
            finding = original
            if level is not None and level is not original.severity:
                finding = replace(original, severity=level)
            if only_subs and not named_whole and self._matching(finding, only_subs) is None:
                continue
            selector = self._matching(finding, (s for s in self.skip if _is_sub(s) or s in catalog))
            if selector is not None:
                hidden.append(Suppression(finding=finding, reason=self.reasons.get(selector, ""), kind="ignore"))
                continue
            if self.baseline and fingerprint(finding) in self.baseline:
                hidden.append(Suppression(finding=finding, reason=f"in {self.baseline_label}", kind="baseline"))
                continue
            kept.append(finding)
        if len(kept) == len(result.findings) and not self.severity and len(hidden) == len(result.suppressed):
            return result
        status = Outcome(findings=tuple(kept)).status
        return replace(result, findings=tuple(kept), status=status, suppressed=tuple(hidden))


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
