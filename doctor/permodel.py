"""Run one check over every selected model and fold the per-model findings into one outcome.

A repository check looks at each model on its own. A model whose prerequisite facts are missing (its
config.pbtxt did not parse, it has no version directory) is "not evaluable" for the checks that need
them: the check says so in its summary and, when no model at all was evaluable, is skipped with the
reasons. The finding that explains why (``model-config[syntax]``...) is reported once, by its own check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace

from triton_doctor.check import FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.facts.repository import ModelFacts
from triton_doctor.results import Outcome, Severity

__all__ = ["BRIEF_ABOVE", "NotEvaluable", "per_model"]

#: Above this many models the text report's headline gives counts and only the models with findings.
BRIEF_ABOVE = 5


class NotEvaluable(Exception):
    """Raised by a per-model evaluation when a prerequisite fact is missing for that model."""


def per_model(
    ctx: Context,
    check_id: str,
    evaluate: Callable[[ModelFacts, FindingFactory], None],
    *,
    ok: str = "OK",
) -> Outcome:
    """Call ``evaluate(model, findings)`` for each selected model and summarise."""
    present, _missing = ctx.selected_models()
    if not present:
        return Outcome(skip_reason="no model to check in the repository")
    findings = FindingFactory(check_id)
    skipped: list[str] = []
    checked: list[str] = []
    unjudged: list[tuple[str, str]] = []
    for name in present:
        try:
            evaluate(ctx.model(name), findings)
            checked.append(name)
        except NotEvaluable as why:
            skipped.append(f"{name}: {why}")
            unjudged.append((name, str(why)))
    if not checked:
        outcome = Outcome(skip_reason="; ".join(skipped), not_judged=tuple(unjudged))
        if len(skipped) <= BRIEF_ABOVE:
            return outcome
        reasons = Counter(part.split(": ", 1)[1] for part in skipped)
        return replace(outcome, brief="; ".join(f"{n} model(s): {why}" for why, n in reasons.most_common()))
    parts: list[str] = []
    # One pass over the findings (counting per model inside the loop was quadratic in models).
    tally = Counter((f.model, f.severity) for f in findings.findings)
    for name in checked:
        errors = tally[(name, Severity.ERROR)]
        warnings = tally[(name, Severity.WARNING)]
        counts = [f"{n} {word}{'s' if n > 1 else ''}" for n, word in ((errors, "error"), (warnings, "warning")) if n]
        parts.append(f"{name}: {', '.join(counts)}" if counts else f"{name}: {ok}")
    summary = "; ".join(parts)
    if skipped:
        summary += f"; not checked: {'; '.join(skipped)}"
    outcome = replace(findings.outcome(summary), not_judged=tuple(unjudged))
    if len(checked) + len(skipped) <= BRIEF_ABOVE:
        return outcome
    # Many models: counts, then only the models with findings (-v and the machine formats list them all).
    flagged = [part for name, part in zip(checked, parts, strict=True) if part != f"{name}: {ok}"]
    brief = f"{len(checked)} model(s): {ok}"
    if flagged:
        brief = f"{len(checked)} model(s), {len(flagged)} with findings: {'; '.join(flagged)}"
    if skipped:
        brief += f"; {len(skipped)} not checked (-v lists them)"
    return replace(outcome, brief=brief)


def require_config(model: ModelFacts) -> object:
    """The parsed config message, or :class:`NotEvaluable`."""
    if model.parsed is None:
        raise NotEvaluable("no config.pbtxt")
    if model.parsed.message is None:
        raise NotEvaluable("config.pbtxt does not parse")
    return model.parsed.message
