"""Filesystem probe: the only code that reads the user's files. Failures become values, never exceptions."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Listing", "TextRead", "list_dir", "read_text"]

#: config.pbtxt and model.json are small; anything larger is not what the user meant to point us at.
MAX_TEXT_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class TextRead:
    """A text file's content, or why it could not be read."""

    text: str | None
    missing: bool = False
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Listing:
    """A directory's entries, or why it could not be listed."""

    dirs: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    sizes: dict[str, int] = field(default_factory=dict)
    missing: bool = False
    not_dir: bool = False
    error: str | None = None


def read_text(path: Path) -> TextRead:
    """Read a UTF-8 text file (BOM tolerated)."""
    try:
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            return TextRead(None, error=f"file is {size} bytes; more than {MAX_TEXT_BYTES} is not a config file")
        data = path.read_bytes()
    except FileNotFoundError:
        return TextRead(None, missing=True)
    except IsADirectoryError:
        return TextRead(None, error="is a directory, not a file")
    except NotADirectoryError:
        return TextRead(None, missing=True)
    except OSError as exc:
        return TextRead(None, error=f"cannot read: {exc.strerror or exc}")
    try:
        return TextRead(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        return TextRead(None, error=f"not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r})")


def list_dir(path: Path) -> Listing:
    """List a directory: sub-directories, files and file sizes (symlinks followed)."""
    try:
        entries = list(os.scandir(path))
    except FileNotFoundError:
        return Listing(missing=True)
    except NotADirectoryError:
        return Listing(not_dir=True)
    except OSError as exc:
        return Listing(error=f"cannot list: {exc.strerror or exc}")
    dirs: list[str] = []
    files: list[str] = []
    sizes: dict[str, int] = {}
    for entry in entries:
        try:
            if entry.is_dir():
                dirs.append(entry.name)
            else:
                files.append(entry.name)
                sizes[entry.name] = entry.stat().st_size
        except OSError:
            files.append(entry.name)
    return Listing(dirs=tuple(sorted(dirs)), files=tuple(sorted(files)), sizes=sizes)
