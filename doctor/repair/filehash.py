"""File hashes in chunks and atomic writes (temporary file, fsync, rename) for the journal and its fixes."""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from pathlib import Path

HASH_CHUNK = 1024 * 1024


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
