"""Renderers over a finished :class:`~triton_doctor.results.Report`: text (stderr), json and junit."""

from __future__ import annotations

__all__ = ["FORMATS"]

FORMATS = ("text", "json", "junit")
