"""``triton-doctor fix``: check, plan, preview, confirm, journal, apply, re-check; and ``fix --undo``."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from triton_doctor.core.secrets import redact
from triton_doctor.deploy.inputs import TargetInput, build_target
from triton_doctor.deploy.target import Target, host_path, writable_here
from triton_doctor.deploy.tokens import known_secrets
from triton_doctor.facts.context import Context
from triton_doctor.policy import Policy
from triton_doctor.registry import Registry, load_registry
from triton_doctor.repair.apply import FixError, apply_plan, check_paths, preflight, undo_run
from triton_doctor.repair.journal import Journal, JournalError, find_run, journal_lock, journal_root
from triton_doctor.repair.plan import Plan, build_plan, display_path, render_op
from triton_doctor.results import Finding, Severity
from triton_doctor.runner import RunOptions, run_checks

__all__ = ["FixRequest", "run_fix_command"]

_PLACEHOLDER = re.compile(r"<[^<>]+>")
#: What ``fix`` checks unless told otherwise: the categories it can repair.
DEFAULT_ONLY = ("repo", "mounts")
#: Rounds of fix -> re-check within one run (a repair can uncover the next one: a model.json that parses).
MAX_ROUNDS = 4


@dataclass(slots=True, kw_only=True)
class FixRequest:
    """Everything ``triton-doctor fix`` was asked."""

    target: TargetInput
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    dry_run: bool = False
    yes: bool = False
    unsafe: bool = False
    #: ``--undo``: "" for the latest run, else a run id; None: not an undo.
    undo: str | None = None
    force: bool = False


def _findings(registry: Registry, target: Target, config: dict[str, object], policy: Policy) -> list[Finding]:
    selected = policy.select(registry.checks, live=False)
    ctx = Context(target, config)
    try:
        results = run_checks(selected, ctx, RunOptions(offline=target.offline))
    finally:
        ctx.close()
    out: list[Finding] = []
    wanted = {s.split("[", 1)[0] for s in policy.only}
    for result in results:
        if wanted and not wanted & {result.check, result.category.value}:
            continue  # a prerequisite pulled in by the selection: not ours to report
        out += [f for f in policy.filter_findings(result).findings if f.severity is not Severity.INFO]
    return out


def _roots(target: Target, command_file: str | None = None) -> list[Path]:
    """Where fix may write: the repository, the local-model folders (bind sources), the journal, and the
    ``--docker-command-file`` the user named."""
    repo = host_path(target.repo)
    roots = [repo, journal_root(repo)]
    if command_file:
        roots.append(Path(command_file).absolute())
    for mount in target.mounts:
        # Only a bind source that names a folder of this machine, with no <placeholder> of a guide left in it: a
        # Windows path read on Linux (C:\Users\<user>\...) is relative here and would land in the cwd.
        if mount.type == "bind" and writable_here(mount.source):
            source = host_path(mount.source).resolve()
            if source.parent != source and source != Path.home().resolve():
                roots.append(source)
    return roots


def _key(f: Finding) -> tuple[str, str | None, str]:
    return (f.id, f.model, f.location.path if f.location else "")


def _print_plan(out: _Redacting | TextIO, plan: Plan, round_no: int) -> None:
    if round_no > 1:
        out.write(f"\nfollow-up round {round_no} (uncovered by the changes above):\n")
    for finding, fix in plan.applied:
        tag = "" if fix.applicability.value == "safe" else f" [{fix.applicability.value}]"
        out.write(f"fix {finding.id}{tag}: {fix.description}\n")
    for op in plan.ops:
        out.write(render_op(op) + "\n")
    for finding, fix, why in plan.skipped:
        out.write(f"skipped {finding.id}: {fix.description} ({why})\n")
    for finding, fix in plan.display:
        out.write(f"to do by hand for {finding.id}: {fix.description}\n")
        if fix.command:
            out.write("    " + fix.command.replace("\n", "\n    ") + "\n")


def run_fix_command(
    req: FixRequest,
    *,
    out: TextIO | None = None,
    confirm: Callable[[str], bool] | None = None,
    registry: Registry | None = None,
) -> int:
    """Run ``fix`` (or ``fix --undo``); print to ``out``; return the exit code.

    Exit 0: nothing left at error level; 1: findings remain (or an undo refused); 2: bad input, a read-only
    repository or a path outside the allowed folders (nothing changed).
    """
    target, config = build_target(req.target)
    printer = _Redacting(out or sys.stdout, known_secrets(target))
    repo = host_path(target.repo)
    if req.undo is not None:
        with journal_lock(repo):
            return _undo(req, repo, printer, _roots(target, req.target.docker_command_file))
    registry = registry if registry is not None else load_registry()
    only = req.only or tuple(config.get("only", ())) or DEFAULT_ONLY
    policy = Policy.from_options(only, req.skip or tuple(config.get("skip", ())))
    policy.validate(registry.checks)

    before = _with_command_file_fix(req, target, _findings(registry, target, config, policy))
    plan = build_plan(before, unsafe=req.unsafe, offline=target.offline)
    _corrected_command(printer, target, before)
    if plan.empty:
        _print_plan(printer, plan, 1)
        printer.write("nothing to fix" + (f"; {len(before)} finding(s) need you (see check)" if before else "") + "\n")
        return 1 if any(f.severity is Severity.ERROR for f in before) else 0
    check_paths(plan.ops, _roots(target, req.target.docker_command_file))
    _print_plan(printer, plan, 1)
    interactive = sys.stdin.isatty() and printer.isatty()
    if req.dry_run or (not req.yes and not interactive and confirm is None):
        printer.write(
            f"\ndry run: {len(plan.ops)} change(s) planned, none made"
            + ("" if req.dry_run else " (not a terminal: pass --yes to apply)")
            + "\n"
        )
        return 1
    if not req.yes:
        ask = confirm or _ask
        if not ask(f"Apply {len(plan.ops)} change(s)?"):
            printer.write("nothing changed\n")
            return 1
    with journal_lock(repo):
        return _apply_rounds(req, registry, policy, target, plan, before, printer, confirm)


def _undo_command(inp: TargetInput, target: Target, run_id: str) -> str:
    """The ``fix --undo`` line for this run, with the options that say where fix could write."""
    import shlex

    words = ["triton-doctor", "fix", "--undo", run_id, "--repo", str(target.repo)]
    for mount in inp.mounts:
        words += ["--mount", mount]
    if inp.docker_command_file:
        words += ["--docker-command-file", inp.docker_command_file]
    if inp.config:
        words += ["--config", inp.config]
    return " ".join(shlex.quote(w) for w in words)


def _apply_rounds(
    req: FixRequest,
    registry: Registry,
    policy: Policy,
    target: Target,
    plan: Plan,
    before: list[Finding],
    printer: _Redacting,
    confirm: Callable[[str], bool] | None,
) -> int:
    """Apply ``plan`` (under the journal's lock), re-check, apply follow-up rounds; print what happened."""
    repo = host_path(target.repo)
    preflight(plan.ops)
    journal = Journal.create(repo)
    from triton_doctor.repair.remote import download_snapshot, remove_stopped_container

    fixed: list[Finding] = []
    round_no = 1
    after = before
    while True:
        check_paths(plan.ops, _roots(target, req.target.docker_command_file))
        preflight(plan.ops)
        try:
            apply_plan(plan.ops, journal, download=download_snapshot, remove_container=remove_stopped_container)
        except OSError as exc:
            journal.status = "applying"
            raise FixError(
                f"stopped while applying: {exc}; every file is either old or new. "
                f"Undo with: {_undo_command(req.target, target, journal.run_id)}"
            ) from exc
        fixed += [f for f, _fix in plan.applied]
        target, config = build_target(req.target)
        after = _with_command_file_fix(req, target, _findings(registry, target, config, policy))
        round_no += 1
        plan = build_plan(after, unsafe=req.unsafe, offline=target.offline)
        if plan.empty or round_no > MAX_ROUNDS:
            break
        _print_plan(printer, plan, round_no)
        if not req.yes and not (confirm or _ask)(f"Apply {len(plan.ops)} follow-up change(s)?"):
            printer.write("follow-up changes not made\n")
            break
    remaining = {_key(f) for f in after}
    gone = [f for f in fixed if _key(f) not in remaining]
    printer.write(f"\napplied (run {journal.run_id}; journal {display_path(journal.path)})\n")
    for f in dict.fromkeys(gone):
        printer.write(f"  fixed   {f.id}" + (f" ({f.model})" if f.model else "") + "\n")
    for f in after:
        where = f" {f.location}" if f.location else ""
        printer.write(f"  remains {f.id}{where}: {f.message}\n")
    printer.write(f"undo with: {_undo_command(req.target, target, journal.run_id)}\n")
    return 1 if any(f.severity is Severity.ERROR for f in after) else 0


class _Redacting:
    """Everything fix prints goes through the redactor: a token in a model.json diff is never shown."""

    def __init__(self, stream: TextIO, secrets: set[str]) -> None:
        self._stream = stream
        self._secrets = secrets

    def write(self, text: str) -> int:
        return self._stream.write(redact(text, self._secrets))

    def isatty(self) -> bool:
        return self._stream.isatty()


def _ask(question: str) -> bool:
    import click

    return bool(click.confirm(question, default=False))


def _undo(req: FixRequest, repo: Path, out: _Redacting | TextIO, roots: list[Path]) -> int:
    try:
        journal = find_run(repo, req.undo or None)
    except JournalError as exc:
        raise FixError(str(exc)) from exc
    if journal.status == "undone":
        out.write(f"run {journal.run_id} was already undone; nothing to do\n")
        return 0
    result = undo_run(journal, force=req.force, roots=roots)
    if result.conflicts and not result.restored:
        out.write(f"refusing to undo run {journal.run_id}: files changed after the fix:\n")
        for line in result.conflicts:
            out.write(f"  {line}\n")
        out.write("nothing was restored; pass --force to overwrite them with the journaled copies\n")
        return 1
    for line in result.restored:
        out.write(f"{line}\n")
    for line in result.conflicts + result.notes:
        out.write(f"note: {line}\n")
    if result.failed:
        for line in result.failed:
            out.write(f"not restored: {line}\n")
        out.write(f"run {journal.run_id} is partly undone; free the space and run the same undo again\n")
        return 1
    out.write(f"undid run {journal.run_id}\n")
    return 0


def _corrected_command(out: _Redacting | TextIO, target: Target, findings: list[Finding]) -> None:
    """Findings about the user's docker command are fixed by a corrected command in their own shell."""
    if target.docker is None:
        return
    about_command = [f for f in findings if f.id.split("[", 1)[0].startswith(("docker-run-options", "mount-"))]
    if not about_command:
        return
    from triton_doctor.deploy.render import render
    from triton_doctor.facts.sizing import spec_for_target

    dialect = target.docker.dialect
    ids = ", ".join(sorted({f.id for f in about_command}))
    out.write(f"corrected docker run for {dialect} ({ids}):\n{render(spec_for_target(target), dialect)}\n\n")


def _with_command_file_fix(req: FixRequest, target: Target, findings: list[Finding]) -> list[Finding]:
    """With ``--docker-command-file``: the first finding about the command carries an unsafe fix that rewrites
    the file as the corrected command (in the file's own shell)."""
    path = req.target.docker_command_file
    if not path or target.docker is None:
        return findings
    index = next(
        (i for i, f in enumerate(findings) if f.id.split("[", 1)[0].startswith(("docker-run-options", "mount-"))),
        None,
    )
    if index is None:
        return findings
    from dataclasses import replace

    from triton_doctor.deploy.render import render
    from triton_doctor.facts.sizing import spec_for_target
    from triton_doctor.fixdata import Applicability, Fix, text_edit

    file = Path(path).absolute()
    from triton_doctor.probes.fs import FileReadError, read_file_bytes

    try:
        old = read_file_bytes(file).decode("utf-8")
    except (FileReadError, UnicodeDecodeError):
        return findings
    run = target.docker
    from triton_doctor.deploy.shellsplit import docker_span

    bom = "\ufeff" if old.startswith("\ufeff") else ""
    newline = "\r\n" if "\r\n" in old else "\n"
    batch = run.dialect == "cmd" and file.suffix.lower() in {".bat", ".cmd"}
    rendered = render(spec_for_target(target), run.dialect, batch=batch).replace("\n", newline)
    body = old.removeprefix("\ufeff")
    span = docker_span(body, run.dialect)
    if span is None:
        new = bom + rendered + newline
    else:
        # only the docker run lines are replaced: a shebang, comments and other commands stay as they are
        lines = body.split("\n")
        ending = "\r" if newline == "\r\n" else ""
        head, tail = lines[: span[0]], lines[span[1] + 1 :]
        new = bom + "\n".join([*head, *(line + ending for line in rendered.split(newline)), *tail])
        if not new.endswith("\n"):
            new += newline
    edit = text_edit(str(file), old, new)
    if edit is None:
        return findings
    dropped = [opt for opt, _value in run.other] + (["-d"] if run.detach else [])
    dropped += [f"--network={run.network}"] if run.network else []
    note = f"; not carried over: {' '.join(dropped)}" if dropped else ""
    fix = Fix(
        description=f"rewrite {display_path(file)} as the corrected {run.dialect} command{note}",
        applicability=Applicability.UNSAFE,
        edits=(edit,),
    )
    out = list(findings)
    out[index] = replace(out[index], fix=fix)
    return out
