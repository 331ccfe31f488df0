"""The journal of a fix run: ``.triton-doctor/journal/<run-id>/`` beside the repository.

``manifest.json`` lists every operation in apply order with the sha256 of what was there before and what the
fix wrote; ``files/`` keeps a copy of every file before it was changed. It is written (and fsynced) before
the first change, so a run that crashed half-way can still be undone: undo looks at each path's current
state, which is either the old or the new one (writes are atomic).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "JOURNAL_DIR",
    "Journal",
    "JournalError",
    "atomic_write",
    "find_run",
    "journal_root",
    "sha256_bytes",
    "tree_hash",
]

JOURNAL_DIR = Path(".triton-doctor") / "journal"


class JournalError(RuntimeError):
    """The journal cannot be written or read (message for the user)."""


def journal_root(repo: Path) -> Path:
    """Where runs for ``repo`` are journaled: beside it."""
    return repo.resolve().parent / JOURNAL_DIR


def sha256_bytes(data: bytes) -> str:
    """Hex sha256."""
    return hashlib.sha256(data).hexdigest()


def tree_hash(path: Path) -> str | None:
    """sha256 of a file, or of a directory's relative paths and file contents; None when absent."""
    if path.is_symlink():
        return sha256_bytes(b"link:" + os.readlink(path).encode())
    if path.is_file():
        return sha256_bytes(path.read_bytes())
    if not path.is_dir():
        return None
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        rel = Path(root).relative_to(path)
        digest.update(f"d:{rel.as_posix()}\n".encode())
        for name in sorted(files):
            digest.update(f"f:{(rel / name).as_posix()}:".encode())
            digest.update(sha256_bytes((Path(root) / name).read_bytes()).encode())
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
    """Write ``data`` to a temp file beside ``path``, fsync it, rename it over ``path``, fsync the folder."""
    tmp = path.with_name(f".{path.name}.triton-doctor-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if mode is None else mode & 0o7777)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


@dataclass(slots=True)
class Journal:
    """One run's journal (created by :meth:`create`, read back by :meth:`load`)."""

    path: Path
    run_id: str
    repo: Path
    entries: list[dict[str, Any]] = field(default_factory=list)
    status: str = "planned"
    notes: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, repo: Path) -> Journal:
        """A new run directory for ``repo`` (raises :class:`JournalError` when it cannot be written)."""
        now = time.time()
        run_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now * 1000) % 1000:03d}Z-"
        run_id += secrets.token_hex(2)
        root = journal_root(repo)
        path = root / run_id
        try:
            (path / "files").mkdir(parents=True)
        except OSError as exc:
            raise JournalError(f"cannot create the journal {path}: {exc.strerror or exc}; nothing was changed") from exc
        return cls(path=path, run_id=run_id, repo=repo.resolve())

    def backup(self, data: bytes) -> str:
        """Keep a copy of ``data``; return its file name in ``files/``."""
        name = f"{len(self.entries):04d}-{sha256_bytes(data)[:16]}"
        atomic_write(self.path / "files" / name, data)
        return name

    def read_backup(self, name: str) -> bytes:
        """A kept copy."""
        return (self.path / "files" / name).read_bytes()

    def save(self) -> None:
        """Write the manifest atomically."""
        data = {
            "run_id": self.run_id,
            "repo": str(self.repo),
            "status": self.status,
            "operations": self.entries,
            "notes": self.notes,
        }
        atomic_write(self.path / "manifest.json", (json.dumps(data, indent=2) + "\n").encode("utf-8"))

    @classmethod
    def load(cls, path: Path) -> Journal:
        """Read a run's manifest."""
        try:
            data = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise JournalError(f"{path / 'manifest.json'}: cannot read the journal: {exc}") from exc
        return cls(
            path=path,
            run_id=str(data["run_id"]),
            repo=Path(data["repo"]),
            entries=list(data["operations"]),
            status=str(data.get("status", "")),
            notes=list(data.get("notes", [])),
        )


def find_run(repo: Path, run_id: str | None) -> Journal:
    """The run ``run_id`` of ``repo``'s journal, or its latest run not yet undone."""
    root = journal_root(repo)
    if run_id:
        path = root / run_id
        if not (path / "manifest.json").is_file():
            known = sorted(p.name for p in root.glob("*/manifest.json")) if root.is_dir() else []
            raise JournalError(
                f"no fix run {run_id!r} in {root}"
                + (f" (runs: {', '.join(p.split('/')[0] for p in known[-5:])})" if known else "")
            )
        return Journal.load(path)
    runs = sorted((p.parent for p in root.glob("*/manifest.json")), reverse=True) if root.is_dir() else []
    for path in runs:
        journal = Journal.load(path)
        if journal.repo == repo.resolve() and journal.status not in {"undone", "planned"}:
            return journal
    raise JournalError(f"no fix run to undo for {repo} (journal: {root})")
