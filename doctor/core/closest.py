"""Did-you-mean against what exists: the one helper every remedy uses to name the nearest real thing."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from pathlib import Path

# Sibling directories read for a did-you-mean; a folder with more entries is not a typo's neighbourhood.
MAX_SIBLINGS = 2000


def closest(word: str, candidates: Iterable[str], cutoff: float = 0.75) -> str | None:
    """The candidate nearest to ``word`` (case-insensitive, at least ``cutoff`` similar), else None."""
    pool = [c for c in dict.fromkeys(candidates) if c and c != word]
    if not word or not pool:
        return None
    folded = {c.casefold(): c for c in pool}
    exact = folded.get(word.casefold())
    if exact is not None:
        return exact
    close = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=cutoff)
    return folded[close[0]] if close else None


def closest_dir(path: Path) -> Path | None:
    """For a path that does not exist: the existing directory it most likely meant.

    The deepest existing ancestor is found, then each missing component is matched against the directories
    beside it, one level at a time, so ``.../triton_projet/model_repositry`` finds
    ``.../triton_project/model_repository``. None when a component has no close match.
    """
    parts = path.parts
    base = Path(parts[0]) if path.is_absolute() else Path(".")
    rest = parts[1:] if path.is_absolute() else parts
    current = base
    changed = False
    for part in rest:
        candidate = current / part
        if candidate.is_dir():
            current = candidate
            continue
        try:
            with os.scandir(current) as entries:
                names = []
                for i, entry in enumerate(entries):
                    if i >= MAX_SIBLINGS:
                        return None
                    if entry.is_dir():
                        names.append(entry.name)
        except OSError:
            return None
        match = closest(part, names)
        if match is None:
            return None
        current = current / match
        changed = True
    return current if changed and current.is_dir() else None
