"""Turn a :class:`~triton_doctor.logs.LogDiagnosis` into the findings of ``container-logs``.

Root causes are reported (error; ``note`` entries as warnings) with every line number where they appear;
wrappers (``failed to load all models``, engine death, and the ``uncatalogued-load-failure`` catch-all for
any failed load, unhealthy stub or server exit) only when no root cause was found, each quoting its deepest
cause: the exception it carries, else the last exception above it. A model the status table lists as
UNAVAILABLE for a reason nothing else explains is reported too, without a catalog id.
"""

from __future__ import annotations

import re

from triton_doctor.check import FindingFactory
from triton_doctor.facts.context import Context
from triton_doctor.knowledge import CATALOG
from triton_doctor.logs.catalog import Hit, LogDiagnosis, load_catalog
from triton_doctor.logs.remedies import Deployment, remedy_for, wrapper_remedy
from triton_doctor.results import Location, Outcome, Severity

__all__ = ["CHECK_ID", "diagnosis_outcome", "log_deployment"]

CHECK_ID = "container-logs"


def _evidence(lines: list[tuple[int, str]]) -> str:
    return "\n".join(f"L{n}: {text.strip()[:300]}" for n, text in lines)


#: Causes the catalog does not hold, seen quoted above a wrapper: (needle in the quoted line, remedy).
_QUOTED_CAUSES = (
    (
        "no working c++ compiler",
        "the image has no C++ compiler, and torch's Inductor / Triton compiles kernels when the vLLM engine "
        "starts: install one in the image (apt-get install -y g++) or use the official image, which has one; "
        'or skip compilation in model.json ("enforce_eager": true)',
    ),
    (
        "failed to find c compiler",
        "the image has no C compiler, and Triton compiles its kernels when the vLLM engine starts: install one in "
        "the image (apt-get install -y gcc) or use the official image, which has one",
    ),
)


def _remedy_for_quoted(root: str, line_no: int, source: str = "") -> str:
    """A remedy for the quoted cause of a wrapper: specific when it is known, else plainly unknown."""
    lowered = root.lower()
    for needle, remedy in _QUOTED_CAUSES:
        if needle in lowered:
            return remedy
    where = f"docker logs {source.removeprefix('container ')}" if source.startswith("container ") else source
    return (
        f"the cause (line {line_no}) is not one triton-doctor knows: read the traceback that ends there "
        f"({where or 'the log'}) and fix what it names"
    )


_QUOTED_AFTER = re.compile(r"""\s*(['"])([^'"]{1,120})\1""")


def _shown(hit: Hit) -> str:
    """The matched words, plus the quoted name right after them ("for model" -> "for model 'gemma'")."""
    at = hit.text.find(hit.fragment) if hit.fragment else -1
    if at < 0:
        return hit.fragment
    rest = hit.text[at + len(hit.fragment) :]
    match = _QUOTED_AFTER.match(rest)
    return hit.fragment + rest[: match.end()] if match else hit.fragment


def _fill(template: str, hit: Hit) -> str:
    """``template`` with ``{name}`` replaced by the signature's named groups (``{model}``)."""
    for name, value in hit.groups:
        template = template.replace("{" + name + "}", value)
    return template


def log_deployment(ctx: Context) -> Deployment:
    """The deployment a container's log belongs to, for remedies that name what exists."""
    repo = ctx.repo()
    return Deployment(
        repo=repo.path if repo.exists and repo.is_dir else None, models=repo.model_dirs, image=ctx.target.image
    )


def diagnosis_outcome(diag: LogDiagnosis, source: str, deployment: Deployment | None = None) -> Outcome:
    """Findings and a summary for a scanned log; ``source`` names it (file, container, stdin).

    ``deployment`` (the repository, its models, the image), when known, makes the remedies name what exists.
    """
    known = deployment or Deployment()
    entries = {e.id: e for e in load_catalog()}
    f = FindingFactory(CHECK_ID)
    roots = diag.root_causes()

    def catalogued(cid: str, where: str, severity: Severity) -> None:
        entry, hits = entries[cid], diag.hits[cid]
        f.add(
            severity,
            cid,
            f"{_shown(hits[0])} (line {where}): {_fill(entry.cause, hits[0])}",
            evidence=_evidence([(h.line_no, h.text) for h in hits]),
            remedy=remedy_for(cid, hits[0], known, log_vllm=diag.vllm_version, release=diag.release)
            or _fill(entry.remedy, hits[0]),
            catalog_id=cid,
            location=Location(path=source, line=hits[0].line_no),
        )

    for cid in roots:
        more = diag.counts[cid] - len(diag.hits[cid])
        where = ", ".join(str(h.line_no) for h in diag.hits[cid]) + (f" (+{more} more)" if more > 0 else "")
        catalogued(cid, where, Severity.ERROR)
    for cid, hits in diag.hits.items():
        if entries[cid].role == "note":
            catalogued(cid, str(hits[0].line_no), Severity.WARNING)
    # A request error (unknown model, prompt too long ...) does not explain a dead engine or a failed load
    # that the same log shows: wrappers are still reported next to it.
    explained = any(CATALOG.get(cid, "") not in {"client", "runtime/client"} for cid in roots)
    if not explained:
        # The line each quoted cause was first reported with: a second wrapper quoting it (the engine died and
        # the load failed, both from one missing compiler) points to the first instead of repeating it.
        quoted: dict[int, str] = {}
        for cid, hits in diag.hits.items():
            entry = entries[cid]
            if entry.role != "wrapper":
                continue
            lines = [(h.line_no, h.text) for h in hits]
            context = diag.wrapper_context.get(cid)
            message = f"{hits[0].fragment} (line {hits[0].line_no}): {entry.cause}"
            remedy = wrapper_remedy(cid, diag, source) or _fill(entry.remedy, hits[0])
            cause_line = hits[0].line_no
            if cid == "engine-dead" and context is None:
                message = f"{hits[0].fragment} (line {hits[0].line_no}): the vLLM engine died, with no traceback above"
            if context is not None:
                if context.line_no not in {n for n, _ in lines}:
                    lines.insert(0, (context.line_no, context.text))
                message = (
                    f"{context.text[:300]} (line {context.line_no}), then {hits[0].fragment} (line {hits[0].line_no})"
                )
                remedy = _remedy_for_quoted(context.text, context.line_no, source)
                cause_line = context.line_no
            first = quoted.setdefault(cause_line, cid)
            if first != cid:
                message = (
                    f"{hits[0].fragment.strip().rstrip(':')} (line {hits[0].line_no}): "
                    f"same cause as {CHECK_ID}[{first}] above (line {cause_line})"
                )
                remedy = f"see {CHECK_ID}[{first}] above"
            f.error(
                cid,
                message,
                evidence=_evidence(sorted(lines)),
                remedy=remedy,
                catalog_id=cid,
                location=Location(path=source, line=hits[0].line_no),
            )
            explained = True
    if not explained:
        for model, (version, status, line_no) in diag.models.items():
            if status.upper().startswith("UNAVAILABLE"):
                f.error(
                    "model-unavailable",
                    f"model {model} version {version} is {status}",
                    evidence=_evidence([(line_no, f"| {model} | {version} | {status} |")]),
                    location=Location(path=source, line=line_no),
                    remedy="read the lines above the status table for the load error",
                )
    for model, (version, status, line_no) in diag.models.items():
        if status.upper() == "READY":
            f.info("model-ready", f"model {model} version {version} is READY (line {line_no})")
    parts = [f"{source}: {diag.lines} lines"]
    if diag.release or diag.server_version:
        parts.append(f"release {diag.release or '?'} (server {diag.server_version or '?'})")
    if diag.vllm_version:
        parts.append(f"vLLM {diag.vllm_version}")
    if diag.options.get("model_control_mode"):
        parts.append(diag.options["model_control_mode"])
    if diag.models:
        parts.append(", ".join(f"{m} {s.split(':')[0]}" for m, (_v, s, _n) in diag.models.items()))
    return f.outcome("; ".join(parts))
