"""Turn the fixes findings carry into one plan of operations on files, with a preview.

Every fix is staged in memory against the files as they are now: line replacements are checked against the
text the check saw (a stale fix is refused), JSON key edits are applied to the staged text, moves and
creates are checked against the disk. A fix that conflicts with one staged before it (the same lines, a
file inside a moved directory) is left for the next round: after applying, the engine re-runs the checks,
which then describe it against the new text.
"""

from __future__ import annotations

import copy
import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path

from triton_doctor.fixdata import (
    Applicability,
    CreateDir,
    CreateFile,
    DeleteJsonKey,
    Download,
    Edit,
    Fix,
    Move,
    RemoveContainer,
    RenameJsonKey,
    ReplaceLines,
    SetJsonKey,
)
from triton_doctor.repair.jsonedit import JsonEditError, delete_key, rename_key, set_key
from triton_doctor.results import Finding

__all__ = ["Op", "Plan", "PlanError", "build_plan", "display_path"]


class PlanError(ValueError):
    """A fix cannot be staged (the reason is shown; the fix is skipped)."""


@dataclass(frozen=True, slots=True)
class Op:
    """One operation on the world, in apply order."""

    #: "mkdir", "move", "write", "download", "remove-container"
    kind: str
    path: Path
    source: Path | None = None
    #: For "write": the new bytes, and the old ones (None: the file is created).
    new: bytes | None = None
    old: bytes | None = None
    repo_id: str = ""
    name: str = ""


@dataclass(slots=True)
class _State:
    texts: dict[Path, str] = field(default_factory=dict)
    originals: dict[Path, str | None] = field(default_factory=dict)
    #: per file: (original start, original end, line delta) of line replacements staged
    spans: dict[Path, list[tuple[int, int, int]]] = field(default_factory=dict)
    mkdirs: list[Path] = field(default_factory=list)
    moves: list[tuple[Path, Path]] = field(default_factory=list)
    others: list[Op] = field(default_factory=list)
    #: files that start with a UTF-8 BOM
    boms: set[Path] = field(default_factory=set)


@dataclass(slots=True)
class Plan:
    """What ``fix`` will do."""

    ops: list[Op] = field(default_factory=list)
    #: (finding, fix) applied by this plan.
    applied: list[tuple[Finding, Fix]] = field(default_factory=list)
    #: (finding, fix, why not).
    skipped: list[tuple[Finding, Fix, str]] = field(default_factory=list)
    #: (finding, fix) to show only.
    display: list[tuple[Finding, Fix]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing to apply."""
        return not self.ops


def display_path(path: Path, cwd: Path | None = None) -> str:
    """``path`` relative to the working directory when inside it."""
    cwd = cwd or Path.cwd()
    try:
        return os.path.relpath(path, cwd) if path.is_relative_to(cwd) else str(path)
    except ValueError:
        return str(path)


def _abs(path: str) -> Path:
    return Path(os.path.abspath(path))


def _exists(state: _State, path: Path) -> bool:
    if path in state.texts:
        return state.texts[path] is not None
    if any(path == d for d in state.mkdirs):
        return True
    if any(path == dst or dst in path.parents for _src, dst in state.moves):
        return True
    if any(path == src or src in path.parents for src, _dst in state.moves):
        return False
    return os.path.lexists(path)


def _text(state: _State, path: Path) -> str:
    if path not in state.texts:
        if any(src == path or src in path.parents for src, _ in state.moves) or any(
            dst == path or dst in path.parents for _, dst in state.moves
        ):
            raise PlanError(f"{path} is moved by another fix in this round")
        if path.is_symlink():
            raise PlanError(f"{path} is a symbolic link; edit the file it points to by hand")
        from triton_doctor.probes.fs import FileReadError, read_file_bytes

        try:
            text = read_file_bytes(path).decode("utf-8")
        except FileReadError as exc:
            raise PlanError(f"{path} does not exist" if exc.missing else f"{path}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise PlanError(f"{path}: cannot read: {exc}") from exc
        # The checks read text without a BOM (as Triton and json.load tolerate it): stage it the same way,
        # and write the BOM back.
        if text.startswith("\ufeff"):
            state.boms.add(path)
            text = text[1:]
        state.texts[path] = text
        state.originals[path] = text
    return state.texts[path]


def _replace_lines(state: _State, edit: ReplaceLines) -> None:
    path = _abs(edit.path)
    text = _text(state, path)
    spans = state.spans.setdefault(path, [])
    lo, hi = edit.start - 1, edit.end
    for start, end, _delta in spans:
        # in line-boundary coordinates: lines s..e cover [s-1, e]; an insertion before s is the point s-1
        other_lo, other_hi = start - 1, end
        if (lo < other_hi and other_lo < hi) or (lo, hi) == (other_lo, other_hi):
            raise PlanError(f"{path}: lines {edit.start}-{edit.end} are changed by another fix in this round")
    shift = sum(delta for start, end, delta in spans if end < edit.start)
    lines = text.splitlines(keepends=True)
    first = edit.start - 1 + shift
    last = edit.end + shift
    if "".join(lines[first:last]) != edit.old or last > len(lines) or first < 0:
        raise PlanError(f"{path}: lines {edit.start}-{edit.end} changed since the check read them")
    new = edit.new
    if new and not new.endswith("\n") and last < len(lines):
        new += "\n"
    lines[first:last] = [new]
    state.texts[path] = "".join(lines)
    spans.append((edit.start, edit.end, len(edit.new.splitlines()) - (edit.end - edit.start + 1)))


def _json(state: _State, edit: SetJsonKey | DeleteJsonKey | RenameJsonKey) -> None:
    path = _abs(edit.path)
    text = _text(state, path)
    try:
        if isinstance(edit, SetJsonKey):
            new = set_key(text, edit.key, edit.value)
        elif isinstance(edit, DeleteJsonKey):
            new = delete_key(text, edit.key, keep_last=edit.keep_last)
        else:
            new = rename_key(text, edit.key, edit.new_key)
    except JsonEditError as exc:
        raise PlanError(f"{path}: {exc}") from exc
    state.texts[path] = new


def _stage(state: _State, edit: Edit) -> None:
    if isinstance(edit, ReplaceLines):
        _replace_lines(state, edit)
    elif isinstance(edit, (SetJsonKey, DeleteJsonKey, RenameJsonKey)):
        _json(state, edit)
    elif isinstance(edit, CreateDir):
        path = _abs(edit.path)
        if _exists(state, path):
            if not path.is_dir() and path not in state.mkdirs:
                raise PlanError(f"{path} exists and is not a directory")
            return
        state.mkdirs.append(path)
    elif isinstance(edit, CreateFile):
        path = _abs(edit.path)
        if _exists(state, path):
            raise PlanError(f"{path} already exists")
        state.texts[path] = edit.text
        state.originals[path] = None
    elif isinstance(edit, Move):
        src, dst = _abs(edit.source), _abs(edit.destination)
        if not _exists(state, src):
            raise PlanError(f"{src} does not exist")
        if _exists(state, dst):
            raise PlanError(f"{dst} already exists")
        if any(p == src or src in p.parents for p in state.texts):
            raise PlanError(f"{src} is edited by another fix in this round")
        state.moves.append((src, dst))
    elif isinstance(edit, Download):
        state.others.append(Op("download", _abs(edit.path), repo_id=edit.repo_id, name=edit.revision or ""))
    elif isinstance(edit, RemoveContainer):
        state.others.append(Op("remove-container", Path(edit.name), name=edit.name))


def build_plan(findings: list[Finding], *, unsafe: bool = False, offline: bool = False) -> Plan:
    """Stage every applicable fix of ``findings`` (safe ones; unsafe ones too with ``unsafe``).

    ``offline``: fixes that download are skipped.
    """
    plan = Plan()
    state = _State()
    staged: dict[tuple[Edit, ...], bool] = {}
    for finding in findings:
        fix = finding.fix
        if fix is None:
            continue
        if fix.applicability is Applicability.DISPLAY or not fix.edits:
            plan.display.append((finding, fix))
            continue
        if fix.applicability is Applicability.UNSAFE and not unsafe:
            plan.skipped.append((finding, fix, "unsafe: a judgement; run 'fix --unsafe' to apply it"))
            continue
        if offline and any(isinstance(e, Download) for e in fix.edits):
            plan.skipped.append((finding, fix, "needs the network; --offline given"))
            continue
        if fix.edits in staged:
            if staged[fix.edits]:
                plan.applied.append((finding, fix))
            continue
        backup = copy.deepcopy(state)
        try:
            for edit in fix.edits:
                _stage(state, edit)
        except (PlanError, ValueError) as exc:
            state = backup
            staged[fix.edits] = False
            plan.skipped.append((finding, fix, str(exc)))
            continue
        staged[fix.edits] = True
        plan.applied.append((finding, fix))
    for path in sorted(state.mkdirs, key=lambda p: len(p.parts)):
        plan.ops.append(Op("mkdir", path))
    for src, dst in state.moves:
        plan.ops.append(Op("move", dst, source=src))
    for path, text in state.texts.items():
        original = state.originals[path]
        if text != original:
            bom = "\ufeff" if path in state.boms else ""
            plan.ops.append(
                Op(
                    "write",
                    path,
                    new=(bom + text).encode("utf-8"),
                    old=None if original is None else (bom + original).encode("utf-8"),
                )
            )
    plan.ops += state.others
    return plan


def render_op(op: Op, cwd: Path | None = None) -> str:
    """A unified diff for a write, one line for anything else."""
    shown = display_path(op.path, cwd)
    if op.kind == "mkdir":
        return f"create directory {shown}/"
    if op.kind == "move":
        assert op.source is not None
        return f"move {display_path(op.source, cwd)} -> {shown}"
    if op.kind == "download":
        return f"download {op.repo_id} into {shown}/ (missing files only, resumable)"
    if op.kind == "remove-container":
        return f"remove the stopped container {op.name}"
    old = (op.old or b"").decode("utf-8").splitlines(keepends=True)
    new = (op.new or b"").decode("utf-8").splitlines(keepends=True)
    diff = difflib.unified_diff(old, new, "/dev/null" if op.old is None else f"a/{shown}", f"b/{shown}")
    lines = [line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in diff]
    return "".join(lines).rstrip("\n")
