"""Apply a plan under a journal, and undo a journaled run.

Only the repository, the local-model folders (bind-mount sources) and the journal may be written:
:func:`check_paths` refuses a plan that touches anything else before anything is changed. Every file is
written atomically, so a crash leaves each file either old or new; undo works from the journal and the
current state of each path, refusing paths that changed after the fix unless forced.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from triton_doctor.repair.journal import Journal, atomic_write, sha256_bytes, tree_hash
from triton_doctor.repair.plan import Op, display_path

__all__ = ["FixError", "UndoResult", "apply_plan", "check_paths", "preflight", "undo_run"]


class FixError(RuntimeError):
    """The fix cannot go on; the message says why and what was (not) changed."""


def _real(path: Path) -> Path:
    """The path with its parent's symlinks resolved (the last component itself is what gets replaced)."""
    return path.parent.resolve() / path.name


def check_paths(ops: Iterable[Op], roots: Iterable[Path]) -> None:
    """Raise :class:`FixError` when an operation would write outside ``roots``."""
    allowed = [r.resolve() for r in roots]
    for op in ops:
        if op.kind == "remove-container":
            continue
        for path in (op.path, op.source):
            if path is None:
                continue
            real = _real(path)
            if not any(real == root or root in real.parents for root in allowed):
                raise FixError(
                    f"refusing to write {path}: it lies outside the repository, the local-model folders and "
                    "the journal; nothing was changed"
                )


def preflight(ops: Iterable[Op]) -> None:
    """Make sure every folder the plan writes to accepts a file (a read-only repository fails here)."""
    seen: set[Path] = set()
    for op in ops:
        if op.kind == "remove-container":
            continue
        folders = [op.path.parent]
        if op.source is not None:
            folders.append(op.source.parent)
        for wanted in folders:
            folder = wanted
            while not folder.exists() and folder.parent != folder:
                folder = folder.parent
            if folder in seen:
                continue
            seen.add(folder)
            probe = folder / f".triton-doctor-probe-{secrets.token_hex(4)}"
            try:
                fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                os.close(fd)
                probe.unlink()
            except OSError as exc:
                raise FixError(
                    f"{display_path(folder)} is not writable ({exc.strerror or exc}); nothing was changed. "
                    "Run fix where you can write the repository, or apply the diff above by hand."
                ) from exc


def _record(journal: Journal, op: Op) -> None:
    entry: dict[str, object] = {"kind": op.kind, "path": str(op.path.absolute())}
    if op.kind == "write":
        entry["before"] = None if op.old is None else sha256_bytes(op.old)
        entry["after"] = sha256_bytes(op.new or b"")
        if op.old is not None:
            entry["backup"] = journal.backup(op.old)
            entry["mode"] = op.path.stat().st_mode
    elif op.kind == "move":
        assert op.source is not None
        entry["source"] = str(op.source.absolute())
        entry["tree"] = tree_hash(op.source)
    elif op.kind == "download":
        entry["repo_id"] = op.repo_id
        existing = sorted(str(p.relative_to(op.path)) for p in op.path.rglob("*")) if op.path.is_dir() else []
        entry["existed"] = existing
        entry["dir_existed"] = op.path.is_dir()
    elif op.kind == "remove-container":
        entry["name"] = op.name
    journal.entries.append(entry)


def apply_plan(
    ops: list[Op],
    journal: Journal,
    *,
    download: Callable[[Op], None] | None = None,
    remove_container: Callable[[Op], None] | None = None,
) -> None:
    """Journal, then apply ``ops`` in order (the journal is complete on disk before the first change)."""
    for op in ops:
        _record(journal, op)
    journal.status = "applying"
    journal.save()
    for op in ops:
        if op.kind == "mkdir":
            op.path.mkdir()
        elif op.kind == "move":
            assert op.source is not None
            if op.path.exists():
                raise FixError(f"{op.path} appeared while fixing; stopped (undo with 'fix --undo')")
            os.rename(op.source, op.path)
        elif op.kind == "write":
            mode = op.path.stat().st_mode if op.old is not None else 0o644
            atomic_write(op.path, op.new or b"", mode)
        elif op.kind == "download" and download is not None:
            download(op)
        elif op.kind == "remove-container" and remove_container is not None:
            remove_container(op)
    journal.status = "applied"
    journal.save()


@dataclass(slots=True)
class UndoResult:
    """What an undo did, or why it refused."""

    restored: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _state(entry: dict[str, object]) -> tuple[str, str]:
    """``(action, detail)`` for one journal entry: "undo", "done" (nothing to do) or "conflict"."""
    path = Path(str(entry["path"]))
    kind = entry["kind"]
    if kind == "write":
        current = sha256_bytes(path.read_bytes()) if path.is_file() else None
        if current == entry["after"]:
            return "undo", ""
        if current == entry["before"]:
            return "done", ""
        return "conflict", f"{path} changed after the fix" if current else f"{path} was deleted after the fix"
    if kind == "mkdir":
        if not path.exists():
            return "done", ""
        if path.is_dir() and not any(path.iterdir()):
            return "undo", ""
        return "conflict", f"{path}/ is not empty any more"
    if kind == "move":
        source = Path(str(entry["source"]))
        if path.exists() and not source.exists():
            if tree_hash(path) != entry["tree"]:
                return "conflict", f"{path} changed after the fix"
            return "undo", ""
        if source.exists() and not path.exists():
            return "done", ""
        return "conflict", f"both {source} and {path} exist"
    if kind == "download":
        return "undo", ""
    return "done", ""


def undo_run(journal: Journal, *, force: bool = False) -> UndoResult:
    """Restore what ``journal``'s run changed, in reverse order; refuse on a conflict unless ``force``."""
    result = UndoResult()
    entries = list(reversed(journal.entries))
    # Check every entry first, against the state each would have after the later ones are undone: a
    # conflict anywhere refuses the whole undo (nothing is touched).
    virtual: dict[str, object] = {}
    for index, entry in reversed(list(enumerate(journal.entries))):
        if entry["kind"] == "write":
            # a file written twice (two rounds): the later undo brings it to this one's "after"
            key = str(entry["path"])
            if key in virtual:
                if virtual[key] != entry["after"]:
                    result.conflicts.append(f"{key} changed after the fix")
                virtual[key] = entry["before"]
                continue
            virtual[key] = entry["before"]
        if entry["kind"] == "mkdir":
            continue  # checked when reached: the undo of later moves empties it
        if entry["kind"] == "move" and any(
            Path(str(later["path"])).is_relative_to(str(entry["path"])) for later in journal.entries[index + 1 :]
        ):
            continue  # its content is restored by later entries first; checked when reached
        action, detail = _state(entry)
        if action == "conflict":
            result.conflicts.append(detail)
    if result.conflicts and not force:
        return result
    result.conflicts = []
    for entry in entries:
        action, detail = _state(entry)
        path = Path(str(entry["path"]))
        kind = entry["kind"]
        if action == "conflict" and not force:
            result.conflicts.append(detail)
            continue
        if action == "done":
            continue
        if kind == "write":
            if entry.get("backup"):
                mode = entry.get("mode")
                atomic_write(path, journal.read_backup(str(entry["backup"])), int(mode) if mode else None)
                result.restored.append(f"restored {display_path(path)}")
            else:
                path.unlink(missing_ok=True)
                result.restored.append(f"removed {display_path(path)}")
        elif kind == "mkdir":
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
                result.restored.append(f"removed {display_path(path)}/")
        elif kind == "move":
            source = Path(str(entry["source"]))
            if not source.exists():
                os.rename(path, source)
                result.restored.append(f"moved {display_path(path)} back to {display_path(source)}")
        elif kind == "download":
            existed = {str(x) for x in entry.get("existed", []) or []}
            if path.is_dir():
                for file in sorted(path.rglob("*"), key=lambda p: len(p.parts), reverse=True):
                    rel = str(file.relative_to(path))
                    if rel in existed:
                        continue
                    if file.is_dir() and not any(file.iterdir()):
                        file.rmdir()
                    elif not file.is_dir():
                        file.unlink()
                if not entry.get("dir_existed") and not any(path.iterdir()):
                    path.rmdir()
                result.restored.append(f"removed the downloaded files from {display_path(path)}")
    for entry in journal.entries:
        if entry["kind"] == "write":
            # temp files of a write a crash interrupted before its rename
            path = Path(str(entry["path"]))
            for leftover in path.parent.glob(f".{path.name}.triton-doctor-*"):
                leftover.unlink(missing_ok=True)
                result.restored.append(f"removed the leftover {display_path(leftover)}")
        if entry["kind"] == "remove-container":
            result.notes.append(f"the removed container {entry.get('name')} cannot be brought back (it was stopped)")
    journal.status = "undone"
    journal.save()
    return result
