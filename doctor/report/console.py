"""The terminal console every command writes its text report and progress to."""

from __future__ import annotations

import os
from typing import Any, TextIO

__all__ = ["make_console"]


def make_console(stream: TextIO) -> Any:
    """A rich console on ``stream``: colour only on a terminal and without ``NO_COLOR``."""
    from rich.console import Console

    plain = not stream.isatty() or "NO_COLOR" in os.environ
    return Console(
        file=stream,
        no_color=plain,
        color_system=None if plain else "auto",
        highlight=False,
        soft_wrap=True,
        emoji=False,
        width=None if stream.isatty() else 120,
    )
