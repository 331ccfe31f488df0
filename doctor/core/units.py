"""Small parsers and formatters shared by checks: versions, byte sizes."""

from __future__ import annotations

import re

__all__ = ["human_bytes", "parse_size", "parse_version"]


def parse_version(text: str | None) -> tuple[int, ...]:
    """``"20.10.24+dfsg1"`` -> ``(20, 10, 24)``; ``"580.82.07"`` -> ``(580, 82, 7)``; unknown -> ``()``."""
    if not text:
        return ()
    match = re.match(r"^\D*(\d+(?:\.\d+)*)", text)
    return tuple(int(p) for p in match.group(1).split(".")) if match else ()


def human_bytes(size: int | float) -> str:
    """1536 -> '1.5 KiB'."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)


def parse_size(text: str) -> int | None:
    """Docker size strings: ``1g``, ``1G``, ``512m``, ``67108864`` -> bytes (None if unreadable)."""
    match = _SIZE.match(text or "")
    if not match:
        return None
    factor = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}[match.group(2).lower()]
    return int(float(match.group(1)) * factor)
