"""One verdict per model, from the results of one ``check`` run (the way NIM's ``list-model-profiles`` sorts
profiles into compatible or not).

- ``runs``: no error for the model or the host in the checks that ran, and every fact they needed was there;
- ``runs-after-fix``: every error has an edit ``triton-doctor fix`` makes (``--unsafe`` named when needed);
- ``needs-change``: an error the doctor cannot repair itself (which, by finding id);
- ``not-judged``: no error, but a fact was missing (offline and config.json not cached, no GPU facts ...).

A finding about a model (``Finding.model``) counts for that model; an error about nothing in particular (no
GPU runtime, the repository is missing) counts for every model. The matrix says which stages were checked,
so that "runs" after ``--only repo`` is not read as a verdict on the host.
"""

from __future__ import annotations

from collections.abc import Sequence

from triton_doctor.fixdata import Applicability
from triton_doctor.results import Category, CheckResult, Finding, ModelVerdict, Severity, Status, Verdict

__all__ = ["STAGES", "matrix_lines", "model_verdicts", "stages_checked"]

#: The stages of a deployment, as the matrix names them.
STAGES = {
    Category.REPO: "repository",
    Category.MOUNTS: "mounts",
    Category.DOCKER: "Docker",
    Category.GPU: "GPU",
    Category.HF: "Hub",
    Category.LIVE: "live",
}
# Skip reasons that mean a fact could not be had here, rather than "nothing to look at".
_MISSING_FACT = ("offline", "needs the network", "not in the hf cache", "did not answer", "no nvml")
_SHOWN = 3
#: Above this many models only those that do not simply run are named (as the headlines do).
BRIEF = 5


def _errors(results: Sequence[CheckResult], model: str) -> list[Finding]:
    found: dict[str, Finding] = {}
    for result in results:
        for f in result.findings:
            if f.severity is Severity.ERROR and f.model in (None, model):
                found.setdefault(f.id, f)
    return list(found.values())


def _missing(results: Sequence[CheckResult], model: str) -> list[str]:
    """The missing facts, each once with the checks that needed it: ``"max-model-len, model-checkpoint: why"``."""
    why: dict[str, list[str]] = {}
    for result in results:
        for name, reason in result.not_judged:
            if name == model:
                why.setdefault(reason, []).append(result.check)
        if result.status is Status.SKIP and result.category in STAGES and not result.not_judged:
            reason = result.skip_reason or ""
            if any(word in reason.lower() for word in _MISSING_FACT):
                why.setdefault(reason, []).append(result.check)
    return [f"{', '.join(dict.fromkeys(checks))}: {reason}" for reason, checks in why.items()]


def _fixable(f: Finding) -> bool:
    return f.fix is not None and bool(f.fix.edits) and f.fix.applicability is not Applicability.DISPLAY


def model_verdicts(results: Sequence[CheckResult], models: Sequence[str]) -> tuple[ModelVerdict, ...]:
    """The verdict of each model in ``models`` from the checks' results."""
    rows: list[ModelVerdict] = []
    for model in models:
        errors = _errors(results, model)
        if errors:
            blocking = [f for f in errors if not _fixable(f) and not f.remedy.startswith("see ")]
            if blocking:
                rows.append(ModelVerdict(model=model, verdict=Verdict.NEEDS_CHANGE, reasons=_ids(blocking)))
                continue
            rows.append(ModelVerdict(model=model, verdict=Verdict.RUNS_AFTER_FIX, reasons=_ids(errors)))
            continue
        missing = _missing(results, model)
        if missing:
            rows.append(ModelVerdict(model=model, verdict=Verdict.NOT_JUDGED, reasons=tuple(missing)))
        else:
            rows.append(ModelVerdict(model=model, verdict=Verdict.RUNS))
    return tuple(rows)


def _ids(findings: Sequence[Finding]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f.id for f in findings if not f.remedy.startswith("see ")))


def stages_checked(results: Sequence[CheckResult]) -> tuple[list[str], list[str]]:
    """``(stages some check judged, stages no check judged)``, in :data:`STAGES` order."""
    ran = {r.category for r in results if r.status is not Status.SKIP}
    return [n for c, n in STAGES.items() if c in ran], [n for c, n in STAGES.items() if c not in ran]


def _generic(reason: str, model: str) -> str:
    """A reason without the model's own name, so that models with the same cause group together."""
    return reason.replace(f"{model}: ", "").replace(model, "<the model>")


def _words(row: ModelVerdict, unsafe: bool) -> str:
    shown = ", ".join(row.reasons[:_SHOWN]) + (
        f" +{len(row.reasons) - _SHOWN} more" if len(row.reasons) > _SHOWN else ""
    )
    if row.verdict is Verdict.RUNS:
        return "runs"
    if row.verdict is Verdict.RUNS_AFTER_FIX:
        return f"runs after triton-doctor fix{' --unsafe' if unsafe else ''} ({shown})"
    if row.verdict is Verdict.NEEDS_CHANGE:
        return f"needs a change the doctor cannot make: {shown}"
    return f"cannot be judged here: {shown}"


def matrix_lines(
    verdicts: Sequence[ModelVerdict], results: Sequence[CheckResult], image: str | None, *, limit: int = 20
) -> list[str]:
    """The matrix as plain text lines (model x this host / the image), the stages it covers first."""
    if not verdicts:
        return []
    checked, unchecked = stages_checked(results)
    scope = f"checked: {', '.join(checked) or 'nothing'}"
    if unchecked:
        scope += f"; not checked: {', '.join(unchecked)}"
    where = f"this host, image {image}" if image else "this host, no image given"
    lines = [f"Verdict per model ({where}; {scope}):"]
    unsafe_ids = {
        f.id
        for r in results
        for f in r.findings
        if f.fix is not None and f.fix.applicability is Applicability.UNSAFE and f.severity is Severity.ERROR
    }
    if len(verdicts) <= BRIEF:
        width = min(max(len(v.model) for v in verdicts), 40)
        for row in verdicts:
            unsafe = any(i in unsafe_ids for i in row.reasons)
            lines.append(f"  {row.model:<{width}}  {_words(row, unsafe)}")
        return lines
    # Many models: one line per verdict and reason, naming a few models (--format json lists them all).
    groups: dict[tuple[Verdict, tuple[str, ...]], list[str]] = {}
    for row in verdicts:
        reasons = tuple(_generic(r, row.model) for r in row.reasons)
        groups.setdefault((row.verdict, reasons), []).append(row.model)
    for (verdict, reasons), models in list(groups.items())[:limit]:
        named = ", ".join(models[:3]) + (f" +{len(models) - 3} more" if len(models) > 3 else "")
        row = ModelVerdict(model="", verdict=verdict, reasons=reasons)
        unsafe = any(i in unsafe_ids for i in reasons)
        lines.append(f"  {len(models)} model(s) ({named}): {_words(row, unsafe)}")
    if len(groups) > limit:
        lines.append(f"  {len(groups) - limit} more kinds of verdict (--format json lists every model)")
    return lines
