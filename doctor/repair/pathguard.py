"""The one path guard of ``fix``, ``fix --undo`` and ``bundle``: resolve, refuse what leaves the allowed roots,
never follow a link out.

A path is allowed when, with every symbolic link in its *parent* folders resolved and ``..`` folded, it is one
of the roots or lies under one. Its last component is judged as itself: a link there is replaced, deleted or
moved as a link by the fix engine (never written through); :meth:`PathGuard.readable` additionally follows it
(``bundle`` reads through it) and refuses a link whose target leaves the roots.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["PathGuard", "PathRefused"]


class PathRefused(ValueError):
    """A path leaves the allowed roots; ``str()`` names it and says why."""


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


class PathGuard:
    """Allowed roots, resolved once."""

    def __init__(self, roots: Iterable[Path]) -> None:
        self.roots: list[Path] = []
        for root in roots:
            real = Path(os.path.realpath(os.path.abspath(root)))
            if real not in self.roots:
                self.roots.append(real)

    def where(self, path: Path) -> Path:
        """``path`` with its parents resolved (links followed) and ``..`` folded; the last part kept as is."""
        absolute = Path(os.path.abspath(path))
        if absolute.parent == absolute:
            return absolute
        return Path(os.path.realpath(absolute.parent)) / absolute.name

    def allows(self, path: Path) -> bool:
        """True when writing, replacing or deleting ``path`` (not through a link) stays inside the roots."""
        return _inside(self.where(path), self.roots)

    def check(self, path: Path, what: str = "write") -> Path:
        """``path`` as :meth:`where` gives it; raise :class:`PathRefused` when it leaves the roots."""
        real = self.where(path)
        if not _inside(real, self.roots):
            raise PathRefused(
                f"refusing to {what} {path}: it lies outside the repository, the local-model folders and the journal"
            )
        return real

    def readable(self, path: Path) -> Path:
        """``path`` fully resolved (a link at the end followed too); raise :class:`PathRefused` when it leaves."""
        real = Path(os.path.realpath(os.path.abspath(path)))
        if not _inside(real, self.roots):
            raise PathRefused(f"refusing to read {path}: it is a link to {real}, outside the repository")
        return real
