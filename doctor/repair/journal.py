"""The journal of a fix run: ``.triton-doctor/journal/<run-id>/`` beside the repository.

``manifest.json`` lists every operation in apply order with the sha256 of what was there before and what the
fix wrote; ``files/`` keeps a copy of every file before it was changed (the original bytes, for a byte-for-byte
undo: everything in the journal is mode 0600 in folders of mode 0700, and ``bundle`` never copies it). It is
written (and fsynced) before the first change, so a run that crashed half-way can still be undone: undo looks
at each path's current state, which is either the old or the new one (writes are atomic).

The manifest is *data from disk*, never trusted: :meth:`Journal.load` validates it against a schema (a bad
shape is a :class:`JournalError`, never a traceback), paths inside the project are stored relative to the
folder that holds the repository (so a copied or moved project undoes itself, not the original), the run is
bound to the repository it was made for, and every path is checked again by the path guard before undo
touches it. A lock file keeps two runs on one project from interleaving.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from filelock import FileLock, Timeout

from triton_doctor.probes.fs import FileReadError, read_file_bytes
from triton_doctor.repair.filehash import atomic_write, sha256_bytes
from triton_doctor.repair.manifest import BACKUP, JournalError, bad, check_entry

__all__ = [
    "JOURNAL_DIR",
    "Journal",
    "JournalError",
    "atomic_write",
    "find_run",
    "journal_lock",
    "journal_root",
    "sha256_bytes",
]

STATE_DIR = ".triton-doctor"
JOURNAL_DIR = Path(STATE_DIR) / "journal"
MANIFEST_VERSION = 2
#: The largest manifest and the largest kept file read back.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_BACKUP_BYTES = 64 * 1024 * 1024
LOCK_TIMEOUT_S = 2.0

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
STATUSES = frozenset({"planned", "applying", "applied", "undoing", "partially-undone", "undone"})


class OtherRepository(JournalError):
    """The run was made for another repository of the same project."""


def _base(repo: Path) -> Path:
    return repo.resolve().parent


def journal_root(repo: Path) -> Path:
    """Where runs for ``repo`` are journaled: beside it."""
    return _base(repo) / JOURNAL_DIR


def _refuse_links(repo: Path) -> None:
    """``.triton-doctor`` and ``.triton-doctor/journal`` must be real folders (a link sends the journal away)."""
    base = _base(repo)
    for part in (base / STATE_DIR, base / JOURNAL_DIR):
        try:
            info = os.lstat(part)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise JournalError(f"{part}: cannot read the journal folder: {exc.strerror or exc}") from exc
        if stat.S_ISLNK(info.st_mode):
            raise JournalError(
                f"{part} is a symbolic link; the journal is kept only in a real folder beside the repository. "
                "Remove the link; nothing was changed"
            )
        if not stat.S_ISDIR(info.st_mode):
            raise JournalError(f"{part} is not a folder; remove it; nothing was changed")


def _mkdir_private(path: Path) -> None:
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return


def journal_lock(repo: Path) -> FileLock:
    """The lock of ``repo``'s journal (acquire it with ``with``; a second run gets :class:`JournalError`)."""
    _refuse_links(repo)
    state = _base(repo) / STATE_DIR
    try:
        _mkdir_private(state)
    except OSError as exc:
        raise JournalError(f"cannot create {state}: {exc.strerror or exc}; nothing was changed") from exc
    return _Lock(str(state / "lock"), timeout=LOCK_TIMEOUT_S, mode=0o600)


class _Lock(FileLock):
    def __enter__(self) -> _Lock:
        try:
            self.acquire()
        except Timeout as exc:
            raise JournalError(
                f"another triton-doctor fix is running on this project (lock {self.lock_file}); "
                "wait for it to finish; nothing was changed"
            ) from exc
        except OSError as exc:
            raise JournalError(f"cannot lock {self.lock_file}: {exc.strerror or exc}; nothing was changed") from exc
        return self


@dataclass(slots=True)
class Journal:
    """One run's journal (created by :meth:`create`, read back by :meth:`load`).

    ``entries`` keep paths as stored: relative (POSIX) to :attr:`base` when inside it, else absolute; read them
    with :meth:`abs_path`.
    """

    path: Path
    run_id: str
    repo: Path
    entries: list[dict[str, Any]] = field(default_factory=list)
    status: str = "planned"
    notes: list[str] = field(default_factory=list)

    @property
    def base(self) -> Path:
        """The folder that holds the repository and ``.triton-doctor``."""
        return self.repo.parent

    def rel(self, path: Path) -> str:
        """How ``path`` is stored: relative to :attr:`base` when inside it, else absolute."""
        absolute = Path(os.path.abspath(path))
        for base in dict.fromkeys((self.base, Path(os.path.abspath(self.base)))):
            if absolute.is_relative_to(base):
                return absolute.relative_to(base).as_posix() or "."
        return str(absolute)

    def abs_path(self, stored: object) -> Path:
        """A stored path as an absolute path under this project's :attr:`base`."""
        text = str(stored)
        if os.path.isabs(text):
            return Path(text)
        return self.base.joinpath(*PurePosixPath(text).parts)

    @classmethod
    def create(cls, repo: Path) -> Journal:
        """A new run directory for ``repo`` (raises :class:`JournalError` when it cannot be written)."""
        _refuse_links(repo)
        now = time.time()
        run_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now * 1000) % 1000:03d}Z-"
        run_id += secrets.token_hex(2)
        root = journal_root(repo)
        path = root / run_id
        try:
            for folder in (root.parent, root, path, path / "files"):
                _mkdir_private(folder)
        except OSError as exc:
            raise JournalError(f"cannot create the journal {path}: {exc.strerror or exc}; nothing was changed") from exc
        return cls(path=path, run_id=run_id, repo=repo.resolve())

    def backup(self, data: bytes) -> str:
        """Keep a copy of ``data`` (mode 0600); return its file name in ``files/``."""
        name = f"{len(self.entries):04d}-{sha256_bytes(data)[:16]}"
        atomic_write(self.path / "files" / name, data)
        return name

    def read_backup(self, name: str, sha: object = None) -> bytes:
        """A kept copy, checked against the sha256 the manifest gives for it."""
        where = self.path / "files" / name
        if not BACKUP.fullmatch(name):
            raise JournalError(f"{where}: not a kept file name")
        try:
            data = read_file_bytes(where, MAX_BACKUP_BYTES)
        except FileReadError as exc:
            raise JournalError(f"{where}: the kept copy {exc.reason}") from exc
        if sha is not None and sha256_bytes(data) != sha:
            raise JournalError(f"{where}: the kept copy does not match the manifest (changed after the fix)")
        return data

    def save(self) -> None:
        """Write the manifest atomically (mode 0600)."""
        data = {
            "version": MANIFEST_VERSION,
            "run_id": self.run_id,
            "repo": self.repo.name,
            "status": self.status,
            "operations": self.entries,
            "notes": self.notes,
        }
        atomic_write(self.path / "manifest.json", (json.dumps(data, indent=2) + "\n").encode("utf-8"))

    @classmethod
    def load(cls, path: Path, repo: Path | None = None) -> Journal:
        """Read and validate a run's manifest; ``repo``: the repository it must belong to."""
        where = path / "manifest.json"
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode) or stat.S_ISLNK(os.lstat(where).st_mode):
                raise JournalError(f"{where}: the journal is a symbolic link; refused")
            raw = read_file_bytes(where, MAX_MANIFEST_BYTES)
        except FileReadError as exc:
            raise JournalError(f"{where}: cannot read the journal: it {exc.reason}") from exc
        except OSError as exc:
            raise JournalError(f"{where}: cannot read the journal: {exc.strerror or exc}") from exc
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            raise bad(where, f"not JSON: {str(exc)[:120]}") from exc
        if not isinstance(data, dict):
            raise bad(where, "the manifest is not an object")
        run_id = data.get("run_id")
        if not isinstance(run_id, str) or run_id != path.name:
            raise bad(where, "its run_id is not the name of its folder")
        ops = data.get("operations")
        if not isinstance(ops, list):
            raise bad(where, "no list of operations")
        status = data.get("status", "")
        if status not in STATUSES:
            raise bad(where, f"status {status!r}")
        notes = data.get("notes", [])
        if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
            raise bad(where, "notes must be a list of strings")
        stored_repo = data.get("repo")
        if not isinstance(stored_repo, str) or not stored_repo:
            raise bad(where, "no repository")
        version = data.get("version", 1)
        entries = [check_entry(i, e, where) for i, e in enumerate(ops)]
        current = repo.resolve() if repo is not None else path.parent.parent.parent / Path(stored_repo).name
        if version == 1:
            # absolute paths under the project as it was: rebased onto where it is now
            old_base = Path(stored_repo).parent
            for entry in entries:
                for key in ("path", "source"):
                    if key in entry and Path(str(entry[key])).is_relative_to(old_base):
                        entry[key] = Path(str(entry[key])).relative_to(old_base).as_posix()
            stored_repo = Path(stored_repo).name
        elif version != MANIFEST_VERSION:
            raise bad(where, f"manifest version {version!r}")
        for i, entry in enumerate(entries):
            for key in ("path", "source"):
                stored = str(entry.get(key, ""))
                if stored and not os.path.isabs(stored) and ".." in PurePosixPath(stored).parts:
                    raise bad(where, f"operations[{i}].{key} climbs out with '..'")
        if repo is not None and stored_repo != current.name:
            raise OtherRepository(
                f"run {run_id} was made for the repository {stored_repo!r}, not {current.name!r} "
                f"({repo}); give the --repo it was made for"
            )
        return cls(path=path, run_id=run_id, repo=current, entries=entries, status=status, notes=list(notes))


def find_run(repo: Path, run_id: str | None) -> Journal:
    """The run ``run_id`` of ``repo``'s journal, or its latest run not yet undone."""
    _refuse_links(repo)
    root = journal_root(repo)
    if run_id:
        if not RUN_ID.fullmatch(run_id):
            raise JournalError(f"{run_id!r} is not a fix run id (letters, digits, '-' and '_' only)")
        path = root / run_id
        if not (path / "manifest.json").exists() and not (path / "manifest.json").is_symlink():
            known = sorted(p.name for p in root.iterdir() if RUN_ID.fullmatch(p.name)) if root.is_dir() else []
            raise JournalError(
                f"no fix run {run_id!r} in {root}" + (f" (runs: {', '.join(known[-5:])})" if known else "")
            )
        return Journal.load(path, repo)
    runs = sorted((p for p in root.iterdir() if RUN_ID.fullmatch(p.name)), reverse=True) if root.is_dir() else []
    for path in runs:
        if not (path / "manifest.json").exists():
            continue
        try:
            journal = Journal.load(path, repo)
        except OtherRepository:
            continue  # another repository's run: not the latest of this one
        if journal.status not in {"undone", "planned"}:
            return journal
    raise JournalError(f"no fix run to undo for {repo} (journal: {root})")
