"""Fixes as data: what a check proposes, never applied by the check itself.

A :class:`Fix` is a list of small frozen edits plus an :class:`Applicability` (Ruff's model): ``safe``
edits are unambiguous and applied by ``fix --yes``; ``unsafe`` ones are a judgement and need ``--unsafe``;
``display`` fixes are commands the user runs (host drivers, ``docker pull``, a corrected ``docker run``) and
are only printed. The engine in :mod:`triton_doctor.repair` plans, journals and applies them.

Paths are host paths as the check saw them (relative paths are relative to the working directory).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

__all__ = [
    "Applicability",
    "CreateDir",
    "CreateFile",
    "DeleteJsonKey",
    "Download",
    "Edit",
    "Fix",
    "Move",
    "RemoveContainer",
    "RenameJsonKey",
    "ReplaceLines",
    "SetJsonKey",
    "edit_to_dict",
    "map_text",
    "text_edit",
]


class Applicability(StrEnum):
    """How sure the doctor is: ``safe`` (applied by --yes), ``unsafe`` (needs --unsafe), ``display`` (printed)."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    DISPLAY = "display"


@dataclass(frozen=True, slots=True)
class ReplaceLines:
    """Replace lines ``start``..``end`` (1-based, inclusive) whose text is ``old`` by ``new``.

    ``end == start - 1`` inserts ``new`` before line ``start``. A plan whose ``old`` no longer matches the
    file is refused (the file changed since the check read it).
    """

    path: str
    start: int
    end: int
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class CreateDir:
    """Create a directory (and nothing else)."""

    path: str


@dataclass(frozen=True, slots=True)
class CreateFile:
    """Create a file that does not exist yet."""

    path: str
    text: str


@dataclass(frozen=True, slots=True)
class Move:
    """Move (rename) a file or directory to a path that does not exist yet."""

    source: str
    destination: str


@dataclass(frozen=True, slots=True)
class SetJsonKey:
    """Set a top-level key of a JSON object file to ``value`` (JSON text); formatting is kept elsewhere."""

    path: str
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class DeleteJsonKey:
    """Delete a top-level key of a JSON object file (``keep_last``: only its earlier duplicates)."""

    path: str
    key: str
    keep_last: bool = False


@dataclass(frozen=True, slots=True)
class RenameJsonKey:
    """Rename a top-level key of a JSON object file, keeping its value and place."""

    path: str
    key: str
    new_key: str


@dataclass(frozen=True, slots=True)
class Download:
    """Download a Hugging Face snapshot into ``path`` (a local-model folder); token from the environment."""

    repo_id: str
    path: str
    revision: str | None = None


@dataclass(frozen=True, slots=True)
class RemoveContainer:
    """Remove a stopped Docker container by name (never a running one)."""

    name: str


Edit = (
    ReplaceLines
    | CreateDir
    | CreateFile
    | Move
    | SetJsonKey
    | DeleteJsonKey
    | RenameJsonKey
    | Download
    | RemoveContainer
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fix:
    """A repair a finding proposes: edits to apply, or a command to show (``display``)."""

    #: One line: what the fix does ("rename v1/ to 1/").
    description: str
    applicability: Applicability = Applicability.SAFE
    edits: tuple[Edit, ...] = ()
    #: For ``display`` fixes: the command the user runs.
    command: str = ""


def text_edit(path: str, old_text: str, new_text: str) -> ReplaceLines | None:
    """The smallest :class:`ReplaceLines` that turns ``old_text`` into ``new_text`` (None when equal)."""
    if old_text == new_text:
        return None
    old = old_text.splitlines(keepends=True)
    new = new_text.splitlines(keepends=True)
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    old_mid = old[head : len(old) - tail]
    new_mid = new[head : len(new) - tail]
    return ReplaceLines(path=path, start=head + 1, end=head + len(old_mid), old="".join(old_mid), new="".join(new_mid))


def map_text(fix: Fix, transform: Callable[[str], str]) -> Fix:
    """``fix`` with ``transform`` applied to every text it carries (reports redact secrets with it)."""
    from dataclasses import replace

    def one(edit: Edit) -> Edit:
        changes: dict[str, Any] = {n: transform(v) for n in edit.__slots__ if isinstance(v := getattr(edit, n), str)}
        result: Edit = replace(cast(Any, edit), **changes)
        return result

    edits = tuple(one(edit) for edit in fix.edits)
    return replace(fix, description=transform(fix.description), command=transform(fix.command), edits=edits)


def edit_to_dict(edit: Edit) -> dict[str, Any]:
    """An edit as plain data for the JSON report: ``{"kind": ..., fields...}``."""
    data: dict[str, Any] = {"kind": _KINDS[type(edit)]}
    for name in edit.__slots__:
        data[name] = getattr(edit, name)
    return data


_KINDS: dict[type, str] = {
    ReplaceLines: "replace-lines",
    CreateDir: "create-dir",
    CreateFile: "create-file",
    Move: "move",
    SetJsonKey: "set-json-key",
    DeleteJsonKey: "delete-json-key",
    RenameJsonKey: "rename-json-key",
    Download: "download",
    RemoveContainer: "remove-container",
}
