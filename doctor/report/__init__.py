"""Renderers over a finished :class:`~triton_doctor.results.Report`: text (stderr), json, junit, sarif, github."""

from __future__ import annotations

__all__ = ["FORMATS"]

FORMATS = ("text", "json", "junit", "sarif", "github")
