"""Apply a plan under a journal, and undo a journaled run.

Only the repository, the local-model folders (bind-mount sources) and the journal may be written:
:func:`check_paths` refuses a plan that touches anything else before anything is changed. Every file is
written atomically, so a crash leaves each file either old or new; undo works from the journal and the
current state of each path, refusing paths that changed after the fix unless forced.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from triton_doctor.probes.fs import FileReadError, read_file_bytes
from triton_doctor.repair.filehash import atomic_write, sha256_bytes, sha256_file, tree_hash
from triton_doctor.repair.journal import MAX_BACKUP_BYTES, Journal, JournalError
from triton_doctor.repair.pathguard import PathGuard, PathRefused
from triton_doctor.repair.plan import Op, display_path

__all__ = ["FixError", "UndoResult", "apply_plan", "check_paths", "guard_journal", "preflight", "undo_run"]


class FixError(RuntimeError):
    """The fix cannot go on; the message says why and what was (not) changed."""


def check_paths(ops: Iterable[Op], roots: Iterable[Path]) -> None:
    """Raise :class:`FixError` when an operation would write outside ``roots`` (the one path guard)."""
    guard = PathGuard(roots)
    for op in ops:
        if op.kind == "remove-container":
            continue
        for path in (op.path, op.source):
            if path is None:
                continue
            try:
                guard.check(path)
            except PathRefused as exc:
                raise FixError(f"{exc}; nothing was changed") from exc


def _current(path: Path) -> bytes | None:
    """What ``path`` holds now (None: absent), read through the bounded reader."""
    try:
        return read_file_bytes(path, MAX_BACKUP_BYTES)
    except FileReadError as exc:
        if exc.missing:
            return None
        raise FixError(f"{display_path(path)} {exc.reason}; stopped") from exc


def _unchanged(op: Op, run_id: str | None = None) -> None:
    """Raise :class:`FixError` when a file to write is no longer the one the plan was made from (an edit made
    while fix waited at its prompt is never overwritten)."""
    if _current(op.path) != op.old:
        undo = f" (undo what this run did so far with: triton-doctor fix --undo {run_id})" if run_id else ""
        raise FixError(
            f"{display_path(op.path)} changed since the plan was shown; it was not written{undo}. "
            "Run fix again to plan against the new text"
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
    entry: dict[str, object] = {"kind": op.kind, "path": journal.rel(op.path)}
    if op.kind == "write":
        entry["before"] = None if op.old is None else sha256_bytes(op.old)
        entry["after"] = sha256_bytes(op.new or b"")
        if op.old is not None:
            entry["backup"] = journal.backup(op.old)
            info = op.path.stat()
            entry["mode"] = stat.S_IMODE(info.st_mode) & 0o777
            entry["uid"], entry["gid"], entry["mtime_ns"] = info.st_uid, info.st_gid, info.st_mtime_ns
    elif op.kind == "move":
        assert op.source is not None
        entry["source"] = journal.rel(op.source)
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
    """Journal, then apply ``ops`` in order (the journal is complete on disk before the first change).

    Every file to write is compared with the plan's old bytes before anything is journaled, and again just
    before it is replaced.
    """
    for op in ops:
        if op.kind == "write":
            _unchanged(op)
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
            _unchanged(op, journal.run_id)
            mode = stat.S_IMODE(op.path.stat().st_mode) if op.old is not None else 0o644
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
    #: entries that could not be restored (a full disk): the run stays undoable
    failed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _state(journal: Journal, entry: dict[str, object]) -> tuple[str, str]:
    """``(action, detail)`` for one journal entry: "undo", "done" (nothing to do) or "conflict"."""
    path = journal.abs_path(entry["path"])
    kind = entry["kind"]
    if kind == "write":
        current = sha256_file(path) if path.is_file() and not path.is_symlink() else None
        if current == entry["after"]:
            return "undo", ""
        if current == entry["before"]:
            return "done", ""
        changed = current or path.is_symlink() or path.exists()
        return "conflict", f"{path} changed after the fix" if changed else f"{path} was deleted after the fix"
    if kind == "mkdir":
        if not path.exists() and not path.is_symlink():
            return "done", ""
        if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
            return "undo", ""
        return "conflict", f"{path}/ is not empty any more"
    if kind == "move":
        source = journal.abs_path(entry["source"])
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


def guard_journal(journal: Journal, roots: Iterable[Path]) -> None:
    """Raise :class:`FixError` when the manifest points anywhere ``fix`` with these options could not write."""
    guard = PathGuard([*roots, journal.path])
    for entry in journal.entries:
        for key in ("path", "source"):
            if key in entry:
                try:
                    guard.check(journal.abs_path(entry[key]), "restore")
                except PathRefused as exc:
                    raise FixError(
                        f"{exc}; run {journal.run_id} is not undone (its manifest {journal.path / 'manifest.json'} "
                        "names a path fix could not have written with these options: give the same --repo, "
                        "--mount and --docker-command-file as the fix); nothing was changed"
                    ) from exc


def _restore_file(journal: Journal, entry: dict[str, object], path: Path) -> None:
    data = journal.read_backup(str(entry["backup"]), entry.get("before"))
    mode = entry.get("mode")
    atomic_write(path, data, int(str(mode)) & 0o777 if mode is not None else 0o644)
    if "uid" in entry and "gid" in entry:
        with contextlib.suppress(OSError):  # only root may give a file away; the mode and bytes are restored
            os.chown(path, int(str(entry["uid"])), int(str(entry["gid"])), follow_symlinks=False)
    if "mtime_ns" in entry:
        with contextlib.suppress(OSError):
            mtime = int(str(entry["mtime_ns"]))
            os.utime(path, ns=(mtime, mtime), follow_symlinks=False)


def _undo_entry(journal: Journal, entry: dict[str, object], result: UndoResult) -> None:
    path = journal.abs_path(entry["path"])
    kind = entry["kind"]
    if kind == "write":
        if entry.get("backup"):
            _restore_file(journal, entry, path)
            result.restored.append(f"restored {display_path(path)}")
        else:
            path.unlink(missing_ok=True)
            result.restored.append(f"removed {display_path(path)}")
    elif kind == "mkdir":
        if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
            path.rmdir()
            result.restored.append(f"removed {display_path(path)}/")
    elif kind == "move":
        source = journal.abs_path(entry["source"])
        if not source.exists() and not source.is_symlink():
            os.rename(path, source)
            result.restored.append(f"moved {display_path(path)} back to {display_path(source)}")
    elif kind == "download":
        existed = {str(x) for x in list(entry.get("existed", []) or [])}  # type: ignore[call-overload]
        if path.is_dir() and not path.is_symlink():
            for file in sorted(path.rglob("*"), key=lambda p: len(p.parts), reverse=True):
                rel = file.relative_to(path).as_posix()
                if rel in existed:
                    continue
                if file.is_dir() and not file.is_symlink():
                    if not any(file.iterdir()):
                        file.rmdir()
                else:
                    file.unlink()
            if not entry.get("dir_existed") and not any(path.iterdir()):
                path.rmdir()
            result.restored.append(f"removed the downloaded files from {display_path(path)}")


def _reason(exc: OSError) -> str:
    return "no space left on the device" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))


def undo_run(journal: Journal, *, force: bool = False, roots: Iterable[Path] | None = None) -> UndoResult:
    """Restore what ``journal``'s run changed, in reverse order; refuse on a conflict unless ``force``.

    ``roots``: where the fix could write (every manifest path is checked against them, and the journal, first).
    A failure to restore one entry (a full disk) is reported in ``failed`` and leaves the run undoable again;
    a failure to save the run's status after everything was restored is a note, never an error.
    """
    if roots is not None:
        guard_journal(journal, roots)
    result = UndoResult()
    entries = list(reversed(journal.entries))
    # Check every entry first, against the state each would have after the later ones are undone: a
    # conflict anywhere refuses the whole undo (nothing is touched).
    virtual: dict[str, object] = {}
    for index, entry in reversed(list(enumerate(journal.entries))):
        if entry["kind"] == "write":
            # a file written twice (two rounds): the later undo brings it to this one's "after"
            key = str(journal.abs_path(entry["path"]))
            if key in virtual:
                if virtual[key] != entry["after"]:
                    result.conflicts.append(f"{key} changed after the fix")
                virtual[key] = entry["before"]
                continue
            virtual[key] = entry["before"]
        if entry["kind"] == "mkdir":
            continue  # checked when reached: the undo of later moves empties it
        here = journal.abs_path(entry["path"])
        if entry["kind"] == "move" and any(
            journal.abs_path(later["path"]).is_relative_to(here) for later in journal.entries[index + 1 :]
        ):
            continue  # its content is restored by later entries first; checked when reached
        action, detail = _state(journal, entry)
        if action == "conflict":
            result.conflicts.append(detail)
    if result.conflicts and not force:
        return result
    result.conflicts = []
    for entry in entries:
        action, detail = _state(journal, entry)
        if action == "conflict" and not force:
            result.conflicts.append(detail)
            continue
        if action == "done":
            continue
        try:
            _undo_entry(journal, entry, result)
        except OSError as exc:
            result.failed.append(f"{display_path(journal.abs_path(entry['path']))}: {_reason(exc)}")
        except JournalError as exc:
            result.failed.append(str(exc))
    for entry in journal.entries:
        if entry["kind"] == "write":
            # temp files of a write a crash interrupted before its rename
            path = journal.abs_path(entry["path"])
            for leftover in path.parent.glob(f".{glob_escape(path.name)}.triton-doctor-*"):
                with contextlib.suppress(OSError):
                    leftover.unlink()
                    result.restored.append(f"removed the leftover {display_path(leftover)}")
        if entry["kind"] == "remove-container":
            result.notes.append(f"the removed container {entry.get('name')} cannot be brought back (it was stopped)")
    journal.status = "partially-undone" if result.failed else "undone"
    try:
        journal.save()
    except OSError as exc:
        # Every file is back; the status stays "applied" on disk, which the next undo reads as "nothing to do"
        # for each restored file (its bytes are the "before" ones), never as a conflict.
        result.notes.append(f"the journal's status could not be saved ({_reason(exc)}); the files are restored")
    return result


def glob_escape(name: str) -> str:
    """``name`` with glob characters escaped."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)
