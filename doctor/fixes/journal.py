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

import hashlib
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

__all__ = [
    "JOURNAL_DIR",
    "Journal",
    "JournalError",
    "atomic_write",
    "find_run",
    "journal_lock",
    "journal_root",
    "sha256_bytes",
    "tree_hash",
]

STATE_DIR = ".triton-doctor"
JOURNAL_DIR = Path(STATE_DIR) / "journal"
MANIFEST_VERSION = 2
#: The largest manifest and the largest kept file read back.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_BACKUP_BYTES = 64 * 1024 * 1024
HASH_CHUNK = 1024 * 1024
LOCK_TIMEOUT_S = 2.0

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_BACKUP = re.compile(r"^[0-9]{4,6}-[0-9a-f]{16}$")
_SHA = re.compile(r"^[0-9a-f]{64}$")
STATUSES = frozenset({"planned", "applying", "applied", "undoing", "partially-undone", "undone"})
KINDS = frozenset({"write", "mkdir", "move", "download", "remove-container"})


class JournalError(RuntimeError):
    """The journal cannot be written or read (message for the user)."""


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


def sha256_bytes(data: bytes) -> str:
    """Hex sha256."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks (a weights file of many GB is never held in memory)."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return sha256_bytes(b"special")
        while block := os.read(fd, HASH_CHUNK):
            digest.update(block)
    finally:
        os.close(fd)
    return digest.hexdigest()


def tree_hash(path: Path) -> str | None:
    """sha256 of a file, or of a directory's relative paths and file contents; None when absent.

    Links are hashed as links (never followed); files are read in chunks.
    """
    if path.is_symlink():
        return sha256_bytes(b"link:" + os.fsencode(os.readlink(path)))
    if path.is_file():
        return sha256_file(path)
    if not path.is_dir():
        return None
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        rel = Path(root).relative_to(path)
        digest.update(b"d:" + os.fsencode(rel.as_posix()) + b"\n")
        for name in sorted(files + [d for d in dirs if (Path(root) / d).is_symlink()]):
            item = Path(root) / name
            digest.update(b"f:" + os.fsencode((rel / name).as_posix()) + b":")
            if item.is_symlink():
                digest.update(b"link:" + os.fsencode(os.readlink(item)))
            else:
                digest.update(sha256_file(item).encode())
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync it, rename it over ``path``, fsync the folder.

    ``mode``: the permission bits (setuid, setgid and sticky bits are never set); 0600 when None.
    """
    bits = 0o600 if mode is None else mode & 0o777
    tmp = path.with_name(f".{path.name}.triton-doctor-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), bits)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, bits)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _bad(path: Path, why: str) -> JournalError:
    return JournalError(
        f"{path}: not a journal manifest this version of triton-doctor wrote ({why}); nothing was changed"
    )


def _check_entry(index: int, entry: Any, where: Path) -> dict[str, Any]:
    """One operation, validated (raise :class:`JournalError` naming the entry)."""
    name = f"operations[{index}]"
    if not isinstance(entry, dict):
        raise _bad(where, f"{name} is not an object")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise _bad(where, f"{name}.kind is {kind!r}, not one of {', '.join(sorted(KINDS))}")

    def text(key: str, *, optional: bool = False, nullable: bool = False) -> None:
        if key not in entry:
            if optional:
                return
            raise _bad(where, f"{name} has no {key}")
        value = entry[key]
        if value is None and nullable:
            return
        if not isinstance(value, str) or not value or "\0" in value:
            raise _bad(where, f"{name}.{key} must be a string")

    def integer(key: str, low: int, high: int) -> None:
        if key not in entry:
            return
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _bad(where, f"{name}.{key} must be a whole number from {low} to {high}")

    text("path")
    if kind == "write":
        text("before", nullable=True)
        if not isinstance(entry.get("after"), str) or not _SHA.fullmatch(entry["after"]):
            raise _bad(where, f"{name}.after must be a sha256")
        if entry.get("before") is not None and not _SHA.fullmatch(str(entry["before"])):
            raise _bad(where, f"{name}.before must be a sha256 or null")
        if "backup" in entry:
            if not isinstance(entry["backup"], str) or not _BACKUP.fullmatch(entry["backup"]):
                raise _bad(where, f"{name}.backup must name a file in files/")
        elif entry.get("before") is not None:
            raise _bad(where, f"{name} replaced a file but keeps no backup")
        if "mode" in entry:
            mode = entry["mode"]
            if isinstance(mode, bool) or not isinstance(mode, int):
                raise _bad(where, f"{name}.mode must be a number")
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG) or mode & 0o7000:
                raise _bad(
                    where, f"{name}.mode {mode:o} is not the mode of a plain file (setuid/setgid/sticky refused)"
                )
        integer("uid", 0, 2**32 - 1)
        integer("gid", 0, 2**32 - 1)
        integer("mtime_ns", 0, 2**63 - 1)
    elif kind == "move":
        text("source")
        text("tree", nullable=True)
    elif kind == "download":
        text("repo_id", optional=True)
        existed = entry.get("existed", [])
        if not isinstance(existed, list) or not all(isinstance(x, str) for x in existed):
            raise _bad(where, f"{name}.existed must be a list of strings")
        if not isinstance(entry.get("dir_existed", False), bool):
            raise _bad(where, f"{name}.dir_existed must be true or false")
    elif kind == "remove-container":
        text("name", optional=True)
    return dict(entry)


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
        if not _BACKUP.fullmatch(name):
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
            raise _bad(where, f"not JSON: {str(exc)[:120]}") from exc
        if not isinstance(data, dict):
            raise _bad(where, "the manifest is not an object")
        run_id = data.get("run_id")
        if not isinstance(run_id, str) or run_id != path.name:
            raise _bad(where, "its run_id is not the name of its folder")
        ops = data.get("operations")
        if not isinstance(ops, list):
            raise _bad(where, "no list of operations")
        status = data.get("status", "")
        if status not in STATUSES:
            raise _bad(where, f"status {status!r}")
        notes = data.get("notes", [])
        if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
            raise _bad(where, "notes must be a list of strings")
        stored_repo = data.get("repo")
        if not isinstance(stored_repo, str) or not stored_repo:
            raise _bad(where, "no repository")
        version = data.get("version", 1)
        entries = [_check_entry(i, e, where) for i, e in enumerate(ops)]
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
            raise _bad(where, f"manifest version {version!r}")
        for i, entry in enumerate(entries):
            for key in ("path", "source"):
                stored = str(entry.get(key, ""))
                if stored and not os.path.isabs(stored) and ".." in PurePosixPath(stored).parts:
                    raise _bad(where, f"operations[{i}].{key} climbs out with '..'")
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
