"""The journal's manifest checked entry by entry before it is trusted: kinds, paths, modes, hashes."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any


class JournalError(RuntimeError):
    """The journal cannot be written or read (message for the user)."""


BACKUP = re.compile(r"^[0-9]{4,6}-[0-9a-f]{16}$")


_SHA = re.compile(r"^[0-9a-f]{64}$")


KINDS = frozenset({"write", "mkdir", "move", "download", "remove-container"})


def bad(path: Path, why: str) -> JournalError:
    return JournalError(
        f"{path}: not a journal manifest this version of triton-doctor wrote ({why}); nothing was changed"
    )


def check_entry(index: int, entry: Any, where: Path) -> dict[str, Any]:
    """One operation, validated (raise :class:`JournalError` naming the entry)."""
    name = f"operations[{index}]"
    if not isinstance(entry, dict):
        raise bad(where, f"{name} is not an object")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise bad(where, f"{name}.kind is {kind!r}, not one of {', '.join(sorted(KINDS))}")

    def text(key: str, *, optional: bool = False, nullable: bool = False) -> None:
        if key not in entry:
            if optional:
                return
            raise bad(where, f"{name} has no {key}")
        value = entry[key]
        if value is None and nullable:
            return
        if not isinstance(value, str) or not value or "\0" in value:
            raise bad(where, f"{name}.{key} must be a string")

    def integer(key: str, low: int, high: int) -> None:
        if key not in entry:
            return
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise bad(where, f"{name}.{key} must be a whole number from {low} to {high}")

    text("path")
    if kind == "write":
        text("before", nullable=True)
        if not isinstance(entry.get("after"), str) or not _SHA.fullmatch(entry["after"]):
            raise bad(where, f"{name}.after must be a sha256")
        if entry.get("before") is not None and not _SHA.fullmatch(str(entry["before"])):
            raise bad(where, f"{name}.before must be a sha256 or null")
        if "backup" in entry:
            if not isinstance(entry["backup"], str) or not BACKUP.fullmatch(entry["backup"]):
                raise bad(where, f"{name}.backup must name a file in files/")
        elif entry.get("before") is not None:
            raise bad(where, f"{name} replaced a file but keeps no backup")
        if "mode" in entry:
            mode = entry["mode"]
            if isinstance(mode, bool) or not isinstance(mode, int):
                raise bad(where, f"{name}.mode must be a number")
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG) or mode & 0o7000:
                raise bad(where, f"{name}.mode {mode:o} is not the mode of a plain file (setuid/setgid/sticky refused)")
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
            raise bad(where, f"{name}.existed must be a list of strings")
        if not isinstance(entry.get("dir_existed", False), bool):
            raise bad(where, f"{name}.dir_existed must be true or false")
    elif kind == "remove-container":
        text("name", optional=True)
    return dict(entry)
